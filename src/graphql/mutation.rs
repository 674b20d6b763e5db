//! The mutation root. Thin: each resolver decodes its arguments (IDs, absent-versus-null),
//! calls one use case of [`Governance`] as the request's viewer, and wraps the result.
//! Every rule lives in the domain layer; every mutation is one transaction.

use async_graphql::{Context, ID, MaybeUndefined, Object, Result};
use chrono::{DateTime, Utc};

use super::by_id;
use super::enums::*;
use super::gov;
use super::ids::{Kind, decode, decode_opt};
use super::inputs::{CreateChangeInput, CreateReleaseInput, UpdateChangeInput};
use super::types::*;
use super::viewer::Viewer;
use crate::domain::{
    BlackoutPatch, ChangePatch, NewBlackout, NewChange, NewRelease, NewService, OfferingPatch,
    Patch, ReleasePatch, ServicePatch,
};
use crate::error::{AppError, AppResult};
use entity::api_token;

/// Every write of the portfolio. Send one mutation per operation: mutations return
/// non-null objects, so a failing one nulls the whole `data`.
#[derive(Default, async_graphql::Description)]
pub struct Mutation;

/// Absent stays, null clears, a value sets.
fn patch<T, U: From<T>>(v: MaybeUndefined<T>) -> Patch<U> {
    match v {
        MaybeUndefined::Undefined => Patch::Keep,
        MaybeUndefined::Null => Patch::Clear,
        MaybeUndefined::Value(v) => Patch::Set(v.into()),
    }
}

fn patch_id(v: MaybeUndefined<ID>, kind: Kind, field: &str) -> AppResult<Patch<i64>> {
    patch::<ID, ID>(v).try_map(|id| decode(&id, kind, field))
}

fn ids(v: &[ID], kind: Kind, field: &str) -> AppResult<Vec<i64>> {
    v.iter().map(|id| decode(id, kind, field)).collect()
}

#[Object(use_type_description)]
impl Mutation {
    // ------------------------------------------------------------ people and partners

    /// Adds a person. ADMIN.
    async fn create_person(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Full name (1–200 characters).")] name: String,
        #[graphql(desc = "E-mail address, unique.")] email: String,
        #[graphql(desc = "Skills and competences.")] skills: Option<Vec<String>>,
    ) -> Result<Person> {
        let p = gov(ctx)
            .create_person(Viewer::of(ctx), &name, &email, skills)
            .await?;
        Ok(Person(p))
    }

    /// Renames a person or replaces their skills. ADMIN.
    async fn update_person(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The person.")] id: ID,
        #[graphql(desc = "New name.")] name: MaybeUndefined<String>,
        #[graphql(desc = "New skills, replacing the current ones; null empties them.")]
        skills: MaybeUndefined<Vec<String>>,
        #[graphql(desc = "The `version` you read; a mismatch is CONFLICT and changes nothing.")]
        expected_version: Option<i32>,
    ) -> Result<Person> {
        let id = decode(&id, Kind::Person, "id")?;
        let p = gov(ctx)
            .update_person(
                Viewer::of(ctx),
                id,
                expected_version,
                patch(name),
                patch(skills),
            )
            .await?;
        Ok(Person(p))
    }

    /// Adds a partner (supplier, manufacturer or vendor). ADMIN.
    async fn create_partner(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Name (1–200 characters).")] name: String,
        #[graphql(desc = "What kind of partner.")] kind: PartnerKind,
    ) -> Result<Partner> {
        let p = gov(ctx)
            .create_partner(Viewer::of(ctx), &name, kind.into())
            .await?;
        Ok(Partner(p))
    }

    // ------------------------------------------------------------ services

    /// Adds a service (PIPELINE and MEDIUM unless given). ADMIN.
    async fn create_service(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Unique slug: lower-case words joined by hyphens.")] key: String,
        #[graphql(desc = "Display name (1–200 characters).")] name: String,
        #[graphql(desc = "What the service does.")] description: Option<String>,
        #[graphql(desc = "Lifecycle; PIPELINE when omitted.")] lifecycle: Option<ServiceLifecycle>,
        #[graphql(desc = "Criticality; MEDIUM when omitted.")] criticality: Option<Criticality>,
        #[graphql(desc = "The accountable owner.")] owner_id: Option<ID>,
    ) -> Result<Service> {
        let input = NewService {
            key,
            name,
            description,
            lifecycle: lifecycle.map(Into::into),
            criticality: criticality.map(Into::into),
            owner_id: decode_opt(owner_id.as_ref(), Kind::Person, "ownerId")?,
        };
        let s = gov(ctx).create_service(Viewer::of(ctx), input).await?;
        Ok(Service(s))
    }

