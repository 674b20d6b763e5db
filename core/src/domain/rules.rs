//! The governance rules of DESIGN.md §3 as pure functions over facts already loaded.
//!
//! One source of truth for two callers: the mutations (which load the facts inside their
//! transaction and then apply the effects) and `availableTransitions` (which loads them
//! through the request's loaders and reports, for each next move, whether the viewer may
//! make it and why not). The checks run in a fixed order — credentials, state machine,
//! role, then the rule itself — so the first refusal is the most useful one to show.

use entity::{
    ApprovalDecision, ChangeStatus, ChangeType, ProcessRole, ReleaseStatus, approval,
    approval_rule, change, change_model, release, service,
};

use super::access::{
    Actor, ActorRoles, CHANGE_MANAGEMENT, DECIDERS, IMPLEMENTERS, RELEASE_MANAGEMENT, RELEASERS,
};
use crate::error::{AppError, AppResult};
pub use crate::store::blackouts::Freeze;

/// A move (or edit) of the change lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChangeAction {
    Update,
    Submit,
    Approve,
    Reject,
    Schedule,
    Start,
    Complete,
    Close,
    Cancel,
}

impl ChangeAction {
    /// Every action, in lifecycle order.
    pub const ALL: [ChangeAction; 9] = [
        ChangeAction::Update,
        ChangeAction::Submit,
        ChangeAction::Approve,
        ChangeAction::Reject,
        ChangeAction::Schedule,
        ChangeAction::Start,
        ChangeAction::Complete,
        ChangeAction::Close,
        ChangeAction::Cancel,
    ];

    /// The verb used in messages.
    pub fn verb(self) -> &'static str {
        match self {
            Self::Update => "update",
            Self::Submit => "submit",
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::Schedule => "schedule",
            Self::Start => "start",
            Self::Complete => "complete",
            Self::Close => "close",
            Self::Cancel => "cancel",
        }
    }

    /// The states the action starts from, for the change's type.
    fn sources(self, ty: ChangeType) -> &'static [ChangeStatus] {
        use ChangeStatus as S;
        match self {
            Self::Update | Self::Submit => &[S::Draft],
            Self::Approve | Self::Reject => &[S::Submitted],
            Self::Schedule => &[S::Authorized, S::Scheduled],
            Self::Start if ty == ChangeType::Emergency => &[S::Authorized, S::Scheduled],
            Self::Start => &[S::Scheduled],
            Self::Complete => &[S::Implementing],
            Self::Close => &[S::Review],
            Self::Cancel => &[S::Draft, S::Submitted, S::Authorized, S::Scheduled],
        }
    }

    /// The state the action leads to when it succeeds (an approval that is not yet the
    /// last one needed leaves the change SUBMITTED; see [`approval_target`]).
    fn nominal_target(self, ty: ChangeType) -> ChangeStatus {
        use ChangeStatus as S;
        match self {
            Self::Update => S::Draft,
            Self::Submit if ty == ChangeType::Standard => S::Authorized,
            Self::Submit => S::Submitted,
            Self::Approve => S::Authorized,
            Self::Reject => S::Rejected,
            Self::Schedule => S::Scheduled,
            Self::Start => S::Implementing,
            Self::Complete => S::Review,
            Self::Close => S::Closed,
            Self::Cancel => S::Cancelled,
        }
    }
}

/// What the rules need to know about a change.
#[derive(Clone, Copy, Debug)]
pub struct ChangeFacts<'a> {
    pub change: &'a change::Model,
    /// The services the change touches (their scopes decide which managers may act).
    pub services: &'a [service::Model],
    pub model: Option<&'a change_model::Model>,
    pub approvals: &'a [approval::Model],
    /// The release the change is in that is neither CANCELLED nor FAILED.
    pub active_release: Option<&'a release::Model>,
    /// How many changes that release holds (the change included).
    pub active_release_size: usize,
    /// The manager of the change's project.
    pub project_manager: Option<i64>,
    /// The rules of the approval policy of change-management.
    pub policy: &'a [approval_rule::Model],
    /// The people who are OWNER of change-management.
    pub owners: &'a [i64],
    /// The blackout window the change would run into if it started now (and lasted as long
    /// as its planned window), when one covers one of its services.
    pub freeze: Option<&'a Freeze>,
}

