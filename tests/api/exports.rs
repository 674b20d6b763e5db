//! CSV exports for reporting tools: the same filters as GraphQL, RFC 4180 quoting, the same
//! authentication.

use std::collections::BTreeSet;

use portfolio::config::ServeArgs;
use serde_json::json;

use crate::helpers::{TestApp, spawn_app, spawn_with};
use crate::ops::*;

/// GETs an export; returns the status and the body.
async fn get(app: &TestApp, path: &str, token: Option<&str>) -> (u16, String, String) {
    let mut req = app.client.get(format!("{}{path}", app.address));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("request sent");
    let status = res.status().as_u16();
    let kind = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (status, kind, res.text().await.unwrap_or_default())
}

/// The records of a CSV body, header first.
fn records(body: &str) -> Vec<Vec<String>> {
    csv::Reader::from_reader(body.as_bytes())
        .records()
        .map(|r| r.expect("valid CSV").iter().map(str::to_owned).collect())
        .collect()
}

/// The numbers of the changes `changes(filter: …)` returns.
async fn numbers(app: &TestApp, filter: serde_json::Value) -> BTreeSet<String> {
    let d = app
        .data(
            "query($f: ChangeFilter) { changes(first: 100, filter: $f) { nodes { number } } }",
            json!({ "f": filter }),
        )
        .await;
    d["changes"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["number"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn every_change_exports_once_with_the_filters_of_the_graphql_api() {
    let app = spawn_app().await;
    let (status, kind, body) = get(&app, "/export/changes.csv", None).await;
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/csv"), "{kind}");
    assert!(body.starts_with("number,title,type,"), "a header row first");
    let all: BTreeSet<String> = records(&body).into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(all, numbers(&app, json!({})).await);

    let vpn = service_id(&app, "vpn").await;
    let path = format!(
        "/export/changes.csv?status=CLOSED,REVIEW,IMPLEMENTING&risk=HIGH,VERY_HIGH&serviceId={vpn}"
    );
    let (_, _, body) = get(&app, &path, None).await;
    let filtered: BTreeSet<String> = records(&body).into_iter().map(|r| r[0].clone()).collect();
    let expected = numbers(&app, json!({ "status": ["CLOSED", "REVIEW", "IMPLEMENTING"], "risk": ["HIGH", "VERY_HIGH"], "serviceId": vpn })).await;
    assert_eq!(filtered, expected);
    assert!(filtered.len() < all.len(), "the filter filters");
}

#[tokio::test]
async fn fields_with_commas_quotes_and_line_breaks_are_quoted_as_rfc_4180_says() {
    let app = spawn_app().await;
    let title = "Move \"mail\", then\nreboot";
    let requester = app.token("requester");
    draft(&app, &requester, "NORMAL", "LOW", json!({ "title": title })).await;
    let (_, _, body) = get(&app, "/export/changes.csv?search=reboot", None).await;
    assert!(
        body.contains("\"Move \"\"mail\"\", then\nreboot\""),
        "{body}"
    );
    let rows = records(&body);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][1], title);
    assert_eq!(rows[0][7], "laura@portfolio.example");
}

#[tokio::test]
async fn a_bad_filter_is_400_and_a_missing_token_401_when_anonymous_reads_are_off() {
    let app = spawn_app().await;
    for path in [
        "/export/changes.csv?status=NOPE",
        "/export/changes.csv?colour=red",
        "/export/changes.csv?serviceId=garbage",
    ] {
        let (status, _, body) = get(&app, path, None).await;
        assert_eq!(status, 400, "{path}");
        assert!(body.contains("BAD_USER_INPUT"), "{body}");
    }
    let closed = spawn_with(ServeArgs {
        demo: true,
        anonymous_read: Some(false),
        ..ServeArgs::default()
    })
    .await;
    let (status, _, _) = get(&closed, "/export/changes.csv", None).await;
    assert_eq!(status, 401);
    let (status, _, _) = get(
        &closed,
        "/export/changes.csv",
        Some(&closed.token("requester")),
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn releases_export_with_the_release_filters() {
    let app = spawn_app().await;
    let d = app
        .data(r#"{ all: releases(first: 100) { nodes { version status } } done: releases(first: 100, filter: { status: [CLOSED, FAILED] }) { nodes { version } } }"#, json!({}))
        .await;
    let (status, kind, body) = get(&app, "/export/releases.csv", None).await;
    assert_eq!((status, kind.starts_with("text/csv")), (200, true));
    assert!(body.starts_with("name,version,type,status,"));
    let versions = |v: &serde_json::Value| -> BTreeSet<String> {
        v["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["version"].as_str().map(str::to_owned))
            .collect()
    };
    let all: BTreeSet<String> = records(&body).into_iter().map(|r| r[1].clone()).collect();
    assert_eq!(all, versions(&d["all"]));
    let (_, _, body) = get(&app, "/export/releases.csv?status=CLOSED,FAILED", None).await;
    let done: BTreeSet<String> = records(&body).into_iter().map(|r| r[1].clone()).collect();
    assert_eq!(done, versions(&d["done"]));
    let (status, _, _) = get(&app, "/export/releases.csv?risk=HIGH", None).await;
    assert_eq!(status, 400, "risk is a change filter, not a release one");
}

#[tokio::test]
async fn closed_changes_export_their_review() {
    let app = spawn_app().await;
    let (_, _, body) = get(&app, "/export/changes.csv?status=CLOSED", None).await;
    let rows = records(&body);
    assert!(!rows.is_empty(), "the demo has closed changes");
    let header = body.lines().next().unwrap_or_default();
    assert!(
        header.ends_with(",review_summary,objectives_met,follow_up"),
        "{header}"
    );
    // Every closed NORMAL or EMERGENCY change carries its review; columns 16–18.
    for r in rows.iter().filter(|r| r[2] != "STANDARD") {
        assert!(!r[16].is_empty() && r[17] == "true", "{r:?}");
    }
}

#[tokio::test]
async fn services_export_with_the_service_filters_and_their_dependency_keys() {
    let app = spawn_app().await;
    let (status, _, body) = get(&app, "/export/services.csv", None).await;
    assert_eq!(status, 200);
    let rows = records(&body);
    let header = [
        "key",
        "name",
        "lifecycle",
        "criticality",
        "scope",
        "owner",
        "depends_on",
        "dependents",
    ];
    assert!(body.starts_with(&header.join(",")), "{body}");
    // Each row's dependency columns are the keys GraphQL gives, sorted.
    let q = "{ services(first: 100) { nodes { key owner { email } dependsOn(first: 100) { nodes { key } } dependents(first: 100) { nodes { key } } } } }";
    let services = app.data(q, json!({})).await["services"]["nodes"].clone();
    let listed = |v: &serde_json::Value| {
        let mut keys: Vec<&str> = v["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|n| n["key"].as_str())
            .collect();
        keys.sort_unstable();
        keys.join(" ")
    };
    let nodes = services.as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), nodes.len());
    for s in &nodes {
        let row = rows
            .iter()
            .find(|r| s["key"] == r[0].as_str())
            .expect("every service exported");
        assert_eq!(row[5], s["owner"]["email"].as_str().unwrap_or(""));
        assert_eq!(row[6], listed(&s["dependsOn"]), "{row:?}");
        assert_eq!(row[7], listed(&s["dependents"]), "{row:?}");
    }
    let payroll = rows.iter().find(|r| r[0] == "payroll").expect("payroll");
    assert_eq!(payroll[6], "hr-portal identity-sso");
    // The filters mean what they mean in GraphQL.
    let (_, _, critical) = get(
        &app,
        "/export/services.csv?criticality=CRITICAL&lifecycle=LIVE,PIPELINE&scope=Americas,EMEA",
        None,
    )
    .await;
    let q = "{ services(first: 100, filter: { criticality: [CRITICAL], lifecycle: [LIVE, PIPELINE], scope: [\"Americas\", \"EMEA\"] }) { nodes { key } } }";
    let want: BTreeSet<String> = app.data(q, json!({})).await["services"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n["key"].as_str().map(str::to_owned))
        .collect();
    let got: BTreeSet<String> = records(&critical)
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got, want);
    let (status, _, _) = get(&app, "/export/services.csv?risk=HIGH", None).await;
    assert_eq!(status, 400, "a filter services do not have");
}
