//! The change lifecycle (DESIGN.md §3, rules 1–4, 7, 8, 10, 11): create, edit, submit,
//! decide, schedule, implement, review, close or cancel — each one transaction.

use chrono::{DateTime, Utc};
use entity::*;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, ModelTrait, PaginatorTrait, QueryFilter, Set,
};

use super::catalog::not_retired;
use super::rules::{self, ChangeAction, ChangeFacts, Who, release_active};
use super::validate::{self, MAX_DESCRIPTION, MAX_TITLE};
use super::{Actor, ActorRoles, Governance, Patch, Work, expect_version, load, load_all, save};
use crate::error::{AppError, AppResult};
use crate::store::blackouts::{self, Exposure, Freeze};

/// A new change, created in DRAFT by the caller.
#[derive(Clone, Debug)]
pub struct NewChange {
    pub title: String,
    pub description: Option<String>,
    pub category: ChangeCategory,
    pub change_type: ChangeType,
    pub risk: RiskLevel,
    pub service_ids: Vec<i64>,
    pub project_id: Option<i64>,
    pub model_id: Option<i64>,
    pub planned_start: Option<DateTime<Utc>>,
    pub planned_end: Option<DateTime<Utc>>,
}

/// A post-implementation review.
#[derive(Clone, Debug)]
pub struct Review {
    /// What happened.
    pub summary: String,
    /// Whether the change met its objectives.
    pub objectives_met: bool,
    /// What follows up, if anything.
    pub follow_up: Option<String>,
}

impl Review {
    fn validated(self) -> AppResult<Self> {
        Ok(Self {
            summary: validate::text("review.summary", &self.summary, MAX_DESCRIPTION)?,
            objectives_met: self.objectives_met,
            follow_up: self
                .follow_up
                .map(|f| validate::long_text("review.followUp", &f, MAX_DESCRIPTION))
                .transpose()?
                .filter(|f| !f.is_empty()),
        })
    }
}

/// Edits of a DRAFT change.
#[derive(Clone, Debug, Default)]
pub struct ChangePatch {
    pub title: Patch<String>,
    pub description: Patch<String>,
    pub category: Patch<ChangeCategory>,
    pub change_type: Patch<ChangeType>,
    pub risk: Patch<RiskLevel>,
    pub service_ids: Patch<Vec<i64>>,
    pub project_id: Patch<i64>,
    pub model_id: Patch<i64>,
    pub planned_start: Patch<DateTime<Utc>>,
    pub planned_end: Patch<DateTime<Utc>>,
}

/// The facts the rules need, loaded inside the use case's transaction.
pub(super) struct Loaded {
    model: Option<change_model::Model>,
    approvals: Vec<approval::Model>,
    active_release: Option<release::Model>,
    active_release_size: usize,
    project_manager: Option<i64>,
    freeze: Option<Freeze>,
    services: Vec<service::Model>,
    policy: Vec<approval_rule::Model>,
    owners: Vec<i64>,
}

