//! Change management and the PMO: change models, changes, approvals and projects.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{approval, change, change_model, person, project, release};

use super::graph::{self, BlastRadius, RiskAssessment};
use super::{AuditEvent, ChangeTransition, Person, Release, Service, ServiceOffering, wrapper};
use crate::domain::rules;
use crate::error::AppError;
use crate::graphql::connection::{self, Conn};
use crate::graphql::enums::*;
use crate::graphql::ids::{Kind, encode};
use crate::graphql::inputs::{ChangeFilter, ChangeOrder, ReleaseFilter};
use crate::graphql::loaders::{
    ActiveReleaseSize, ApprovalPolicy, ChildrenOf, FreezeOf, ImpactedOfferings, Policy,
    ProjectTally,
};
use crate::graphql::narrow::{self, Narrow};
use crate::graphql::viewer::{self, Viewer, ViewerOf};
use crate::graphql::{by_opt_id, children, freeze_of, loader, required};
use crate::store::graph::{CHANGE_DEPTH, Origin};
use crate::store::listing::{self, AuditScope, ChangeScope, ReleaseScope, ServiceScope};
use crate::store::lookup::Tally;
use crate::store::relations;
use sea_orm::Iterable;

/// How many items are in one state (or of one kind).
#[derive(SimpleObject, Clone, Debug)]
pub struct StatusCount {
    /// The state or kind, as its enum value name.
    pub status: String,
    /// How many.
    pub count: i32,
}

wrapper!(
    /// A change model: the pre-defined rigour (and, when pre-approved, the authority) for
    /// changes of one type up to a level of risk. The more changes fall within pre-approved
    /// models, the more mature the organisation.
    ChangeModel, change_model::Model
);

#[Object(use_type_description)]
impl ChangeModel {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        encode(Kind::ChangeModel, self.0.id)
    }
    /// Unique slug; look-up key of `Query.changeModel`.
    async fn key(&self) -> &str {
        &self.0.key
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What changes fit the model and how they are carried out.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// The type of change the model governs.
    async fn change_type(&self) -> ChangeType {
        self.0.change_type.into()
    }
    /// The highest risk a change may have to fit the model.
    async fn max_risk(&self) -> RiskLevel {
        self.0.max_risk.into()
    }
    /// Whether changes within the model are authorized on submission (standard changes).
    async fn pre_approved(&self) -> bool {
        self.0.pre_approved
    }
    /// Approvals a normal change within the model needs.
    async fn required_approvals(&self) -> i32 {
        self.0.required_approvals
    }
    /// When the model was retired (`retireChangeModel`); null while it is in use. No new
    /// change is submitted under a retired model.
    async fn retired_at(&self) -> Option<DateTime<Utc>> {
        self.0.retired_at
    }
    /// Row version, for `expectedVersion` in updates.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Changes within this model.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the changes matching this filter.")] filter: Option<ChangeFilter>,
        #[graphql(desc = "Ordering; creation order when omitted.")] order_by: Option<ChangeOrder>,
        #[graphql(
            desc = "Page forward: at most this many items (max 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Page forward: items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Page backward: at most this many items, the last ones (max 100).")]
        last: Option<i32>,
        #[graphql(desc = "Page backward: items before this cursor.")] before: Option<String>,
    ) -> Result<Conn<Change>> {
        let filter = filter.unwrap_or_default().resolve(order_by)?;
        let list = connection::list(ChangeScope::Model, filter, first, after, last, before)?;
        connection::load(ctx, Some(self.0.id), list).await
    }
}

wrapper!(
    /// A change: anything that can impact a new or existing service, governed by Change
    /// Management. Standard changes are authorized by their pre-approved model, normal ones
    /// by approvals, emergency ones by one approval of the change-management owner or a manager.
    Change, change::Model
);

