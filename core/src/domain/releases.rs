//! The release lifecycle, under the authority of Change (DESIGN.md §3, rules 5–7): every
//! release write needs an owner or manager of release-management; deploying, closing and
//! failing a release move its changes in the same transaction.

use chrono::{DateTime, Utc};
use entity::*;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, ModelTrait, QueryFilter, Set};

use super::catalog::not_retired;
use super::changes::{active_release_of, record_move};
use super::rules::{self, ReleaseFacts, Who, change_joinable, release_open};
use super::validate::{self, MAX_DESCRIPTION, MAX_TITLE};
use super::{
    Actor, ActorRoles, Governance, Patch, Work, expect_version, guard, load, load_all, save,
};
use crate::error::{AppError, AppResult};
use crate::store::blackouts::{self, Exposure};

/// A new release, created PLANNED.
#[derive(Clone, Debug)]
pub struct NewRelease {
    pub name: String,
    pub version: String,
    pub release_type: ReleaseType,
    pub project_id: Option<i64>,
    pub previous_id: Option<i64>,
    pub change_ids: Vec<i64>,
    pub service_ids: Vec<i64>,
    pub planned_date: Option<DateTime<Utc>>,
    /// The planned deployment window (both or neither).
    pub planned_start: Option<DateTime<Utc>>,
    pub planned_end: Option<DateTime<Utc>>,
}

/// Edits of a release.
#[derive(Clone, Debug, Default)]
pub struct ReleasePatch {
    pub name: Patch<String>,
    pub version: Patch<String>,
    pub planned_date: Patch<DateTime<Utc>>,
    pub planned_start: Patch<DateTime<Utc>>,
    pub planned_end: Patch<DateTime<Utc>>,
    pub previous_id: Patch<i64>,
}

/// The changes a release packages.
async fn changes_of(w: &Work, release_id: i64) -> AppResult<Vec<change::Model>> {
    let ids: Vec<i64> = release_change::Entity::find()
        .filter(release_change::Column::ReleaseId.eq(release_id))
        .all(w.tx())
        .await?
        .into_iter()
        .map(|l| l.change_id)
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(change::Entity::find()
        .filter(change::Column::Id.is_in(ids))
        .all(w.tx())
        .await?)
}

/// Refuses edits of a release that is past READY (rule 5).
fn still_open(r: &release::Model, what: &str) -> AppResult<()> {
    if release_open(r.status) {
        Ok(())
    } else {
        Err(AppError::Conflict(format!(
            "release {} {} is {}: {what} only while it is PLANNED, BUILDING, TESTING or READY",
            r.name,
            r.version,
            r.status.as_str()
        )))
    }
}

/// Checks that `previous` may precede release `id` (None for a new release): sequences are
/// chains, so a release is the previous of at most one release and there are no cycles.
async fn check_previous(w: &Work, id: Option<i64>, previous: i64) -> AppResult<()> {
    let p = load::<release::Entity>(w, previous, "previousReleaseId").await?;
    if Some(p.id) == id {
        return Err(AppError::bad_input(
            "`previousReleaseId`: a release cannot follow itself",
        ));
    }
    let taken = release::Entity::find()
        .filter(release::Column::PreviousId.eq(previous))
        .one(w.tx())
        .await?;
    if let Some(other) = taken
        && Some(other.id) != id
    {
        return Err(AppError::Conflict(format!(
            "release {} {} is already followed by {} {}; a sequence is a chain",
            p.name, p.version, other.name, other.version
        )));
    }
    let mut cursor = p.previous_id;
    let mut steps = 0;
    while let Some(next) = cursor {
        if Some(next) == id {
            return Err(AppError::bad_input(format!(
                "`previousReleaseId`: release {} {} already comes after this one; the sequence would be a cycle",
                p.name, p.version
            )));
        }
        steps += 1;
        if steps > 10_000 {
            break;
        }
        cursor = release::Entity::find_by_id(next)
            .one(w.tx())
            .await?
            .and_then(|r| r.previous_id);
    }
    Ok(())
}

impl Governance {
    /// Opens a release use case: credentials and the release-management role.
    async fn begin_release(&self, actor: &Actor) -> AppResult<Work> {
        actor.writer()?;
        let w = self.start(actor).await?;
        let roles = ActorRoles::load(w.tx(), actor.person_id).await?;
        rules::check_releaser(Who {
            actor,
            roles: &roles,
        })?;
        Ok(w)
    }

    /// Ends a membership edit of release `r`: bumps its revision (so concurrent edits of
    /// one release serialize), records the event, commits.
    async fn end_membership(
        &self,
        mut w: Work,
        r: &release::Model,
        action: &str,
    ) -> AppResult<release::Model> {
        let after = guard::<release::Entity>(&w, r.id, r.revision).await?;
        w.release_event(&after, action, Some(r.status));
        w.commit(&self.bus).await?;
        Ok(after)
    }