impl Loaded {
    pub(super) async fn of(w: &Work, c: &change::Model) -> AppResult<Self> {
        let model = match c.model_id {
            Some(id) => change_model::Entity::find_by_id(id).one(w.tx()).await?,
            None => None,
        };
        let approvals = approval::Entity::find()
            .filter(approval::Column::ChangeId.eq(c.id))
            .all(w.tx())
            .await?;
        let active_release = active_release_of(w, c.id).await?;
        let active_release_size = match &active_release {
            Some(r) => {
                release_change::Entity::find()
                    .filter(release_change::Column::ReleaseId.eq(r.id))
                    .count(w.tx())
                    .await? as usize
            }
            None => 0,
        };
        let project_manager = match c.project_id {
            Some(id) => project::Entity::find_by_id(id)
                .one(w.tx())
                .await?
                .and_then(|p| p.manager_id),
            None => None,
        };
        let mut services: Vec<service::Model> = change_service::Entity::find()
            .filter(change_service::Column::ChangeId.eq(c.id))
            .find_also_related(service::Entity)
            .all(w.tx())
            .await?
            .into_iter()
            .filter_map(|(_, s)| s)
            .collect();
        services.sort_by_key(|s| s.id);
        // The policy only decides where an approval takes a SUBMITTED change.
        let (policy, owners) = if c.status == ChangeStatus::Submitted {
            (
                approval_rule::Entity::find().all(w.tx()).await?,
                super::access::owners_of(w.tx(), super::access::CHANGE_MANAGEMENT).await?,
            )
        } else {
            (Vec::new(), Vec::new())
        };
        let freeze = if rules::start_exposed(c) {
            let ids = services.iter().map(|s| s.id).collect();
            let exposure = Exposure::from_now(ids, w.now, (c.planned_start, c.planned_end));
            blackouts::freeze(w.tx(), exposure).await?
        } else {
            None
        };
        Ok(Self {
            model,
            approvals,
            active_release,
            active_release_size,
            project_manager,
            freeze,
            services,
            policy,
            owners,
        })
    }

    fn facts<'a>(&'a self, c: &'a change::Model) -> ChangeFacts<'a> {
        ChangeFacts {
            change: c,
            services: &self.services,
            policy: &self.policy,
            owners: &self.owners,
            model: self.model.as_ref(),
            approvals: &self.approvals,
            active_release: self.active_release.as_ref(),
            active_release_size: self.active_release_size,
            project_manager: self.project_manager,
            freeze: self.freeze.as_ref(),
        }
    }
}

/// The release change `change_id` is in that is neither CANCELLED nor FAILED (rule 7).
pub(super) async fn active_release_of(
    w: &Work,
    change_id: i64,
) -> AppResult<Option<release::Model>> {
    let ids: Vec<i64> = release_change::Entity::find()
        .filter(release_change::Column::ChangeId.eq(change_id))
        .all(w.tx())
        .await?
        .into_iter()
        .map(|l| l.release_id)
        .collect();
    if ids.is_empty() {
        return Ok(None);
    }
    Ok(release::Entity::find()
        .filter(release::Column::Id.is_in(ids))
        .all(w.tx())
        .await?
        .into_iter()
        .find(|r| release_active(r.status)))
}

/// Writes a change's move, its audit event and its domain event.
pub(super) async fn record_move(
    w: &mut Work,
    before: &change::Model,
    am: change::ActiveModel,
    action: &str,
) -> AppResult<change::Model> {
    let after = save::<change::Entity, _>(w, am, before.id, before.version).await?;
    w.audit(action, "Change", before.id, Some(before), Some(&after))
        .await?;
    w.change_event(&after, action, Some(before.status)).await?;
    Ok(after)
}

/// Checks the services a change touches: they exist and are not RETIRED (rule 10).
async fn check_services(w: &Work, ids: &[i64]) -> AppResult<Vec<i64>> {
    if ids.is_empty() {
        return Err(AppError::bad_input(
            "`serviceIds` must name at least one service: a change touches something",
        ));
    }
    validate::list("serviceIds", ids)?;
    let ids = validate::distinct(ids);
    for s in load_all::<service::Entity>(w, &ids, "serviceIds").await? {
        not_retired(&s, "change")?;
    }
    Ok(ids)
}

/// Checks a project a change joins: it exists and is not CLOSED (rule 10).
async fn check_project(w: &Work, id: i64) -> AppResult<()> {
    let p = load::<project::Entity>(w, id, "projectId").await?;
    if p.status == ProjectStatus::Closed {
        return Err(AppError::Conflict(format!(
            "project {} is CLOSED and gets no new change",
            p.code
        )));
    }
    Ok(())
}