    /// Updates a service. ADMIN or the service's owner. RETIRED needs the service to have
    /// no open change.
    async fn update_service(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The service.")] id: ID,
        #[graphql(desc = "The `version` you read; a mismatch is CONFLICT and changes nothing.")]
        expected_version: Option<i32>,
        #[graphql(desc = "New name.")] name: MaybeUndefined<String>,
        #[graphql(desc = "New description; null empties it.")] description: MaybeUndefined<String>,
        #[graphql(desc = "New lifecycle.")] lifecycle: MaybeUndefined<ServiceLifecycle>,
        #[graphql(desc = "New criticality.")] criticality: MaybeUndefined<Criticality>,
        #[graphql(desc = "New owner; null removes the owner.")] owner_id: MaybeUndefined<ID>,
    ) -> Result<Service> {
        let id = decode(&id, Kind::Service, "id")?;
        let p = ServicePatch {
            name: patch(name),
            description: patch(description),
            lifecycle: patch(lifecycle),
            criticality: patch(criticality),
            owner_id: patch_id(owner_id, Kind::Person, "ownerId")?,
        };
        let s = gov(ctx)
            .update_service(Viewer::of(ctx), id, expected_version, p)
            .await?;
        Ok(Service(s))
    }

    /// Links a partner to a service in a role. ADMIN or the service's owner.
    async fn link_partner(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The service.")] service_id: ID,
        #[graphql(desc = "The partner.")] partner_id: ID,
        #[graphql(desc = "What the partner does for the service, e.g. `hosting`.")] role: String,
        #[graphql(desc = "Reference of the underpinning contract.")] contract_ref: Option<String>,
    ) -> Result<Service> {
        let sid = decode(&service_id, Kind::Service, "serviceId")?;
        let pid = decode(&partner_id, Kind::Partner, "partnerId")?;
        let s = gov(ctx)
            .link_partner(Viewer::of(ctx), sid, pid, &role, contract_ref)
            .await?;
        Ok(Service(s))
    }

    /// Removes a partner link. ADMIN or the service's owner.
    async fn unlink_partner(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The service.")] service_id: ID,
        #[graphql(desc = "The partner.")] partner_id: ID,
    ) -> Result<Service> {
        let sid = decode(&service_id, Kind::Service, "serviceId")?;
        let pid = decode(&partner_id, Kind::Partner, "partnerId")?;
        let s = gov(ctx).unlink_partner(Viewer::of(ctx), sid, pid).await?;
        Ok(Service(s))
    }

    // ------------------------------------------------------------ offerings

    /// Adds a service offering in DRAFT. ADMIN.
    async fn create_service_offering(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Unique slug: lower-case words joined by hyphens.")] key: String,
        #[graphql(desc = "Display name (1–200 characters).")] name: String,
        #[graphql(desc = "What the consumer gets.")] description: Option<String>,
        #[graphql(desc = "The consumer group it is designed for.")] target_consumer_group: String,
        #[graphql(desc = "Services it includes (none RETIRED).")] service_ids: Option<Vec<ID>>,
    ) -> Result<ServiceOffering> {
        let services = ids(
            &service_ids.unwrap_or_default(),
            Kind::Service,
            "serviceIds",
        )?;
        let o = gov(ctx)
            .create_offering(
                Viewer::of(ctx),
                &key,
                &name,
                description,
                &target_consumer_group,
                services,
            )
            .await?;
        Ok(ServiceOffering(o))
    }

