//! Webhooks (ADMIN): endpoints that receive every committed change and release event they
//! ask for, signed, at least once.
//!
//! The outbox is the `webhook_delivery` table. [`enqueue`] writes one row per event and
//! matching endpoint inside the transaction of the use case that produced the event, so
//! a commit and its deliveries stand or fall together; a crash after the commit loses
//! nothing. The delivery worker (the server's) claims due rows with a lease
//! ([`Governance::claim_deliveries`]: one `UPDATE … RETURNING`, with `FOR UPDATE SKIP
//! LOCKED` on PostgreSQL so instances sharing the database never claim the same row),
//! sends them, and records each attempt ([`Governance::record_attempt`]). A worker that
//! dies mid-send leaves its rows leased; they fall due again when the lease ends.

use chrono::{DateTime, Utc};
use entity::*;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    FromQueryResult, ModelTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::{Value, json};

use super::events::DomainEvent;
use super::validate::{self, MAX_DESCRIPTION};
use super::{Actor, Governance, Patch, Work, expect_version, load, load_all, save};
use crate::error::{AppError, AppResult};
use crate::ids::global;
use crate::store::sql::Binds;

/// Longest endpoint URL accepted.
pub const MAX_URL: usize = 2_000;

/// A new endpoint.
#[derive(Clone, Debug)]
pub struct NewEndpoint {
    pub url: String,
    pub description: Option<String>,
    /// What it receives; empty: every kind.
    pub event_types: Vec<WebhookEventType>,
    /// Only events touching one of these services; empty: any.
    pub service_ids: Vec<i64>,
    /// Only events of one of these projects; empty: any.
    pub project_ids: Vec<i64>,
}

/// Edits of an endpoint.
#[derive(Clone, Debug, Default)]
pub struct EndpointPatch {
    pub url: Patch<String>,
    pub description: Patch<String>,
    pub event_types: Patch<Vec<WebhookEventType>>,
    pub service_ids: Patch<Vec<i64>>,
    pub project_ids: Patch<Vec<i64>>,
    pub paused: Option<bool>,
    /// Issue a new secret (answered once, in this mutation's answer).
    pub rotate_secret: bool,
}

/// Checks an endpoint URL: absolute `http` or `https` with a host, no credentials in it.
pub fn check_url(field: &str, raw: &str) -> AppResult<String> {
    let raw = raw.trim();
    let bad = |why: &str| AppError::bad_input(format!("`{field}` {why}: {raw:?}"));
    if raw.len() > MAX_URL {
        return Err(bad(&format!("is longer than {MAX_URL} characters")));
    }
    let url = url::Url::parse(raw).map_err(|e| bad(&format!("is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("must be an http or https URL"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "must not carry credentials (the signature authenticates us)",
        ));
    }
    Ok(url.to_string())
}

/// A new signing secret: `whsec_` and the base64 of 32 random bytes, as the Standard
/// Webhooks libraries expect it.
fn new_secret() -> AppResult<String> {
    use base64::Engine;
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| AppError::Internal(format!("randomness: {e}")))?;
    Ok(format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    ))
}

/// A new message id (the `webhook-id` of one event, shared by its endpoints and retries).
fn new_message_id() -> AppResult<String> {
    let mut raw = [0u8; 16];
    getrandom::fill(&mut raw).map_err(|e| AppError::Internal(format!("randomness: {e}")))?;
    let mut id = String::with_capacity(36);
    id.push_str("msg_");
    for b in raw {
        id.push_str(&format!("{b:02x}"));
    }
    Ok(id)
}

fn ids_or_none(ids: Vec<i64>) -> Option<webhook_endpoint::IdList> {
    let ids = validate::distinct(&ids);
    (!ids.is_empty()).then_some(webhook_endpoint::IdList(ids))
}

fn event_types(mut types: Vec<WebhookEventType>) -> webhook_endpoint::EventTypes {
    if types.is_empty() {
        types = vec![WebhookEventType::Change, WebhookEventType::Release];
    }
    types.sort_by_key(|t| t.as_str());
    types.dedup();
    webhook_endpoint::EventTypes(types)
}