async fn replace_services(
    w: &Work,
    change_id: i64,
    created_at: DateTime<Utc>,
    ids: &[i64],
) -> AppResult<()> {
    change_service::Entity::delete_many()
        .filter(change_service::Column::ChangeId.eq(change_id))
        .exec(w.tx())
        .await?;
    change_service::Entity::insert_many(ids.iter().map(|s| change_service::ActiveModel {
        change_id: Set(change_id),
        service_id: Set(*s),
        change_created_at: Set(Some(created_at)),
    }))
    .exec(w.tx())
    .await?;
    Ok(())
}

/// A placeholder number unique among concurrent creations, replaced by `CHG` + id at once.
fn provisional_number() -> AppResult<String> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| AppError::Internal(format!("randomness: {e}")))?;
    Ok(format!("NEW{}", u64::from_le_bytes(bytes)))
}

impl Governance {
    async fn begin_change(
        &self,
        actor: &Actor,
        id: i64,
        expected: Option<i32>,
    ) -> AppResult<(Work, change::Model, ActorRoles)> {
        actor.writer()?;
        let w = self.start(actor).await?;
        let c = load::<change::Entity>(&w, id, "id").await?;
        expect_version::<change::Entity>(expected, c.version, id)?;
        let roles = ActorRoles::load(w.tx(), actor.person_id).await?;
        Ok((w, c, roles))
    }

    /// Checks `action` on a loaded change; returns the state it leads to.
    async fn check(
        w: &Work,
        actor: &Actor,
        roles: &ActorRoles,
        c: &change::Model,
        action: ChangeAction,
    ) -> AppResult<(ChangeStatus, Loaded)> {
        let loaded = Loaded::of(w, c).await?;
        let who = Who { actor, roles };
        let to = rules::check_change(action, &loaded.facts(c), who)?;
        Ok((to, loaded))
    }

    /// Creates a change in DRAFT, requested by the caller.
    pub async fn create_change(&self, actor: &Actor, input: NewChange) -> AppResult<change::Model> {
        let me = actor.writer()?;
        let title = validate::text("title", &input.title, MAX_TITLE)?;
        let description = validate::long_text(
            "description",
            input.description.as_deref().unwrap_or(""),
            MAX_DESCRIPTION,
        )?;
        validate::window(input.planned_start, input.planned_end)?;
        let mut w = self.start(actor).await?;
        let services = check_services(&w, &input.service_ids).await?;
        if let Some(p) = input.project_id {
            check_project(&w, p).await?;
        }
        if let Some(m) = input.model_id {
            load::<change_model::Entity>(&w, m, "modelId").await?;
        }
        let c = change::ActiveModel {
            number: Set(provisional_number()?),
            title: Set(title),
            description: Set(description),
            category: Set(input.category),
            change_type: Set(input.change_type),
            risk: Set(input.risk),
            status: Set(ChangeStatus::Draft),
            outcome: Set(None),
            requested_by_id: Set(me),
            project_id: Set(input.project_id),
            model_id: Set(input.model_id),
            planned_start: Set(input.planned_start),
            planned_end: Set(input.planned_end),
            created_at: Set(w.now),
            updated_at: Set(w.now),
            version: Set(1),
            ..Default::default()
        }
        .insert(w.tx())
        .await?;
        // The number is derived from the id, so concurrent creations never collide.
        let c = change::ActiveModel {
            id: Set(c.id),
            number: Set(format!("CHG{:07}", c.id)),
            ..Default::default()
        }
        .update(w.tx())
        .await?;
        replace_services(&w, c.id, c.created_at, &services).await?;
        w.audit("CREATED", "Change", c.id, None, Some(&c)).await?;
        w.change_event(&c, "CREATED", None).await?;
        w.commit(&self.bus).await?;
        Ok(c)
    }