impl Narrow for Change {
    type Entity = change::Entity;
    fn reads(field: &str) -> Option<&'static [change::Column]> {
        use change::Column as C;
        Some(match field {
            "id" | "services" | "impactedOfferings" | "releases" | "approvals"
            | "approvalCount" | "activeRelease" | "history" | "blastRadius" => &[],
            "number" => &[C::Number],
            "title" => &[C::Title],
            "description" => &[C::Description],
            "category" => &[C::Category],
            "type" => &[C::ChangeType],
            "risk" => &[C::Risk],
            "status" => &[C::Status],
            "outcome" => &[C::Outcome],
            "requestedBy" => &[C::RequestedById],
            "project" => &[C::ProjectId],
            "model" => &[C::ModelId],
            "plannedStart" => &[C::PlannedStart],
            "plannedEnd" => &[C::PlannedEnd],
            "submittedAt" => &[C::SubmittedAt],
            "authorizedAt" => &[C::AuthorizedAt],
            "startedAt" => &[C::StartedAt],
            "completedAt" => &[C::CompletedAt],
            "closedAt" => &[C::ClosedAt],
            // The policy's rules read the risk; the services come through their own loader.
            "requiredApprovals" | "approvalRequirement" => &[C::ChangeType, C::ModelId, C::Risk],
            "riskAssessment" => &[C::ChangeType, C::Risk],
            "cancellationReason" => &[C::CancellationReason],
            "createdAt" => &[C::CreatedAt],
            "updatedAt" => &[C::UpdatedAt],
            "version" => &[C::Version],
            _ => return None,
        })
    }
}

impl Change {
    async fn approval_rows(
        &self,
        ctx: &Context<'_>,
    ) -> Result<std::sync::Arc<Vec<approval::Model>>> {
        children(ctx, relations::approvals_of_change(), self.0.id).await
    }
    async fn release_rows(&self, ctx: &Context<'_>) -> Result<std::sync::Arc<Vec<release::Model>>> {
        children(ctx, relations::releases_of_change(), self.0.id).await
    }
}

