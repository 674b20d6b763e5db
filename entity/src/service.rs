//! A service of the portfolio, owned by a person.

use crate::enums::{Criticality, ServiceLifecycle};
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "service")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub key: String,
    pub name: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub lifecycle: ServiceLifecycle,
    pub criticality: Criticality,
    pub owner_id: Option<i64>,
    #[sea_orm(belongs_to, from = "owner_id", to = "id")]
    pub owner: HasOne<super::person::Entity>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
    /// A region or business unit, e.g. `EMEA`; a scoped role assignment covers only the
    /// services of its scope. Last, as migration 000015 added it (positional decoding).
    pub scope: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
