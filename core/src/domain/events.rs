//! Domain events, published after their transaction commits (never for a rolled-back one).
//!
//! Each server instance fans events out to its subscribers over a bounded broadcast channel.
//! How events reach that channel depends on the engine:
//! - SQLite (one process): the committing use case publishes them itself, after the commit.
//! - PostgreSQL (any number of instances): the use case hands them to `pg_notify` inside its
//!   transaction, so PostgreSQL delivers them at commit, in commit order, to the listener of
//!   every instance (see `crate::relay`), which publishes them to its subscribers. The
//!   committing instance hears its own events that way too: one path, one order everywhere.
//!
//! A subscriber that falls more than the channel's capacity behind skips the oldest events
//! rather than slowing writers down, and is told (see `Notice`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use entity::{ChangeStatus, ReleaseStatus};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseTransaction, DbErr, Statement};
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, broadcast};

/// Events a lagging subscriber may fall behind before it skips, by default.
pub const CAPACITY: usize = 1024;

/// The PostgreSQL notification channel events travel on.
pub const CHANNEL: &str = "portfolio_events";

/// PostgreSQL refuses notification payloads of 8,000 bytes or more; stay clear of it.
const PAYLOAD_LIMIT: usize = 7_900;

/// Something happened to a change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeEvent {
    pub change_id: i64,
    pub project_id: Option<i64>,
    pub service_ids: Vec<i64>,
    /// Set on the wire only, when `service_ids` did not fit in one notification and was left
    /// out; the receiving instance reloads it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub services_elided: bool,
    pub action: String,
    pub from: Option<ChangeStatus>,
    pub to: Option<ChangeStatus>,
    pub actor_id: Option<i64>,
    pub at: DateTime<Utc>,
}

/// Something happened to a release.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum DomainEvent {
    Change(ChangeEvent),
    Release(ReleaseEvent),
}

/// What a subscriber receives from its instance's channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// A committed event.
    Event(DomainEvent),
    /// The instance's listener lost its database connection and got it back: events
    /// committed in between were not relayed, and subscribers should refetch.
    Gap,
}

/// How committed events reach the subscribers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fanout {
    /// Published in process after the commit (SQLite: one process owns the database).
    InProcess,
    /// Sent with `pg_notify` in the transaction; every instance's listener publishes them.
    Notify,
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct EventCounters {
    /// Events published to this instance's subscribers.
    pub published: AtomicU64,
    /// Events subscribers skipped because they fell behind.
    pub skipped: AtomicU64,
    /// Times the PostgreSQL listener reconnected.
    pub reconnects: AtomicU64,
}

/// One instance's event channel.
#[derive(Clone, Debug)]
pub struct EventBus {
    tx: broadcast::Sender<Notice>,
    fanout: Fanout,
    counters: Arc<EventCounters>,
    /// Rung when this instance committed webhook deliveries, so that its worker sends them
    /// at once instead of at its next poll.
    outbox: Arc<Notify>,
}

impl EventBus {
    /// A bus for a single process: events are published after commit.
    pub fn in_process(capacity: usize) -> Self {
        Self::with(Fanout::InProcess, capacity)
    }

    /// A bus whose events travel through PostgreSQL `NOTIFY`; start `crate::relay` beside it.
    pub fn notify(capacity: usize) -> Self {
        Self::with(Fanout::Notify, capacity)
    }

    fn with(fanout: Fanout, capacity: usize) -> Self {
        Self {
            tx: broadcast::channel(capacity.max(1)).0,
            fanout,
            counters: Arc::default(),
            outbox: Arc::default(),
        }
    }

    /// Wakes this instance's webhook worker: deliveries were committed or became due.
    pub fn outbox_filled(&self) {
        self.outbox.notify_one();
    }

    /// Waits for [`Self::outbox_filled`] (a ring before the wait counts).
    pub async fn outbox_ring(&self) {
        self.outbox.notified().await;
    }

    /// The bus's counters.
    pub fn counters(&self) -> &EventCounters {
        &self.counters
    }

    /// Open subscriptions on this instance.
    pub fn subscribers(&self) -> usize {
        self.tx.receiver_count()
    }

