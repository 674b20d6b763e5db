//! What the benchmark harnesses share: fresh databases, the `portfolio` binary, tokens, and
//! the server run as its own process.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The `portfolio` binary with `DATABASE_URL` set: this build's, or the one `PORTFOLIO_BIN`
/// names, so that an earlier build can be measured in the same sitting.
pub fn portfolio(url: &str) -> Command {
    let bin =
        std::env::var_os("PORTFOLIO_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_portfolio").into());
    let mut c = Command::new(bin);
    c.env("DATABASE_URL", url).env("RUST_LOG", "warn");
    c
}

/// Runs a command to completion; its standard output, trimmed.
pub fn run(mut c: Command) -> String {
    let out = c.output().expect("portfolio runs");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A new token for `email` with `scope`, minted by the CLI.
pub fn token(url: &str, email: &str, scope: &str) -> String {
    let mut c = portfolio(url);
    c.args([
        "token", "create", "--email", email, "--scope", scope, "--label", "bench",
    ]);
    run(c)
}

/// A fresh database URL, the engine's name, and what removes the database afterwards.
pub fn fresh(target: Option<&str>, tag: &str) -> (String, String, Box<dyn FnOnce()>) {
    let name = format!("portfolio_{tag}_{}", std::process::id());
    match target {
        Some(base) => {
            let cut = base.rfind('/').expect("a database URL has a path");
            let admin = base.to_owned();
            psql(&admin, &format!("CREATE DATABASE \"{name}\""));
            let url = format!("{}/{name}", &base[..cut]);
            let drop_name = name.clone();
            (
                url,
                "PostgreSQL".into(),
                Box::new(move || {
                    psql(
                        &admin,
                        &format!("DROP DATABASE IF EXISTS \"{drop_name}\" WITH (FORCE)"),
                    )
                }),
            )
        }
        None => {
            let path = std::env::temp_dir().join(format!("{name}.db"));
            let shown = path.display().to_string();
            (
                format!("sqlite://{shown}?mode=rwc"),
                "SQLite (file, WAL)".into(),
                Box::new(move || {
                    for suffix in ["", "-wal", "-shm"] {
                        let _ = std::fs::remove_file(format!("{shown}{suffix}"));
                    }
                }),
            )
        }
    }
}

fn psql(url: &str, sql: &str) {
    let status = Command::new("psql")
        .args([url, "-qc", sql])
        .stdout(Stdio::null())
        .status()
        .expect("psql runs");
    assert!(status.success(), "psql {sql}");
}

/// `portfolio serve` running as its own process on a free port.
pub struct Server {
    child: Child,
    pub base: String,
    http: reqwest::Client,
}

impl Server {
    /// Starts the server on `url` and waits until it is ready.
    pub async fn start(url: &str) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let mut c = portfolio(url);
        c.args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null());
        let child = c.spawn().expect("server starts");
        let server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
        };
        for _ in 0..200 {
            if let Ok(r) = server
                .http
                .get(format!("{}/readyz", server.base))
                .send()
                .await
                && r.status().is_success()
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not become ready");
    }

    /// A counter or gauge from the server's `/metrics`.
    pub async fn metric(&self, name: &str) -> u64 {
        let text = self
            .http
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .unwrap_or_default();
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Resets the peak-RSS mark of the server process.
    pub fn reset_peak(&self) {
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.child.id()), "5");
    }

    /// Peak resident set size since the last reset, in MB.
    pub fn peak_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The value at fraction `q` of sorted `values` (nearest rank); 0 when empty.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}
