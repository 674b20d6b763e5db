//! One event for one webhook endpoint: the outbox row the worker sends, retries and records.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::DeliveryStatus;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "webhook_delivery")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub endpoint_id: i64,
    #[sea_orm(belongs_to, from = "endpoint_id", to = "id")]
    pub endpoint: HasOne<super::webhook_endpoint::Entity>,
    /// The Standard Webhooks `webhook-id`: the same for every attempt (receivers
    /// deduplicate on it) and for every endpoint the event went to.
    pub message_id: String,
    /// E.g. `change.submitted`.
    pub event_type: String,
    /// The exact body sent and signed.
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    /// When the worker may next try it (while PENDING; a claimed row is leased past now).
    pub next_attempt_at: DateTimeUtc,
    /// When the current round of attempts began (creation or the last replay): retries
    /// stop once the round is older than the maximum age.
    pub round_started_at: DateTimeUtc,
    pub last_attempt_at: Option<DateTimeUtc>,
    pub last_status: Option<i32>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
