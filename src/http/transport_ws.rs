//! The rules of the `graphql-transport-ws` protocol that the protocol engine does not keep,
//! checked on every message between the socket and the engine: which messages a client may
//! send and when, and the close code for each breach, as the protocol's text gives them
//! (<https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md>).

use std::collections::HashSet;

use serde_json::Value;

/// A breach of the protocol: the socket closes with this code and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breach {
    pub code: u16,
    pub reason: String,
}

impl Breach {
    fn new(code: u16, reason: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.into(),
        }
    }
}

/// What one connection has said so far.
#[derive(Debug, Default)]
pub struct Guard {
    initialised: bool,
    acknowledged: bool,
    /// Operations started and not yet completed, by id.
    active: HashSet<String>,
    /// Operations the client completed while running: the engine answers each with a
    /// `complete` of its own, which the protocol does not send.
    stopped: HashSet<String>,
    /// Operations that have not answered yet: a first answer of request errors (no data,
    /// no path: the document did not parse or validate) is an `error` message.
    unanswered: HashSet<String>,
    /// Operations ended by an `error`, after which the protocol sends no `complete`.
    failed: HashSet<String>,
}

impl Guard {
    /// Whether the client has sent `connection_init` (the server closes with 4408 when it
    /// does not in time).
    pub fn initialised(&self) -> bool {
        self.initialised
    }

    /// Checks a message from the client before the engine sees it; `Some(id)` when it
    /// starts operation `id`.
    pub fn inbound(&mut self, text: &[u8]) -> Result<Option<String>, Breach> {
        let invalid = |why: &str| Breach::new(4400, format!("Invalid message received: {why}"));
        let message: Value =
            serde_json::from_slice(text).map_err(|_| invalid("not a JSON object"))?;
        let kind = message
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("no `type`"))?;
        let id = || {
            message
                .get("id")
                .and_then(Value::as_str)
                .filter(|id| !id.is_empty())
                .ok_or_else(|| invalid("no `id`"))
        };
        match kind {
            "connection_init" => {
                if self.initialised {
                    return Err(Breach::new(4429, "Too many initialisation requests"));
                }
                self.initialised = true;
            }
            "ping" | "pong" => {}
            "subscribe" => {
                let id = id()?;
                let has_query = message
                    .get("payload")
                    .and_then(|p| p.get("query"))
                    .is_some_and(Value::is_string);
                if !has_query {
                    return Err(invalid("a `subscribe` without `payload.query`"));
                }
                if !self.acknowledged {
                    return Err(Breach::new(4401, "Unauthorized"));
                }
                if !self.active.insert(id.to_owned()) {
                    return Err(Breach::new(
                        4409,
                        format!("Subscriber for {id} already exists"),
                    ));
                }
                self.unanswered.insert(id.to_owned());
                return Ok(Some(id.to_owned()));
            }
            "complete" => {
                let id = id()?;
                if self.active.remove(id) {
                    self.stopped.insert(id.to_owned());
                }
            }
            other => return Err(invalid(&format!("unknown type `{other}`"))),
        }
        Ok(None)
    }

    /// Forgets operation `id`, which the server refused before it started (the client may
    /// use the id again).
    pub fn forget(&mut self, id: &str) {
        self.active.remove(id);
        self.unanswered.remove(id);
    }

    /// Takes a message of the engine to the client: notes the acknowledgement and the end
    /// of an operation (its id may then be used again), and returns what goes out — the
    /// message, an `error` in place of a first answer of request errors, or
    /// nothing for a `complete` the protocol does not send.
    pub fn outbound(&mut self, text: String) -> Option<String> {
        let Ok(message) = serde_json::from_str::<Value>(&text) else {
            return Some(text);
        };
        let Some(id) = message.get("id").and_then(Value::as_str) else {
            if message.get("type").and_then(Value::as_str) == Some("connection_ack") {
                self.acknowledged = true;
            }
            return Some(text);
        };
        let first = self.unanswered.remove(id);
        match message.get("type").and_then(Value::as_str) {
            Some("next") if first => {
                let payload = message.get("payload");
                let errors = payload.and_then(|p| p.get("errors"));
                // Request errors (GraphQL spec 7.1.2): raised before execution — a document
                // that does not parse or validate — they carry no `path` and no data.
                // Errors of execution (a refused argument, missed events) carry a path and
                // stay `next`.
                let no_data = payload
                    .and_then(|p| p.get("data"))
                    .is_none_or(Value::is_null);
                let before_execution = errors
                    .and_then(Value::as_array)
                    .is_some_and(|e| !e.is_empty() && e.iter().all(|e| e.get("path").is_none()));
                let errors = errors.filter(|_| before_execution);
                if let (Some(errors), true) = (errors, no_data) {
                    self.active.remove(id);
                    self.failed.insert(id.to_owned());
                    let error = serde_json::json!({ "type": "error", "id": id, "payload": errors });
                    return Some(error.to_string());
                }
            }
            Some("complete") if self.stopped.remove(id) || self.failed.remove(id) => {
                return None;
            }
            Some("complete" | "error") => {
                self.active.remove(id);
            }
            _ => {}
        }
        Some(text)
    }
}