impl<'a> ChangeFacts<'a> {
    /// Facts of `change` with nothing else loaded, for rules that read a few of them (set
    /// the others with struct update syntax).
    pub fn bare(change: &'a change::Model) -> Self {
        Self {
            change,
            services: &[],
            policy: &[],
            owners: &[],
            model: None,
            approvals: &[],
            active_release: None,
            active_release_size: 0,
            project_manager: None,
            freeze: None,
        }
    }
}

/// Who is asking, with the roles they hold now.
#[derive(Clone, Copy, Debug)]
pub struct Who<'a> {
    pub actor: &'a Actor,
    pub roles: &'a ActorRoles,
}

/// Approvals a change needs (rules 1–3): none for a standard change, whose model
/// authorizes it; one for an emergency change; the model's count (else one) for a normal one.
pub fn required_approvals(ty: ChangeType, model: Option<&change_model::Model>) -> i32 {
    match ty {
        ChangeType::Standard => 0,
        ChangeType::Emergency => 1,
        ChangeType::Normal => model.map_or(1, |m| m.required_approvals.max(1)),
    }
}

/// APPROVED decisions a change has.
pub fn approved_count(approvals: &[approval::Model]) -> i32 {
    approvals
        .iter()
        .filter(|a| a.decision == ApprovalDecision::Approved)
        .count() as i32
}

/// What a change needs to be authorized: how many approvals, whether one of them must be
/// the change-management OWNER's, and the policy rule that asked for it (none: the change
/// model's count, or the change type's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    pub required: i32,
    pub owner_required: bool,
    pub rule: Option<String>,
}

impl Requirement {
    /// The requirement in words, e.g. `3 approvals, one from the OWNER of
    /// change-management (approval policy rule "Critical service")`.
    pub fn describe(&self) -> String {
        let count = match self.required {
            1 => "1 approval".to_owned(),
            n => format!("{n} approvals"),
        };
        let owner = if self.owner_required {
            format!(", one from the OWNER of {CHANGE_MANAGEMENT}")
        } else {
            String::new()
        };
        let why = match &self.rule {
            Some(rule) => format!("approval policy rule \"{rule}\""),
            None => "the change model or type".to_owned(),
        };
        format!("{count}{owner} ({why})")
    }
}

/// Whether policy rule `r` applies to change `c` touching `services`.
fn rule_applies(r: &approval_rule::Model, c: &change::Model, services: &[service::Model]) -> bool {
    r.change_type.is_none_or(|t| t == c.change_type)
        && r.min_risk.is_none_or(|min| c.risk.rank() >= min.rank())
        && r.min_criticality
            .is_none_or(|min| services.iter().any(|s| s.criticality.rank() >= min.rank()))
}

/// The requirement of a change: the strictest matching policy rule (most approvals, then
/// the one needing the OWNER) together with the change model's or type's count. STANDARD
/// changes are authorized by their model and need none.
pub fn requirement(facts: &ChangeFacts<'_>) -> Requirement {
    let c = facts.change;
    let base = Requirement {
        required: required_approvals(c.change_type, facts.model),
        owner_required: false,
        rule: None,
    };
    if c.change_type == ChangeType::Standard {
        return base;
    }
    let strictest = facts
        .policy
        .iter()
        .filter(|r| rule_applies(r, c, facts.services))
        .max_by_key(|r| {
            (
                r.required_approvals,
                r.owner_required,
                std::cmp::Reverse(r.id),
            )
        });
    match strictest {
        Some(r) if (r.required_approvals, r.owner_required) > (base.required, false) => {
            Requirement {
                required: r.required_approvals.max(base.required),
                owner_required: r.owner_required,
                rule: Some(r.name.clone()),
            }
        }
        _ => base,
    }
}

