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
}

impl Guard {
    /// Whether the client has sent `connection_init` (the server closes with 4408 when it
    /// does not in time).
    pub fn initialised(&self) -> bool {
        self.initialised
    }

    /// Checks a message from the client before the engine sees it.
    pub fn inbound(&mut self, text: &[u8]) -> Result<(), Breach> {
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
            }
            "complete" => {
                let id = id()?;
                if self.active.remove(id) {
                    self.stopped.insert(id.to_owned());
                }
            }
            other => return Err(invalid(&format!("unknown type `{other}`"))),
        }
        Ok(())
    }

    /// Notes a message of the engine to the client — the acknowledgement, the end of an
    /// operation (its id may then be used again) — and says whether it goes out: the
    /// engine's answer to a client's `complete` does not.
    pub fn outbound(&mut self, text: &str) -> bool {
        let Ok(message) = serde_json::from_str::<Value>(text) else {
            return true;
        };
        let id = message.get("id").and_then(Value::as_str);
        match (message.get("type").and_then(Value::as_str), id) {
            (Some("connection_ack"), _) => self.acknowledged = true,
            (Some("complete"), Some(id)) if self.stopped.remove(id) => return false,
            (Some("complete" | "error"), Some(id)) => {
                self.active.remove(id);
            }
            _ => {}
        }
        true
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
        g.outbound(r#"{"type":"connection_ack"}"#);
        assert_eq!(code(&mut g, SUBSCRIBE), None);
        assert_eq!(code(&mut g, SUBSCRIBE), Some(4409));
        assert_eq!(code(&mut g, r#"{"type":"complete","id":"1"}"#), None);
        assert_eq!(code(&mut g, SUBSCRIBE), None);
        // The engine's answer to the client's complete stays in, and does not end the
        // operation that took the id again.
        assert!(!g.outbound(r#"{"type":"complete","id":"1"}"#));
        assert_eq!(code(&mut g, SUBSCRIBE), Some(4409));
        assert!(g.outbound(r#"{"type":"complete","id":"1"}"#));
        assert_eq!(code(&mut g, SUBSCRIBE), None);
        assert!(g.outbound(r#"{"type":"error","id":"1","payload":[]}"#));
        assert_eq!(code(&mut g, SUBSCRIBE), None);
        assert_eq!(code(&mut g, r#"{"type":"ping"}"#), None);
    }
}
