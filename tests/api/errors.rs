//! Bad input gets a clear error with a stable code; never a panic, never HTTP 500.

use serde_json::json;

use crate::helpers::{spawn_app, spawn_with};

#[tokio::test]
async fn a_page_above_the_maximum_is_limit_exceeded() {
    let app = spawn_app().await;
    assert_eq!(
        app.error_code("{ changes(first: 1000) { totalCount } }", json!({}))
            .await,
        "LIMIT_EXCEEDED"
    );
    let body = app
        .post("{ changes(first: 1000) { totalCount } }", json!({}))
        .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("100")
    );
}

#[tokio::test]
async fn malformed_ids_and_cursors_are_bad_user_input() {
    let app = spawn_app().await;
    assert_eq!(
        app.error_code(r#"{ node(id: "not-an-id") { id } }"#, json!({}))
            .await,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        app.error_code(r#"{ changes(after: "garbage") { totalCount } }"#, json!({}))
            .await,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        app.error_code(
            r#"{ changes(filter: { serviceId: "%%%" }) { totalCount } }"#,
            json!({})
        )
        .await,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        app.error_code("{ changes(first: 1, last: 1) { totalCount } }", json!({}))
            .await,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        app.error_code("{ changes(first: -1) { totalCount } }", json!({}))
            .await,
        "BAD_USER_INPUT"
    );
}

#[tokio::test]
async fn a_cursor_of_another_ordering_is_refused() {
    let app = spawn_app().await;
    let d = app
        .data(
            "{ changes(first: 2) { pageInfo { endCursor } } }",
            json!({}),
        )
        .await;
    let cursor = d["changes"]["pageInfo"]["endCursor"].clone();
    let q = "query($c: String) { changes(first: 2, after: $c, orderBy: { field: RISK, direction: ASC }) { totalCount } }";
    assert_eq!(
        app.error_code(q, json!({ "c": cursor })).await,
        "BAD_USER_INPUT"
    );
}

#[tokio::test]
async fn an_id_of_another_type_is_not_found() {
    let app = spawn_app().await;
    let d = app
        .data(r#"{ releases(first: 1) { nodes { id } } }"#, json!({}))
        .await;
    let release_id = d["releases"]["nodes"][0]["id"].clone();
    let q = "query($id: ID!) { changes(filter: { serviceId: $id }) { totalCount } }";
    assert_eq!(
        app.error_code(q, json!({ "id": release_id })).await,
        "NOT_FOUND"
    );
    let unknown = app
        .data(
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": "U2VydmljZTo5OTk5OQ" }),
        )
        .await;
    assert!(
        unknown["node"].is_null(),
        "an unknown row of the right type is null"
    );
}

#[tokio::test]
async fn more_than_a_hundred_ids_in_nodes_is_limit_exceeded() {
    let app = spawn_app().await;
    let ids: Vec<String> = (1..=101).map(|_| "U2VydmljZTox".to_owned()).collect();
    assert_eq!(
        app.error_code(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": ids })
        )
        .await,
        "LIMIT_EXCEEDED"
    );
}

#[tokio::test]
async fn an_unknown_field_is_a_validation_error_not_a_server_error() {
    let app = spawn_app().await;
    let body = app
        .post("{ services { nodes { colour } } }", json!({}))
        .await;
    let message = body["errors"][0]["message"].as_str().unwrap_or("");
    assert!(message.contains("colour"), "{body}");
    assert!(body.get("data").is_none_or(|d| d.is_null()));
}

#[tokio::test]
async fn a_query_deeper_than_the_limit_is_refused() {
    let app = spawn_app().await;
    // Pages of one, so the query is deep but cheap.
    let mut q = String::from("{ services(first: 1) { nodes { ");
    for _ in 0..4 {
        q.push_str("offerings(first: 1) { nodes { services(first: 1) { nodes { ");
    }
    q.push_str("key");
    for _ in 0..4 {
        q.push_str(" } } } }");
    }
    q.push_str(" } } }");
    let body = app.post(&q, json!({})).await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .to_lowercase()
            .contains("nested too deep"),
        "{body}"
    );
}

#[tokio::test]
async fn a_query_more_complex_than_the_limit_is_refused_before_it_runs() {
    let app = spawn_with(portfolio::config::ServeArgs {
        demo: true,
        anonymous_read: Some(true),
        max_complexity: 300,
        ..portfolio::config::ServeArgs::default()
    })
    .await;
    let before = app.statements().await;
    let body = app
        .post(
            "{ changes(first: 100) { nodes { number title status risk } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "LIMIT_EXCEEDED",
        "{body}"
    );
    assert_eq!(app.statements().await, before, "refused before any SQL");
    let fine = app
        .post("{ changes(first: 2) { nodes { number } } }", json!({}))
        .await;
    assert!(fine["errors"].is_null(), "{fine}");
}