    /// Puts change `c` into release `r` (both already loaded and checked for existence).
    async fn join(w: &mut Work, r: &release::Model, c: &change::Model) -> AppResult<()> {
        if !change_joinable(c.status) {
            return Err(AppError::Conflict(format!(
                "change {} is {} and joins no release",
                c.number,
                c.status.as_str()
            )));
        }
        if let Some(active) = active_release_of(w, c.id).await? {
            let where_ = if active.id == r.id {
                "already in this release".to_owned()
            } else {
                format!(
                    "already in release {} {} ({}); a change is in at most one live release",
                    active.name,
                    active.version,
                    active.status.as_str()
                )
            };
            return Err(AppError::Conflict(format!(
                "change {} is {where_}",
                c.number
            )));
        }
        let link = release_change::ActiveModel {
            release_id: Set(r.id),
            change_id: Set(c.id),
        }
        .insert(w.tx())
        .await?;
        // Bumping the change's version makes two concurrent additions of one change to two
        // releases collide on the change row (rule 11).
        guard::<change::Entity>(w, c.id, c.version).await?;
        w.audit("CHANGE_ADDED", "Release", r.id, None, Some(&link))
            .await?;
        Ok(())
    }

    /// Adds service `s` to release `r`.
    async fn add_service(w: &Work, r: &release::Model, s: &service::Model) -> AppResult<()> {
        not_retired(s, "release")?;
        if release_service::Entity::find_by_id((r.id, s.id))
            .one(w.tx())
            .await?
            .is_some()
        {
            return Err(AppError::Conflict(format!(
                "service `{}` is already part of release {} {}",
                s.key, r.name, r.version
            )));
        }
        let link = release_service::ActiveModel {
            release_id: Set(r.id),
            service_id: Set(s.id),
        }
        .insert(w.tx())
        .await?;
        w.audit("SERVICE_ADDED", "Release", r.id, None, Some(&link))
            .await?;
        Ok(())
    }

    /// Creates a PLANNED release, with its changes and services.
    pub async fn create_release(
        &self,
        actor: &Actor,
        input: NewRelease,
    ) -> AppResult<release::Model> {
        let name = validate::text("name", &input.name, MAX_TITLE)?;
        let version = validate::text("version", &input.version, MAX_TITLE)?;
        validate::list("changeIds", &input.change_ids)?;
        validate::list("serviceIds", &input.service_ids)?;
        validate::window(input.planned_start, input.planned_end)?;
        let change_ids = validate::distinct(&input.change_ids);
        let service_ids = validate::distinct(&input.service_ids);
        let mut w = self.begin_release(actor).await?;
        if let Some(p) = input.project_id {
            load::<project::Entity>(&w, p, "projectId").await?;
        }
        if let Some(p) = input.previous_id {
            check_previous(&w, None, p).await?;
        }
        let changes = load_all::<change::Entity>(&w, &change_ids, "changeIds").await?;
        let services = load_all::<service::Entity>(&w, &service_ids, "serviceIds").await?;
        let r = release::ActiveModel {
            name: Set(name),
            version: Set(version),
            release_type: Set(input.release_type),
            status: Set(ReleaseStatus::Planned),
            project_id: Set(input.project_id),
            previous_id: Set(input.previous_id),
            planned_date: Set(input.planned_date),
            planned_start: Set(input.planned_start),
            planned_end: Set(input.planned_end),
            deployed_at: Set(None),
            created_at: Set(w.now),
            updated_at: Set(w.now),
            revision: Set(1),
            ..Default::default()
        }
        .insert(w.tx())
        .await?;
        w.audit("CREATED", "Release", r.id, None, Some(&r)).await?;
        for c in &changes {
            Self::join(&mut w, &r, c).await?;
        }
        for s in &services {
            Self::add_service(&w, &r, s).await?;
        }
        w.release_event(&r, "CREATED", None);
        w.commit(&self.bus).await?;
        Ok(r)
    }

