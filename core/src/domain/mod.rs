//! The domain layer: every use case that writes, and the governance rules it enforces
//! (DESIGN.md §3). Web-free — it knows entities, the database and [`Actor`], nothing of
//! HTTP or GraphQL — so every rule can be exercised by unit and API tests alike.
//!
//! Each public method of [`Governance`] is one use case: it opens one transaction, checks
//! credentials and rules, writes, records its audit event(s) in the same transaction,
//! commits, and only then publishes its domain events.

pub mod access;
mod blackouts;
mod catalog;
pub mod catalog_upsert;
mod changes;
mod clock;
pub mod events;
mod processes;
mod releases;
pub mod risk;
pub mod rules;
pub mod tokens;
pub mod validate;
pub mod webhooks;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use entity::*;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use serde::Serialize;

pub use access::{Actor, ActorRoles};
pub use blackouts::{BlackoutPatch, NewBlackout};
pub use catalog::{NewService, OfferingPatch, ServicePatch};
pub use changes::{ChangePatch, NewChange, Review};
pub use clock::Clock;
pub use events::{DomainEvent, EventBus};
pub use processes::{ApprovalRulePatch, ChangeModelPatch, NewApprovalRule};
pub use releases::{NewRelease, ReleasePatch};

use crate::error::{AppError, AppResult};
use crate::store::Db;

/// An update argument: absent leaves the field unchanged, explicit `null` clears it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Patch<T> {
    /// Leave the field as it is.
    #[default]
    Keep,
    /// Clear the field (null, or empty for a text that cannot be null).
    Clear,
    /// Set the field.
    Set(T),
}

impl Patch<String> {
    /// A required text field: null is refused, a value must be non-empty and at most `max`
    /// characters; `None` when absent.
    pub fn required_text(self, field: &str, max: usize) -> AppResult<Option<String>> {
        self.required(field)?
            .map(|v| validate::text(field, &v, max))
            .transpose()
    }
}

impl<T> Patch<T> {
    /// The new value of a nullable field whose current value is `current`.
    pub fn apply(self, current: Option<T>) -> Option<T> {
        match self {
            Self::Keep => current,
            Self::Clear => None,
            Self::Set(v) => Some(v),
        }
    }

    /// Whether the argument was given (as a value or as null).
    pub fn is_given(&self) -> bool {
        !matches!(self, Self::Keep)
    }

    /// A required field: null is refused, naming `field`.
    pub fn required(self, field: &str) -> AppResult<Option<T>> {
        match self {
            Self::Keep => Ok(None),
            Self::Clear => Err(AppError::bad_input(format!(
                "`{field}` cannot be null; leave it out to keep it"
            ))),
            Self::Set(v) => Ok(Some(v)),
        }
    }

    /// Maps the value, failing when `f` fails.
    pub fn try_map<U>(self, f: impl FnOnce(T) -> AppResult<U>) -> AppResult<Patch<U>> {
        Ok(match self {
            Self::Keep => Patch::Keep,
            Self::Clear => Patch::Clear,
            Self::Set(v) => Patch::Set(f(v)?),
        })
    }
}

/// The service's use cases, over one database and one event bus.
#[derive(Clone, Debug)]
pub struct Governance {
    db: Db,
    bus: EventBus,
    /// On SQLite, the queue of write transactions: the engine has one writer at a time, and
    /// a writer that finds the lock taken sleeps in its busy handler for up to a hundred
    /// milliseconds at a time. Queued here instead, in order, the next starts the moment
    /// the last commits.
    writers: Option<Arc<tokio::sync::Mutex<()>>>,
    clock: Clock,
}

impl Governance {
    /// The use cases over `db`, publishing committed events to `bus`.
    pub fn new(db: DatabaseConnection, bus: EventBus) -> Self {
        let writers = (db.get_database_backend() == sea_orm::DbBackend::Sqlite)
            .then(|| Arc::new(tokio::sync::Mutex::new(())));
        Self {
            db: Db::Pool(db),
            bus,
            writers,
            clock: Clock::system(),
        }
    }

