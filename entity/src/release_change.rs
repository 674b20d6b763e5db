//! Which changes a release packages.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "release_change")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub release_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub change_id: i64,
    #[sea_orm(belongs_to, from = "release_id", to = "id")]
    pub release: HasOne<super::release::Entity>,
    #[sea_orm(belongs_to, from = "change_id", to = "id")]
    pub change: HasOne<super::change::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
