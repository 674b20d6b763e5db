//! Processes, their policies and role assignments; projects; change models.
//!
//! Processes are reference data (ADMIN). Policies and role assignments: ADMIN or the
//! process's OWNER; one OWNER per process (rule 9). Change models: ADMIN or the OWNER of
//! change-management. Projects: any writer creates one; ADMIN or its manager updates it.

use entity::*;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, ModelTrait, QueryFilter, Set};

use super::access::{ActorRoles, CHANGE_MANAGEMENT};
use super::validate::{self, MAX_DESCRIPTION, MAX_TITLE};
use super::{Actor, Governance, Patch, Work, ensure_free, expect_version, guard, load, save};
use crate::error::{AppError, AppResult};

/// ADMIN, or the OWNER of process `p`.
async fn process_steward(w: &Work, actor: &Actor, p: &process::Model) -> AppResult<()> {
    let me = actor.writer()?;
    if actor.is_admin() || ActorRoles::load(w.tx(), Some(me)).await?.owns(p.id) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "changing the policies and roles of process `{}` needs an ADMIN token or its OWNER",
            p.key
        )))
    }
}

impl Governance {
    /// Adds a process (ADMIN).
    pub async fn create_process(
        &self,
        actor: &Actor,
        key: &str,
        name: &str,
        description: Option<String>,
    ) -> AppResult<process::Model> {
        actor.admin("adding a process")?;
        let key = validate::key("key", key)?;
        let name = validate::text("name", name, MAX_TITLE)?;
        let description = validate::long_text(
            "description",
            description.as_deref().unwrap_or(""),
            MAX_DESCRIPTION,
        )?;
        let w = self.start(actor).await?;
        ensure_free::<process::Entity>(&w, process::Column::Key, &key, "process", "key").await?;
        let p = process::ActiveModel {
            key: Set(key),
            name: Set(name),
            description: Set(description),
            created_at: Set(w.now),
            updated_at: Set(w.now),
            version: Set(1),
            ..Default::default()
        };
        self.created(w, p, "Process").await
    }

    /// Adds a policy — a rule that governs the process (ADMIN or the process's OWNER).
    pub async fn add_policy(
        &self,
        actor: &Actor,
        process_id: i64,
        statement: &str,
    ) -> AppResult<policy::Model> {
        actor.writer()?;
        let statement = validate::text("statement", statement, MAX_DESCRIPTION)?;
        let w = self.start(actor).await?;
        let p = load::<process::Entity>(&w, process_id, "processId").await?;
        process_steward(&w, actor, &p).await?;
        let policy = policy::ActiveModel {
            process_id: Set(process_id),
            statement: Set(statement),
            created_at: Set(w.now),
            updated_at: Set(w.now),
            version: Set(1),
            ..Default::default()
        }
        .insert(w.tx())
        .await?;
        guard::<process::Entity>(&w, process_id, p.version).await?;
        w.audit("CREATED", "Policy", policy.id, None, Some(&policy))
            .await?;
        w.commit(&self.bus).await?;
        Ok(policy)
    }

