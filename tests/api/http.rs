//! GraphQL over HTTP (POST, GET), GraphiQL offline, health, readiness and access settings.

use portfolio::config::ServeArgs;
use serde_json::json;

use crate::helpers::{spawn_app, spawn_with};

#[tokio::test]
async fn get_requests_read_and_answer_graphql_response_json() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(format!("{}/graphql", app.address))
        .query(&[("query", "{ service(key: \"vpn\") { name } }")])
        .header("Accept", "application/graphql-response+json")
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status().as_u16(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("application/graphql-response+json")
    );
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["data"]["service"]["name"], "Remote access VPN");
}

#[tokio::test]
async fn a_mutation_over_get_is_method_not_allowed() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(format!("{}/graphql", app.address))
        .query(&[(
            "query",
            "mutation { createPartner(name: \"x\", kind: VENDOR) { id } }",
        )])
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status().as_u16(), 405);
}

#[tokio::test]
async fn malformed_bodies_are_client_errors() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("content-type", "application/json")
        .body("{ this is not json")
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status().as_u16(), 400);
}

#[tokio::test]
async fn graphiql_and_its_assets_are_served_by_the_binary() {
    let app = spawn_app().await;
    let page = app
        .client
        .get(&app.address)
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("text");
    assert!(
        page.contains("/graphiql/graphiql.min.js") && !page.contains("https://"),
        "no CDN on the page"
    );
    for asset in [
        "graphiql.min.js",
        "graphiql.min.css",
        "react.production.min.js",
        "react-dom.production.min.js",
    ] {
        let res = app
            .client
            .get(format!("{}/graphiql/{asset}", app.address))
            .send()
            .await
            .expect("sent");
        assert_eq!(res.status().as_u16(), 200, "{asset}");
        assert!(
            res.bytes().await.map_or(0, |b| b.len()) > 10_000,
            "{asset} is the real file"
        );
    }
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    for path in ["healthz", "readyz"] {
        let res = app
            .client
            .get(format!("{}/{path}", app.address))
            .send()
            .await
            .expect("sent");
        assert_eq!(res.status().as_u16(), 200, "{path}");
    }
}

#[tokio::test]
async fn reads_without_a_token_are_refused_when_anonymous_reads_are_off() {
    let app = spawn_with(ServeArgs {
        demo: true,
        anonymous_read: Some(false),
        ..ServeArgs::default()
    })
    .await;
    let res = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&json!({ "query": "{ services { totalCount } }" }))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status().as_u16(), 401);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
}

#[tokio::test]
async fn an_unknown_bearer_token_is_unauthenticated_not_anonymous() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth("made-up")
        .json(&json!({ "query": "{ viewer { name } }" }))
        .send()
        .await
        .expect("sent");
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
}

#[tokio::test]
async fn the_viewer_of_an_anonymous_read_is_null() {
    let app = spawn_app().await;
    assert!(app.data("{ viewer { name } }", json!({})).await["viewer"].is_null());
}
