//! Flow metrics tied to governance, checked against figures computed here from the plain
//! lists of changes and releases.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::ops::*;

const FLOW: &str = "query($from: DateTime, $to: DateTime, $service: ID) {
  flowMetrics(from: $from, to: $to, serviceId: $service) {
    deployments deploymentsPerWeek completedChanges failedChanges changeFailureRate
    leadTime { count p50Hours p90Hours }
    approvalLatency { count p50Hours p90Hours }
    approvalLatencyByDecider { person { id } latency { count p50Hours p90Hours } }
    riskCalibration { risk completed successful successRate }
    standardChangeCandidates { service { id } category successfulRun lastSuccessAt }
    weekly { weekStart deployments completedChanges failedChanges changeFailureRate } } }";

const LISTS: &str = "{
  changes(first: 100) { nodes { id type category risk outcome createdAt submittedAt authorizedAt completedAt
    services(first: 10) { nodes { id } } approvals { approver { id } decidedAt } } }
  releases(first: 100) { nodes { deployedAt } } }";

fn at(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.with_timezone(&Utc))
}

fn hours(from: &Value, to: &Value) -> Option<f64> {
    Some((at(to)? - at(from)?).num_milliseconds() as f64 / 3_600_000.0)
}

/// Nearest-rank median and 90th percentile, as `{count, p50Hours, p90Hours}`.
fn quantiles(mut hs: Vec<f64>) -> Value {
    hs.sort_by(f64::total_cmp);
    let n = hs.len();
    let rank = |p: usize| (n > 0).then(|| hs[(p * n).div_ceil(100) - 1]);
    json!({ "count": n, "p50Hours": rank(50), "p90Hours": rank(90) })
}

fn monday(d: DateTime<Utc>) -> String {
    let day =
        d.date_naive() - chrono::Duration::days(i64::from(d.weekday().num_days_from_monday()));
    format!("{day}T00:00:00Z")
}

fn close(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() < 1e-6,
        _ => a == b,
    }
}

/// Compares two JSON trees, numbers to a millionth (hours cross a float conversion).
fn same(got: &Value, want: &Value) -> bool {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            g.len() == w.len() && w.iter().all(|(k, v)| g.get(k).is_some_and(|x| same(x, v)))
        }
        (Value::Array(g), Value::Array(w)) => {
            g.len() == w.len() && g.iter().zip(w).all(|(x, y)| same(x, y))
        }
        _ => close(got, want),
    }
}

/// The answer with its lists of equals (deciders, candidates) in one order: both sides
/// order them by their figures, and break ties differently.
fn normal(mut v: Value) -> Value {
    for (list, key) in [
        ("approvalLatencyByDecider", "/person/id"),
        ("standardChangeCandidates", "/service/id"),
    ] {
        if let Some(items) = v.get_mut(list).and_then(Value::as_array_mut) {
            items.sort_by(|a, b| {
                let k = |x: &Value| {
                    (
                        x.pointer(key).cloned().unwrap_or_default().to_string(),
                        x.to_string(),
                    )
                };
                k(a).cmp(&k(b))
            });
        }
    }
    v
}

