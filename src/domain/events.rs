//! Domain events, published after their transaction commits (never for a rolled-back one).
//!
//! In-process fan-out over a bounded broadcast channel: a subscriber that falls more than
//! [`CAPACITY`] events behind skips the oldest ones rather than slowing writers down.

use chrono::{DateTime, Utc};
use entity::{ChangeStatus, ReleaseStatus};
use tokio::sync::broadcast;

/// Events a lagging subscriber may fall behind before it skips.
pub const CAPACITY: usize = 1024;

/// Something happened to a change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeEvent {
    pub change_id: i64,
    pub project_id: Option<i64>,
    pub service_ids: Vec<i64>,
    pub action: String,
    pub from: Option<ChangeStatus>,
    pub to: Option<ChangeStatus>,
    pub actor_id: Option<i64>,
    pub at: DateTime<Utc>,
}

/// Something happened to a release.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReleaseEvent {
    pub release_id: i64,
    pub project_id: Option<i64>,
    pub action: String,
    pub from: Option<ReleaseStatus>,
    pub to: Option<ReleaseStatus>,
    pub actor_id: Option<i64>,
    pub at: DateTime<Utc>,
}

/// A committed domain event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DomainEvent {
    Change(ChangeEvent),
    Release(ReleaseEvent),
}

/// The in-process event bus.
#[derive(Clone, Debug)]
pub struct EventBus {
    tx: broadcast::Sender<DomainEvent>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(CAPACITY).0,
        }
    }
}

impl EventBus {
    /// Publishes a committed event; nobody listening is fine.
    pub fn publish(&self, event: DomainEvent) {
        let _ = self.tx.send(event);
    }

    /// A new subscription, receiving events published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<DomainEvent> {
        self.tx.subscribe()
    }
}
