//! Impact analysis and PMO roll-ups, each checked against numbers the test computes itself
//! from plain lists.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::helpers::spawn_app;

const OPEN: [&str; 6] = [
    "DRAFT",
    "SUBMITTED",
    "AUTHORIZED",
    "SCHEDULED",
    "IMPLEMENTING",
    "REVIEW",
];
const NOT_DEPLOYED: [&str; 4] = ["PLANNED", "BUILDING", "TESTING", "READY"];

fn list(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn an_offering_lists_the_open_changes_and_upcoming_releases_of_its_services() {
    let app = spawn_app().await;
    let q = r#"{ serviceOfferings(first: 20) { nodes { key
        openChanges(first: 100) { id status plannedStart }
        upcomingReleases(first: 100) { id status plannedDate }
        services(first: 10) { nodes {
          changes(first: 50) { nodes { id status } }
          releases(first: 20) { nodes { id status } } } } } } }"#;
    let data = app.data(q, json!({})).await;
    let mut checked = 0;
    for o in list(&data["serviceOfferings"]["nodes"]) {
        let services = list(&o["services"]["nodes"]);
        let expect_changes: BTreeSet<String> = services
            .iter()
            .flat_map(|s| list(&s["changes"]["nodes"]))
            .filter(|c| OPEN.contains(&c["status"].as_str().unwrap_or("")))
            .filter_map(|c| c["id"].as_str().map(str::to_owned))
            .collect();
        let expect_releases: BTreeSet<String> = services
            .iter()
            .flat_map(|s| list(&s["releases"]["nodes"]))
            .filter(|r| NOT_DEPLOYED.contains(&r["status"].as_str().unwrap_or("")))
            .filter_map(|r| r["id"].as_str().map(str::to_owned))
            .collect();
        let open = list(&o["openChanges"]);
        let got: BTreeSet<String> = open
            .iter()
            .filter_map(|c| c["id"].as_str().map(str::to_owned))
            .collect();
        assert_eq!(got, expect_changes, "open changes of {}", o["key"]);
        assert_eq!(open.len(), got.len(), "each change once");
        let dates: Vec<Option<&str>> = open.iter().map(|c| c["plannedStart"].as_str()).collect();
        let mut sorted = dates.clone();
        sorted.sort_by_key(|d| (d.is_none(), d.map(str::to_owned)));
        assert_eq!(dates, sorted, "soonest first, unplanned last");
        let upcoming: BTreeSet<String> = list(&o["upcomingReleases"])
            .iter()
            .filter_map(|r| r["id"].as_str().map(str::to_owned))
            .collect();
        assert_eq!(
            upcoming, expect_releases,
            "upcoming releases of {}",
            o["key"]
        );
        checked += usize::from(!expect_changes.is_empty());
    }
    assert!(checked >= 2, "the demo has offerings with open changes");
    let capped = app
        .data(
            r#"{ serviceOfferings(first: 20) { nodes { openChanges(first: 1) { id } } } }"#,
            json!({}),
        )
        .await;
    assert!(
        list(&capped["serviceOfferings"]["nodes"])
            .iter()
            .all(|o| list(&o["openChanges"]).len() <= 1)
    );
    let body = app
        .post(
            r#"{ serviceOfferings(first: 1) { nodes { openChanges(first: 101) { id } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "LIMIT_EXCEEDED");
}

