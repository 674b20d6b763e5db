//! A person holding a role (owner, manager, practitioner) on a process, optionally scoped.

use crate::enums::ProcessRole;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "process_role_assignment")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub process_id: i64,
    #[sea_orm(belongs_to, from = "process_id", to = "id")]
    pub process: HasOne<super::process::Entity>,
    pub person_id: i64,
    #[sea_orm(belongs_to, from = "person_id", to = "id")]
    pub person: HasOne<super::person::Entity>,
    pub role: ProcessRole,
    pub scope: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

impl ActiveModelBehavior for ActiveModel {}
