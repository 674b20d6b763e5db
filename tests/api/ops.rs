//! GraphQL documents and small steps shared by the governance tests.

use serde_json::{Value, json};

use crate::helpers::TestApp;

/// Fields read back from every change mutation.
const CHANGE: &str = "id number status version outcome approvalCount requiredApprovals \
    plannedStart plannedEnd submittedAt authorizedAt startedAt completedAt closedAt \
    cancellationReason activeRelease { id status } \
    review { summary objectivesMet followUp reviewedAt reviewedBy { email } }";

/// Fields read back from every release mutation.
const RELEASE: &str = "id status revision deployedAt \
    changes { nodes { id number status outcome } }";

/// A change mutation by name, with its arguments' declarations and uses.
fn change_doc(name: &str) -> String {
    let (decl, args) = match name {
        "createChange" => ("$input: CreateChangeInput!", "input: $input"),
        "updateChange" => (
            "$id: ID!, $input: UpdateChangeInput!, $v: Int",
            "id: $id, input: $input, expectedVersion: $v",
        ),
        "approveChange" => (
            "$id: ID!, $comment: String, $v: Int",
            "id: $id, comment: $comment, expectedVersion: $v",
        ),
        "rejectChange" => (
            "$id: ID!, $comment: String!, $v: Int",
            "id: $id, comment: $comment, expectedVersion: $v",
        ),
        "scheduleChange" => (
            "$id: ID!, $start: DateTime!, $end: DateTime!, $v: Int",
            "id: $id, plannedStart: $start, plannedEnd: $end, expectedVersion: $v",
        ),
        "completeChange" => (
            "$id: ID!, $outcome: ChangeOutcome!, $v: Int",
            "id: $id, outcome: $outcome, expectedVersion: $v",
        ),
        "closeChange" => (
            "$id: ID!, $review: ChangeReviewInput, $v: Int",
            "id: $id, review: $review, expectedVersion: $v",
        ),
        "cancelChange" => (
            "$id: ID!, $reason: String!, $v: Int",
            "id: $id, reason: $reason, expectedVersion: $v",
        ),
        _ => ("$id: ID!, $v: Int", "id: $id, expectedVersion: $v"),
    };
    format!("mutation({decl}) {{ {name}({args}) {{ {CHANGE} }} }}")
}

/// Runs change mutation `name` as `token`; returns the whole response.
pub async fn change_op(app: &TestApp, token: &str, name: &str, vars: Value) -> Value {
    app.post_as(Some(token), &change_doc(name), vars).await
}

/// Runs change mutation `name` as `token`; it must succeed. Returns the change.
pub async fn change_ok(app: &TestApp, token: &str, name: &str, vars: Value) -> Value {
    app.ok_as(token, &change_doc(name), vars).await[name].clone()
}

/// Runs change mutation `name` as `token`; it must fail. Returns the code and message.
pub async fn change_fails(app: &TestApp, token: &str, name: &str, vars: Value) -> (String, String) {
    app.fails_as(token, &change_doc(name), vars).await
}

/// A release mutation by name.
fn release_doc(name: &str) -> String {
    let (decl, args) = match name {
        "createRelease" => ("$input: CreateReleaseInput!", "input: $input"),
        "advanceRelease" => (
            "$id: ID!, $to: ReleaseStatus!, $reason: String, $v: Int",
            "id: $id, to: $to, reason: $reason, expectedVersion: $v",
        ),
        "updateRelease" => (
            "$id: ID!, $prev: ID, $v: Int, $start: DateTime, $end: DateTime",
            "id: $id, previousReleaseId: $prev, expectedVersion: $v, plannedStart: $start, plannedEnd: $end",
        ),
        "addServiceToRelease" | "removeServiceFromRelease" => (
            "$release: ID!, $service: ID!",
            "releaseId: $release, serviceId: $service",
        ),
        _ => (
            "$release: ID!, $change: ID!",
            "releaseId: $release, changeId: $change",
        ),
    };
    format!("mutation({decl}) {{ {name}({args}) {{ {RELEASE} }} }}")
}

/// Runs release mutation `name` as `token`; returns the whole response.
pub async fn release_op(app: &TestApp, token: &str, name: &str, vars: Value) -> Value {
    app.post_as(Some(token), &release_doc(name), vars).await
}

/// Runs release mutation `name` as `token`; it must succeed. Returns the release.
pub async fn release_ok(app: &TestApp, token: &str, name: &str, vars: Value) -> Value {
    app.ok_as(token, &release_doc(name), vars).await[name].clone()
}

/// Runs release mutation `name` as `token`; it must fail. Returns the code and message.
pub async fn release_fails(
    app: &TestApp,
    token: &str,
    name: &str,
    vars: Value,
) -> (String, String) {
    app.fails_as(token, &release_doc(name), vars).await
}

