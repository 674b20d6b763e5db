//! Reporting types: change metrics and the forward schedule of change.

use async_graphql::{Context, Enum, Object, OutputType, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{change, release, service};

use super::{BlackoutChange, BlackoutWindow, Change, Release, Service, StatusCount};
use crate::graphql::{db, many, required};
use crate::store::blackouts;
use crate::store::reporting::{self, Interval, MetricsData, MetricsScope};

/// Figures over a set of changes: volumes, outcomes and the maturity signals of Change
/// Management (the more standard changes, the more mature the processes).
#[derive(async_graphql::Description)]
pub struct ChangeMetrics(pub MetricsData, pub MetricsScope);

/// The length of the periods of a trend.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum MetricsInterval {
    /// Weeks starting on Monday 00:00 UTC.
    Week,
    /// Calendar months starting on the 1st 00:00 UTC.
    Month,
}

/// The figures of one period of a trend.
#[derive(SimpleObject)]
pub struct ChangeMetricsPeriod {
    /// Start of the period (inclusive).
    pub start: DateTime<Utc>,
    /// End of the period (exclusive).
    pub end: DateTime<Utc>,
    /// The figures over the changes created in the period (and in the trend's scope).
    pub metrics: ChangeMetrics,
}

fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

fn counts<K: Eq + std::hash::Hash + Copy>(
    items: impl Iterator<Item = (K, i64)>,
    name: fn(K) -> &'static str,
) -> Vec<StatusCount> {
    reporting::tally(items)
        .into_iter()
        .map(|(k, n)| StatusCount {
            status: name(k).to_owned(),
            count: n as i32,
        })
        .collect()
}

#[Object(use_type_description)]
impl ChangeMetrics {
    /// The same figures per week or month of creation, oldest first; periods without
    /// changes are left out. Two statements however many periods.
    async fn trend(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Weeks or months.")] interval: MetricsInterval,
    ) -> Result<Vec<ChangeMetricsPeriod>> {
        let interval = match interval {
            MetricsInterval::Week => Interval::Week,
            MetricsInterval::Month => Interval::Month,
        };
        let periods = reporting::change_trend(db(ctx), &self.1, interval).await?;
        Ok(periods
            .into_iter()
            .map(|(start, data)| {
                let end = interval.end_of(start);
                let scope = MetricsScope {
                    from: Some(self.1.from.map_or(start, |f| f.max(start))),
                    // `to` is inclusive, the period's end is not.
                    to: Some(
                        self.1.to.map_or(end, |t| t.min(end)) - chrono::Duration::microseconds(1),
                    ),
                    ..self.1.clone()
                };
                ChangeMetricsPeriod {
                    start,
                    end,
                    metrics: ChangeMetrics(data, scope),
                }
            })
            .collect())
    }
    /// Number of changes in scope.
    async fn total(&self) -> i32 {
        self.0.groups.iter().map(|g| g.count).sum::<i64>() as i32
    }
    /// Changes per type.
    async fn by_type(&self) -> Vec<StatusCount> {
        counts(
            self.0.groups.iter().map(|g| (g.change_type, g.count)),
            entity::ChangeType::as_str,
        )
    }
    /// Changes per status.
    async fn by_status(&self) -> Vec<StatusCount> {
        counts(
            self.0.groups.iter().map(|g| (g.status, g.count)),
            entity::ChangeStatus::as_str,
        )
    }
    /// Changes per outcome, for changes that have one.
    async fn by_outcome(&self) -> Vec<StatusCount> {
        counts(
            self.0
                .groups
                .iter()
                .filter_map(|g| g.outcome.map(|o| (o, g.count))),
            entity::ChangeOutcome::as_str,
        )
    }
    /// SUCCESSFUL outcomes over changes with an outcome; null when none has one.
    async fn success_rate(&self) -> Option<f64> {
        let with: i64 = self
            .0
            .groups
            .iter()
            .filter(|g| g.outcome.is_some())
            .map(|g| g.count)
            .sum();
        let ok: i64 = self
            .0
            .groups
            .iter()
            .filter(|g| g.outcome == Some(entity::ChangeOutcome::Successful))
            .map(|g| g.count)
            .sum();
        ratio(ok, with)
    }
    /// STANDARD changes over all submitted changes: the maturity signal.
    async fn standard_change_ratio(&self) -> Option<f64> {
        self.submitted_ratio(entity::ChangeType::Standard)
    }
    /// EMERGENCY changes over all submitted changes.
    async fn emergency_change_ratio(&self) -> Option<f64> {
        self.submitted_ratio(entity::ChangeType::Emergency)
    }
    /// Mean hours from submission to closure, over closed changes; null when none is closed.
    async fn mean_lead_time_hours(&self) -> Option<f64> {
        self.0.mean_lead_time_hours
    }
    /// Median lead time in hours (submitted → closed, over closed changes; nearest rank:
    /// the ⌈n/2⌉-th shortest); null when none is closed.
    async fn lead_time_p50_hours(&self) -> Option<f64> {
        self.0.lead_time_p50_hours
    }
    /// 90th percentile lead time in hours (nearest rank: the ⌈0.9·n⌉-th shortest); null when
    /// none is closed.
    async fn lead_time_p90_hours(&self) -> Option<f64> {
        self.0.lead_time_p90_hours
    }
}