    /// Opens a dry run of one request: every use case it runs sees the writes of the ones
    /// before, runs every rule and write and answers as a real run would, and nothing of it
    /// is stored, audited or published ([`DryRun::end`] rolls it all back). On SQLite the
    /// dry run takes the writers' queue for its whole request, as the one writer.
    pub async fn dry_run(&self) -> AppResult<DryRun> {
        let Db::Pool(pool) = &self.db else {
            return Err(AppError::Internal("a dry run inside a dry run".into()));
        };
        let turn = self.turn().await;
        let txn = pool.begin_with_options(write_options()).await?;
        Ok(DryRun {
            governance: Self {
                db: Db::DryRun(Arc::new(txn)),
                // The dry run holds the queue's turn itself, for the whole request.
                writers: None,
                ..self.clone()
            },
            _turn: turn,
        })
    }

    /// On SQLite, this writer's place at the head of the queue (see `writers`).
    async fn turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match &self.writers {
            Some(queue) => Some(queue.clone().lock_owned().await),
            None => None,
        }
    }

    /// The same use cases, reading the time from `clock` (a replayed history).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The bus committed events are published to.
    pub fn bus(&self) -> &EventBus {
        &self.bus
    }

    /// Ends a creation: inserts the row, audits it as CREATED, commits; returns the row.
    async fn created<A>(
        &self,
        w: Work,
        row: A,
        entity_type: &str,
    ) -> AppResult<<A::Entity as EntityTrait>::Model>
    where
        A: ActiveModelTrait + sea_orm::ActiveModelBehavior + Send,
        <A::Entity as EntityTrait>::Model:
            sea_orm::IntoActiveModel<A> + Serialize + crate::store::lookup::HasId,
    {
        use crate::store::lookup::HasId;
        let created = row.insert(w.tx()).await?;
        w.audit("CREATED", entity_type, created.id(), None, Some(&created))
            .await?;
        w.commit(&self.bus).await?;
        Ok(created)
    }

    /// Opens the transaction of one use case. On SQLite it is `BEGIN IMMEDIATE`: writers
    /// queue for the lock up front instead of failing when they upgrade from reading, so
    /// only true conflicts (stale versions) surface as CONFLICT.
    async fn start(&self, actor: &Actor) -> AppResult<Work> {
        let turn = self.turn().await;
        let txn = self.db.begin(write_options()).await?;
        Ok(Work {
            txn,
            // Inside a dry run a use case is a savepoint that publishes nothing.
            dry_run: matches!(self.db, Db::DryRun(_)),
            actor: *actor,
            now: self.clock.now(),
            events: Vec::new(),
            ring_outbox: false,
            _turn: turn,
        })
    }
}

/// How a use case's transaction starts. On SQLite it is `BEGIN IMMEDIATE`: writers queue
/// for the lock up front instead of failing when they upgrade from reading, so only true
/// conflicts (stale versions) surface as CONFLICT.
fn write_options() -> TransactionOptions {
    TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    }
}