    /// Edits a release that is not finished.
    pub async fn update_release(
        &self,
        actor: &Actor,
        id: i64,
        expected: Option<i32>,
        patch: ReleasePatch,
    ) -> AppResult<release::Model> {
        let name = patch.name.required_text("name", MAX_TITLE)?;
        let version = patch.version.required_text("version", MAX_TITLE)?;
        let mut w = self.begin_release(actor).await?;
        let before = load::<release::Entity>(&w, id, "id").await?;
        expect_version::<release::Entity>(expected, before.revision, id)?;
        if matches!(
            before.status,
            ReleaseStatus::Closed | ReleaseStatus::Failed | ReleaseStatus::Cancelled
        ) {
            return Err(AppError::Conflict(format!(
                "release {} {} is {} and takes no more edits",
                before.name,
                before.version,
                before.status.as_str()
            )));
        }
        let mut am: release::ActiveModel = Default::default();
        if let Some(n) = name {
            am.name = Set(n);
        }
        if let Some(v) = version {
            am.version = Set(v);
        }
        if patch.planned_date.is_given() {
            am.planned_date = Set(patch.planned_date.apply(None));
        }
        let planned_start = patch.planned_start.apply(before.planned_start);
        let planned_end = patch.planned_end.apply(before.planned_end);
        validate::window(planned_start, planned_end)?;
        am.planned_start = Set(planned_start);
        am.planned_end = Set(planned_end);
        if let Patch::Set(p) = patch.previous_id {
            check_previous(&w, Some(id), p).await?;
        }
        if patch.previous_id.is_given() {
            am.previous_id = Set(patch.previous_id.apply(None));
        }
        let after = save::<release::Entity, _>(&w, am, id, before.revision).await?;
        w.audit("UPDATED", "Release", id, Some(&before), Some(&after))
            .await?;
        w.release_event(&after, "UPDATED", Some(before.status));
        w.commit(&self.bus).await?;
        Ok(after)
    }

    /// Packages a change into a release (rules 5 and 7).
    pub async fn add_change_to_release(
        &self,
        actor: &Actor,
        release_id: i64,
        change_id: i64,
    ) -> AppResult<release::Model> {
        let mut w = self.begin_release(actor).await?;
        let r = load::<release::Entity>(&w, release_id, "releaseId").await?;
        let c = load::<change::Entity>(&w, change_id, "changeId").await?;
        still_open(&r, "changes are added")?;
        Self::join(&mut w, &r, &c).await?;
        self.end_membership(w, &r, "CHANGE_ADDED").await
    }

    /// Takes a change out of a release; a release past PLANNED keeps at least one change.
    pub async fn remove_change_from_release(
        &self,
        actor: &Actor,
        release_id: i64,
        change_id: i64,
    ) -> AppResult<release::Model> {
        let w = self.begin_release(actor).await?;
        let r = load::<release::Entity>(&w, release_id, "releaseId").await?;
        let c = load::<change::Entity>(&w, change_id, "changeId").await?;
        still_open(&r, "changes are removed")?;
        let link = release_change::Entity::find_by_id((release_id, change_id))
            .one(w.tx())
            .await?
            .ok_or_else(|| {
                AppError::not_found(format!(
                    "`changeId`: change {} is not in release {} {}",
                    c.number, r.name, r.version
                ))
            })?;
        if r.status != ReleaseStatus::Planned && changes_of(&w, release_id).await?.len() <= 1 {
            return Err(AppError::Conflict(format!(
                "change {} is the only change of release {} {}, which is {}; a release past PLANNED keeps at least one change",
                c.number,
                r.name,
                r.version,
                r.status.as_str()
            )));
        }
        link.clone().delete(w.tx()).await?;
        guard::<change::Entity>(&w, c.id, c.version).await?;
        w.audit("CHANGE_REMOVED", "Release", release_id, Some(&link), None)
            .await?;
        self.end_membership(w, &r, "CHANGE_REMOVED").await
    }

    /// Adds a service the release deploys into.
    pub async fn add_service_to_release(
        &self,
        actor: &Actor,
        release_id: i64,
        service_id: i64,
    ) -> AppResult<release::Model> {
        let w = self.begin_release(actor).await?;
        let r = load::<release::Entity>(&w, release_id, "releaseId").await?;
        let s = load::<service::Entity>(&w, service_id, "serviceId").await?;
        still_open(&r, "services are added")?;
        Self::add_service(&w, &r, &s).await?;
        self.end_membership(w, &r, "SERVICE_ADDED").await
    }

    /// Removes a service from a release.
    pub async fn remove_service_from_release(
        &self,
        actor: &Actor,
        release_id: i64,
        service_id: i64,
    ) -> AppResult<release::Model> {
        let w = self.begin_release(actor).await?;
        let r = load::<release::Entity>(&w, release_id, "releaseId").await?;
        let s = load::<service::Entity>(&w, service_id, "serviceId").await?;
        still_open(&r, "services are removed")?;
        let link = release_service::Entity::find_by_id((release_id, service_id))
            .one(w.tx())
            .await?
            .ok_or_else(|| {
                AppError::not_found(format!(
                    "`serviceId`: service `{}` is not part of release {} {}",
                    s.key, r.name, r.version
                ))
            })?;
        link.clone().delete(w.tx()).await?;
        w.audit("SERVICE_REMOVED", "Release", release_id, Some(&link), None)
            .await?;
        self.end_membership(w, &r, "SERVICE_REMOVED").await
    }

