//! A decision on a change by an approver. Approvals are never deleted.

use crate::enums::ApprovalDecision;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "approval")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub change_id: i64,
    #[sea_orm(belongs_to, from = "change_id", to = "id")]
    pub change: HasOne<super::change::Entity>,
    pub approver_id: i64,
    #[sea_orm(belongs_to, from = "approver_id", to = "id")]
    pub approver: HasOne<super::person::Entity>,
    pub decision: ApprovalDecision,
    #[sea_orm(column_type = "Text", nullable)]
    pub comment: Option<String>,
    pub decided_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
