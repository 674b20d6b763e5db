//! Link between a service and a partner, with the partner's role and contract.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "service_partner")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub service_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub partner_id: i64,
    pub role: String,
    pub contract_ref: Option<String>,
    #[sea_orm(belongs_to, from = "service_id", to = "id")]
    pub service: HasOne<super::service::Entity>,
    #[sea_orm(belongs_to, from = "partner_id", to = "id")]
    pub partner: HasOne<super::partner::Entity>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
