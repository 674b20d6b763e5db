//! Live events over WebSocket (`graphql-transport-ws`): published after commit, filtered on
//! the server, authenticated in `connection_init`.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use portfolio::config::ServeArgs;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

use sea_orm::ConnectionTrait;

use crate::helpers::{TestApp, on_postgres, spawn_app, spawn_beside, spawn_with};
use crate::ops::*;

pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens a `graphql-transport-ws` socket and sends `connection_init` with `token`.
pub(crate) async fn open(app: &TestApp, token: Option<&str>) -> Socket {
    open_with(app, "graphql-transport-ws", token).await
}

/// Opens a socket speaking `protocol` and sends `connection_init` with `token`.
async fn open_with(app: &TestApp, protocol: &str, token: Option<&str>) -> Socket {
    let (mut socket, _) = connect_async(ws_request(app, protocol))
        .await
        .expect("websocket upgrade");
    init(&mut socket, token).await;
    socket
}

fn ws_request(
    app: &TestApp,
    protocol: &str,
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let url = format!("{}/graphql", app.address.replacen("http", "ws", 1));
    let mut request = url.into_client_request().expect("a ws request");
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", protocol.parse().expect("header"));
    request
}

async fn init<S>(socket: &mut WebSocketStream<S>, token: Option<&str>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let payload = token.map_or(
        json!({}),
        |t| json!({ "Authorization": format!("Bearer {t}") }),
    );
    send(
        socket,
        json!({ "type": "connection_init", "payload": payload }),
    )
    .await;
}

async fn send<S>(socket: &mut WebSocketStream<S>, message: Value)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .expect("sent");
}

/// The next JSON message, or `None` when the server closed the socket.
pub(crate) async fn next<S>(socket: &mut WebSocketStream<S>) -> Option<Value>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("an answer within 10 s")?;
        match message.ok()? {
            Message::Text(text) => return serde_json::from_str(&text).ok(),
            Message::Close(_) => return None,
            _ => continue,
        }
    }
}

/// How a new `graphql-transport-ws` connection with `token` (or none) is answered: the type
/// of the first message (`connection_ack`), or the close code.
pub(crate) async fn first_answer(app: &TestApp, token: Option<&str>) -> String {
    let mut socket = open(app, token).await;
    while let Some(Ok(message)) = socket.next().await {
        match message {
            Message::Close(frame) => {
                return frame.map_or("closed".into(), |f| u16::from(f.code).to_string());
            }
            Message::Text(text) => {
                let value: Value = serde_json::from_str(&text).expect("json");
                return value["type"].as_str().unwrap_or_default().to_owned();
            }
            _ => {}
        }
    }
    "closed".into()
}

const CHANGE_EVENTS: &str = "subscription($service: ID) { changeEvents(serviceId: $service) { action fromStatus toStatus actor { email } change { number status } } }";

/// Subscribes to `changeEvents` with `args` under subscription id `id`.
async fn subscribe(socket: &mut Socket, id: &str, variables: Value) {
    subscribe_to(socket, id, CHANGE_EVENTS, variables).await;
}

/// Waits for the acknowledgement, then subscribes with `query`.
async fn subscribe_to<S>(socket: &mut WebSocketStream<S>, id: &str, query: &str, variables: Value)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    assert_eq!(
        next(socket).await.map(|m| m["type"].clone()),
        Some(json!("connection_ack"))
    );
    send(socket, json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } })).await;
}

