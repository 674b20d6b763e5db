//! The PostgreSQL event relay: one `LISTEN` connection per instance that publishes every
//! committed event — from this instance or any other on the same database — to this
//! instance's subscribers.
//!
//! It runs until shutdown and survives the database going away: a lost connection is logged,
//! subscribers are told they may have missed events (`Notice::Gap`), and it reconnects with
//! a capped exponential back-off.

use std::str::FromStr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use entity::change_service;
use sea_orm::sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use tokio::sync::watch;

use crate::domain::events::{CHANNEL, DomainEvent, EventBus, Notice, parse_payload};

/// Shown in `pg_stat_activity`, so an operator can tell the listener from the pool.
pub const APPLICATION_NAME: &str = "portfolio-events";

const FIRST_RETRY: Duration = Duration::from_millis(100);
const LAST_RETRY: Duration = Duration::from_secs(5);

/// Starts listening (returning once `LISTEN` is in place, so no event committed after
/// start-up is missed), then relays in the background until `stop` turns true.
pub async fn start(
    database_url: &str,
    db: DatabaseConnection,
    bus: EventBus,
    stop: watch::Receiver<bool>,
) -> Result<(), sea_orm::sqlx::Error> {
    let options = PgConnectOptions::from_str(database_url)?.application_name(APPLICATION_NAME);
    let listener = listen(&options).await?;
    tokio::spawn(run(options, listener, db, bus, stop));
    Ok(())
}

async fn run(
    options: PgConnectOptions,
    first: PgListener,
    db: DatabaseConnection,
    bus: EventBus,
    mut stop: watch::Receiver<bool>,
) {
    let mut listener = Some(first);
    let mut retry = FIRST_RETRY;
    loop {
        if let Some(mut l) = listener.take() {
            let ended = tokio::select! {
                ended = relay(&mut l, &db, &bus) => ended,
                _ = stop.wait_for(|s| *s) => return,
            };
            if let Err(e) = ended {
                tracing::warn!(error = %e, "event listener lost the database; reconnecting");
            }
            retry = FIRST_RETRY;
        }
        tokio::select! {
            _ = tokio::time::sleep(retry) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        match listen(&options).await {
            Ok(l) => {
                bus.counters().reconnects.fetch_add(1, Ordering::Relaxed);
                tracing::info!("event listener reconnected to the database");
                // Whatever committed while it was away was not relayed: subscribers are told.
                bus.publish(Notice::Gap);
                listener = Some(l);
            }
            Err(e) => {
                tracing::debug!(error = %e, retry_ms = retry.as_millis() as u64, "event listener still away");
                retry = (retry * 2).min(LAST_RETRY);
            }
        }
    }
}

async fn listen(options: &PgConnectOptions) -> Result<PgListener, sea_orm::sqlx::Error> {
    // A pool of one connection of its own: the listener must not take one from the pool
    // serving requests, and must not be shared with them.
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy_with(options.clone());
    let mut listener = PgListener::connect_with(&pool).await?;
    // Reconnection is ours (with a log line and a Gap notice), not the listener's silent one.
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Publishes notifications until the connection is lost.
async fn relay(
    listener: &mut PgListener,
    db: &DatabaseConnection,
    bus: &EventBus,
) -> Result<(), sea_orm::sqlx::Error> {
    loop {
        let Some(notification) = listener.try_recv().await? else {
            return Err(sea_orm::sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "the listening connection closed",
            )));
        };
        match parse_payload(notification.payload()) {
            Ok(events) => {
                for e in events {
                    bus.publish(Notice::Event(complete(e, db).await));
                }
            }
            Err(e) => tracing::error!(error = %e, "an event notification could not be read"),
        }
    }
}

/// Reloads a change's services when they were too many for the notification.
async fn complete(event: DomainEvent, db: &DatabaseConnection) -> DomainEvent {
    match event {
        DomainEvent::Change(mut c) if c.services_elided => {
            match change_service::Entity::find()
                .filter(change_service::Column::ChangeId.eq(c.change_id))
                .all(db)
                .await
            {
                Ok(links) => {
                    c.service_ids = links.into_iter().map(|l| l.service_id).collect();
                    c.services_elided = false;
                }
                Err(e) => {
                    tracing::warn!(error = %e, change = c.change_id, "services of an event");
                }
            }
            DomainEvent::Change(c)
        }
        other => other,
    }
}
