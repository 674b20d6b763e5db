//! Flow metrics tied to governance: how often releases reach production, how often changes
//! fail, how long changes and their approvals take, whether declared risk predicts failure,
//! and which kinds of change have earned pre-approval. Each figure is one statement over
//! the whole period, whatever the number of changes.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use entity::enums::{ChangeCategory, RiskLevel};
use sea_orm::ConnectionTrait;

use super::reporting::Interval;
use super::sql::{Binds, hours};

use crate::error::AppResult;

/// Which changes and releases the figures cover.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlowScope {
    /// Events (deployment, completion, authorization, decision) at or after…
    pub from: Option<DateTime<Utc>>,
    /// …and at or before.
    pub to: Option<DateTime<Utc>>,
    /// Changes touching, releases including, this service.
    pub service_id: Option<i64>,
    /// Changes and releases of this project.
    pub project_id: Option<i64>,
}

/// Nearest-rank median and 90th percentile, in hours.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Quantiles {
    pub count: i64,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
}

/// Completed changes of one declared risk level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Calibration {
    pub risk: RiskLevel,
    pub completed: i64,
    pub successful: i64,
}

/// A service and category whose latest NORMAL changes all succeeded.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    pub service_id: i64,
    pub category: ChangeCategory,
    /// Successful NORMAL changes since the last failure (in the period).
    pub run: i64,
    pub last_at: DateTime<Utc>,
}

/// Deployments and outcomes of one ISO week.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Week {
    pub deployments: i64,
    pub completed: i64,
    pub failed: i64,
}

/// Every figure of [`flow_metrics`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FlowData {
    /// By the start of the week (Monday 00:00 UTC, RFC 3339), weeks with something only.
    pub weeks: BTreeMap<String, Week>,
    /// By declared risk, from lowest.
    pub calibration: Vec<Calibration>,
    /// Creation to completion of the changes completed.
    pub lead_time: Quantiles,
    /// Submission to authorization of the changes authorized.
    pub approval_latency: Quantiles,
    /// Submission to each decision, by decider (person id).
    pub by_decider: BTreeMap<i64, Quantiles>,
    /// Runs of at least [`CANDIDATE_RUN`] successes, longest first.
    pub candidates: Vec<Candidate>,
}

impl FlowData {
    pub fn deployments(&self) -> i64 {
        self.weeks.values().map(|w| w.deployments).sum()
    }
    pub fn completed(&self) -> i64 {
        self.weeks.values().map(|w| w.completed).sum()
    }
    pub fn failed(&self) -> i64 {
        self.weeks.values().map(|w| w.failed).sum()
    }
}

/// Successes in a row that make a kind of change a standard-change candidate.
pub const CANDIDATE_RUN: i64 = 5;

/// Outcomes that count as a failed change.
const FAILED: &str = "('FAILED', 'BACKED_OUT')";

/// The scope's conditions on the changes aliased `c`, their events timed by `at`.
fn changes(b: &mut Binds, scope: &FlowScope, c: &str, at: &str) -> String {
    let mut sql = period(b, scope, at);
    if let Some(p) = scope.project_id {
        sql.push_str(&format!(" AND {c}.project_id = {}", b.bind(p)));
    }
    if let Some(s) = scope.service_id {
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM change_service {c}_svc WHERE {c}_svc.change_id = {c}.id AND {c}_svc.service_id = {})",
            b.bind(s)
        ));
    }
    sql
}

/// The scope's period on the timestamp `at`, which must be set.
fn period(b: &mut Binds, scope: &FlowScope, at: &str) -> String {
    let mut sql = format!("{at} IS NOT NULL");
    if let Some(from) = scope.from {
        sql.push_str(&format!(" AND {at} >= {}", b.bind(from)));
    }
    if let Some(to) = scope.to {
        sql.push_str(&format!(" AND {at} <= {}", b.bind(to)));
    }
    sql
}