/// A dry run of one request (see [`Governance::dry_run`]).
pub struct DryRun {
    governance: Governance,
    /// On SQLite, the writers' queue, held until the end.
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl DryRun {
    /// The use cases, inside the dry run.
    pub fn governance(&self) -> &Governance {
        &self.governance
    }

    /// The database as the dry run sees it, for the request's reads.
    pub fn db(&self) -> &Db {
        &self.governance.db
    }

    /// Rolls back everything the request wrote. Anything still holding the transaction
    /// (it should be nothing once the request has been answered) rolls it back when dropped.
    pub async fn end(self) -> AppResult<()> {
        let Db::DryRun(txn) = self.governance.db else {
            return Ok(());
        };
        if let Ok(txn) = Arc::try_unwrap(txn) {
            txn.rollback().await?;
        }
        Ok(())
    }
}

/// The system's current time at the precision both engines store (see [`Clock::now`]).
pub fn now() -> DateTime<Utc> {
    Clock::system().now()
}

/// The open transaction of one use case, with the events it will publish on commit.
pub(crate) struct Work {
    txn: DatabaseTransaction,
    /// Part of a dry run: publishes nothing (see [`Governance::dry_run`]).
    dry_run: bool,
    actor: Actor,
    now: DateTime<Utc>,
    events: Vec<DomainEvent>,
    /// Wake the webhook worker after the commit (deliveries became due).
    ring_outbox: bool,
    /// The writer's place at the head of the SQLite queue, given up when the work ends
    /// (committed or dropped).
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Work {
    /// The transaction, for queries.
    fn tx(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// Appends an audit event (rule 12). `before` / `after` are the row images.
    async fn audit<T: Serialize>(
        &self,
        action: &str,
        entity_type: &str,
        entity_id: i64,
        before: Option<&T>,
        after: Option<&T>,
    ) -> AppResult<()> {
        let image = |v: Option<&T>| -> AppResult<Option<serde_json::Value>> {
            v.map(serde_json::to_value)
                .transpose()
                .map_err(|e| AppError::Internal(format!("audit image: {e}")))
        };
        audit_event::ActiveModel {
            at: sea_orm::Set(self.now),
            actor_id: sea_orm::Set(self.actor.person_id),
            action: sea_orm::Set(action.to_owned()),
            entity_type: sea_orm::Set(entity_type.to_owned()),
            entity_id: sea_orm::Set(entity_id),
            before: sea_orm::Set(image(before)?),
            after: sea_orm::Set(image(after)?),
            ..Default::default()
        }
        .insert(self.tx())
        .await?;
        Ok(())
    }

    /// Records an event about a change, to publish after commit.
    async fn change_event(
        &mut self,
        c: &change::Model,
        action: &str,
        from: Option<ChangeStatus>,
    ) -> AppResult<()> {
        let service_ids = change_service::Entity::find()
            .filter(change_service::Column::ChangeId.eq(c.id))
            .all(self.tx())
            .await?
            .into_iter()
            .map(|l| l.service_id)
            .collect();
        self.events.push(DomainEvent::Change(events::ChangeEvent {
            change_id: c.id,
            project_id: c.project_id,
            service_ids,
            services_elided: false,
            action: action.to_owned(),
            from,
            to: Some(c.status),
            actor_id: self.actor.person_id,
            at: self.now,
        }));
        Ok(())
    }

    /// Records an event about a release, to publish after commit.
    fn release_event(&mut self, r: &release::Model, action: &str, from: Option<ReleaseStatus>) {
        self.events.push(DomainEvent::Release(events::ReleaseEvent {
            release_id: r.id,
            project_id: r.project_id,
            action: action.to_owned(),
            from,
            to: Some(r.status),
            actor_id: self.actor.person_id,
            at: self.now,
        }));
    }

    /// Commits with the events' webhook deliveries (the outbox); the events reach
    /// subscribers, and the deliveries the worker, only once the commit has succeeded.
    async fn commit(self, bus: &EventBus) -> AppResult<()> {
        if self.dry_run {
            // A savepoint released: the rest of the request sees the writes, the end of
            // the dry run rolls them back, and the events die unpublished.
            self.txn.commit().await?;
            return Ok(());
        }
        bus.before_commit(&self.txn, &self.events).await?;
        let queued = webhooks::enqueue(&self.txn, &self.events, self.now).await?;
        self.txn.commit().await?;
        bus.after_commit(self.events);
        if queued > 0 || self.ring_outbox {
            bus.outbox_filled();
        }
        Ok(())
    }
}

/// An entity with an integer row version guarding concurrent updates (rule 11).
pub(crate) trait Versioned: EntityTrait {
    /// GraphQL type name, used in messages and as the audit `entity_type`.
    const NAME: &'static str;
    fn id_column() -> Self::Column;
    fn version_column() -> Self::Column;
    fn updated_at_column() -> Self::Column;
}

macro_rules! versioned {
    ($($module:ident => $name:literal, $version:ident;)+) => {
        $(
            impl Versioned for $module::Entity {
                const NAME: &'static str = $name;
                fn id_column() -> Self::Column {
                    $module::Column::Id
                }
                fn version_column() -> Self::Column {
                    $module::Column::$version
                }
                fn updated_at_column() -> Self::Column {
                    $module::Column::UpdatedAt
                }
            }
        )+
    };
}

versioned! {
    person => "Person", Version;
    partner => "Partner", Version;
    service => "Service", Version;
    service_offering => "ServiceOffering", Version;
    process => "Process", Version;
    project => "Project", Version;
    change_model => "ChangeModel", Version;
    change => "Change", Version;
    release => "Release", Revision;
    blackout_window => "BlackoutWindow", Version;
    approval_rule => "ApprovalRule", Version;
    webhook_endpoint => "WebhookEndpoint", Version;
}

/// A stale `expectedVersion` is a CONFLICT that changes nothing.
fn expect_version<E: Versioned>(expected: Option<i32>, current: i32, id: i64) -> AppResult<()> {
    match expected {
        Some(v) if v != current => Err(AppError::Conflict(format!(
            "{} {id} is at version {current}, not {v}: it was changed since you read it; reload and retry",
            E::NAME
        ))),
        _ => Ok(()),
    }
}

/// Refuses a natural key that a row of `E` already has, with a CONFLICT naming the field
/// (the unique index stays the backstop for a concurrent insert).
async fn ensure_free<E>(
    w: &Work,
    column: E::Column,
    value: &str,
    what: &str,
    field: &str,
) -> AppResult<()>
where
    E: EntityTrait,
    E::Model: Sync,
{
    let taken = E::find().filter(column.eq(value)).count(w.tx()).await?;
    if taken > 0 {
        return Err(AppError::Conflict(format!(
            "`{field}`: a {what} with {field} `{value}` already exists"
        )));
    }
    Ok(())
}

/// Loads row `id` of `E` inside the use case's transaction; NOT_FOUND names `field`.
async fn load<E>(w: &Work, id: i64, field: &str) -> AppResult<E::Model>
where
    E: EntityTrait,
    <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<i64>,
{
    E::find_by_id(id)
        .one(w.tx())
        .await?
        .ok_or_else(|| AppError::not_found(format!("`{field}`: no such object (id {id})")))
}

/// Writes `changes` to row `id` of `E` and bumps its version, but only if the version is
/// still `seen` (`UPDATE … SET version = version + 1 WHERE id = ? AND version = ?`): a
/// concurrent writer that got there first makes this a CONFLICT. Returns the new row.
async fn save<E, A>(w: &Work, changes: A, id: i64, seen: i32) -> AppResult<E::Model>
where
    E: Versioned,
    A: sea_orm::ActiveModelTrait<Entity = E> + Send,
    <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<i64>,
{
    let version = E::version_column();
    let result = E::update_many()
        .set(changes)
        .col_expr(version, Expr::col(version).add(1))
        .col_expr(E::updated_at_column(), Expr::value(w.now))
        .filter(E::id_column().eq(id))
        .filter(version.eq(seen))
        .exec(w.tx())
        .await?;
    if result.rows_affected != 1 {
        return Err(AppError::Conflict(format!(
            "{} {id} was changed concurrently; reload and retry",
            E::NAME
        )));
    }
    load::<E>(w, id, "id").await
}

/// Bumps the version of a row whose rules a use case relied on, so that a concurrent use
/// case relying on the same row cannot also pass (rule 11).
async fn guard<E>(w: &Work, id: i64, seen: i32) -> AppResult<E::Model>
where
    E: Versioned,
    E::ActiveModel: Default + Send,
    <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<i64>,
{
    save::<E, E::ActiveModel>(w, <E::ActiveModel as Default>::default(), id, seen).await
}

/// Fails with NOT_FOUND unless every id of `ids` names a row of `E`; returns the rows in
/// the order of `ids`.
async fn load_all<E>(w: &Work, ids: &[i64], field: &str) -> AppResult<Vec<E::Model>>
where
    E: Versioned,
    E::Model: crate::store::lookup::HasId,
{
    use crate::store::lookup::HasId;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = E::find()
        .filter(E::id_column().is_in(ids.iter().copied()))
        .all(w.tx())
        .await?;
    ids.iter()
        .map(|id| {
            rows.iter()
                .find(|r| r.id() == *id)
                .cloned()
                .ok_or_else(|| AppError::not_found(format!("`{field}`: no such object (id {id})")))
        })
        .collect()
}
