//! The Relay `Node` interface and global object identification.

use async_graphql::{Context, ID, Interface, Result};
use entity::{
    api_token, approval, approval_rule, audit_event, blackout_window, change, change_model,
    offering_component, partner, person, policy, process, process_role_assignment, project,
    release, service, service_offering,
};

use super::{
    ApiToken, Approval, ApprovalRule, AuditEvent, BlackoutWindow, Change, ChangeModel,
    OfferingComponent, Partner, Person, Policy, Process, ProcessRoleAssignment, Project, Release,
    Service, ServiceOffering,
};
use crate::graphql::by_id;
use crate::graphql::ids::{Kind, decode_any};
use crate::graphql::viewer::{Viewer, ViewerOf};

/// An object with a global ID, fetchable with `Query.node` / `Query.nodes`.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Opaque global ID."))]
pub enum Node {
    Service(Service),
    Partner(Partner),
    ServiceOffering(ServiceOffering),
    OfferingComponent(OfferingComponent),
    Person(Person),
    Process(Process),
    ProcessRoleAssignment(ProcessRoleAssignment),
    Policy(Policy),
    Project(Project),
    ChangeModel(ChangeModel),
    Change(Change),
    Approval(Approval),
    Release(Release),
    AuditEvent(AuditEvent),
    BlackoutWindow(BlackoutWindow),
    ApiToken(ApiToken),
    ApprovalRule(ApprovalRule),
}

/// Fetches one object by global ID; unknown rows are `None`.
pub async fn fetch(ctx: &Context<'_>, id: &str, field: &str) -> Result<Option<Node>> {
    let (kind, row) = decode_any(id, field)?;
    Ok(match kind {
        Kind::Service => by_id::<service::Entity>(ctx, row)
            .await?
            .map(|m| Node::Service(m.into())),
        Kind::Partner => by_id::<partner::Entity>(ctx, row)
            .await?
            .map(|m| Node::Partner(m.into())),
        Kind::ServiceOffering => by_id::<service_offering::Entity>(ctx, row)
            .await?
            .map(|m| Node::ServiceOffering(m.into())),
        Kind::OfferingComponent => by_id::<offering_component::Entity>(ctx, row)
            .await?
            .map(|m| Node::OfferingComponent(m.into())),
        Kind::Person => by_id::<person::Entity>(ctx, row)
            .await?
            .map(|m| Node::Person(m.into())),
        Kind::Process => by_id::<process::Entity>(ctx, row)
            .await?
            .map(|m| Node::Process(m.into())),
        Kind::ProcessRoleAssignment => by_id::<process_role_assignment::Entity>(ctx, row)
            .await?
            .map(|m| Node::ProcessRoleAssignment(m.into())),
        Kind::Policy => by_id::<policy::Entity>(ctx, row)
            .await?
            .map(|m| Node::Policy(m.into())),
        Kind::Project => by_id::<project::Entity>(ctx, row)
            .await?
            .map(|m| Node::Project(m.into())),
        Kind::ChangeModel => by_id::<change_model::Entity>(ctx, row)
            .await?
            .map(|m| Node::ChangeModel(m.into())),
        Kind::Change => by_id::<change::Entity>(ctx, row)
            .await?
            .map(|m| Node::Change(m.into())),
        Kind::Approval => by_id::<approval::Entity>(ctx, row)
            .await?
            .map(|m| Node::Approval(m.into())),
        Kind::Release => by_id::<release::Entity>(ctx, row)
            .await?
            .map(|m| Node::Release(m.into())),
        Kind::AuditEvent => by_id::<audit_event::Entity>(ctx, row)
            .await?
            .map(|m| Node::AuditEvent(m.into())),
        Kind::ApprovalRule => by_id::<approval_rule::Entity>(ctx, row)
            .await?
            .map(|m| Node::ApprovalRule(m.into())),
        Kind::BlackoutWindow => by_id::<blackout_window::Entity>(ctx, row)
            .await?
            .map(|m| Node::BlackoutWindow(m.into())),
        // Webhook objects are listed by `webhookEndpoints` and `webhookDeliveries` (ADMIN),
        // not fetched as nodes.
        Kind::WebhookEndpoint | Kind::WebhookDelivery => None,
        // Tokens are an administrator's business: to anyone else they do not exist.
        Kind::ApiToken if !Viewer::of(ctx).is_admin() => None,
        Kind::ApiToken => by_id::<api_token::Entity>(ctx, row)
            .await?
            .map(|m| Node::ApiToken(m.into())),
    })
}

/// Fetches many objects by global ID; every ID is decoded first, then the look-ups of all of
/// them run concurrently, so they batch into one statement per type.
pub async fn fetch_many(ctx: &Context<'_>, ids: &[ID]) -> Result<Vec<Option<Node>>> {
    for (i, id) in ids.iter().enumerate() {
        decode_any(id, &format!("ids[{i}]"))?;
    }
    let lookups = ids
        .iter()
        .enumerate()
        .map(|(i, id)| async move { fetch(ctx, id, &format!("ids[{i}]")).await });
    futures_util::future::try_join_all(lookups).await
}
