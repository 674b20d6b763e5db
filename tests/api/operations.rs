//! What an operator relies on: metrics, logs, graceful shutdown, durability across a crash,
//! and behaviour while the database is away. Several tests run the real binary.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use entity::change;
use portfolio::db;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::{on_postgres, spawn_app, spawn_through, sqlite_file};

#[tokio::test]
async fn metrics_count_operations_by_name_and_outcome_with_latency_histograms() {
    let app = spawn_app().await;
    for _ in 0..2 {
        app.data(
            r#"query Catalogue { service(key: "vpn") { key } }"#,
            json!({}),
        )
        .await;
    }
    let broken = app
        .post(
            r#"query Broken { node(id: "not base64!") { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(broken["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    let res = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .expect("metrics");
    let content_type = res.headers()["content-type"]
        .to_str()
        .unwrap_or("")
        .to_owned();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let text = res.text().await.unwrap_or_default();
    for line in [
        r#"portfolio_graphql_requests_total{operation="Catalogue",outcome="ok"} 2"#,
        r#"portfolio_graphql_requests_total{operation="Broken",outcome="BAD_USER_INPUT"} 1"#,
        r#"portfolio_graphql_request_duration_seconds_count{operation="Catalogue",outcome="ok"} 2"#,
    ] {
        assert!(text.contains(line), "{line} in:\n{text}");
    }
    assert!(
        text.contains(r#"portfolio_graphql_request_duration_seconds_bucket{le="#),
        "{text}"
    );
    for gauge in [
        "portfolio_db_pool_connections_in_use ",
        "portfolio_db_pool_connections_idle ",
        "portfolio_subscriptions ",
        "portfolio_sql_statements_total ",
    ] {
        assert!(text.contains(gauge), "{gauge} in:\n{text}");
    }
    assert!(
        text.trim_end().ends_with("# EOF"),
        "OpenMetrics ends with # EOF"
    );
}

/// `portfolio [global] serve [flags]` on `url` as its own process; stderr captured.
pub(crate) struct Server {
    child: Child,
    pub(crate) base: String,
}

impl Server {
    pub(crate) async fn start(url: &str, global: &[&str], flags: &[&str]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let child = Command::new(env!("CARGO_BIN_EXE_portfolio"))
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "info")
            .args(global)
            .args(["serve", "--demo", "--anonymous-read", "true"])
            .args(flags)
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server starts");
        let server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        for _ in 0..300 {
            if let Ok(r) = client.get(format!("{}/readyz", server.base)).send().await
                && r.status().is_success()
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not become ready");
    }

    pub(crate) fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// Waits for the process to end; its exit success and its standard error.
    pub(crate) fn wait(mut self) -> (bool, String) {
        let status = self.child.wait().expect("the server exits");
        let mut err = String::new();
        if let Some(mut stderr) = self.child.stderr.take() {
            let _ = stderr.read_to_string(&mut err);
        }
        (status.success(), err)
    }
}

pub(crate) async fn post(
    base: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> reqwest::Result<Value> {
    let mut req = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await?.json().await
}

#[tokio::test]
async fn slow_requests_are_logged_as_json_lines_with_their_operation_and_request_id() {
    let db = sqlite_file();
    let server = Server::start(
        &db.url,
        &["--log-format", "json"],
        &["--slow-request", "0s"],
    )
    .await;
    let answer = post(
        &server.base,
        None,
        "query Slowpoke { __typename }",
        json!({}),
    )
    .await
    .expect("an answer");
    assert_eq!(answer["data"]["__typename"], "Query");
    server.signal("TERM");
    let (_, log) = server.wait();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    let slow = lines
        .iter()
        .find(|l| l["fields"]["message"] == "slow GraphQL request")
        .unwrap_or_else(|| panic!("a slow-request line in {log}"));
    assert_eq!(slow["fields"]["operation"], "Slowpoke");
    assert!(slow["fields"]["duration_ms"].is_u64(), "{slow}");
    assert!(
        slow["span"]["request_id"].is_string(),
        "the request id: {slow}"
    );
}

#[tokio::test]
async fn sigterm_lets_in_flight_requests_finish_then_stops() {
    let db = sqlite_file();
    // One operation at a time: the burst below queues, so SIGTERM finds requests in flight.
    let server = Server::start(&db.url, &[], &["--max-concurrent-operations", "1"]).await;
    let heavy = "{ changes(first: 100) { nodes { number services(first: 10) { nodes { key \
        offerings(first: 10) { nodes { key } } } } releases { name } history(first: 10) { nodes { action } } } } }";
    let base = server.base.clone();
    let burst: Vec<_> = (0..12)
        .map(|_| {
            let base = base.clone();
            tokio::spawn(async move { post(&base, None, heavy, json!({})).await })
        })
        .collect();
    // SIGTERM once the server has received all twelve and still holds some.
    let client = reqwest::Client::new();
    let mut seen = (0, 0);
    for _ in 0..400 {
        let text = client
            .get(format!("{base}/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .unwrap_or_default();
        let value = |prefix: &str| -> u64 {
            text.lines()
                .find_map(|l| l.strip_prefix(prefix))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0)
        };
        seen = (
            value("portfolio_graphql_requests_in_flight "),
            value(r#"portfolio_graphql_requests_total{operation="(anonymous)",outcome="ok"} "#),
        );
        if seen.0 >= 1 && seen.0 + seen.1 >= 12 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert!(
        seen.0 >= 1 && seen.0 + seen.1 >= 12,
        "all received, some in flight: {seen:?}"
    );
    server.signal("TERM");
    let mut answered = 0;
    for request in burst {
        let answer = request
            .await
            .expect("task")
            .expect("an answer, not a reset");
        assert!(answer["errors"].is_null(), "{answer}");
        assert_eq!(
            answer["data"]["changes"]["nodes"].as_array().map(Vec::len),
            Some(42)
        );
        answered += 1;
    }
    assert_eq!(answered, 12);
    let (clean, log) = server.wait();
    assert!(clean, "a clean exit: {log}");
    assert!(log.contains("draining in-flight requests"), "{log}");
}

#[tokio::test]
async fn a_kill_9_during_a_write_load_loses_no_committed_write() {
    // SQLite file (WAL) always; PostgreSQL too when the suite runs on it.
    let file = sqlite_file();
    let pg = if on_postgres() {
        Some(spawn_app().await)
    } else {
        None
    };
    let url = pg
        .as_ref()
        .map_or(file.url.clone(), |app| app.database_url.clone());
    let server = Server::start(&url, &[], &[]).await;
    let token = {
        let out = Command::new(env!("CARGO_BIN_EXE_portfolio"))
            .env("DATABASE_URL", &url)
            .args([
                "token",
                "create",
                "--email",
                "laura@portfolio.example",
                "--scope",
                "write",
            ])
            .output()
            .expect("token");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let service = post(
        &server.base,
        None,
        r#"{ service(key: "vpn") { id } }"#,
        json!({}),
    )
    .await
    .expect("service")["data"]["service"]["id"]
        .clone();
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (base, token, service, stop) =
                (server.base.clone(), token.clone(), service.clone(), stop.clone());
            tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let input = json!({ "title": format!("Crash {w}-{i}"), "category": "APPLICATION",
                        "type": "NORMAL", "risk": "LOW", "serviceIds": [service] });
                    match post(&base, Some(&token),
                        "mutation($input: CreateChangeInput!) { createChange(input: $input) { number } }",
                        json!({ "input": input })).await
                    {
                        Ok(v) => {
                            if let Some(n) = v["data"]["createChange"]["number"].as_str() {
                                acknowledged.push(n.to_owned());
                            }
                        }
                        Err(_) => break,
                    }
                }
                acknowledged
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.signal("KILL");
    stop.store(true, Ordering::Relaxed);
    let mut acknowledged = Vec::new();
    for w in writers {
        acknowledged.extend(w.await.expect("writer"));
    }
    let _ = server.wait();
    assert!(
        acknowledged.len() > 20,
        "a real load: {}",
        acknowledged.len()
    );
    let (conn, _) = db::connect(&url, None)
        .await
        .expect("reconnect after the crash");
    let found = change::Entity::find()
        .filter(change::Column::Number.is_in(acknowledged.clone()))
        .count(&conn)
        .await
        .expect("count");
    assert_eq!(
        found as usize,
        acknowledged.len(),
        "every acknowledged change survived"
    );
}

/// A TCP proxy to PostgreSQL that can be cut (open sockets closed, new ones closed at once)
/// and restored, as a network failure or a database restart looks to the server.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    cut: tokio::sync::watch::Sender<u64>,
}

impl Proxy {
    async fn to(target: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let up = Arc::new(AtomicBool::new(true));
        let (cut, cuts) = tokio::sync::watch::channel(0u64);
        let (target, flag) = (target.to_owned(), up.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !flag.load(Ordering::Relaxed) {
                    drop(client);
                    continue;
                }
                let target = target.clone();
                let mut cuts = cuts.clone();
                // Only cuts after this connection opened close it.
                cuts.borrow_and_update();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cuts.changed() => {}
                    }
                });
            }
        });
        Self { port, up, cut }
    }

    fn down(&self) {
        self.up.store(false, Ordering::Relaxed);
        self.cut.send_modify(|n| *n += 1);
    }

    fn restore(&self) {
        self.up.store(true, Ordering::Relaxed);
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL (cuts its connection): TEST_DATABASE_URL=postgres://… cargo test -- --include-ignored"]
async fn while_the_database_is_away_requests_fail_cleanly_and_recover_by_themselves() {
    assert!(
        on_postgres(),
        "this test cuts a PostgreSQL connection: set TEST_DATABASE_URL"
    );
    let first = spawn_app().await;
    let host_start = first.database_url.find('@').map_or(0, |i| i + 1);
    let host_end = first.database_url[host_start..]
        .find('/')
        .map_or(first.database_url.len(), |i| host_start + i);
    let proxy = Proxy::to(&first.database_url[host_start..host_end]).await;
    let url = format!(
        "{}127.0.0.1:{}{}",
        &first.database_url[..host_start],
        proxy.port,
        &first.database_url[host_end..]
    );
    let app = spawn_through(&first, &url).await;
    let token = app.token("requester");
    let query = r#"{ service(key: "vpn") { name } }"#;
    assert_eq!(
        app.data(query, json!({})).await["service"]["name"],
        "Remote access VPN"
    );

    proxy.down();
    for token in [None, Some(token.as_str())] {
        let res = app
            .client
            .post(format!("{}/graphql", app.address))
            .json(&json!({ "query": query }));
        let res = match token {
            Some(t) => res.bearer_auth(t),
            None => res,
        };
        let res = tokio::time::timeout(Duration::from_secs(20), res.send())
            .await
            .expect("an answer while the database is away")
            .expect("sent");
        assert_eq!(
            res.status().as_u16(),
            200,
            "a GraphQL error, not an HTTP one"
        );
        let body: Value = res.json().await.expect("json");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "INTERNAL",
            "{body}"
        );
        let message = body["errors"][0]["message"].as_str().unwrap_or("");
        assert!(
            !message.to_lowercase().contains("connect"),
            "nothing internal: {message}"
        );
    }
    assert_eq!(app.status_of("/readyz").await, 503);

    proxy.restore();
    let mut recovered = false;
    for _ in 0..100 {
        let body = app.post(query, json!({})).await;
        if body["data"]["service"]["name"] == "Remote access VPN" {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(recovered, "the server recovers by itself");
    assert_eq!(app.status_of("/readyz").await, 200);
    app.shutdown.stop().await;
}

#[tokio::test]
async fn an_operation_running_past_the_timeout_is_stopped_with_limit_exceeded() {
    let app = crate::helpers::spawn_with(portfolio::config::ServeArgs {
        demo: true,
        anonymous_read: Some(true),
        request_timeout: Duration::from_millis(1),
        ..portfolio::config::ServeArgs::default()
    })
    .await;
    let heavy = "{ changes(first: 100) { nodes { services(first: 10) { nodes { offerings(first: 10) { \
        nodes { key name } } } } releases { name } } } }";
    let body = app.post(heavy, json!({})).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "LIMIT_EXCEEDED",
        "{body}"
    );
    assert!(body["data"].is_null(), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("took longer than")),
        "{body}"
    );
}

#[tokio::test]
async fn readiness_waits_for_the_migrations_this_binary_expects() {
    use migration::{Migrator, MigratorTrait};
    let app = spawn_app().await;
    assert_eq!(app.status_of("/readyz").await, 200);
    Migrator::down(&app.db, Some(1))
        .await
        .expect("roll one back");
    assert_eq!(app.status_of("/readyz").await, 503);
    Migrator::up(&app.db, None).await.expect("migrate");
    assert_eq!(app.status_of("/readyz").await, 200);
    assert_eq!(app.status_of("/healthz").await, 200);
}

#[test]
fn the_config_command_shows_each_setting_its_source_and_no_password() {
    let out = Command::new(env!("CARGO_BIN_EXE_portfolio"))
        .env(
            "DATABASE_URL",
            "postgres://app:s3cret@db.internal/portfolio",
        )
        .env("PORTFOLIO_MAX_ALIASES", "7")
        .args(["config", "--max-batch", "5"])
        .output()
        .expect("the binary runs");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("s3cret"), "{text}");
    let line = |name: &str| {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} in {text}"))
            .to_owned()
    };
    assert!(line("database-url").contains("postgres://app:****@db.internal/portfolio"));
    assert!(line("database-url").ends_with("(env DATABASE_URL)"));
    assert!(
        line("max-aliases").contains(" 7 ")
            && line("max-aliases").ends_with("(env PORTFOLIO_MAX_ALIASES)")
    );
    assert!(line("max-batch").contains(" 5 ") && line("max-batch").ends_with("(flag)"));
    assert!(
        line("request-timeout").contains("30s") && line("request-timeout").ends_with("(default)")
    );
    // Unset settings show what the engine or host makes of them.
    assert!(
        line("anonymous-read").contains(" false ")
            && line("anonymous-read").ends_with("(off unless the embedded default or --demo)")
    );
    assert!(line("db-max-connections").contains(" 10 "));
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let operations = line("max-concurrent-operations");
    assert!(
        operations.contains(&format!(" {} ", 2 * cores))
            && operations.ends_with("(twice the CPU cores)"),
        "{operations}"
    );
    // Every serve flag is listed.
    for flag in [
        "bind",
        "max-depth",
        "max-complexity",
        "max-body-bytes",
        "introspection",
        "graphiql",
        "cors-origins",
        "apq-cache",
        "slow-request",
        "ws-ping-interval",
        "event-buffer",
        "rate-limit",
        "rate-burst",
        "log-format",
        "log-filter",
    ] {
        line(flag);
    }
}
