//! Reads without a token: off for a configured database, on for the embedded default and
//! with `--demo` (DESIGN.md), the same on every route — GraphQL over POST and GET, the
//! WebSocket, the CSV exports — and on both engines.

use entity::TokenScope;
use portfolio::config::{DEFAULT_DATABASE_URL, ServeArgs, anonymous_read};
use serde_json::json;

use crate::helpers::{TestApp, spawn_with};
use crate::subscriptions::{first_answer, next, open};

const QUERY: &str = "{ services(first: 1) { totalCount } }";

/// The HTTP status of each read route without a token.
async fn statuses_without_a_token(app: &TestApp) -> Vec<(&'static str, u16)> {
    let post = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&json!({ "query": QUERY }))
        .send()
        .await
        .expect("sent");
    let get = app
        .client
        .get(format!("{}/graphql", app.address))
        .query(&[("query", QUERY)])
        .header("accept", "application/graphql-response+json")
        .send()
        .await
        .expect("sent");
    let export = app
        .client
        .get(format!("{}/export/changes.csv", app.address))
        .send()
        .await
        .expect("sent");
    vec![
        ("POST /graphql", post.status().as_u16()),
        ("GET /graphql", get.status().as_u16()),
        ("GET /export/changes.csv", export.status().as_u16()),
    ]
}

#[tokio::test]
async fn a_configured_database_refuses_reads_without_a_token_on_every_route() {
    // Not the embedded default, no `--demo`, nothing set: a production deployment.
    let app = spawn_with(ServeArgs::default()).await;
    for (route, status) in statuses_without_a_token(&app).await {
        assert_eq!(status, 401, "{route}");
    }
    assert_eq!(first_answer(&app, None).await, "4403");
    // A token still reads.
    let token = app.mint("reader@example.com", TokenScope::Read).await;
    let d = app.ok_as(&token, QUERY, json!({})).await;
    assert!(d["services"]["totalCount"].is_number(), "{d}");
}

#[tokio::test]
async fn the_demo_allows_reads_without_a_token_on_every_route_and_never_writes() {
    let app = spawn_with(ServeArgs {
        demo: true,
        ..ServeArgs::default()
    })
    .await;
    for (route, status) in statuses_without_a_token(&app).await {
        assert_eq!(status, 200, "{route}");
    }
    let mut socket = open(&app, None).await;
    assert_eq!(
        next(&mut socket).await.map(|m| m["type"].clone()),
        Some(json!("connection_ack"))
    );
    let res = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&json!({ "query": r#"mutation { createPerson(name: "Anon", email: "anon@example.com") { id } }"# }))
        .send()
        .await
        .expect("sent");
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{body}"
    );
}

#[test]
fn anonymous_reads_follow_the_setting_then_the_embedded_default_then_demo() {
    let configured = "postgres://app@db.internal/portfolio";
    let unset = ServeArgs::default();
    assert!(!anonymous_read(&unset, configured).0);
    assert!(!anonymous_read(&unset, "sqlite://prod.db").0);
    assert_eq!(
        anonymous_read(&unset, DEFAULT_DATABASE_URL),
        (true, "embedded default")
    );
    let demo = ServeArgs {
        demo: true,
        ..ServeArgs::default()
    };
    assert_eq!(anonymous_read(&demo, configured), (true, "--demo"));
    let off = ServeArgs {
        demo: true,
        anonymous_read: Some(false),
        ..ServeArgs::default()
    };
    assert_eq!(anonymous_read(&off, DEFAULT_DATABASE_URL), (false, "set"));
}
