//! Per-caller rate limits: a bucket per token (per address without one), 429 with
//! `Retry-After` and RATE_LIMITED over it, WebSocket operations and exports counted too.

use portfolio::config::ServeArgs;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_with};
use crate::subscriptions::{next, open};

/// A demo server whose callers may send `burst` operations at once, then one a second.
async fn limited_to(burst: u32, anonymous_read: bool) -> TestApp {
    spawn_with(ServeArgs {
        demo: true,
        anonymous_read: Some(anonymous_read),
        rate_limit: 1,
        rate_burst: burst,
        ..ServeArgs::default()
    })
    .await
}

/// POSTs `body` as `token`; the status, `Retry-After` and the JSON answer.
async fn send(app: &TestApp, token: Option<&str>, body: Value) -> (u16, Option<u64>, Value) {
    let mut req = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("accept", "application/graphql-response+json")
        .json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("sent");
    let status = res.status().as_u16();
    let retry = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    (status, retry, res.json().await.expect("json"))
}

const READ: &str = "{ viewer { email } }";

#[tokio::test]
async fn a_token_over_its_rate_gets_429_with_retry_after_while_another_token_is_unaffected() {
    let app = limited_to(3, false).await;
    let laura = app.token("requester");
    let alice = app.token("admin");
    for _ in 0..3 {
        let (status, _, body) = send(&app, Some(&laura), json!({ "query": READ })).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, retry, body) = send(&app, Some(&laura), json!({ "query": READ })).await;
    assert_eq!(status, 429, "{body}");
    assert!(retry.is_some_and(|s| (1..=2).contains(&s)), "{retry:?}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    assert_eq!(
        body["errors"][0]["extensions"]["retryAfter"].as_u64(),
        retry
    );
    assert!(body.get("data").is_none(), "nothing was executed: {body}");
    // Another token has its own bucket.
    let (status, _, body) = send(&app, Some(&alice), json!({ "query": READ })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["viewer"]["email"], "alice@portfolio.example");
    assert_eq!(
        app.metric(r#"portfolio_rate_limited_total{transport="http"}"#)
            .await,
        1
    );
    // After the wait, the token is served again.
    tokio::time::sleep(std::time::Duration::from_secs(retry.unwrap_or(1))).await;
    let (status, _, _) = send(&app, Some(&laura), json!({ "query": READ })).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn each_operation_of_a_batch_counts_and_a_batch_runs_whole_or_not_at_all() {
    let app = limited_to(3, false).await;
    let laura = app.token("requester");
    let batch = |n: usize| Value::Array(vec![json!({ "query": READ }); n]);
    // Larger than the burst: it could never pass, so it is a limit, not a wait.
    let (status, retry, body) = send(&app, Some(&laura), batch(4)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(retry, None);
    assert_eq!(body["errors"][0]["extensions"]["code"], "LIMIT_EXCEEDED");
    let (status, _, body) = send(&app, Some(&laura), batch(2)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.as_array().map(Vec::len), Some(2));
    // One operation left in the bucket: a batch of two waits, whole.
    let (status, retry, body) = send(&app, Some(&laura), batch(2)).await;
    assert_eq!(status, 429, "{body}");
    assert!(retry.is_some());
    let (status, _, _) = send(&app, Some(&laura), json!({ "query": READ })).await;
    assert_eq!(status, 200, "the refused batch took nothing");
}

#[tokio::test]
async fn callers_without_a_token_share_a_bucket_per_address_which_exports_draw_on_too() {
    let app = limited_to(2, true).await;
    for _ in 0..2 {
        let (status, _, body) = send(
            &app,
            None,
            json!({ "query": "{ services(first: 1) { totalCount } }" }),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    let export = app
        .client
        .get(format!("{}/export/changes.csv", app.address))
        .send()
        .await
        .expect("sent");
    assert_eq!(export.status().as_u16(), 429);
    assert!(export.headers().contains_key("retry-after"));
    // A token is not an address: it is served.
    let (status, _, _) = send(
        &app,
        Some(&app.token("requester")),
        json!({ "query": READ }),
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_subscription_over_the_rate_is_refused_with_an_error_and_the_connection_goes_on() {
    let app = limited_to(2, false).await;
    let mut socket = open(&app, Some(&app.token("requester"))).await;
    assert_eq!(
        next(&mut socket).await.map(|m| m["type"].clone()),
        Some(json!("connection_ack"))
    );
    let subscribe = |id: &str| {
        json!({ "type": "subscribe", "id": id, "payload": { "query": "subscription { changeEvents { action } }" } })
            .to_string()
    };
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    for id in ["1", "2", "3"] {
        socket
            .send(Message::Text(subscribe(id).into()))
            .await
            .expect("sent");
    }
    let refused = next(&mut socket).await.expect("an answer");
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["id"], "3");
    assert_eq!(refused["payload"][0]["extensions"]["code"], "RATE_LIMITED");
    assert!(refused["payload"][0]["extensions"]["retryAfter"].is_u64());
    socket
        .send(Message::Text(json!({ "type": "ping" }).to_string().into()))
        .await
        .expect("sent");
    assert_eq!(
        next(&mut socket).await.map(|m| m["type"].clone()),
        Some(json!("pong")),
        "the connection stays open"
    );
    assert_eq!(
        app.metric(r#"portfolio_rate_limited_total{transport="websocket"}"#)
            .await,
        1
    );
}
