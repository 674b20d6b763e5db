//! The demo portfolio: the story of the source texts in data. Three processes with their
//! owner, regional managers, practitioners and policies; live, pipeline and retired services
//! with their partners; offerings for different consumer groups made of goods, access to
//! resources and service actions; PMO projects whose changes (standard, normal, emergency;
//! infrastructure, application, documentation) stand in every state; and releases that are
//! single, sequential and packaged.
//!
//! What the portfolio holds is the document `demo.toml` (see `document.rs`). The reference
//! data is inserted as the document says; the changes and releases are then taken to where
//! the document says they stand through the domain's own use cases — create, submit,
//! approve, schedule, start, complete, close, cancel; create a release, move it — by the
//! people whose roles allow each step, with the use cases' clock set to the date of each
//! step. So every rule holds in the demo, and its audit trail is the one the API writes.
//! Dates are relative to the day of loading: the demo is always "current".

use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, Duration, Utc};
use entity::*;
use sea_orm::{DatabaseConnection, EntityTrait, TransactionTrait};

use super::document::{DemoChange, DemoRelease, Ending, Ids, Window};
use crate::domain::rules::{lifecycle_rank, required_approvals};
use crate::domain::{
    Actor, Clock, EventBus, Governance, NewChange, NewRelease, Patch, Review, ServicePatch,
};
use crate::error::{AppError, AppResult};

/// What a load inserted.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub people: usize,
    pub services: usize,
    pub offerings: usize,
    pub changes: usize,
    pub releases: usize,
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} people, {} services, {} offerings, {} changes, {} releases",
            self.people, self.services, self.offerings, self.changes, self.releases
        )
    }
}

/// Who decides on changes in the demo (owner and managers of change-management), in the
/// order they are asked; a requester never decides on their own change.
const DECIDERS: [&str; 4] = ["bob", "carmen", "alice", "deepak"];
/// The change-management practitioner who schedules, implements and closes changes.
const IMPLEMENTER: &str = "erin";
/// The owner of release-management, who creates releases, and its manager, who moves them.
const RELEASE_OWNER: &str = "farid";
const RELEASE_MANAGER: &str = "grace";

/// Loads the demo portfolio into an empty database: the reference data in one transaction,
/// then each step of the changes' and releases' history as the use case it is.
pub async fn load(db: &DatabaseConnection) -> AppResult<Counts> {
    let now = crate::domain::now();
    let day0 = now.date_naive().and_time(chrono::NaiveTime::MIN).and_utc();
    let txn = db.begin().await?;
    let loaded =
        super::document::load(&txn, |d, h| day0 + Duration::days(d) + Duration::hours(h)).await?;
    txn.commit().await?;
    let clock = Clock::manual(day0);
    let mut story = Story {
        db: db.clone(),
        gov: Governance::new(db.clone(), EventBus::in_process(16)).with_clock(clock.clone()),
        clock,
        day0,
        latest: now - Duration::hours(1),
        ids: loaded.ids,
        changes: HashMap::new(),
    };
    let releases = story.releases_of_changes(&loaded.releases);
    let mut closing = Vec::new();
    for (i, row) in loaded.changes.iter().enumerate() {
        let release = releases.get(&format!("CHG{:07}", i + 1)).copied();
        if let Some(id) = story.change(i as i64, row, release).await? {
            closing.push(id);
        }
    }
    let mut released: Vec<(String, Released)> = Vec::new();
    for row in &loaded.releases {
        let r = story.release(row, &released).await?;
        released.push((format!("{} {}", row.name, row.version), r));
    }
    // Changes a release completed are closed by Change Management the day after it closed.
    for r in released.iter().map(|(_, r)| r) {
        let Some(closed) = r.closed else { continue };
        for id in r.changes.iter().filter(|id| closing.contains(id)) {
            story.at(closed + Duration::days(1));
            let who = story.actor(IMPLEMENTER)?;
            story
                .gov
                .close_change(&who, *id, Some(review()), None)
                .await?;
        }
    }
    for ending in loaded.endings {
        match ending {
            Ending::Service { id, owner, at } => {
                story.at(at.on(day0));
                let patch = ServicePatch {
                    lifecycle: Patch::Set(ServiceLifecycle::Retired),
                    ..Default::default()
                };
                let owner = Actor::new(owner, TokenScope::Write);
                story.gov.update_service(&owner, id, None, patch).await?;
            }
            Ending::Project { id, manager, at } => {
                story.at(at.on(day0));
                let closed = Patch::Set(ProjectStatus::Closed);
                let manager = Actor::new(manager, TokenScope::Write);
                story
                    .gov
                    .update_project(&manager, id, None, Patch::Keep, closed, Patch::Keep)
                    .await?;
            }
        }
    }
    story.check(&loaded.changes, &loaded.releases).await?;
    Ok(Counts {
        people: story.ids.people.len(),
        services: story.ids.services.len(),
        offerings: story.ids.offerings,
        changes: story.changes.len(),
        releases: released.len(),
    })
}

