//! The number of SQL statements of a request depends on its shape, not on how many rows it
//! returns: every relationship goes through a batched loader.

use serde_json::json;

use std::time::Duration;

use portfolio::config::ServeArgs;

use crate::helpers::{TestApp, spawn_with};

/// The demo server with a batching window wide enough that a loaded test machine cannot
/// split a stage in two: these tests count statements.
async fn spawn_app() -> TestApp {
    let app = spawn_with(ServeArgs {
        demo: true,
        anonymous_read: Some(true),
        loader_delay: Duration::from_millis(20),
        ..ServeArgs::default()
    })
    .await;
    // A token's first request of the minute also records its use (one UPDATE): use each
    // token once, so the requests measured cost what every later one does.
    for persona in ["admin", "requester"] {
        app.ok_as(&app.token(persona), "{ __typename }", json!({}))
            .await;
    }
    app
}

const PORTAL: &str = r#"
query Portal($offerings: Int!, $services: Int!, $changes: Int!) {
  serviceOfferings(first: $offerings) {
    nodes {
      key
      services(first: $services) {
        nodes {
          key
          changes(first: $changes, orderBy: { field: CREATED_AT, direction: DESC }) {
            nodes { number status releases { name status } }
          }
        }
      }
    }
  }
}"#;

async fn count_statements(app: &crate::helpers::TestApp, vars: serde_json::Value) -> (u64, usize) {
    let before = app.statements().await;
    let data = app.data(PORTAL, vars).await;
    let after = app.statements().await;
    let changes: usize = data["serviceOfferings"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|o| {
            o["services"]["nodes"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|s| s["changes"]["nodes"].as_array().map_or(0, Vec::len))
        .sum();
    (after - before, changes)
}

#[tokio::test]
async fn a_four_level_query_costs_the_same_statements_at_any_page_size() {
    let app = spawn_app().await;
    let (small, small_rows) =
        count_statements(&app, json!({ "offerings": 1, "services": 1, "changes": 1 })).await;
    let (large, large_rows) = count_statements(
        &app,
        json!({ "offerings": 5, "services": 10, "changes": 10 }),
    )
    .await;
    assert!(
        large_rows > small_rows * 10,
        "the larger page returns many more rows ({small_rows} vs {large_rows})"
    );
    assert_eq!(small, large, "statements must not grow with rows");
    // One statement per level: offerings, services, changes, releases.
    assert!(
        large <= 4,
        "4 levels should cost at most 4 statements, took {large}"
    );
}

/// Every change of the demo (over 30: the engine resolves such a list in batches and yields
/// between them), each with its releases, requester and services, each service's latest
/// changes and their releases.
const WIDE: &str = r#"
{ changes(first: 100) { nodes { number releases { name } requestedBy { name }
    services(first: 5) { nodes { key
      changes(first: 3, orderBy: { field: CREATED_AT, direction: DESC }) { nodes { number releases { name } } } } } } } }"#;

#[tokio::test]
async fn with_the_default_batching_each_level_of_a_wide_query_is_one_statement() {
    // No batching window: a batch waits a few scheduler turns of the request instead.
    let app = spawn_with(ServeArgs {
        demo: true,
        anonymous_read: Some(true),
        ..ServeArgs::default()
    })
    .await;
    for _ in 0..5 {
        let before = app.statements().await;
        let data = app.data(WIDE, json!({})).await;
        let statements = app.statements().await - before;
        let changes = data["changes"]["nodes"].as_array().map_or(0, Vec::len);
        assert!(
            changes > 30,
            "a list long enough to be resolved in parts ({changes})"
        );
        // changes, their releases, requesters, services, the services' changes, and the
        // releases of those not already loaded.
        assert!(
            statements <= 6,
            "6 levels should cost at most 6 statements, took {statements}"
        );
    }
}

#[tokio::test]
async fn total_count_costs_one_batched_statement_per_connection_level() {
    let app = spawn_app().await;
    let q = "{ serviceOfferings(first: 5) { totalCount nodes { services(first: 10) { totalCount nodes { key } } } } }";
    let before = app.statements().await;
    let data = app.data(q, json!({})).await;
    let spent = app.statements().await - before;
    assert_eq!(data["serviceOfferings"]["totalCount"], 5);
    assert_eq!(spent, 4, "two pages and two batched counts");
}

#[tokio::test]
async fn available_transitions_cost_the_same_statements_for_twenty_changes_or_forty() {
    let app = spawn_app().await;
    let token = app.token("admin");
    let q = "query($n: Int!) { changes(first: $n) { nodes { availableTransitions { action allowed reason } releases { availableTransitions { toStatus allowed reason } } } } }";
    let mut spent = Vec::new();
    for n in [20, 40] {
        let before = app.statements().await;
        let data = app.ok_as(&token, q, json!({ "n": n })).await;
        spent.push(app.statements().await - before);
        assert_eq!(data["changes"]["nodes"].as_array().map(Vec::len), Some(n));
    }
    assert_eq!(
        spent[0], spent[1],
        "statements must not grow with rows: {spent:?}"
    );
    // With a blackout window ahead of every service, the freezes cost a few statements
    // more, still whatever the number of rows.
    crate::ops::freeze_now(&app, "Freeze", vec![]).await;
    let mut frozen = Vec::new();
    for n in [20, 40] {
        let before = app.statements().await;
        let data = app.ok_as(&token, q, json!({ "n": n })).await;
        frozen.push(app.statements().await - before);
        assert!(
            data.to_string().contains("blackout window"),
            "a freeze shows"
        );
    }
    assert_eq!(frozen[0], frozen[1], "{frozen:?}");
    // Per level (changes, releases): windows, their services, the work's services, the keys named.
    assert!(frozen[1] <= spent[1] + 10, "{frozen:?} against {spent:?}");
    // token, changes, roles, models, approvals, releases, projects, active release sizes,
    // the changes' services (their scopes), the approval policy and its owners, changes of
    // the releases, previous releases, and the blackout windows ahead of the changes and of
    // the releases (none in the demo: nothing more to load).
    assert!(spent[1] <= 15, "{spent:?}");
}

/// The benchmark's W1 (portal page) and W2 (change list), with their page sizes as variables.
const W1: &str = r#"query W1($offerings: Int!, $services: Int!, $changes: Int!) {
  serviceOfferings(first: $offerings) { nodes { id key name
    services(first: $services) { nodes { id key name
      changes(first: $changes, orderBy: { field: CREATED_AT, direction: DESC }) { nodes { id number title status
        releases { id name status } } } } } } }
}"#;
const W2: &str = r#"query W2($n: Int!) {
  changes(first: $n, filter: { status: [SCHEDULED, IMPLEMENTING, REVIEW, CLOSED, AUTHORIZED], risk: [MEDIUM, HIGH, VERY_HIGH] },
          orderBy: { field: PLANNED_START, direction: ASC }) {
    nodes { id number title status risk plannedStart plannedEnd
      requestedBy { id name email } project { id code name } services(first: 5) { nodes { id key name } } }
  }
}"#;

