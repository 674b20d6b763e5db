//! Releases: the list, every move of their lifecycle and their live events.

use async_graphql::{Context, ID, MaybeUndefined, Object, Result, Subscription};
use chrono::{DateTime, Utc};
use futures_util::Stream;

use super::{ids, patch, patch_id};
use crate::domain::events::DomainEvent;
use crate::domain::{Governance, NewRelease, ReleasePatch};
use crate::graphql::connection::{self, Conn};
use crate::graphql::enums::*;
use crate::graphql::gov;
use crate::graphql::ids::{Kind, decode, decode_opt};
use crate::graphql::inputs::{CreateReleaseInput, ReleaseFilter};
use crate::graphql::types::events::{ReleaseEvent, committed};
use crate::graphql::types::*;
use crate::graphql::viewer::{Viewer, ViewerOf};
use crate::store::listing::ReleaseScope;

/// The part of `Query` for releases: the list, every move of their lifecycle and their live events.
#[derive(Default)]
pub struct ReleasesQuery;

#[Object]
impl ReleasesQuery {
    /// Releases, filtered.
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
        connection::load(
            ctx,
            None,
            connection::list(ReleaseScope::Root, filter, first, after, last, before)?,
        )
        .await
    }
}

/// The part of `Mutation` for releases: the list, every move of their lifecycle and their live events.
#[derive(Default)]
pub struct ReleasesMutation;

#[Object]
impl ReleasesMutation {
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
            planned_start: input.planned_start,
            planned_end: input.planned_end,
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
        #[graphql(
            desc = "New start of the planned deployment window (with `plannedEnd`); null clears the window."
        )]
        planned_start: MaybeUndefined<DateTime<Utc>>,
        #[graphql(desc = "New end of the planned deployment window; null clears it.")]
        planned_end: MaybeUndefined<DateTime<Utc>>,
    ) -> Result<Release> {
        let id = decode(&id, Kind::Release, "id")?;
        let p = ReleasePatch {
            name: patch(name),
            version: patch(version),
            planned_date: patch(planned_date),
            planned_start: patch(planned_start),
            planned_end: patch(planned_end),
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

/// The part of `Subscription` for releases: the list, every move of their lifecycle and their live events.
#[derive(Default)]
pub struct ReleasesSubscription;

#[Subscription]
impl ReleasesSubscription {
    /// Every committed move or edit of a release, optionally only of one project's releases.
    async fn release_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only releases of this project.")] project_id: Option<ID>,
    ) -> Result<impl Stream<Item = Result<ReleaseEvent>> + use<>> {
        let project = decode_opt(project_id.as_ref(), Kind::Project, "projectId")?;
        let bus = ctx.data_unchecked::<Governance>().bus();
        Ok(committed(bus, move |e| match e {
            DomainEvent::Release(r) if project.is_none_or(|p| r.project_id == Some(p)) => {
                Some(ReleaseEvent(r))
            }
            _ => None,
        }))
    }
}