#[Object(use_type_description)]
impl Change {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        encode(Kind::Change, self.0.id)
    }
    /// `CHG` and seven digits; look-up key of `Query.change`.
    async fn number(&self) -> &str {
        &self.0.number
    }
    /// One-line summary.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// What changes, why, and how it is backed out.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// What it touches: infrastructure, applications or documentation.
    async fn category(&self) -> ChangeCategory {
        self.0.category.into()
    }
    /// Standard, normal or emergency.
    #[graphql(name = "type")]
    async fn change_type(&self) -> ChangeType {
        self.0.change_type.into()
    }
    /// Assessed risk.
    async fn risk(&self) -> RiskLevel {
        self.0.risk.into()
    }
    /// Lifecycle state.
    async fn status(&self) -> ChangeStatus {
        self.0.status.into()
    }
    /// How the implementation ended; set from REVIEW on.
    async fn outcome(&self) -> Option<ChangeOutcome> {
        self.0.outcome.map(Into::into)
    }
    /// Who requested the change.
    async fn requested_by(&self, ctx: &Context<'_>) -> Result<Person> {
        Ok(required::<person::Entity>(ctx, self.0.requested_by_id)
            .await?
            .into())
    }
    /// The project that spawned the change, if any.
    async fn project(&self, ctx: &Context<'_>) -> Result<Option<Project>> {
        Ok(by_opt_id::<project::Entity>(ctx, self.0.project_id)
            .await?
            .map(Project))
    }
    /// The change model the change falls within, if any.
    async fn model(&self, ctx: &Context<'_>) -> Result<Option<ChangeModel>> {
        Ok(by_opt_id::<change_model::Entity>(ctx, self.0.model_id)
            .await?
            .map(ChangeModel))
    }
    /// The services the change touches.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn services(
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
    ) -> Result<Conn<Service>> {
        let list = connection::list(
            ServiceScope::Change,
            listing::ServiceFilter::default(),
            first,
            after,
            last,
            before,
        )?;
        connection::load(ctx, Some(self.0.id), list).await
    }
    /// Offerings that include any service the change touches: the consumer groups to tell.
    /// With `transitive`, also those holding a service in its blast radius (3 dependency
    /// edges deep).
    async fn impacted_offerings(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default = false,
            desc = "Also the offerings of the services that depend on the change's, to 3 edges."
        )]
        transitive: bool,
    ) -> Result<Vec<ServiceOffering>> {
        if transitive {
            let radius = graph::radius(ctx, Origin::Change, self.0.id, CHANGE_DEPTH).await?;
            return Ok(graph::offerings_in(ctx, &radius)
                .await?
                .into_iter()
                .map(ServiceOffering)
                .collect());
        }
        let rows = loader(ctx)
            .load_one(ImpactedOfferings::OfChange(self.0.id))
            .await
            .map_err(AppError::from)?;
        Ok(rows
            .map(|r| r.iter().cloned().map(ServiceOffering).collect())
            .unwrap_or_default())
    }
    /// Every service a change to the change's services may reach through their
    /// dependents, to `depth` edges (1 to 10), with the offerings and consumer groups that
    /// would feel it.
    async fn blast_radius(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 3, desc = "Most dependency edges to follow (1 to 10).")] depth: i32,
    ) -> Result<BlastRadius> {
        graph::blast_radius(ctx, Origin::Change, self.0.id, depth).await
    }
    /// The risk the change's blast radius, its type and the outcomes of past changes on
    /// its services suggest, with the reason for each factor. Advice: the declared `risk`
    /// stays the one the approval policy applies.
    async fn risk_assessment(&self, ctx: &Context<'_>) -> Result<RiskAssessment> {
        graph::assess(ctx, &self.0).await
    }
    /// Every release the change was ever part of, including failed and cancelled ones.
    async fn releases(&self, ctx: &Context<'_>) -> Result<Vec<Release>> {
        // Only the columns the client selected: the releases of a portal page's changes.
        let key = ChildrenOf::<release::Entity>::narrowed(
            relations::releases_of_change().spec(),
            self.0.id,
            narrow::of_field::<Release>(ctx),
        );
        let rows = loader(ctx).load_one(key).await.map_err(AppError::from)?;
        Ok(rows
            .map(|r| r.iter().cloned().map(Release).collect())
            .unwrap_or_default())
    }
    /// Approval and rejection decisions, oldest first.
    async fn approvals(&self, ctx: &Context<'_>) -> Result<Vec<Approval>> {
        Ok(self
            .approval_rows(ctx)
            .await?
            .iter()
            .cloned()
            .map(Approval)
            .collect())
    }
    /// Start of the planned implementation window.
    async fn planned_start(&self) -> Option<DateTime<Utc>> {
        self.0.planned_start
    }
    /// End of the planned implementation window.
    async fn planned_end(&self) -> Option<DateTime<Utc>> {
        self.0.planned_end
    }
    /// When it was submitted for authorization.
    async fn submitted_at(&self) -> Option<DateTime<Utc>> {
        self.0.submitted_at
    }
    /// When it was authorized.
    async fn authorized_at(&self) -> Option<DateTime<Utc>> {
        self.0.authorized_at
    }
    /// When implementation started.
    async fn started_at(&self) -> Option<DateTime<Utc>> {
        self.0.started_at
    }
    /// When implementation ended (the change went to REVIEW).
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed_at
    }
    /// When it was closed.
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at
    }
    /// Approvals needed to authorize it: 0 for a standard change (its model authorizes it),
    /// else the strictest of its model's `requiredApprovals` (1 without a model; 1 for an
    /// emergency change) and the approval policy rules it matches. See
    /// `approvalRequirement` for why.
    async fn required_approvals(&self, ctx: &Context<'_>) -> Result<i32> {
        Ok(self.requirement(ctx).await?.required)
    }
    /// What authorizing this change takes, what it has, and which rule of the approval
    /// policy asked for it.
    async fn approval_requirement(&self, ctx: &Context<'_>) -> Result<ApprovalRequirement> {
        // Everything at once, so these loads join the same batches as `requiredApprovals`'.
        let (req, policy, approvals) = futures_util::try_join!(
            self.requirement(ctx),
            approval_policy(ctx),
            self.approval_rows(ctx)
        )?;
        let facts = rules::ChangeFacts {
            policy: &policy.rules,
            owners: &policy.owners,
            approvals: &approvals,
            ..rules::ChangeFacts::bare(&self.0)
        };
        Ok(ApprovalRequirement {
            required: req.required,
            owner_required: req.owner_required,
            approvals: rules::approved_count(&approvals),
            owner_approved: rules::owner_approved(&facts),
            rule: req.rule.clone(),
            reason: req.describe(),
        })
    }
    /// APPROVED decisions received so far.
    async fn approval_count(&self, ctx: &Context<'_>) -> Result<i32> {
        Ok(rules::approved_count(&self.approval_rows(ctx).await?))
    }
    /// The release the change is in that is neither CANCELLED nor FAILED, if any; while it
    /// has one, only that release moves the change.
    async fn active_release(&self, ctx: &Context<'_>) -> Result<Option<Release>> {
        Ok(self
            .release_rows(ctx)
            .await?
            .iter()
            .find(|r| rules::release_active(r.status))
            .cloned()
            .map(Release))
    }
    /// For the viewer, each next move the change lifecycle has from the current status,
    /// with whether the viewer may make it now and, if not, why. Portals use it to enable
    /// or grey out buttons; the mutations enforce exactly the same rules.
    async fn available_transitions(&self, ctx: &Context<'_>) -> Result<Vec<ChangeTransition>> {
        // Every load starts at once, so the loader batches them across all the changes of
        // the page whatever each change holds.
        let size = async {
            loader(ctx)
                .load_one(ActiveReleaseSize(self.0.id))
                .await
                .map_err(|e| async_graphql::Error::from(AppError::from(e)))
        };
        let freeze = freeze_of(
            ctx,
            rules::start_exposed(&self.0).then_some(FreezeOf::Change {
                id: self.0.id,
                planned: (self.0.planned_start, self.0.planned_end),
            }),
        );
        let (roles, model, approvals, releases, project, size, freeze, services, policy) = futures_util::try_join!(
            viewer::roles(ctx),
            by_opt_id::<change_model::Entity>(ctx, self.0.model_id),
            self.approval_rows(ctx),
            self.release_rows(ctx),
            by_opt_id::<project::Entity>(ctx, self.0.project_id),
            size,
            freeze,
            children(ctx, relations::all_services_of_change(), self.0.id),
            approval_policy(ctx),
        )?;
        let active = releases.iter().find(|r| rules::release_active(r.status));
        let active_release_size = size.unwrap_or(0) as usize;
        let project_manager = project.and_then(|p| p.manager_id);
        let facts = rules::ChangeFacts {
            change: &self.0,
            services: &services,
            policy: &policy.rules,
            owners: &policy.owners,
            model: model.as_ref(),
            approvals: &approvals,
            active_release: active,
            active_release_size,
            project_manager,
            freeze: freeze.as_deref(),
        };
        let who = rules::Who {
            actor: Viewer::of(ctx),
            roles: &roles,
        };
        Ok(rules::change_transitions(&facts, who)
            .into_iter()
            .map(|(action, to, outcome)| ChangeTransition::new(action, to, outcome))
            .collect())
    }
    /// Why the change was cancelled.
    async fn cancellation_reason(&self) -> Option<&str> {
        self.0.cancellation_reason.as_deref()
    }
    /// The post-implementation review the change closed with; null until then (and for a
    /// successful STANDARD change closed without one).
    async fn review(&self) -> Option<ChangeReview> {
        let c = &self.0;
        Some(ChangeReview {
            summary: c.review_summary.clone()?,
            objectives_met: c.review_objectives_met?,
            follow_up: c.review_follow_up.clone(),
            reviewed_by_id: c.reviewed_by_id,
            reviewed_at: c.closed_at?,
        })
    }
    /// The audit trail of this change, oldest first.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn history(
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
    ) -> Result<Conn<AuditEvent>> {
        let list = connection::list(
            AuditScope::Entity("Change"),
            listing::AuditFilter::default(),
            first,
            after,
            last,
            before,
        )?;
        connection::load(ctx, Some(self.0.id), list).await
    }
    /// When the change was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the change last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Row version, for `expectedVersion` in updates and lifecycle moves.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