    /// Gives a person a role on a process (ADMIN or the process's OWNER). A second OWNER
    /// is a CONFLICT (rule 9): revoke the current one first.
    pub async fn assign_process_role(
        &self,
        actor: &Actor,
        process_id: i64,
        person_id: i64,
        role: ProcessRole,
        scope: Option<String>,
    ) -> AppResult<process_role_assignment::Model> {
        actor.writer()?;
        let scope = scope
            .map(|s| validate::text("scope", &s, MAX_TITLE))
            .transpose()?;
        let w = self.start(actor).await?;
        let p = load::<process::Entity>(&w, process_id, "processId").await?;
        process_steward(&w, actor, &p).await?;
        let person = load::<person::Entity>(&w, person_id, "personId").await?;
        let current = process_role_assignment::Entity::find()
            .filter(process_role_assignment::Column::ProcessId.eq(process_id))
            .all(w.tx())
            .await?;
        if role == ProcessRole::Owner
            && let Some(owner) = current.iter().find(|a| a.role == ProcessRole::Owner)
        {
            return Err(AppError::Conflict(format!(
                "process `{}` already has an OWNER (assignment {}); a process has one owner at a time, so revoke that assignment first",
                p.key, owner.id
            )));
        }
        if current
            .iter()
            .any(|a| a.person_id == person_id && a.role == role && a.scope == scope)
        {
            return Err(AppError::Conflict(format!(
                "{} already holds {} on process `{}` with that scope",
                person.name,
                role.as_str(),
                p.key
            )));
        }
        // The process row serializes concurrent assignments, so two owners cannot both pass.
        guard::<process::Entity>(&w, process_id, p.version).await?;
        let a = process_role_assignment::ActiveModel {
            process_id: Set(process_id),
            person_id: Set(person_id),
            role: Set(role),
            scope: Set(scope),
            created_at: Set(w.now),
            updated_at: Set(w.now),
            version: Set(1),
            ..Default::default()
        }
        .insert(w.tx())
        .await?;
        w.audit(
            "ROLE_ASSIGNED",
            "ProcessRoleAssignment",
            a.id,
            None,
            Some(&a),
        )
        .await?;
        w.commit(&self.bus).await?;
        Ok(a)
    }

    /// Ends a role assignment (ADMIN or the process's OWNER); returns the process.
    pub async fn revoke_process_role(
        &self,
        actor: &Actor,
        assignment_id: i64,
    ) -> AppResult<process::Model> {
        actor.writer()?;
        let w = self.start(actor).await?;
        let a = load::<process_role_assignment::Entity>(&w, assignment_id, "assignmentId").await?;
        let p = load::<process::Entity>(&w, a.process_id, "processId").await?;
        process_steward(&w, actor, &p).await?;
        a.clone().delete(w.tx()).await?;
        let after = guard::<process::Entity>(&w, p.id, p.version).await?;
        w.audit(
            "ROLE_REVOKED",
            "ProcessRoleAssignment",
            assignment_id,
            Some(&a),
            None,
        )
        .await?;
        w.commit(&self.bus).await?;
        Ok(after)
    }

    /// Adds a project (any writer; ADMIN for a project managed by someone else than the
    /// caller). Without `managerId` the caller manages it.
    pub async fn create_project(
        &self,
        actor: &Actor,
        code: &str,
        name: &str,
        manager_id: Option<i64>,
        status: Option<ProjectStatus>,
    ) -> AppResult<project::Model> {
        let me = actor.writer()?;
        let code = validate::code("code", code)?;
        let name = validate::text("name", name, MAX_TITLE)?;
        let manager_id = manager_id.unwrap_or(me);
        if manager_id != me && !actor.is_admin() {
            return Err(AppError::Forbidden(
                "only an ADMIN token creates a project managed by someone else".into(),
            ));
        }
        let w = self.start(actor).await?;
        load::<person::Entity>(&w, manager_id, "managerId").await?;
        ensure_free::<project::Entity>(&w, project::Column::Code, &code, "project", "code").await?;
        let p = project::ActiveModel {
            code: Set(code),
            name: Set(name),
            status: Set(status.unwrap_or(ProjectStatus::Proposed)),
            manager_id: Set(Some(manager_id)),
            created_at: Set(w.now),
            updated_at: Set(w.now),
            version: Set(1),
            ..Default::default()
        };
        self.created(w, p, "Project").await
    }

    /// Updates a project (ADMIN or its manager).
    pub async fn update_project(
        &self,
        actor: &Actor,
        id: i64,
        expected: Option<i32>,
        name: Patch<String>,
        status: Patch<ProjectStatus>,
        manager_id: Patch<i64>,
    ) -> AppResult<project::Model> {
        let me = actor.writer()?;
        let name = name.required_text("name", MAX_TITLE)?;
        let status = status.required("status")?;
        let w = self.start(actor).await?;
        let before = load::<project::Entity>(&w, id, "id").await?;
        if !actor.is_admin() && before.manager_id != Some(me) {
            return Err(AppError::Forbidden(format!(
                "project {} is updated by its manager or an ADMIN token",
                before.code
            )));
        }
        expect_version::<project::Entity>(expected, before.version, id)?;
        let mut am: project::ActiveModel = Default::default();
        if let Some(n) = name {
            am.name = Set(n);
        }
        if let Some(s) = status {
            am.status = Set(s);
        }
        if let Patch::Set(m) = manager_id {
            load::<person::Entity>(&w, m, "managerId").await?;
        }
        if manager_id.is_given() {
            am.manager_id = Set(manager_id.apply(None));
        }
        let after = save::<project::Entity, _>(&w, am, id, before.version).await?;
        w.audit("UPDATED", "Project", id, Some(&before), Some(&after))
            .await?;
        w.commit(&self.bus).await?;
        Ok(after)
    }