async fn check_targets(w: &Work, services: &[i64], projects: &[i64]) -> AppResult<()> {
    validate::list("serviceIds", services)?;
    validate::list("projectIds", projects)?;
    load_all::<service::Entity>(w, &validate::distinct(services), "serviceIds").await?;
    load_all::<project::Entity>(w, &validate::distinct(projects), "projectIds").await?;
    Ok(())
}

/// Which deliveries of an endpoint to list.
#[derive(Clone, Debug)]
pub struct DeliveryFilter {
    pub endpoint_id: i64,
    pub status: Option<DeliveryStatus>,
    /// Only deliveries older than this one (the previous page's last).
    pub before_id: Option<i64>,
    pub limit: u64,
}

impl Governance {
    /// Every endpoint, oldest first (ADMIN); secrets blanked.
    pub async fn webhook_endpoints(
        &self,
        actor: &Actor,
    ) -> AppResult<Vec<webhook_endpoint::Model>> {
        actor.admin("listing webhook endpoints")?;
        let rows = webhook_endpoint::Entity::find()
            .order_by_asc(webhook_endpoint::Column::Id)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|e| webhook_endpoint::Model {
                secret: String::new(),
                ..e
            })
            .collect())
    }

    /// An endpoint's deliveries, newest first (ADMIN).
    pub async fn webhook_deliveries(
        &self,
        actor: &Actor,
        filter: DeliveryFilter,
    ) -> AppResult<Vec<webhook_delivery::Model>> {
        actor.admin("listing webhook deliveries")?;
        let mut query = webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::EndpointId.eq(filter.endpoint_id))
            .order_by_desc(webhook_delivery::Column::Id)
            .limit(filter.limit);
        if let Some(status) = filter.status {
            query = query.filter(webhook_delivery::Column::Status.eq(status));
        }
        if let Some(before) = filter.before_id {
            query = query.filter(webhook_delivery::Column::Id.lt(before));
        }
        Ok(query.all(&self.db).await?)
    }

    /// Registers an endpoint (ADMIN). The answer is the only one that shows its secret.
    pub async fn register_webhook(
        &self,
        actor: &Actor,
        input: NewEndpoint,
    ) -> AppResult<webhook_endpoint::Model> {
        actor.admin("registering a webhook endpoint")?;
        let url = check_url("url", &input.url)?;
        let description = input
            .description
            .map(|d| validate::long_text("description", &d, MAX_DESCRIPTION))
            .transpose()?;
        let w = self.start(actor).await?;
        check_targets(&w, &input.service_ids, &input.project_ids).await?;
        let secret = new_secret()?;
        let created = webhook_endpoint::ActiveModel {
            url: Set(url),
            description: Set(description),
            event_types: Set(event_types(input.event_types)),
            service_ids: Set(ids_or_none(input.service_ids)),
            project_ids: Set(ids_or_none(input.project_ids)),
            secret: Set(secret.clone()),
            paused: Set(false),
            created_at: Set(w.now),
            updated_at: Set(w.now),
            version: Set(1),
            ..Default::default()
        }
        .insert(w.tx())
        .await?;
        // The image leaves the secret out (see the entity).
        w.audit(
            "CREATED",
            "WebhookEndpoint",
            created.id,
            None,
            Some(&created),
        )
        .await?;
        w.commit(&self.bus).await?;
        Ok(webhook_endpoint::Model { secret, ..created })
    }

    /// Changes, pauses, resumes or re-keys an endpoint (ADMIN). A paused endpoint still
    /// collects deliveries; they wait, and go out once it is resumed. The secret is in the
    /// answer only when `rotate_secret` asked for a new one (empty otherwise).
    pub async fn update_webhook(
        &self,
        actor: &Actor,
        id: i64,
        expected: Option<i32>,
        patch: EndpointPatch,
    ) -> AppResult<webhook_endpoint::Model> {
        actor.admin("changing a webhook endpoint")?;
        let url = patch
            .url
            .required("url")?
            .map(|u| check_url("url", &u))
            .transpose()?;
        let mut w = self.start(actor).await?;
        let before = load::<webhook_endpoint::Entity>(&w, id, "id").await?;
        expect_version::<webhook_endpoint::Entity>(expected, before.version, id)?;
        let mut am: webhook_endpoint::ActiveModel = Default::default();
        if let Some(u) = url {
            am.url = Set(u);
        }
        if patch.description.is_given() {
            am.description = Set(patch
                .description
                .apply(None)
                .map(|d| validate::long_text("description", &d, MAX_DESCRIPTION))
                .transpose()?);
        }
        if let Some(types) = patch.event_types.required("eventTypes")? {
            am.event_types = Set(event_types(types));
        }
        let (services_given, projects_given) =
            (patch.service_ids.is_given(), patch.project_ids.is_given());
        let services = patch.service_ids.apply(None).unwrap_or_default();
        let projects = patch.project_ids.apply(None).unwrap_or_default();
        check_targets(&w, &services, &projects).await?;
        if services_given {
            am.service_ids = Set(ids_or_none(services));
        }
        if projects_given {
            am.project_ids = Set(ids_or_none(projects));
        }
        if let Some(p) = patch.paused {
            am.paused = Set(p);
        }
        let secret = if patch.rotate_secret {
            let s = new_secret()?;
            am.secret = Set(s.clone());
            s
        } else {
            String::new()
        };
        let after = save::<webhook_endpoint::Entity, _>(&w, am, id, before.version).await?;
        let action = match (before.paused, after.paused) {
            (false, true) => "PAUSED",
            (true, false) => "RESUMED",
            _ => "UPDATED",
        };
        w.audit(action, "WebhookEndpoint", id, Some(&before), Some(&after))
            .await?;
        w.ring_outbox = !after.paused;
        w.commit(&self.bus).await?;
        Ok(webhook_endpoint::Model { secret, ..after })
    }

    /// Deletes an endpoint and its deliveries (ADMIN); returns it as it was.
    pub async fn delete_webhook(
        &self,
        actor: &Actor,
        id: i64,
    ) -> AppResult<webhook_endpoint::Model> {
        actor.admin("deleting a webhook endpoint")?;
        let w = self.start(actor).await?;
        let before = load::<webhook_endpoint::Entity>(&w, id, "id").await?;
        before.clone().delete(w.tx()).await?;
        w.audit::<webhook_endpoint::Model>("DELETED", "WebhookEndpoint", id, Some(&before), None)
            .await?;
        w.commit(&self.bus).await?;
        Ok(before)
    }

    /// Sends a delivery again (ADMIN), whatever became of it: PENDING from now, with a new
    /// round of retries. The receiver gets the same `webhook-id` and body.
    pub async fn replay_delivery(
        &self,
        actor: &Actor,
        id: i64,
    ) -> AppResult<webhook_delivery::Model> {
        actor.admin("replaying a webhook delivery")?;
        let mut w = self.start(actor).await?;
        let before = load::<webhook_delivery::Entity>(&w, id, "id").await?;
        let after = webhook_delivery::ActiveModel {
            id: Set(id),
            status: Set(DeliveryStatus::Pending),
            next_attempt_at: Set(w.now),
            round_started_at: Set(w.now),
            delivered_at: Set(None),
            ..Default::default()
        }
        .update(w.tx())
        .await?;
        let image = |d: &webhook_delivery::Model| json!({ "status": d.status, "attempts": d.attempts, "endpointId": d.endpoint_id });
        w.audit(
            "REPLAYED",
            "WebhookDelivery",
            id,
            Some(&image(&before)),
            Some(&image(&after)),
        )
        .await?;
        w.ring_outbox = true;
        w.commit(&self.bus).await?;
        Ok(after)
    }

    /// Claims up to `limit` due deliveries of active endpoints for this worker, leasing
    /// them until `lease_until` on PostgreSQL: no other instance's worker takes them before
    /// then. On SQLite, whose one process has one worker, claiming is reading: no write
    /// (a delivery cut short by a crash is still due, and goes out again after the restart).
    pub async fn claim_deliveries(
        &self,
        limit: u64,
        lease_until: DateTime<Utc>,
    ) -> AppResult<Vec<Claimed>> {
        let now = self.clock.now();
        let backend = self.db.get_database_backend();
        // Bound in the order the text uses them (SQLite's `?` are positional).
        let mut b = Binds::new(backend);
        let sql = match backend {
            sea_orm::DbBackend::Postgres => {
                let lease = b.bind(lease_until);
                let due = due_rows(&mut b, now, limit);
                format!(
                    "UPDATE webhook_delivery SET next_attempt_at = {lease} WHERE id IN (\
                     {due} FOR UPDATE OF d SKIP LOCKED) \
                     RETURNING id, endpoint_id, message_id, payload, attempts, round_started_at"
                )
            }
            _ => {
                let due = due_rows(&mut b, now, limit);
                format!(
                    "SELECT id, endpoint_id, message_id, payload, attempts, round_started_at \
                     FROM webhook_delivery WHERE id IN ({due}) ORDER BY next_attempt_at, id"
                )
            }
        };
        let rows = self.db.query_all_raw(b.statement(sql)).await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in &rows {
            claimed.push(ClaimedRow::from_query_result(row, "")?);
        }
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> =
            validate::distinct(&claimed.iter().map(|c| c.endpoint_id).collect::<Vec<_>>());
        let endpoints = webhook_endpoint::Entity::find()
            .filter(webhook_endpoint::Column::Id.is_in(ids))
            .all(&self.db)
            .await?;
        Ok(claimed
            .into_iter()
            .filter_map(|c| {
                let e = endpoints.iter().find(|e| e.id == c.endpoint_id)?;
                Some(Claimed {
                    id: c.id,
                    url: e.url.clone(),
                    secret: e.secret.clone(),
                    message_id: c.message_id,
                    payload: c.payload,
                    attempts: c.attempts,
                    round_started_at: c.round_started_at,
                })
            })
            .collect())
    }

    /// Records attempts (delivery id, what happened), in one transaction.
    pub async fn record_attempts(&self, attempts: Vec<(i64, Attempt)>) -> AppResult<()> {
        use sea_orm::sea_query::{Expr, ExprTrait};
        if attempts.is_empty() {
            return Ok(());
        }
        let _turn = self.turn().await;
        let txn = self.db.begin(super::write_options()).await?;
        for (id, attempt) in attempts {
            let (status, next, delivered) = match attempt.next {
                Next::Delivered => (DeliveryStatus::Delivered, None, Some(attempt.at)),
                Next::RetryAt(t) => (DeliveryStatus::Pending, Some(t), None),
                Next::Failed => (DeliveryStatus::Failed, None, None),
            };
            let mut am = webhook_delivery::ActiveModel {
                status: Set(status),
                last_attempt_at: Set(Some(attempt.at)),
                last_status: Set(attempt.status),
                last_error: Set(attempt.error),
                delivered_at: Set(delivered),
                ..Default::default()
            };
            if let Some(t) = next {
                am.next_attempt_at = Set(t);
            }
            webhook_delivery::Entity::update_many()
                .set(am)
                .col_expr(
                    webhook_delivery::Column::Attempts,
                    Expr::col(webhook_delivery::Column::Attempts).add(1),
                )
                .filter(webhook_delivery::Column::Id.eq(id))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Deletes the deliveries that ended (DELIVERED or FAILED) before `cutoff`; returns how
    /// many. Their history goes with them; a FAILED one can no longer be replayed.
    pub async fn prune_deliveries(&self, cutoff: DateTime<Utc>) -> AppResult<u64> {
        let _turn = self.turn().await;
        let done = [DeliveryStatus::Delivered, DeliveryStatus::Failed];
        let result = webhook_delivery::Entity::delete_many()
            .filter(webhook_delivery::Column::Status.is_in(done))
            .filter(webhook_delivery::Column::CreatedAt.lt(cutoff))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected)
    }

    /// The outbox's pending deliveries (of paused endpoints too), and when the next one
    /// of an active endpoint falls due, if any does. One statement.
    pub async fn outbox_state(&self) -> AppResult<(u64, Option<DateTime<Utc>>)> {
        let backend = self.db.get_database_backend();
        let mut b = Binds::new(backend);
        let pending = b.bind(DeliveryStatus::Pending.as_str());
        let sql = format!(
            "SELECT COUNT(*) AS pending, \
             MIN(CASE WHEN e.paused THEN NULL ELSE d.next_attempt_at END) AS due \
             FROM webhook_delivery d JOIN webhook_endpoint e ON e.id = d.endpoint_id \
             WHERE d.status = {pending}"
        );
        let Some(row) = self.db.query_one_raw(b.statement(sql)).await? else {
            return Ok((0, None));
        };
        let pending: i64 = row.try_get("", "pending")?;
        let due: Option<DateTime<Utc>> = row.try_get("", "due")?;
        Ok((pending.max(0) as u64, due))
    }
}

