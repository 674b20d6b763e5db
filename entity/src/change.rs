//! A change: governed by Change Management, requested by a person, maybe spawned by a project.

use crate::enums::{ChangeCategory, ChangeOutcome, ChangeStatus, ChangeType, RiskLevel};
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "change")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `CHG` followed by seven digits.
    #[sea_orm(unique)]
    pub number: String,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub category: ChangeCategory,
    pub change_type: ChangeType,
    pub risk: RiskLevel,
    pub status: ChangeStatus,
    pub outcome: Option<ChangeOutcome>,
    pub requested_by_id: i64,
    #[sea_orm(belongs_to, from = "requested_by_id", to = "id")]
    pub requested_by: HasOne<super::person::Entity>,
    pub project_id: Option<i64>,
    #[sea_orm(belongs_to, from = "project_id", to = "id")]
    pub project: HasOne<super::project::Entity>,
    pub model_id: Option<i64>,
    #[sea_orm(belongs_to, from = "model_id", to = "id")]
    pub model: HasOne<super::change_model::Entity>,
    pub planned_start: Option<DateTimeUtc>,
    pub planned_end: Option<DateTimeUtc>,
    pub submitted_at: Option<DateTimeUtc>,
    pub authorized_at: Option<DateTimeUtc>,
    pub started_at: Option<DateTimeUtc>,
    pub completed_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub cancellation_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
    /// The post-implementation review it closed with (migration 000016; last, as positional
    /// decoding reads `change.*` in table order).
    #[sea_orm(column_type = "Text", nullable)]
    pub review_summary: Option<String>,
    pub review_objectives_met: Option<bool>,
    #[sea_orm(column_type = "Text", nullable)]
    pub review_follow_up: Option<String>,
    pub reviewed_by_id: Option<i64>,
}

impl ActiveModelBehavior for ActiveModel {}