    /// Updates a service offering (publish it by setting `status`). ADMIN.
    async fn update_service_offering(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The offering.")] id: ID,
        #[graphql(desc = "The `version` you read; a mismatch is CONFLICT and changes nothing.")]
        expected_version: Option<i32>,
        #[graphql(desc = "New name.")] name: MaybeUndefined<String>,
        #[graphql(desc = "New description; null empties it.")] description: MaybeUndefined<String>,
        #[graphql(desc = "New target consumer group.")] target_consumer_group: MaybeUndefined<
            String,
        >,
        #[graphql(desc = "New status.")] status: MaybeUndefined<OfferingStatus>,
    ) -> Result<ServiceOffering> {
        let id = decode(&id, Kind::ServiceOffering, "id")?;
        let p = OfferingPatch {
            name: patch(name),
            description: patch(description),
            target_consumer_group: patch(target_consumer_group),
            status: patch(status),
        };
        let o = gov(ctx)
            .update_offering(Viewer::of(ctx), id, expected_version, p)
            .await?;
        Ok(ServiceOffering(o))
    }

    /// Adds a service to an offering. ADMIN.
    async fn add_service_to_offering(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The offering.")] offering_id: ID,
        #[graphql(desc = "The service (not RETIRED).")] service_id: ID,
    ) -> Result<ServiceOffering> {
        let oid = decode(&offering_id, Kind::ServiceOffering, "offeringId")?;
        let sid = decode(&service_id, Kind::Service, "serviceId")?;
        let o = gov(ctx)
            .add_service_to_offering(Viewer::of(ctx), oid, sid)
            .await?;
        Ok(ServiceOffering(o))
    }

    /// Removes a service from an offering. ADMIN.
    async fn remove_service_from_offering(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The offering.")] offering_id: ID,
        #[graphql(desc = "The service.")] service_id: ID,
    ) -> Result<ServiceOffering> {
        let oid = decode(&offering_id, Kind::ServiceOffering, "offeringId")?;
        let sid = decode(&service_id, Kind::Service, "serviceId")?;
        let o = gov(ctx)
            .remove_service_from_offering(Viewer::of(ctx), oid, sid)
            .await?;
        Ok(ServiceOffering(o))
    }

    /// Adds goods, access to a resource or a service action to an offering. ADMIN.
    async fn add_offering_component(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The offering.")] offering_id: ID,
        #[graphql(desc = "What the component gives the consumer.")] kind: OfferingComponentKind,
        #[graphql(desc = "Name (1–200 characters).")] name: String,
        #[graphql(desc = "Terms, scope or details.")] description: Option<String>,
    ) -> Result<OfferingComponent> {
        let oid = decode(&offering_id, Kind::ServiceOffering, "offeringId")?;
        let c = gov(ctx)
            .add_offering_component(Viewer::of(ctx), oid, kind.into(), &name, description)
            .await?;
        Ok(OfferingComponent(c))
    }

    /// Removes a component; returns its offering. ADMIN.
    async fn remove_offering_component(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The component.")] id: ID,
    ) -> Result<ServiceOffering> {
        let id = decode(&id, Kind::OfferingComponent, "id")?;
        let o = gov(ctx)
            .remove_offering_component(Viewer::of(ctx), id)
            .await?;
        Ok(ServiceOffering(o))
    }

    // ------------------------------------------------------------ processes

    /// Adds a process. ADMIN.
    async fn create_process(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Unique slug, e.g. `problem-management`.")] key: String,
        #[graphql(desc = "Display name (1–200 characters).")] name: String,
        #[graphql(desc = "Purpose and scope.")] description: Option<String>,
    ) -> Result<Process> {
        let p = gov(ctx)
            .create_process(Viewer::of(ctx), &key, &name, description)
            .await?;
        Ok(Process(p))
    }

    /// Adds a policy to a process. ADMIN or the process's OWNER.
    async fn add_policy(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The process.")] process_id: ID,
        #[graphql(desc = "The rule, e.g. \"All incidents must be logged\".")] statement: String,
    ) -> Result<Policy> {
        let pid = decode(&process_id, Kind::Process, "processId")?;
        let p = gov(ctx)
            .add_policy(Viewer::of(ctx), pid, &statement)
            .await?;
        Ok(Policy(p))
    }

    /// Gives a person a role on a process. ADMIN or the process's OWNER. A process has one
    /// OWNER at a time: assigning a second is CONFLICT (revoke the first).
    async fn assign_process_role(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The process.")] process_id: ID,
        #[graphql(desc = "The person.")] person_id: ID,
        #[graphql(desc = "The role.")] role: ProcessRole,
        #[graphql(desc = "Where the role applies, e.g. a region.")] scope: Option<String>,
    ) -> Result<ProcessRoleAssignment> {
        let proc_id = decode(&process_id, Kind::Process, "processId")?;
        let person = decode(&person_id, Kind::Person, "personId")?;
        let a = gov(ctx)
            .assign_process_role(Viewer::of(ctx), proc_id, person, role.into(), scope)
            .await?;
        Ok(ProcessRoleAssignment(a))
    }