/// Whether an approval by the OWNER of change-management is among the change's approvals.
pub fn owner_approved(facts: &ChangeFacts<'_>) -> bool {
    facts
        .approvals
        .iter()
        .any(|a| a.decision == ApprovalDecision::Approved && facts.owners.contains(&a.approver_id))
}

/// Where one more approval (by `by`, when known) takes the change: AUTHORIZED when it
/// completes the requirement.
pub fn approval_target(facts: &ChangeFacts<'_>, by: Option<i64>) -> ChangeStatus {
    let req = requirement(facts);
    let owner_ok = !req.owner_required
        || owner_approved(facts)
        || by.is_some_and(|me| facts.owners.contains(&me));
    if approved_count(facts.approvals) + 1 >= req.required && owner_ok {
        ChangeStatus::Authorized
    } else {
        ChangeStatus::Submitted
    }
}

fn refused_move(action: ChangeAction, c: &change::Model) -> AppError {
    let from: Vec<&str> = action
        .sources(c.change_type)
        .iter()
        .map(|s| s.as_str())
        .collect();
    let to = action.nominal_target(c.change_type);
    AppError::InvalidTransition(format!(
        "cannot {} change {}: it is {}, and {} moves a {} change from {} to {}",
        action.verb(),
        c.number,
        c.status.as_str(),
        action.verb(),
        c.change_type.as_str(),
        from.join(" or "),
        to.as_str()
    ))
}

/// Whether the state machine has `action` from the change's current state.
pub fn change_move_exists(action: ChangeAction, c: &change::Model) -> bool {
    action.sources(c.change_type).contains(&c.status)
}

/// Checks every rule for `action` on a change and returns the state it leads to.
pub fn check_change(
    action: ChangeAction,
    facts: &ChangeFacts<'_>,
    who: Who<'_>,
) -> AppResult<ChangeStatus> {
    let c = facts.change;
    let me = who.actor.writer()?;
    if !change_move_exists(action, c) {
        return Err(refused_move(action, c));
    }
    let requester = me == c.requested_by_id;
    match action {
        ChangeAction::Update | ChangeAction::Submit if !requester => {
            return Err(AppError::Forbidden(format!(
                "only the requester of change {} may {} it",
                c.number,
                action.verb()
            )));
        }
        ChangeAction::Approve | ChangeAction::Reject => check_decider(action, facts, who, me)?,
        ChangeAction::Schedule
        | ChangeAction::Start
        | ChangeAction::Complete
        | ChangeAction::Close => {
            if !who.roles.holds(CHANGE_MANAGEMENT, IMPLEMENTERS) {
                return Err(AppError::Forbidden(format!(
                    "to {} a change you need a role (owner, manager or practitioner) on {CHANGE_MANAGEMENT}",
                    action.verb()
                )));
            }
            check_scope(action, facts, who, IMPLEMENTERS)?;
        }
        ChangeAction::Cancel
            if !(requester
                || facts.project_manager == Some(me)
                || who.roles.holds(CHANGE_MANAGEMENT, DECIDERS)) =>
        {
            return Err(AppError::Forbidden(format!(
                "change {} may be cancelled by its requester, its project's manager, or an owner or manager of {CHANGE_MANAGEMENT}",
                c.number
            )));
        }
        _ => {}
    }
    match action {
        ChangeAction::Submit if facts.model.is_some_and(|m| m.retired_at.is_some()) => {
            let m = facts.model.map(|m| m.key.as_str()).unwrap_or_default();
            return Err(AppError::InvalidTransition(format!(
                "cannot submit change {}: its model `{m}` is retired; choose a current model",
                c.number
            )));
        }
        ChangeAction::Submit if c.change_type == ChangeType::Standard => {
            check_standard_model(facts)?;
        }
        ChangeAction::Submit => {
            if let Some(m) = facts.model
                && m.change_type != c.change_type
            {
                return Err(AppError::InvalidTransition(format!(
                    "cannot submit change {}: it is {} but its model `{}` governs {} changes",
                    c.number,
                    c.change_type.as_str(),
                    m.key,
                    m.change_type.as_str()
                )));
            }
        }
        ChangeAction::Start | ChangeAction::Complete => {
            if action == ChangeAction::Start
                && c.change_type != ChangeType::Emergency
                && let Some(f) = facts.freeze
            {
                return Err(frozen(&format!("start change {}", c.number), f));
            }
            if let Some(r) = facts.active_release {
                return Err(AppError::InvalidTransition(format!(
                    "cannot {} change {}: it is in release {} {} ({}), and only the release moves it from {} to {}",
                    action.verb(),
                    c.number,
                    r.name,
                    r.version,
                    r.status.as_str(),
                    c.status.as_str(),
                    action.nominal_target(c.change_type).as_str()
                )));
            }
        }
        ChangeAction::Cancel => {
            if let Some(r) = facts.active_release
                && r.status != ReleaseStatus::Planned
                && facts.active_release_size <= 1
            {
                return Err(AppError::Conflict(format!(
                    "cannot cancel change {}: it is the only change of release {} {}, which is {}; a release past PLANNED keeps at least one change (cancel the release or add another change first)",
                    c.number,
                    r.name,
                    r.version,
                    r.status.as_str()
                )));
            }
        }
        _ => {}
    }
    Ok(match action {
        ChangeAction::Approve => approval_target(facts, Some(me)),
        other => other.nominal_target(c.change_type),
    })
}

