//! Relay cursor connections: forward and backward paging, orderings, filters.

use serde_json::{Value, json};

use crate::helpers::{pluck, spawn_app};

const PAGE: &str = r#"
query Page($first: Int, $after: String, $last: Int, $before: String, $order: ChangeOrder, $filter: ChangeFilter) {
  changes(first: $first, after: $after, last: $last, before: $before, orderBy: $order, filter: $filter) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { number risk plannedStart status title } }
  }
}"#;

async fn walk_forward(app: &crate::helpers::TestApp, size: i64, order: Value) -> Vec<Value> {
    let mut after: Option<String> = None;
    let mut seen = Vec::new();
    loop {
        let data = app
            .data(
                PAGE,
                json!({ "first": size, "after": after, "order": order }),
            )
            .await;
        let conn = &data["changes"];
        for e in conn["edges"].as_array().into_iter().flatten() {
            seen.push(e["node"].clone());
        }
        if !conn["pageInfo"]["hasNextPage"].as_bool().unwrap_or(false) {
            break;
        }
        after = conn["pageInfo"]["endCursor"].as_str().map(str::to_owned);
        assert!(seen.len() <= 1000, "paging must end");
    }
    seen
}

#[tokio::test]
async fn paging_forward_by_cursor_visits_every_change_once_in_order() {
    let app = spawn_app().await;
    let total = app.data(PAGE, json!({ "first": 1 })).await["changes"]["totalCount"]
        .as_i64()
        .unwrap_or(0);
    assert_eq!(total, 42);
    let seen = walk_forward(&app, 5, Value::Null).await;
    let numbers: Vec<&str> = seen.iter().filter_map(|n| n["number"].as_str()).collect();
    let mut sorted = numbers.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(numbers, sorted, "creation order, no duplicates");
    assert_eq!(numbers.len() as i64, total);
}

