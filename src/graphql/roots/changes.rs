//! Changes: the list, look-ups, every move of their lifecycle and their live events.

use async_graphql::{Context, ID, Object, Result, Subscription};
use chrono::{DateTime, Utc};
use entity::change;
use futures_util::Stream;

use super::{ids, patch, patch_id, patch_ids};
use crate::domain::events::DomainEvent;
use crate::domain::{ChangePatch, Governance, NewChange, Review};
use crate::graphql::connection::{self, Conn};
use crate::graphql::enums::*;
use crate::graphql::ids::{Kind, decode, decode_opt};
use crate::graphql::inputs::{
    ChangeFilter, ChangeOrder, ChangeReviewInput, CreateChangeInput, UpdateChangeInput,
};
use crate::graphql::types::events::{ChangeEvent, committed};
use crate::graphql::types::*;
use crate::graphql::viewer::{Viewer, ViewerOf};
use crate::graphql::{db, gov};
use crate::store::listing::ChangeScope;
use crate::store::lookup::by_key;

/// The part of `Query` for changes: the list, look-ups, every move of their lifecycle and their live events.
#[derive(Default)]
pub struct ChangesQuery;

#[Object]
impl ChangesQuery {
    /// Changes, filtered and ordered.
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
        connection::load(
            ctx,
            None,
            connection::list(ChangeScope::Root, filter, first, after, last, before)?,
        )
        .await
    }

    /// A change by its number, e.g. `CHG0000042`.
    async fn change(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The change's number, e.g. `CHG0000042`.")] number: String,
    ) -> Result<Option<Change>> {
        Ok(
            by_key::<change::Entity, _>(db(ctx), change::Column::Number, &number)
                .await?
                .map(Change),
        )
    }
}

/// The part of `Mutation` for changes: the list, look-ups, every move of their lifecycle and their live events.
#[derive(Default)]
pub struct ChangesMutation;

#[Object]
impl ChangesMutation {
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
        let services = patch_ids(input.service_ids, Kind::Service, "serviceIds")?;
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

    /// REVIEW → CLOSED, with the post-implementation review: required for NORMAL and
    /// EMERGENCY changes and for any change that FAILED or was BACKED_OUT (a successful
    /// STANDARD change may close without one). A change-management role.
    async fn close_change(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The change.")] id: ID,
        #[graphql(desc = "The post-implementation review.")] review: Option<ChangeReviewInput>,
        #[graphql(desc = "The `version` you read; a mismatch is CONFLICT and changes nothing.")]
        expected_version: Option<i32>,
    ) -> Result<Change> {
        let id = decode(&id, Kind::Change, "id")?;
        let review = review.map(|r| Review {
            summary: r.summary,
            objectives_met: r.objectives_met,
            follow_up: r.follow_up,
        });
        let c = gov(ctx)
            .close_change(Viewer::of(ctx), id, review, expected_version)
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
}

/// The part of `Subscription` for changes: the list, look-ups, every move of their lifecycle and their live events.
#[derive(Default)]
pub struct ChangesSubscription;

#[Subscription]
impl ChangesSubscription {
    /// Every committed move or edit of a change, optionally only of changes touching one
    /// service or spawned by one project.
    async fn change_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only changes that touch this service.")] service_id: Option<ID>,
        #[graphql(desc = "Only changes of this project.")] project_id: Option<ID>,
    ) -> Result<impl Stream<Item = Result<ChangeEvent>> + use<>> {
        let service = decode_opt(service_id.as_ref(), Kind::Service, "serviceId")?;
        let project = decode_opt(project_id.as_ref(), Kind::Project, "projectId")?;
        let bus = ctx.data_unchecked::<Governance>().bus();
        Ok(committed(bus, move |e| match e {
            DomainEvent::Change(c)
                if service.is_none_or(|s| c.service_ids.contains(&s))
                    && project.is_none_or(|p| c.project_id == Some(p)) =>
            {
                Some(ChangeEvent(c))
            }
            _ => None,
        }))
    }
}