/// A release as loaded: its id, when it closed (if it did) and its changes.
struct Released {
    id: i64,
    closed: Option<DateTime<Utc>>,
    changes: Vec<i64>,
}

/// Where a change's release takes it: the release's day (its deployment, or when it is
/// planned), which anchors the change's own dates.
#[derive(Clone, Copy)]
struct InRelease {
    day: i64,
    planned: DateTime<Utc>,
}

/// The post-implementation review the demo's changes close with.
fn review() -> Review {
    Review {
        summary: "Implemented in its window as planned; monitored for a day with no incident."
            .into(),
        objectives_met: true,
        follow_up: None,
    }
}

/// The replay: the use cases with a clock the story sets.
struct Story {
    db: DatabaseConnection,
    gov: Governance,
    clock: Clock,
    /// Midnight (UTC) of the day of loading: day 0 of the document's relative times.
    day0: DateTime<Utc>,
    /// The latest a step may be dated: history stays in the past.
    latest: DateTime<Utc>,
    ids: Ids,
    /// The changes written so far, by number.
    changes: HashMap<String, i64>,
}

impl Story {
    fn at(&self, t: DateTime<Utc>) {
        self.clock.set(t.min(self.latest));
    }

    fn time(&self, day: i64, hour: i64) -> DateTime<Utc> {
        self.day0 + Duration::days(day) + Duration::hours(hour)
    }

    fn person(&self, handle: &str) -> AppResult<i64> {
        self.ids
            .people
            .get(handle)
            .copied()
            .ok_or_else(|| AppError::Internal(format!("demo.toml: no person `{handle}`")))
    }

    fn actor(&self, handle: &str) -> AppResult<Actor> {
        Ok(Actor::new(self.person(handle)?, TokenScope::Write))
    }

    fn lookup(map: &HashMap<String, i64>, what: &str, name: &str) -> AppResult<i64> {
        map.get(name)
            .copied()
            .ok_or_else(|| AppError::Internal(format!("demo.toml: no {what} `{name}`")))
    }

    /// For each change number, the release that moves it (the last active one naming it).
    fn releases_of_changes(&self, rows: &[DemoRelease]) -> HashMap<String, InRelease> {
        let mut out = HashMap::new();
        for r in rows.iter().filter(|r| r.status != ReleaseStatus::Cancelled) {
            let day = r.deployed.map_or(r.planned.day().min(-1), |d| d.day());
            for number in &r.changes {
                out.insert(
                    number.clone(),
                    InRelease {
                        day,
                        planned: r.planned.on(self.day0),
                    },
                );
            }
        }
        out
    }

