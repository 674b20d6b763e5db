//! A component of an offering: goods, access to a resource, or a service action.

use crate::enums::OfferingComponentKind;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "offering_component")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub offering_id: i64,
    #[sea_orm(belongs_to, from = "offering_id", to = "id")]
    pub offering: HasOne<super::service_offering::Entity>,
    pub kind: OfferingComponentKind,
    pub name: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

impl ActiveModelBehavior for ActiveModel {}
