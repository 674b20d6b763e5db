//! Webhook endpoints and their deliveries, as administrators see them. Never a secret,
//! except once in the answer that created or rotated it.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{project, service, webhook_delivery, webhook_endpoint};

use super::{Project, Service, wrapper};
use crate::graphql::enums::{DeliveryStatus, WebhookEventType};
use crate::graphql::ids::{Kind, encode};
use crate::graphql::many;

wrapper!(
    /// A URL that receives change and release events as signed HTTP POSTs (Standard
    /// Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature`), at least once:
    /// receivers deduplicate on `webhook-id`.
    WebhookEndpoint, webhook_endpoint::Model
);

/// The ids of an endpoint's filter list.
fn ids(list: Option<&webhook_endpoint::IdList>) -> Vec<i64> {
    list.map(|l| l.0.clone()).unwrap_or_default()
}

#[Object(use_type_description)]
impl WebhookEndpoint {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        encode(Kind::WebhookEndpoint, self.0.id)
    }
    /// Where events are POSTed (http or https; redirects are not followed).
    async fn url(&self) -> &str {
        &self.0.url
    }
    /// What it is for, e.g. "PMO tracker".
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// The kinds of event it receives.
    async fn event_types(&self) -> Vec<WebhookEventType> {
        self.0.event_types.0.iter().map(|t| (*t).into()).collect()
    }
    /// It receives only events about changes (and releases) touching one of these
    /// services; empty: any service.
    async fn services(&self, ctx: &Context<'_>) -> Result<Vec<Service>> {
        let found = many::<service::Entity>(ctx, ids(self.0.service_ids.as_ref())).await?;
        Ok(found.into_iter().map(Service).collect())
    }
    /// It receives only events about changes and releases of one of these projects;
    /// empty: any project (or none).
    async fn projects(&self, ctx: &Context<'_>) -> Result<Vec<Project>> {
        let found = many::<project::Entity>(ctx, ids(self.0.project_ids.as_ref())).await?;
        Ok(found.into_iter().map(Project).collect())
    }
    /// Paused: events still queue for it, and go out once it is resumed.
    async fn paused(&self) -> bool {
        self.0.paused
    }
    /// When it was registered.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Row version, for `expectedVersion`.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// An endpoint with its signing secret, answered once (on registration and rotation).
#[derive(SimpleObject, Clone, Debug)]
pub struct WebhookEndpointSecret {
    /// The endpoint.
    pub endpoint: WebhookEndpoint,
    /// The signing secret (`whsec_` + base64 of the key), to verify `webhook-signature`
    /// with any Standard Webhooks library. Store it now: it cannot be shown again.
    pub secret: String,
}

wrapper!(
    /// One event sent (or to be sent) to one endpoint, with its attempts so far.
    WebhookDelivery, webhook_delivery::Model
);

#[Object(use_type_description)]
impl WebhookDelivery {
    /// Opaque global ID, for `replayWebhookDelivery`.
    pub async fn id(&self) -> ID {
        encode(Kind::WebhookDelivery, self.0.id)
    }
    /// The endpoint's global ID.
    async fn endpoint_id(&self) -> ID {
        encode(Kind::WebhookEndpoint, self.0.endpoint_id)
    }
    /// The `webhook-id` header: the same on every attempt and for every endpoint that got
    /// the event; receivers deduplicate on it.
    async fn message_id(&self) -> &str {
        &self.0.message_id
    }
    /// The payload's `type`, e.g. `change.approved`.
    async fn event_type(&self) -> &str {
        &self.0.event_type
    }
    /// The exact body sent (JSON text).
    async fn payload(&self) -> &str {
        &self.0.payload
    }
    /// PENDING, DELIVERED or FAILED.
    async fn status(&self) -> DeliveryStatus {
        self.0.status.into()
    }
    /// Attempts made so far.
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// When the next attempt is due; null unless PENDING.
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        (self.0.status == entity::DeliveryStatus::Pending).then_some(self.0.next_attempt_at)
    }
    /// When it was last tried.
    async fn last_attempt_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_attempt_at
    }
    /// The HTTP status of the last answer; null when the last attempt got none.
    async fn last_status_code(&self) -> Option<i32> {
        self.0.last_status
    }
    /// Why the last attempt did not succeed.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// When the receiver accepted it.
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivered_at
    }
    /// When the event was committed (or the delivery last replayed, see `attempts`).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}