/// The flow metrics computed here, in the answer's shape, over events in [from, to].
async fn expected(app: &TestApp, from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Value {
    let lists = app.data(LISTS, json!({})).await;
    let inside =
        |v: &Value| at(v).is_some_and(|t| from.is_none_or(|f| t >= f) && to.is_none_or(|e| t <= e));
    let changes: Vec<&Value> = lists["changes"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    let deployed: Vec<DateTime<Utc>> = lists["releases"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| inside(&r["deployedAt"]))
        .filter_map(|r| at(&r["deployedAt"]))
        .collect();
    let completed: Vec<&&Value> = changes
        .iter()
        .filter(|c| !c["outcome"].is_null() && inside(&c["completedAt"]))
        .collect();
    let failed = |c: &Value| c["outcome"] == "FAILED" || c["outcome"] == "BACKED_OUT";
    let n_failed = completed.iter().filter(|c| failed(c)).count();
    let mut weeks: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
    for d in &deployed {
        weeks.entry(monday(*d)).or_default().0 += 1;
    }
    for c in &completed {
        let w = weeks
            .entry(monday(at(&c["completedAt"]).expect("completed")))
            .or_default();
        w.1 += 1;
        w.2 += i64::from(failed(c));
    }
    let rate = |part: i64, whole: i64| (whole > 0).then(|| part as f64 / whole as f64);
    let mut per_decider: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for c in &changes {
        for a in c["approvals"].as_array().into_iter().flatten() {
            if inside(&a["decidedAt"])
                && let Some(h) = hours(&c["submittedAt"], &a["decidedAt"])
            {
                per_decider
                    .entry(a["approver"]["id"].as_str().unwrap_or_default().to_owned())
                    .or_default()
                    .push(h);
            }
        }
    }
    let mut deciders: Vec<(String, Value)> = per_decider
        .into_iter()
        .map(|(id, hs)| (id, quantiles(hs)))
        .collect();
    deciders.sort_by(|a, b| {
        let p = |v: &Value| v["p50Hours"].as_f64().unwrap_or(f64::MIN);
        p(&b.1).total_cmp(&p(&a.1))
    });
    let mut calibration = Vec::new();
    for risk in ["LOW", "MEDIUM", "HIGH", "VERY_HIGH"] {
        let of: Vec<_> = completed.iter().filter(|c| c["risk"] == risk).collect();
        if !of.is_empty() {
            let ok = of.iter().filter(|c| c["outcome"] == "SUCCESSFUL").count() as i64;
            calibration.push(
                json!({ "risk": risk, "completed": of.len(), "successful": ok,
                "successRate": rate(ok, of.len() as i64) }),
            );
        }
    }
    // Per service and category, the NORMAL successes completed after the last failure.
    let mut kinds: BTreeMap<(String, String), Vec<&Value>> = BTreeMap::new();
    for c in completed.iter().filter(|c| c["type"] == "NORMAL") {
        for s in c["services"]["nodes"].as_array().into_iter().flatten() {
            let key = (
                s["id"].as_str().unwrap_or_default().to_owned(),
                c["category"].as_str().unwrap_or_default().to_owned(),
            );
            kinds.entry(key).or_default().push(c);
        }
    }
    let mut candidates: Vec<(i64, Value)> = Vec::new();
    for ((service, category), cs) in kinds {
        let last_failure = cs
            .iter()
            .filter(|c| failed(c))
            .filter_map(|c| at(&c["completedAt"]))
            .max();
        let run: Vec<DateTime<Utc>> = cs
            .iter()
            .filter(|c| c["outcome"] == "SUCCESSFUL")
            .filter_map(|c| at(&c["completedAt"]))
            .filter(|t| last_failure.is_none_or(|f| *t > f))
            .collect();
        if run.len() >= 5 {
            let last = run.iter().max().expect("a run");
            candidates.push((
                run.len() as i64,
                json!({ "service": { "id": service }, "category": category,
                "successfulRun": run.len(), "lastSuccessAt": last.to_rfc3339() }),
            ));
        }
    }
    candidates.sort_by_key(|c| std::cmp::Reverse(c.0));
    let span_weeks = {
        let mut ds = deployed.clone();
        ds.sort();
        let start = from.or(ds.first().map(|d| {
            DateTime::parse_from_rfc3339(&monday(*d))
                .expect("a week")
                .with_timezone(&Utc)
        }));
        let end = to.or(ds.last().map(|d| {
            DateTime::parse_from_rfc3339(&monday(*d))
                .expect("a week")
                .with_timezone(&Utc)
                + chrono::Duration::days(7)
        }));
        match (start, end) {
            (Some(s), Some(e)) if e > s => {
                ((e - s).num_seconds() as f64 / (7.0 * 86_400.0)).max(1.0)
            }
            _ => 1.0,
        }
    };
    json!({
        "deployments": deployed.len(),
        "deploymentsPerWeek": deployed.len() as f64 / span_weeks,
        "completedChanges": completed.len(),
        "failedChanges": n_failed,
        "changeFailureRate": rate(n_failed as i64, completed.len() as i64),
        "leadTime": quantiles(completed.iter().filter_map(|c| hours(&c["createdAt"], &c["completedAt"])).collect()),
        "approvalLatency": quantiles(changes.iter().filter(|c| inside(&c["authorizedAt"])).filter_map(|c| hours(&c["submittedAt"], &c["authorizedAt"])).collect()),
        "approvalLatencyByDecider": deciders.into_iter().map(|(id, q)| json!({ "person": { "id": id }, "latency": q })).collect::<Vec<_>>(),
        "riskCalibration": calibration,
        "standardChangeCandidates": candidates.into_iter().map(|c| c.1).collect::<Vec<_>>(),
        "weekly": weeks.into_iter().map(|(w, (d, n, f))| json!({ "weekStart": w.replace("Z", "+00:00"), "deployments": d,
            "completedChanges": n, "failedChanges": f, "changeFailureRate": rate(f, n) })).collect::<Vec<_>>(),
    })
}

/// Runs five NORMAL changes on the e-mail service, category APPLICATION, through to
/// `outcome`.
async fn complete_on_email(app: &TestApp, outcome: &str, times: usize) {
    let (requester, admin) = (app.token("requester"), app.token("admin"));
    let email = service_id(app, "email").await;
    for _ in 0..times {
        let id = draft(
            app,
            &requester,
            "NORMAL",
            "LOW",
            json!({ "serviceIds": [email], "category": "APPLICATION" }),
        )
        .await;
        change_ok(app, &requester, "submitChange", json!({ "id": id })).await;
        change_ok(app, &admin, "approveChange", json!({ "id": id })).await;
        let (start, end) = window_from_now(-1, 72);
        change_ok(
            app,
            &admin,
            "scheduleChange",
            json!({ "id": id, "start": start, "end": end }),
        )
        .await;
        change_ok(app, &admin, "startChange", json!({ "id": id })).await;
        change_ok(
            app,
            &admin,
            "completeChange",
            json!({ "id": id, "outcome": outcome }),
        )
        .await;
    }
}

async fn served(app: &TestApp, from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Value {
    let vars = json!({ "from": from.map(|d| d.to_rfc3339()), "to": to.map(|d| d.to_rfc3339()) });
    app.data(FLOW, vars).await["flowMetrics"].clone()
}

#[tokio::test]
async fn flow_metrics_equal_the_figures_computed_from_the_plain_lists() {
    let app = spawn_app().await;
    complete_on_email(&app, "SUCCESSFUL", 5).await;
    let all = served(&app, None, None).await;
    let want = expected(&app, None, None).await;
    assert!(
        same(&normal(all.clone()), &normal(want.clone())),
        "served:   {all}\nexpected: {want}"
    );
    assert!(
        all["completedChanges"].as_i64() > Some(5) && all["deployments"].as_i64() > Some(0),
        "{all}"
    );
    let candidates = all["standardChangeCandidates"]
        .as_array()
        .expect("candidates");
    assert!(
        candidates
            .iter()
            .any(|c| c["category"] == "APPLICATION" && c["successfulRun"].as_i64() >= Some(5)),
        "five successes in a row make a candidate: {candidates:?}"
    );
    let now = Utc::now();
    let month = (
        Some(now - chrono::Duration::days(30)),
        Some(now + chrono::Duration::days(1)),
    );
    let got = served(&app, month.0, month.1).await;
    let want = expected(&app, month.0, month.1).await;
    assert!(
        same(&normal(got.clone()), &normal(want.clone())),
        "served:   {got}\nexpected: {want}"
    );
}

#[tokio::test]
async fn a_failure_ends_a_run_and_an_empty_period_has_zeros_and_no_rates() {
    let app = spawn_app().await;
    complete_on_email(&app, "SUCCESSFUL", 5).await;
    complete_on_email(&app, "FAILED", 1).await;
    let all = served(&app, None, None).await;
    let want = expected(&app, None, None).await;
    assert!(same(&normal(all.clone()), &normal(want)), "{all}");
    let email = service_id(&app, "email").await;
    assert!(
        !all["standardChangeCandidates"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["service"]["id"] == email.as_str() && c["category"] == "APPLICATION"),
        "a failure after the run ends it: {all}"
    );
    let long_ago = "2001-01-01T00:00:00Z".parse::<DateTime<Utc>>().ok();
    let empty = served(
        &app,
        long_ago,
        long_ago.map(|d| d + chrono::Duration::days(30)),
    )
    .await;
    assert_eq!(
        empty,
        json!({ "deployments": 0, "deploymentsPerWeek": 0.0, "completedChanges": 0, "failedChanges": 0,
            "changeFailureRate": null,
            "leadTime": { "count": 0, "p50Hours": null, "p90Hours": null },
            "approvalLatency": { "count": 0, "p50Hours": null, "p90Hours": null },
            "approvalLatencyByDecider": [], "riskCalibration": [], "standardChangeCandidates": [], "weekly": [] })
    );
    let (code, _) = app
        .fails_as(
            &app.token("admin"),
            FLOW,
            json!({ "from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z" }),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
}

#[tokio::test]
async fn flow_metrics_cost_the_same_statements_for_a_few_changes_or_more() {
    let app = spawn_app().await;
    let spent = async |app: &TestApp| {
        let before = app.statements().await;
        app.ok_as(&app.token("admin"), FLOW, json!({})).await;
        app.statements().await - before
    };
    // The token's first use of the minute writes its `lastUsedAt`: not a figure's cost.
    spent(&app).await;
    let few = spent(&app).await;
    complete_on_email(&app, "SUCCESSFUL", 6).await;
    complete_on_email(&app, "BACKED_OUT", 1).await;
    let more = spent(&app).await;
    assert_eq!(few, more, "statements must not grow with the changes");
    // The token, six figures, then the deciders and the candidates' services.
    assert!(more <= 9, "flowMetrics took {more} statements");
}