    /// Adds a change model (ADMIN or the OWNER of change-management).
    #[allow(clippy::too_many_arguments)]
    pub async fn create_change_model(
        &self,
        actor: &Actor,
        key: &str,
        name: &str,
        description: Option<String>,
        change_type: ChangeType,
        max_risk: RiskLevel,
        pre_approved: bool,
        required_approvals: Option<i32>,
    ) -> AppResult<change_model::Model> {
        let me = actor.writer()?;
        let key = validate::key("key", key)?;
        let name = validate::text("name", name, MAX_TITLE)?;
        let description = validate::long_text(
            "description",
            description.as_deref().unwrap_or(""),
            MAX_DESCRIPTION,
        )?;
        let required = model_rigour(change_type, required_approvals, pre_approved)?;
        let w = self.start(actor).await?;
        model_steward(&w, actor, me).await?;
        ensure_free::<change_model::Entity>(
            &w,
            change_model::Column::Key,
            &key,
            "change model",
            "key",
        )
        .await?;
        let m = change_model::ActiveModel {
            key: Set(key),
            name: Set(name),
            description: Set(description),
            change_type: Set(change_type),
            max_risk: Set(max_risk),
            pre_approved: Set(pre_approved),
            required_approvals: Set(required),
            created_at: Set(w.now),
            updated_at: Set(w.now),
            version: Set(1),
            ..Default::default()
        };
        self.created(w, m, "ChangeModel").await
    }
}

/// Edits of a change model.
#[derive(Clone, Debug, Default)]
pub struct ChangeModelPatch {
    pub name: Patch<String>,
    pub description: Patch<String>,
    pub max_risk: Patch<RiskLevel>,
    pub required_approvals: Patch<i32>,
    pub pre_approved: Patch<bool>,
}

/// The approvals a model of `change_type` requires, checked against its pre-approval.
fn model_rigour(
    change_type: ChangeType,
    required_approvals: Option<i32>,
    pre_approved: bool,
) -> AppResult<i32> {
    let required = match (change_type, required_approvals) {
        (ChangeType::Standard, Some(n)) if n != 0 => {
            return Err(AppError::bad_input(
                "`requiredApprovals`: a STANDARD model is authorized by pre-approval and takes no approvals",
            ));
        }
        (ChangeType::Standard, _) => 0,
        (ChangeType::Emergency, Some(n)) if n != 1 => {
            return Err(AppError::bad_input(
                "`requiredApprovals`: an EMERGENCY change is authorized by one approval",
            ));
        }
        (_, Some(n)) if !(1..=10).contains(&n) => {
            return Err(AppError::bad_input(
                "`requiredApprovals` must be between 1 and 10",
            ));
        }
        (_, n) => n.unwrap_or(1),
    };
    if pre_approved && change_type != ChangeType::Standard {
        return Err(AppError::bad_input(
            "`preApproved`: only STANDARD models are pre-approved; NORMAL and EMERGENCY changes need decisions",
        ));
    }
    Ok(required)
}

/// Change models and the approval policy are defined and edited by an ADMIN token or the
/// OWNER of change-management.
async fn model_steward(w: &Work, actor: &Actor, me: i64) -> AppResult<()> {
    if actor.is_admin()
        || ActorRoles::load(w.tx(), Some(me))
            .await?
            .holds(CHANGE_MANAGEMENT, &[ProcessRole::Owner])
    {
        return Ok(());
    }
    Err(AppError::Forbidden(format!(
        "change models and the approval policy are defined by an ADMIN token or the OWNER of {CHANGE_MANAGEMENT}"
    )))
}