/// Waits until `/metrics` shows `want` subscriptions on `app` (a subscription is registered
/// when the server first polls it, just after the message arrives).
async fn until_subscribed(app: &TestApp, want: u64) {
    for _ in 0..100 {
        if app.metric("portfolio_subscriptions").await >= want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{want} subscriptions never registered");
}

async fn event(socket: &mut Socket) -> Value {
    let message = next(socket).await.expect("an event");
    assert_eq!(message["type"], "next", "{message}");
    message["payload"]["data"]["changeEvents"].clone()
}

#[tokio::test]
async fn subscribers_receive_committed_change_events_in_order_filtered_by_service() {
    let app = spawn_app().await;
    let requester = app.token("requester");
    let vpn = service_id(&app, "vpn").await;
    let email = service_id(&app, "email").await;
    let mut vpn_watcher = open(&app, Some(&requester)).await;
    subscribe(&mut vpn_watcher, "1", json!({ "service": vpn })).await;
    let mut email_watcher = open(&app, Some(&requester)).await;
    subscribe(&mut email_watcher, "1", json!({ "service": email })).await;
    // The server registers a subscription when it first polls it, just after the message.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let id = draft(&app, &requester, "NORMAL", "LOW", json!({})).await;
    let (code, _) = change_fails(&app, &requester, "closeChange", json!({ "id": id })).await;
    assert_eq!(
        code, "INVALID_TRANSITION",
        "a refused move publishes nothing"
    );
    let submitted = change_ok(&app, &requester, "submitChange", json!({ "id": id })).await;
    let created = event(&mut vpn_watcher).await;
    assert_eq!(created["action"], "CREATED");
    assert_eq!(
        (created["fromStatus"].clone(), created["toStatus"].clone()),
        (Value::Null, json!("DRAFT"))
    );
    assert_eq!(created["actor"]["email"], "laura@portfolio.example");
    let moved = event(&mut vpn_watcher).await;
    assert_eq!(
        (
            moved["action"].as_str(),
            moved["fromStatus"].as_str(),
            moved["toStatus"].as_str()
        ),
        (Some("SUBMITTED"), Some("DRAFT"), Some("SUBMITTED"))
    );
    assert_eq!(moved["change"]["number"], submitted["number"]);

    let on_email = draft(
        &app,
        &requester,
        "NORMAL",
        "LOW",
        json!({ "serviceIds": [email] }),
    )
    .await;
    let first_for_email = event(&mut email_watcher).await;
    let number = app
        .data(
            "query($id: ID!) { node(id: $id) { ... on Change { number } } }",
            json!({ "id": on_email }),
        )
        .await;
    assert_eq!(
        first_for_email["change"]["number"], number["node"]["number"],
        "the e-mail watcher saw none of the VPN's events"
    );
}

#[tokio::test]
async fn a_connection_without_a_token_is_refused_when_anonymous_reads_are_off() {
    let app = spawn_with(ServeArgs {
        demo: true,
        anonymous_read: Some(false),
        ..ServeArgs::default()
    })
    .await;
    let mut socket = open(&app, None).await;
    let mut close = None;
    while let Some(Ok(message)) = socket.next().await {
        match message {
            Message::Close(frame) => {
                close = frame;
                break;
            }
            Message::Text(text) => panic!("nothing but a close is sent: {text}"),
            _ => {}
        }
    }
    let close = close.expect("a close frame");
    assert_eq!(
        u16::from(close.code),
        4403,
        "graphql-transport-ws: Forbidden"
    );
    assert!(close.reason.contains("bearer token"), "{}", close.reason);
    let mut socket = open(&app, Some(&app.token("requester"))).await;
    assert_eq!(
        next(&mut socket).await.map(|m| m["type"].clone()),
        Some(json!("connection_ack"))
    );
}

#[tokio::test]
async fn the_legacy_graphql_ws_protocol_is_spoken_too() {
    let app = spawn_app().await;
    let mut socket = open_with(&app, "graphql-ws", Some(&app.token("requester"))).await;
    assert_eq!(
        next(&mut socket).await.map(|m| m["type"].clone()),
        Some(json!("connection_ack"))
    );
    send(
        &mut socket,
        json!({ "id": "1", "type": "start", "payload": { "query": CHANGE_EVENTS } }),
    )
    .await;
    until_subscribed(&app, 1).await;
    draft(&app, &app.token("requester"), "NORMAL", "LOW", json!({})).await;
    let message = next(&mut socket).await.expect("an event");
    assert_eq!(message["type"], "data", "{message}");
    assert_eq!(
        message["payload"]["data"]["changeEvents"]["action"],
        "CREATED"
    );
}

#[tokio::test]
async fn release_events_reach_only_the_subscribers_of_their_project() {
    let app = spawn_app().await;
    let farid = app.token("release");
    let web = project_id(&app, "PRJ-2026-001").await;
    let other = project_id(&app, "PRJ-2026-002").await;
    let query = "subscription($project: ID) { releaseEvents(projectId: $project) { action fromStatus toStatus actor { email } release { name project { code } } } }";
    let mut watcher = open(&app, Some(&farid)).await;
    subscribe_to(&mut watcher, "1", query, json!({ "project": web })).await;
    until_subscribed(&app, 1).await;
    for (name, project) in [("Other project's", &other), ("Ours", &web)] {
        release_ok(
            &app,
            &farid,
            "createRelease",
            json!({ "input": { "name": name, "version": "1.0", "type": "MINOR", "projectId": project } }),
        )
        .await;
    }
    let message = next(&mut watcher).await.expect("an event");
    let event = &message["payload"]["data"]["releaseEvents"];
    assert_eq!(event["release"]["name"], "Ours", "{message}");
    assert_eq!(event["release"]["project"]["code"], "PRJ-2026-001");
    assert_eq!(
        (
            event["action"].as_str(),
            event["fromStatus"].as_str(),
            event["toStatus"].as_str()
        ),
        (Some("CREATED"), None, Some("PLANNED"))
    );
    assert_eq!(event["actor"]["email"], "farid@portfolio.example");
}

#[tokio::test]
#[ignore = "needs PostgreSQL (instances share events through it): TEST_DATABASE_URL=postgres://… cargo test -- --include-ignored"]
async fn a_subscriber_on_one_instance_receives_what_is_committed_on_another() {
    assert!(
        on_postgres(),
        "instances share events through PostgreSQL only: set TEST_DATABASE_URL"
    );
    let a = spawn_app().await;
    let b = spawn_beside(&a).await;
    let requester = a.token("requester");
    let mut on_a = open(&a, Some(&requester)).await;
    subscribe(&mut on_a, "1", json!({})).await;
    until_subscribed(&a, 1).await;
    let id = draft(&b, &requester, "NORMAL", "LOW", json!({})).await;
    change_ok(&b, &requester, "submitChange", json!({ "id": id })).await;
    let created = event(&mut on_a).await;
    let submitted = event(&mut on_a).await;
    assert_eq!(
        (created["action"].as_str(), submitted["action"].as_str()),
        (Some("CREATED"), Some("SUBMITTED"))
    );
    assert_eq!(submitted["change"]["status"], "SUBMITTED");
    b.shutdown.stop().await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (its event listener): TEST_DATABASE_URL=postgres://… cargo test -- --include-ignored"]
async fn after_losing_its_listener_connection_an_instance_reconnects_and_says_events_were_missed() {
    assert!(
        on_postgres(),
        "the event listener exists on PostgreSQL only: set TEST_DATABASE_URL"
    );
    let app = spawn_app().await;
    let requester = app.token("requester");
    let mut socket = open(&app, Some(&requester)).await;
    subscribe(&mut socket, "1", json!({})).await;
    until_subscribed(&app, 1).await;
    // What a database restart does to the listener's connection.
    let killed = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            format!(
                "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
                 WHERE application_name = '{}' AND datname = current_database()",
                portfolio::relay::APPLICATION_NAME
            ),
        ))
        .await
        .expect("terminate the listener")
        .and_then(|row| row.try_get::<i64>("", "n").ok());
    assert_eq!(killed, Some(1), "one listener per instance");
    let missed = next(&mut socket).await.expect("a notice");
    assert_eq!(missed["type"], "next", "{missed}");
    assert_eq!(
        missed["payload"]["errors"][0]["extensions"]["code"], "EVENTS_MISSED",
        "{missed}"
    );
    draft(&app, &requester, "NORMAL", "LOW", json!({})).await;
    assert_eq!(event(&mut socket).await["action"], "CREATED");
    assert_eq!(
        app.metric("portfolio_event_listener_reconnects_total")
            .await,
        1
    );
}