    /// Takes change `i` of the document to its status (or, when a release moves it further,
    /// to SCHEDULED). Returns its id when its release is to complete it and it then closes.
    async fn change(
        &mut self,
        i: i64,
        row: &DemoChange,
        release: Option<InRelease>,
    ) -> AppResult<Option<i64>> {
        use ChangeStatus as S;
        let target = row.status;
        let beyond = |s: S| lifecycle_rank(target) >= lifecycle_rank(s);
        let done = matches!(target, S::Implementing | S::Review | S::Closed);
        // The day the work happens: its release's, a past day for work done, else today.
        let anchor = match (release, &row.window) {
            (Some(r), _) => r.day,
            (None, Some(w)) if done => w.start.day().min(0),
            (None, None) if done => -3 - (i * 3) % 20,
            (None, _) => 0,
        };
        // An emergency on its own moves within days; other work takes a week or two.
        let lead = match (release, row.change_type) {
            (None, ChangeType::Emergency) => 2,
            _ => 8 + i % 5,
        };
        let created = self.time(anchor.min(0) - lead, 9 + i % 8);
        let window = match (&row.window, release) {
            (Some(Window { start, end }), _) => (start.on(self.day0), end.on(self.day0)),
            (None, Some(r)) => (r.planned, r.planned + Duration::hours(4)),
            (None, None) => {
                let day = if done { anchor } else { 5 + (i * 3) % 40 };
                (self.time(day, 10 + i % 6), self.time(day, 14 + i % 6))
            }
        };
        let plan_at_creation = row.window.is_some() || (target == S::Authorized && i % 2 == 0);
        let requester = self.actor(&row.requester)?;
        let model_id = row
            .model
            .as_deref()
            .map(|m| Self::lookup(&self.ids.models, "change model", m))
            .transpose()?;
        self.at(created);
        let c = self
            .gov
            .create_change(
                &requester,
                NewChange {
                    title: row.title.clone(),
                    description: Some(format!(
                        "{}. Back-out plan: restore the previous configuration from the pre-change snapshot.",
                        row.title
                    )),
                    category: row.category,
                    change_type: row.change_type,
                    risk: row.risk,
                    service_ids: row
                        .services
                        .iter()
                        .map(|s| Self::lookup(&self.ids.services, "service", s))
                        .collect::<AppResult<_>>()?,
                    project_id: row
                        .project
                        .as_deref()
                        .map(|p| Self::lookup(&self.ids.projects, "project", p))
                        .transpose()?,
                    model_id,
                    planned_start: plan_at_creation.then_some(window.0),
                    planned_end: plan_at_creation.then_some(window.1),
                },
            )
            .await?;
        self.changes.insert(c.number.clone(), c.id);
        if target == S::Draft {
            return Ok(None);
        }
        let submitted = created + Duration::hours(20);
        self.at(submitted);
        let mut c = self.gov.submit_change(&requester, c.id, None).await?;
        let deciders: Vec<Actor> = DECIDERS
            .iter()
            .map(|h| self.actor(h))
            .collect::<AppResult<Vec<_>>>()?
            .into_iter()
            .filter(|a| a.person_id != requester.person_id)
            .collect();
        let mut decided = submitted;
        match target {
            S::Rejected => {
                self.at(submitted + Duration::hours(2));
                let comment = "Risk too high for the benefit; rework the proposal.";
                for who in &deciders {
                    match self.gov.reject_change(who, c.id, comment, None).await {
                        Ok(_) => return Ok(None),
                        Err(AppError::Forbidden(_)) => {}
                        Err(e) => return Err(e),
                    }
                }
                return Err(AppError::Internal(format!(
                    "demo.toml: nobody may reject {}",
                    c.number
                )));
            }
            S::Cancelled => {
                self.at(created + Duration::days(3));
                let reason = "Superseded by a project decision.";
                self.gov
                    .cancel_change(&requester, c.id, reason, None)
                    .await?;
                return Ok(None);
            }
            _ => {}
        }
        // Submitted normal changes that need two approvals get one, for a mixed picture.
        let model = match model_id {
            Some(id) => change_model::Entity::find_by_id(id).one(&self.db).await?,
            None => None,
        };
        // The policy only ever asks for more than the model, so one approval of a change
        // whose model wants two never authorizes it.
        let partial = i % 2 == 0 && required_approvals(c.change_type, model.as_ref()) > 1;
        let comment = "Risk assessed; back-out plan is credible.";
        let mut approved = 0;
        for who in &deciders {
            // Approvals until the change is authorized (the rules count them, the policy's
            // OWNER approval included), or the one partial approval.
            let done = match beyond(S::Authorized) {
                true => c.status == S::Authorized,
                false => approved == i32::from(partial),
            };
            if done {
                break;
            }
            decided = submitted + Duration::hours(2 + 10 * i64::from(approved));
            self.at(decided);
            match self
                .gov
                .approve_change(who, c.id, Some(comment.into()), None)
                .await
            {
                Ok(after) => {
                    c = after;
                    approved += 1;
                }
                // A regional manager whose scope does not cover the change: ask the next.
                Err(AppError::Forbidden(_)) => {}
                Err(e) => return Err(e),
            }
        }
        if !beyond(S::Scheduled) {
            return Ok(None);
        }
        let implementer = self.actor(IMPLEMENTER)?;
        self.at(decided + Duration::hours(4));
        self.gov
            .schedule_change(&implementer, c.id, window.0, window.1, None)
            .await?;
        if release.is_some() {
            // Its release starts and completes it; Change Management closes it after.
            return Ok((target == S::Closed).then_some(c.id));
        }
        if !beyond(S::Implementing) {
            return Ok(None);
        }
        self.at(window.0);
        self.gov.start_change(&implementer, c.id, None).await?;
        if !beyond(S::Review) {
            return Ok(None);
        }
        self.at(window.1);
        self.gov
            .complete_change(&implementer, c.id, ChangeOutcome::Successful, None)
            .await?;
        if beyond(S::Closed) {
            self.at(window.1 + Duration::days(1));
            self.gov
                .close_change(&implementer, c.id, Some(review()), None)
                .await?;
        }
        Ok(None)
    }

