//! Projects of the PMO and change models.

use crate::domain::{ApprovalRulePatch, ChangeModelPatch, NewApprovalRule};
use crate::error::AppError;
use async_graphql::{Context, ID, MaybeUndefined, Object, Result};
use entity::{approval_rule, change_model, project};
use sea_orm::{EntityTrait, QueryOrder};

use super::{patch, patch_id};
use crate::graphql::connection::{self, Conn};
use crate::graphql::enums::*;
use crate::graphql::ids::{Kind, decode, decode_opt};
use crate::graphql::types::*;
use crate::graphql::viewer::{Viewer, ViewerOf};
use crate::graphql::{db, gov};
use crate::store::listing::{self, ProjectScope, Root};
use crate::store::lookup::by_key;

/// The part of `Query` for projects of the PMO and change models.
#[derive(Default)]
pub struct PlanningQuery;

#[Object]
impl PlanningQuery {
    /// Projects, optionally by status, manager or a case-insensitive text in code or name.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn projects(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only projects in any of these states.")] status: Option<
            Vec<ProjectStatus>,
        >,
        #[graphql(desc = "Only projects managed by this person.")] manager_id: Option<ID>,
        #[graphql(desc = "Case-insensitive text to find.")] search: Option<String>,
        #[graphql(
            desc = "Page forward: at most this many items (max 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Page forward: items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Page backward: at most this many items, the last ones (max 100).")]
        last: Option<i32>,
        #[graphql(desc = "Page backward: items before this cursor.")] before: Option<String>,
    ) -> Result<Conn<Project>> {
        let filter = listing::ProjectFilter {
            status: to_entity(status),
            manager_id: decode_opt(manager_id.as_ref(), Kind::Person, "managerId")?,
            search,
        };
        connection::load(
            ctx,
            None,
            connection::list(ProjectScope::Root, filter, first, after, last, before)?,
        )
        .await
    }

    /// A project by its code.
    async fn project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project's code, e.g. `PRJ-2026-001`.")] code: String,
    ) -> Result<Option<Project>> {
        Ok(
            by_key::<project::Entity, _>(db(ctx), project::Column::Code, &code)
                .await?
                .map(Project),
        )
    }

    /// The approval policy of change-management: its rules, oldest first. A change needs
    /// the approvals of the strictest rule it matches, together with its model's.
    async fn approval_rules(&self, ctx: &Context<'_>) -> Result<Vec<ApprovalRule>> {
        Ok(approval_rule::Entity::find()
            .order_by_asc(approval_rule::Column::Id)
            .all(db(ctx))
            .await
            .map_err(AppError::from)?
            .into_iter()
            .map(ApprovalRule)
            .collect())
    }

    /// Change models.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn change_models(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Page forward: at most this many items (max 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Page forward: items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Page backward: at most this many items, the last ones (max 100).")]
        last: Option<i32>,
        #[graphql(desc = "Page backward: items before this cursor.")] before: Option<String>,
    ) -> Result<Conn<ChangeModel>> {
        connection::load(
            ctx,
            None,
            connection::list(
                Root::Root,
                listing::AllChangeModels,
                first,
                after,
                last,
                before,
            )?,
        )
        .await
    }

    /// A change model by its key.
    async fn change_model(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The model's key.")] key: String,
    ) -> Result<Option<ChangeModel>> {
        Ok(
            by_key::<change_model::Entity, _>(db(ctx), change_model::Column::Key, &key)
                .await?
                .map(ChangeModel),
        )
    }
}

/// The part of `Mutation` for projects of the PMO and change models.
#[derive(Default)]
pub struct PlanningMutation;

#[Object]
impl PlanningMutation {
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

    /// Edits a change model. ADMIN or the OWNER of change-management. Changes it already
    /// authorized keep their authority; the new rigour applies to what is submitted next.
    #[allow(clippy::too_many_arguments)]
    async fn update_change_model(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The change model.")] id: ID,
        #[graphql(desc = "The `version` you read; a mismatch is CONFLICT and changes nothing.")]
        expected_version: Option<i32>,
        #[graphql(desc = "New name.")] name: MaybeUndefined<String>,
        #[graphql(desc = "New description; null empties it.")] description: MaybeUndefined<String>,
        #[graphql(desc = "New highest risk a change may have to fit the model.")]
        max_risk: MaybeUndefined<RiskLevel>,
        #[graphql(desc = "New number of approvals a NORMAL change within it needs (1–10).")]
        required_approvals: MaybeUndefined<i32>,
        #[graphql(desc = "Whether STANDARD changes within it are authorized on submission.")]
        pre_approved: MaybeUndefined<bool>,
    ) -> Result<ChangeModel> {
        let id = decode(&id, Kind::ChangeModel, "id")?;
        let p = ChangeModelPatch {
            name: patch(name),
            description: patch(description),
            max_risk: patch(max_risk),
            required_approvals: patch(required_approvals),
            pre_approved: patch(pre_approved),
        };
        let m = gov(ctx)
            .update_change_model(Viewer::of(ctx), id, expected_version, p)
            .await?;
        Ok(ChangeModel(m))
    }