    /// Edits a DRAFT change (its requester only).
    pub async fn update_change(
        &self,
        actor: &Actor,
        id: i64,
        expected: Option<i32>,
        patch: ChangePatch,
    ) -> AppResult<change::Model> {
        let title = patch.title.required_text("title", MAX_TITLE)?;
        let description = patch
            .description
            .try_map(|d| validate::long_text("description", &d, MAX_DESCRIPTION))?;
        let (mut w, before, roles) = self.begin_change(actor, id, expected).await?;
        Self::check(&w, actor, &roles, &before, ChangeAction::Update).await?;
        let planned_start = patch.planned_start.apply(before.planned_start);
        let planned_end = patch.planned_end.apply(before.planned_end);
        validate::window(planned_start, planned_end)?;
        let mut am = change::ActiveModel {
            planned_start: Set(planned_start),
            planned_end: Set(planned_end),
            ..Default::default()
        };
        if let Some(t) = title {
            am.title = Set(t);
        }
        if description.is_given() {
            am.description = Set(description.apply(None).unwrap_or_default());
        }
        if let Some(c) = patch.category.required("category")? {
            am.category = Set(c);
        }
        if let Some(t) = patch.change_type.required("type")? {
            am.change_type = Set(t);
        }
        if let Some(r) = patch.risk.required("risk")? {
            am.risk = Set(r);
        }
        if let Patch::Set(p) = patch.project_id {
            check_project(&w, p).await?;
        }
        if patch.project_id.is_given() {
            am.project_id = Set(patch.project_id.apply(None));
        }
        if let Patch::Set(m) = patch.model_id {
            load::<change_model::Entity>(&w, m, "modelId").await?;
        }
        if patch.model_id.is_given() {
            am.model_id = Set(patch.model_id.apply(None));
        }
        if let Some(ids) = patch.service_ids.required("serviceIds")? {
            let ids = check_services(&w, &ids).await?;
            replace_services(&w, id, before.created_at, &ids).await?;
        }
        let after = record_move(&mut w, &before, am, "UPDATED").await?;
        w.commit(&self.bus).await?;
        Ok(after)
    }

    /// Submits a DRAFT change. A STANDARD change is authorized by its pre-approved model in
    /// the same transaction (rule 1).
    pub async fn submit_change(
        &self,
        actor: &Actor,
        id: i64,
        expected: Option<i32>,
    ) -> AppResult<change::Model> {
        let (mut w, before, roles) = self.begin_change(actor, id, expected).await?;
        let now = w.now;
        let (to, _) = Self::check(&w, actor, &roles, &before, ChangeAction::Submit).await?;
        let submitted = record_move(
            &mut w,
            &before,
            change::ActiveModel {
                status: Set(ChangeStatus::Submitted),
                submitted_at: Set(Some(now)),
                ..Default::default()
            },
            "SUBMITTED",
        )
        .await?;
        let after = if to == ChangeStatus::Authorized {
            record_move(
                &mut w,
                &submitted,
                change::ActiveModel {
                    status: Set(ChangeStatus::Authorized),
                    authorized_at: Set(Some(now)),
                    ..Default::default()
                },
                "AUTHORIZED_BY_MODEL",
            )
            .await?
        } else {
            submitted
        };
        w.commit(&self.bus).await?;
        Ok(after)
    }

