//! The benchmark harness: the real server, as its own process, over the synthetic portfolio
//! (scale 1), driven over HTTP by a concurrent load generator for a fixed time per row.
//!
//! ```sh
//! cargo bench --bench workloads                                            # SQLite file
//! cargo bench --bench workloads -- --database-url postgres://postgres@127.0.0.1:5432/test
//! cargo bench --bench workloads -- --workloads W1 --concurrency 1,8 --seconds 5
//! ```
//!
//! It creates a fresh database (a temporary SQLite file, or a new database on the given
//! PostgreSQL server), loads `portfolio seed synthetic --scale 1` (timed), mints tokens with
//! `portfolio token create`, starts `portfolio serve`, and prints one Markdown table:
//! requests/s, p50/p99 latency, SQL statements per request (from `/metrics`, the token
//! look-up included) and the server's peak RSS during the row (`VmHWM`, reset per row).
//!
//! - **W1 portal page**: first 50 offerings → services → each service's 5 most recent
//!   changes → each change's releases (id, name, status).
//! - **W2 change list**: 100 changes filtered by status and risk, ordered by planned start,
//!   with requester, project and services.
//! - **W3 deep page-through**: all changes in pages of 100 by cursor (a request is a page;
//!   the end-to-end walk is timed on its own).
//! - **W4 mutation mix**: the change lifecycle (create → submit → approve → schedule →
//!   start → complete → close); a request is one mutation.
//! - **W5 change metrics** (not run by default): `changeMetrics` over all 20,000 changes,
//!   every figure (counts, rates, mean / median / 90th percentile lead time).
//! - **W6 change trend** (not run by default): the same with a monthly trend.
//! - **W7 blast radius**: everything a change to the platform service `svc-00001` (one of
//!   the 20 most depended on) reaches through its dependents, 5 edges deep, with paths,
//!   criticalities, offerings and consumer groups.
//! - **W8 transitive schedule**: `changeSchedule(transitive: true)` over one week (about
//!   200 changes) with its conflicts, same-service and through dependencies (3 edges).
//! - **W9 as of** (not run by default): `asOf` of a change at a past instant, with its
//!   approvals and its release (with that release's changes), each as it stood then; the
//!   harness makes the change through the API first (the synthetic set's own audit images
//!   are partial), then moves it on.
//! - **W10 portfolio diff** (not run by default): `portfolioDiff` over 30 days of the
//!   audit trail (June 2025: about 2,800 events on about 980 objects), its first page of
//!   100 objects with their field-level differences.
//! - **W11 flow metrics** (not run by default): `flowMetrics` over all data, every figure
//!   with the per-decider latencies, the candidates and the weekly trend.
//! - **H4 W4 with a webhook** (not run by default; run it after W4 for the comparison): the
//!   same mutation mix while an endpoint registered for every change event receives them on
//!   a local receiver (in this process, answering 204); after the table, the outbox's
//!   throughput: events delivered during the row per second, and how long the backlog took
//!   to drain once the load stopped.
//! - **E1 CSV export** (not run by default): `GET /export/changes.csv` of all 20,000 changes,
//!   read as it streams (a request is the whole file); the row's peak RSS shows whether the
//!   server's memory stays flat.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use support::{Server, fresh, percentile, portfolio, run, token};

const W1: &str = r#"query W1 {
  serviceOfferings(first: 50) { nodes { id key name
    services(first: 10) { nodes { id key name
      changes(first: 5, orderBy: { field: CREATED_AT, direction: DESC }) { nodes { id number title status
        releases { id name status } } } } } } }
}"#;

const W2: &str = r#"query W2 {
  changes(first: 100,
          filter: { status: [SCHEDULED, IMPLEMENTING, REVIEW, CLOSED], risk: [HIGH, VERY_HIGH] },
          orderBy: { field: PLANNED_START, direction: ASC }) {
    nodes { id number title status risk plannedStart plannedEnd
      requestedBy { id name email }
      project { id code name }
      services(first: 5) { nodes { id key name } } }
  }
}"#;