    /// Retires a change model — revoking a pre-approval: no new change is submitted under
    /// it; changes it already authorized keep their authority. ADMIN or the OWNER of
    /// change-management.
    async fn retire_change_model(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The change model.")] id: ID,
        #[graphql(desc = "The `version` you read; a mismatch is CONFLICT and changes nothing.")]
        expected_version: Option<i32>,
    ) -> Result<ChangeModel> {
        let id = decode(&id, Kind::ChangeModel, "id")?;
        let m = gov(ctx)
            .retire_change_model(Viewer::of(ctx), id, expected_version)
            .await?;
        Ok(ChangeModel(m))
    }

    /// Adds a rule to the approval policy. ADMIN or the OWNER of change-management.
    #[allow(clippy::too_many_arguments)]
    async fn create_approval_rule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What the rule is about (1–200 characters).")] name: String,
        #[graphql(desc = "Changes of this type only (NORMAL or EMERGENCY); any when omitted.")]
        change_type: Option<ChangeType>,
        #[graphql(desc = "Changes at or above this risk; any risk when omitted.")] min_risk: Option<
            RiskLevel,
        >,
        #[graphql(desc = "Changes touching a service at or above this criticality.")]
        min_criticality: Option<Criticality>,
        #[graphql(desc = "Approvals a matching change needs (1–10).")] required_approvals: i32,
        #[graphql(desc = "Whether one must come from the OWNER of change-management.")]
        owner_required: Option<bool>,
    ) -> Result<ApprovalRule> {
        let input = NewApprovalRule {
            name,
            change_type: change_type.map(Into::into),
            min_risk: min_risk.map(Into::into),
            min_criticality: min_criticality.map(Into::into),
            required_approvals,
            owner_required: owner_required.unwrap_or(false),
        };
        let r = gov(ctx)
            .create_approval_rule(Viewer::of(ctx), input)
            .await?;
        Ok(ApprovalRule(r))
    }

    /// Edits a rule of the approval policy; it applies to the decisions taken from then
    /// on. ADMIN or the OWNER of change-management.
    #[allow(clippy::too_many_arguments)]
    async fn update_approval_rule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The rule.")] id: ID,
        #[graphql(desc = "The `version` you read; a mismatch is CONFLICT and changes nothing.")]
        expected_version: Option<i32>,
        #[graphql(desc = "New name.")] name: MaybeUndefined<String>,
        #[graphql(desc = "New change type; null: any.")] change_type: MaybeUndefined<ChangeType>,
        #[graphql(desc = "New minimum risk; null: any.")] min_risk: MaybeUndefined<RiskLevel>,
        #[graphql(desc = "New minimum criticality; null: any.")] min_criticality: MaybeUndefined<
            Criticality,
        >,
        #[graphql(desc = "New number of approvals (1–10).")] required_approvals: MaybeUndefined<
            i32,
        >,
        #[graphql(desc = "Whether the OWNER's approval is required.")]
        owner_required: MaybeUndefined<bool>,
    ) -> Result<ApprovalRule> {
        let id = decode(&id, Kind::ApprovalRule, "id")?;
        let p = ApprovalRulePatch {
            name: patch(name),
            change_type: patch(change_type),
            min_risk: patch(min_risk),
            min_criticality: patch(min_criticality),
            required_approvals: patch(required_approvals),
            owner_required: patch(owner_required),
        };
        let r = gov(ctx)
            .update_approval_rule(Viewer::of(ctx), id, expected_version, p)
            .await?;
        Ok(ApprovalRule(r))
    }

    /// Removes a rule from the approval policy; returns its ID. ADMIN or the OWNER of
    /// change-management.
    async fn delete_approval_rule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The rule.")] id: ID,
        #[graphql(desc = "The `version` you read; a mismatch is CONFLICT and changes nothing.")]
        expected_version: Option<i32>,
    ) -> Result<ID> {
        let row = decode(&id, Kind::ApprovalRule, "id")?;
        gov(ctx)
            .delete_approval_rule(Viewer::of(ctx), row, expected_version)
            .await?;
        Ok(id)
    }
}
