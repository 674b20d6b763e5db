//! The approval policy of change-management: rules that raise the approvals a change needs
//! with its risk and the criticality of the services it touches.

use async_graphql::{ID, Object};
use chrono::{DateTime, Utc};
use entity::approval_rule;

use super::wrapper;
use crate::graphql::enums::{ChangeType, Criticality, RiskLevel};
use crate::graphql::ids::{Kind, encode};

wrapper!(
    /// A rule of the approval policy: *when* a change is of a type, at or above a risk, or
    /// touches a service at or above a criticality (every condition given must hold),
    /// *require* a number of approvals, optionally one from the OWNER of change-management.
    /// The strictest matching rule applies, together with the change model's
    /// `requiredApprovals`.
    ApprovalRule, approval_rule::Model
);

#[Object(use_type_description)]
impl ApprovalRule {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        encode(Kind::ApprovalRule, self.0.id)
    }
    /// What the rule is about, e.g. "Critical service".
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Changes of this type only; any type when null.
    async fn change_type(&self) -> Option<ChangeType> {
        self.0.change_type.map(Into::into)
    }
    /// Changes at or above this risk; any risk when null.
    async fn min_risk(&self) -> Option<RiskLevel> {
        self.0.min_risk.map(Into::into)
    }
    /// Changes touching a service at or above this criticality; any when null.
    async fn min_criticality(&self) -> Option<Criticality> {
        self.0.min_criticality.map(Into::into)
    }
    /// Approvals a matching change needs.
    async fn required_approvals(&self) -> i32 {
        self.0.required_approvals
    }
    /// Whether one of them must come from the OWNER of change-management.
    async fn owner_required(&self) -> bool {
        self.0.owner_required
    }
    /// When the rule was made.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the rule last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Row version, for `expectedVersion` in updates.
    async fn version(&self) -> i32 {
        self.0.version
    }
}