    /// Creates a release of the document and moves it to its status.
    async fn release(
        &mut self,
        row: &DemoRelease,
        released: &[(String, Released)],
    ) -> AppResult<Released> {
        use ReleaseStatus as R;
        let anchor = row.deployed.map_or(row.planned.day().min(-1), |d| d.day());
        let change_ids = row
            .changes
            .iter()
            .map(|n| Self::lookup(&self.changes, "change", n))
            .collect::<AppResult<Vec<_>>>()?;
        self.at(self.time(anchor - 4, 10));
        let r = self
            .gov
            .create_release(
                &self.actor(RELEASE_OWNER)?,
                NewRelease {
                    name: row.name.clone(),
                    version: row.version.clone(),
                    release_type: row.release_type,
                    project_id: row
                        .project
                        .as_deref()
                        .map(|p| Self::lookup(&self.ids.projects, "project", p))
                        .transpose()?,
                    previous_id: match &row.previous {
                        Some(p) => Some(
                            released
                                .iter()
                                .find(|(name, _)| name == p)
                                .map(|(_, r)| r.id)
                                .ok_or_else(|| {
                                    AppError::Internal(format!(
                                        "demo.toml: no earlier release `{p}`"
                                    ))
                                })?,
                        ),
                        None => None,
                    },
                    change_ids: change_ids.clone(),
                    service_ids: Vec::new(),
                    planned_date: Some(row.planned.on(self.day0)),
                    planned_start: Some(row.planned.on(self.day0)),
                    planned_end: Some(row.planned.on(self.day0) + Duration::hours(4)),
                },
            )
            .await?;
        let manager = self.actor(RELEASE_MANAGER)?;
        let deployed = row.deployed.map(|d| d.on(self.day0));
        let path: &[(R, Option<&str>)] = match row.status {
            R::Cancelled => &[(R::Cancelled, Some("Scope moved to the next major version."))],
            R::Failed => &[
                (R::Building, None),
                (R::Testing, None),
                (R::Ready, None),
                (R::Deployed, None),
                (
                    R::Failed,
                    Some("Smoke tests failed after deployment; rolled back."),
                ),
            ],
            target => {
                let steps = [R::Building, R::Testing, R::Ready, R::Deployed, R::Closed];
                let n = steps.iter().position(|s| *s == target).map_or(0, |p| p + 1);
                &[
                    (R::Building, None),
                    (R::Testing, None),
                    (R::Ready, None),
                    (R::Deployed, None),
                    (R::Closed, None),
                ][..n]
            }
        };
        let mut closed = None;
        for (k, (to, reason)) in path.iter().enumerate() {
            let t = match (to, deployed) {
                (R::Deployed, Some(d)) => d,
                (R::Closed, Some(d)) => d + Duration::hours(15),
                (R::Failed, Some(d)) => d + Duration::hours(3),
                _ => self.time(anchor - 3 + k as i64, 10),
            };
            self.at(t);
            self.gov
                .advance_release(&manager, r.id, *to, reason.map(str::to_owned), None)
                .await?;
            if *to == R::Closed {
                closed = Some(t);
            }
        }
        Ok(Released {
            id: r.id,
            closed,
            changes: change_ids,
        })
    }
}