#[tokio::test]
async fn paging_backward_with_last_and_before_mirrors_paging_forward() {
    let app = spawn_app().await;
    let forward: Vec<String> = walk_forward(&app, 6, Value::Null)
        .await
        .iter()
        .filter_map(|n| n["number"].as_str().map(str::to_owned))
        .collect();
    let mut backward: Vec<String> = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let data = app.data(PAGE, json!({ "last": 6, "before": before })).await;
        let conn = &data["changes"];
        let mut page: Vec<String> = conn["edges"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["node"]["number"].as_str().map(str::to_owned))
            .collect();
        page.extend(backward);
        backward = page;
        if !conn["pageInfo"]["hasPreviousPage"]
            .as_bool()
            .unwrap_or(false)
        {
            break;
        }
        before = conn["pageInfo"]["startCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(backward, forward);
}

#[tokio::test]
async fn ordering_by_risk_follows_severity_not_the_alphabet() {
    let app = spawn_app().await;
    let seen = walk_forward(&app, 7, json!({ "field": "RISK", "direction": "ASC" })).await;
    let rank = |r: &str| {
        ["LOW", "MEDIUM", "HIGH", "VERY_HIGH"]
            .iter()
            .position(|x| *x == r)
            .unwrap_or(99)
    };
    let ranks: Vec<usize> = seen
        .iter()
        .filter_map(|n| n["risk"].as_str())
        .map(rank)
        .collect();
    assert_eq!(ranks.len(), 42);
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{ranks:?}");
    assert!(ranks.contains(&3) && ranks.contains(&0));
}

#[tokio::test]
async fn ordering_by_planned_start_descending_pages_consistently_with_nulls() {
    let app = spawn_app().await;
    let seen = walk_forward(
        &app,
        4,
        json!({ "field": "PLANNED_START", "direction": "DESC" }),
    )
    .await;
    assert_eq!(
        seen.len(),
        42,
        "every change once, with or without a window"
    );
    let starts: Vec<Option<&str>> = seen.iter().map(|n| n["plannedStart"].as_str()).collect();
    let dated: Vec<&str> = starts.iter().flatten().copied().collect();
    let mut sorted = dated.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(dated, sorted, "dated changes latest first");
    let first_dated = starts.iter().position(Option::is_some).unwrap_or(0);
    assert!(
        starts[first_dated..].iter().all(Option::is_some),
        "changes without a window come together, first when descending"
    );
}

#[tokio::test]
async fn filters_combine_and_total_count_follows_them() {
    let app = spawn_app().await;
    let data = app
        .data(
            PAGE,
            json!({ "first": 100, "filter": { "status": ["CLOSED"], "type": ["STANDARD"] } }),
        )
        .await;
    let nodes: Vec<Value> = data["changes"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["node"].clone())
        .collect();
    assert!(!nodes.is_empty());
    assert!(nodes.iter().all(|n| n["status"] == "CLOSED"));
    assert_eq!(
        data["changes"]["totalCount"].as_u64(),
        Some(nodes.len() as u64)
    );

    let search = app
        .data(
            PAGE,
            json!({ "first": 100, "filter": { "search": "os PATCHING" } }),
        )
        .await;
    let titles: Vec<String> = search["changes"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["node"]["title"].as_str().map(str::to_lowercase))
        .collect();
    assert_eq!(titles.len(), 3);
    assert!(titles.iter().all(|t| t.contains("os patching")));

    let literal = app
        .data(PAGE, json!({ "first": 100, "filter": { "search": "%" } }))
        .await;
    assert_eq!(
        literal["changes"]["totalCount"], 0,
        "% is matched literally"
    );

    // The demo's dates are relative to the day it is loaded; its monthly patch window
    // opens nine days later.
    let day = |d: i64| {
        (chrono::Utc::now() + chrono::Duration::days(d))
            .format("%Y-%m-%dT00:00:00Z")
            .to_string()
    };
    let (from, to) = (day(0), day(12));
    let window = app
        .data(
            PAGE,
            json!({ "first": 100, "filter": { "plannedFrom": from, "plannedTo": to } }),
        )
        .await;
    let starts: Vec<&str> = window["changes"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["node"]["plannedStart"].as_str())
        .collect();
    assert!(
        starts.len() >= 3,
        "the patch-window night is in range: {window}"
    );
    for start in &starts {
        // A window overlapping the range starts before its end (no demo window spans today).
        assert!(
            *start >= from.as_str() && *start <= to.as_str(),
            "{start} outside {from}..{to}"
        );
    }
}

#[tokio::test]
async fn every_top_level_collection_pages_with_totals() {
    let app = spawn_app().await;
    let q = "{ services { totalCount } serviceOfferings { totalCount } people { totalCount } partners { totalCount }
               processes { totalCount } projects { totalCount } changeModels { totalCount } changes { totalCount }
               releases { totalCount } auditEvents { totalCount } }";
    let d = app.data(q, json!({})).await;
    let expected = [
        ("services", 10),
        ("serviceOfferings", 5),
        ("people", 14),
        ("partners", 5),
        ("processes", 3),
        ("projects", 4),
        ("changeModels", 5),
        ("changes", 42),
        ("releases", 10),
    ];
    for (field, n) in expected {
        assert_eq!(d[field]["totalCount"], n, "{field}");
    }
    assert!(d["auditEvents"]["totalCount"].as_i64().unwrap_or(0) > 42);
    let page = app
        .data(
            "{ people { edges { cursor } pageInfo { hasNextPage } } }",
            json!({}),
        )
        .await;
    assert!(
        page["people"]["pageInfo"]["hasNextPage"] == false
            && page["people"]["edges"].as_array().map_or(0, Vec::len) == 14
    );
    let releases = app
        .data(
            r#"{ releases(filter: { status: [CLOSED], search: "fax" }) { nodes { name } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        pluck(&releases["releases"]["nodes"], "name"),
        vec!["Fax shutdown"]
    );
}

const SERVICES_WITH_CHANGES: &str = r#"
{ services(first: 100) { nodes { key changes(first: 100) { nodes { number createdAt } } } } }"#;

const CHANGES_OF_SERVICE: &str = r#"
query Changes($key: String!, $first: Int, $after: String, $last: Int, $before: String, $dir: SortDirection!) {
  service(key: $key) {
    changes(first: $first, after: $after, last: $last, before: $before,
            orderBy: { field: CREATED_AT, direction: $dir }) {
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      nodes { number }
    }
  }
}"#;

