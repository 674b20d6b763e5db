//! The query root: collections with filters and cursors, natural-key look-ups, global
//! object identification and reporting.

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, TimeZone, Utc};
use entity::{change, change_model, person, process, project, service, service_offering};

use super::connection::{self, Conn};
use super::enums::*;
use super::ids::{Kind, decode, decode_opt};
use super::inputs::{ChangeFilter, ChangeOrder, ReleaseFilter, ServiceFilter};
use super::types::*;
use super::viewer::Viewer;
use super::{by_opt_id, db, gov};
use crate::domain::tokens::TokenFilter;
use crate::error::AppError;
use crate::store::listing::{
    self, AuditScope, ChangeScope, OfferingScope, ProjectScope, ReleaseScope, Root, ServiceScope,
};
use crate::store::lookup::by_key;
use crate::store::{blackouts, reporting};

/// Most IDs `nodes` takes at once.
const MAX_NODES: usize = 100;
/// Most tokens `apiTokens` lists at once.
const MAX_TOKENS: i32 = 100;

/// Entry points for reading the portfolio graph.
#[derive(Default, async_graphql::Description)]
pub struct Query;

#[Object(use_type_description)]
impl Query {
    /// Fetches any object by its global ID; null when it does not exist.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The object's global ID, as its `id` field gave it.")] id: ID,
    ) -> Result<Option<Node>> {
        node::fetch(ctx, &id, "id").await
    }

    /// Fetches up to 100 objects by global ID, in order; null for those that do not exist.
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global IDs, at most 100; the answer keeps their order.")] ids: Vec<ID>,
    ) -> Result<Vec<Option<Node>>> {
        if ids.len() > MAX_NODES {
            return Err(AppError::LimitExceeded(format!(
                "`ids` has {} IDs; at most {MAX_NODES} are allowed",
                ids.len()
            ))
            .into());
        }
        node::fetch_many(ctx, &ids).await
    }

    /// API tokens, newest first. ADMIN. Never shows a secret.
    async fn api_tokens(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this person's tokens.")] person_id: Option<ID>,
        #[graphql(desc = "Also the revoked and expired ones (default: false).")]
        include_inactive: Option<bool>,
        #[graphql(desc = "At most this many (max 100; default 50).")] first: Option<i32>,
        #[graphql(desc = "Tokens after this one (older), for the next page.")] after: Option<ID>,
    ) -> Result<Vec<ApiToken>> {
        let first = first.unwrap_or(50);
        if !(0..=MAX_TOKENS).contains(&first) {
            return Err(AppError::bad_input(format!(
                "`first` must be between 0 and {MAX_TOKENS}, not {first}"
            ))
            .into());
        }
        let filter = TokenFilter {
            person_id: decode_opt(person_id.as_ref(), Kind::Person, "personId")?,
            include_inactive: include_inactive.unwrap_or(false),
            before_id: decode_opt(after.as_ref(), Kind::ApiToken, "after")?,
            limit: first as u64,
        };
        let rows = gov(ctx).api_tokens(Viewer::of(ctx), filter).await?;
        Ok(rows.into_iter().map(ApiToken).collect())
    }

    /// The person of the bearer token; null for anonymous callers.
    async fn viewer(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        Ok(by_opt_id::<person::Entity>(ctx, Viewer::of(ctx).person_id)
            .await?
            .map(Person))
    }

    /// Services of the portfolio.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn services(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the services matching this filter.")] filter: Option<ServiceFilter>,
        #[graphql(
            desc = "Page forward: at most this many items (max 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Page forward: items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Page backward: at most this many items, the last ones (max 100).")]
        last: Option<i32>,
        #[graphql(desc = "Page backward: items before this cursor.")] before: Option<String>,
    ) -> Result<Conn<Service>> {
        let filter = filter.unwrap_or_default().resolve()?;
        connection::load(
            ctx,
            None,
            connection::list(ServiceScope::Root, filter, first, after, last, before)?,
        )
        .await
    }

    /// A service by its key.
    async fn service(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The service's key, e.g. `vpn`.")] key: String,
    ) -> Result<Option<Service>> {
        Ok(
            by_key::<service::Entity, _>(db(ctx), service::Column::Key, &key)
                .await?
                .map(Service),
        )
    }

    /// Service offerings, optionally only in some states.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn service_offerings(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only offerings in any of these states.")] status: Option<
            Vec<OfferingStatus>,
        >,
        #[graphql(
            desc = "Page forward: at most this many items (max 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Page forward: items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Page backward: at most this many items, the last ones (max 100).")]
        last: Option<i32>,
        #[graphql(desc = "Page backward: items before this cursor.")] before: Option<String>,
    ) -> Result<Conn<ServiceOffering>> {
        let filter = listing::OfferingFilter {
            status: to_entity(status),
        };
        connection::load(
            ctx,
            None,
            connection::list(OfferingScope::Root, filter, first, after, last, before)?,
        )
        .await
    }

    /// A service offering by its key.
    async fn service_offering(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The unique key.")] key: String,
    ) -> Result<Option<ServiceOffering>> {
        Ok(
            by_key::<service_offering::Entity, _>(db(ctx), service_offering::Column::Key, &key)
                .await?
                .map(ServiceOffering),
        )
    }

    /// People, optionally matching a case-insensitive text in name or e-mail.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn people(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Case-insensitive text to find.")] search: Option<String>,
        #[graphql(
            desc = "Page forward: at most this many items (max 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Page forward: items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Page backward: at most this many items, the last ones (max 100).")]
        last: Option<i32>,
        #[graphql(desc = "Page backward: items before this cursor.")] before: Option<String>,
    ) -> Result<Conn<Person>> {
        let filter = listing::PersonFilter { search };
        connection::load(
            ctx,
            None,
            connection::list(Root::Root, filter, first, after, last, before)?,
        )
        .await
    }

    /// Partners: suppliers, manufacturers and vendors.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn partners(
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
    ) -> Result<Conn<Partner>> {
        connection::load(
            ctx,
            None,
            connection::list(Root::Root, listing::AllPartners, first, after, last, before)?,
        )
        .await
    }

    /// Processes.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn processes(
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
    ) -> Result<Conn<Process>> {
        connection::load(
            ctx,
            None,
            connection::list(
                Root::Root,
                listing::AllProcesses,
                first,
                after,
                last,
                before,
            )?,
        )
        .await
    }

    /// A process by its key, e.g. `change-management`.
    async fn process(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The process's key, e.g. `change-management`.")] key: String,
    ) -> Result<Option<Process>> {
        Ok(
            by_key::<process::Entity, _>(db(ctx), process::Column::Key, &key)
                .await?
                .map(Process),
        )
    }

    /// Projects, optionally by status, manager or a case-insensitive text in code or name.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn projects(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only projects in any of these states.")] status: Option<
            Vec<ProjectStatus>,
        >,
        #[graphql(desc = "Only projects managed by this person.")] manager_id: Option<ID>,
        #[graphql(desc = "Case-insensitive text to find.")] search: Option<String>,
        #[graphql(
            desc = "Page forward: at most this many items (max 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Page forward: items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Page backward: at most this many items, the last ones (max 100).")]
        last: Option<i32>,
        #[graphql(desc = "Page backward: items before this cursor.")] before: Option<String>,
    ) -> Result<Conn<Project>> {
        let filter = listing::ProjectFilter {
            status: to_entity(status),
            manager_id: decode_opt(manager_id.as_ref(), Kind::Person, "managerId")?,
            search,
        };
        connection::load(
            ctx,
            None,
            connection::list(ProjectScope::Root, filter, first, after, last, before)?,
        )
        .await
    }

    /// A project by its code.
    async fn project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project's code, e.g. `PRJ-2026-001`.")] code: String,
    ) -> Result<Option<Project>> {
        Ok(
            by_key::<project::Entity, _>(db(ctx), project::Column::Code, &code)
                .await?
                .map(Project),
        )
    }

    /// Change models.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn change_models(
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
    ) -> Result<Conn<ChangeModel>> {
        connection::load(
            ctx,
            None,
            connection::list(
                Root::Root,
                listing::AllChangeModels,
                first,
                after,
                last,
                before,
            )?,
        )
        .await
    }

    /// A change model by its key.
    async fn change_model(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The model's key.")] key: String,
    ) -> Result<Option<ChangeModel>> {
        Ok(
            by_key::<change_model::Entity, _>(db(ctx), change_model::Column::Key, &key)
                .await?
                .map(ChangeModel),
        )
    }

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

    /// The audit trail, oldest first, optionally for one object, one type, one actor or a period.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only events of this object.")] entity_id: Option<ID>,
        #[graphql(desc = "Only events of objects of this GraphQL type, e.g. `Change`.")]
        entity_type: Option<String>,
        #[graphql(desc = "Only events by this person.")] actor_id: Option<ID>,
        #[graphql(desc = "Only events at or after this time.")] from: Option<DateTime<Utc>>,
        #[graphql(desc = "Only events at or before this time.")] to: Option<DateTime<Utc>>,
        #[graphql(
            desc = "Page forward: at most this many items (max 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Page forward: items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Page backward: at most this many items, the last ones (max 100).")]
        last: Option<i32>,
        #[graphql(desc = "Page backward: items before this cursor.")] before: Option<String>,
    ) -> Result<Conn<AuditEvent>> {
        let (entity_kind, entity_row) = match &entity_id {
            Some(id) => {
                let (k, r) = super::ids::decode_any(id, "entityId")?;
                (Some(k.name().to_owned()), Some(r))
            }
            None => (None, None),
        };
        if let (Some(t), Some(k)) = (&entity_type, &entity_kind)
            && t != k
        {
            return Err(AppError::bad_input(format!(
                "`entityId` is a {k}, but `entityType` is {t}"
            ))
            .into());
        }
        let filter = listing::AuditFilter {
            entity_type: entity_kind.or(entity_type),
            entity_id: entity_row,
            actor_id: decode_opt(actor_id.as_ref(), Kind::Person, "actorId")?,
            from,
            to,
        };
        connection::load(
            ctx,
            None,
            connection::list(AuditScope::Root, filter, first, after, last, before)?,
        )
        .await
    }

    /// Figures over the changes created in [from, to], optionally of one service or project.
    async fn change_metrics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only changes created at or after this time.")] from: Option<
            DateTime<Utc>,
        >,
        #[graphql(desc = "Only changes created at or before this time.")] to: Option<DateTime<Utc>>,
        #[graphql(desc = "Only changes touching this service.")] service_id: Option<ID>,
        #[graphql(desc = "Only changes of this project.")] project_id: Option<ID>,
    ) -> Result<ChangeMetrics> {
        let scope = reporting::MetricsScope {
            from,
            to,
            service_id: decode_opt(service_id.as_ref(), Kind::Service, "serviceId")?,
            project_id: decode_opt(project_id.as_ref(), Kind::Project, "projectId")?,
        };
        let data = reporting::change_metrics(db(ctx), &scope).await?;
        Ok(ChangeMetrics(data, scope))
    }

    /// The forward schedule of change: changes planned in [from, to] (optionally touching
    /// some services) and the conflicts between them.
    async fn change_schedule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Start of the period.")] from: DateTime<Utc>,
        #[graphql(desc = "End of the period.")] to: DateTime<Utc>,
        #[graphql(desc = "Only changes touching any of these services.")] service_ids: Option<
            Vec<ID>,
        >,
    ) -> Result<ChangeSchedule> {
        if from > to {
            return Err(AppError::bad_input("`from` must not be after `to`").into());
        }
        let services = service_ids
            .map(|ids| {
                ids.iter()
                    .map(|id| decode(id, Kind::Service, "serviceIds"))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let changes = reporting::schedule(db(ctx), from, to, services.as_deref()).await?;
        let conflicts = reporting::conflicts(db(ctx), from, to, services.as_deref()).await?;
        let blackout_windows =
            blackouts::overlapping(db(ctx), from, to, services.as_deref()).await?;
        let blackout_changes = blackouts::violations(db(ctx), &changes, &blackout_windows).await?;
        Ok(ChangeSchedule {
            changes,
            conflicts,
            blackout_windows,
            blackout_changes,
        })
    }

    /// Blackout windows (change freezes) overlapping a period, by start; at most 500.
    async fn blackout_windows(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Start of the period; the distant past when omitted.")] from: Option<
            DateTime<Utc>,
        >,
        #[graphql(desc = "End of the period; the distant future when omitted.")] to: Option<
            DateTime<Utc>,
        >,
        #[graphql(desc = "Only windows covering this service (including those covering all).")]
        service_id: Option<ID>,
    ) -> Result<Vec<BlackoutWindow>> {
        let service = decode_opt(service_id.as_ref(), Kind::Service, "serviceId")?;
        // Open ends within the range both engines store (PostgreSQL's ends before chrono's).
        let from = from.unwrap_or(DateTime::UNIX_EPOCH);
        let to = to.unwrap_or_else(|| {
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59)
                .single()
                .unwrap_or(DateTime::UNIX_EPOCH)
        });
        if from > to {
            return Err(AppError::bad_input("`from` must not be after `to`").into());
        }
        let services = service.map(|s| vec![s]);
        let windows = blackouts::overlapping(db(ctx), from, to, services.as_deref()).await?;
        Ok(windows
            .into_iter()
            .map(|w| BlackoutWindow(w.model))
            .collect())
    }
}