    /// Records the caller's decision on a SUBMITTED change (rules 2 and 3).
    async fn decide(
        &self,
        actor: &Actor,
        id: i64,
        expected: Option<i32>,
        decision: ApprovalDecision,
        comment: Option<String>,
    ) -> AppResult<change::Model> {
        let comment = comment
            .map(|c| validate::long_text("comment", &c, MAX_DESCRIPTION))
            .transpose()?
            .filter(|c| !c.is_empty());
        let action = match decision {
            ApprovalDecision::Approved => ChangeAction::Approve,
            ApprovalDecision::Rejected => ChangeAction::Reject,
        };
        let (mut w, before, roles) = self.begin_change(actor, id, expected).await?;
        let now = w.now;
        let (to, _) = Self::check(&w, actor, &roles, &before, action).await?;
        let me = actor.writer()?;
        let decided = approval::ActiveModel {
            change_id: Set(id),
            approver_id: Set(me),
            decision: Set(decision),
            comment: Set(comment),
            decided_at: Set(w.now),
            ..Default::default()
        }
        .insert(w.tx())
        .await?;
        w.audit(
            decision.as_str(),
            "Approval",
            decided.id,
            None,
            Some(&decided),
        )
        .await?;
        let mut am: change::ActiveModel = Default::default();
        let verb = match to {
            ChangeStatus::Authorized => {
                am.status = Set(ChangeStatus::Authorized);
                am.authorized_at = Set(Some(now));
                "AUTHORIZED"
            }
            ChangeStatus::Rejected => {
                am.status = Set(ChangeStatus::Rejected);
                "REJECTED"
            }
            _ => "APPROVED",
        };
        // Saving bumps the version even when the status stays, so two concurrent deciders
        // cannot both count themselves as the last approval needed (rule 11).
        let after = record_move(&mut w, &before, am, verb).await?;
        w.commit(&self.bus).await?;
        Ok(after)
    }

    /// Approves a SUBMITTED change; the last approval needed authorizes it.
    pub async fn approve_change(
        &self,
        actor: &Actor,
        id: i64,
        comment: Option<String>,
        expected: Option<i32>,
    ) -> AppResult<change::Model> {
        self.decide(actor, id, expected, ApprovalDecision::Approved, comment)
            .await
    }

    /// Rejects a SUBMITTED change; one rejection is final.
    pub async fn reject_change(
        &self,
        actor: &Actor,
        id: i64,
        comment: &str,
        expected: Option<i32>,
    ) -> AppResult<change::Model> {
        let comment = validate::text("comment", comment, MAX_DESCRIPTION)?;
        self.decide(
            actor,
            id,
            expected,
            ApprovalDecision::Rejected,
            Some(comment),
        )
        .await
    }

    /// A move that only sets columns of the change: check `action`, write what `set` gives
    /// (from the transaction's time), audit it as `verb`, commit.
    async fn simple_move(
        &self,
        actor: &Actor,
        id: i64,
        expected: Option<i32>,
        action: ChangeAction,
        verb: &str,
        set: impl FnOnce(DateTime<Utc>) -> change::ActiveModel,
    ) -> AppResult<change::Model> {
        let (mut w, before, roles) = self.begin_change(actor, id, expected).await?;
        Self::check(&w, actor, &roles, &before, action).await?;
        let changes = set(w.now);
        let after = record_move(&mut w, &before, changes, verb).await?;
        w.commit(&self.bus).await?;
        Ok(after)
    }

    /// Schedules (or reschedules) an authorized change into a planned window.
    pub async fn schedule_change(
        &self,
        actor: &Actor,
        id: i64,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        expected: Option<i32>,
    ) -> AppResult<change::Model> {
        validate::window(Some(start), Some(end))?;
        let (mut w, before, roles) = self.begin_change(actor, id, expected).await?;
        Self::check(&w, actor, &roles, &before, ChangeAction::Schedule).await?;
        super::blackouts::check_schedule(&w, &before, start, end).await?;
        let changes = change::ActiveModel {
            status: Set(ChangeStatus::Scheduled),
            planned_start: Set(Some(start)),
            planned_end: Set(Some(end)),
            ..Default::default()
        };
        let after = record_move(&mut w, &before, changes, "SCHEDULED").await?;
        w.commit(&self.bus).await?;
        Ok(after)
    }

    /// Starts implementing a scheduled change (an emergency change also straight from
    /// AUTHORIZED). Refused while the change is in a release: the release moves it.
    pub async fn start_change(
        &self,
        actor: &Actor,
        id: i64,
        expected: Option<i32>,
    ) -> AppResult<change::Model> {
        self.simple_move(actor, id, expected, ChangeAction::Start, "STARTED", |now| {
            change::ActiveModel {
                status: Set(ChangeStatus::Implementing),
                started_at: Set(Some(now)),
                ..Default::default()
            }
        })
        .await
    }