const W5: &str = r#"query W5 {
  changeMetrics { total byType { status count } byStatus { status count } byOutcome { status count }
    successRate standardChangeRatio emergencyChangeRatio
    meanLeadTimeHours leadTimeP50Hours leadTimeP90Hours }
}"#;

const W6: &str = r#"query W6 {
  changeMetrics { total byType { status count } byStatus { status count } byOutcome { status count }
    successRate standardChangeRatio emergencyChangeRatio
    meanLeadTimeHours leadTimeP50Hours leadTimeP90Hours
    trend(interval: MONTH) { start metrics { total successRate leadTimeP50Hours } } }
}"#;

const W7: &str = r#"query W7 {
  service(key: "svc-00001") { blastRadius(depth: 5) {
    services { key distance path service { name criticality } }
    offerings { key name } consumerGroups highestCriticality } }
}"#;

const W8: &str = r#"query W8 {
  changeSchedule(from: "2025-07-07T00:00:00Z", to: "2025-07-14T00:00:00Z", transitive: true) {
    changes { number plannedStart plannedEnd }
    conflicts { first { number } second { number } service { key } reason path overlapStart } }
}"#;

const W9: &str = r#"query W9($at: DateTime!, $n: String!) {
  asOf(at: $at) { change(number: $n) { number title status version
    approvals { decision decidedAt approver { name } }
    releases { name status changes { number status } } } }
}"#;

const W10: &str = r#"query W10 {
  portfolioDiff(from: "2025-06-01T00:00:00Z", to: "2025-07-01T00:00:00Z", first: 100) {
    hasNextPage endCursor
    nodes { entityType entityId events actions created deleted fields { field before after } } }
}"#;

const W11: &str = r#"query W11 {
  flowMetrics { deployments deploymentsPerWeek completedChanges failedChanges changeFailureRate
    leadTime { count p50Hours p90Hours } approvalLatency { count p50Hours p90Hours }
    approvalLatencyByDecider { person { name } latency { count p50Hours p90Hours } }
    riskCalibration { risk completed successful successRate }
    standardChangeCandidates { service { key } category successfulRun lastSuccessAt }
    weekly { weekStart deployments completedChanges failedChanges changeFailureRate } }
}"#;

const W3: &str = r#"query W3($after: String) {
  changes(first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { id number status } }
}"#;

struct Options {
    database_url: Option<String>,
    workloads: Vec<String>,
    concurrency: Vec<usize>,
    seconds: u64,
}