#[cfg(test)]
mod tests {
    use super::Guard;

    fn code(guard: &mut Guard, text: &str) -> Option<u16> {
        guard.inbound(text.as_bytes()).err().map(|b| b.code)
    }

    const SUBSCRIBE: &str = r#"{"type":"subscribe","id":"1","payload":{"query":"subscription { changeEvents { action } }"}}"#;

    #[test]
    fn a_message_that_is_not_a_protocol_message_is_4400() {
        let mut g = Guard::default();
        for text in [
            "not json",
            "[]",
            r#"{"id":"1"}"#,
            r#"{"type":"hello"}"#,
            r#"{"type":"next","id":"1","payload":{}}"#,
            r#"{"type":"subscribe","payload":{"query":"{ a }"}}"#,
            r#"{"type":"subscribe","id":"1","payload":{}}"#,
            r#"{"type":"complete"}"#,
        ] {
            assert_eq!(code(&mut g, text), Some(4400), "{text}");
        }
    }

    #[test]
    fn subscribe_before_the_acknowledgement_is_4401_and_a_second_init_4429() {
        let mut g = Guard::default();
        assert_eq!(code(&mut g, SUBSCRIBE), Some(4401));
        assert_eq!(code(&mut g, r#"{"type":"connection_init"}"#), None);
        assert!(g.initialised());
        assert_eq!(code(&mut g, r#"{"type":"connection_init"}"#), Some(4429));
    }

    #[test]
    fn an_id_in_use_is_4409_until_either_side_completes_it() {
        let mut g = Guard::default();
        assert_eq!(code(&mut g, r#"{"type":"connection_init"}"#), None);
        g.outbound(r#"{"type":"connection_ack"}"#.into());
        assert_eq!(code(&mut g, SUBSCRIBE), None);
        assert_eq!(code(&mut g, SUBSCRIBE), Some(4409));
        assert_eq!(code(&mut g, r#"{"type":"complete","id":"1"}"#), None);
        assert_eq!(code(&mut g, SUBSCRIBE), None);
        // The engine's answer to the client's complete stays in, and does not end the
        // operation that took the id again.
        assert_eq!(g.outbound(r#"{"type":"complete","id":"1"}"#.into()), None);
        assert_eq!(code(&mut g, SUBSCRIBE), Some(4409));
        assert!(
            g.outbound(r#"{"type":"complete","id":"1"}"#.into())
                .is_some()
        );
        assert_eq!(code(&mut g, SUBSCRIBE), None);
        assert!(
            g.outbound(r#"{"type":"error","id":"1","payload":[]}"#.into())
                .is_some()
        );
        assert_eq!(code(&mut g, SUBSCRIBE), None);
        assert_eq!(code(&mut g, r#"{"type":"ping"}"#), None);
    }

    #[test]
    fn a_first_answer_of_request_errors_is_an_error_and_no_complete_follows() {
        let mut g = Guard::default();
        assert_eq!(code(&mut g, r#"{"type":"connection_init"}"#), None);
        g.outbound(r#"{"type":"connection_ack"}"#.into());
        assert_eq!(code(&mut g, SUBSCRIBE), None);
        let refused = r#"{"type":"next","id":"1","payload":{"data":null,"errors":[{"message":"Unknown field"}]}}"#;
        let error: serde_json::Value =
            serde_json::from_str(&g.outbound(refused.into()).expect("sent")).expect("json");
        assert_eq!(error["type"], "error");
        assert_eq!(error["payload"][0]["message"], "Unknown field");
        assert_eq!(g.outbound(r#"{"type":"complete","id":"1"}"#.into()), None);
        // The id is free again; errors of execution (with a path) stay `next`.
        assert_eq!(code(&mut g, SUBSCRIBE), None);
        let missed = r#"{"type":"next","id":"1","payload":{"data":null,"errors":[{"message":"missed","path":["changeEvents"]}]}}"#;
        assert_eq!(g.outbound(missed.into()).as_deref(), Some(missed));
        let event =
            r#"{"type":"next","id":"1","payload":{"data":{"a":1},"errors":[{"message":"x"}]}}"#;
        assert_eq!(g.outbound(event.into()).as_deref(), Some(event));
    }
}
