//! Which services a release delivers to.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "release_service")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub release_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub service_id: i64,
    #[sea_orm(belongs_to, from = "release_id", to = "id")]
    pub release: HasOne<super::release::Entity>,
    #[sea_orm(belongs_to, from = "service_id", to = "id")]
    pub service: HasOne<super::service::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