    /// Ends a role assignment; returns the process. ADMIN or the process's OWNER.
    async fn revoke_process_role(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The assignment.")] assignment_id: ID,
    ) -> Result<Process> {
        let id = decode(&assignment_id, Kind::ProcessRoleAssignment, "assignmentId")?;
        let p = gov(ctx).revoke_process_role(Viewer::of(ctx), id).await?;
        Ok(Process(p))
    }

    // ------------------------------------------------------------ projects and models

    /// Adds a project. Any writer; the caller manages it unless an ADMIN names a manager.
    async fn create_project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Unique code: upper-case letters, digits, hyphens.")] code: String,
        #[graphql(desc = "Display name (1–200 characters).")] name: String,
        #[graphql(desc = "The project manager; the caller when omitted.")] manager_id: Option<ID>,
        #[graphql(desc = "Status; PROPOSED when omitted.")] status: Option<ProjectStatus>,
    ) -> Result<Project> {
        let manager = decode_opt(manager_id.as_ref(), Kind::Person, "managerId")?;
        let p = gov(ctx)
            .create_project(
                Viewer::of(ctx),
                &code,
                &name,
                manager,
                status.map(Into::into),
            )
            .await?;
        Ok(Project(p))
    }

    /// Updates a project. ADMIN or its manager.
    async fn update_project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project.")] id: ID,
        #[graphql(desc = "The `version` you read; a mismatch is CONFLICT and changes nothing.")]
        expected_version: Option<i32>,
        #[graphql(desc = "New name.")] name: MaybeUndefined<String>,
        #[graphql(desc = "New status; a CLOSED project gets no new change.")]
        status: MaybeUndefined<ProjectStatus>,
        #[graphql(desc = "New manager; null removes the manager.")] manager_id: MaybeUndefined<ID>,
    ) -> Result<Project> {
        let id = decode(&id, Kind::Project, "id")?;
        let manager = patch_id(manager_id, Kind::Person, "managerId")?;
        let p = gov(ctx)
            .update_project(
                Viewer::of(ctx),
                id,
                expected_version,
                patch(name),
                patch(status),
                manager,
            )
            .await?;
        Ok(Project(p))
    }

    /// Defines a change model. ADMIN or the OWNER of change-management. Only STANDARD
    /// models are pre-approved; they take no approvals.
    #[allow(clippy::too_many_arguments)]
    async fn create_change_model(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Unique slug.")] key: String,
        #[graphql(desc = "Display name (1–200 characters).")] name: String,
        #[graphql(desc = "What changes fit the model and how they are carried out.")]
        description: Option<String>,
        #[graphql(desc = "The type of change the model governs.")] change_type: ChangeType,
        #[graphql(desc = "The highest risk a change may have to fit the model.")]
        max_risk: RiskLevel,
        #[graphql(desc = "Whether changes within it are authorized on submission.")]
        pre_approved: bool,
        #[graphql(desc = "Approvals a NORMAL change within it needs (1–10; default 1).")]
        required_approvals: Option<i32>,
    ) -> Result<ChangeModel> {
        let m = gov(ctx)
            .create_change_model(
                Viewer::of(ctx),
                &key,
                &name,
                description,
                change_type.into(),
                max_risk.into(),
                pre_approved,
                required_approvals,
            )
            .await?;
        Ok(ChangeModel(m))
    }

    // ------------------------------------------------------------ API tokens

    /// Creates an API token for a person. ADMIN. The answer holds the secret, the only time
    /// it is shown; the audit trail records the token, never the secret.
    async fn create_api_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The person the token acts as.")] person_id: ID,
        #[graphql(desc = "What it may do.")] scope: TokenScope,
        #[graphql(desc = "What it is for, e.g. \"PMO tracker sync\" (1–200 characters).")]
        label: String,
        #[graphql(desc = "When it stops working (in the future); omitted: never.")]
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<NewApiToken> {
        let person = decode(&person_id, Kind::Person, "personId")?;
        let issued = gov(ctx)
            .create_api_token(Viewer::of(ctx), person, scope.into(), &label, expires_at)
            .await?;
        let token = by_id::<api_token::Entity>(ctx, issued.id)
            .await?
            .ok_or_else(|| AppError::Internal(format!("token {} vanished", issued.id)))?;
        Ok(NewApiToken {
            token: ApiToken(token),
            secret: issued.token,
        })
    }

    /// Revokes an API token. ADMIN. It is refused from the next request on, over HTTP and
    /// for new WebSocket connections; revoking a revoked token changes nothing.
    async fn revoke_api_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token.")] id: ID,
    ) -> Result<ApiToken> {
        let id = decode(&id, Kind::ApiToken, "id")?;
        let row = gov(ctx).revoke_api_token(Viewer::of(ctx), id).await?;
        Ok(ApiToken(row))
    }

    /// Sets when an API token expires. ADMIN. A revoked token stays revoked (CONFLICT).
    async fn set_api_token_expiry(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token.")] id: ID,
        #[graphql(desc = "When it stops working (in the future); null: never.")] expires_at: Option<
            DateTime<Utc>,
        >,
    ) -> Result<ApiToken> {
        let id = decode(&id, Kind::ApiToken, "id")?;
        let row = gov(ctx)
            .set_api_token_expiry(Viewer::of(ctx), id, expires_at)
            .await?;
        Ok(ApiToken(row))
    }

    // ------------------------------------------------------------ blackout windows

    /// Declares a blackout window (a change freeze). ADMIN. STANDARD and NORMAL changes
    /// touching a covered service can no longer be scheduled into it (CONFLICT).
    async fn create_blackout_window(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Display name (1–200 characters).")] name: String,
        #[graphql(desc = "Why changes are frozen.")] reason: String,
        #[graphql(desc = "When it opens.")] starts_at: DateTime<Utc>,
        #[graphql(desc = "When it closes (after it opens).")] ends_at: DateTime<Utc>,
        #[graphql(desc = "The services it covers; none or omitted: every service.")]
        service_ids: Option<Vec<ID>>,
    ) -> Result<BlackoutWindow> {
        let input = NewBlackout {
            name,
            reason,
            starts_at,
            ends_at,
            service_ids: ids(
                &service_ids.unwrap_or_default(),
                Kind::Service,
                "serviceIds",
            )?,
        };
        let b = gov(ctx)
            .create_blackout_window(Viewer::of(ctx), input)
            .await?;
        Ok(BlackoutWindow(b))
    }

    /// Changes a blackout window. ADMIN. Changes already scheduled stay where they are;
    /// `ChangeSchedule.blackoutChanges` shows the ones that now fall into it.
    #[allow(clippy::too_many_arguments)]
    async fn update_blackout_window(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The window.")] id: ID,
        #[graphql(desc = "The `version` you read; a mismatch is CONFLICT and changes nothing.")]
        expected_version: Option<i32>,
        #[graphql(desc = "New name.")] name: MaybeUndefined<String>,
        #[graphql(desc = "New reason.")] reason: MaybeUndefined<String>,
        #[graphql(desc = "New opening time.")] starts_at: MaybeUndefined<DateTime<Utc>>,
        #[graphql(desc = "New closing time.")] ends_at: MaybeUndefined<DateTime<Utc>>,
        #[graphql(
            desc = "The services it covers, replacing the current ones; empty or null: every service."
        )]
        service_ids: MaybeUndefined<Vec<ID>>,
    ) -> Result<BlackoutWindow> {
        let id = decode(&id, Kind::BlackoutWindow, "id")?;
        let services = match service_ids {
            MaybeUndefined::Value(v) => Patch::Set(ids(&v, Kind::Service, "serviceIds")?),
            MaybeUndefined::Null => Patch::Clear,
            MaybeUndefined::Undefined => Patch::Keep,
        };
        let p = BlackoutPatch {
            name: patch(name),
            reason: patch(reason),
            starts_at: patch(starts_at),
            ends_at: patch(ends_at),
            service_ids: services,
        };
        let b = gov(ctx)
            .update_blackout_window(Viewer::of(ctx), id, expected_version, p)
            .await?;
        Ok(BlackoutWindow(b))
    }

    /// Lifts a blackout window. ADMIN. Returns the ID it had.
    async fn delete_blackout_window(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The window.")] id: ID,
    ) -> Result<ID> {
        let row = decode(&id, Kind::BlackoutWindow, "id")?;
        gov(ctx)
            .delete_blackout_window(Viewer::of(ctx), row)
            .await?;
        Ok(id)
    }

    // ------------------------------------------------------------ changes

    /// Creates a change in DRAFT, requested by the caller. Any writer.
    async fn create_change(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The change.")] input: CreateChangeInput,
    ) -> Result<Change> {
        let new = NewChange {
            title: input.title,
            description: input.description,
            category: input.category.into(),
            change_type: input.change_type.into(),
            risk: input.risk.into(),
            service_ids: ids(&input.service_ids, Kind::Service, "serviceIds")?,
            project_id: decode_opt(input.project_id.as_ref(), Kind::Project, "projectId")?,
            model_id: decode_opt(input.model_id.as_ref(), Kind::ChangeModel, "modelId")?,
            planned_start: input.planned_start,
            planned_end: input.planned_end,
        };
        let c = gov(ctx).create_change(Viewer::of(ctx), new).await?;
        Ok(Change(c))
    }

    /// Edits a DRAFT change. Its requester only.
    async fn update_change(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The change.")] id: ID,
        #[graphql(desc = "The edits.")] input: UpdateChangeInput,
        #[graphql(desc = "The `version` you read; a mismatch is CONFLICT and changes nothing.")]
        expected_version: Option<i32>,
    ) -> Result<Change> {
        let id = decode(&id, Kind::Change, "id")?;
        let services = match input.service_ids {
            MaybeUndefined::Value(v) => Patch::Set(ids(&v, Kind::Service, "serviceIds")?),
            MaybeUndefined::Null => Patch::Clear,
            MaybeUndefined::Undefined => Patch::Keep,
        };
        let p = ChangePatch {
            title: patch(input.title),
            description: patch(input.description),
            category: patch(input.category),
            change_type: patch(input.change_type),
            risk: patch(input.risk),
            service_ids: services,
            project_id: patch_id(input.project_id, Kind::Project, "projectId")?,
            model_id: patch_id(input.model_id, Kind::ChangeModel, "modelId")?,
            planned_start: patch(input.planned_start),
            planned_end: patch(input.planned_end),
        };
        let c = gov(ctx)
            .update_change(Viewer::of(ctx), id, expected_version, p)
            .await?;
        Ok(Change(c))
    }

    /// DRAFT → SUBMITTED, by the requester. A STANDARD change within a pre-approved model
    /// (risk at most the model's maximum) goes on to AUTHORIZED at once.
    async fn submit_change(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The change.")] id: ID,
        #[graphql(desc = "The `version` you read; a mismatch is CONFLICT and changes nothing.")]
        expected_version: Option<i32>,
    ) -> Result<Change> {
        let id = decode(&id, Kind::Change, "id")?;
        let c = gov(ctx)
            .submit_change(Viewer::of(ctx), id, expected_version)
            .await?;
        Ok(Change(c))
    }

    /// Approves a SUBMITTED NORMAL or EMERGENCY change. An owner or manager of
    /// change-management who did not request it, once. The last approval needed (the
    /// model's `requiredApprovals`, else 1; 1 for EMERGENCY) authorizes it.
    async fn approve_change(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The change.")] id: ID,
        #[graphql(desc = "Why.")] comment: Option<String>,
        #[graphql(desc = "The `version` you read; a mismatch is CONFLICT and changes nothing.")]
        expected_version: Option<i32>,
    ) -> Result<Change> {
        let id = decode(&id, Kind::Change, "id")?;
        let c = gov(ctx)
            .approve_change(Viewer::of(ctx), id, comment, expected_version)
            .await?;
        Ok(Change(c))
    }

    /// Rejects a SUBMITTED change (one rejection is final). Same deciders as `approveChange`.
    async fn reject_change(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The change.")] id: ID,
        #[graphql(desc = "Why (required).")] comment: String,
        #[graphql(desc = "The `version` you read; a mismatch is CONFLICT and changes nothing.")]
        expected_version: Option<i32>,
    ) -> Result<Change> {
        let id = decode(&id, Kind::Change, "id")?;
        let c = gov(ctx)
            .reject_change(Viewer::of(ctx), id, &comment, expected_version)
            .await?;
        Ok(Change(c))
    }

    /// AUTHORIZED or SCHEDULED → SCHEDULED in a planned window. A change-management role.
    async fn schedule_change(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The change.")] id: ID,
        #[graphql(desc = "Start of the window.")] planned_start: DateTime<Utc>,
        #[graphql(desc = "End of the window (after its start).")] planned_end: DateTime<Utc>,
        #[graphql(desc = "The `version` you read; a mismatch is CONFLICT and changes nothing.")]
        expected_version: Option<i32>,
    ) -> Result<Change> {
        let id = decode(&id, Kind::Change, "id")?;
        let c = gov(ctx)
            .schedule_change(
                Viewer::of(ctx),
                id,
                planned_start,
                planned_end,
                expected_version,
            )
            .await?;
        Ok(Change(c))
    }

    /// SCHEDULED → IMPLEMENTING (EMERGENCY also from AUTHORIZED). A change-management role.
    /// Refused while the change is in a live release: the release starts it on deployment.
    async fn start_change(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The change.")] id: ID,
        #[graphql(desc = "The `version` you read; a mismatch is CONFLICT and changes nothing.")]
        expected_version: Option<i32>,
    ) -> Result<Change> {
        let id = decode(&id, Kind::Change, "id")?;
        let c = gov(ctx)
            .start_change(Viewer::of(ctx), id, expected_version)
            .await?;
        Ok(Change(c))
    }

    /// IMPLEMENTING → REVIEW with an outcome. A change-management role. Refused while the
    /// change is in a live release: closing or failing the release completes it.
    async fn complete_change(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The change.")] id: ID,
        #[graphql(desc = "How it ended.")] outcome: ChangeOutcome,
        #[graphql(desc = "The `version` you read; a mismatch is CONFLICT and changes nothing.")]
        expected_version: Option<i32>,
    ) -> Result<Change> {
        let id = decode(&id, Kind::Change, "id")?;
        let c = gov(ctx)
            .complete_change(Viewer::of(ctx), id, outcome.into(), expected_version)
            .await?;
        Ok(Change(c))
    }

    /// REVIEW → CLOSED. A change-management role.
    async fn close_change(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The change.")] id: ID,
        #[graphql(desc = "The `version` you read; a mismatch is CONFLICT and changes nothing.")]
        expected_version: Option<i32>,
    ) -> Result<Change> {
        let id = decode(&id, Kind::Change, "id")?;
        let c = gov(ctx)
            .close_change(Viewer::of(ctx), id, expected_version)
            .await?;
        Ok(Change(c))
    }

    /// DRAFT, SUBMITTED, AUTHORIZED or SCHEDULED → CANCELLED. The requester, the project's
    /// manager, or an owner or manager of change-management. The change leaves its release.
    async fn cancel_change(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The change.")] id: ID,
        #[graphql(desc = "Why (required).")] reason: String,
        #[graphql(desc = "The `version` you read; a mismatch is CONFLICT and changes nothing.")]
        expected_version: Option<i32>,
    ) -> Result<Change> {
        let id = decode(&id, Kind::Change, "id")?;
        let c = gov(ctx)
            .cancel_change(Viewer::of(ctx), id, &reason, expected_version)
            .await?;
        Ok(Change(c))
    }

    // ------------------------------------------------------------ releases

    /// Creates a PLANNED release. An owner or manager of release-management.
    async fn create_release(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The release.")] input: CreateReleaseInput,
    ) -> Result<Release> {
        let new = NewRelease {
            name: input.name,
            version: input.version,
            release_type: input.release_type.into(),
            project_id: decode_opt(input.project_id.as_ref(), Kind::Project, "projectId")?,
            previous_id: decode_opt(
                input.previous_release_id.as_ref(),
                Kind::Release,
                "previousReleaseId",
            )?,
            change_ids: ids(
                &input.change_ids.unwrap_or_default(),
                Kind::Change,
                "changeIds",
            )?,
            service_ids: ids(
                &input.service_ids.unwrap_or_default(),
                Kind::Service,
                "serviceIds",
            )?,
            planned_date: input.planned_date,
        };
        let r = gov(ctx).create_release(Viewer::of(ctx), new).await?;
        Ok(Release(r))
    }

    /// Edits a release that is not CLOSED, FAILED or CANCELLED. Release-management.
    #[allow(clippy::too_many_arguments)]
    async fn update_release(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The release.")] id: ID,
        #[graphql(desc = "The `revision` you read; a mismatch is CONFLICT and changes nothing.")]
        expected_version: Option<i32>,
        #[graphql(desc = "New name.")] name: MaybeUndefined<String>,
        #[graphql(desc = "New release label.")] version: MaybeUndefined<String>,
        #[graphql(desc = "New planned date; null clears it.")] planned_date: MaybeUndefined<
            DateTime<Utc>,
        >,
        #[graphql(desc = "The release it follows; null makes it stand alone.")]
        previous_release_id: MaybeUndefined<ID>,
    ) -> Result<Release> {
        let id = decode(&id, Kind::Release, "id")?;
        let p = ReleasePatch {
            name: patch(name),
            version: patch(version),
            planned_date: patch(planned_date),
            previous_id: patch_id(previous_release_id, Kind::Release, "previousReleaseId")?,
        };
        let r = gov(ctx)
            .update_release(Viewer::of(ctx), id, expected_version, p)
            .await?;
        Ok(Release(r))
    }

    /// Packages a change into a release (PLANNED..READY). The change must not be CLOSED,
    /// REJECTED, CANCELLED or in another live release. Release-management.
    async fn add_change_to_release(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The release.")] release_id: ID,
        #[graphql(desc = "The change.")] change_id: ID,
    ) -> Result<Release> {
        let rid = decode(&release_id, Kind::Release, "releaseId")?;
        let cid = decode(&change_id, Kind::Change, "changeId")?;
        let r = gov(ctx)
            .add_change_to_release(Viewer::of(ctx), rid, cid)
            .await?;
        Ok(Release(r))
    }

    /// Takes a change out of a release (PLANNED..READY); a release past PLANNED keeps at
    /// least one change. Release-management.
    async fn remove_change_from_release(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The release.")] release_id: ID,
        #[graphql(desc = "The change.")] change_id: ID,
    ) -> Result<Release> {
        let rid = decode(&release_id, Kind::Release, "releaseId")?;
        let cid = decode(&change_id, Kind::Change, "changeId")?;
        let r = gov(ctx)
            .remove_change_from_release(Viewer::of(ctx), rid, cid)
            .await?;
        Ok(Release(r))
    }

    /// Adds a service the release deploys into (not RETIRED). Release-management.
    async fn add_service_to_release(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The release.")] release_id: ID,
        #[graphql(desc = "The service.")] service_id: ID,
    ) -> Result<Release> {
        let rid = decode(&release_id, Kind::Release, "releaseId")?;
        let sid = decode(&service_id, Kind::Service, "serviceId")?;
        let r = gov(ctx)
            .add_service_to_release(Viewer::of(ctx), rid, sid)
            .await?;
        Ok(Release(r))
    }

    /// Removes a service from a release. Release-management.
    async fn remove_service_from_release(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The release.")] release_id: ID,
        #[graphql(desc = "The service.")] service_id: ID,
    ) -> Result<Release> {
        let rid = decode(&release_id, Kind::Release, "releaseId")?;
        let sid = decode(&service_id, Kind::Service, "serviceId")?;
        let r = gov(ctx)
            .remove_service_from_release(Viewer::of(ctx), rid, sid)
            .await?;
        Ok(Release(r))
    }

    /// Every move of the release lifecycle: PLANNED → BUILDING (needs a change) → TESTING
    /// → READY → DEPLOYED (every change authorized, the previous release deployed; starts
    /// the changes) → CLOSED (completes them as SUCCESSFUL); FAILED from BUILDING..DEPLOYED
    /// (from DEPLOYED, backs the changes out); CANCELLED before DEPLOYED. FAILED and
    /// CANCELLED need a `reason`. Release-management. See `Release.availableTransitions`.
    async fn advance_release(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The release.")] id: ID,
        #[graphql(desc = "The status to move to.")] to: ReleaseStatus,
        #[graphql(desc = "Why; required for FAILED and CANCELLED.")] reason: Option<String>,
        #[graphql(desc = "The `revision` you read; a mismatch is CONFLICT and changes nothing.")]
        expected_version: Option<i32>,
    ) -> Result<Release> {
        let id = decode(&id, Kind::Release, "id")?;
        let r = gov(ctx)
            .advance_release(Viewer::of(ctx), id, to.into(), reason, expected_version)
            .await?;
        Ok(Release(r))
    }
}
