//! Live events: the change and release events subscriptions deliver, published by the
//! domain layer only after their transaction commits, and the stream that delivers them.

use async_graphql::{Context, Object, Result};
use chrono::{DateTime, Utc};
use entity::{change, person, release};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::{Change, Person, Release};
use crate::graphql::enums::{ChangeStatus, ReleaseStatus};
use crate::graphql::{by_opt_id, required};
use std::sync::atomic::Ordering;

use crate::domain::EventBus;
use crate::domain::events::{self, DomainEvent, Notice};
use crate::error::AppError;

/// The committed events of `bus`, from now on, that `pick` keeps. A subscriber that falls
/// more than the bus's capacity behind skips the events it missed and is told so by one
/// `EVENTS_MISSED` error, then goes on with the next events; so is every subscriber when the
/// instance lost the database and may not have relayed everything.
pub(crate) fn committed<T, P>(bus: &EventBus, pick: P) -> impl Stream<Item = Result<T>> + use<T, P>
where
    T: Send + 'static,
    P: Fn(DomainEvent) -> Option<T> + Send + 'static,
{
    let rx = bus.subscribe();
    let bus = bus.clone();
    futures_util::stream::unfold((rx, pick, bus), |(mut rx, pick, bus)| async move {
        loop {
            let missed = match rx.recv().await {
                Ok(Notice::Event(e)) => match pick(e) {
                    Some(item) => return Some((Ok(item), (rx, pick, bus))),
                    None => continue,
                },
                Ok(Notice::Gap) => AppError::EventsMissed(
                    "the server lost its database connection for a moment and may not have \
                     sent every event since; refetch what you show"
                        .into(),
                ),
                Err(RecvError::Lagged(n)) => {
                    bus.counters().skipped.fetch_add(n, Ordering::Relaxed);
                    tracing::warn!(skipped = n, "a slow subscriber skipped events");
                    AppError::EventsMissed(format!(
                        "this subscription fell behind and skipped {n} events; refetch what \
                         you show"
                    ))
                }
                Err(RecvError::Closed) => return None,
            };
            return Some((Err(missed.into()), (rx, pick, bus)));
        }
    })
}

/// Something happened to a change.
#[derive(async_graphql::Description)]
pub struct ChangeEvent(pub events::ChangeEvent);

#[Object(use_type_description)]
impl ChangeEvent {
    /// The change as it is now.
    async fn change(&self, ctx: &Context<'_>) -> Result<Change> {
        Ok(Change(
            required::<change::Entity>(ctx, self.0.change_id).await?,
        ))
    }
    /// What happened, e.g. `SUBMITTED`, `AUTHORIZED`, `STARTED_BY_RELEASE`.
    async fn action(&self) -> &str {
        &self.0.action
    }
    /// The status before; null for a creation.
    async fn from_status(&self) -> Option<ChangeStatus> {
        self.0.from.map(Into::into)
    }
    /// The status after.
    async fn to_status(&self) -> Option<ChangeStatus> {
        self.0.to.map(Into::into)
    }
    /// Who did it.
    async fn actor(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        Ok(by_opt_id::<person::Entity>(ctx, self.0.actor_id)
            .await?
            .map(Person))
    }
    /// When it was committed.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
}

/// Something happened to a release.
#[derive(async_graphql::Description)]
pub struct ReleaseEvent(pub events::ReleaseEvent);

#[Object(use_type_description)]
impl ReleaseEvent {
    /// The release as it is now.
    async fn release(&self, ctx: &Context<'_>) -> Result<Release> {
        Ok(Release(
            required::<release::Entity>(ctx, self.0.release_id).await?,
        ))
    }
    /// What happened, e.g. `MOVED_TO_DEPLOYED`, `CHANGE_ADDED`.
    async fn action(&self) -> &str {
        &self.0.action
    }
    /// The status before; null for a creation.
    async fn from_status(&self) -> Option<ReleaseStatus> {
        self.0.from.map(Into::into)
    }
    /// The status after.
    async fn to_status(&self) -> Option<ReleaseStatus> {
        self.0.to.map(Into::into)
    }
    /// Who did it.
    async fn actor(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        Ok(by_opt_id::<person::Entity>(ctx, self.0.actor_id)
            .await?
            .map(Person))
    }
    /// When it was committed.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;

    fn change(id: i64) -> Notice {
        Notice::Event(DomainEvent::Change(events::ChangeEvent {
            change_id: id,
            project_id: None,
            service_ids: vec![1],
            services_elided: false,
            action: "UPDATED".into(),
            from: None,
            to: None,
            actor_id: None,
            at: Utc::now(),
        }))
    }

    fn ids(e: DomainEvent) -> Option<i64> {
        match e {
            DomainEvent::Change(c) => Some(c.change_id),
            DomainEvent::Release(_) => None,
        }
    }

    /// The code the error will carry: that of the `AppError` it was raised from.
    fn code(e: &async_graphql::Error) -> Option<&'static str> {
        e.source
            .as_ref()
            .and_then(|s| s.downcast_ref::<AppError>())
            .map(AppError::code)
    }

    #[tokio::test]
    async fn a_subscriber_that_falls_behind_is_told_how_many_it_skipped_then_gets_the_newest() {
        let bus = EventBus::in_process(4);
        let mut stream = Box::pin(committed(&bus, ids));
        for id in 1..=10 {
            bus.publish(change(id));
        }
        let told = stream
            .next()
            .await
            .and_then(Result::err)
            .expect("an error first");
        assert_eq!(code(&told), Some("EVENTS_MISSED"));
        assert!(
            told.message.contains("skipped 6 events"),
            "{}",
            told.message
        );
        let mut rest = Vec::new();
        for _ in 0..4 {
            rest.push(stream.next().await.and_then(Result::ok));
        }
        assert_eq!(rest, [Some(7), Some(8), Some(9), Some(10)]);
        assert_eq!(bus.counters().skipped.load(Ordering::Relaxed), 6);
    }

    #[tokio::test]
    async fn a_gap_in_the_relay_reaches_every_subscriber_as_events_missed() {
        let bus = EventBus::in_process(16);
        let mut first = Box::pin(committed(&bus, ids));
        let mut second = Box::pin(committed(&bus, ids));
        bus.publish(Notice::Gap);
        bus.publish(change(5));
        for stream in [&mut first, &mut second] {
            let told = stream.next().await.and_then(Result::err).expect("told");
            assert_eq!(code(&told), Some("EVENTS_MISSED"));
            assert_eq!(stream.next().await.and_then(Result::ok), Some(5));
        }
    }
}