/// The ids of up to `limit` due deliveries of active endpoints, oldest due first.
fn due_rows(b: &mut Binds, now: DateTime<Utc>, limit: u64) -> String {
    let pending = b.bind(DeliveryStatus::Pending.as_str());
    let due = b.bind(now);
    let limit = b.bind(limit as i64);
    format!(
        "SELECT d.id FROM webhook_delivery d JOIN webhook_endpoint e ON e.id = d.endpoint_id \
         WHERE d.status = {pending} AND d.next_attempt_at <= {due} AND NOT e.paused \
         ORDER BY d.next_attempt_at, d.id LIMIT {limit}"
    )
}

#[derive(FromQueryResult)]
struct ClaimedRow {
    id: i64,
    endpoint_id: i64,
    message_id: String,
    payload: String,
    attempts: i32,
    round_started_at: DateTime<Utc>,
}

/// A delivery claimed by a worker, with what it needs to send it.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub id: i64,
    pub url: String,
    pub secret: String,
    pub message_id: String,
    pub payload: String,
    /// Attempts before this one.
    pub attempts: i32,
    pub round_started_at: DateTime<Utc>,
}

/// One attempt's result.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub at: DateTime<Utc>,
    /// The receiver's HTTP status, when it answered.
    pub status: Option<i32>,
    /// Why it did not succeed.
    pub error: Option<String>,
    pub next: Next,
}