/// Statements a request costs, the token look-up included.
async fn statements_of(app: &crate::helpers::TestApp, query: &str, vars: serde_json::Value) -> u64 {
    let token = app.token("requester");
    let before = app.statements().await;
    app.ok_as(&token, query, vars).await;
    app.statements().await - before
}

#[tokio::test]
async fn the_portal_page_w1_costs_at_most_six_statements_at_any_page_size() {
    let app = spawn_app().await;
    let small = statements_of(
        &app,
        W1,
        json!({ "offerings": 1, "services": 1, "changes": 1 }),
    )
    .await;
    let large = statements_of(
        &app,
        W1,
        json!({ "offerings": 50, "services": 10, "changes": 5 }),
    )
    .await;
    assert_eq!(small, large, "statements must not grow with page sizes");
    assert!(large <= 6, "W1 took {large} statements");
}

#[tokio::test]
async fn the_change_list_w2_costs_at_most_six_statements_at_any_page_size() {
    let app = spawn_app().await;
    let small = statements_of(&app, W2, json!({ "n": 2 })).await;
    let large = statements_of(&app, W2, json!({ "n": 100 })).await;
    assert_eq!(small, large, "statements must not grow with page sizes");
    assert!(large <= 6, "W2 took {large} statements");
}

/// The benchmark's W7 (a blast radius), W8 (a week's schedule with its transitive
/// conflicts), and a page of changes with their risk assessments, radii and transitive
/// offerings. Each is measured alone: the roots of one request batch together as their
/// timing allows, which would blur the count.
const GRAPH: [&str; 3] = [
    r#"query W7 { service(key: "vpn") { blastRadius(depth: 5) {
      services { key distance path service { name criticality } }
      offerings { key } consumerGroups highestCriticality } } }"#,
    r#"query W8($from: DateTime!, $to: DateTime!) {
      changeSchedule(from: $from, to: $to, transitive: true) {
        changes { number } conflicts { first { number } second { number } service { key } reason path } } }"#,
    r#"query Risk { changes(first: 50) { nodes { number riskAssessment { suggested reasons }
      impactedOfferings(transitive: true) { key } blastRadius { services { key } } } } }"#,
];