/// Change model `id` for an edit by its steward: at the version the caller read, and not
/// retired (a retired model takes no more edits).
async fn current_model(
    w: &Work,
    actor: &Actor,
    me: i64,
    id: i64,
    expected: Option<i32>,
) -> AppResult<change_model::Model> {
    let before = load::<change_model::Entity>(w, id, "id").await?;
    model_steward(w, actor, me).await?;
    expect_version::<change_model::Entity>(expected, before.version, id)?;
    match before.retired_at {
        Some(at) => Err(AppError::Conflict(format!(
            "change model `{}` was retired at {}; a retired model takes no more edits",
            before.key,
            at.to_rfc3339()
        ))),
        None => Ok(before),
    }
}

impl Governance {
    /// Edits a change model (ADMIN or the OWNER of change-management). Changes it already
    /// authorized keep their authority; its new rigour applies to what is submitted next.
    pub async fn update_change_model(
        &self,
        actor: &Actor,
        id: i64,
        expected: Option<i32>,
        patch: ChangeModelPatch,
    ) -> AppResult<change_model::Model> {
        let me = actor.writer()?;
        let name = patch.name.required_text("name", MAX_TITLE)?;
        let description = patch
            .description
            .try_map(|d| validate::long_text("description", &d, MAX_DESCRIPTION))?;
        let max_risk = patch.max_risk.required("maxRisk")?;
        let required = patch.required_approvals.required("requiredApprovals")?;
        let pre_approved = patch.pre_approved.required("preApproved")?;
        let w = self.start(actor).await?;
        let before = current_model(&w, actor, me, id, expected).await?;
        let pre_approved = pre_approved.unwrap_or(before.pre_approved);
        let required = model_rigour(
            before.change_type,
            Some(required.unwrap_or(before.required_approvals)),
            pre_approved,
        )?;
        let mut am = change_model::ActiveModel {
            pre_approved: Set(pre_approved),
            required_approvals: Set(required),
            ..Default::default()
        };
        if let Some(n) = name {
            am.name = Set(n);
        }
        if description.is_given() {
            am.description = Set(description.apply(None).unwrap_or_default());
        }
        if let Some(r) = max_risk {
            am.max_risk = Set(r);
        }
        let after = save::<change_model::Entity, _>(&w, am, id, before.version).await?;
        w.audit("UPDATED", "ChangeModel", id, Some(&before), Some(&after))
            .await?;
        w.commit(&self.bus).await?;
        Ok(after)
    }

    /// Retires a change model (ADMIN or the OWNER of change-management): no new change is
    /// submitted under it; changes it already authorized keep their authority.
    pub async fn retire_change_model(
        &self,
        actor: &Actor,
        id: i64,
        expected: Option<i32>,
    ) -> AppResult<change_model::Model> {
        let me = actor.writer()?;
        let w = self.start(actor).await?;
        let before = current_model(&w, actor, me, id, expected).await?;
        let am = change_model::ActiveModel {
            retired_at: Set(Some(w.now)),
            ..Default::default()
        };
        let after = save::<change_model::Entity, _>(&w, am, id, before.version).await?;
        w.audit("RETIRED", "ChangeModel", id, Some(&before), Some(&after))
            .await?;
        w.commit(&self.bus).await?;
        Ok(after)
    }
}

/// A new rule of the approval policy.
#[derive(Clone, Debug)]
pub struct NewApprovalRule {
    pub name: String,
    pub change_type: Option<ChangeType>,
    pub min_risk: Option<RiskLevel>,
    pub min_criticality: Option<Criticality>,
    pub required_approvals: i32,
    pub owner_required: bool,
}

/// Edits of a rule of the approval policy.
#[derive(Clone, Debug, Default)]
pub struct ApprovalRulePatch {
    pub name: Patch<String>,
    pub change_type: Patch<ChangeType>,
    pub min_risk: Patch<RiskLevel>,
    pub min_criticality: Patch<Criticality>,
    pub required_approvals: Patch<i32>,
    pub owner_required: Patch<bool>,
}

