//! `spawn_app()`: a fresh database with the demo portfolio, the real server on
//! `127.0.0.1:0`, and a client. On PostgreSQL the database is created per test and dropped
//! when the test ends.

use std::sync::atomic::{AtomicU32, Ordering};

use std::collections::HashMap;

use entity::TokenScope;
use portfolio::config::ServeArgs;
use portfolio::domain::tokens::{self, TokenRequest};
use portfolio::startup::{Application, ShutdownHandle};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};

pub struct TestApp {
    pub address: String,
    /// The database the server runs on (shared by `spawn_beside`).
    pub database_url: String,
    /// Stops the server as SIGTERM would.
    pub shutdown: ShutdownHandle,
    pub client: reqwest::Client,
    /// The server's own pool, for minting tokens and checking rows behind the API.
    pub db: DatabaseConnection,
    /// The demo personas' tokens (`admin`, `requester`, `release`), when in demo mode.
    pub demo_tokens: HashMap<&'static str, String>,
    _database: Option<DropDatabase>,
}

struct DropDatabase {
    admin_url: String,
    name: String,
}

impl Drop for DropDatabase {
    fn drop(&mut self) {
        if self.admin_url.is_empty() {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", self.name));
            }
            return;
        }
        let (url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs outside async context: use a private runtime on its own thread.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let db = Database::connect(&url).await.ok()?;
                db.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await
                    .ok()
            })
        })
        .join();
    }
}

fn unique_name() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "portfolio_test_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// Where a test's SQLite database lives.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Sqlite {
    /// In memory: one connection, every transaction in turn.
    Memory,
    /// In a file with a pool of connections, so writers really contend.
    File,
}

/// The database URL for a new test, and what drops it afterwards.
async fn fresh_database(sqlite: Sqlite) -> (String, Option<DropDatabase>) {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(base) if base.starts_with("postgres") => {
            let name = unique_name();
            let admin = Database::connect(&base)
                .await
                .expect("connect to TEST_DATABASE_URL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .expect("create test database");
            let cut = base.rfind('/').expect("a database URL has a path");
            let (prefix, rest) = base.split_at(cut);
            let query = rest.find('?').map(|q| &rest[q..]).unwrap_or("");
            (
                format!("{prefix}/{name}{query}"),
                Some(DropDatabase {
                    admin_url: base.clone(),
                    name,
                }),
            )
        }
        _ if sqlite == Sqlite::File => {
            let path = std::env::temp_dir().join(format!("{}.db", unique_name()));
            (
                format!("sqlite://{}?mode=rwc", path.display()),
                Some(DropDatabase {
                    admin_url: String::new(),
                    name: path.display().to_string(),
                }),
            )
        }
        _ => ("sqlite::memory:".to_owned(), None),
    }
}

/// Spawns the server over a fresh database holding the demo portfolio.
pub async fn spawn_app() -> TestApp {
    spawn_with(ServeArgs {
        demo: true,
        anonymous_read: Some(true),
        ..ServeArgs::default()
    })
    .await
}

/// Spawns the server with the demo over a fresh database that, on SQLite, is a file with
/// a pool of connections (for tests of concurrent writers).
pub async fn spawn_on_disk() -> TestApp {
    spawn_in(
        Sqlite::File,
        ServeArgs {
            demo: true,
            anonymous_read: Some(true),
            ..ServeArgs::default()
        },
    )
    .await
}

/// Spawns the server with the given settings over a fresh database.
pub async fn spawn_with(args: ServeArgs) -> TestApp {
    spawn_in(Sqlite::Memory, args).await
}

async fn spawn_in(sqlite: Sqlite, args: ServeArgs) -> TestApp {
    portfolio::telemetry::init_for_tests();
    let (url, dropper) = fresh_database(sqlite).await;
    let app = Application::build(&url, &args)
        .await
        .expect("the application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let shutdown = app.shutdown_handle();
    let db = app.database().clone();
    let demo_tokens = app
        .demo_tokens()
        .iter()
        .map(|t| (t.persona, t.token.clone()))
        .collect();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        database_url: url,
        shutdown,
        client: reqwest::Client::new(),
        db,
        demo_tokens,
        _database: dropper,
    }
}

/// A SQLite file database URL for a test, removed (with its WAL) when the guard drops.
pub struct SqliteFile {
    pub url: String,
    _drop: DropDatabase,
}

/// A fresh SQLite file database, created on first connection.
pub fn sqlite_file() -> SqliteFile {
    let path = std::env::temp_dir().join(format!("{}.db", unique_name()));
    SqliteFile {
        url: format!("sqlite://{}?mode=rwc", path.display()),
        _drop: DropDatabase {
            admin_url: String::new(),
            name: path.display().to_string(),
        },
    }
}

/// Whether the suite runs against PostgreSQL (`TEST_DATABASE_URL`).
pub fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres"))
}

