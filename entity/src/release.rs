//! A release: builds, tests and deploys one change or a package of changes, under the
//! authority of Change. `version` is the release label; the row version is `revision`.

use crate::enums::{ReleaseStatus, ReleaseType};
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "release")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub version: String,
    pub release_type: ReleaseType,
    pub status: ReleaseStatus,
    pub project_id: Option<i64>,
    #[sea_orm(belongs_to, from = "project_id", to = "id")]
    pub project: HasOne<super::project::Entity>,
    /// The release this one follows (sequential releases); a release is the previous of at most one.
    #[sea_orm(unique)]
    pub previous_id: Option<i64>,
    pub planned_date: Option<DateTimeUtc>,
    pub deployed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub revision: i32,
    /// The planned deployment window; required before DEPLOYED. Last, as migration 000014
    /// added them: positional decoding reads `release.*` in table order.
    pub planned_start: Option<DateTimeUtc>,
    pub planned_end: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
