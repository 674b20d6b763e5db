//! Which services an offering includes.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "offering_service")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub offering_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub service_id: i64,
    #[sea_orm(belongs_to, from = "offering_id", to = "id")]
    pub offering: HasOne<super::service_offering::Entity>,
    #[sea_orm(belongs_to, from = "service_id", to = "id")]
    pub service: HasOne<super::service::Entity>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