/// A scoped role acts only on changes whose every service is in its scope (owners and
/// unscoped roles act on all).
fn check_scope(
    action: ChangeAction,
    facts: &ChangeFacts<'_>,
    who: Who<'_>,
    roles: &[ProcessRole],
) -> AppResult<()> {
    let Some(s) = who
        .roles
        .uncovered(CHANGE_MANAGEMENT, roles, facts.services)
    else {
        return Ok(());
    };
    let where_ = match &s.scope {
        Some(scope) => format!("in scope {scope}"),
        None => "in no scope".to_owned(),
    };
    Err(AppError::Forbidden(format!(
        "to {} change {} your roles on {CHANGE_MANAGEMENT} must cover each of its services, and they cover the scope(s) {} only: service `{}` is {where_}",
        action.verb(),
        facts.change.number,
        who.roles.scopes(CHANGE_MANAGEMENT, roles).join(", "),
        s.key
    )))
}

fn check_decider(
    action: ChangeAction,
    facts: &ChangeFacts<'_>,
    who: Who<'_>,
    me: i64,
) -> AppResult<()> {
    let c = facts.change;
    if c.change_type == ChangeType::Standard {
        return Err(AppError::InvalidTransition(format!(
            "cannot {} change {}: it is a STANDARD change, authorized by its pre-approved model on submission, not by decisions",
            action.verb(),
            c.number
        )));
    }
    if me == c.requested_by_id {
        return Err(AppError::Forbidden(format!(
            "you requested change {}, so you may not decide on it (segregation of duties)",
            c.number
        )));
    }
    if !who.roles.holds(CHANGE_MANAGEMENT, DECIDERS) {
        return Err(AppError::Forbidden(format!(
            "to {} a change you must be an owner or manager of {CHANGE_MANAGEMENT}",
            action.verb()
        )));
    }
    check_scope(action, facts, who, DECIDERS)?;
    if facts.approvals.iter().any(|a| a.approver_id == me) {
        return Err(AppError::Conflict(format!(
            "you have already decided on change {}; a decision is final",
            c.number
        )));
    }
    Ok(())
}

