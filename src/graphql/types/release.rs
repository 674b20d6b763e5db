//! Release management: releases, their changes and services, and release sequences.

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use entity::{project, release};

use super::{AuditEvent, Change, Project, ReleaseTransition, Service, ServiceOffering, wrapper};
use crate::domain::rules;
use crate::error::AppError;
use crate::graphql::connection::{self, Conn};
use crate::graphql::enums::*;
use crate::graphql::ids::{Kind, encode};
use crate::graphql::inputs::{ChangeFilter, ChangeOrder};
use crate::graphql::loaders::{FreezeOf, ImpactedOfferings};
use crate::graphql::narrow::Narrow;
use crate::graphql::viewer::{self, Viewer, ViewerOf};
use crate::graphql::{by_opt_id, children, freeze_of, loader};
use crate::store::listing::{self, AuditScope, ChangeScope, ServiceScope};
use crate::store::relations;

wrapper!(
    /// A release: under the authority of Change, Release Management builds, tests and
    /// deploys a single change or a package of changes. Releases of a project come singly,
    /// sequentially (`previous` / `next`) or packaged together.
    Release, release::Model
);

impl Narrow for Release {
    type Entity = release::Entity;
    fn reads(field: &str) -> Option<&'static [release::Column]> {
        use release::Column as C;
        Some(match field {
            "id" | "next" | "changes" | "services" | "impactedOfferings" | "history" => &[],
            "name" => &[C::Name],
            "version" => &[C::Version],
            "type" => &[C::ReleaseType],
            "status" => &[C::Status],
            "project" => &[C::ProjectId],
            "previous" => &[C::PreviousId],
            "plannedDate" => &[C::PlannedDate],
            "deployedAt" => &[C::DeployedAt],
            "createdAt" => &[C::CreatedAt],
            "updatedAt" => &[C::UpdatedAt],
            "revision" => &[C::Revision],
            _ => return None,
        })
    }
}

#[Object(use_type_description)]
impl Release {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        encode(Kind::Release, self.0.id)
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The release label, e.g. `2.4.0` (the row version is `revision`).
    async fn version(&self) -> &str {
        &self.0.version
    }
    /// Major, minor, patch or emergency.
    #[graphql(name = "type")]
    async fn release_type(&self) -> ReleaseType {
        self.0.release_type.into()
    }
    /// Lifecycle state.
    async fn status(&self) -> ReleaseStatus {
        self.0.status.into()
    }
    /// The project the release comes out of, if any.
    async fn project(&self, ctx: &Context<'_>) -> Result<Option<Project>> {
        Ok(by_opt_id::<project::Entity>(ctx, self.0.project_id)
            .await?
            .map(Project))
    }
    /// The release this one follows in a sequence.
    async fn previous(&self, ctx: &Context<'_>) -> Result<Option<Release>> {
        Ok(by_opt_id::<release::Entity>(ctx, self.0.previous_id)
            .await?
            .map(Release))
    }
    /// The release that follows this one in a sequence (sequences are chains: at most one).
    async fn next(&self, ctx: &Context<'_>) -> Result<Option<Release>> {
        Ok(children(ctx, relations::next_releases(), self.0.id)
            .await?
            .first()
            .cloned()
            .map(Release))
    }
    /// The changes the release packages.
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
        let list = connection::list(ChangeScope::Release, filter, first, after, last, before)?;
        connection::load(ctx, Some(self.0.id), list).await
    }
    /// The services the release delivers to.
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
            ServiceScope::Release,
            listing::ServiceFilter::default(),
            first,
            after,
            last,
            before,
        )?;
        connection::load(ctx, Some(self.0.id), list).await
    }
    /// Offerings that include any service of the release: the consumer groups it affects.
    async fn impacted_offerings(&self, ctx: &Context<'_>) -> Result<Vec<ServiceOffering>> {
        let rows = loader(ctx)
            .load_one(ImpactedOfferings::OfRelease(self.0.id))
            .await
            .map_err(AppError::from)?;
        Ok(rows
            .map(|r| r.iter().cloned().map(ServiceOffering).collect())
            .unwrap_or_default())
    }
    /// For the viewer, each move the release lifecycle has from the current status (all
    /// made with `advanceRelease`), with whether the viewer may make it now and, if not,
    /// why: a missing role, no change, changes not yet authorized, the previous release
    /// not deployed. The mutation enforces exactly the same rules.
    async fn available_transitions(&self, ctx: &Context<'_>) -> Result<Vec<ReleaseTransition>> {
        let freeze = freeze_of(
            ctx,
            rules::release_move_exists(self.0.status, entity::ReleaseStatus::Deployed).then_some(
                FreezeOf::Release {
                    id: self.0.id,
                    planned: (self.0.planned_start, self.0.planned_end),
                },
            ),
        );
        let (roles, changes, previous, freeze) = futures_util::try_join!(
            viewer::roles(ctx),
            children(ctx, relations::changes_of_release(), self.0.id),
            by_opt_id::<release::Entity>(ctx, self.0.previous_id),
            freeze,
        )?;
        let facts = rules::ReleaseFacts {
            release: &self.0,
            changes: &changes,
            previous: previous.as_ref(),
            freeze: freeze.as_deref(),
        };
        let who = rules::Who {
            actor: Viewer::of(ctx),
            roles: &roles,
        };
        Ok(rules::RELEASE_STATES
            .into_iter()
            .filter(|to| rules::release_move_exists(self.0.status, *to))
            .map(|to| ReleaseTransition::new(to, rules::check_release_move(to, &facts, who)))
            .collect())
    }
    /// When the release is planned to deploy.
    async fn planned_date(&self) -> Option<DateTime<Utc>> {
        self.0.planned_date
    }
    /// Start of the planned deployment window. A release needs a window to be DEPLOYED,
    /// and is not deployed into a blackout window covering one of its services (or its
    /// changes') unless all its changes are EMERGENCY.
    async fn planned_start(&self) -> Option<DateTime<Utc>> {
        self.0.planned_start
    }
    /// End of the planned deployment window.
    async fn planned_end(&self) -> Option<DateTime<Utc>> {
        self.0.planned_end
    }
    /// When it was deployed.
    async fn deployed_at(&self) -> Option<DateTime<Utc>> {
        self.0.deployed_at
    }
    /// The audit trail of this release, oldest first.
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
            AuditScope::Entity("Release"),
            listing::AuditFilter::default(),
            first,
            after,
            last,
            before,
        )?;
        connection::load(ctx, Some(self.0.id), list).await
    }
    /// When the release was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the release last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Row version, for `expectedVersion` in updates and lifecycle moves.
    async fn revision(&self) -> i32 {
        self.0.revision
    }
}
