//! `availableTransitions`: for the viewer, each next move of a change or a release, with
//! whether it is allowed now and, if not, why — so a portal can grey out a button and say
//! why. Computed by the same rules the mutations enforce (`domain::rules`).

use async_graphql::{Enum, SimpleObject};

use crate::domain::rules;
use crate::error::{AppError, AppResult};
use crate::graphql::enums::{ChangeStatus, ReleaseStatus};

/// A move of the change lifecycle, and the mutation that makes it.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ChangeAction {
    /// `updateChange`: edit the DRAFT.
    Update,
    /// `submitChange`.
    Submit,
    /// `approveChange`.
    Approve,
    /// `rejectChange`.
    Reject,
    /// `scheduleChange`.
    Schedule,
    /// `startChange`.
    Start,
    /// `completeChange`.
    Complete,
    /// `closeChange`.
    Close,
    /// `cancelChange`.
    Cancel,
}

impl From<rules::ChangeAction> for ChangeAction {
    fn from(a: rules::ChangeAction) -> Self {
        use rules::ChangeAction as A;
        match a {
            A::Update => Self::Update,
            A::Submit => Self::Submit,
            A::Approve => Self::Approve,
            A::Reject => Self::Reject,
            A::Schedule => Self::Schedule,
            A::Start => Self::Start,
            A::Complete => Self::Complete,
            A::Close => Self::Close,
            A::Cancel => Self::Cancel,
        }
    }
}

/// One next move of a change, as the viewer may or may not make it.
#[derive(SimpleObject, Clone, Debug)]
pub struct ChangeTransition {
    /// The move.
    pub action: ChangeAction,
    /// The mutation that makes it, e.g. `approveChange`.
    pub mutation: String,
    /// The status the change has after it (an approval that is not the last one needed
    /// leaves it SUBMITTED).
    pub to_status: ChangeStatus,
    /// Whether the viewer may make it now.
    pub allowed: bool,
    /// Why not, when not allowed: a missing role, missing approvals, the release that
    /// holds the change, …
    pub reason: Option<String>,
    /// The `extensions.code` the mutation would fail with, when not allowed.
    pub code: Option<String>,
}

impl ChangeTransition {
    /// From a rule check's outcome.
    pub fn new(
        action: rules::ChangeAction,
        to: entity::ChangeStatus,
        outcome: AppResult<entity::ChangeStatus>,
    ) -> Self {
        let (allowed, reason, code) = verdict(outcome.map(|_| ()));
        Self {
            action: action.into(),
            mutation: format!("{}Change", action.verb()),
            to_status: to.into(),
            allowed,
            reason,
            code,
        }
    }
}

/// One next move of a release (each made with `advanceRelease(to: …)`).
#[derive(SimpleObject, Clone, Debug)]
pub struct ReleaseTransition {
    /// The status the release moves to.
    pub to_status: ReleaseStatus,
    /// The mutation that makes it: `advanceRelease`.
    pub mutation: String,
    /// Whether the viewer may make it now.
    pub allowed: bool,
    /// Why not, when not allowed: a missing role, no change, unauthorized changes, the
    /// previous release not deployed, …
    pub reason: Option<String>,
    /// The `extensions.code` the mutation would fail with, when not allowed.
    pub code: Option<String>,
}

impl ReleaseTransition {
    /// From a rule check's outcome.
    pub fn new(to: entity::ReleaseStatus, outcome: AppResult<()>) -> Self {
        let (allowed, reason, code) = verdict(outcome);
        Self {
            to_status: to.into(),
            mutation: "advanceRelease".into(),
            allowed,
            reason,
            code,
        }
    }
}

fn verdict(outcome: AppResult<()>) -> (bool, Option<String>, Option<String>) {
    match outcome {
        Ok(()) => (true, None, None),
        Err(e @ (AppError::Database(_) | AppError::Internal(_))) => {
            (false, Some(e.public_message()), Some(e.code().to_owned()))
        }
        Err(e) => (false, Some(e.to_string()), Some(e.code().to_owned())),
    }
}