fn check_standard_model(facts: &ChangeFacts<'_>) -> AppResult<()> {
    let c = facts.change;
    let refuse = |why: String| {
        AppError::InvalidTransition(format!(
            "cannot submit STANDARD change {} (DRAFT to AUTHORIZED by its model): {why}",
            c.number
        ))
    };
    let Some(m) = facts.model else {
        return Err(refuse(
            "it names no change model; a standard change must fall within a pre-approved model"
                .into(),
        ));
    };
    if m.change_type != ChangeType::Standard {
        return Err(refuse(format!(
            "its model `{}` governs {} changes, not STANDARD ones",
            m.key,
            m.change_type.as_str()
        )));
    }
    if !m.pre_approved {
        return Err(refuse(format!("its model `{}` is not pre-approved", m.key)));
    }
    if c.risk.rank() > m.max_risk.rank() {
        return Err(refuse(format!(
            "its risk {} is above the model `{}`'s maximum {}",
            c.risk.as_str(),
            m.key,
            m.max_risk.as_str()
        )));
    }
    Ok(())
}

/// Every move the change lifecycle has from the change's current state, each with the
/// outcome of the full check for `who`.
pub fn change_transitions(
    facts: &ChangeFacts<'_>,
    who: Who<'_>,
) -> Vec<(ChangeAction, ChangeStatus, AppResult<ChangeStatus>)> {
    ChangeAction::ALL
        .into_iter()
        .filter(|a| change_move_exists(*a, facts.change))
        .map(|a| {
            let nominal = match a {
                ChangeAction::Approve => approval_target(facts, who.actor.person_id),
                other => other.nominal_target(facts.change.change_type),
            };
            (a, nominal, check_change(a, facts, who))
        })
        .collect()
}

/// What the rules need to know about a release.
#[derive(Clone, Copy, Debug)]
pub struct ReleaseFacts<'a> {
    pub release: &'a release::Model,
    /// The changes the release packages.
    pub changes: &'a [change::Model],
    /// The release it follows, for sequential releases.
    pub previous: Option<&'a release::Model>,
    /// The blackout window a deployment starting now (and lasting as long as its planned
    /// window) would run into, when one covers a service of the release or of its changes.
    pub freeze: Option<&'a Freeze>,
}

/// The release lifecycle: the states `to` may be reached from.
fn release_sources(to: ReleaseStatus) -> &'static [ReleaseStatus] {
    use ReleaseStatus as R;
    match to {
        R::Planned => &[],
        R::Building => &[R::Planned],
        R::Testing => &[R::Building],
        R::Ready => &[R::Testing],
        R::Deployed => &[R::Ready],
        R::Closed => &[R::Deployed],
        R::Failed => &[R::Building, R::Testing, R::Ready, R::Deployed],
        R::Cancelled => &[R::Planned, R::Building, R::Testing, R::Ready],
    }
}

/// Every release status, in lifecycle order.
pub const RELEASE_STATES: [ReleaseStatus; 8] = [
    ReleaseStatus::Planned,
    ReleaseStatus::Building,
    ReleaseStatus::Testing,
    ReleaseStatus::Ready,
    ReleaseStatus::Deployed,
    ReleaseStatus::Closed,
    ReleaseStatus::Failed,
    ReleaseStatus::Cancelled,
];

/// Whether the release lifecycle has a move from `from` to `to`.
pub fn release_move_exists(from: ReleaseStatus, to: ReleaseStatus) -> bool {
    release_sources(to).contains(&from)
}

/// Changes that may sit in a release that is being deployed (rule 6).
fn deployable(status: ChangeStatus) -> bool {
    matches!(
        status,
        ChangeStatus::Authorized | ChangeStatus::Scheduled | ChangeStatus::Implementing
    )
}

/// The release-management role check shared by every release write.
pub fn check_releaser(who: Who<'_>) -> AppResult<i64> {
    let me = who.actor.writer()?;
    if who.roles.holds(RELEASE_MANAGEMENT, RELEASERS) {
        Ok(me)
    } else {
        Err(AppError::Forbidden(format!(
            "releases are managed by owners and managers of {RELEASE_MANAGEMENT}"
        )))
    }
}