impl ChangeMetrics {
    fn submitted_ratio(&self, t: entity::ChangeType) -> Option<f64> {
        let submitted: i64 = self
            .0
            .groups
            .iter()
            .filter(|g| g.submitted)
            .map(|g| g.count)
            .sum();
        let of_type: i64 = self
            .0
            .groups
            .iter()
            .filter(|g| g.submitted && g.change_type == t)
            .map(|g| g.count)
            .sum();
        ratio(of_type, submitted)
    }
}

/// Why two items of the schedule conflict.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ConflictReason {
    /// Both touch the same service.
    SameService,
    /// One touches a service that depends, directly or through others, on a service the
    /// other touches.
    Dependency,
}

/// A conflict of the forward schedule; its GraphQL description is on the `Object` impl,
/// which names the concrete types.
pub struct Conflict<T> {
    service_id: i64,
    path: Vec<String>,
    first: T,
    second: T,
    overlap_start: DateTime<Utc>,
    overlap_end: DateTime<Utc>,
}

/// A planned window as rows hold it.
type Planned = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

impl<T> Conflict<T> {
    /// The pair `c` names, found with `find`, with the overlap of their planned windows.
    fn of<M>(
        c: &reporting::Conflict,
        find: impl Fn(i64) -> Option<M>,
        planned: impl Fn(&M) -> Planned,
        wrap: impl Fn(M) -> T,
    ) -> Option<Self> {
        let (a, b) = (find(c.first)?, find(c.second)?);
        let ((a0, a1), (b0, b1)) = (planned(&a), planned(&b));
        Some(Self {
            service_id: c.service_id,
            path: c.path.clone(),
            overlap_start: a0?.max(b0?),
            overlap_end: a1?.min(b1?),
            first: wrap(a),
            second: wrap(b),
        })
    }
}

/// Two items of the forward schedule (two changes, or two live releases) in overlapping
/// planned windows that touch the same service or, for changes in a `transitive`
/// schedule, of which one touches a service in the other's blast radius.
#[Object(
    concrete(name = "ChangeConflict", params(Change)),
    concrete(name = "ReleaseConflict", params(Release))
)]
impl<T: OutputType + Clone> Conflict<T> {
    /// The service both touch; for a DEPENDENCY, the service one touches that the
    /// other's blast radius reaches (the end of `path`).
    async fn service(&self, ctx: &Context<'_>) -> Result<Service> {
        Ok(required::<service::Entity>(ctx, self.service_id)
            .await?
            .into())
    }
    /// How the two conflict.
    async fn reason(&self) -> ConflictReason {
        if self.path.is_empty() {
            ConflictReason::SameService
        } else {
            ConflictReason::Dependency
        }
    }
    /// How a change to one reaches the other: the keys from a service one touches, through
    /// the services depending on it, to `service`. Just `service`'s key for SAME_SERVICE.
    async fn path(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        if self.path.is_empty() {
            let service = required::<service::Entity>(ctx, self.service_id).await?;
            return Ok(vec![service.key]);
        }
        Ok(self.path.clone())
    }
    /// Dependency edges along `path` (0 for SAME_SERVICE).
    async fn distance(&self) -> i32 {
        self.path.len().saturating_sub(1) as i32
    }
    /// The earlier-created of the two.
    async fn first(&self) -> T {
        self.first.clone()
    }
    /// The later-created of the two.
    async fn second(&self) -> T {
        self.second.clone()
    }
    /// Start of the overlap.
    async fn overlap_start(&self) -> DateTime<Utc> {
        self.overlap_start
    }
    /// End of the overlap.
    async fn overlap_end(&self) -> DateTime<Utc> {
        self.overlap_end
    }
}

