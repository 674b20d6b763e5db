//! The audit trail: append-only records of who did what to which object.

use async_graphql::{Context, ID, Json, Object, Result};
use chrono::{DateTime, Utc};
use entity::{audit_event, person};

use super::{Person, wrapper};
use crate::graphql::by_opt_id;
use crate::graphql::ids::{Kind, encode};
use crate::graphql::viewer::{Viewer, ViewerOf};

wrapper!(
    /// One entry of the audit trail. Nothing deletes audit events.
    AuditEvent, audit_event::Model
);

#[Object(use_type_description)]
impl AuditEvent {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        encode(Kind::AuditEvent, self.0.id)
    }
    /// When it happened.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// Who did it; null for the system (e.g. a data load).
    async fn actor(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        Ok(by_opt_id::<person::Entity>(ctx, self.0.actor_id)
            .await?
            .map(Person))
    }
    /// What was done, e.g. `SUBMITTED` or `AUTHORIZED_BY_MODEL`.
    async fn action(&self) -> &str {
        &self.0.action
    }
    /// GraphQL type name of the object, e.g. `Change`.
    async fn entity_type(&self) -> &str {
        &self.0.entity_type
    }
    /// Global ID of the object.
    async fn entity_id(&self) -> ID {
        match Kind::from_name(&self.0.entity_type) {
            Some(kind) => encode(kind, self.0.entity_id),
            None => ID(format!("{}:{}", self.0.entity_type, self.0.entity_id)),
        }
    }
    /// The object before the action; shown to ADMIN tokens only, null for others.
    async fn before(&self, ctx: &Context<'_>) -> Option<Json<serde_json::Value>> {
        Viewer::of(ctx)
            .is_admin()
            .then(|| self.0.before.clone().map(Json))
            .flatten()
    }
    /// The object after the action; shown to ADMIN tokens only, null for others.
    async fn after(&self, ctx: &Context<'_>) -> Option<Json<serde_json::Value>> {
        Viewer::of(ctx)
            .is_admin()
            .then(|| self.0.after.clone().map(Json))
            .flatten()
    }
}