#[tokio::test]
async fn idle_clients_are_pinged_and_silent_ones_disconnected() {
    let app = spawn_with(ServeArgs {
        demo: true,
        anonymous_read: Some(true),
        ws_ping_interval: Duration::from_millis(200),
        ws_idle_timeout: Duration::from_millis(700),
        ..ServeArgs::default()
    })
    .await;
    let mut answering = open(&app, None).await;
    let silent = open(&app, None).await;
    // The answering client reads (tungstenite answers pings as it reads) for 1.5 s.
    let mut pings = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_millis(1500);
    while let Ok(Some(Ok(message))) = tokio::time::timeout_at(deadline, answering.next()).await {
        pings += usize::from(matches!(message, Message::Ping(_)));
    }
    assert!(pings >= 2, "an idle client is pinged ({pings} pings)");
    send(&mut answering, json!({ "type": "ping" })).await;
    let mut pong = None;
    while let Some(m) = next(&mut answering).await {
        if m["type"] == "pong" {
            pong = Some(m);
            break;
        }
    }
    assert!(pong.is_some(), "a client that answers stays connected");
    // The silent one read nothing, so never answered a ping: the server dropped it (its
    // close frame is lost: the client's queued pongs hit the closed socket first).
    assert_eq!(app.metric("portfolio_websocket_connections").await, 1);
    drop(silent);
}