/// The forward schedule of change over a period, with the conflicts in it.
#[derive(async_graphql::Description)]
pub struct ChangeSchedule {
    pub changes: Vec<change::Model>,
    pub conflicts: Vec<reporting::Conflict>,
    pub releases: Vec<release::Model>,
    pub release_conflicts: Vec<reporting::Conflict>,
    pub blackout_windows: Vec<blackouts::Window>,
    /// (change id, window id) pairs.
    pub blackout_changes: Vec<(i64, i64)>,
}

#[Object(use_type_description)]
impl ChangeSchedule {
    /// Changes whose planned window overlaps the period (not rejected or cancelled), by planned start.
    async fn changes(&self) -> Vec<Change> {
        self.changes.iter().cloned().map(Change).collect()
    }
    /// Blackout windows overlapping the period (covering any of the requested services, when
    /// given), by start.
    async fn blackout_windows(&self) -> Vec<BlackoutWindow> {
        self.blackout_windows
            .iter()
            .map(|w| BlackoutWindow(w.model.clone()))
            .collect()
    }
    /// Changes of the schedule planned into a blackout window that covers one of their
    /// services: emergency changes (which may) and changes scheduled before the window.
    async fn blackout_changes(&self) -> Vec<BlackoutChange> {
        self.blackout_changes
            .iter()
            .filter_map(|(c, w)| {
                let change = self.changes.iter().find(|m| m.id == *c)?;
                let window = self.blackout_windows.iter().find(|b| b.model.id == *w)?;
                Some(BlackoutChange {
                    change: Change(change.clone()),
                    window: BlackoutWindow(window.model.clone()),
                })
            })
            .collect()
    }
    /// Live releases (PLANNED to DEPLOYED) whose planned deployment window overlaps the
    /// period (touching any of the requested services, when given), by planned start.
    async fn releases(&self) -> Vec<Release> {
        self.releases.iter().cloned().map(Release).collect()
    }
    /// Pairs of live releases touching the same service in overlapping deployment windows.
    async fn release_conflicts(&self) -> Vec<Conflict<Release>> {
        let find = |id: i64| self.releases.iter().find(|r| r.id == id).cloned();
        self.release_conflicts
            .iter()
            .filter_map(|c| Conflict::of(c, find, |r| (r.planned_start, r.planned_end), Release))
            .collect()
    }
    /// Pairs of open changes with overlapping windows touching the same service (one
    /// conflict per service they share); in a `transitive` schedule also the pairs with no
    /// service in common of which one touches a service in the other's blast radius (3
    /// edges deep), once per pair, by the shortest path.
    async fn conflicts(&self, ctx: &Context<'_>) -> Result<Vec<Conflict<Change>>> {
        let ids = self.conflicts.iter().flat_map(|c| [c.first, c.second]);
        let rows = many::<change::Entity>(ctx, ids).await?;
        let find = |id: i64| rows.iter().find(|m| m.id == id).cloned();
        Ok(self
            .conflicts
            .iter()
            .filter_map(|c| Conflict::of(c, find, |m| (m.planned_start, m.planned_end), Change))
            .collect())
    }
}
