//! Reporting and planning: change metrics and the forward schedule of change.

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use futures_util::try_join;

use crate::error::{AppError, AppResult};
use crate::graphql::db;
use crate::graphql::ids::{Kind, decode, decode_opt};
use crate::graphql::types::*;
use crate::store::{blackouts, flow, reporting};

/// The part of `Query` for reporting and planning: change metrics and the forward schedule of change.
#[derive(Default)]
pub struct ReportingQuery;

#[Object]
impl ReportingQuery {
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

    /// Flow metrics tied to governance over a period, optionally of one service or project:
    /// deployment frequency, change failure rate, lead time, approval latency (overall and
    /// per decider), risk calibration and standard-change candidates, with a weekly trend.
    /// Each figure is one statement whatever the amount of data.
    async fn flow_metrics(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Only events (deployments, completions, authorizations, decisions) at or after this time."
        )]
        from: Option<DateTime<Utc>>,
        #[graphql(desc = "Only events at or before this time.")] to: Option<DateTime<Utc>>,
        #[graphql(desc = "Only changes touching, and releases including, this service.")]
        service_id: Option<ID>,
        #[graphql(desc = "Only changes and releases of this project.")] project_id: Option<ID>,
    ) -> Result<FlowMetrics> {
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            return Err(AppError::bad_input("`from` must not be after `to`").into());
        }
        let scope = flow::FlowScope {
            from,
            to,
            service_id: decode_opt(service_id.as_ref(), Kind::Service, "serviceId")?,
            project_id: decode_opt(project_id.as_ref(), Kind::Project, "projectId")?,
        };
        let data = flow::flow_metrics(db(ctx), &scope).await?;
        Ok(FlowMetrics(data, scope))
    }

    /// The forward schedule of change: changes and releases planned in [from, to]
    /// (optionally touching some services), the conflicts among them, and the blackout
    /// windows.
    async fn change_schedule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Start of the period.")] from: DateTime<Utc>,
        #[graphql(desc = "End of the period.")] to: DateTime<Utc>,
        #[graphql(desc = "Only changes touching any of these services.")] service_ids: Option<
            Vec<ID>,
        >,
        #[graphql(
            default = false,
            desc = "Also count as conflicts the pairs of changes of which one touches a service in the other's blast radius (3 dependency edges deep)."
        )]
        transitive: bool,
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
        // Only the parts the request selects are computed, and the independent ones at
        // once: a schedule of conflicts alone need not read the releases or blackouts.
        let look = ctx.look_ahead();
        let wants = |field: &str| look.field(field).exists();
        let (want_conflicts, want_windows, want_blackouts) = (
            wants("conflicts"),
            wants("blackoutWindows"),
            wants("blackoutChanges"),
        );
        let want_changes = wants("changes") || want_blackouts || (transitive && want_conflicts);
        let want_releases = wants("releases") || wants("releaseConflicts");
        let services = services.as_deref();
        let db = db(ctx);
        let (changes, mut conflicts, blackout_windows, (releases, release_conflicts)) = try_join!(
            when(want_changes, reporting::schedule(db, from, to, services)),
            when(want_conflicts, reporting::conflicts(db, from, to, services)),
            when(
                want_windows || want_blackouts,
                blackouts::overlapping(db, from, to, services)
            ),
            when(
                want_releases,
                reporting::release_schedule(db, from, to, services)
            ),
        )?;
        let (dependency, blackout_changes) = try_join!(
            when(
                transitive && want_conflicts,
                reporting::dependency_conflicts(db, &changes)
            ),
            when(
                want_blackouts,
                blackouts::violations(db, &changes, &blackout_windows)
            ),
        )?;
        conflicts.extend(dependency);
        Ok(ChangeSchedule {
            changes,
            conflicts,
            releases,
            release_conflicts,
            blackout_windows,
            blackout_changes,
        })
    }
}

/// `part` when `wanted`, else its empty value without a statement.
async fn when<T: Default>(wanted: bool, part: impl Future<Output = AppResult<T>>) -> AppResult<T> {
    if wanted { part.await } else { Ok(T::default()) }
}
