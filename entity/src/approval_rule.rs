//! A rule of the change-management approval policy: *when* a change is of a type, at or
//! above a risk, or touches a service at or above a criticality (every condition given must
//! hold), *require* a number of approvals, optionally one of them from the process OWNER.

use crate::enums::{ChangeType, Criticality, RiskLevel};
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "approval_rule")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    /// Changes of this type only; any type when null.
    pub change_type: Option<ChangeType>,
    /// Changes at or above this risk; any risk when null.
    pub min_risk: Option<RiskLevel>,
    /// Changes touching a service at or above this criticality; any when null.
    pub min_criticality: Option<Criticality>,
    pub required_approvals: i32,
    pub owner_required: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

impl ActiveModelBehavior for ActiveModel {}
