//! Subscriptions over WebSocket at `/graphql`: the `graphql-transport-ws` protocol (and the
//! legacy `graphql-ws` one), spoken by async-graphql's protocol engine over a transport loop
//! of our own.
//!
//! Why not the stock actix actor: it writes every outgoing message into an unbounded buffer,
//! so a client that stops reading grows the server's memory without limit and never falls
//! behind. Here every write waits for the socket (through bounded channels), so a stalled
//! client stops consuming its subscription; it then skips events in the bounded broadcast
//! channel instead of holding anything up, and a socket that accepts nothing for the send
//! timeout is dropped. The loop also pings idle clients, drops the ones that stop
//! answering, and closes every socket with 1001 (going away) when the server shuts down.

use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use actix_web::http::header::{HeaderValue, SEC_WEBSOCKET_PROTOCOL};
use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, Session};
use async_graphql::http::{WebSocket, WebSocketProtocols, WsMessage};
use futures_util::StreamExt;
use tokio::sync::{mpsc, watch};

use super::AppState;
use super::rate::Caller;
use super::transport_ws::Guard;
use crate::auth;
use crate::error::AppError;
use crate::graphql::Coded;
use crate::graphql::loaders::AppLoader;

/// Largest message a client may send (a subscription document with its variables).
const MAX_MESSAGE: usize = 64 * 1024;
/// Client messages queued for the protocol engine before the client counts as flooding.
const INBOX: usize = 64;
/// How long a `graphql-transport-ws` client has to send `connection_init` (then 4408).
const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// graphql-transport-ws's `ping` message, sent to an idle client with the ping frame.
const PROTOCOL_PING: &str = r#"{"type":"ping"}"#;

/// How the server keeps WebSocket connections healthy.
#[derive(Clone)]
pub struct LiveSettings {
    /// A ping is sent after this long without traffic from the client.
    pub ping_interval: Duration,
    /// A client silent this long (not even answering pings) is disconnected.
    pub idle_timeout: Duration,
    /// A socket that accepts nothing for this long is disconnected.
    pub send_timeout: Duration,
    /// Flips to true when the server shuts down.
    pub shutdown: watch::Receiver<bool>,
    /// Open WebSocket connections, for `/metrics`.
    pub connections: Arc<AtomicUsize>,
    /// The loader all subscriptions share (batching, no cache).
    pub loader: Arc<AppLoader>,
}

/// Upgrades `GET /graphql` to a WebSocket speaking one of the GraphQL protocols.
pub async fn graphql_ws(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
) -> actix_web::Result<HttpResponse> {
    let protocol = req
        .headers()
        .get(SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|offered| {
            offered
                .split(',')
                .find_map(|p| WebSocketProtocols::from_str(p.trim()).ok())
        })
        .ok_or_else(|| {
            actix_web::error::ErrorBadRequest(
                "Sec-WebSocket-Protocol must offer graphql-transport-ws (or graphql-ws)",
            )
        })?;
    let (mut response, session, messages) = actix_ws::handle(&req, body)?;
    response.headers_mut().insert(
        SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_static(protocol.sec_websocket_protocol()),
    );
    let messages = messages
        .max_frame_size(MAX_MESSAGE)
        .aggregate_continuations()
        .max_continuation_size(MAX_MESSAGE);
    // Whose rate the connection draws on until (and unless) its connection_init names a token.
    let anonymous = Caller::of(None, &req);
    actix_web::rt::spawn(serve(
        state.into_inner(),
        protocol,
        anonymous,
        session,
        messages,
    ));
    Ok(response)
}

/// Why a connection ended, for the log.
#[derive(Debug)]
enum End {
    ClientClosed,
    Stalled,
    Silent,
    Flooding,
    Protocol,
    ShuttingDown,
}

