//! Webhooks: signed, at-least-once deliveries to a real HTTP receiver started by each test.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use entity::TokenScope;
use portfolio::config::ServeArgs;
use portfolio::domain::tokens::{self, TokenRequest};
use serde_json::{Value, json};

use crate::helpers::{TestApp, on_postgres, spawn_app, spawn_beside, spawn_with};
use crate::operations::{Server, post};
use crate::ops::draft;

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Hit {
    path: String,
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

/// What the receiver does, by path: `/ok` answers 204; `/flaky/N` 503 the first N times;
/// `/slow-once` holds the first request for a minute; `/redirect` 307 to `/ok`; `/gone`
/// 410; `/busy` 429 with `Retry-After: 0` once, then 200.
#[derive(Clone, Default)]
struct Receiver {
    hits: Arc<Mutex<Vec<Hit>>>,
    seen: Arc<Mutex<HashMap<String, u32>>>,
}

async fn receive(req: HttpRequest, body: web::Bytes, rx: web::Data<Receiver>) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let path = req.path().to_owned();
    rx.hits.lock().expect("hits").push(Hit {
        path: path.clone(),
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let n = {
        let mut seen = rx.seen.lock().expect("seen");
        let n = seen.entry(path.clone()).or_default();
        *n += 1;
        *n
    };
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["flaky", k] if n <= k.parse().unwrap_or(0) => HttpResponse::ServiceUnavailable().finish(),
        ["slow-once"] if n == 1 => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            HttpResponse::Ok().finish()
        }
        ["redirect"] => HttpResponse::TemporaryRedirect()
            .insert_header(("Location", "/ok"))
            .finish(),
        ["gone"] => HttpResponse::Gone().finish(),
        ["busy"] if n == 1 => HttpResponse::TooManyRequests()
            .insert_header(("Retry-After", "0"))
            .finish(),
        _ => HttpResponse::NoContent().finish(),
    }
}

impl Receiver {
    /// Starts on 127.0.0.1:0; returns the receiver and its base URL.
    fn start() -> (Self, String) {
        let rx = Self::default();
        let data = web::Data::new(rx.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        let port = listener.local_addr().expect("an address").port();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(receive))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("listening")
        .run();
        tokio::spawn(server);
        (rx, format!("http://127.0.0.1:{port}"))
    }

    fn hits(&self, path: &str) -> Vec<Hit> {
        let hits = self.hits.lock().expect("hits");
        hits.iter().filter(|h| h.path == path).cloned().collect()
    }