wrapper!(
    /// A decision on a change. Approvals are never deleted.
    Approval, approval::Model
);

#[Object(use_type_description)]
impl Approval {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        encode(Kind::Approval, self.0.id)
    }
    /// The change decided on.
    async fn change(&self, ctx: &Context<'_>) -> Result<Change> {
        Ok(required::<change::Entity>(ctx, self.0.change_id)
            .await?
            .into())
    }
    /// Who decided.
    async fn approver(&self, ctx: &Context<'_>) -> Result<Person> {
        Ok(required::<person::Entity>(ctx, self.0.approver_id)
            .await?
            .into())
    }
    /// Approved or rejected.
    async fn decision(&self) -> ApprovalDecision {
        self.0.decision.into()
    }
    /// The approver's comment (required for a rejection).
    async fn comment(&self) -> Option<&str> {
        self.0.comment.as_deref()
    }
    /// When the decision was made.
    async fn decided_at(&self) -> DateTime<Utc> {
        self.0.decided_at
    }
}

wrapper!(
    /// A project managed by the PMO. Every project spawns several changes, which the PMO
    /// requests and manages, and releases out of it come singly, in sequence or packaged.
    Project, project::Model
);

#[Object(use_type_description)]
impl Project {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        encode(Kind::Project, self.0.id)
    }
    /// Unique project code; look-up key of `Query.project`.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// State of the project.
    async fn status(&self) -> ProjectStatus {
        self.0.status.into()
    }
    /// The project manager.
    async fn manager(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        Ok(by_opt_id::<person::Entity>(ctx, self.0.manager_id)
            .await?
            .map(Person))
    }
    /// Changes the project spawned.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the changes matching this filter.")] filter: Option<ChangeFilter>,
        #[graphql(desc = "Ordering; creation order when omitted.")] order_by: Option<ChangeOrder>,
        #[graphql(
            desc = "Page forward: at most this many items (max 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Page forward: items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Page backward: at most this many items, the last ones (max 100).")]
        last: Option<i32>,
        #[graphql(desc = "Page backward: items before this cursor.")] before: Option<String>,
    ) -> Result<Conn<Change>> {
        let filter = filter.unwrap_or_default().resolve(order_by)?;
        let list = connection::list(ChangeScope::Project, filter, first, after, last, before)?;
        connection::load(ctx, Some(self.0.id), list).await
    }
    /// Releases out of the project.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn releases(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the releases matching this filter.")] filter: Option<ReleaseFilter>,
        #[graphql(
            desc = "Page forward: at most this many items (max 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Page forward: items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Page backward: at most this many items, the last ones (max 100).")]
        last: Option<i32>,
        #[graphql(desc = "Page backward: items before this cursor.")] before: Option<String>,
    ) -> Result<Conn<Release>> {
        let filter = filter.unwrap_or_default().resolve()?;
        let list = connection::list(ReleaseScope::Project, filter, first, after, last, before)?;
        connection::load(ctx, Some(self.0.id), list).await
    }
    /// How many of its changes are in each ChangeStatus (states with none are left out).
    async fn change_summary(&self, ctx: &Context<'_>) -> Result<Vec<StatusCount>> {
        tally(
            ctx,
            Tally::ChangeStatus,
            self.0.id,
            entity::ChangeStatus::iter(),
        )
        .await
    }
    /// How many of its releases are in each ReleaseStatus, in lifecycle order.
    async fn release_summary(&self, ctx: &Context<'_>) -> Result<Vec<StatusCount>> {
        tally(
            ctx,
            Tally::ReleaseStatus,
            self.0.id,
            entity::ReleaseStatus::iter(),
        )
        .await
    }
    /// How many of its changes are at each RiskLevel, by severity (LOW first).
    async fn risk_profile(&self, ctx: &Context<'_>) -> Result<Vec<StatusCount>> {
        tally(ctx, Tally::ChangeRisk, self.0.id, entity::RiskLevel::iter()).await
    }
    /// Its next release: the not yet deployed one (PLANNED..READY) planned soonest; null
    /// when none is coming.
    async fn next_release(&self, ctx: &Context<'_>) -> Result<Option<Release>> {
        let rows = children(ctx, relations::releases_of_project(), self.0.id).await?;
        Ok(rows
            .iter()
            .filter(|r| rules::release_open(r.status))
            .min_by_key(|r| (r.planned_date.is_none(), r.planned_date, r.id))
            .cloned()
            .map(Release))
    }
    /// When the project was recorded.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the project last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Row version, for `expectedVersion` in updates.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// Position of a change status in the lifecycle, so summaries read in lifecycle order.
