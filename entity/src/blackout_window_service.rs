//! The services a blackout window covers (none: every service).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "blackout_window_service")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub window_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub service_id: i64,
    #[sea_orm(belongs_to, from = "window_id", to = "id")]
    pub window: HasOne<super::blackout_window::Entity>,
    #[sea_orm(belongs_to, from = "service_id", to = "id")]
    pub service: HasOne<super::service::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
