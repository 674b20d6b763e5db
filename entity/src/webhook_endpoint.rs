//! A webhook endpoint: a URL that receives signed change and release events.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::WebhookEventType;

/// The kinds of event an endpoint receives, stored as a JSON array.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct EventTypes(pub Vec<WebhookEventType>);

/// Row ids an endpoint is narrowed to (services or projects), stored as a JSON array.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct IdList(pub Vec<i64>);

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "webhook_endpoint")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub url: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub description: Option<String>,
    #[sea_orm(column_type = "JsonBinary")]
    pub event_types: EventTypes,
    /// Only events about changes touching one of these services; none: any.
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub service_ids: Option<IdList>,
    /// Only events about changes and releases of one of these projects; none: any.
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub project_ids: Option<IdList>,
    /// The signing secret (`whsec_` + base64). Never in audit images or API answers after
    /// the one that created or rotated it.
    #[serde(skip_serializing, default)]
    pub secret: String,
    pub paused: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

impl ActiveModelBehavior for ActiveModel {}
