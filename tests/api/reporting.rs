//! Change metrics and the schedule of change, checked against figures the test computes
//! itself from plain lists.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Value, json};

use crate::helpers::spawn_app;

async fn all_changes(app: &crate::helpers::TestApp) -> Vec<Value> {
    let q = "{ changes(first: 100) { nodes { id type status outcome createdAt submittedAt closedAt plannedStart plannedEnd services { nodes { id } } } } }";
    app.data(q, json!({})).await["changes"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn change_metrics_agree_with_counts_made_from_the_list() {
    let app = spawn_app().await;
    let changes = all_changes(&app).await;
    let m = app
        .data("{ changeMetrics { total byType { status count } byStatus { status count } successRate standardChangeRatio emergencyChangeRatio meanLeadTimeHours leadTimeP50Hours leadTimeP90Hours } }", json!({}))
        .await["changeMetrics"]
        .clone();
    assert_eq!(m["total"].as_u64(), Some(changes.len() as u64));
    let mut by_type: HashMap<String, i64> = HashMap::new();
    for c in &changes {
        *by_type
            .entry(c["type"].as_str().unwrap_or("").to_owned())
            .or_default() += 1;
    }
    for row in m["byType"].as_array().into_iter().flatten() {
        assert_eq!(
            row["count"].as_i64(),
            by_type.get(row["status"].as_str().unwrap_or("")).copied(),
            "{row}"
        );
    }
    let with_outcome = changes.iter().filter(|c| !c["outcome"].is_null()).count() as f64;
    let ok = changes
        .iter()
        .filter(|c| c["outcome"] == "SUCCESSFUL")
        .count() as f64;
    assert!((m["successRate"].as_f64().unwrap_or(-1.0) - ok / with_outcome).abs() < 1e-9);
    let submitted: Vec<&Value> = changes
        .iter()
        .filter(|c| !c["submittedAt"].is_null())
        .collect();
    let standard = submitted.iter().filter(|c| c["type"] == "STANDARD").count() as f64;
    assert!(
        (m["standardChangeRatio"].as_f64().unwrap_or(-1.0) - standard / submitted.len() as f64)
            .abs()
            < 1e-9
    );
    let hours: Vec<f64> = changes
        .iter()
        .filter_map(|c| {
            let s = chrono::DateTime::parse_from_rfc3339(c["submittedAt"].as_str()?).ok()?;
            let e = chrono::DateTime::parse_from_rfc3339(c["closedAt"].as_str()?).ok()?;
            Some((e - s).num_seconds() as f64 / 3600.0)
        })
        .collect();
    let mean = hours.iter().sum::<f64>() / hours.len() as f64;
    assert!(
        (m["meanLeadTimeHours"].as_f64().unwrap_or(-1.0) - mean).abs() < 1e-6,
        "{} vs {mean}",
        m["meanLeadTimeHours"]
    );
    // Nearest rank: the ⌈p·n⌉-th shortest lead time.
    let mut sorted = hours.clone();
    sorted.sort_by(f64::total_cmp);
    let rank = |p: f64| sorted[((p * sorted.len() as f64).ceil() as usize).max(1) - 1];
    for (field, p) in [("leadTimeP50Hours", 0.5), ("leadTimeP90Hours", 0.9)] {
        let got = m[field].as_f64().unwrap_or(-1.0);
        assert!(
            (got - rank(p)).abs() < 1e-6,
            "{field}: {got} vs {}",
            rank(p)
        );
    }
}

#[tokio::test]
async fn change_metrics_over_an_empty_range_are_zero_and_null() {
    let app = spawn_app().await;
    let m = app
        .data(r#"{ changeMetrics(from: "2030-01-01T00:00:00Z", to: "2030-02-01T00:00:00Z") { total byType { count } successRate meanLeadTimeHours leadTimeP50Hours leadTimeP90Hours } }"#, json!({}))
        .await["changeMetrics"]
        .clone();
    assert_eq!(m["total"], 0);
    assert!(m["successRate"].is_null() && m["meanLeadTimeHours"].is_null());
    assert!(m["leadTimeP50Hours"].is_null() && m["leadTimeP90Hours"].is_null());
}

#[tokio::test]
async fn the_schedule_lists_overlapping_changes_and_exactly_the_conflicts() {
    let app = spawn_app().await;
    // The demo's dates are relative to the day it is loaded: two months back, five ahead.
    let now = chrono::Utc::now();
    let (from, to) = (
        now - chrono::Duration::days(60),
        now + chrono::Duration::days(150),
    );
    let q = "query($f: DateTime!, $t: DateTime!) { changeSchedule(from: $f, to: $t) { changes { id } conflicts { service { id } first { id } second { id } overlapStart overlapEnd } } }";
    let s = app.data(q, json!({ "f": from, "t": to })).await["changeSchedule"].clone();
    // Independently: pairs of open changes sharing a service with overlapping windows.
    let changes = all_changes(&app).await;
    let open = |c: &Value| {
        !matches!(
            c["status"].as_str(),
            Some("REJECTED" | "CANCELLED" | "CLOSED")
        )
    };
    let mut expected = Vec::new();
    for (i, a) in changes.iter().enumerate() {
        for b in &changes[i + 1..] {
            let (Some(a0), Some(a1), Some(b0), Some(b1)) = (
                a["plannedStart"].as_str(),
                a["plannedEnd"].as_str(),
                b["plannedStart"].as_str(),
                b["plannedEnd"].as_str(),
            ) else {
                continue;
            };
            if !(open(a) && open(b) && a0 < b1 && b0 < a1) {
                continue;
            }
            let sa: Vec<&Value> = a["services"]["nodes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|s| &s["id"])
                .collect();
            for s in b["services"]["nodes"].as_array().into_iter().flatten() {
                if sa.contains(&&s["id"]) {
                    expected.push((s["id"].clone(), a["id"].clone(), b["id"].clone()));
                }
            }
        }
    }
    let mut got: Vec<(Value, Value, Value)> = s["conflicts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c["service"]["id"].clone(),
                c["first"]["id"].clone(),
                c["second"]["id"].clone(),
            )
        })
        .collect();
    let key = |t: &(Value, Value, Value)| format!("{}{}{}", t.0, t.1, t.2);
    got.sort_by_key(key);
    expected.sort_by_key(key);
    assert_eq!(got, expected);
    assert!(!got.is_empty(), "the demo has conflicting changes");
    for c in s["conflicts"].as_array().into_iter().flatten() {
        assert!(c["overlapStart"].as_str() < c["overlapEnd"].as_str());
    }
    assert!(!s["changes"].as_array().is_none_or(Vec::is_empty));
}

#[tokio::test]
async fn change_metrics_over_a_single_closed_change_are_that_change() {
    let app = spawn_app().await;
    let changes = all_changes(&app).await;
    let created: Vec<&str> = changes
        .iter()
        .filter_map(|c| c["createdAt"].as_str())
        .collect();
    let closed = changes
        .iter()
        .find(|c| {
            !c["closedAt"].is_null()
                && created
                    .iter()
                    .filter(|t| **t == c["createdAt"].as_str().unwrap_or(""))
                    .count()
                    == 1
        })
        .expect("a closed change created at a moment of its own");
    let at = closed["createdAt"].clone();
    let m = app
        .data(
            "query($at: DateTime!) { changeMetrics(from: $at, to: $at) { total meanLeadTimeHours leadTimeP50Hours leadTimeP90Hours } }",
            json!({ "at": at }),
        )
        .await["changeMetrics"]
        .clone();
    let s = chrono::DateTime::parse_from_rfc3339(closed["submittedAt"].as_str().unwrap_or("")).ok();
    let e = chrono::DateTime::parse_from_rfc3339(closed["closedAt"].as_str().unwrap_or("")).ok();
    let hours = s
        .zip(e)
        .map(|(s, e)| (e - s).num_seconds() as f64 / 3600.0)
        .unwrap_or(-1.0);
    assert_eq!(m["total"], 1);
    for field in ["meanLeadTimeHours", "leadTimeP50Hours", "leadTimeP90Hours"] {
        assert!(
            (m[field].as_f64().unwrap_or(-2.0) - hours).abs() < 1e-6,
            "{field}: {m}"
        );
    }
}

#[tokio::test]
async fn the_monthly_and_weekly_trends_add_up_to_counts_made_from_the_list() {
    let app = spawn_app().await;
    let changes = all_changes(&app).await;
    let created: Vec<chrono::DateTime<chrono::Utc>> = changes
        .iter()
        .filter_map(|c| chrono::DateTime::parse_from_rfc3339(c["createdAt"].as_str()?).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
        .collect();
    let q = "query($i: MetricsInterval!) { changeMetrics { total trend(interval: $i) { start end metrics { total } } } }";
    for interval in ["MONTH", "WEEK"] {
        let m = app.data(q, json!({ "i": interval })).await["changeMetrics"].clone();
        let trend = m["trend"].as_array().cloned().unwrap_or_default();
        let sum: i64 = trend
            .iter()
            .filter_map(|p| p["metrics"]["total"].as_i64())
            .sum();
        assert_eq!(Some(sum), m["total"].as_i64(), "{interval} periods add up");
        for p in &trend {
            let start =
                chrono::DateTime::parse_from_rfc3339(p["start"].as_str().unwrap_or("")).ok();
            let end = chrono::DateTime::parse_from_rfc3339(p["end"].as_str().unwrap_or("")).ok();
            let (Some(start), Some(end)) = (start, end) else {
                panic!("a period has bounds: {p}");
            };
            let expected = created.iter().filter(|t| **t >= start && **t < end).count() as i64;
            assert_eq!(
                p["metrics"]["total"].as_i64(),
                Some(expected),
                "{interval} {p}"
            );
            if interval == "WEEK" {
                assert_eq!(start.format("%a %H:%M").to_string(), "Mon 00:00");
            } else {
                assert_eq!(start.format("%d %H:%M").to_string(), "01 00:00");
            }
        }
    }
}

#[tokio::test]
async fn the_schedule_of_an_empty_range_is_empty_and_of_one_window_is_what_overlaps_it() {
    let app = spawn_app().await;
    let q = "query($f: DateTime!, $t: DateTime!) { changeSchedule(from: $f, to: $t) { changes { id } conflicts { first { id } } blackoutWindows { id } } }";
    let empty = app
        .data(
            q,
            json!({ "f": "2031-01-01T00:00:00Z", "t": "2031-02-01T00:00:00Z" }),
        )
        .await["changeSchedule"]
        .clone();
    assert_eq!(
        empty,
        json!({ "changes": [], "conflicts": [], "blackoutWindows": [] })
    );
    let changes = all_changes(&app).await;
    let one = changes
        .iter()
        .find(|c| !c["plannedStart"].is_null() && c["status"] == "CLOSED")
        .expect("a closed change with a window");
    let (from, to) = (one["plannedStart"].clone(), one["plannedEnd"].clone());
    let at = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap_or("")).ok();
    let expected: BTreeSet<String> = changes
        .iter()
        .filter(|c| !matches!(c["status"].as_str(), Some("REJECTED" | "CANCELLED")))
        .filter(|c| {
            match (
                at(&c["plannedStart"]),
                at(&c["plannedEnd"]),
                at(&from),
                at(&to),
            ) {
                (Some(s), Some(e), Some(f), Some(t)) => s <= t && e >= f,
                _ => false,
            }
        })
        .filter_map(|c| c["id"].as_str().map(str::to_owned))
        .collect();
    let got: BTreeSet<String> = app.data(q, json!({ "f": from, "t": to })).await["changeSchedule"]
        ["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["id"].as_str().map(str::to_owned))
        .collect();
    assert!(got.contains(one["id"].as_str().unwrap_or("")));
    assert_eq!(got, expected);
}