async fn serve(
    state: Arc<AppState>,
    protocol: WebSocketProtocols,
    anonymous: Caller,
    mut session: Session,
    mut messages: actix_ws::AggregatedMessageStream,
) {
    let live = state.live.clone();
    live.connections.fetch_add(1, Ordering::Relaxed);
    let (inbox, inbox_rx) = mpsc::channel::<Vec<u8>>(INBOX);
    let incoming = Box::pin(futures_util::stream::unfold(
        inbox_rx,
        |mut rx| async move { rx.recv().await.map(|m| (m, rx)) },
    ));
    let db = state.db.clone();
    let loader = live.loader.clone();
    let anonymous_read = state.anonymous_read;
    let token_use = state.token_use.clone();
    // The token the connection authenticated with, once it has: whose rate its operations
    // draw on (the client's address until then, and for anonymous connections).
    let token = Arc::new(OnceLock::<i64>::new());
    let token_of_init = token.clone();
    let mut engine = WebSocket::new(Coded(state.schema.clone()), incoming, protocol)
        .on_connection_init(move |init| async move {
            let header = init
                .get("Authorization")
                .or_else(|| init.get("authorization"))
                .and_then(|v| v.as_str());
            let credential = auth::authenticate(&db, header, &token_use).await?;
            if credential.viewer.person_id.is_none() && !anonymous_read {
                return Err(AppError::Unauthenticated(
                    "a bearer token is required in the connection_init payload".into(),
                )
                .into());
            }
            if let Some(id) = credential.token_id {
                let _ = token_of_init.set(id);
            }
            let mut data = async_graphql::Data::default();
            data.insert(loader);
            data.insert(credential.viewer);
            Ok(data)
        });
    let mut shutdown = live.shutdown.clone();
    let mut ticks = tokio::time::interval(live.ping_interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut heard = Instant::now();
    // Until the first message goes out (the acknowledgement), a close is a refused init.
    let mut acknowledged = false;
    // graphql-transport-ws: the protocol's rules the engine does not keep.
    let mut guard = (protocol == WebSocketProtocols::GraphQLWS).then(Guard::default);
    let init_deadline = tokio::time::sleep(INIT_TIMEOUT);
    tokio::pin!(init_deadline);
    let send = |session: &mut Session, msg: WsMessageOut| {
        let mut session = session.clone();
        let timeout = live.send_timeout;
        async move {
            let sent = match msg {
                WsMessageOut::Text(t) => tokio::time::timeout(timeout, session.text(t)).await,
                WsMessageOut::Ping => tokio::time::timeout(timeout, session.ping(b"")).await,
                WsMessageOut::Pong(p) => tokio::time::timeout(timeout, session.pong(&p)).await,
            };
            match sent {
                Ok(Ok(())) => Ok(()),
                Ok(Err(_closed)) => Err(End::ClientClosed),
                Err(_elapsed) => Err(End::Stalled),
            }
        }
    };
    let end: (End, Option<CloseReason>) = loop {
        tokio::select! {
            from_client = messages.next() => {
                heard = Instant::now();
                let message = match from_client {
                    Some(Ok(AggregatedMessage::Text(t))) => t.as_bytes().to_vec(),
                    Some(Ok(AggregatedMessage::Binary(b))) => b.to_vec(),
                    Some(Ok(AggregatedMessage::Ping(p))) => {
                        if let Err(e) = send(&mut session, WsMessageOut::Pong(p.to_vec())).await {
                            break (e, None);
                        }
                        continue;
                    }
                    Some(Ok(AggregatedMessage::Pong(_))) => continue,
                    Some(Ok(AggregatedMessage::Close(_))) | None => break (End::ClientClosed, None),
                    Some(Err(_)) => break (End::Protocol, Some(CloseCode::Protocol.into())),
                };
                let start = match guard.as_mut().map(|g| g.inbound(&message)) {
                    Some(Ok(start)) => start,
                    Some(Err(breach)) => break (End::Protocol, Some(CloseReason {
                        code: breach.code.into(),
                        description: Some(breach.reason),
                    })),
                    // The legacy protocol has no guard to read the message: read it here.
                    None => started(&message),
                };
                // Each operation started draws on the caller's rate; a refused one is
                // answered with an `error` and the connection goes on.
                if let Some(id) = start {
                    let caller = token.get().map_or(anonymous, |t| Caller::Token(*t));
                    if let Err(err) = state.rate.admit(caller, 1) {
                        state.metrics.rate_limited("websocket");
                        if let Some(g) = guard.as_mut() {
                            g.forget(&id);
                        }
                        if let Err(e) = send(&mut session, WsMessageOut::Text(refusal(&id, &err))).await {
                            break (e, None);
                        }
                        continue;
                    }
                }
                if inbox.try_send(message).is_err() {
                    break (End::Flooding, Some(CloseReason {
                        code: CloseCode::Policy,
                        description: Some("too many messages unanswered".into()),
                    }));
                }
            }
            to_client = engine.next() => match to_client {
                Some(WsMessage::Text(text)) => {
                    acknowledged = true;
                    let text = match guard.as_mut() {
                        Some(g) => match g.outbound(text) {
                            Some(text) => text,
                            None => continue,
                        },
                        None => text,
                    };
                    if let Err(e) = send(&mut session, WsMessageOut::Text(text)).await {
                        break (e, None);
                    }
                }
                Some(WsMessage::Close(code, reason)) => {
                    // graphql-transport-ws: a refused connection_init is 4403 Forbidden (the
                    // engine says 1002 for every failure).
                    let code = if !acknowledged && code == 1002 { 4403 } else { code };
                    break (End::Protocol, Some(CloseReason {
                        code: code.into(),
                        description: Some(reason),
                    }));
                }
                None => break (End::Protocol, Some(CloseCode::Normal.into())),
            },
            _ = &mut init_deadline, if guard.as_ref().is_some_and(|g| !g.initialised()) => {
                break (End::Protocol, Some(CloseReason {
                    code: 4408.into(),
                    description: Some("Connection initialisation timeout".into()),
                }));
            }
            _ = ticks.tick() => {
                if heard.elapsed() >= live.idle_timeout {
                    break (End::Silent, Some(CloseReason {
                        code: CloseCode::Away,
                        description: Some("no answer to pings".into()),
                    }));
                }
                if heard.elapsed() >= live.ping_interval {
                    if let Err(e) = send(&mut session, WsMessageOut::Ping).await {
                        break (e, None);
                    }
                    // JavaScript never sees a WebSocket ping frame, so a browser client can
                    // tell the server is alive only from the protocol's own `ping`, which
                    // graphql-transport-ws clients answer with `pong` (traffic that keeps
                    // them connected too).
                    let ping = WsMessageOut::Text(PROTOCOL_PING.into());
                    if acknowledged
                        && guard.is_some()
                        && let Err(e) = send(&mut session, ping).await
                    {
                        break (e, None);
                    }
                }
            }
            _ = shutdown.wait_for(|s| *s) => break (End::ShuttingDown, Some(CloseReason {
                code: CloseCode::Away,
                description: Some("server shutting down".into()),
            })),
        }
    };
    live.connections.fetch_sub(1, Ordering::Relaxed);
    match end.0 {
        End::Stalled => tracing::warn!(
            "a WebSocket client accepted nothing for {:?}; disconnected",
            live.send_timeout
        ),
        End::Silent => tracing::info!("a silent WebSocket client was disconnected"),
        ref other => tracing::debug!(reason = ?other, "WebSocket connection ended"),
    }
    // A stalled socket would not take the close frame either: just drop it.
    if !matches!(end.0, End::Stalled | End::ClientClosed) {
        let _ = tokio::time::timeout(live.send_timeout, session.close(end.1)).await;
    }
}

/// The id of the operation a legacy `graphql-ws` message starts (`start`); `None` for any
/// other message.
fn started(message: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Message {
        #[serde(rename = "type")]
        kind: String,
        id: Option<String>,
    }
    let m: Message = serde_json::from_slice(message).ok()?;
    (m.kind == "start").then_some(m.id).flatten()
}

/// The `error` message refusing operation `id` with `err` (both protocols use this shape).
fn refusal(id: &str, err: &AppError) -> String {
    let error = super::error_json(err);
    serde_json::json!({ "type": "error", "id": id, "payload": [error] }).to_string()
}

/// What the loop sends besides protocol messages.
enum WsMessageOut {
    Text(String),
    Ping,
    Pong(Vec<u8>),
}
