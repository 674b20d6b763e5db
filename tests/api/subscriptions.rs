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

use crate::helpers::{TestApp, spawn_app, spawn_with};
use crate::ops::*;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens a `graphql-transport-ws` socket and sends `connection_init` with `token`.
async fn open(app: &TestApp, token: Option<&str>) -> Socket {
    let url = format!("{}/graphql", app.address.replacen("http", "ws", 1));
    let mut request = url.into_client_request().expect("a ws request");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let (mut socket, _) = connect_async(request).await.expect("websocket upgrade");
    let payload = token.map_or(
        json!({}),
        |t| json!({ "Authorization": format!("Bearer {t}") }),
    );
    send(
        &mut socket,
        json!({ "type": "connection_init", "payload": payload }),
    )
    .await;
    socket
}

async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .expect("sent");
}

/// The next JSON message, or `None` when the server closed the socket.
async fn next(socket: &mut Socket) -> Option<Value> {
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

/// Subscribes to `changeEvents` with `args` under subscription id `id`.
async fn subscribe(socket: &mut Socket, id: &str, variables: Value) {
    assert_eq!(
        next(socket).await.map(|m| m["type"].clone()),
        Some(json!("connection_ack"))
    );
    let query = "subscription($service: ID) { changeEvents(serviceId: $service) { action fromStatus toStatus actor { email } change { number status } } }";
    send(socket, json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } })).await;
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
    let answer = next(&mut socket).await;
    assert!(
        answer
            .as_ref()
            .is_none_or(|m| m["type"] != "connection_ack"),
        "{answer:?}"
    );
    let mut socket = open(&app, Some(&app.token("requester"))).await;
    assert_eq!(
        next(&mut socket).await.map(|m| m["type"].clone()),
        Some(json!("connection_ack"))
    );
}