/// Checks every rule for moving a release to `to`.
pub fn check_release_move(
    to: ReleaseStatus,
    facts: &ReleaseFacts<'_>,
    who: Who<'_>,
) -> AppResult<()> {
    let r = facts.release;
    who.actor.writer()?;
    if !release_move_exists(r.status, to) {
        let from: Vec<&str> = release_sources(to).iter().map(|s| s.as_str()).collect();
        let allowed = if from.is_empty() {
            "no state".to_owned()
        } else {
            from.join(", ")
        };
        return Err(AppError::InvalidTransition(format!(
            "cannot move release {} {} from {} to {}: {} is reached only from {allowed}",
            r.name,
            r.version,
            r.status.as_str(),
            to.as_str(),
            to.as_str()
        )));
    }
    check_releaser(who)?;
    let refuse = |why: String| {
        AppError::InvalidTransition(format!(
            "cannot move release {} {} from {} to {}: {why}",
            r.name,
            r.version,
            r.status.as_str(),
            to.as_str()
        ))
    };
    match to {
        ReleaseStatus::Building if facts.changes.is_empty() => Err(refuse(
            "it has no change; a release is a single change or a package of changes".into(),
        )),
        ReleaseStatus::Deployed => {
            let pending: Vec<String> = facts
                .changes
                .iter()
                .filter(|c| !deployable(c.status))
                .map(|c| format!("{} is {}", c.number, c.status.as_str()))
                .collect();
            if facts.changes.is_empty() {
                return Err(refuse("it has no change".into()));
            }
            if r.planned_start.is_none() || r.planned_end.is_none() {
                return Err(refuse(
                    "it has no planned window; set its plannedStart and plannedEnd first".into(),
                ));
            }
            if !pending.is_empty() {
                return Err(refuse(format!(
                    "it deploys only under the authority of Change, and not all its changes are authorized ({})",
                    pending.join(", ")
                )));
            }
            if let Some(f) = facts.freeze
                && !facts
                    .changes
                    .iter()
                    .all(|c| c.change_type == ChangeType::Emergency)
            {
                return Err(frozen(
                    &format!("deploy release {} {}", r.name, r.version),
                    f,
                ));
            }
            if let Some(p) = facts.previous
                && !matches!(
                    p.status,
                    ReleaseStatus::Deployed
                        | ReleaseStatus::Closed
                        | ReleaseStatus::Failed
                        | ReleaseStatus::Cancelled
                )
            {
                return Err(refuse(format!(
                    "its previous release {} {} is {}, not yet DEPLOYED",
                    p.name,
                    p.version,
                    p.status.as_str()
                )));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// A service moves PIPELINE → LIVE → RETIRED (or PIPELINE → RETIRED, when it is
/// abandoned); RETIRED is final.
pub fn check_service_move(s: &service::Model, to: entity::ServiceLifecycle) -> AppResult<()> {
    use entity::ServiceLifecycle as L;
    let allowed = matches!(
        (s.lifecycle, to),
        (L::Pipeline, L::Live) | (L::Pipeline, L::Retired) | (L::Live, L::Retired)
    );
    if allowed {
        return Ok(());
    }
    let why = if s.lifecycle == L::Retired {
        "RETIRED is final".to_owned()
    } else {
        "a service moves PIPELINE → LIVE → RETIRED".to_owned()
    };
    Err(AppError::InvalidTransition(format!(
        "service `{}` cannot move from {} to {}: {why}",
        s.key,
        s.lifecycle.as_str(),
        to.as_str()
    )))
}

/// Whether closing the change needs a post-implementation review: every NORMAL and
/// EMERGENCY change, and any change that FAILED or was BACKED_OUT.
pub fn review_required(c: &change::Model) -> bool {
    c.change_type != ChangeType::Standard
        || matches!(
            c.outcome,
            Some(entity::ChangeOutcome::Failed | entity::ChangeOutcome::BackedOut)
        )
}

/// Whether starting the change now could run into a freeze, so the rules need to know of
/// one: a change that is not an EMERGENCY, in a state `startChange` moves.
pub fn start_exposed(c: &change::Model) -> bool {
    c.change_type != ChangeType::Emergency
        && ChangeAction::Start
            .sources(c.change_type)
            .contains(&c.status)
}

/// The refusal of work (`what`, e.g. "start change CHG0000042") that would run into a
/// freeze: CONFLICT naming the window and the service it covers.
pub fn frozen(what: &str, f: &Freeze) -> AppError {
    let covers = match (&f.service, f.every_service) {
        (Some(key), true) => format!("covers every service (`{key}` among them)"),
        (Some(key), false) => format!("covers service `{key}`"),
        (None, _) => "covers every service".to_owned(),
    };
    AppError::Conflict(format!(
        "cannot {what}: blackout window \"{}\" ({} – {}) {covers}; only EMERGENCY changes may go ahead in it",
        f.window.name,
        f.window.starts_at.to_rfc3339(),
        f.window.ends_at.to_rfc3339(),
    ))
}

/// Whether the release still takes edits and membership changes (PLANNED..READY).
pub fn release_open(status: ReleaseStatus) -> bool {
    matches!(
        status,
        ReleaseStatus::Planned
            | ReleaseStatus::Building
            | ReleaseStatus::Testing
            | ReleaseStatus::Ready
    )
}

/// Whether a change may still join a release (rule 5).
pub fn change_joinable(status: ChangeStatus) -> bool {
    !matches!(
        status,
        ChangeStatus::Closed | ChangeStatus::Rejected | ChangeStatus::Cancelled
    )
}

/// Whether a change counts as open (rule 10).
pub fn change_open(status: ChangeStatus) -> bool {
    change_joinable(status)
}

/// A change status's place on the forward path of the lifecycle (REJECTED and CANCELLED
/// stop at SUBMITTED's place), for "has it got at least this far".
pub fn lifecycle_rank(s: ChangeStatus) -> u8 {
    use ChangeStatus as S;
    match s {
        S::Draft => 0,
        S::Submitted | S::Rejected | S::Cancelled => 1,
        S::Authorized => 2,
        S::Scheduled => 3,
        S::Implementing => 4,
        S::Review => 5,
        S::Closed => 6,
    }
}

/// Whether a release holds its changes (rule 7): every state but CANCELLED and FAILED.
pub fn release_active(status: ReleaseStatus) -> bool {
    !matches!(status, ReleaseStatus::Cancelled | ReleaseStatus::Failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use entity::{ChangeCategory, ProcessRole, RiskLevel, TokenScope};

    fn change(ty: ChangeType, status: ChangeStatus) -> change::Model {
        let now = Utc::now();
        change::Model {
            id: 1,
            number: "CHG0000001".into(),
            title: "t".into(),
            description: String::new(),
            category: ChangeCategory::Application,
            change_type: ty,
            risk: RiskLevel::Medium,
            status,
            outcome: None,
            requested_by_id: 10,
            project_id: None,
            model_id: None,
            planned_start: None,
            planned_end: None,
            submitted_at: None,
            authorized_at: None,
            started_at: None,
            completed_at: None,
            closed_at: None,
            cancellation_reason: None,
            created_at: now,
            updated_at: now,
            version: 1,
            review_summary: None,
            review_objectives_met: None,
            review_follow_up: None,
            reviewed_by_id: None,
        }
    }

    fn facts(c: &change::Model) -> ChangeFacts<'_> {
        ChangeFacts::bare(c)
    }

    fn manager() -> (Actor, ActorRoles) {
        (
            Actor::new(20, TokenScope::Write),
            ActorRoles::from_rows([(1, CHANGE_MANAGEMENT.to_owned(), ProcessRole::Manager, None)]),
        )
    }

    #[test]
    fn a_refused_move_names_both_states() {
        let c = change(ChangeType::Normal, ChangeStatus::Closed);
        let (actor, roles) = manager();
        let who = Who {
            actor: &actor,
            roles: &roles,
        };
        let err = check_change(ChangeAction::Schedule, &facts(&c), who).err();
        let msg = err.as_ref().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(err.map(|e| e.code()), Some("INVALID_TRANSITION"));
        assert!(msg.contains("CLOSED") && msg.contains("SCHEDULED"), "{msg}");
    }

    #[test]
    fn only_emergency_changes_start_straight_from_authorized() {
        let (actor, roles) = manager();
        let who = Who {
            actor: &actor,
            roles: &roles,
        };
        let normal = change(ChangeType::Normal, ChangeStatus::Authorized);
        let emergency = change(ChangeType::Emergency, ChangeStatus::Authorized);
        assert!(check_change(ChangeAction::Start, &facts(&normal), who).is_err());
        assert_eq!(
            check_change(ChangeAction::Start, &facts(&emergency), who).ok(),
            Some(ChangeStatus::Implementing)
        );
    }

    #[test]
    fn the_release_lifecycle_has_exactly_its_documented_moves() {
        use ReleaseStatus as R;
        let moves: Vec<(R, R)> = RELEASE_STATES
            .iter()
            .flat_map(|f| RELEASE_STATES.iter().map(move |t| (*f, *t)))
            .filter(|(f, t)| release_move_exists(*f, *t))
            .collect();
        assert_eq!(moves.len(), 5 + 4 + 4);
        assert!(release_move_exists(R::Deployed, R::Failed));
        assert!(!release_move_exists(R::Deployed, R::Cancelled));
        assert!(!release_move_exists(R::Planned, R::Failed));
        assert!(!release_move_exists(R::Planned, R::Deployed));
    }

    fn rule(
        id: i64,
        risk: Option<RiskLevel>,
        criticality: Option<entity::Criticality>,
        required: i32,
        owner: bool,
    ) -> approval_rule::Model {
        approval_rule::Model {
            id,
            name: format!("rule {id}"),
            change_type: Some(ChangeType::Normal),
            min_risk: risk,
            min_criticality: criticality,
            required_approvals: required,
            owner_required: owner,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            version: 1,
        }
    }

    #[test]
    fn the_strictest_matching_rule_sets_the_requirement_and_standard_changes_need_none() {
        use entity::Criticality as Cr;
        let policy = [
            rule(1, Some(RiskLevel::High), None, 2, false),
            rule(2, None, Some(Cr::Critical), 3, true),
            rule(3, Some(RiskLevel::Medium), None, 2, false),
        ];
        let mut c = change(ChangeType::Normal, ChangeStatus::Submitted);
        c.risk = RiskLevel::High;
        let mut critical = service_named("sso");
        critical.criticality = Cr::Critical;
        let of = |c: &change::Model, services: &[service::Model]| {
            requirement(&ChangeFacts {
                services,
                policy: &policy,
                ..ChangeFacts::bare(c)
            })
        };
        let high = of(&c, &[]);
        assert_eq!((high.required, high.owner_required), (2, false));
        assert_eq!(
            high.rule.as_deref(),
            Some("rule 1"),
            "ties go to the older rule"
        );
        let on_critical = of(&c, std::slice::from_ref(&critical));
        assert_eq!(
            (on_critical.required, on_critical.owner_required),
            (3, true)
        );
        c.risk = RiskLevel::Low;
        assert_eq!(
            of(&c, &[]),
            Requirement {
                required: 1,
                owner_required: false,
                rule: None
            }
        );
        c.change_type = ChangeType::Standard;
        assert_eq!(of(&c, std::slice::from_ref(&critical)).required, 0);
    }

    fn service_named(key: &str) -> service::Model {
        service::Model {
            id: 9,
            key: key.into(),
            name: key.into(),
            description: String::new(),
            lifecycle: entity::ServiceLifecycle::Live,
            criticality: entity::Criticality::Low,
            owner_id: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            version: 1,
            scope: None,
        }
    }
}
