//! Which services a change touches.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "change_service")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub change_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub service_id: i64,
    /// A copy of the change's `created_at` (which never changes), so that a service's
    /// changes by creation are read from one index of this table. Derived data: not part of
    /// exports; an import recomputes it.
    #[serde(skip)]
    pub change_created_at: Option<DateTimeUtc>,
    #[sea_orm(belongs_to, from = "change_id", to = "id")]
    pub change: HasOne<super::change::Entity>,
    #[sea_orm(belongs_to, from = "service_id", to = "id")]
    pub service: HasOne<super::service::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