    /// Waits until `path` got `n` requests (at most `secs` seconds); returns them.
    async fn wait_for(&self, path: &str, n: usize, secs: u64) -> Vec<Hit> {
        for _ in 0..secs * 20 {
            let hits = self.hits(path);
            if hits.len() >= n {
                return hits;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{path} got {} requests, not {n}", self.hits(path).len());
    }
}

/// Verifies a hit as a receiver would, by the Standard Webhooks algorithm: the base64 of
/// HMAC-SHA256 keyed with the decoded secret over `id.timestamp.body`, among the
/// signature header's space-separated `v1,` entries; the timestamp within five minutes.
fn verify(secret: &str, hit: &Hit) -> bool {
    let Ok(key) = STANDARD.decode(secret.trim_start_matches("whsec_")) else {
        return false;
    };
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key);
    let signed = format!("{}.{}.{}", hit.id, hit.timestamp, hit.body);
    let fresh = hit
        .timestamp
        .parse::<i64>()
        .is_ok_and(|t| (chrono::Utc::now().timestamp() - t).abs() < 300);
    fresh
        && hit.signature.split(' ').any(|entry| {
            entry.strip_prefix("v1,").is_some_and(|sig| {
                STANDARD
                    .decode(sig)
                    .is_ok_and(|raw| ring::hmac::verify(&key, signed.as_bytes(), &raw).is_ok())
            })
        })
}

const REGISTER: &str = "mutation($url: String!, $types: [WebhookEventType!]) { \
    registerWebhookEndpoint(url: $url, eventTypes: $types) { secret endpoint { id url paused eventTypes } } }";

const DELIVERIES: &str = "query($id: ID!) { webhookDeliveries(endpointId: $id) { \
    id messageId eventType status attempts lastStatusCode lastError nextAttemptAt deliveredAt } }";

/// Registers an endpoint as the demo admin; returns its ID and secret.
async fn register(app: &TestApp, url: &str) -> (String, String) {
    let data = app
        .ok_as(&app.token("admin"), REGISTER, json!({ "url": url }))
        .await;
    let r = &data["registerWebhookEndpoint"];
    (
        r["endpoint"]["id"].as_str().expect("an id").to_owned(),
        r["secret"].as_str().expect("a secret").to_owned(),
    )
}

async fn deliveries(app: &TestApp, endpoint: &str) -> Vec<Value> {
    let data = app
        .ok_as(&app.token("admin"), DELIVERIES, json!({ "id": endpoint }))
        .await;
    data["webhookDeliveries"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Waits until every delivery of `endpoint` has left PENDING; returns them.
async fn settled(app: &TestApp, endpoint: &str) -> Vec<Value> {
    for _ in 0..200 {
        let all = deliveries(app, endpoint).await;
        if !all.is_empty() && all.iter().all(|d| d["status"] != "PENDING") {
            return all;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "deliveries still pending: {:?}",
        deliveries(app, endpoint).await
    );
}

fn quick_retries() -> ServeArgs {
    ServeArgs {
        demo: true,
        anonymous_read: Some(true),
        webhook_first_retry: Duration::from_millis(50),
        ..ServeArgs::default()
    }
}

#[tokio::test]
async fn a_committed_change_arrives_signed_and_verifiable_by_the_standard_webhooks_algorithm() {
    let (rx, base) = Receiver::start();
    let app = spawn_app().await;
    let (endpoint, secret) = register(&app, &format!("{base}/ok")).await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    let change = draft(&app, &app.token("requester"), "NORMAL", "LOW", json!({})).await;

    let hits = rx.wait_for("/ok", 1, 10).await;
    let hit = &hits[0];
    assert!(verify(&secret, hit), "signature verifies: {hit:?}");
    let tampered = Hit {
        body: hit.body.replace("CREATED", "DELETED"),
        ..hit.clone()
    };
    assert!(
        !verify(&secret, &tampered),
        "a changed body does not verify"
    );
    assert!(!verify(
        "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        hit
    ));
    let body: Value = serde_json::from_str(&hit.body).expect("a JSON body");
    assert_eq!(body["type"], "change.created");
    assert_eq!(body["data"]["changeId"], change.as_str());
    assert_eq!(body["data"]["toStatus"], "DRAFT");
    assert!(hit.id.starts_with("msg_"), "{}", hit.id);

    let all = settled(&app, &endpoint).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["status"], "DELIVERED");
    assert_eq!(all[0]["attempts"], 1);
    assert_eq!(all[0]["lastStatusCode"], 204);
    assert_eq!(all[0]["messageId"], hit.id.as_str());
    assert!(all[0]["nextAttemptAt"].is_null());
    assert_eq!(
        app.metric("portfolio_webhook_attempts_total{outcome=\"delivered\"}")
            .await,
        1
    );
}

#[tokio::test]
async fn a_receiver_failing_three_times_gets_the_same_event_once_per_retry_until_it_succeeds() {
    let (rx, base) = Receiver::start();
    let app = spawn_with(quick_retries()).await;
    let (endpoint, secret) = register(&app, &format!("{base}/flaky/3")).await;
    draft(&app, &app.token("requester"), "NORMAL", "LOW", json!({})).await;

    let all = settled(&app, &endpoint).await;
    assert_eq!(all[0]["status"], "DELIVERED", "{all:?}");
    assert_eq!(all[0]["attempts"], 4);
    let hits = rx.hits("/flaky/3");
    assert_eq!(hits.len(), 4, "one request per attempt: {hits:?}");
    assert!(
        hits.iter()
            .all(|h| h.id == hits[0].id && h.body == hits[0].body)
    );
    assert!(hits.iter().all(|h| verify(&secret, h)));
    assert_eq!(
        app.metric("portfolio_webhook_attempts_total{outcome=\"retried\"}")
            .await,
        3
    );
    assert_eq!(
        app.metric("portfolio_webhook_attempts_total{outcome=\"delivered\"}")
            .await,
        1
    );
}

#[tokio::test]
async fn a_receiver_asking_to_slow_down_is_retried_and_a_refusal_is_final_until_replayed() {
    let (rx, base) = Receiver::start();
    let app = spawn_with(quick_retries()).await;
    let (busy, _) = register(&app, &format!("{base}/busy")).await;
    let (gone, _) = register(&app, &format!("{base}/gone")).await;
    draft(&app, &app.token("requester"), "NORMAL", "LOW", json!({})).await;

    let busy = settled(&app, &busy).await;
    assert_eq!(busy[0]["status"], "DELIVERED");
    assert_eq!(busy[0]["attempts"], 2, "429 is retried: {busy:?}");
    let failed = settled(&app, &gone).await;
    assert_eq!(failed[0]["status"], "FAILED");
    assert_eq!(failed[0]["attempts"], 1, "410 is not retried: {failed:?}");
    assert_eq!(failed[0]["lastStatusCode"], 410);

    let replay = "mutation($id: ID!) { replayWebhookDelivery(id: $id) { status } }";
    let again = app
        .ok_as(
            &app.token("admin"),
            replay,
            json!({ "id": failed[0]["id"] }),
        )
        .await;
    assert_eq!(again["replayWebhookDelivery"]["status"], "PENDING");
    rx.wait_for("/gone", 2, 10).await;
    let after = settled(&app, &gone).await;
    assert_eq!(after[0]["attempts"], 2);
    assert_eq!(
        rx.hits("/gone")[1].id,
        rx.hits("/gone")[0].id,
        "the same message"
    );
}

#[tokio::test]
async fn redirects_are_not_followed_and_only_http_urls_can_be_registered() {
    let (rx, base) = Receiver::start();
    let app = spawn_app().await;
    for url in [
        "ftp://example.org/hook",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "/relative/hook",
        "https://user:secret@example.org/hook",
    ] {
        let (code, message) = app
            .fails_as(&app.token("admin"), REGISTER, json!({ "url": url }))
            .await;
        assert_eq!(code, "BAD_USER_INPUT", "{url}: {message}");
    }
    let (code, _) = app
        .fails_as(
            &app.token("requester"),
            REGISTER,
            json!({ "url": format!("{base}/ok") }),
        )
        .await;
    assert_eq!(code, "FORBIDDEN", "only ADMIN registers endpoints");
    let listed = app
        .ok_as(
            &app.token("admin"),
            "{ webhookEndpoints { url } }",
            json!({}),
        )
        .await;
    assert_eq!(
        listed["webhookEndpoints"],
        json!([]),
        "refusals change nothing"
    );

    let (endpoint, _) = register(&app, &format!("{base}/redirect")).await;
    draft(&app, &app.token("requester"), "NORMAL", "LOW", json!({})).await;
    let all = settled(&app, &endpoint).await;
    assert_eq!(all[0]["status"], "FAILED", "{all:?}");
    assert_eq!(all[0]["lastStatusCode"], 307);
    assert!(
        all[0]["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("redirect")),
        "{all:?}"
    );
    assert_eq!(rx.hits("/redirect").len(), 1);
    assert!(rx.hits("/ok").is_empty(), "the redirect was not followed");
}

#[tokio::test]
async fn a_paused_endpoint_collects_events_and_gets_them_when_resumed_and_filters_narrow_them() {
    let (rx, base) = Receiver::start();
    let app = spawn_app().await;
    let admin = app.token("admin");
    let (paused, _) = register(&app, &format!("{base}/paused")).await;
    app.ok_as(
        &admin,
        "mutation($id: ID!) { pauseWebhookEndpoint(id: $id) { paused } }",
        json!({ "id": paused }),
    )
    .await;
    let releases_only = app
        .ok_as(
            &admin,
            REGISTER,
            json!({ "url": format!("{base}/releases"), "types": ["RELEASE"] }),
        )
        .await;
    assert_eq!(
        releases_only["registerWebhookEndpoint"]["endpoint"]["eventTypes"],
        json!(["RELEASE"])
    );
    let (all_events, _) = register(&app, &format!("{base}/all")).await;
    draft(&app, &app.token("requester"), "NORMAL", "LOW", json!({})).await;
    settled(&app, &all_events).await;
    assert!(
        rx.hits("/paused").is_empty(),
        "nothing goes to a paused endpoint"
    );
    assert!(
        rx.hits("/releases").is_empty(),
        "a change event is not a release event"
    );
    let pending = deliveries(&app, &paused).await;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0]["status"], "PENDING");

    app.ok_as(
        &admin,
        "mutation($id: ID!) { resumeWebhookEndpoint(id: $id) { paused } }",
        json!({ "id": paused }),
    )
    .await;
    rx.wait_for("/paused", 1, 10).await;
    assert_eq!(settled(&app, &paused).await[0]["status"], "DELIVERED");
}

#[tokio::test]
async fn an_event_committed_before_a_sigkill_is_delivered_after_the_restart() {
    let (rx, base) = Receiver::start();
    // On PostgreSQL, the per-test database of an app that only seeds it (its own worker
    // off, or it would deliver in the dead server's stead).
    let file = crate::helpers::sqlite_file();
    let keeper = match on_postgres() {
        true => Some(
            spawn_with(ServeArgs {
                demo: true,
                webhook_worker: false,
                ..ServeArgs::default()
            })
            .await,
        ),
        false => None,
    };
    let url = keeper
        .as_ref()
        .map_or(file.url.clone(), |k| k.database_url.clone());
    let flags = ["--webhook-timeout", "3s", "--webhook-first-retry", "100ms"];
    let first = Server::start(&url, &[], &flags).await;
    let conn = sea_orm::Database::connect(&url).await.expect("connect");
    let token = |email: &'static str, scope| {
        let conn = conn.clone();
        async move {
            tokens::create(
                &conn,
                TokenRequest {
                    email: email.into(),
                    person_name: None,
                    scope,
                    label: "webhook test".into(),
                    expires_at: None,
                },
            )
            .await
            .expect("a token")
            .token
        }
    };
    let admin = token("alice@portfolio.example", TokenScope::Admin).await;
    let requester = token("laura@portfolio.example", TokenScope::Write).await;
    let registered = post(
        &first.base,
        Some(&admin),
        REGISTER,
        json!({ "url": format!("{base}/slow-once") }),
    )
    .await
    .expect("an answer");
    let endpoint = registered["data"]["registerWebhookEndpoint"]["endpoint"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("registered: {registered}"))
        .to_owned();
    let vpn = post(
        &first.base,
        None,
        "{ service(key: \"vpn\") { id } }",
        json!({}),
    )
    .await
    .expect("an answer");
    let created = post(
        &first.base,
        Some(&requester),
        "mutation($s: ID!) { createChange(input: { title: \"Kill me\", category: INFRASTRUCTURE, \
         type: NORMAL, risk: LOW, serviceIds: [$s] }) { id } }",
        json!({ "s": vpn["data"]["service"]["id"] }),
    )
    .await
    .expect("an answer");
    assert!(
        created["data"]["createChange"]["id"].is_string(),
        "{created}"
    );

    // The worker has sent it and waits for the answer when the process dies.
    rx.wait_for("/slow-once", 1, 10).await;
    first.signal("KILL");
    let _ = first.wait();

    let second = Server::start(&url, &[], &flags).await;
    let hits = rx.wait_for("/slow-once", 2, 30).await;
    assert_eq!(hits[0].id, hits[1].id, "the same message, sent again");
    let mut delivered = false;
    for _ in 0..100 {
        let answer = post(
            &second.base,
            Some(&admin),
            DELIVERIES,
            json!({ "id": endpoint }),
        )
        .await
        .expect("an answer");
        let d = &answer["data"]["webhookDeliveries"][0];
        if d["status"] == "DELIVERED" {
            assert_eq!(
                d["attempts"], 1,
                "the attempt the kill cut short left no record"
            );
            delivered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(delivered, "delivered after the restart");
    second.signal("TERM");
    let _ = second.wait();
}

#[tokio::test]
async fn two_instances_on_one_postgresql_deliver_each_event_exactly_once() {
    if !on_postgres() {
        // One SQLite database has one server process: nothing to share.
        return;
    }
    let (rx, base) = Receiver::start();
    let first = spawn_app().await;
    let second = spawn_beside(&first).await;
    let (endpoint, _) = register(&first, &format!("{base}/ok")).await;
    let requester = first.token("requester");
    for i in 0..20 {
        let app = if i % 2 == 0 { &first } else { &second };
        draft(app, &requester, "NORMAL", "LOW", json!({})).await;
    }
    let hits = rx.wait_for("/ok", 20, 20).await;
    // Time for a duplicate to show, had any worker claimed a delivery twice.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let hits = if rx.hits("/ok").len() > hits.len() {
        rx.hits("/ok")
    } else {
        hits
    };
    let mut ids: Vec<&str> = hits.iter().map(|h| h.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 20, "20 distinct events");
    assert_eq!(hits.len(), 20, "each exactly once");
    let all = settled(&first, &endpoint).await;
    assert!(
        all.iter()
            .all(|d| d["status"] == "DELIVERED" && d["attempts"] == 1)
    );
}

#[tokio::test]
async fn finished_deliveries_are_pruned_after_their_retention_and_pending_ones_are_kept() {
    let (rx, base) = Receiver::start();
    let app = spawn_with(ServeArgs {
        demo: true,
        anonymous_read: Some(true),
        webhook_retention: Duration::from_millis(1),
        ..ServeArgs::default()
    })
    .await;
    let (delivered, _) = register(&app, &format!("{base}/ok")).await;
    let (paused, _) = register(&app, &format!("{base}/later")).await;
    app.ok_as(
        &app.token("admin"),
        "mutation($id: ID!) { pauseWebhookEndpoint(id: $id) { paused } }",
        json!({ "id": paused }),
    )
    .await;
    let requester = app.token("requester");
    draft(&app, &requester, "NORMAL", "LOW", json!({})).await;
    rx.wait_for("/ok", 1, 10).await;
    // The next event's round prunes the first delivery, finished before it.
    draft(&app, &requester, "NORMAL", "LOW", json!({})).await;
    rx.wait_for("/ok", 2, 10).await;
    let mut left = usize::MAX;
    for _ in 0..100 {
        left = deliveries(&app, &delivered).await.len();
        if left < 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(left < 2, "a finished delivery was pruned ({left} left)");
    let waiting = deliveries(&app, &paused).await;
    assert_eq!(waiting.len(), 2, "pending deliveries are never pruned");
    assert!(waiting.iter().all(|d| d["status"] == "PENDING"));
}