    /// Moves a release along its lifecycle, moving its changes as rule 6 says.
    pub async fn advance_release(
        &self,
        actor: &Actor,
        id: i64,
        to: ReleaseStatus,
        reason: Option<String>,
        expected: Option<i32>,
    ) -> AppResult<release::Model> {
        let reason = reason
            .map(|r| validate::long_text("reason", &r, MAX_DESCRIPTION))
            .transpose()?
            .filter(|r| !r.is_empty());
        if matches!(to, ReleaseStatus::Failed | ReleaseStatus::Cancelled) && reason.is_none() {
            return Err(AppError::bad_input(format!(
                "`reason` is required to move a release to {}",
                to.as_str()
            )));
        }
        actor.writer()?;
        let mut w = self.start(actor).await?;
        let before = load::<release::Entity>(&w, id, "id").await?;
        expect_version::<release::Entity>(expected, before.revision, id)?;
        let roles = ActorRoles::load(w.tx(), actor.person_id).await?;
        let changes = changes_of(&w, id).await?;
        let previous = match before.previous_id {
            Some(p) => release::Entity::find_by_id(p).one(w.tx()).await?,
            None => None,
        };
        let freeze = if to == ReleaseStatus::Deployed {
            let services = blackouts::services_of_releases(w.tx(), &[id])
                .await?
                .remove(&id)
                .unwrap_or_default();
            let exposure =
                Exposure::from_now(services, w.now, (before.planned_start, before.planned_end));
            blackouts::freeze(w.tx(), exposure).await?
        } else {
            None
        };
        let facts = ReleaseFacts {
            release: &before,
            changes: &changes,
            previous: previous.as_ref(),
            freeze: freeze.as_ref(),
        };
        rules::check_release_move(
            to,
            &facts,
            Who {
                actor,
                roles: &roles,
            },
        )?;
        let mut am = release::ActiveModel {
            status: Set(to),
            ..Default::default()
        };
        if to == ReleaseStatus::Deployed {
            am.deployed_at = Set(Some(w.now));
        }
        let after = save::<release::Entity, _>(&w, am, id, before.revision).await?;
        let mut image = serde_json::to_value(&after)
            .map_err(|e| AppError::Internal(format!("audit image: {e}")))?;
        if let (Some(reason), Some(obj)) = (&reason, image.as_object_mut()) {
            obj.insert("reason".into(), serde_json::Value::String(reason.clone()));
        }
        let before_image = serde_json::to_value(&before)
            .map_err(|e| AppError::Internal(format!("audit image: {e}")))?;
        let action = format!("MOVED_TO_{}", to.as_str());
        w.audit(&action, "Release", id, Some(&before_image), Some(&image))
            .await?;
        w.release_event(&after, &action, Some(before.status));
        self.move_changes(&mut w, before.status, to, &changes)
            .await?;
        w.commit(&self.bus).await?;
        Ok(after)
    }

    /// Rule 6: deploying starts the authorized and scheduled changes; closing completes the
    /// implementing ones as SUCCESSFUL; failing a deployed release backs them out. Changes
    /// in REVIEW or CLOSED are never touched.
    async fn move_changes(
        &self,
        w: &mut Work,
        from: ReleaseStatus,
        to: ReleaseStatus,
        changes: &[change::Model],
    ) -> AppResult<()> {
        let now = w.now;
        for c in changes {
            let (am, action) = match (to, c.status) {
                (ReleaseStatus::Deployed, ChangeStatus::Authorized | ChangeStatus::Scheduled) => (
                    change::ActiveModel {
                        status: Set(ChangeStatus::Implementing),
                        started_at: Set(Some(now)),
                        ..Default::default()
                    },
                    "STARTED_BY_RELEASE",
                ),
                (ReleaseStatus::Closed, ChangeStatus::Implementing) => (
                    change::ActiveModel {
                        status: Set(ChangeStatus::Review),
                        outcome: Set(Some(ChangeOutcome::Successful)),
                        completed_at: Set(Some(now)),
                        ..Default::default()
                    },
                    "COMPLETED_BY_RELEASE",
                ),
                (ReleaseStatus::Failed, ChangeStatus::Implementing)
                    if from == ReleaseStatus::Deployed =>
                {
                    (
                        change::ActiveModel {
                            status: Set(ChangeStatus::Review),
                            outcome: Set(Some(ChangeOutcome::BackedOut)),
                            completed_at: Set(Some(now)),
                            ..Default::default()
                        },
                        "BACKED_OUT_BY_RELEASE",
                    )
                }
                _ => continue,
            };
            record_move(w, c, am, action).await?;
        }
        Ok(())
    }
}
