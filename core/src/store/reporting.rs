//! Reporting: change metrics and the forward schedule of change, computed by the database
//! (GROUP BY and a self-join), never by walking pages.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{ChangeOutcome, ChangeStatus, ChangeType, ReleaseStatus, change, release};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, Statement,
};

use super::graph::{CHANGE_DEPTH, Origin, Radius, Reached};
use super::sql::{Binds, hours};
use crate::error::AppResult;

/// Which changes a metrics request covers.
#[derive(Clone, Debug, Default)]
pub struct MetricsScope {
    /// Changes created at or after.
    pub from: Option<DateTime<Utc>>,
    /// Changes created at or before.
    pub to: Option<DateTime<Utc>>,
    pub service_id: Option<i64>,
    pub project_id: Option<i64>,
}

/// One group of the metrics aggregate.
#[derive(Clone, Debug)]
pub struct MetricsGroup {
    pub change_type: ChangeType,
    pub status: ChangeStatus,
    pub outcome: Option<ChangeOutcome>,
    pub submitted: bool,
    pub count: i64,
}

/// Counts of changes per (type, status, outcome, submitted), and the mean lead time.
#[derive(Clone, Debug, Default)]
pub struct MetricsData {
    pub groups: Vec<MetricsGroup>,
    pub mean_lead_time_hours: Option<f64>,
    /// Median lead time (nearest rank).
    pub lead_time_p50_hours: Option<f64>,
    /// 90th percentile lead time (nearest rank).
    pub lead_time_p90_hours: Option<f64>,
}

/// The scope's conditions on the changes `c`, their values bound in `b`.
fn scope_sql(scope: &MetricsScope, b: &mut Binds) -> String {
    let mut clauses = vec!["1 = 1".to_owned()];
    if let Some(from) = scope.from {
        clauses.push(format!("c.created_at >= {}", b.bind(from)));
    }
    if let Some(to) = scope.to {
        clauses.push(format!("c.created_at <= {}", b.bind(to)));
    }
    if let Some(p) = scope.project_id {
        clauses.push(format!("c.project_id = {}", b.bind(p)));
    }
    if let Some(s) = scope.service_id {
        clauses.push(format!(
            "EXISTS (SELECT 1 FROM change_service cs WHERE cs.change_id = c.id AND cs.service_id = {})",
            b.bind(s)
        ));
    }
    clauses.join(" AND ")
}

/// The length of a trend's periods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Interval {
    /// ISO weeks, starting on Monday 00:00 UTC.
    Week,
    /// Calendar months, starting on the 1st 00:00 UTC.
    Month,
}

impl Interval {
    /// The SQL expression of the start of the period of timestamp `column`, as RFC 3339
    /// text.
    pub(crate) fn start_sql(self, backend: DbBackend, column: &str) -> String {
        match (backend, self) {
            (DbBackend::Postgres, Self::Week) => format!(
                "to_char(date_trunc('week', {column} AT TIME ZONE 'UTC'), 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
            ),
            (DbBackend::Postgres, Self::Month) => format!(
                "to_char(date_trunc('month', {column} AT TIME ZONE 'UTC'), 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
            ),
            (_, Self::Week) => {
                format!("strftime('%Y-%m-%dT00:00:00Z', {column}, 'weekday 0', '-6 days')")
            }
            (_, Self::Month) => format!("strftime('%Y-%m-01T00:00:00Z', {column})"),
        }
    }

    /// The end (exclusive) of the period starting at `start`.
    pub fn end_of(self, start: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Self::Week => start + chrono::Duration::days(7),
            Self::Month => start
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(start),
        }
    }
}

/// Aggregates the changes in scope with two statements: one GROUP BY, and one window over
/// the lead times for their mean and percentiles.
pub async fn change_metrics<C: ConnectionTrait>(
    db: &C,
    scope: &MetricsScope,
) -> AppResult<MetricsData> {
    Ok(metrics(db, scope, None)
        .await?
        .into_values()
        .next()
        .unwrap_or_default())
}

/// The same figures per period of `interval` (by creation time), oldest first; periods
/// without changes are absent. Two statements, whatever the number of periods.
pub async fn change_trend<C: ConnectionTrait>(
    db: &C,
    scope: &MetricsScope,
    interval: Interval,
) -> AppResult<Vec<(DateTime<Utc>, MetricsData)>> {
    let mut out = Vec::new();
    for (period, data) in metrics(db, scope, Some(interval)).await? {
        let start = DateTime::parse_from_rfc3339(&period)
            .map_err(|e| crate::error::AppError::Internal(format!("period {period:?}: {e}")))?;
        out.push((start.with_timezone(&Utc), data));
    }
    Ok(out)
}

