//! Optimistic concurrency (rule 11): of concurrent writers relying on the same row version,
//! exactly one wins; the others get CONFLICT and change nothing. On SQLite the database is
//! a file with a pool of connections, so the writers really race.

use entity::TokenScope;
use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_on_disk};
use crate::ops::*;

fn codes(responses: &[Value]) -> (usize, Vec<String>) {
    let wins = responses
        .iter()
        .filter(|r| r.get("errors").is_none())
        .count();
    let losses = responses
        .iter()
        .filter_map(|r| r["errors"][0]["extensions"]["code"].as_str())
        .map(str::to_owned)
        .collect();
    (wins, losses)
}

async fn history_count(app: &TestApp, id: &str, action: &str) -> usize {
    let d = app
        .ok_as(
            &app.token("admin"),
            "query($id: ID!) { auditEvents(entityId: $id, first: 100) { nodes { action } } }",
            json!({ "id": id }),
        )
        .await;
    d["auditEvents"]["nodes"]
        .as_array()
        .map(|a| a.iter().filter(|e| e["action"] == action).count())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_updates_with_one_expected_version_have_exactly_one_winner() {
    let app = spawn_on_disk().await;
    let admin = app.token("admin");
    let vpn = service_id(&app, "vpn").await;
    let read = app
        .data(
            "query($id: ID!) { node(id: $id) { ... on Service { version } } }",
            json!({ "id": vpn }),
        )
        .await;
    let seen = read["node"]["version"].as_i64().unwrap_or(0);
    let update = "mutation($id: ID!, $v: Int, $name: String) { updateService(id: $id, expectedVersion: $v, name: $name) { name version } }";
    let responses = join_all((0..20).map(|i| {
        app.post_as(
            Some(&admin),
            update,
            json!({ "id": vpn, "v": seen, "name": format!("VPN {i}") }),
        )
    }))
    .await;
    let (wins, losses) = codes(&responses);
    assert_eq!(wins, 1, "{responses:?}");
    assert_eq!(losses, vec!["CONFLICT".to_owned(); 19]);
    let winner = responses
        .iter()
        .find(|r| r.get("errors").is_none())
        .map(|r| r["data"]["updateService"].clone())
        .unwrap_or_default();
    assert_eq!(winner["version"].as_i64(), Some(seen + 1));
    let now = app
        .data(
            "query($id: ID!) { node(id: $id) { ... on Service { name version } } }",
            json!({ "id": vpn }),
        )
        .await;
    assert_eq!(
        now["node"], winner,
        "the winner's update is the one kept, and no update was lost"
    );
    assert_eq!(
        history_count(&app, &vpn, "UPDATED").await,
        1,
        "one audit event, for the winner"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_deciders_racing_for_the_last_approval_cannot_both_pass() {
    let app = spawn_on_disk().await;
    let requester = app.token("requester");
    let model = model_id(&app, "application-release").await;
    let id = draft(
        &app,
        &requester,
        "NORMAL",
        "HIGH",
        json!({ "modelId": model }),
    )
    .await;
    change_ok(&app, &requester, "submitChange", json!({ "id": id })).await;
    change_ok(
        &app,
        &app.token("admin"),
        "approveChange",
        json!({ "id": id }),
    )
    .await;
    // The managers whose scope covers the VPN: Bob (EMEA) and Deepak (every service).
    let bob = app.token_of("bob", TokenScope::Write).await;
    let deepak = app.token_of("deepak", TokenScope::Write).await;
    let responses = join_all(
        [&bob, &deepak].map(|t| change_op(&app, t, "approveChange", json!({ "id": id, "v": 3 }))),
    )
    .await;
    let (wins, losses) = codes(&responses);
    assert_eq!(wins, 1, "{responses:?}");
    assert!(losses.iter().all(|c| c == "CONFLICT"), "{losses:?}");
    let c = app
        .data(
            "query($id: ID!) { node(id: $id) { ... on Change { status approvals { id } } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(c["node"]["status"], "AUTHORIZED");
    assert_eq!(
        c["node"]["approvals"].as_array().map(Vec::len),
        Some(2),
        "the losers' decisions were rolled back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_change_added_to_two_releases_at_once_joins_only_one() {
    let app = spawn_on_disk().await;
    let farid = app.token("release");
    let id = authorized(&app).await;
    let mut releases = Vec::new();
    for v in ["1", "2", "3", "4"] {
        let r = release_ok(
            &app,
            &farid,
            "createRelease",
            json!({ "input": { "name": "Race", "version": v, "type": "PATCH" } }),
        )
        .await;
        releases.push(r["id"].clone());
    }
    let responses = join_all(releases.iter().map(|r| {
        release_op(
            &app,
            &farid,
            "addChangeToRelease",
            json!({ "release": r, "change": id }),
        )
    }))
    .await;
    let (wins, losses) = codes(&responses);
    assert_eq!(wins, 1, "{responses:?}");
    assert!(losses.iter().all(|c| c == "CONFLICT"), "{losses:?}");
    let c = app
        .data(
            "query($id: ID!) { node(id: $id) { ... on Change { releases { id } } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(c["node"]["releases"].as_array().map(Vec::len), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stale_expected_version_is_a_conflict_that_changes_nothing() {
    let app = spawn_on_disk().await;
    let requester = app.token("requester");
    let id = draft(&app, &requester, "NORMAL", "LOW", json!({})).await;
    change_ok(
        &app,
        &requester,
        "updateChange",
        json!({ "id": id, "input": { "title": "First" }, "v": 1 }),
    )
    .await;
    let (code, message) = change_fails(
        &app,
        &requester,
        "updateChange",
        json!({ "id": id, "input": { "title": "Second" }, "v": 1 }),
    )
    .await;
    assert_eq!(code, "CONFLICT");
    assert!(message.contains("version 2"), "{message}");
    let (code, _) = change_fails(
        &app,
        &requester,
        "submitChange",
        json!({ "id": id, "v": 1 }),
    )
    .await;
    assert_eq!(code, "CONFLICT");
    let c = app
        .data(
            "query($id: ID!) { node(id: $id) { ... on Change { title status version } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        c["node"],
        json!({ "title": "First", "status": "DRAFT", "version": 2 })
    );
}