/// A service's changes by creation, `(createdAt, number)` descending or ascending, worked
/// out from the unordered list: the number is `CHG` and the zero-padded id, the tie-breaker.
fn by_creation(changes: &Value, descending: bool) -> Vec<String> {
    let mut rows: Vec<(String, String)> = changes["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let at = chrono::DateTime::parse_from_rfc3339(c["createdAt"].as_str().unwrap_or(""))
                .map(|t| t.timestamp_micros())
                .unwrap_or_default();
            (
                format!("{at:020}"),
                c["number"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    rows.sort();
    if descending {
        rows.reverse();
    }
    rows.into_iter().map(|(_, n)| n).collect()
}

/// Pages through a service's changes by creation, forward with `first`/`after` or backward
/// with `last`/`before`, and returns the numbers in list order.
async fn walk_service(
    app: &crate::helpers::TestApp,
    key: &str,
    size: i64,
    dir: &str,
    backward: bool,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let vars = if backward {
            json!({ "key": key, "last": size, "before": cursor, "dir": dir })
        } else {
            json!({ "key": key, "first": size, "after": cursor, "dir": dir })
        };
        let conn = app.data(CHANGES_OF_SERVICE, vars).await["service"]["changes"].clone();
        let page: Vec<String> = pluck(&conn["nodes"], "number")
            .into_iter()
            .map(str::to_owned)
            .collect();
        let more = if backward {
            out.splice(0..0, page);
            conn["pageInfo"]["hasPreviousPage"]
                .as_bool()
                .unwrap_or(false)
        } else {
            out.extend(page);
            conn["pageInfo"]["hasNextPage"].as_bool().unwrap_or(false)
        };
        if !more {
            return out;
        }
        let edge = if backward { "startCursor" } else { "endCursor" };
        cursor = conn["pageInfo"][edge].as_str().map(str::to_owned);
        assert!(out.len() <= 200, "paging must end");
    }
}

#[tokio::test]
async fn a_services_changes_by_creation_page_in_the_order_of_their_creation_times() {
    let app = spawn_app().await;
    let services = app.data(SERVICES_WITH_CHANGES, json!({})).await;
    let mut checked = 0;
    for s in services["services"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let key = s["key"].as_str().unwrap_or_default();
        if s["changes"]["nodes"].as_array().map_or(0, Vec::len) < 3 {
            continue;
        }
        for (dir, descending) in [("DESC", true), ("ASC", false)] {
            let expected = by_creation(&s["changes"], descending);
            for size in [1, 2, 5] {
                assert_eq!(
                    walk_service(&app, key, size, dir, false).await,
                    expected,
                    "{key} {dir} forward by {size}"
                );
                assert_eq!(
                    walk_service(&app, key, size, dir, true).await,
                    expected,
                    "{key} {dir} backward by {size}"
                );
            }
        }
        checked += 1;
    }
    assert!(
        checked >= 3,
        "the demo has services with several changes ({checked} checked)"
    );
}

#[tokio::test]
async fn a_change_moved_to_another_service_takes_its_place_there_by_creation_time() {
    let app = spawn_app().await;
    let requester = app.token("requester");
    let vpn = app
        .data(r#"{ service(key: "vpn") { id } }"#, json!({}))
        .await["service"]["id"]
        .clone();
    let created = app
        .ok_as(
            &requester,
            r#"mutation($s: [ID!]!) { createChange(input: { title: "Rotate the VPN certificates",
                 category: INFRASTRUCTURE, type: NORMAL, risk: LOW, serviceIds: $s }) { id number } }"#,
            json!({ "s": [vpn] }),
        )
        .await["createChange"]
        .clone();
    let services = app.data(SERVICES_WITH_CHANGES, json!({})).await;
    let other = services["services"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["key"] != "vpn" && s["changes"]["nodes"].as_array().map_or(0, Vec::len) >= 2)
        .expect("another service with changes")
        .clone();
    let other_key = other["key"].as_str().unwrap_or_default().to_owned();
    let other_id = app
        .data(
            r#"query($k: String!) { service(key: $k) { id } }"#,
            json!({ "k": other_key }),
        )
        .await["service"]["id"]
        .clone();
    app.ok_as(
        &requester,
        r#"mutation($id: ID!, $s: [ID!]!) { updateChange(id: $id, input: { serviceIds: $s }) { id } }"#,
        json!({ "id": created["id"], "s": [other_id] }),
    )
    .await;
    let after = app.data(SERVICES_WITH_CHANGES, json!({})).await;
    let changes_of = |key: &str| {
        after["services"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["key"] == key)
            .map(|s| s["changes"].clone())
            .unwrap_or_default()
    };
    let number = created["number"].as_str().unwrap_or_default().to_owned();
    let expected = by_creation(&changes_of(&other_key), true);
    assert!(
        expected.contains(&number),
        "the change now touches {other_key}"
    );
    assert!(
        !by_creation(&changes_of("vpn"), true).contains(&number),
        "and no longer the VPN"
    );
    assert_eq!(
        walk_service(&app, &other_key, 2, "DESC", false).await,
        expected
    );
    assert_eq!(
        expected.first(),
        Some(&number),
        "the newest change comes first"
    );
}