/// A project's tally as status counts, every value of `order` that occurs, in that order.
async fn tally<T: sea_orm::ActiveEnum<Value = String>>(
    ctx: &Context<'_>,
    tally: Tally,
    project: i64,
    order: impl Iterator<Item = T>,
) -> Result<Vec<StatusCount>> {
    let counts = loader(ctx)
        .load_one(ProjectTally(tally, project))
        .await
        .map_err(AppError::from)?
        .unwrap_or_default();
    Ok(order
        .filter_map(|v| {
            let value = v.to_value();
            counts
                .iter()
                .find(|(k, _)| *k == value)
                .map(|(k, n)| StatusCount {
                    status: k.clone(),
                    count: *n as i32,
                })
        })
        .collect())
}

/// A post-implementation review: what happened when a change was implemented, whether it
/// met its objectives, and what follows up.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ChangeReview {
    /// What happened.
    pub summary: String,
    /// Whether the change met its objectives.
    pub objectives_met: bool,
    /// What follows up, if anything.
    pub follow_up: Option<String>,
    #[graphql(skip)]
    pub reviewed_by_id: Option<i64>,
    /// When the review was recorded (the change closed).
    pub reviewed_at: DateTime<Utc>,
}

#[async_graphql::ComplexObject]
impl ChangeReview {
    /// Who reviewed and closed the change.
    async fn reviewed_by(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        Ok(by_opt_id::<person::Entity>(ctx, self.reviewed_by_id)
            .await?
            .map(Person))
    }
}

