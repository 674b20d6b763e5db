//! A project managed by the PMO; it spawns changes and releases.

use crate::enums::ProjectStatus;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "project")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub code: String,
    pub name: String,
    pub status: ProjectStatus,
    pub manager_id: Option<i64>,
    #[sea_orm(belongs_to, from = "manager_id", to = "id")]
    pub manager: HasOne<super::person::Entity>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

impl ActiveModelBehavior for ActiveModel {}