/// The first two changes of each service of `parents` under `filter`, as (parent, cursor,
/// id, has next page): batched for all parents at once, or one top-level listing per parent
/// (`filter` with that `service_id`).
async fn pages_of_services(
    app: &crate::helpers::TestApp,
    filter: portfolio::store::listing::ChangeFilter,
    parents: &[i64],
    batched: bool,
) -> Vec<(i64, String, i64, bool)> {
    use portfolio::store::listing::{ChangeFilter, ChangeScope, List};
    use portfolio::store::page::{PageArgs, fetch_pages};
    let args = PageArgs {
        first: Some(2),
        ..PageArgs::default()
    };
    let mut pages = Vec::new();
    if batched {
        let list = List::new(ChangeScope::Service, filter, &args).expect("a valid page");
        let found = fetch_pages(&app.db, &list, Some(parents))
            .await
            .expect("pages");
        pages.extend(found.into_iter().map(|(p, page)| (p.unwrap_or(-1), page)));
    } else {
        for &parent in parents {
            let alone = ChangeFilter {
                service_id: Some(parent),
                ..filter.clone()
            };
            let list = List::new(ChangeScope::Root, alone, &args).expect("a valid page");
            let mut found = fetch_pages(&app.db, &list, None).await.expect("a page");
            let page = found.remove(&None).unwrap_or_default();
            if !page.rows.is_empty() {
                pages.push((parent, page));
            }
        }
    }
    let mut out: Vec<_> = pages
        .into_iter()
        .flat_map(|(parent, page)| {
            let more = page.has_next_page;
            page.rows
                .into_iter()
                .map(move |(cursor, change)| (parent, cursor.encode(), change.id, more))
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn each_parents_page_in_a_batch_is_the_page_it_has_alone_whatever_the_number_of_parents() {
    use portfolio::store::listing::{ChangeFilter, ChangeSort};
    use sea_orm::EntityTrait;
    // A batch reads every parent's page in one statement (LATERAL on PostgreSQL, a
    // correlated subquery over `json_each` on SQLite); unknown ids pad it past 500 parents.
    let app = spawn_app().await;
    let services: Vec<i64> = entity::service::Entity::find()
        .all(&app.db)
        .await
        .expect("services")
        .into_iter()
        .map(|s| s.id)
        .collect();
    let padded: Vec<i64> = services
        .iter()
        .copied()
        .chain(1_000_000..1_000_600)
        .collect();
    let newest = ChangeFilter {
        sort: ChangeSort::CreatedAt,
        descending: true,
        ..ChangeFilter::default()
    };
    let risky_by_planned_start = ChangeFilter {
        risk: Some(vec![entity::RiskLevel::High, entity::RiskLevel::Medium]),
        sort: ChangeSort::PlannedStart,
        ..ChangeFilter::default()
    };
    for filter in [newest, risky_by_planned_start] {
        let alone = pages_of_services(&app, filter.clone(), &services, false).await;
        let batched = pages_of_services(&app, filter.clone(), &services, true).await;
        let padded = pages_of_services(&app, filter.clone(), &padded, true).await;
        assert!(
            alone.len() > services.len(),
            "pages hold changes: {alone:?}"
        );
        assert!(alone.iter().any(|r| r.3), "some service has a next page");
        assert_eq!(batched, alone, "{filter:?}");
        assert_eq!(padded, alone, "{filter:?}");
    }
}