#[tokio::test]
async fn blast_radius_schedule_and_risk_cost_the_same_statements_on_a_larger_graph() {
    let app = spawn_app().await;
    let (from, to) = (
        (chrono::Utc::now() - chrono::Duration::days(30)).to_rfc3339(),
        (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339(),
    );
    let vars = json!({ "from": from, "to": to });
    let admin = app.token("admin");
    let add = "mutation($s: ID!, $d: ID!) { addServiceDependency(serviceId: $s, dependsOnId: $d, kind: RUNTIME) { kind } }";
    let q = "{ services(first: 100, filter: { lifecycle: [LIVE] }) { nodes { id key } } }";
    let services = app.data(q, json!({})).await["services"]["nodes"].clone();
    let services: Vec<&serde_json::Value> = services.as_array().into_iter().flatten().collect();
    let id_of = |key: &str| {
        services
            .iter()
            .find(|s| s["key"] == key)
            .map(|s| s["id"].clone())
            .expect("a live demo service")
    };
    let reach = |data: &serde_json::Value| {
        data["service"]["blastRadius"]["services"]
            .as_array()
            .map_or(0, Vec::len)
    };
    // Grows the graph: the services of `some` come to depend on the VPN and on the
    // e-mail service (which depends on identity). Returns the edges added, the VPN's reach
    // and the statements of each query.
    let grow = async |some: &[&serde_json::Value]| {
        let mut added = 0;
        for s in some {
            for hub in ["vpn", "email"] {
                if s["key"] != hub && s["key"] != "identity-sso" {
                    let r = app
                        .post_as(Some(&admin), add, json!({ "s": s["id"], "d": id_of(hub) }))
                        .await;
                    added += usize::from(r["errors"].is_null());
                }
            }
        }
        let mut spent = Vec::new();
        for q in GRAPH {
            spent.push(statements_of(&app, q, vars.clone()).await);
        }
        (added, reach(&app.data(GRAPH[0], vars.clone()).await), spent)
    };
    let (first, reached, small) = grow(&services[..3]).await;
    let (then, _, large) = grow(&services[3..]).await;
    assert!(
        first > 0 && then > first && reached > 0,
        "grew by {first}, then {then}"
    );
    assert_eq!(small, large, "statements must not grow with the graph");
    // The token, then: the service, its radius, the services reached and their
    // offerings; the schedule, its conflicts, releases, blackout windows, radii and the
    // changes and services of its conflicts; the page, its radii, their offerings and
    // the outcomes of the past.
    assert!(large.iter().all(|n| *n <= 12), "statements: {large:?}");
}
