//! Reporting and planning: change metrics and the forward schedule of change.

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};

use crate::error::AppError;
use crate::graphql::db;
use crate::graphql::ids::{Kind, decode, decode_opt};
use crate::graphql::types::*;
use crate::store::{blackouts, reporting};

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
        let changes = reporting::schedule(db(ctx), from, to, services.as_deref()).await?;
        let mut conflicts = reporting::conflicts(db(ctx), from, to, services.as_deref()).await?;
        if transitive {
            conflicts.extend(reporting::dependency_conflicts(db(ctx), &changes).await?);
        }
        let blackout_windows =
            blackouts::overlapping(db(ctx), from, to, services.as_deref()).await?;
        let blackout_changes = blackouts::violations(db(ctx), &changes, &blackout_windows).await?;
        let (releases, release_conflicts) =
            reporting::release_schedule(db(ctx), from, to, services.as_deref()).await?;
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