/// Metrics per period (one entry keyed "" without an interval).
async fn metrics<C: ConnectionTrait>(
    db: &C,
    scope: &MetricsScope,
    interval: Option<Interval>,
) -> AppResult<std::collections::BTreeMap<String, MetricsData>> {
    let backend = db.get_database_backend();
    let period = interval.map_or_else(|| "''".to_owned(), |i| i.start_sql(backend, "c.created_at"));
    // PostgreSQL refuses a constant in GROUP BY: without an interval, leave it out.
    let (group, partition) = match interval {
        Some(_) => (format!("{period}, "), format!("PARTITION BY {period} ")),
        None => (String::new(), String::new()),
    };
    let mut binds = Binds::new(backend);
    let filter = scope_sql(scope, &mut binds);
    let values = binds.values().to_vec();
    let grouped = format!(
        "SELECT {period} AS period, c.change_type, c.status, c.outcome, \
         CASE WHEN c.submitted_at IS NULL THEN 0 ELSE 1 END AS submitted, COUNT(*) AS n \
         FROM change c WHERE {filter} GROUP BY {group}c.change_type, c.status, c.outcome, \
         CASE WHEN c.submitted_at IS NULL THEN 0 ELSE 1 END"
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            grouped,
            values.clone(),
        ))
        .await?;
    let mut out: std::collections::BTreeMap<String, MetricsData> = Default::default();
    for row in rows {
        let key: String = row.try_get("", "period")?;
        out.entry(key).or_default().groups.push(MetricsGroup {
            change_type: row.try_get("", "change_type")?,
            status: row.try_get("", "status")?,
            outcome: row.try_get("", "outcome")?,
            submitted: row.try_get::<i32>("", "submitted")? == 1,
            count: row.try_get("", "n")?,
        });
    }
    let hours = hours(backend, "c.submitted_at", "c.closed_at");
    // Mean and nearest-rank percentiles (rank ⌈p·n⌉, in integer arithmetic so both engines
    // agree) of the lead times per period, in one statement over one narrow column.
    let lead = format!(
        "SELECT period, rn, n, CAST(h AS DOUBLE PRECISION) AS h, CAST(mean AS DOUBLE PRECISION) AS mean FROM ( \
           SELECT {period} AS period, {hours} AS h, \
                  ROW_NUMBER() OVER ({partition}ORDER BY {hours}) AS rn, \
                  COUNT(*) OVER ({partition}) AS n, \
                  AVG({hours}) OVER ({partition}) AS mean \
           FROM change c \
           WHERE {filter} AND c.closed_at IS NOT NULL AND c.submitted_at IS NOT NULL \
         ) AS t WHERE rn = (n + 1) / 2 OR rn = (9 * n + 9) / 10"
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, lead, values))
        .await?;
    for r in rows {
        let key: String = r.try_get("", "period")?;
        let data = out.entry(key).or_default();
        let (rn, n): (i64, i64) = (r.try_get("", "rn")?, r.try_get("", "n")?);
        let h: Option<f64> = r.try_get("", "h")?;
        data.mean_lead_time_hours = r.try_get("", "mean")?;
        if rn == (n + 1) / 2 {
            data.lead_time_p50_hours = h;
        }
        if rn == (9 * n + 9) / 10 {
            data.lead_time_p90_hours = h;
        }
    }
    Ok(out)
}

/// A pair of changes (or releases) with overlapping planned windows that touch the same
/// service, or of which one touches a service in the other's blast radius.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The service both touch; for a dependency, the one the other reaches.
    pub service_id: i64,
    pub first: i64,
    pub second: i64,
    /// Empty when both touch `service_id`; else the keys of the dependents' path from a
    /// service one touches to `service_id`, which the other touches.
    pub path: Vec<String>,
}

/// States whose changes will not (or no longer) be implemented.
const OFF_SCHEDULE: [ChangeStatus; 2] = [ChangeStatus::Rejected, ChangeStatus::Cancelled];