#[tokio::test]
async fn shutting_down_closes_every_socket_as_going_away() {
    let app = spawn_app().await;
    let mut socket = open(&app, Some(&app.token("requester"))).await;
    subscribe(&mut socket, "1", json!({})).await;
    until_subscribed(&app, 1).await;
    app.shutdown.stop().await;
    let mut close = None;
    while let Some(Ok(message)) = socket.next().await {
        if let Message::Close(frame) = message {
            close = frame;
            break;
        }
    }
    let close = close.expect("a close frame");
    assert_eq!(u16::from(close.code), 1001);
    assert_eq!(close.reason.as_str(), "server shutting down");
}

#[tokio::test]
async fn a_stalled_subscriber_blocks_neither_mutations_nor_other_subscribers_and_is_dropped() {
    let app = spawn_with(ServeArgs {
        demo: true,
        anonymous_read: Some(true),
        ws_send_timeout: Duration::from_millis(500),
        ..ServeArgs::default()
    })
    .await;
    let requester = app.token("requester");
    // Heavy events, and a client that stops reading with a tiny receive buffer: the
    // server's writes to it soon find the socket full.
    let heavy = "subscription { changeEvents { action change { number title description \
        services(first: 20) { nodes { key name description owner { name email } } } \
        history(first: 20) { nodes { action at } } } } }";
    let tcp = tokio::net::TcpSocket::new_v4().expect("a socket");
    tcp.set_recv_buffer_size(4096).expect("a small buffer");
    let addr = app
        .address
        .trim_start_matches("http://")
        .parse()
        .expect("an address");
    let stream = tcp.connect(addr).await.expect("connected");
    let (mut stalled, _) =
        tokio_tungstenite::client_async(ws_request(&app, "graphql-transport-ws"), stream)
            .await
            .expect("websocket upgrade");
    init(&mut stalled, None).await;
    subscribe_to(&mut stalled, "1", heavy, json!({})).await;
    let mut healthy = open(&app, None).await;
    subscribe(&mut healthy, "1", json!({})).await;
    until_subscribed(&app, 2).await;
    assert_eq!(app.metric("portfolio_websocket_connections").await, 2);

    let reader = tokio::spawn(async move {
        let mut numbers = Vec::new();
        while numbers.len() < 150 {
            let Some(message) = next(&mut healthy).await else {
                break;
            };
            numbers.push(message["payload"]["data"]["changeEvents"]["change"]["number"].clone());
        }
        numbers
    });
    let mut created = Vec::new();
    for i in 0..150 {
        let input = change_input(
            &app,
            "NORMAL",
            "LOW",
            json!({ "title": format!("Load {i}") }),
        )
        .await;
        let c = tokio::time::timeout(
            Duration::from_secs(10),
            app.ok_as(
                &requester,
                "mutation($input: CreateChangeInput!) { createChange(input: $input) { number } }",
                json!({ "input": input }),
            ),
        )
        .await
        .expect("a mutation is never held up by a subscriber");
        created.push(c["createChange"]["number"].clone());
    }
    let received = tokio::time::timeout(Duration::from_secs(20), reader)
        .await
        .expect("the healthy subscriber keeps up")
        .expect("reader");
    assert_eq!(received, created, "every event, in commit order");
    let mut open_sockets = 2;
    for _ in 0..100 {
        open_sockets = app.metric("portfolio_websocket_connections").await;
        if open_sockets == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(open_sockets, 1, "the stalled socket was dropped");
    drop(stalled);
}

#[tokio::test]
async fn subscribers_share_the_statements_that_resolve_an_event() {
    let app = spawn_app().await;
    let requester = app.token("requester");
    let mut cost = Vec::new();
    let mut sockets = Vec::new();
    for n in [1usize, 20] {
        while sockets.len() < n {
            let mut socket = open(&app, Some(&requester)).await;
            subscribe(&mut socket, "1", json!({})).await;
            sockets.push(socket);
        }
        until_subscribed(&app, n as u64).await;
        let before = app.statements().await;
        draft(&app, &requester, "NORMAL", "LOW", json!({})).await;
        for socket in &mut sockets {
            let e = event(socket).await;
            assert_eq!(e["action"], "CREATED");
            assert_eq!(e["actor"]["email"], "laura@portfolio.example");
        }
        cost.push(app.statements().await - before);
    }
    // Resolving `change` and `actor` per subscriber would add 2 statements per extra one.
    assert!(
        cost[1] < cost[0] + 19,
        "statements for one event with 1 and with 20 subscribers: {cost:?}"
    );
}

/// Sends each of `messages` as it is written.
async fn send_all(socket: &mut Socket, messages: &[&str]) {
    for m in messages {
        socket
            .send(Message::Text((*m).to_owned().into()))
            .await
            .expect("sent");
    }
}

/// A socket whose `connection_init` with `token` the server acknowledged.
async fn acknowledged(app: &TestApp, token: &str) -> Socket {
    let mut socket = open(app, Some(token)).await;
    assert_eq!(
        next(&mut socket).await.map(|m| m["type"].clone()),
        Some(json!("connection_ack"))
    );
    socket
}

/// The close code the server ends `socket` with, after `messages` are sent.
async fn close_code_after(mut socket: Socket, messages: &[&str]) -> u16 {
    send_all(&mut socket, messages).await;
    loop {
        let message = tokio::time::timeout(Duration::from_secs(15), socket.next())
            .await
            .expect("an answer within 15 s");
        match message {
            Some(Ok(Message::Close(frame))) => {
                return frame.map_or(1005, |f| u16::from(f.code));
            }
            Some(Ok(_)) => continue,
            _ => return 1006,
        }
    }
}

/// A `graphql-transport-ws` socket on which nothing has been sent.
async fn raw(app: &TestApp) -> Socket {
    connect_async(ws_request(app, "graphql-transport-ws"))
        .await
        .expect("websocket upgrade")
        .0
}

const SUBSCRIBE_1: &str = r#"{"type":"subscribe","id":"1","payload":{"query":"subscription { changeEvents { action } }"}}"#;

#[tokio::test]
async fn graphql_transport_ws_closes_with_the_protocols_code_for_each_breach() {
    let app = spawn_app().await;
    let token = app.token("requester");
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } }).to_string();
    // 4400: anything that is not a message of the protocol.
    for bad in [
        "not json",
        r#"{"type":"hello"}"#,
        r#"{"type":"subscribe","id":"1"}"#,
    ] {
        assert_eq!(
            close_code_after(raw(&app).await, &[bad]).await,
            4400,
            "{bad}"
        );
    }
    // 4401: subscribe before the server acknowledged the connection.
    assert_eq!(
        close_code_after(raw(&app).await, &[SUBSCRIBE_1]).await,
        4401
    );
    // 4429: a second connection_init.
    let socket = acknowledged(&app, &token).await;
    assert_eq!(close_code_after(socket, &[&init]).await, 4429);
    // 4409: a subscribe with the id of an operation still running.
    let socket = acknowledged(&app, &token).await;
    assert_eq!(
        close_code_after(socket, &[SUBSCRIBE_1, SUBSCRIBE_1]).await,
        4409
    );
    // After `complete` from the client, the id is free again: no close.
    let mut socket = acknowledged(&app, &token).await;
    let again = [
        SUBSCRIBE_1,
        r#"{"type":"complete","id":"1"}"#,
        SUBSCRIBE_1,
        r#"{"type":"ping"}"#,
    ];
    send_all(&mut socket, &again).await;
    assert_eq!(
        next(&mut socket).await.map(|m| m["type"].clone()),
        Some(json!("pong")),
        "the socket stays open and answers"
    );
}