/// A second server instance on `first`'s database, as behind a load balancer; the demo
/// tokens are `first`'s. The database stays `first`'s to drop.
pub async fn spawn_beside(first: &TestApp) -> TestApp {
    spawn_through(first, &first.database_url).await
}

/// Another server instance on `first`'s database reached through `url` (a proxy, say).
pub async fn spawn_through(first: &TestApp, url: &str) -> TestApp {
    let args = ServeArgs {
        anonymous_read: Some(true),
        ..ServeArgs::default()
    };
    let app = Application::build(url, &args)
        .await
        .expect("the second instance builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let shutdown = app.shutdown_handle();
    let db = app.database().clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        database_url: first.database_url.clone(),
        shutdown,
        client: reqwest::Client::new(),
        db,
        demo_tokens: first.demo_tokens.clone(),
        _database: None,
    }
}

impl TestApp {
    /// POSTs a GraphQL document and returns the whole JSON response.
    pub async fn post(&self, query: &str, variables: Value) -> Value {
        self.post_as(None, query, variables).await
    }

    /// POSTs a GraphQL document with a bearer token (or none) and returns the whole response.
    pub async fn post_as(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut req = self
            .client
            .post(format!("{}/graphql", self.address))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("request sent");
        assert_ne!(res.status().as_u16(), 500, "the server never answers 500");
        res.json().await.expect("a JSON body")
    }

    /// POSTs a GraphQL document as `token` with extra request `headers`; returns the HTTP
    /// status and the whole response.
    pub async fn post_with(
        &self,
        token: &str,
        headers: &[(&str, &str)],
        query: &str,
        variables: &Value,
    ) -> (u16, Value) {
        let mut req = self
            .client
            .post(format!("{}/graphql", self.address))
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let res = req.send().await.expect("request sent");
        let status = res.status().as_u16();
        assert_ne!(status, 500, "the server never answers 500");
        (status, res.json().await.expect("a JSON body"))
    }

    /// Runs an operation as `token` that must succeed; returns its `data`.
    pub async fn ok_as(&self, token: &str, query: &str, variables: Value) -> Value {
        let body = self.post_as(Some(token), query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// Runs an operation as `token` that must fail; returns its error code and message.
    pub async fn fails_as(&self, token: &str, query: &str, variables: Value) -> (String, String) {
        let body = self.post_as(Some(token), query, variables).await;
        let err = &body["errors"][0];
        assert!(!err.is_null(), "expected an error, got {body}");
        (
            err["extensions"]["code"]
                .as_str()
                .unwrap_or("<no code>")
                .to_owned(),
            err["message"].as_str().unwrap_or("").to_owned(),
        )
    }

    /// A demo persona's token: `admin` (Alice, change-management owner), `requester`
    /// (Laura, PMO) or `release` (Farid, release-management owner).
    pub fn token(&self, persona: &str) -> String {
        self.demo_tokens
            .get(persona)
            .cloned()
            .unwrap_or_else(|| panic!("no demo token for {persona}"))
    }

    /// A fresh token for the demo person `handle` (e.g. `bob`), with `scope`.
    pub async fn token_of(&self, handle: &str, scope: TokenScope) -> String {
        self.mint(&format!("{handle}@portfolio.example"), scope)
            .await
    }

    /// A fresh token for the person with `email` (created when absent).
    pub async fn mint(&self, email: &str, scope: TokenScope) -> String {
        tokens::create(
            &self.db,
            TokenRequest {
                email: email.into(),
                person_name: None,
                scope,
                label: "test".into(),
                expires_at: None,
            },
        )
        .await
        .expect("token created")
        .token
    }

    /// POSTs a query that must succeed and returns its `data`.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        let body = self.post(query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// The `extensions.code` of the first error of a response.
    pub async fn error_code(&self, query: &str, variables: Value) -> String {
        let body = self.post(query, variables).await;
        body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or("<no code>")
            .to_owned()
    }

    /// The HTTP status of `GET path`.
    pub async fn status_of(&self, path: &str) -> u16 {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("sent")
            .status()
            .as_u16()
    }

    /// SQL statements the server has executed so far, from `/metrics`.
    pub async fn statements(&self) -> u64 {
        self.metric("portfolio_sql_statements_total").await
    }

    /// A counter or gauge from `/metrics`.
    pub async fn metric(&self, name: &str) -> u64 {
        let text = self
            .client
            .get(format!("{}/metrics", self.address))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} is exported"))
    }
}

/// The values of `field` in a list of JSON objects.
pub fn pluck<'a>(items: &'a Value, field: &str) -> Vec<&'a str> {
    items
        .as_array()
        .map(|a| a.iter().filter_map(|v| v[field].as_str()).collect())
        .unwrap_or_default()
}