/// What authorizing a change takes and what it has.
#[derive(SimpleObject)]
pub struct ApprovalRequirement {
    /// Approvals needed (0 for a STANDARD change, which its model authorizes).
    pub required: i32,
    /// Whether one of them must come from the OWNER of change-management.
    pub owner_required: bool,
    /// APPROVED decisions so far.
    pub approvals: i32,
    /// Whether the OWNER of change-management has approved.
    pub owner_approved: bool,
    /// The approval policy rule that set the requirement; null when the change model (or,
    /// without one, the change type) did.
    pub rule: Option<String>,
    /// The requirement in words, as `availableTransitions` gives it.
    pub reason: String,
}

/// The approval policy, loaded at most once per request (one statement pair), however the
/// resolvers that need it interleave.
async fn approval_policy(ctx: &Context<'_>) -> Result<Arc<Policy>> {
    let load = || async {
        Ok::<_, AppError>(
            loader(ctx)
                .load_one(ApprovalPolicy)
                .await
                .map_err(AppError::from)?
                .unwrap_or_default(),
        )
    };
    Ok(match ctx.data_opt::<PolicyOnce>() {
        Some(once) => once.0.get_or_try_init(load).await?.clone(),
        None => load().await?,
    })
}

/// The request's approval policy once loaded (set per request by the HTTP layer).
#[derive(Default)]
pub struct PolicyOnce(tokio::sync::OnceCell<Arc<Policy>>);

impl Change {
    /// The approvals this change needs, from its model, its services and the policy.
    async fn requirement(&self, ctx: &Context<'_>) -> Result<rules::Requirement> {
        if self.0.change_type == entity::ChangeType::Standard {
            return Ok(rules::requirement(&rules::ChangeFacts::bare(&self.0)));
        }
        let (model, services, policy) = futures_util::try_join!(
            by_opt_id::<change_model::Entity>(ctx, self.0.model_id),
            children(ctx, relations::all_services_of_change(), self.0.id),
            approval_policy(ctx),
        )?;
        let model = model.filter(|_| self.0.change_type == entity::ChangeType::Normal);
        Ok(rules::requirement(&rules::ChangeFacts {
            model: model.as_ref(),
            services: &services,
            policy: &policy.rules,
            ..rules::ChangeFacts::bare(&self.0)
        }))
    }
}