/// Every flow figure of `scope`: six statements.
pub async fn flow_metrics<C: ConnectionTrait>(db: &C, scope: &FlowScope) -> AppResult<FlowData> {
    let backend = db.get_database_backend();
    let mut out = FlowData::default();

    // Deployments per week.
    let mut b = Binds::new(backend);
    let mut cond = period(&mut b, scope, "r.deployed_at");
    if let Some(p) = scope.project_id {
        cond.push_str(&format!(" AND r.project_id = {}", b.bind(p)));
    }
    if let Some(s) = scope.service_id {
        cond.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM release_service s WHERE s.release_id = r.id AND s.service_id = {})",
            b.bind(s)
        ));
    }
    let week = Interval::Week.start_sql(backend, "r.deployed_at");
    let sql =
        format!("SELECT {week} AS week, COUNT(*) AS n FROM release r WHERE {cond} GROUP BY {week}");
    for row in db.query_all_raw(b.statement(sql)).await? {
        let week: String = row.try_get("", "week")?;
        out.weeks.entry(week).or_default().deployments = row.try_get("", "n")?;
    }

    // Outcomes per week and declared risk: the failure rate, its trend and the calibration.
    let mut b = Binds::new(backend);
    let cond = changes(&mut b, scope, "c", "c.completed_at");
    let week = Interval::Week.start_sql(backend, "c.completed_at");
    let sql = format!(
        "SELECT {week} AS week, c.risk, COUNT(*) AS n, \
                SUM(CASE WHEN c.outcome = 'SUCCESSFUL' THEN 1 ELSE 0 END) AS ok, \
                SUM(CASE WHEN c.outcome IN {FAILED} THEN 1 ELSE 0 END) AS failed \
         FROM change c WHERE {cond} AND c.outcome IS NOT NULL GROUP BY {week}, c.risk"
    );
    let mut calibration: BTreeMap<i32, Calibration> = BTreeMap::new();
    for row in db.query_all_raw(b.statement(sql)).await? {
        let week: String = row.try_get("", "week")?;
        let risk: RiskLevel = row.try_get("", "risk")?;
        let (n, ok, failed): (i64, i64, i64) = (
            row.try_get("", "n")?,
            row.try_get("", "ok")?,
            row.try_get("", "failed")?,
        );
        let w = out.weeks.entry(week).or_default();
        w.completed += n;
        w.failed += failed;
        let c = calibration.entry(risk.rank()).or_insert(Calibration {
            risk,
            completed: 0,
            successful: 0,
        });
        c.completed += n;
        c.successful += ok;
    }
    out.calibration = calibration.into_values().collect();

    // Lead time, approval latency and each decider's latency.
    let whole = |q: BTreeMap<i64, Quantiles>| q.get(&0).copied().unwrap_or_default();
    let lead = quantiles(db, scope, "change c", "0", "c.created_at", "c.completed_at");
    out.lead_time = whole(lead.await?);
    let approval = quantiles(
        db,
        scope,
        "change c",
        "0",
        "c.submitted_at",
        "c.authorized_at",
    );
    out.approval_latency = whole(approval.await?);
    let decisions = "approval a JOIN change c ON c.id = a.change_id";
    out.by_decider = quantiles(
        db,
        scope,
        decisions,
        "a.approver_id",
        "c.submitted_at",
        "a.decided_at",
    )
    .await?;

    // Standard-change candidates: per service and category, the NORMAL successes after the
    // kind's last failure. (A correlated NOT EXISTS per success took SQLite half a second
    // on 20,000 changes; the failures grouped once and joined take 18 ms.)
    let mut b = Binds::new(backend);
    let cond = changes(&mut b, scope, "c", "c.completed_at");
    let mut service = String::new();
    if let Some(s) = scope.service_id {
        service = format!(" AND cs.service_id = {}", b.bind(s));
    }
    let sql = format!(
        "WITH kinds AS ( \
           SELECT cs.service_id, c.category, c.outcome, c.completed_at \
           FROM change c JOIN change_service cs ON cs.change_id = c.id \
           WHERE {cond}{service} AND c.change_type = 'NORMAL' AND c.outcome IS NOT NULL \
         ), last_failure AS ( \
           SELECT service_id, category, MAX(completed_at) AS at FROM kinds \
           WHERE outcome IN {FAILED} GROUP BY service_id, category \
         ) \
         SELECT k.service_id, k.category, COUNT(*) AS run, MAX(k.completed_at) AS last_at \
         FROM kinds k LEFT JOIN last_failure f \
           ON f.service_id = k.service_id AND f.category = k.category \
         WHERE k.outcome = 'SUCCESSFUL' AND (f.at IS NULL OR k.completed_at > f.at) \
         GROUP BY k.service_id, k.category HAVING COUNT(*) >= {CANDIDATE_RUN}"
    );
    for row in db.query_all_raw(b.statement(sql)).await? {
        out.candidates.push(Candidate {
            service_id: row.try_get("", "service_id")?,
            category: row.try_get("", "category")?,
            run: row.try_get("", "run")?,
            last_at: row.try_get("", "last_at")?,
        });
    }
    out.candidates.sort_by_key(|c| {
        (
            std::cmp::Reverse(c.run),
            c.service_id,
            sea_orm::ActiveEnum::to_value(&c.category),
        )
    });
    Ok(out)
}

/// Nearest-rank median and 90th percentile (ranks ⌈n/2⌉ and ⌈9n/10⌉, in integer arithmetic
/// so both engines agree) of the hours from `start` to `end` over the changes `c` of
/// `scope` (timed by `end`) in `tables`, per `key` (`0`: all together): one statement.
async fn quantiles<C: ConnectionTrait>(
    db: &C,
    scope: &FlowScope,
    tables: &str,
    key: &str,
    start: &str,
    end: &str,
) -> AppResult<BTreeMap<i64, Quantiles>> {
    let backend = db.get_database_backend();
    let mut b = Binds::new(backend);
    let cond = changes(&mut b, scope, "c", end);
    let hours = hours(backend, start, end);
    let partition = if key == "0" {
        String::new()
    } else {
        format!("PARTITION BY {key} ")
    };
    let sql = format!(
        "SELECT k, rn, n, CAST(h AS DOUBLE PRECISION) AS h FROM ( \
           SELECT CAST({key} AS BIGINT) AS k, {hours} AS h, \
                  ROW_NUMBER() OVER ({partition}ORDER BY {hours}) AS rn, \
                  COUNT(*) OVER ({partition}) AS n \
           FROM {tables} WHERE {cond} AND {start} IS NOT NULL \
         ) AS t WHERE rn = (n + 1) / 2 OR rn = (9 * n + 9) / 10"
    );
    let mut out: BTreeMap<i64, Quantiles> = BTreeMap::new();
    for row in db.query_all_raw(b.statement(sql)).await? {
        let k: i64 = row.try_get("", "k")?;
        let (rn, n): (i64, i64) = (row.try_get("", "rn")?, row.try_get("", "n")?);
        // SQLite's julian days carry float noise (294.99999999 for 295 h): to the millisecond.
        let h: Option<f64> = row
            .try_get::<Option<f64>>("", "h")?
            .map(|h| (h * 3_600_000.0).round() / 3_600_000.0);
        let q = out.entry(k).or_default();
        q.count = n;
        if rn == (n + 1) / 2 {
            q.p50 = h;
        }
        if rn == (9 * n + 9) / 10 {
            q.p90 = h;
        }
    }
    Ok(out)
}