#[tokio::test]
async fn graphql_transport_ws_closes_with_4408_without_connection_init_in_ten_seconds() {
    let app = spawn_app().await;
    assert_eq!(close_code_after(raw(&app).await, &[]).await, 4408);
}

#[tokio::test]
async fn graphql_transport_ws_answers_an_operation_that_cannot_start_with_error_and_no_complete() {
    let app = spawn_app().await;
    let mut socket = acknowledged(&app, &app.token("requester")).await;
    let invalid = r#"{"type":"subscribe","id":"bad","payload":{"query":"subscription { changeEvents { noSuchField } }"}}"#;
    send_all(&mut socket, &[invalid, r#"{"type":"ping"}"#]).await;
    let error = next(&mut socket).await.expect("an answer");
    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(error["id"], "bad");
    assert!(
        error["payload"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("noSuchField")),
        "{error}"
    );
    // No `complete` for it: the next message is the answer to the ping.
    assert_eq!(
        next(&mut socket).await.map(|m| m["type"].clone()),
        Some(json!("pong"))
    );
}

#[tokio::test]
async fn graphql_transport_ws_complete_from_the_client_stops_its_stream() {
    let app = spawn_app().await;
    let requester = app.token("requester");
    let mut socket = open(&app, Some(&requester)).await;
    subscribe(&mut socket, "1", json!({})).await;
    until_subscribed(&app, 1).await;
    draft(&app, &requester, "NORMAL", "LOW", json!({})).await;
    assert_eq!(event(&mut socket).await["action"], "CREATED");
    send_all(&mut socket, &[r#"{"type":"complete","id":"1"}"#]).await;
    for _ in 0..100 {
        if app.metric("portfolio_subscriptions").await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(app.metric("portfolio_subscriptions").await, 0);
    draft(&app, &requester, "NORMAL", "LOW", json!({})).await;
    send_all(&mut socket, &[r#"{"type":"ping"}"#]).await;
    assert_eq!(
        next(&mut socket).await.map(|m| m["type"].clone()),
        Some(json!("pong")),
        "no event and no complete after the client's complete"
    );
}

#[tokio::test]
async fn graphql_transport_ws_pings_an_idle_client_with_the_protocols_ping_and_takes_its_pong() {
    let app = spawn_with(ServeArgs {
        demo: true,
        anonymous_read: Some(true),
        ws_ping_interval: Duration::from_millis(200),
        ws_idle_timeout: Duration::from_millis(1500),
        ..ServeArgs::default()
    })
    .await;
    let mut socket = open(&app, None).await;
    assert_eq!(
        next(&mut socket).await.map(|m| m["type"].clone()),
        Some(json!("connection_ack"))
    );
    // Answer the server's `ping` messages with `pong` for longer than the idle timeout.
    for _ in 0..10 {
        let ping = next(&mut socket).await.expect("a ping message");
        assert_eq!(ping["type"], "ping", "{ping}");
        send_all(&mut socket, &[r#"{"type":"pong"}"#]).await;
    }
    send_all(&mut socket, &[r#"{"type":"ping"}"#]).await;
    let mut answer = next(&mut socket).await.expect("still open");
    while answer["type"] == "ping" {
        answer = next(&mut socket).await.expect("still open");
    }
    assert_eq!(answer["type"], "pong");
}

#[tokio::test]
async fn a_dry_run_publishes_no_event() {
    let app = spawn_app().await;
    let requester = app.token("requester");
    let vpn = service_id(&app, "vpn").await;
    let mut watcher = open(&app, Some(&requester)).await;
    subscribe(&mut watcher, "1", json!({ "service": vpn })).await;
    until_subscribed(&app, 1).await;
    let input = change_input(&app, "NORMAL", "LOW", json!({ "title": "Only tried" })).await;
    let (_, dry) = app
        .post_with(
            &requester,
            &[("Dry-Run", "true")],
            "mutation($i: CreateChangeInput!) { createChange(input: $i) { title status } }",
            &json!({ "i": input }),
        )
        .await;
    assert_eq!(dry["data"]["createChange"]["status"], "DRAFT", "{dry}");
    let real = draft(
        &app,
        &requester,
        "NORMAL",
        "LOW",
        json!({ "title": "Done" }),
    )
    .await;
    let first = event(&mut watcher).await;
    let number = app
        .data(
            "query($id: ID!) { node(id: $id) { ... on Change { number } } }",
            json!({ "id": real }),
        )
        .await;
    assert_eq!(
        first["change"]["number"], number["node"]["number"],
        "the first event the watcher saw is the real run's, not the dry run's"
    );
}
