//! The portfolio as it stood at an instant: `asOf`, rebuilt from the audit trail.

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::ops::*;

const AS_OF: &str = "query($at: DateTime!, $n: String!) { asOf(at: $at) { change(number: $n) {
    number title risk status version submittedAt
    approvals { decision approver { email } }
    releases { name status changes { number status } } } } }";

/// Now, then a pause, so that the next write is strictly later.
async fn instant() -> String {
    let at = chrono::Utc::now().to_rfc3339();
    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    at
}

/// The number of change `id`.
async fn number_of(app: &TestApp, id: &str) -> String {
    let q = "query($id: ID!) { node(id: $id) { ... on Change { number } } }";
    let data = app.data(q, json!({ "id": id })).await;
    data["node"]["number"]
        .as_str()
        .expect("a number")
        .to_owned()
}

async fn change_at(app: &TestApp, at: &str, number: &str) -> Value {
    app.data(AS_OF, json!({ "at": at, "n": number })).await["asOf"]["change"].clone()
}

#[tokio::test]
async fn a_change_edited_several_times_reads_back_as_it_was_between_the_edits() {
    let app = spawn_app().await;
    let (requester, admin) = (app.token("requester"), app.token("admin"));
    let before_it = instant().await;
    let id = draft(
        &app,
        &requester,
        "NORMAL",
        "LOW",
        json!({ "title": "First" }),
    )
    .await;
    let number = number_of(&app, &id).await;
    let drafted = instant().await;
    change_ok(
        &app,
        &requester,
        "updateChange",
        json!({ "id": id, "input": { "title": "Second", "risk": "MEDIUM" } }),
    )
    .await;
    let edited = instant().await;
    change_ok(&app, &requester, "submitChange", json!({ "id": id })).await;
    let submitted = instant().await;
    change_ok(&app, &admin, "approveChange", json!({ "id": id })).await;
    let approved = instant().await;

    assert!(
        change_at(&app, &before_it, &number).await.is_null(),
        "not created yet"
    );
    let mut states = Vec::new();
    for at in [&drafted, &edited, &submitted, &approved] {
        let c = change_at(&app, at, &number).await;
        states.push((
            c["title"].clone(),
            c["risk"].clone(),
            c["status"].clone(),
            c["version"].clone(),
            c["approvals"].as_array().map_or(0, Vec::len),
        ));
    }
    assert_eq!(
        states,
        [
            (json!("First"), json!("LOW"), json!("DRAFT"), json!(1), 0),
            (
                json!("Second"),
                json!("MEDIUM"),
                json!("DRAFT"),
                json!(2),
                0
            ),
            (
                json!("Second"),
                json!("MEDIUM"),
                json!("SUBMITTED"),
                json!(3),
                0
            ),
            (
                json!("Second"),
                json!("MEDIUM"),
                json!("AUTHORIZED"),
                json!(4),
                1
            ),
        ]
    );
    let now = change_at(&app, &approved, &number).await;
    assert_eq!(
        now["approvals"][0]["approver"]["email"],
        "alice@portfolio.example"
    );
}

#[tokio::test]
async fn a_release_holds_a_change_as_of_the_instants_between_adding_and_removing_it() {
    let app = spawn_app().await;
    let release = app.token("release");
    let id = authorized(&app).await;
    let number = number_of(&app, &id).await;
    let r = release_ok(
        &app,
        &release,
        "createRelease",
        json!({ "input": { "name": "Then", "version": "1", "type": "PATCH" } }),
    )
    .await["id"]
        .clone();
    let empty = instant().await;
    release_ok(
        &app,
        &release,
        "addChangeToRelease",
        json!({ "release": r, "change": id }),
    )
    .await;
    let holding = instant().await;
    release_ok(
        &app,
        &release,
        "removeChangeFromRelease",
        json!({ "release": r, "change": id }),
    )
    .await;
    let removed = instant().await;
    let names = |c: &Value| -> Vec<String> {
        c["releases"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["name"].as_str().map(str::to_owned))
            .collect()
    };
    assert!(names(&change_at(&app, &empty, &number).await).is_empty());
    let then = change_at(&app, &holding, &number).await;
    assert_eq!(names(&then), ["Then"]);
    assert_eq!(then["releases"][0]["changes"][0]["number"], number.as_str());
    assert!(names(&change_at(&app, &removed, &number).await).is_empty());
}

#[tokio::test]
async fn as_of_refuses_kinds_it_does_not_rebuild_and_costs_the_same_statements_for_more_changes() {
    let app = spawn_app().await;
    let admin = app.token("admin");
    let q = "query($at: DateTime!, $id: ID!) { asOf(at: $at) { node(id: $id) { __typename } } }";
    let partner = app
        .ok_as(
            &admin,
            r#"mutation { createPartner(name: "P", kind: VENDOR) { id } }"#,
            json!({}),
        )
        .await["createPartner"]["id"]
        .clone();
    let now = chrono::Utc::now().to_rfc3339();
    let (code, message) = app
        .fails_as(&admin, q, json!({ "at": now, "id": partner }))
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
    assert!(message.contains("Partner"), "{message}");

    // A release holding one change, then three: the snapshot costs the same statements.
    let release = app.token("release");
    let r = release_ok(
        &app,
        &release,
        "createRelease",
        json!({ "input": { "name": "Batch", "version": "1", "type": "PATCH" } }),
    )
    .await["id"]
        .clone();
    let snapshot = "query($at: DateTime!, $r: ID!) { asOf(at: $at) { release(id: $r) {
        name changes { number status approvals { decision } releases { name } } } } }";
    let mut spent = Vec::new();
    for n in [1, 2] {
        for _ in 0..n {
            let c = authorized(&app).await;
            release_ok(
                &app,
                &release,
                "addChangeToRelease",
                json!({ "release": r, "change": c }),
            )
            .await;
        }
        let at = instant().await;
        app.ok_as(&admin, snapshot, json!({ "at": at, "r": r }))
            .await;
        let before = app.statements().await;
        let data = app
            .ok_as(&admin, snapshot, json!({ "at": at, "r": r }))
            .await;
        spent.push((
            app.statements().await - before,
            data["asOf"]["release"]["changes"]
                .as_array()
                .map_or(0, Vec::len),
        ));
    }
    assert_eq!(spent[0].1 + 2, spent[1].1, "{spent:?}");
    assert_eq!(
        spent[0].0, spent[1].0,
        "statements must not grow with the changes: {spent:?}"
    );
}

#[tokio::test]
async fn a_node_of_a_snapshot_is_the_change_as_it_stood() {
    let app = spawn_app().await;
    let id = draft(
        &app,
        &app.token("requester"),
        "NORMAL",
        "LOW",
        json!({ "title": "Node" }),
    )
    .await;
    let at = instant().await;
    let q = "query($at: DateTime!, $id: ID!) { asOf(at: $at) { node(id: $id) {
        __typename ... on ChangeAsOf { id title status } } } }";
    let node = app.data(q, json!({ "at": at, "id": id })).await["asOf"]["node"].clone();
    assert_eq!(
        node,
        json!({ "__typename": "ChangeAsOf", "id": id, "title": "Node", "status": "DRAFT" })
    );
}