impl Story {
    /// Fails the load when a change or release does not stand where the document says: the
    /// document asked for a state the rules do not lead to.
    async fn check(&self, changes: &[DemoChange], releases: &[DemoRelease]) -> AppResult<()> {
        let stood: HashMap<String, ChangeStatus> = change::Entity::find()
            .all(&self.db)
            .await?
            .into_iter()
            .map(|c| (c.number, c.status))
            .collect();
        for (i, row) in changes.iter().enumerate() {
            let number = format!("CHG{:07}", i + 1);
            if stood.get(&number) != Some(&row.status) {
                return Err(AppError::Internal(format!(
                    "demo.toml: {number} ends {}, not {}: the rules do not lead there",
                    stood.get(&number).map_or("missing", |s| s.as_str()),
                    row.status.as_str()
                )));
            }
        }
        let stood: Vec<(String, ReleaseStatus)> = release::Entity::find()
            .all(&self.db)
            .await?
            .into_iter()
            .map(|r| (format!("{} {}", r.name, r.version), r.status))
            .collect();
        for row in releases {
            let name = format!("{} {}", row.name, row.version);
            if !stood.contains(&(name.clone(), row.status)) {
                return Err(AppError::Internal(format!(
                    "demo.toml: release {name} does not end {}",
                    row.status.as_str()
                )));
            }
        }
        Ok(())
    }
}

/// The demo's personas: who gets a token at start-up, with what scope, and why.
pub const PERSONAS: [(&str, &str, TokenScope, &str); 3] = [
    (
        "admin",
        "alice@portfolio.example",
        TokenScope::Admin,
        "Alice Moreau: ADMIN, owner of change-management (approves, schedules, closes)",
    ),
    (
        "requester",
        "laura@portfolio.example",
        TokenScope::Write,
        "Laura Novak: PMO project manager (requests changes)",
    ),
    (
        "release",
        "farid@portfolio.example",
        TokenScope::Write,
        "Farid Haddad: owner of release-management (builds and deploys releases)",
    ),
];

/// Label prefix of the demo's tokens; each start revokes the previous start's tokens.
pub const TOKEN_LABEL_PREFIX: &str = "demo:";

/// Issues fresh tokens for the demo personas (valid 30 days), revoking those of an earlier
/// start, so a newcomer can run mutations from GraphiQL at once.
pub async fn issue_tokens(
    db: &DatabaseConnection,
) -> AppResult<
    Vec<(
        &'static str,
        &'static str,
        crate::domain::tokens::IssuedToken,
    )>,
> {
    use crate::domain::tokens::{self, TokenRequest};
    tokens::revoke_labelled(db, TOKEN_LABEL_PREFIX).await?;
    let mut out = Vec::new();
    for (persona, email, scope, description) in PERSONAS {
        let issued = tokens::create(
            db,
            TokenRequest {
                email: email.into(),
                person_name: None,
                scope,
                label: format!("{TOKEN_LABEL_PREFIX}{persona}"),
                expires_at: Some(Utc::now() + Duration::days(30)),
            },
        )
        .await?;
        out.push((persona, description, issued));
    }
    Ok(out)
}