/// What follows an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    Delivered,
    RetryAt(DateTime<Utc>),
    Failed,
}

/// The Standard Webhooks event type of `e`, e.g. `change.submitted`.
fn event_type(e: &DomainEvent) -> String {
    let (kind, action) = match e {
        DomainEvent::Change(c) => ("change", &c.action),
        DomainEvent::Release(r) => ("release", &r.action),
    };
    format!("{kind}.{}", action.to_ascii_lowercase())
}

/// The body sent for `e`: `{type, timestamp, data}` as Standard Webhooks recommends, every
/// reference as the API's global ID.
fn payload(e: &DomainEvent) -> Value {
    let opt = |ty: &str, id: Option<i64>| id.map(|i| global(ty, i));
    let data = match e {
        DomainEvent::Change(c) => json!({
            "changeId": global("Change", c.change_id),
            "action": c.action,
            "fromStatus": c.from,
            "toStatus": c.to,
            "projectId": opt("Project", c.project_id),
            "serviceIds": c.service_ids.iter().map(|s| global("Service", *s)).collect::<Vec<_>>(),
            "actorId": opt("Person", c.actor_id),
            "at": c.at,
        }),
        DomainEvent::Release(r) => json!({
            "releaseId": global("Release", r.release_id),
            "action": r.action,
            "fromStatus": r.from,
            "toStatus": r.to,
            "projectId": opt("Project", r.project_id),
            "actorId": opt("Person", r.actor_id),
            "at": r.at,
        }),
    };
    let at = match e {
        DomainEvent::Change(c) => c.at,
        DomainEvent::Release(r) => r.at,
    };
    json!({ "type": event_type(e), "timestamp": at, "data": data })
}