fn options() -> Options {
    let mut o = Options {
        database_url: None,
        workloads: ["W1", "W2", "W3", "W4"].map(String::from).to_vec(),
        concurrency: vec![1, 8, 32],
        seconds: 10,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--database-url" => o.database_url = Some(value),
            "--workloads" => o.workloads = value.split(',').map(str::to_owned).collect(),
            "--concurrency" => {
                o.concurrency = value.split(',').filter_map(|c| c.parse().ok()).collect();
            }
            "--seconds" => o.seconds = value.parse().unwrap_or(10),
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    o
}

/// What one worker needs to send requests.
struct Ctx {
    http: reqwest::Client,
    url: String,
    export: String,
    reader: String,
    requester: String,
    manager: String,
    /// W4's service: one of LOW criticality, whose NORMAL LOW-risk changes one manager's
    /// approval authorizes (the approval policy asks more for critical services).
    low_service: String,
    /// W9's variables: the instant and the change.
    w9: Value,
}

impl Ctx {
    /// Sends a document; returns the raw body, or the reason it failed.
    async fn send(&self, token: &str, query: &str, variables: Value) -> Result<Vec<u8>, String> {
        let res = self
            .http
            .post(&self.url)
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let body = res.bytes().await.map_err(|e| e.to_string())?.to_vec();
        // Errors come after `data`; a scan is cheaper than parsing 300 KB on the same cores.
        if body.windows(9).any(|w| w == b"\"errors\":") {
            return Err(String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned());
        }
        Ok(body)
    }

    /// Downloads the change export chunk by chunk, keeping none; returns its size in bytes.
    async fn export(&self) -> Result<usize, String> {
        let mut res = self
            .http
            .get(&self.export)
            .bearer_auth(&self.reader)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !res.status().is_success() {
            return Err(format!("export answered {}", res.status()));
        }
        let mut size = 0;
        while let Some(chunk) = res.chunk().await.map_err(|e| e.to_string())? {
            size += chunk.len();
        }
        Ok(size)
    }

    async fn json(&self, token: &str, query: &str, variables: Value) -> Result<Value, String> {
        let body = self.send(token, query, variables).await?;
        serde_json::from_slice::<Value>(&body)
            .map(|v| v["data"].clone())
            .map_err(|e| e.to_string())
    }
}

/// One worker's state across its requests (W3's cursor, W4's change and step).
#[derive(Default)]
struct Cursor {
    after: Option<String>,
    change: Option<Value>,
    step: usize,
    serial: usize,
}

const LIFECYCLE: [&str; 6] = [
    "mutation($id: ID!) { submitChange(id: $id) { version } }",
    "mutation($id: ID!) { approveChange(id: $id) { version } }",
    "mutation($id: ID!) { scheduleChange(id: $id, plannedStart: \"2027-03-01T20:00:00Z\", plannedEnd: \"2027-03-01T22:00:00Z\") { version } }",
    "mutation($id: ID!) { startChange(id: $id) { version } }",
    "mutation($id: ID!) { completeChange(id: $id, outcome: SUCCESSFUL) { version } }",
    "mutation($id: ID!) { closeChange(id: $id, review: { summary: \"Done\", objectivesMet: true, followUp: \"None\" }) { status } }",
];

/// Makes W9's subject through the API: a change on `service`, submitted, approved and
/// packaged into a release; returns the instant after that and the change's number, and a
/// second manager approves it after that instant, so the instant is in the change's past.
async fn as_of_subject(ctx: &Ctx, service: &str, releaser: &str, second: &str) -> Value {
    let create = "mutation($s: [ID!]!) { createChange(input: { title: \"As of\", category: APPLICATION, type: NORMAL, risk: LOW, serviceIds: $s }) { id number } }";
    let c = ctx
        .json(&ctx.requester, create, json!({ "s": [service] }))
        .await
        .expect("a change")["createChange"]
        .clone();
    let id = json!({ "id": c["id"] });
    ctx.json(&ctx.requester, LIFECYCLE[0], id.clone())
        .await
        .expect("submitted");
    ctx.json(&ctx.manager, LIFECYCLE[1], id.clone())
        .await
        .expect("approved");
    let release = "mutation($c: ID!) { createRelease(input: { name: \"As of\", version: \"1\", type: PATCH, changeIds: [$c] }) { id } }";
    ctx.json(releaser, release, json!({ "c": c["id"] }))
        .await
        .expect("a release");
    tokio::time::sleep(Duration::from_millis(20)).await;
    let at = chrono::Utc::now().to_rfc3339();
    tokio::time::sleep(Duration::from_millis(20)).await;
    ctx.json(second, LIFECYCLE[1], id)
        .await
        .expect("approved again");
    json!({ "at": at, "n": c["number"] })
}

/// Sends the next request of `workload`.
async fn request(ctx: &Ctx, workload: &str, cur: &mut Cursor) -> Result<(), String> {
    match workload {
        "W1" => ctx.send(&ctx.reader, W1, json!({})).await.map(drop),
        "W2" => ctx.send(&ctx.reader, W2, json!({})).await.map(drop),
        "W5" => ctx.send(&ctx.reader, W5, json!({})).await.map(drop),
        "W6" => ctx.send(&ctx.reader, W6, json!({})).await.map(drop),
        "W7" => ctx.send(&ctx.reader, W7, json!({})).await.map(drop),
        "W8" => ctx.send(&ctx.reader, W8, json!({})).await.map(drop),
        "W9" => ctx.send(&ctx.reader, W9, ctx.w9.clone()).await.map(drop),
        "W10" => ctx.send(&ctx.reader, W10, json!({})).await.map(drop),
        "W11" => ctx.send(&ctx.reader, W11, json!({})).await.map(drop),
        "E1" => ctx.export().await.map(drop),
        "W3" => {
            let data = ctx
                .json(&ctx.reader, W3, json!({ "after": cur.after }))
                .await?;
            let page = &data["changes"]["pageInfo"];
            cur.after = if page["hasNextPage"] == true {
                page["endCursor"].as_str().map(str::to_owned)
            } else {
                None
            };
            Ok(())
        }
        _ => {
            match cur.change.clone() {
                None => {
                    cur.serial += 1;
                    let q = "mutation($s: [ID!]!, $t: String!) { createChange(input: { title: $t, category: APPLICATION, type: NORMAL, risk: LOW, serviceIds: $s }) { id } }";
                    let vars = json!({ "s": [ctx.low_service], "t": format!("Benchmark change {}", cur.serial) });
                    let data = ctx.json(&ctx.requester, q, vars).await?;
                    cur.change = Some(data["createChange"]["id"].clone());
                    cur.step = 0;
                }
                Some(id) => {
                    let token = if cur.step == 0 {
                        &ctx.requester
                    } else {
                        &ctx.manager
                    };
                    let result = ctx
                        .json(token, LIFECYCLE[cur.step], json!({ "id": id }))
                        .await;
                    cur.step += 1;
                    if cur.step == LIFECYCLE.len() || result.is_err() {
                        cur.change = None;
                    }
                    result?;
                }
            }
            Ok(())
        }
    }
}

struct Row {
    rps: f64,
    p50: f64,
    p99: f64,
    statements: f64,
    errors: usize,
    peak_mb: f64,
}

async fn measure(server: &Server, ctx: &Arc<Ctx>, workload: &str, c: usize, secs: u64) -> Row {
    server.reset_peak();
    let before = server.metric("portfolio_sql_statements_total").await;
    let started = Instant::now();
    let run_for = Duration::from_secs(secs);
    let workers: Vec<_> = (0..c)
        .map(|w| {
            let ctx = ctx.clone();
            let workload = workload.to_owned();
            tokio::spawn(async move {
                let mut cur = Cursor {
                    serial: w * 1_000_000,
                    ..Cursor::default()
                };
                let (mut lat, mut errors) = (Vec::new(), 0usize);
                while started.elapsed() < run_for {
                    let t = Instant::now();
                    match request(&ctx, &workload, &mut cur).await {
                        Ok(()) => lat.push(t.elapsed()),
                        Err(e) => {
                            errors += 1;
                            if errors == 1 {
                                eprintln!("{workload}: {e}");
                            }
                        }
                    }
                }
                (lat, errors)
            })
        })
        .collect();
    let (mut lat, mut errors) = (Vec::new(), 0);
    for w in workers {
        let (l, e) = w.await.expect("worker");
        lat.extend(l);
        errors += e;
    }
    let secs = started.elapsed().as_secs_f64();
    let statements = server.metric("portfolio_sql_statements_total").await - before;
    let mut ms: Vec<f64> = lat.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let pct = |p: f64| percentile(&ms, p);
    Row {
        rps: lat.len() as f64 / secs,
        p50: pct(0.50),
        p99: pct(0.99),
        statements: statements as f64 / (lat.len() + errors).max(1) as f64,
        errors,
        peak_mb: server.peak_mb(),
    }
}

/// Anonymous operations the server answered without error so far: during a W4 or H4 row,
/// the mutations, each of which commits one change event.
async fn mutations(server: &Server) -> u64 {
    server
        .metric("portfolio_graphql_requests_total{operation=\"(anonymous)\",outcome=\"ok\"}")
        .await
}

/// Walks every change once, in pages of 100; returns the pages and the time.
async fn walk(ctx: &Ctx) -> (usize, Duration) {
    let started = Instant::now();
    let mut cur = Cursor::default();
    let mut pages = 0;
    loop {
        request(ctx, "W3", &mut cur).await.expect("a page");
        pages += 1;
        if cur.after.is_none() {
            return (pages, started.elapsed());
        }
    }
}

/// A webhook receiver on 127.0.0.1:0 counting what it gets; returns the count and its URL.
fn receiver() -> (Arc<std::sync::atomic::AtomicU64>, String) {
    use actix_web::{App, HttpResponse, HttpServer, web};
    let count = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let seen = count.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = listener.local_addr().expect("an address").port();
    let server = HttpServer::new(move || {
        let seen = seen.clone();
        App::new().default_service(web::to(move || {
            seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            async { HttpResponse::NoContent().finish() }
        }))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .expect("listening")
    .run();
    tokio::spawn(server);
    (count, format!("http://127.0.0.1:{port}/hook"))
}

/// Registers `url` for every change event, as `admin`.
async fn register_webhook(ctx: &Ctx, admin: &str, url: &str) {
    let q = "mutation($u: String!) { registerWebhookEndpoint(url: $u, eventTypes: [CHANGE]) { endpoint { id } } }";
    ctx.json(admin, q, json!({ "u": url }))
        .await
        .expect("the endpoint is registered");
}

#[tokio::main]
async fn main() {
    let o = options();
    let (url, engine, cleanup) = fresh(o.database_url.as_deref(), "bench");
    let t = Instant::now();
    let mut seed = portfolio(&url);
    seed.args(["seed", "synthetic", "--scale", "1"]);
    let loaded = run(seed);
    let load_secs = t.elapsed().as_secs_f64();
    let reader = token(&url, "person400@synthetic.example", "read");
    let requester = token(&url, "person100@synthetic.example", "write");
    let manager = token(&url, "person2@synthetic.example", "write");
    let server = Server::start(&url).await;
    let http = reqwest::Client::new();
    let url_graphql = format!("{}/graphql", server.base);
    let probe = Ctx {
        http: http.clone(),
        url: url_graphql.clone(),
        export: format!("{}/export/changes.csv", server.base),
        reader: reader.clone(),
        requester: requester.clone(),
        manager: manager.clone(),
        low_service: String::new(),
        w9: Value::Null,
    };
    let service = probe
        .json(
            &reader,
            r#"{ service(key: "svc-00001") { id } }"#,
            json!({}),
        )
        .await
        .expect("service")["service"]["id"]
        .clone()
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let low_service = probe
        .json(
            &reader,
            r#"{ services(first: 1, filter: { criticality: [LOW], lifecycle: [LIVE] }) { nodes { id } } }"#,
            json!({}),
        )
        .await
        .expect("a LOW service")["services"]["nodes"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let w1 = probe.send(&reader, W1, json!({})).await.expect("W1");
    let w9 = if o.workloads.iter().any(|w| w == "W9") {
        let releaser = token(&url, "person22@synthetic.example", "write");
        let second = token(&url, "person3@synthetic.example", "write");
        as_of_subject(&probe, &service, &releaser, &second).await
    } else {
        Value::Null
    };
    let ctx = Arc::new(Ctx {
        low_service,
        w9,
        ..probe
    });

    println!(
        "\n## {engine}: synthetic scale 1 — {loaded} (the seed command took {load_secs:.1} s)"
    );
    println!("W1 answer: {} KB", w1.len() / 1024);
    if o.workloads.iter().any(|w| w == "W7" || w == "W8") {
        let w7 = ctx.json(&reader, W7, json!({})).await.expect("W7");
        let w8 = ctx.json(&reader, W8, json!({})).await.expect("W8");
        let count = |v: &Value| v.as_array().map_or(0, Vec::len);
        let radius = &w7["service"]["blastRadius"];
        let conflicts = &w8["changeSchedule"]["conflicts"];
        let through = conflicts
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["reason"] == "DEPENDENCY")
            .count();
        println!(
            "W7 answer: {} services reached, {} offerings; W8 answer: {} changes, {} conflicts ({through} through dependencies)",
            count(&radius["services"]),
            count(&radius["offerings"]),
            count(&w8["changeSchedule"]["changes"]),
            count(conflicts),
        );
    }
    if o.workloads.iter().any(|w| w == "W9") {
        let w9 = ctx.json(&reader, W9, ctx.w9.clone()).await.expect("W9");
        let c = &w9["asOf"]["change"];
        println!(
            "W9 answer: {} {} (version {}) with {} approval(s), in {} release(s); a second approval came after the instant",
            c["number"],
            c["status"],
            c["version"],
            c["approvals"].as_array().map_or(0, Vec::len),
            c["releases"].as_array().map_or(0, Vec::len),
        );
    }
    if o.workloads.iter().any(|w| w == "E1") {
        server.reset_peak();
        let before = server.peak_mb();
        let started = Instant::now();
        let size = ctx.export().await.expect("the export");
        println!(
            "E1 end to end: {:.1} MB of CSV in {:.2} s; server RSS {before:.1} MB before, {:.1} MB peak",
            size as f64 / 1e6,
            started.elapsed().as_secs_f64(),
            server.peak_mb()
        );
    }
    if o.workloads.iter().any(|w| w == "W3") {
        let (pages, took) = walk(&ctx).await;
        println!(
            "W3 end to end: {pages} pages of 100 in {:.2} s",
            took.as_secs_f64()
        );
    }
    println!(
        "\n| workload | concurrency | requests/s | p50 ms | p99 ms | SQL statements/request | server peak RSS MB | errors |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let mut outbox = Vec::new();
    let mut hook: Option<Arc<std::sync::atomic::AtomicU64>> = None;
    for workload in &o.workloads {
        if workload == "H4" && hook.is_none() {
            let admin = token(&url, "bench-admin@synthetic.example", "admin");
            let (count, hook_url) = receiver();
            register_webhook(&ctx, &admin, &hook_url).await;
            hook = Some(count);
        }
        for c in &o.concurrency {
            let received = |h: &Option<Arc<std::sync::atomic::AtomicU64>>| {
                h.as_ref()
                    .map_or(0, |n| n.load(std::sync::atomic::Ordering::Relaxed))
            };
            let (got_before, sent_before) = (received(&hook), mutations(&server).await);
            let r = measure(&server, &ctx, workload, *c, o.seconds).await;
            println!(
                "| {workload} | {c} | {:.1} | {:.1} | {:.1} | {:.1} | {:.0} | {} |",
                r.rps, r.p50, r.p99, r.statements, r.peak_mb, r.errors
            );
            if workload == "H4" {
                let during = received(&hook) - got_before;
                let events = mutations(&server).await - sent_before;
                let stopped = Instant::now();
                while received(&hook) - got_before < events && stopped.elapsed().as_secs() < 120 {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                outbox.push(format!(
                    "H4 at {c} clients: {events} change events committed, {during} delivered during the {}-s row ({:.1}/s); all {} delivered {:.0} ms after the load stopped",
                    o.seconds,
                    during as f64 / o.seconds as f64,
                    received(&hook) - got_before,
                    stopped.elapsed().as_secs_f64() * 1000.0
                ));
            }
        }
    }
    for line in outbox {
        println!("\n{line}");
    }
    drop(server);
    cleanup();
}
