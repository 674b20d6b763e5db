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

/// POSTs `body` with the given headers; returns the status, the content type and the body.
async fn post_raw(
    app: &crate::helpers::TestApp,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, String, serde_json::Value) {
    let mut req = app.client.post(format!("{}/graphql", app.address));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req.body(b.to_owned());
    }
    let res = req.send().await.expect("sent");
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = res.json().await.unwrap_or(serde_json::Value::Null);
    (status, content_type, body)
}

const JSON: (&str, &str) = ("content-type", "application/json");
const GRAPHQL_RESPONSE: (&str, &str) = ("accept", "application/graphql-response+json");
const LEGACY: (&str, &str) = ("accept", "application/json");

#[tokio::test]
async fn the_answer_takes_the_media_type_the_client_accepts() {
    let app = spawn_app().await;
    let query = Some(r#"{"query":"{ __typename }"}"#);
    for (accept, expected) in [
        (
            Some("application/graphql-response+json"),
            "application/graphql-response+json",
        ),
        (Some("application/json"), "application/json"),
        (Some("*/*"), "application/json"),
        (None, "application/json"),
        (
            Some("application/json;q=0.5, application/graphql-response+json"),
            "application/graphql-response+json",
        ),
    ] {
        let mut headers = vec![JSON];
        if let Some(a) = accept {
            headers.push(("accept", a));
        }
        let (status, content_type, body) = post_raw(&app, &headers, query).await;
        assert_eq!(status, 200, "{accept:?}");
        assert!(
            content_type.starts_with(expected),
            "{accept:?} → {content_type}"
        );
        assert!(content_type.contains("charset=utf-8"), "{content_type}");
        assert_eq!(body["data"]["__typename"], "Query");
    }
    let (status, _, _) = post_raw(&app, &[JSON, ("accept", "text/html")], query).await;
    assert_eq!(status, 406, "nothing acceptable");
}

#[tokio::test]
async fn request_errors_are_400_without_data_for_graphql_response_json_and_200_for_json() {
    let app = spawn_app().await;
    for body in [
        r#"{"query":"{"}"#,
        r#"{"query":"{ noSuchField }"}"#,
        r#"{"query":"query($id: ID!) { node(id: $id) { id } }","variables":{"id":null}}"#,
    ] {
        let (status, _, answer) = post_raw(&app, &[JSON, GRAPHQL_RESPONSE], Some(body)).await;
        assert_eq!(status, 400, "{body}");
        assert!(answer.get("data").is_none(), "no data entry: {answer}");
        assert_eq!(answer["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
        let (status, _, answer) = post_raw(&app, &[JSON, LEGACY], Some(body)).await;
        assert_eq!(status, 200, "{body}");
        assert!(answer["errors"][0]["message"].is_string());
    }
    // A field error is an execution error: 200 with data under both types.
    let body = r#"{"query":"{ node(id: \"bm90LWFuLWlk\") { id } }"}"#;
    let (status, _, answer) = post_raw(&app, &[JSON, GRAPHQL_RESPONSE], Some(body)).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.get("data").is_some(), "{answer}");
}

/// Headers, body, expected status.
type Case<'a> = (&'a [(&'a str, &'a str)], Option<&'a str>, u16);

#[tokio::test]
async fn malformed_requests_are_refused_before_execution() {
    let app = spawn_app().await;
    let cases: [Case; 9] = [
        (&[], Some(r#"{"query":"{ __typename }"}"#), 415),
        (
            &[("content-type", "text/plain")],
            Some(r#"{"query":"{ __typename }"}"#),
            415,
        ),
        (&[JSON], None, 400),
        (&[JSON], Some("{ not json"), 400),
        (&[JSON], Some(r#"{"qeury":"{ __typename }"}"#), 400),
        (&[JSON], Some(r#"{"query":{"obj":"ect"}}"#), 400),
        (
            &[JSON],
            Some(r#"{"query":"{ __typename }","variables":"string"}"#),
            400,
        ),
        (
            &[JSON],
            Some(r#"{"query":"{ __typename }","extensions":[1]}"#),
            400,
        ),
        (
            &[JSON],
            Some(r#"{"query":"{ __typename }","operationName":7}"#),
            400,
        ),
    ];
    for (headers, body, expected) in cases {
        let (status, _, answer) = post_raw(&app, headers, body).await;
        assert_eq!(status, expected, "{headers:?} {body:?}: {answer}");
        assert!(
            answer["errors"][0]["extensions"]["code"].is_string(),
            "{answer}"
        );
    }
}

#[tokio::test]
async fn a_batch_answers_each_operation_in_order_up_to_its_limit() {
    let app = spawn_with(ServeArgs {
        demo: true,
        anonymous_read: Some(true),
        max_batch: 3,
        ..ServeArgs::default()
    })
    .await;
    let batch = r#"[{"query":"{ service(key: \"vpn\") { key } }"},{"query":"{ service(key: \"email\") { key } }"}]"#;
    let (status, _, answer) = post_raw(&app, &[JSON], Some(batch)).await;
    assert_eq!(status, 200);
    assert_eq!(answer[0]["data"]["service"]["key"], "vpn");
    assert_eq!(answer[1]["data"]["service"]["key"], "email");
    let four = format!("[{}]", [r#"{"query":"{ __typename }"}"#; 4].join(","));
    let (status, _, answer) = post_raw(&app, &[JSON], Some(&four)).await;
    assert_eq!(status, 400);
    assert_eq!(answer["errors"][0]["extensions"]["code"], "LIMIT_EXCEEDED");
}

#[tokio::test]
async fn bodies_above_the_limit_are_413_and_aliases_above_theirs_limit_exceeded() {
    let app = spawn_with(ServeArgs {
        demo: true,
        anonymous_read: Some(true),
        max_body_bytes: 2_000,
        max_aliases: 3,
        ..ServeArgs::default()
    })
    .await;
    let padding = " ".repeat(2_000);
    let big = format!(r#"{{"query":"{{ __typename {padding} }}"}}"#);
    let (status, _, answer) = post_raw(&app, &[JSON], Some(&big)).await;
    assert_eq!(status, 413);
    assert_eq!(answer["errors"][0]["extensions"]["code"], "LIMIT_EXCEEDED");
    // Aliases count through fragments as often as they are spread.
    let fine = r#"{"query":"{ a: __typename b: __typename c: __typename }"}"#;
    let (status, _, answer) = post_raw(&app, &[JSON, GRAPHQL_RESPONSE], Some(fine)).await;
    assert_eq!((status, &answer["data"]["c"]), (200, &json!("Query")));
    let spread = r#"{"query":"{ ...F ...F } fragment F on Query { a: __typename b: __typename }"}"#;
    let (status, _, answer) = post_raw(&app, &[JSON, GRAPHQL_RESPONSE], Some(spread)).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["errors"][0]["extensions"]["code"], "LIMIT_EXCEEDED");
}

#[tokio::test]
async fn with_introspection_off_the_schema_and_field_suggestions_stay_hidden() {
    let app = spawn_with(ServeArgs {
        demo: true,
        anonymous_read: Some(true),
        introspection: false,
        graphiql: false,
        ..ServeArgs::default()
    })
    .await;
    let body = app.post("{ __schema { types { name } } }", json!({})).await;
    assert!(body["data"]["__schema"].is_null(), "{body}");
    let body = app
        .post("{ servic(key: \"vpn\") { key } }", json!({}))
        .await;
    let message = body["errors"][0]["message"].as_str().unwrap_or("");
    assert!(message.contains("servic"), "{body}");
    assert!(
        !message.contains("Did you mean"),
        "no suggestions: {message}"
    );
    let res = app
        .client
        .get(format!("{}/", app.address))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status().as_u16(), 404, "no GraphiQL");
    // With the defaults, both are on.
    let open = spawn_app().await;
    let body = open
        .post("{ __schema { queryType { name } } }", json!({}))
        .await;
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");
}

#[tokio::test]
async fn persisted_queries_are_sent_by_hash_once_the_server_knows_them() {
    use sha2::{Digest, Sha256};
    let app = spawn_app().await;
    let query = "{ service(key: \"vpn\") { name } }";
    let hash = format!("{:x}", Sha256::digest(query.as_bytes()));
    let ext = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    let by_hash = json!({ "extensions": ext }).to_string();
    let (status, _, answer) = post_raw(&app, &[JSON], Some(&by_hash)).await;
    assert_eq!(status, 200);
    assert_eq!(
        answer["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND",
        "{answer}"
    );
    let register = json!({ "query": query, "extensions": ext }).to_string();
    let (_, _, answer) = post_raw(&app, &[JSON], Some(&register)).await;
    assert_eq!(answer["data"]["service"]["name"], "Remote access VPN");
    let (status, _, answer) = post_raw(&app, &[JSON], Some(&by_hash)).await;
    assert_eq!(status, 200);
    assert_eq!(answer["data"]["service"]["name"], "Remote access VPN");
    // Over GET too, as CDNs like it.
    let res = app
        .client
        .get(format!("{}/graphql", app.address))
        .query(&[("extensions", ext.to_string())])
        .send()
        .await
        .expect("sent");
    let answer: serde_json::Value = res.json().await.expect("json");
    assert_eq!(answer["data"]["service"]["name"], "Remote access VPN");
}

#[tokio::test]
async fn cross_origin_requests_are_allowed_only_from_the_configured_origins() {
    let app = spawn_with(ServeArgs {
        demo: true,
        anonymous_read: Some(true),
        cors_origins: vec!["https://portal.example".into()],
        ..ServeArgs::default()
    })
    .await;
    for (origin, allowed) in [
        ("https://portal.example", true),
        ("https://evil.example", false),
    ] {
        let res = app
            .client
            .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.address))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization, content-type",
            )
            .send()
            .await
            .expect("sent");
        let allow = res
            .headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        assert_eq!(
            allow.as_deref() == Some(origin),
            allowed,
            "{origin}: {allow:?}"
        );
    }
}
