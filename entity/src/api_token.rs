//! An API token of a person. Only a hash of the token is stored.

use crate::enums::TokenScope;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "api_token")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub person_id: i64,
    #[sea_orm(belongs_to, from = "person_id", to = "id")]
    pub person: HasOne<super::person::Entity>,
    pub name: String,
    #[sea_orm(unique)]
    pub token_hash: String,
    pub scope: TokenScope,
    pub expires_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    /// When the token last authenticated a request (to the minute; `None`: never).
    pub last_used_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