/// The forward schedule of change: changes whose planned window overlaps [from, to],
/// optionally only those touching some services, ordered by planned start.
pub async fn schedule<C: ConnectionTrait>(
    db: &C,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    services: Option<&[i64]>,
) -> AppResult<Vec<change::Model>> {
    let mut q = change::Entity::find()
        .filter(change::Column::PlannedStart.lte(to))
        .filter(change::Column::PlannedEnd.gte(from))
        .filter(change::Column::Status.is_not_in(OFF_SCHEDULE.iter().map(|s| s.as_str())));
    if let Some(ids) = services {
        let touching = Query::select()
            .column(Alias::new("change_id"))
            .from(Alias::new("change_service"))
            .and_where(Expr::col(Alias::new("service_id")).is_in(ids.iter().copied()))
            .take();
        q = q.filter(change::Column::Id.in_subquery(touching));
    }
    Ok(q.order_by(change::Column::PlannedStart, Order::Asc)
        .order_by(change::Column::Id, Order::Asc)
        .all(db)
        .await?)
}

/// Conflicting pairs among open changes in [from, to], found by one self-join of
/// `change_service` over the changes' planned windows.
pub async fn conflicts<C: ConnectionTrait>(
    db: &C,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    services: Option<&[i64]>,
) -> AppResult<Vec<Conflict>> {
    let backend = db.get_database_backend();
    let ph = |n: usize| {
        if backend == DbBackend::Postgres {
            format!("${n}")
        } else {
            "?".to_owned()
        }
    };
    let mut values: Vec<sea_orm::Value> = vec![to.into(), from.into(), to.into(), from.into()];
    let mut sql = format!(
        "SELECT a.service_id AS service_id, a.change_id AS first_id, b.change_id AS second_id \
         FROM change_service a \
         JOIN change_service b ON b.service_id = a.service_id AND b.change_id > a.change_id \
         JOIN change ca ON ca.id = a.change_id \
         JOIN change cb ON cb.id = b.change_id \
         WHERE ca.planned_start < cb.planned_end AND cb.planned_start < ca.planned_end \
         AND ca.planned_start <= {} AND ca.planned_end >= {} \
         AND cb.planned_start <= {} AND cb.planned_end >= {} \
         AND ca.status NOT IN ('REJECTED', 'CANCELLED', 'CLOSED') \
         AND cb.status NOT IN ('REJECTED', 'CANCELLED', 'CLOSED')",
        ph(1),
        ph(2),
        ph(3),
        ph(4)
    );
    if let Some(ids) = services {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = ids
            .iter()
            .map(|id| {
                values.push((*id).into());
                ph(values.len())
            })
            .collect();
        sql.push_str(&format!(" AND a.service_id IN ({})", list.join(", ")));
    }
    sql.push_str(" ORDER BY a.service_id, a.change_id, b.change_id");
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(Conflict {
            service_id: r.try_get("", "service_id")?,
            first: r.try_get("", "first_id")?,
            second: r.try_get("", "second_id")?,
            path: Vec::new(),
        });
    }
    Ok(out)
}

/// The conflicts through dependencies among `changes`: each pair of them not closed, with
/// overlapping planned windows and no service in common, of which one touches a service in
/// the other's blast radius, once, by the shortest path (the first
/// change's way round, then the lowest key of the service reached, on a tie). Pairs sharing
/// a service conflict on it already ([`conflicts`]). A change's services are the origins of
/// its radius (to [`CHANGE_DEPTH`]). One statement for the radii of the open changes, and
/// one for the paths when there is a conflict.
pub async fn dependency_conflicts<C: ConnectionTrait>(
    db: &C,
    changes: &[change::Model],
) -> AppResult<Vec<Conflict>> {
    let open: Vec<&change::Model> = changes
        .iter()
        .filter(|c| !OFF_SCHEDULE.contains(&c.status) && c.status != ChangeStatus::Closed)
        .collect();
    let ids: Vec<i64> = open.iter().map(|c| c.id).collect();
    let radii = super::graph::blast_radius(db, Origin::Change, &ids, CHANGE_DEPTH).await?;
    let touched: HashMap<i64, Vec<i64>> = radii
        .iter()
        .map(|(id, r)| (*id, r.origins().map(Reached::id).collect()))
        .collect();
    let services = |c: &change::Model| touched.get(&c.id).map(Vec::as_slice).unwrap_or_default();
    // The nearest service `to` touches in `from`'s radius: (distance, key, id, from).
    let reach = |from: &change::Model, to: &change::Model| {
        let radius = radii.get(&from.id)?;
        services(to)
            .iter()
            .filter_map(|s| radius.get(*s))
            .map(|r| (r.distance, r.key().to_owned(), r.id(), from.id))
            .min()
    };
    // (first, second, the service reached, the change whose radius reaches it).
    let mut found = Vec::new();
    for (i, a) in open.iter().enumerate() {
        for b in &open[i + 1..] {
            let (first, second) = if a.id < b.id { (a, b) } else { (b, a) };
            let (Some(f0), Some(f1), Some(s0), Some(s1)) = (
                first.planned_start,
                first.planned_end,
                second.planned_start,
                second.planned_end,
            ) else {
                continue;
            };
            if !(f0 < s1 && s0 < f1) || services(first).iter().any(|s| services(second).contains(s))
            {
                continue;
            }
            let best = match (reach(first, second), reach(second, first)) {
                (Some(x), Some(y)) => Some(if y.0 < x.0 { y } else { x }),
                (x, y) => x.or(y),
            };
            if let Some((_, _, service_id, from)) = best {
                found.push((first.id, second.id, service_id, from));
            }
        }
    }
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let involved: std::collections::BTreeSet<i64> = found.iter().map(|f| f.3).collect();
    let ids: Vec<i64> = involved
        .iter()
        .filter_map(|c| radii.get(c))
        .flat_map(Radius::ids)
        .collect();
    let depends_on = super::graph::depends_on(db, &ids).await?;
    let steps: HashMap<i64, _> = involved
        .iter()
        .filter_map(|c| Some((*c, radii.get(c)?.steps(&depends_on))))
        .collect();
    let mut out: Vec<Conflict> = found
        .into_iter()
        .map(|(first, second, service_id, from)| Conflict {
            service_id,
            first,
            second,
            path: match (radii.get(&from), steps.get(&from)) {
                (Some(r), Some(s)) => r.path(service_id, s),
                _ => Vec::new(),
            },
        })
        .collect();
    out.sort_by_key(|c| (c.first, c.second));
    Ok(out)
}