    /// A new subscription, receiving what is published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.tx.subscribe()
    }

    /// Publishes to this instance's subscribers; nobody listening is fine.
    pub fn publish(&self, notice: Notice) {
        if matches!(notice, Notice::Event(_)) {
            self.counters.published.fetch_add(1, Ordering::Relaxed);
        }
        let _ = self.tx.send(notice);
    }

    /// Called inside the transaction, just before it commits: with `NOTIFY` fan-out, hands
    /// the events to PostgreSQL, which delivers them only if the commit succeeds.
    pub(crate) async fn before_commit(
        &self,
        txn: &DatabaseTransaction,
        events: &[DomainEvent],
    ) -> Result<(), DbErr> {
        if self.fanout != Fanout::Notify || events.is_empty() {
            return Ok(());
        }
        for payload in payloads(events) {
            txn.execute_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT pg_notify($1, $2)",
                [CHANNEL.into(), payload.into()],
            ))
            .await?;
        }
        Ok(())
    }

    /// Called after the commit: with in-process fan-out, publishes the events.
    pub(crate) fn after_commit(&self, events: Vec<DomainEvent>) {
        if self.fanout == Fanout::InProcess {
            for e in events {
                self.publish(Notice::Event(e));
            }
        }
    }
}

/// The events as JSON arrays, each under PostgreSQL's payload limit; usually one. A change
/// touching so many services that its list alone breaks the limit goes without the list.
fn payloads(events: &[DomainEvent]) -> Vec<String> {
    let mut out = Vec::new();
    let mut batch = String::from("[");
    for e in events {
        let mut json = serde_json::to_string(e).unwrap_or_default();
        if json.len() + 2 > PAYLOAD_LIMIT
            && let DomainEvent::Change(c) = e
        {
            let elided = ChangeEvent {
                service_ids: Vec::new(),
                services_elided: true,
                ..c.clone()
            };
            json = serde_json::to_string(&DomainEvent::Change(elided)).unwrap_or_default();
        }
        if batch.len() > 1 && batch.len() + json.len() + 2 > PAYLOAD_LIMIT {
            batch.push(']');
            out.push(std::mem::replace(&mut batch, String::from("[")));
        }
        if batch.len() > 1 {
            batch.push(',');
        }
        batch.push_str(&json);
    }
    batch.push(']');
    out.push(batch);
    out
}

/// Reads one notification payload back into events.
pub fn parse_payload(payload: &str) -> Result<Vec<DomainEvent>, serde_json::Error> {
    serde_json::from_str(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(id: i64, services: usize) -> DomainEvent {
        DomainEvent::Change(ChangeEvent {
            change_id: id,
            project_id: Some(3),
            service_ids: (1..=services as i64).map(|s| s * 1_000_003).collect(),
            services_elided: false,
            action: "SUBMITTED".into(),
            from: Some(ChangeStatus::Draft),
            to: Some(ChangeStatus::Submitted),
            actor_id: Some(7),
            at: Utc::now(),
        })
    }

    #[test]
    fn events_of_one_transaction_travel_in_one_payload_and_read_back_equal() {
        let events: Vec<_> = (1..=5).map(|i| change(i, 3)).collect();
        let payloads = payloads(&events);
        assert_eq!(payloads.len(), 1);
        assert_eq!(parse_payload(&payloads[0]).ok(), Some(events));
    }

    #[test]
    fn payloads_stay_under_the_postgresql_limit_and_keep_order() {
        let events: Vec<_> = (1..=400).map(|i| change(i, 20)).collect();
        let payloads = payloads(&events);
        assert!(payloads.len() > 1);
        assert!(payloads.iter().all(|p| p.len() < PAYLOAD_LIMIT));
        let back: Vec<DomainEvent> = payloads
            .iter()
            .flat_map(|p| parse_payload(p).unwrap_or_default())
            .collect();
        assert_eq!(back, events);
    }

    #[test]
    fn a_change_with_too_many_services_to_fit_travels_without_them() {
        let payloads = payloads(&[change(1, 2_000), change(2, 1)]);
        assert!(payloads.iter().all(|p| p.len() < PAYLOAD_LIMIT));
        let back: Vec<DomainEvent> = payloads
            .iter()
            .flat_map(|p| parse_payload(p).unwrap_or_default())
            .collect();
        match &back[..] {
            [DomainEvent::Change(big), DomainEvent::Change(small)] => {
                assert!(big.services_elided && big.service_ids.is_empty());
                assert!(!small.services_elided && small.service_ids.len() == 1);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