/// Whether endpoint `ep` receives `e`, whose services are `services`.
fn wants(ep: &webhook_endpoint::Model, e: &DomainEvent, services: &[i64]) -> bool {
    let (kind, project) = match e {
        DomainEvent::Change(c) => (WebhookEventType::Change, c.project_id),
        DomainEvent::Release(r) => (WebhookEventType::Release, r.project_id),
    };
    let in_list = |list: &Option<webhook_endpoint::IdList>, ids: &[i64]| match list {
        Some(l) if !l.0.is_empty() => ids.iter().any(|i| l.0.contains(i)),
        _ => true,
    };
    ep.event_types.0.contains(&kind)
        && in_list(&ep.project_ids, &project.into_iter().collect::<Vec<_>>())
        && in_list(&ep.service_ids, services)
}

/// Rows per `INSERT` of deliveries, well under both engines' parameter limits.
const ROWS_PER_INSERT: usize = 500;

/// Writes the deliveries of `events` to every endpoint that wants them, in the committing
/// transaction; returns how many. One statement when no endpoint exists.
pub(super) async fn enqueue(
    txn: &DatabaseTransaction,
    events: &[DomainEvent],
    now: DateTime<Utc>,
) -> AppResult<usize> {
    if events.is_empty() {
        return Ok(0);
    }
    let endpoints = webhook_endpoint::Entity::find().all(txn).await?;
    if endpoints.is_empty() {
        return Ok(0);
    }
    let release_services = release_services(txn, events, &endpoints).await?;
    let mut rows = Vec::new();
    for e in events {
        let services: &[i64] = match e {
            DomainEvent::Change(c) => &c.service_ids,
            DomainEvent::Release(r) => release_services
                .iter()
                .find(|(id, _)| *id == r.release_id)
                .map_or(&[], |(_, s)| s.as_slice()),
        };
        let targets: Vec<i64> = endpoints
            .iter()
            .filter(|ep| wants(ep, e, services))
            .map(|ep| ep.id)
            .collect();
        if targets.is_empty() {
            continue;
        }
        let (message_id, ty) = (new_message_id()?, event_type(e));
        let body = payload(e).to_string();
        rows.extend(
            targets
                .into_iter()
                .map(|endpoint| webhook_delivery::ActiveModel {
                    endpoint_id: Set(endpoint),
                    message_id: Set(message_id.clone()),
                    event_type: Set(ty.clone()),
                    payload: Set(body.clone()),
                    status: Set(DeliveryStatus::Pending),
                    attempts: Set(0),
                    next_attempt_at: Set(now),
                    round_started_at: Set(now),
                    last_attempt_at: Set(None),
                    last_status: Set(None),
                    last_error: Set(None),
                    delivered_at: Set(None),
                    created_at: Set(now),
                    ..Default::default()
                }),
        );
    }
    let queued = rows.len();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(ROWS_PER_INSERT).collect();
        webhook_delivery::Entity::insert_many(chunk)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(queued)
}