/// Sums counts by a key, in first-seen order.
pub fn tally<K: Eq + std::hash::Hash + Copy>(
    items: impl Iterator<Item = (K, i64)>,
) -> Vec<(K, i64)> {
    let mut order = Vec::new();
    let mut sums: HashMap<K, i64> = HashMap::new();
    for (k, n) in items {
        if !sums.contains_key(&k) {
            order.push(k);
        }
        *sums.entry(k).or_default() += n;
    }
    order.into_iter().map(|k| (k, sums[&k])).collect()
}

/// Releases that are still live on the schedule: not yet CLOSED, FAILED or CANCELLED.
const LIVE_RELEASES: [ReleaseStatus; 5] = [
    ReleaseStatus::Planned,
    ReleaseStatus::Building,
    ReleaseStatus::Testing,
    ReleaseStatus::Ready,
    ReleaseStatus::Deployed,
];

/// The releases of the forward schedule: live releases whose planned deployment window
/// overlaps [from, to] (touching any of `services` when given, through their own services
/// or their changes'), by planned start; and the pairs of them that touch one service in
/// overlapping windows. Four statements whatever the number of releases.
pub async fn release_schedule<C: ConnectionTrait>(
    db: &C,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    services: Option<&[i64]>,
) -> AppResult<(Vec<release::Model>, Vec<Conflict>)> {
    let releases = release::Entity::find()
        .filter(release::Column::PlannedStart.lte(to))
        .filter(release::Column::PlannedEnd.gte(from))
        .filter(release::Column::Status.is_in(LIVE_RELEASES.iter().map(|s| s.as_str())))
        .order_by(release::Column::PlannedStart, Order::Asc)
        .order_by(release::Column::Id, Order::Asc)
        .all(db)
        .await?;
    let ids: Vec<i64> = releases.iter().map(|r| r.id).collect();
    let touched = super::blackouts::services_of_releases(db, &ids).await?;
    let touches = |r: &release::Model| touched.get(&r.id).map(Vec::as_slice).unwrap_or_default();
    let releases: Vec<release::Model> = releases
        .into_iter()
        .filter(|r| services.is_none_or(|wanted| touches(r).iter().any(|s| wanted.contains(s))))
        .collect();
    let mut conflicts = Vec::new();
    for (i, a) in releases.iter().enumerate() {
        for b in &releases[i + 1..] {
            let (Some(a0), Some(a1), Some(b0), Some(b1)) = (
                a.planned_start,
                a.planned_end,
                b.planned_start,
                b.planned_end,
            ) else {
                continue;
            };
            if !(a0 < b1 && b0 < a1) {
                continue;
            }
            let (first, second) = if a.id < b.id { (a, b) } else { (b, a) };
            for s in touches(first) {
                let wanted = services.is_none_or(|w| w.contains(s));
                if wanted && touches(second).contains(s) {
                    conflicts.push(Conflict {
                        service_id: *s,
                        first: first.id,
                        second: second.id,
                        path: Vec::new(),
                    });
                }
            }
        }
    }
    Ok((releases, conflicts))
}