/// A policy rule's rigour: STANDARD changes are authorized by their model, and a rule asks
/// for 1 to 10 approvals.
fn rule_rigour(change_type: Option<ChangeType>, required: i32) -> AppResult<()> {
    if change_type == Some(ChangeType::Standard) {
        return Err(AppError::bad_input(
            "`changeType`: STANDARD changes are authorized by their pre-approved model, not by approvals",
        ));
    }
    if !(1..=10).contains(&required) {
        return Err(AppError::bad_input(
            "`requiredApprovals` must be between 1 and 10",
        ));
    }
    Ok(())
}

impl Governance {
    /// Adds a rule to the approval policy (ADMIN or the OWNER of change-management).
    pub async fn create_approval_rule(
        &self,
        actor: &Actor,
        input: NewApprovalRule,
    ) -> AppResult<approval_rule::Model> {
        let me = actor.writer()?;
        let name = validate::text("name", &input.name, MAX_TITLE)?;
        rule_rigour(input.change_type, input.required_approvals)?;
        let w = self.start(actor).await?;
        model_steward(&w, actor, me).await?;
        let rule = approval_rule::ActiveModel {
            name: Set(name),
            change_type: Set(input.change_type),
            min_risk: Set(input.min_risk),
            min_criticality: Set(input.min_criticality),
            required_approvals: Set(input.required_approvals),
            owner_required: Set(input.owner_required),
            created_at: Set(w.now),
            updated_at: Set(w.now),
            version: Set(1),
            ..Default::default()
        };
        self.created(w, rule, "ApprovalRule").await
    }

    /// Edits a rule of the approval policy (ADMIN or the OWNER of change-management); it
    /// applies to the decisions taken from then on.
    pub async fn update_approval_rule(
        &self,
        actor: &Actor,
        id: i64,
        expected: Option<i32>,
        patch: ApprovalRulePatch,
    ) -> AppResult<approval_rule::Model> {
        let me = actor.writer()?;
        let name = patch.name.required_text("name", MAX_TITLE)?;
        let required = patch.required_approvals.required("requiredApprovals")?;
        let owner_required = patch.owner_required.required("ownerRequired")?;
        let w = self.start(actor).await?;
        let before = load::<approval_rule::Entity>(&w, id, "id").await?;
        model_steward(&w, actor, me).await?;
        expect_version::<approval_rule::Entity>(expected, before.version, id)?;
        let change_type = patch.change_type.apply(before.change_type);
        let required = required.unwrap_or(before.required_approvals);
        rule_rigour(change_type, required)?;
        let mut am = approval_rule::ActiveModel {
            change_type: Set(change_type),
            min_risk: Set(patch.min_risk.apply(before.min_risk)),
            min_criticality: Set(patch.min_criticality.apply(before.min_criticality)),
            required_approvals: Set(required),
            owner_required: Set(owner_required.unwrap_or(before.owner_required)),
            ..Default::default()
        };
        if let Some(n) = name {
            am.name = Set(n);
        }
        let after = save::<approval_rule::Entity, _>(&w, am, id, before.version).await?;
        w.audit("UPDATED", "ApprovalRule", id, Some(&before), Some(&after))
            .await?;
        w.commit(&self.bus).await?;
        Ok(after)
    }

    /// Removes a rule from the approval policy (ADMIN or the OWNER of change-management).
    pub async fn delete_approval_rule(
        &self,
        actor: &Actor,
        id: i64,
        expected: Option<i32>,
    ) -> AppResult<i64> {
        let me = actor.writer()?;
        let w = self.start(actor).await?;
        let before = load::<approval_rule::Entity>(&w, id, "id").await?;
        model_steward(&w, actor, me).await?;
        expect_version::<approval_rule::Entity>(expected, before.version, id)?;
        before.clone().delete(w.tx()).await?;
        w.audit(
            "DELETED",
            "ApprovalRule",
            id,
            Some(&before),
            None::<&approval_rule::Model>,
        )
        .await?;
        w.commit(&self.bus).await?;
        Ok(id)
    }
}
