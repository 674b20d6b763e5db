//! The portfolio's history from its audit trail: `portfolioDiff`.

use std::collections::BTreeMap;

use entity::TokenScope;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::ops::*;

const DIFF: &str =
    "query($from: DateTime!, $to: DateTime!, $types: [String!], $first: Int, $after: String) {
  portfolioDiff(from: $from, to: $to, entityTypes: $types, first: $first, after: $after) {
    hasNextPage endCursor
    nodes { entityType entityId events actions created deleted
      entity { __typename }
      links { action link }
      fields { field before after } } } }";

/// An object's field differences (name, before, after) and its link events' actions.
type Diff = (Vec<(String, Value, Value)>, Vec<String>);

const EVENTS: &str = "query($from: DateTime, $after: String) {
  auditEvents(from: $from, first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { at action entityType entityId before after } } }";

/// `snake_case` to `camelCase`, as the diff names stored fields.
fn camel(s: &str) -> String {
    let mut out = String::new();
    let mut up = false;
    for c in s.chars() {
        match (c, up) {
            ('_', _) => up = true,
            (c, true) => {
                out.extend(c.to_uppercase());
                up = false;
            }
            (c, false) => out.push(c),
        }
    }
    out
}

/// The diff computed here from the audit events after `from`: per object, the fields whose
/// value differs between the first row event's `before` and the last one's `after`, with
/// those values, the id and bookkeeping left out, and its link events. References are
/// compared by presence only (the diff shows them as global IDs, the images as row ids).
async fn expected(app: &TestApp, admin: &str, from: &str) -> BTreeMap<(String, String), Diff> {
    let mut events: Vec<Value> = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = app
            .ok_as(admin, EVENTS, json!({ "from": from, "after": after }))
            .await;
        let conn = &page["auditEvents"];
        events.extend(conn["nodes"].as_array().cloned().unwrap_or_default());
        if conn["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    // Per object: the first row image before, the last after, and the link events (whose
    // images, a link between two objects, hold no `id`).
    type Ends = Option<(Value, Value)>;
    let mut folded: BTreeMap<(String, String), (Ends, Vec<String>)> = BTreeMap::new();
    for e in events.iter().filter(|e| e["at"].as_str() > Some(from)) {
        let key = (
            e["entityType"].as_str().unwrap_or_default().to_owned(),
            e["entityId"].as_str().unwrap_or_default().to_owned(),
        );
        let entry = folded.entry(key).or_default();
        let is_row = e["before"].get("id").is_some() || e["after"].get("id").is_some();
        if is_row {
            let ends = entry
                .0
                .get_or_insert_with(|| (e["before"].clone(), Value::Null));
            ends.1 = e["after"].clone();
        } else {
            entry
                .1
                .push(e["action"].as_str().unwrap_or_default().to_owned());
        }
    }
    folded
        .into_iter()
        .map(|(key, (ends, links))| {
            let (before, after) = ends.unwrap_or_default();
            let empty = serde_json::Map::new();
            let (b, a) = (
                before.as_object().unwrap_or(&empty),
                after.as_object().unwrap_or(&empty),
            );
            let mut names: Vec<&String> = b.keys().chain(a.keys()).collect();
            names.sort_by_key(|n| camel(n));
            names.dedup();
            let fields = names
                .into_iter()
                .filter(|n| !["id", "updated_at", "version"].contains(&n.as_str()))
                .filter_map(|n| {
                    let (was, is) = (
                        b.get(n).cloned().unwrap_or(Value::Null),
                        a.get(n).cloned().unwrap_or(Value::Null),
                    );
                    let reference = camel(n).ends_with("Id");
                    let blank = |v: Value| match (reference, v) {
                        (_, Value::Null) => Value::Null,
                        (true, _) => json!("ref"),
                        (false, v) => v,
                    };
                    (was != is).then(|| (camel(n), blank(was), blank(is)))
                })
                .collect();
            (key, (fields, links))
        })
        .collect()
}

/// The diff the API gives, every page of `first`, in the same shape as [`expected`].
async fn served(
    app: &TestApp,
    token: &str,
    from: &str,
    to: &str,
    first: i32,
) -> BTreeMap<(String, String), Diff> {
    let mut out = BTreeMap::new();
    let mut after = Value::Null;
    loop {
        let vars = json!({ "from": from, "to": to, "first": first, "after": after });
        let page = app.ok_as(token, DIFF, vars).await["portfolioDiff"].clone();
        let nodes = page["nodes"].as_array().cloned().unwrap_or_default();
        assert!(nodes.len() <= first as usize);
        for n in nodes {
            let fields = n["fields"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| {
                    let name = f["field"].as_str().unwrap_or_default().to_owned();
                    let blank = |v: &Value| match (name.ends_with("Id"), v) {
                        (_, Value::Null) => Value::Null,
                        (true, v) => {
                            assert!(v.is_string(), "a reference is a global ID: {name} {v}");
                            json!("ref")
                        }
                        (false, v) => v.clone(),
                    };
                    (name.clone(), blank(&f["before"]), blank(&f["after"]))
                })
                .collect();
            let key = (
                n["entityType"].as_str().unwrap_or_default().to_owned(),
                n["entityId"].as_str().unwrap_or_default().to_owned(),
            );
            let links = n["links"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|l| l["action"].as_str().map(str::to_owned))
                .collect();
            assert!(
                out.insert(key, (fields, links)).is_none(),
                "each object once"
            );
        }
        if page["hasNextPage"] != true {
            break;
        }
        after = page["endCursor"].clone();
    }
    out
}

/// Edits a few objects of the demo: a service, a change through two moves, a partner and
/// an approval rule created and deleted, a token.
async fn edit_the_portfolio(app: &TestApp) {
    let admin = app.token("admin");
    let requester = app.token("requester");
    let vpn = service_id(app, "vpn").await;
    app.ok_as(
        &admin,
        "mutation($id: ID!) { updateService(id: $id, criticality: CRITICAL, description: \"Remote access\") { key } }",
        json!({ "id": vpn }),
    )
    .await;
    let depend = "mutation($s: ID!, $d: ID!) { addServiceDependency(serviceId: $s, dependsOnId: $d, kind: DATA) { kind } }";
    let vars = json!({ "s": vpn, "d": service_id(app, "data-warehouse").await });
    app.ok_as(&admin, depend, vars).await;
    let change = draft(app, &requester, "NORMAL", "LOW", json!({})).await;
    change_ok(
        app,
        &requester,
        "updateChange",
        json!({ "id": change, "input": { "title": "Renamed", "risk": "HIGH" } }),
    )
    .await;
    change_ok(app, &requester, "submitChange", json!({ "id": change })).await;
    app.ok_as(
        &admin,
        r#"mutation { createPartner(name: "Acme Cloud", kind: VENDOR) { id } }"#,
        json!({}),
    )
    .await;
    let rule = app
        .ok_as(
            &admin,
            r#"mutation { createApprovalRule(name: "Short-lived", requiredApprovals: 2) { id } }"#,
            json!({}),
        )
        .await["createApprovalRule"]["id"]
        .clone();
    app.ok_as(
        &admin,
        "mutation($id: ID!) { deleteApprovalRule(id: $id) }",
        json!({ "id": rule }),
    )
    .await;
    app.mint("auditor@portfolio.example", TokenScope::Read)
        .await;
}

/// Edits the portfolio (see [`edit_the_portfolio`]); returns a period holding the edits and
/// nothing else, as RFC 3339 texts.
async fn edited_period(app: &TestApp) -> (String, String) {
    let from = chrono::Utc::now().to_rfc3339();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    edit_the_portfolio(app).await;
    let to = (chrono::Utc::now() + chrono::Duration::seconds(1)).to_rfc3339();
    (from, to)
}

#[tokio::test]
async fn a_diff_is_the_fold_of_the_audit_events_in_its_period_page_after_page() {
    let app = spawn_app().await;
    let admin = app.token("admin");
    let (from, to) = edited_period(&app).await;
    let want = expected(&app, &admin, &from).await;
    assert!(want.len() >= 5, "the edits were audited: {want:?}");
    assert_eq!(served(&app, &admin, &from, &to, 100).await, want);
    assert_eq!(
        served(&app, &admin, &from, &to, 2).await,
        want,
        "pages of two make the same diff"
    );
    let page = app
        .ok_as(
            &admin,
            DIFF,
            json!({ "from": from, "to": to, "types": ["Change"] }),
        )
        .await["portfolioDiff"]["nodes"]
        .clone();
    let nodes = page.as_array().expect("nodes");
    assert_eq!(nodes.len(), 1, "one change was edited: {page}");
    let change = &nodes[0];
    assert_eq!(
        (change["created"].as_bool(), change["events"].as_i64()),
        (Some(true), Some(3))
    );
    assert_eq!(change["actions"], json!(["CREATED", "SUBMITTED"]));
    assert_eq!(change["entity"]["__typename"], "Change");
    let fields: BTreeMap<&str, &Value> = change["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| Some((f["field"].as_str()?, &f["after"])))
        .collect();
    assert_eq!(fields["title"], "Renamed");
    assert_eq!(fields["status"], "SUBMITTED");
    assert_eq!(fields["risk"], "HIGH");
}

#[tokio::test]
async fn a_deleted_object_ends_with_no_fields_and_tokens_are_shown_to_admins_only() {
    let app = spawn_app().await;
    let admin = app.token("admin");
    let (from, to) = edited_period(&app).await;
    let rules = app
        .ok_as(
            &admin,
            DIFF,
            json!({ "from": from, "to": to, "types": ["ApprovalRule"] }),
        )
        .await["portfolioDiff"]["nodes"]
        .clone();
    assert_eq!(
        (rules[0]["created"].as_bool(), rules[0]["deleted"].as_bool()),
        (Some(true), Some(true)),
        "{rules}"
    );
    assert!(rules[0]["entity"].is_null(), "it no longer exists");
    assert_eq!(
        rules[0]["fields"],
        json!([]),
        "created and deleted within the period: no field differs between its ends"
    );
    let types = |token: String| {
        let app = &app;
        let (from, to) = (from.clone(), to.clone());
        async move {
            let nodes = app
                .ok_as(&token, DIFF, json!({ "from": from, "to": to }))
                .await["portfolioDiff"]["nodes"]
                .clone();
            nodes
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|n| n["entityType"].as_str().map(str::to_owned))
                .collect::<Vec<_>>()
        }
    };
    assert!(types(admin.clone()).await.contains(&"ApiToken".to_owned()));
    let reader = app.token_of("bob", TokenScope::Read).await;
    let seen = types(reader).await;
    assert!(
        !seen.is_empty() && !seen.contains(&"ApiToken".to_owned()),
        "{seen:?}"
    );
}

#[tokio::test]
async fn a_diff_refuses_a_backward_period_an_unknown_type_and_a_foreign_cursor() {
    let app = spawn_app().await;
    let admin = app.token("admin");
    let now = chrono::Utc::now().to_rfc3339();
    let earlier = "2020-01-01T00:00:00Z";
    for (vars, says) in [
        (json!({ "from": now, "to": earlier }), "`from`"),
        (
            json!({ "from": earlier, "to": now, "types": ["Widget"] }),
            "Widget",
        ),
        (
            json!({ "from": earlier, "to": now, "after": "bm90IGEgY3Vyc29y" }),
            "cursor",
        ),
        (json!({ "from": earlier, "to": now, "first": 0 }), "first"),
    ] {
        let (code, message) = app.fails_as(&admin, DIFF, vars).await;
        assert_eq!(code, "BAD_USER_INPUT", "{message}");
        assert!(message.contains(says), "{message}");
    }
}

#[tokio::test]
async fn a_diff_page_costs_the_same_statements_for_few_objects_or_many() {
    let app = spawn_app().await;
    let admin = app.token("admin");
    let from = chrono::Utc::now().to_rfc3339();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let q = "query($from: DateTime!, $to: DateTime!) { portfolioDiff(from: $from, to: $to, first: 100) {
      hasNextPage endCursor nodes { entityType entityId events actions created deleted fields { field before after } } } }";
    let spent = async |app: &TestApp| {
        let to = (chrono::Utc::now() + chrono::Duration::seconds(1)).to_rfc3339();
        let vars = json!({ "from": from, "to": to });
        let before = app.statements().await;
        let data = app.ok_as(&admin, q, vars).await;
        let objects = data["portfolioDiff"]["nodes"]
            .as_array()
            .map_or(0, Vec::len);
        (app.statements().await - before, objects)
    };
    edit_the_portfolio(&app).await;
    let (few, small) = spent(&app).await;
    for i in 0..20 {
        let create = format!(
            r#"mutation {{ createPartner(name: "Partner {i}", kind: SUPPLIER) {{ id }} }}"#
        );
        app.ok_as(&admin, &create, json!({})).await;
    }
    let (many, large) = spent(&app).await;
    assert!(large >= small + 20, "{small} objects, then {large}");
    assert_eq!(
        few, many,
        "statements must not grow with the objects changed"
    );
    // The token, the page of objects, the images of their first and last events.
    assert!(many <= 3, "a diff page took {many} statements");
}
