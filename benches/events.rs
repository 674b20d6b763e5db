//! Event latency: how long a committed mutation takes to reach 100 concurrent subscribers.
//!
//! ```sh
//! cargo bench --bench events                                            # SQLite file
//! cargo bench --bench events -- --database-url postgres://postgres@127.0.0.1:5432/test
//! cargo bench --bench events -- --subscribers 100 --mutations 300 --rate 50
//! ```
//!
//! It loads the demo portfolio into a fresh database, starts `portfolio serve` as its own
//! process (on PostgreSQL two of them: the subscribers on one, the writer on the other, so
//! events cross instances through `LISTEN/NOTIFY`), opens the subscribers over
//! `graphql-transport-ws`, then creates changes at a steady rate and records when each
//! subscriber receives each event. Latencies are measured on one monotonic clock, in this
//! process: from the moment the mutation's response arrived (the commit happened just
//! before), and from the moment it was sent.

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use support::{Server, fresh, percentile, portfolio, run, token};

struct Options {
    database_url: Option<String>,
    subscribers: usize,
    mutations: usize,
    rate: u64,
}

fn options() -> Options {
    let mut o = Options {
        database_url: None,
        subscribers: 100,
        mutations: 300,
        rate: 50,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.windows(2) {
        match pair[0].as_str() {
            "--database-url" => o.database_url = Some(pair[1].clone()),
            "--subscribers" => o.subscribers = pair[1].parse().unwrap_or(o.subscribers),
            "--mutations" => o.mutations = pair[1].parse().unwrap_or(o.mutations),
            "--rate" => o.rate = pair[1].parse().unwrap_or(o.rate),
            _ => {}
        }
    }
    o
}

const SUBSCRIPTION: &str =
    "subscription { changeEvents { action toStatus at change { number title status } } }";

/// Opens one subscriber; it reports (change number, received at) for every event.
async fn subscriber(server: &str, token: &str, out: mpsc::UnboundedSender<(String, Instant)>) {
    let mut request = format!("{}/graphql", server.replacen("http", "ws", 1))
        .into_client_request()
        .expect("a ws request");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let (mut socket, _) = connect_async(request).await.expect("websocket upgrade");
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } });
    socket
        .send(Message::Text(init.to_string().into()))
        .await
        .expect("init");
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": SUBSCRIPTION } });
    socket
        .send(Message::Text(subscribe.to_string().into()))
        .await
        .expect("subscribe");
    tokio::spawn(async move {
        while let Some(Ok(message)) = socket.next().await {
            let Message::Text(text) = message else {
                continue;
            };
            let received = Instant::now();
            let Ok(v) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            if v["type"] == "next" {
                let number = v["payload"]["data"]["changeEvents"]["change"]["number"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                if out.send((number, received)).is_err() {
                    return;
                }
            }
        }
    });
}

#[tokio::main]
async fn main() {
    let o = options();
    let (url, engine, cleanup) = fresh(o.database_url.as_deref(), "events");
    let mut seed = portfolio(&url);
    seed.args(["seed", "demo"]);
    run(seed);
    let requester = token(&url, "laura@portfolio.example", "write");
    let reader = token(&url, "alice@portfolio.example", "read");
    let listening = Server::start(&url).await;
    let postgres = o.database_url.is_some();
    let other = if postgres {
        Some(Server::start(&url).await)
    } else {
        None
    };
    let writing = other.as_ref().unwrap_or(&listening);
    let http = reqwest::Client::new();
    let service = {
        let r: Value = http
            .post(format!("{}/graphql", writing.base))
            .bearer_auth(&requester)
            .json(&json!({ "query": r#"{ service(key: "vpn") { id } }"# }))
            .send()
            .await
            .expect("service")
            .json()
            .await
            .expect("json");
        r["data"]["service"]["id"].clone()
    };

    let (tx, mut rx) = mpsc::unbounded_channel();
    for _ in 0..o.subscribers {
        subscriber(&listening.base, &reader, tx.clone()).await;
    }
    drop(tx);
    for _ in 0..500 {
        if listening.metric("portfolio_subscriptions").await >= o.subscribers as u64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        listening.metric("portfolio_subscriptions").await,
        o.subscribers as u64,
        "every subscriber registered"
    );
    listening.reset_peak();

    let mut sent: HashMap<String, (Instant, Instant)> = HashMap::new();
    let mut mutation_ms = Vec::new();
    let mut ticks = tokio::time::interval(Duration::from_micros(1_000_000 / o.rate.max(1)));
    let writer = Arc::new(http);
    let doc = "mutation($input: CreateChangeInput!) { createChange(input: $input) { number } }";
    for i in 0..o.mutations {
        ticks.tick().await;
        let input = json!({ "title": format!("Event latency {i}"), "category": "APPLICATION",
                            "type": "NORMAL", "risk": "LOW", "serviceIds": [service] });
        let started = Instant::now();
        let r: Value = writer
            .post(format!("{}/graphql", writing.base))
            .bearer_auth(&requester)
            .json(&json!({ "query": doc, "variables": { "input": input } }))
            .send()
            .await
            .expect("mutation")
            .json()
            .await
            .expect("json");
        let answered = Instant::now();
        let number = r["data"]["createChange"]["number"]
            .as_str()
            .unwrap_or_else(|| panic!("a change: {r}"))
            .to_owned();
        mutation_ms.push((answered - started).as_secs_f64() * 1e3);
        sent.insert(number, (started, answered));
    }

    let expected = o.subscribers * o.mutations;
    let mut after_commit = Vec::with_capacity(expected);
    let mut after_send = Vec::with_capacity(expected);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while after_commit.len() < expected {
        let Ok(Some((number, received))) = tokio::time::timeout_at(deadline, rx.recv()).await
        else {
            break;
        };
        if let Some((started, answered)) = sent.get(&number) {
            // Signed: a notification can beat the mutation's own response.
            let ms = |from: &Instant| {
                if received >= *from {
                    (received - *from).as_secs_f64() * 1e3
                } else {
                    -((*from - received).as_secs_f64() * 1e3)
                }
            };
            after_commit.push(ms(answered));
            after_send.push(ms(started));
        }
    }
    for v in [&mut after_commit, &mut after_send, &mut mutation_ms] {
        v.sort_by(f64::total_cmp);
    }
    let path = if postgres {
        "other instance, LISTEN/NOTIFY"
    } else {
        "same process, in-memory broadcast"
    };
    println!(
        "\n## {engine}: {} subscribers, {} mutations at {}/s ({path})\n",
        o.subscribers, o.mutations, o.rate
    );
    println!(
        "| delivered | after the mutation's response p50 ms | p99 ms | after it was sent p50 ms | p99 ms | mutation p50 ms | subscriber server peak RSS MB |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {}/{expected} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.0} |",
        after_commit.len(),
        percentile(&after_commit, 0.5),
        percentile(&after_commit, 0.99),
        percentile(&after_send, 0.5),
        percentile(&after_send, 0.99),
        percentile(&mutation_ms, 0.5),
        listening.peak_mb(),
    );
    drop(other);
    drop(listening);
    cleanup();
}
