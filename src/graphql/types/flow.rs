//! Flow metrics tied to governance: delivery speed and stability read through Change and
//! Release Management (definitions in the README, "Flow metrics").

use async_graphql::{Context, Object, Result};
use chrono::{DateTime, Utc};
use entity::{person, service};

use super::{Person, Service};
use crate::graphql::enums::{ChangeCategory, RiskLevel};
use crate::graphql::required;
use crate::store::flow::{self, FlowData, FlowScope, Quantiles};

/// How fast and how safely change flows, over a period: deployment frequency, change
/// failure rate, lead time, approval latency, whether declared risk predicts failure, and
/// which kinds of change have earned pre-approval.
#[derive(async_graphql::Description)]
pub struct FlowMetrics(pub FlowData, pub FlowScope);

/// A ratio, or null over nothing.
fn rate(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

fn int(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

#[Object(use_type_description)]
impl FlowMetrics {
    /// Releases deployed in the period.
    async fn deployments(&self) -> i32 {
        int(self.0.deployments())
    }
    /// Deployment frequency: releases deployed per week of the period (from `from` to
    /// `to`; an open end stops at the first or last deployment; at least one week).
    async fn deployments_per_week(&self) -> f64 {
        let weeks: Vec<DateTime<Utc>> = self
            .0
            .weeks
            .iter()
            .filter(|(_, w)| w.deployments > 0)
            .filter_map(|(k, _)| DateTime::parse_from_rfc3339(k).ok())
            .map(|d| d.with_timezone(&Utc))
            .collect();
        let start = self.1.from.or(weeks.first().copied());
        let end = self
            .1
            .to
            .or(weeks.last().map(|w| *w + chrono::Duration::days(7)));
        let span = match (start, end) {
            (Some(s), Some(e)) if e > s => (e - s).num_seconds() as f64 / (7.0 * 86_400.0),
            _ => 1.0,
        };
        self.0.deployments() as f64 / span.max(1.0)
    }
    /// Changes completed in the period (with an outcome).
    async fn completed_changes(&self) -> i32 {
        int(self.0.completed())
    }
    /// Of them, the ones that FAILED or were BACKED_OUT.
    async fn failed_changes(&self) -> i32 {
        int(self.0.failed())
    }
    /// Change failure rate: failed over completed; null when none completed.
    async fn change_failure_rate(&self) -> Option<f64> {
        rate(self.0.failed(), self.0.completed())
    }
    /// Lead time of the changes completed in the period, from creation to completion:
    /// median and 90th percentile (nearest rank), in hours.
    async fn lead_time(&self) -> HoursQuantiles {
        HoursQuantiles(self.0.lead_time)
    }
    /// Approval latency of the changes authorized in the period, from submission to
    /// authorization (zero for a pre-approved standard change), in hours.
    async fn approval_latency(&self) -> HoursQuantiles {
        HoursQuantiles(self.0.approval_latency)
    }
    /// For each person who decided on changes in the period: from the change's submission
    /// to their decision, in hours; slowest median first.
    async fn approval_latency_by_decider(&self) -> Vec<DeciderLatency> {
        let mut out: Vec<DeciderLatency> = self
            .0
            .by_decider
            .iter()
            .map(|(person, q)| DeciderLatency {
                person_id: *person,
                latency: *q,
            })
            .collect();
        out.sort_by(|a, b| {
            b.latency
                .p50
                .partial_cmp(&a.latency.p50)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(a.person_id.cmp(&b.person_id))
        });
        out
    }
    /// Risk calibration: for each declared risk level, the changes completed in the period
    /// and how many succeeded. If LOW fails as often as HIGH, the risk model is wrong.
    async fn risk_calibration(&self) -> Vec<RiskCalibration> {
        self.0
            .calibration
            .iter()
            .copied()
            .map(RiskCalibration)
            .collect()
    }
    /// Standard-change candidates: a service and category whose last NORMAL changes in the
    /// period — at least five — all succeeded, with no failure of that kind since. Models
    /// worth pre-approving; longest run first.
    async fn standard_change_candidates(&self) -> Vec<StandardChangeCandidate> {
        self.0
            .candidates
            .iter()
            .cloned()
            .map(StandardChangeCandidate)
            .collect()
    }
    /// The same figures week by week (ISO weeks from Monday 00:00 UTC), oldest first;
    /// weeks with neither a deployment nor a completion are absent.
    async fn weekly(&self) -> Vec<FlowWeek> {
        self.0
            .weeks
            .iter()
            .filter_map(|(k, w)| {
                let start = DateTime::parse_from_rfc3339(k).ok()?.with_timezone(&Utc);
                Some(FlowWeek(start, *w))
            })
            .collect()
    }
}

/// A median and a 90th percentile in hours, and how many values they summarize.
#[derive(async_graphql::Description)]
pub struct HoursQuantiles(Quantiles);

#[Object(use_type_description)]
impl HoursQuantiles {
    /// Values measured.
    async fn count(&self) -> i32 {
        int(self.0.count)
    }
    /// Median (nearest rank), hours; null without values.
    async fn p50_hours(&self) -> Option<f64> {
        self.0.p50
    }
    /// 90th percentile (nearest rank), hours; null without values.
    async fn p90_hours(&self) -> Option<f64> {
        self.0.p90
    }
}

/// How long one decider takes to decide after a change is submitted.
#[derive(async_graphql::Description)]
pub struct DeciderLatency {
    person_id: i64,
    latency: Quantiles,
}

#[Object(use_type_description)]
impl DeciderLatency {
    /// The decider.
    async fn person(&self, ctx: &Context<'_>) -> Result<Person> {
        Ok(Person(
            required::<person::Entity>(ctx, self.person_id).await?,
        ))
    }
    /// Their decisions in the period, and the time from submission to each, in hours.
    async fn latency(&self) -> HoursQuantiles {
        HoursQuantiles(self.latency)
    }
}

/// The changes of one declared risk level completed in a period, and how many succeeded.
#[derive(async_graphql::Description)]
pub struct RiskCalibration(flow::Calibration);

#[Object(use_type_description)]
impl RiskCalibration {
    /// The risk the requesters declared.
    async fn risk(&self) -> RiskLevel {
        self.0.risk.into()
    }
    /// Changes of that risk completed in the period.
    async fn completed(&self) -> i32 {
        int(self.0.completed)
    }
    /// Of them, SUCCESSFUL.
    async fn successful(&self) -> i32 {
        int(self.0.successful)
    }
    /// successful over completed.
    async fn success_rate(&self) -> Option<f64> {
        rate(self.0.successful, self.0.completed)
    }
}

/// A kind of change (a service and a category) that keeps succeeding: a candidate for a
/// pre-approved change model.
#[derive(async_graphql::Description)]
pub struct StandardChangeCandidate(flow::Candidate);

#[Object(use_type_description)]
impl StandardChangeCandidate {
    /// The service the changes touched.
    async fn service(&self, ctx: &Context<'_>) -> Result<Service> {
        Ok(Service(
            required::<service::Entity>(ctx, self.0.service_id).await?,
        ))
    }
    /// Their category.
    async fn category(&self) -> ChangeCategory {
        self.0.category.into()
    }
    /// Successful NORMAL changes of that kind in the period since its last failure.
    async fn successful_run(&self) -> i32 {
        int(self.0.run)
    }
    /// When the last of them completed.
    async fn last_success_at(&self) -> DateTime<Utc> {
        self.0.last_at
    }
}

/// One week of flow.
#[derive(async_graphql::Description)]
pub struct FlowWeek(DateTime<Utc>, flow::Week);

#[Object(use_type_description)]
impl FlowWeek {
    /// Monday 00:00 UTC.
    async fn week_start(&self) -> DateTime<Utc> {
        self.0
    }
    /// Releases deployed that week.
    async fn deployments(&self) -> i32 {
        int(self.1.deployments)
    }
    /// Changes completed that week.
    async fn completed_changes(&self) -> i32 {
        int(self.1.completed)
    }
    /// Of them, FAILED or BACKED_OUT.
    async fn failed_changes(&self) -> i32 {
        int(self.1.failed)
    }
    /// failed over completed; null when none completed.
    async fn change_failure_rate(&self) -> Option<f64> {
        rate(self.1.failed, self.1.completed)
    }
}