/// The services of the releases among `events`, when an endpoint filters by service.
async fn release_services(
    txn: &DatabaseTransaction,
    events: &[DomainEvent],
    endpoints: &[webhook_endpoint::Model],
) -> AppResult<Vec<(i64, Vec<i64>)>> {
    let releases: Vec<i64> = events
        .iter()
        .filter_map(|e| match e {
            DomainEvent::Release(r) => Some(r.release_id),
            DomainEvent::Change(_) => None,
        })
        .collect();
    let filtered = endpoints
        .iter()
        .any(|e| e.service_ids.as_ref().is_some_and(|s| !s.0.is_empty()));
    if releases.is_empty() || !filtered {
        return Ok(Vec::new());
    }
    let links = release_service::Entity::find()
        .filter(release_service::Column::ReleaseId.is_in(releases.clone()))
        .all(txn)
        .await?;
    Ok(releases
        .into_iter()
        .map(|r| {
            let s = links
                .iter()
                .filter(|l| l.release_id == r)
                .map(|l| l.service_id)
                .collect();
            (r, s)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::events::{ChangeEvent, ReleaseEvent};

    fn endpoint(
        types: &[WebhookEventType],
        services: &[i64],
        projects: &[i64],
    ) -> webhook_endpoint::Model {
        let now = Utc::now();
        webhook_endpoint::Model {
            id: 1,
            url: "https://example.org/hook".into(),
            description: None,
            event_types: webhook_endpoint::EventTypes(types.to_vec()),
            service_ids: ids_or_none(services.to_vec()),
            project_ids: ids_or_none(projects.to_vec()),
            secret: String::new(),
            paused: false,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    fn change(project: Option<i64>, services: &[i64]) -> DomainEvent {
        DomainEvent::Change(ChangeEvent {
            change_id: 7,
            project_id: project,
            service_ids: services.to_vec(),
            services_elided: false,
            action: "SUBMITTED".into(),
            from: Some(ChangeStatus::Draft),
            to: Some(ChangeStatus::Submitted),
            actor_id: Some(3),
            at: Utc::now(),
        })
    }

    fn release(project: Option<i64>) -> DomainEvent {
        DomainEvent::Release(ReleaseEvent {
            release_id: 9,
            project_id: project,
            action: "DEPLOYED".into(),
            from: Some(ReleaseStatus::Ready),
            to: Some(ReleaseStatus::Deployed),
            actor_id: None,
            at: Utc::now(),
        })
    }

    #[test]
    fn an_endpoint_receives_only_its_kinds_services_and_projects() {
        use WebhookEventType::{Change, Release};
        let any = endpoint(&[Change, Release], &[], &[]);
        assert!(wants(&any, &change(None, &[]), &[]));
        assert!(wants(&any, &release(Some(2)), &[]));
        let changes = endpoint(&[Change], &[], &[]);
        assert!(!wants(&changes, &release(None), &[]));
        let of_service = endpoint(&[Change, Release], &[5], &[]);
        assert!(wants(&of_service, &change(None, &[4, 5]), &[4, 5]));
        assert!(!wants(&of_service, &change(None, &[4]), &[4]));
        assert!(wants(&of_service, &release(None), &[5]));
        assert!(!wants(&of_service, &release(None), &[]));
        let of_project = endpoint(&[Change, Release], &[], &[2]);
        assert!(wants(&of_project, &release(Some(2)), &[]));
        assert!(!wants(&of_project, &change(Some(3), &[]), &[]));
        assert!(!wants(&of_project, &change(None, &[]), &[]));
    }

    #[test]
    fn a_payload_names_its_type_and_objects_by_global_id() {
        let body = payload(&change(Some(2), &[5]));
        assert_eq!(body["type"], "change.submitted");
        assert_eq!(body["data"]["changeId"], global("Change", 7));
        assert_eq!(body["data"]["serviceIds"][0], global("Service", 5));
        assert_eq!(body["data"]["toStatus"], "SUBMITTED");
        assert_eq!(body["timestamp"], body["data"]["at"]);
    }

    #[test]
    fn only_absolute_http_urls_without_credentials_are_endpoints() {
        assert!(check_url("url", "https://hooks.example.org/in?x=1").is_ok());
        assert!(check_url("url", "http://127.0.0.1:8080/").is_ok());
        for bad in [
            "ftp://example.org/",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "/relative",
            "https://user:pw@example.org/",
            "not a url",
        ] {
            assert!(check_url("url", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn secrets_and_message_ids_are_random_and_well_formed() {
        let (a, b) = (new_secret().ok(), new_secret().ok());
        assert_ne!(a, b);
        assert!(a.is_some_and(|s| s.starts_with("whsec_") && s.len() == 6 + 44));
        let id = new_message_id().ok();
        assert!(id.is_some_and(|i| i.starts_with("msg_") && i.len() == 36));
    }
}
