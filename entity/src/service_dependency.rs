//! A service depends on another: at run time, for its data, or on infrastructure. Cycles
//! are allowed (real estates have them); a service never depends on itself.

use crate::enums::DependencyKind;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "service_dependency")]
pub struct Model {
    /// The dependent service.
    #[sea_orm(primary_key, auto_increment = false)]
    pub service_id: i64,
    /// The service it depends on.
    #[sea_orm(primary_key, auto_increment = false)]
    pub depends_on_id: i64,
    #[sea_orm(belongs_to, from = "service_id", to = "id")]
    pub service: HasOne<super::service::Entity>,
    #[sea_orm(
        belongs_to,
        relation_enum = "DependsOn",
        from = "depends_on_id",
        to = "id"
    )]
    pub depends_on: HasOne<super::service::Entity>,
    pub kind: DependencyKind,
    #[sea_orm(column_type = "Text", nullable)]
    pub note: Option<String>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