/// The global ID of the service with `key`.
pub async fn service_id(app: &TestApp, key: &str) -> String {
    let d = app
        .data(
            "query($k: String!) { service(key: $k) { id } }",
            json!({ "k": key }),
        )
        .await;
    d["service"]["id"]
        .as_str()
        .expect("service exists")
        .to_owned()
}

/// The global ID of the change model with `key`.
pub async fn model_id(app: &TestApp, key: &str) -> String {
    let d = app
        .data(
            "query($k: String!) { changeModel(key: $k) { id } }",
            json!({ "k": key }),
        )
        .await;
    d["changeModel"]["id"]
        .as_str()
        .expect("model exists")
        .to_owned()
}

/// The global ID of the project with `code`.
pub async fn project_id(app: &TestApp, code: &str) -> String {
    let d = app
        .data(
            "query($c: String!) { project(code: $c) { id } }",
            json!({ "c": code }),
        )
        .await;
    d["project"]["id"]
        .as_str()
        .expect("project exists")
        .to_owned()
}

/// The input of a change touching the VPN, with `overrides` merged in.
pub async fn change_input(app: &TestApp, ty: &str, risk: &str, overrides: Value) -> Value {
    let mut input = json!({
        "title": format!("{ty} change at {risk} risk"),
        "category": "INFRASTRUCTURE",
        "type": ty,
        "risk": risk,
        "serviceIds": [service_id(app, "vpn").await],
    });
    if let (Some(obj), Some(extra)) = (input.as_object_mut(), overrides.as_object()) {
        for (k, v) in extra {
            obj.insert(k.clone(), v.clone());
        }
    }
    input
}

/// Creates a change as `token` and returns its ID.
pub async fn draft(app: &TestApp, token: &str, ty: &str, risk: &str, overrides: Value) -> String {
    let input = change_input(app, ty, risk, overrides).await;
    let c = change_ok(app, token, "createChange", json!({ "input": input })).await;
    c["id"].as_str().expect("an id").to_owned()
}

/// A planned window in December 2026.
pub fn window(day: u32) -> Value {
    json!({
        "start": format!("2026-12-{day:02}T20:00:00Z"),
        "end": format!("2026-12-{day:02}T23:00:00Z"),
    })
}

/// A window of `hours` starting at 20:00 UTC `days` days from now, as RFC 3339 texts.
pub fn window_from_now(days: i64, hours: i64) -> (String, String) {
    let start = (chrono::Utc::now() + chrono::Duration::days(days))
        .date_naive()
        .and_hms_opt(20, 0, 0)
        .expect("a valid time")
        .and_utc();
    let end = start + chrono::Duration::hours(hours);
    (start.to_rfc3339(), end.to_rfc3339())
}

/// Drafts a NORMAL change as the requester, submits it and has Alice (the
/// change-management owner) approve it: an AUTHORIZED change.
pub async fn authorized(app: &TestApp) -> String {
    let requester = app.token("requester");
    let id = draft(app, &requester, "NORMAL", "MEDIUM", json!({})).await;
    change_ok(app, &requester, "submitChange", json!({ "id": id })).await;
    let c = change_ok(
        app,
        &app.token("admin"),
        "approveChange",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(c["status"], "AUTHORIZED");
    id
}

/// Merges `id` into a window's variables.
pub fn with_id(id: &str, mut vars: Value) -> Value {
    if let Some(obj) = vars.as_object_mut() {
        obj.insert("id".into(), json!(id));
    }
    vars
}

/// Has Alice declare blackout window `name` from an hour ago to two days from now, covering
/// `services` (none: every service). Returns its `id`.
pub async fn freeze_now(app: &TestApp, name: &str, services: Vec<String>) -> Value {
    let now = chrono::Utc::now();
    let (from, to) = (
        now - chrono::Duration::hours(1),
        now + chrono::Duration::days(2),
    );
    let q = "mutation($name: String!, $from: DateTime!, $to: DateTime!, $services: [ID!]) {
      createBlackoutWindow(name: $name, reason: \"Freeze\", startsAt: $from, endsAt: $to, serviceIds: $services) { id } }";
    let vars = json!({ "name": name, "from": from.to_rfc3339(), "to": to.to_rfc3339(), "services": services });
    app.ok_as(&app.token("admin"), q, vars).await["createBlackoutWindow"].clone()
}

/// The `availableTransitions` entry of `action` (e.g. `START`) for change `id`, as `token`
/// sees it.
pub async fn change_transition(app: &TestApp, token: &str, id: &str, action: &str) -> Value {
    let q = "query($id: ID!) { node(id: $id) { ... on Change { availableTransitions { action toStatus allowed reason code } } } }";
    let moves = app.ok_as(token, q, json!({ "id": id })).await;
    moves["node"]["availableTransitions"]
        .as_array()
        .and_then(|m| m.iter().find(|t| t["action"] == action))
        .cloned()
        .unwrap_or_default()
}
