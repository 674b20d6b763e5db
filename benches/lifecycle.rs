//! Throughput of the change lifecycle over real HTTP: create → submit → approve → schedule
//! → start → complete → close, seven mutations, each one transaction.
//!
//! ```sh
//! cargo bench --bench lifecycle                                   # SQLite file
//! cargo bench --bench lifecycle -- postgres://postgres@127.0.0.1/test   # PostgreSQL
//! ```
//!
//! Starts the real server (release build) on a fresh database with the demo portfolio, then
//! for each concurrency runs lifecycles for a fixed duration and prints a table.

use std::time::{Duration, Instant};

use entity::TokenScope;
use portfolio::config::ServeArgs;
use portfolio::domain::tokens::{self, TokenRequest};
use portfolio::startup::Application;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

const RUN_FOR: Duration = Duration::from_secs(10);
const CONCURRENCY: [usize; 3] = [1, 4, 16];

struct Client {
    http: reqwest::Client,
    url: String,
    requester: String,
    manager: String,
    vpn: String,
}

impl Client {
    async fn call(&self, token: &str, query: &str, variables: Value) -> Result<Value, String> {
        let body: Value = self
            .http
            .post(&self.url)
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        match body.get("errors") {
            Some(e) => Err(e.to_string()),
            None => Ok(body["data"].clone()),
        }
    }

    /// One whole lifecycle; returns the latency of each mutation.
    async fn lifecycle(&self, n: usize) -> Result<Vec<Duration>, String> {
        let mut lat = Vec::with_capacity(7);
        let t = Instant::now();
        let created = self
            .call(
                &self.requester,
                "mutation($s: [ID!]!, $t: String!) { createChange(input: { title: $t, category: INFRASTRUCTURE, type: NORMAL, risk: LOW, serviceIds: $s }) { id } }",
                json!({ "s": [self.vpn], "t": format!("Benchmark change {n}") }),
            )
            .await?;
        lat.push(t.elapsed());
        let id = created["createChange"]["id"].clone();
        let steps: [(&str, &str); 6] = [
            (
                &self.requester,
                "mutation($id: ID!) { submitChange(id: $id) { version } }",
            ),
            (
                &self.manager,
                "mutation($id: ID!) { approveChange(id: $id) { version } }",
            ),
            (
                &self.manager,
                "mutation($id: ID!) { scheduleChange(id: $id, plannedStart: \"2027-01-04T20:00:00Z\", plannedEnd: \"2027-01-04T22:00:00Z\") { version } }",
            ),
            (
                &self.manager,
                "mutation($id: ID!) { startChange(id: $id) { version } }",
            ),
            (
                &self.manager,
                "mutation($id: ID!) { completeChange(id: $id, outcome: SUCCESSFUL) { version } }",
            ),
            (
                &self.manager,
                "mutation($id: ID!) { closeChange(id: $id) { status } }",
            ),
        ];
        for (token, query) in steps {
            let t = Instant::now();
            self.call(token, query, json!({ "id": id })).await?;
            lat.push(t.elapsed());
        }
        Ok(lat)
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn token(db: &sea_orm::DatabaseConnection, email: &str) -> String {
    let request = TokenRequest {
        email: email.into(),
        person_name: None,
        scope: TokenScope::Write,
        label: "bench".into(),
        expires_at: None,
    };
    tokens::create(db, request).await.expect("token").token
}

/// A fresh database: a SQLite file, or a new database on the given PostgreSQL server.
async fn fresh(target: Option<&str>) -> (String, String) {
    let name = format!("portfolio_bench_{}", std::process::id());
    match target {
        Some(base) => {
            let admin = Database::connect(base).await.expect("connect");
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .expect("create database");
            let cut = base.rfind('/').expect("a database URL has a path");
            (format!("{}/{name}", &base[..cut]), "PostgreSQL".into())
        }
        None => {
            let path = std::env::temp_dir().join(format!("{name}.db"));
            (
                format!("sqlite://{}?mode=rwc", path.display()),
                "SQLite (file, WAL)".into(),
            )
        }
    }
}

async fn drop_database(target: Option<&str>, url: &str) {
    match target {
        Some(base) => {
            let name = url.rsplit('/').next().unwrap_or_default();
            if let Ok(admin) = Database::connect(base).await {
                let _ = admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await;
            }
        }
        None => {
            let path = url
                .trim_start_matches("sqlite://")
                .trim_end_matches("?mode=rwc");
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{path}{suffix}"));
            }
        }
    }
}

#[tokio::main]
async fn main() {
    let target = std::env::args().skip(1).find(|a| a.starts_with("postgres"));
    let (url, engine) = fresh(target.as_deref()).await;
    let args = ServeArgs {
        demo: true,
        anonymous_read: Some(true),
        ..ServeArgs::default()
    };
    let app = Application::build(&url, &args)
        .await
        .expect("server starts");
    let db = app.database().clone();
    let base = format!("http://127.0.0.1:{}/graphql", app.port());
    let server = tokio::spawn(app.run_until_stopped());
    let http = reqwest::Client::new();
    let vpn = http
        .post(&base)
        .json(&json!({ "query": "{ service(key: \"vpn\") { id } }" }))
        .send()
        .await
        .expect("request")
        .json::<Value>()
        .await
        .expect("json")["data"]["service"]["id"]
        .as_str()
        .expect("vpn")
        .to_owned();
    let client = std::sync::Arc::new(Client {
        http,
        url: base,
        requester: token(&db, "laura@portfolio.example").await,
        manager: token(&db, "bob@portfolio.example").await,
        vpn,
    });

    println!(
        "\nChange lifecycle throughput — {engine}, {} s per row, 7 mutations per lifecycle",
        RUN_FOR.as_secs()
    );
    println!("| concurrency | lifecycles/s | mutations/s | p50 ms | p99 ms | errors |");
    println!("|---:|---:|---:|---:|---:|---:|");
    let mut n = 0usize;
    for c in CONCURRENCY {
        let started = Instant::now();
        let workers: Vec<_> = (0..c)
            .map(|w| {
                let client = client.clone();
                let base = n + w * 1_000_000;
                tokio::spawn(async move {
                    let (mut done, mut errors, mut lat) = (0usize, 0usize, Vec::new());
                    while started.elapsed() < RUN_FOR {
                        match client.lifecycle(base + done + errors).await {
                            Ok(l) => {
                                done += 1;
                                lat.extend(l);
                            }
                            Err(e) => {
                                errors += 1;
                                if errors == 1 {
                                    eprintln!("error: {e}");
                                }
                            }
                        }
                    }
                    (done, errors, lat)
                })
            })
            .collect();
        let (mut done, mut errors, mut lat) = (0, 0, Vec::new());
        for w in workers {
            let (d, e, l) = w.await.expect("worker");
            done += d;
            errors += e;
            lat.extend(l);
        }
        n += 10_000_000;
        let secs = started.elapsed().as_secs_f64();
        lat.sort();
        println!(
            "| {c} | {:.1} | {:.0} | {:.1} | {:.1} | {errors} |",
            done as f64 / secs,
            lat.len() as f64 / secs,
            percentile(&lat, 0.50),
            percentile(&lat, 0.99),
        );
    }
    server.abort();
    drop(db);
    drop_database(target.as_deref(), &url).await;
}