#[tokio::test]
async fn a_project_rolls_up_its_releases_risks_and_next_release() {
    let app = spawn_app().await;
    let q = r#"{ projects(first: 20) { nodes { code
        releaseSummary { status count } riskProfile { status count }
        nextRelease { id }
        releases(first: 100) { nodes { id status plannedDate } }
        changes(first: 100) { nodes { risk } } } } }"#;
    let data = app.data(q, json!({})).await;
    let mut with_next = 0;
    for p in list(&data["projects"]["nodes"]) {
        let releases = list(&p["releases"]["nodes"]);
        let mut by_status: BTreeMap<String, i64> = BTreeMap::new();
        for r in &releases {
            *by_status
                .entry(r["status"].as_str().unwrap_or("").to_owned())
                .or_default() += 1;
        }
        let summary: BTreeMap<String, i64> = list(&p["releaseSummary"])
            .iter()
            .map(|s| {
                (
                    s["status"].as_str().unwrap_or("").to_owned(),
                    s["count"].as_i64().unwrap_or(0),
                )
            })
            .collect();
        assert_eq!(summary, by_status, "release summary of {}", p["code"]);
        let severity = ["LOW", "MEDIUM", "HIGH", "VERY_HIGH"];
        let expected_risk: Vec<(String, i64)> = severity
            .iter()
            .map(|r| {
                (
                    r.to_string(),
                    list(&p["changes"]["nodes"])
                        .iter()
                        .filter(|c| c["risk"] == *r)
                        .count() as i64,
                )
            })
            .filter(|(_, n)| *n > 0)
            .collect();
        let risk: Vec<(String, i64)> = list(&p["riskProfile"])
            .iter()
            .map(|s| {
                (
                    s["status"].as_str().unwrap_or("").to_owned(),
                    s["count"].as_i64().unwrap_or(0),
                )
            })
            .collect();
        assert_eq!(
            risk, expected_risk,
            "risk profile of {}, by severity",
            p["code"]
        );
        let next = releases
            .iter()
            .filter(|r| NOT_DEPLOYED.contains(&r["status"].as_str().unwrap_or("")))
            .min_by_key(|r| {
                (
                    r["plannedDate"].is_null(),
                    r["plannedDate"].as_str().map(str::to_owned),
                )
            })
            .map(|r| r["id"].clone());
        assert_eq!(
            p["nextRelease"]["id"].clone(),
            next.clone().unwrap_or(Value::Null),
            "next release of {}",
            p["code"]
        );
        with_next += usize::from(next.is_some());
    }
    assert!(
        with_next >= 1,
        "the demo has a project with a release coming"
    );
}

#[tokio::test]
async fn projects_filter_by_status_and_by_manager_as_the_full_list_says() {
    let app = spawn_app().await;
    let all = app
        .data(
            r#"{ projects(first: 100) { nodes { code status manager { id } } } }"#,
            json!({}),
        )
        .await;
    let all = list(&all["projects"]["nodes"]);
    let statuses: BTreeSet<String> = all
        .iter()
        .filter_map(|p| p["status"].as_str().map(str::to_owned))
        .collect();
    assert!(statuses.len() >= 2, "the demo has projects in two states");
    let q = r#"query($status: [ProjectStatus!], $manager: ID) {
        projects(first: 100, status: $status, managerId: $manager) { nodes { code } } }"#;
    let codes = |v: &Value| -> BTreeSet<String> {
        list(&v["projects"]["nodes"])
            .iter()
            .filter_map(|p| p["code"].as_str().map(str::to_owned))
            .collect()
    };
    for status in &statuses {
        let expected: BTreeSet<String> = all
            .iter()
            .filter(|p| p["status"] == *status.as_str())
            .filter_map(|p| p["code"].as_str().map(str::to_owned))
            .collect();
        let got = app.data(q, json!({ "status": [status] })).await;
        assert_eq!(codes(&got), expected, "projects in {status}");
    }
    let managers: BTreeSet<String> = all
        .iter()
        .filter_map(|p| p["manager"]["id"].as_str().map(str::to_owned))
        .collect();
    assert!(!managers.is_empty(), "the demo's projects have managers");
    for manager in &managers {
        let expected: BTreeSet<String> = all
            .iter()
            .filter(|p| p["manager"]["id"] == *manager.as_str())
            .filter_map(|p| p["code"].as_str().map(str::to_owned))
            .collect();
        let got = app.data(q, json!({ "manager": manager })).await;
        assert_eq!(codes(&got), expected, "projects managed by {manager}");
        let status = statuses.iter().next().cloned().unwrap_or_default();
        let both = app
            .data(q, json!({ "manager": manager, "status": [status] }))
            .await;
        let narrowed: BTreeSet<String> = all
            .iter()
            .filter(|p| p["manager"]["id"] == *manager.as_str() && p["status"] == *status.as_str())
            .filter_map(|p| p["code"].as_str().map(str::to_owned))
            .collect();
        assert_eq!(codes(&both), narrowed, "{manager} and {status} together");
    }
}