    /// Ends implementation with an outcome; the change goes to REVIEW.
    pub async fn complete_change(
        &self,
        actor: &Actor,
        id: i64,
        outcome: ChangeOutcome,
        expected: Option<i32>,
    ) -> AppResult<change::Model> {
        self.simple_move(
            actor,
            id,
            expected,
            ChangeAction::Complete,
            "COMPLETED",
            |now| change::ActiveModel {
                status: Set(ChangeStatus::Review),
                outcome: Set(Some(outcome)),
                completed_at: Set(Some(now)),
                ..Default::default()
            },
        )
        .await
    }

    /// Closes a change in REVIEW with its post-implementation review, which NORMAL and
    /// EMERGENCY changes and any change that FAILED or was BACKED_OUT must give.
    pub async fn close_change(
        &self,
        actor: &Actor,
        id: i64,
        review: Option<Review>,
        expected: Option<i32>,
    ) -> AppResult<change::Model> {
        let review = review.map(Review::validated).transpose()?;
        let me = actor.writer()?;
        let (mut w, before, roles) = self.begin_change(actor, id, expected).await?;
        Self::check(&w, actor, &roles, &before, ChangeAction::Close).await?;
        if review.is_none() && rules::review_required(&before) {
            return Err(AppError::bad_input(format!(
                "`review` is required to close change {}: a {} change{} closes with a post-implementation review (summary, objectivesMet, followUp)",
                before.number,
                before.change_type.as_str(),
                match before.outcome {
                    Some(o @ (ChangeOutcome::Failed | ChangeOutcome::BackedOut)) =>
                        format!(" whose outcome is {}", o.as_str()),
                    _ => String::new(),
                }
            )));
        }
        let mut changes = change::ActiveModel {
            status: Set(ChangeStatus::Closed),
            closed_at: Set(Some(w.now)),
            ..Default::default()
        };
        if let Some(r) = review {
            changes.review_summary = Set(Some(r.summary));
            changes.review_objectives_met = Set(Some(r.objectives_met));
            changes.review_follow_up = Set(r.follow_up);
            changes.reviewed_by_id = Set(Some(me));
        }
        let after = record_move(&mut w, &before, changes, "CLOSED").await?;
        w.commit(&self.bus).await?;
        Ok(after)
    }

    /// Cancels a change that has not started; it leaves its release in the same
    /// transaction (rule 7).
    pub async fn cancel_change(
        &self,
        actor: &Actor,
        id: i64,
        reason: &str,
        expected: Option<i32>,
    ) -> AppResult<change::Model> {
        let reason = validate::text("reason", reason, MAX_DESCRIPTION)?;
        let (mut w, before, roles) = self.begin_change(actor, id, expected).await?;
        let (_, loaded) = Self::check(&w, actor, &roles, &before, ChangeAction::Cancel).await?;
        if let Some(r) = &loaded.active_release {
            let link = release_change::Entity::find_by_id((r.id, id))
                .one(w.tx())
                .await?;
            if let Some(link) = link {
                link.clone().delete(w.tx()).await?;
                let after = super::guard::<release::Entity>(&w, r.id, r.revision).await?;
                w.audit("CHANGE_REMOVED", "Release", r.id, Some(&link), None)
                    .await?;
                w.release_event(&after, "CHANGE_REMOVED", Some(r.status));
            }
        }
        let after = record_move(
            &mut w,
            &before,
            change::ActiveModel {
                status: Set(ChangeStatus::Cancelled),
                cancellation_reason: Set(Some(reason)),
                ..Default::default()
            },
            "CANCELLED",
        )
        .await?;
        w.commit(&self.bus).await?;
        Ok(after)
    }
}
