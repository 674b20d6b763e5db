//! Append-only audit trail: who did what to which entity, with before and after images.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "audit_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    pub actor_id: Option<i64>,
    #[sea_orm(belongs_to, from = "actor_id", to = "id")]
    pub actor: HasOne<super::person::Entity>,
    pub action: String,
    /// GraphQL type name of the entity, e.g. `Change`.
    pub entity_type: String,
    pub entity_id: i64,
    pub before: Option<Json>,
    pub after: Option<Json>,
}

impl ActiveModelBehavior for ActiveModel {}
