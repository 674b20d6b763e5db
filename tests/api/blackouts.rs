//! Blackout windows: only emergency changes may be scheduled into a window that covers one
//! of their services; the forward schedule lists the windows and marks those changes.

use entity::TokenScope;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::ops::*;

const CREATE: &str = "mutation($name: String!, $from: DateTime!, $to: DateTime!, $services: [ID!]) {
  createBlackoutWindow(name: $name, reason: \"Quarter-end close\", startsAt: $from, endsAt: $to, serviceIds: $services) {
    id name version coversAllServices services { key } } }";

/// Declares a window over 10–12 December 2026, covering `services` (none: all).
async fn freeze(app: &TestApp, name: &str, services: Vec<String>) -> Value {
    let vars = json!({ "name": name, "from": "2026-12-10T00:00:00Z", "to": "2026-12-12T00:00:00Z", "services": services });
    app.ok_as(&app.token("admin"), CREATE, vars).await["createBlackoutWindow"].clone()
}

#[tokio::test]
async fn a_normal_change_cannot_be_scheduled_into_a_window_covering_its_service() {
    let app = spawn_app().await;
    let vpn = service_id(&app, "vpn").await;
    let frozen = freeze(&app, "Year-end freeze", vec![vpn]).await;
    assert_eq!(frozen["coversAllServices"], false);
    assert_eq!(frozen["services"], json!([{ "key": "vpn" }]));
    let id = authorized(&app).await;
    let alice = app.token("admin");
    let (code, message) =
        change_fails(&app, &alice, "scheduleChange", with_id(&id, window(11))).await;
    assert_eq!(code, "CONFLICT");
    assert!(message.contains("Year-end freeze"), "{message}");
    let c = change_ok(&app, &alice, "scheduleChange", with_id(&id, window(13))).await;
    assert_eq!(c["status"], "SCHEDULED", "outside the window it is fine");
}

#[tokio::test]
async fn a_window_naming_no_service_freezes_every_service_and_one_naming_another_does_not() {
    let app = spawn_app().await;
    let alice = app.token("admin");
    let email = service_id(&app, "email").await;
    let elsewhere = freeze(&app, "Mail migration", vec![email]).await;
    let id = authorized(&app).await; // touches the VPN
    change_ok(&app, &alice, "scheduleChange", with_id(&id, window(10))).await;
    app.ok_as(
        &alice,
        "mutation($id: ID!) { deleteBlackoutWindow(id: $id) }",
        json!({ "id": elsewhere["id"] }),
    )
    .await;
    let everything = freeze(&app, "Data-centre move", vec![]).await;
    assert_eq!(everything["coversAllServices"], true);
    let other = authorized(&app).await;
    let (code, message) =
        change_fails(&app, &alice, "scheduleChange", with_id(&other, window(11))).await;
    assert_eq!(code, "CONFLICT");
    assert!(message.contains("every service"), "{message}");
}

#[tokio::test]
async fn an_emergency_change_may_be_scheduled_into_a_window_and_the_schedule_marks_it() {
    let app = spawn_app().await;
    let requester = app.token("requester");
    let deepak = app.token_of("deepak", TokenScope::Write).await;
    let vpn = service_id(&app, "vpn").await;
    let frozen = freeze(&app, "Year-end freeze", vec![vpn.clone()]).await;
    let id = draft(&app, &requester, "EMERGENCY", "HIGH", json!({})).await;
    change_ok(&app, &requester, "submitChange", json!({ "id": id })).await;
    change_ok(&app, &deepak, "approveChange", json!({ "id": id })).await;
    let c = change_ok(&app, &deepak, "scheduleChange", with_id(&id, window(11))).await;
    assert_eq!(c["status"], "SCHEDULED");
    let q = "query($s: [ID!]) { changeSchedule(from: \"2026-12-09T00:00:00Z\", to: \"2026-12-14T00:00:00Z\", serviceIds: $s) {
      blackoutWindows { id name } blackoutChanges { change { id } window { id } } } }";
    let schedule = app.data(q, json!({ "s": [vpn] })).await["changeSchedule"].clone();
    assert_eq!(
        schedule["blackoutWindows"],
        json!([{ "id": frozen["id"], "name": "Year-end freeze" }])
    );
    // The emergency change is marked; so may be demo changes on the VPN that the demo's
    // calendar (relative to today) puts in these days, scheduled before the window.
    let marked = schedule["blackoutChanges"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        marked.contains(&json!({ "change": { "id": id }, "window": { "id": frozen["id"] } })),
        "{marked:?}"
    );
    assert!(marked.iter().all(|m| m["window"]["id"] == frozen["id"]));
    let email = service_id(&app, "email").await;
    let unrelated = app.data(q, json!({ "s": [email] })).await["changeSchedule"].clone();
    assert_eq!(
        (
            unrelated["blackoutWindows"].clone(),
            unrelated["blackoutChanges"].clone()
        ),
        (json!([]), json!([]))
    );
}

#[tokio::test]
async fn blackout_windows_are_managed_by_admins_with_valid_periods_and_versions() {
    let app = spawn_app().await;
    let vars =
        json!({ "name": "Freeze", "from": "2026-12-10T00:00:00Z", "to": "2026-12-12T00:00:00Z" });
    let (code, _) = app.fails_as(&app.token("requester"), CREATE, vars).await;
    assert_eq!(code, "FORBIDDEN");
    let backwards =
        json!({ "name": "Freeze", "from": "2026-12-12T00:00:00Z", "to": "2026-12-10T00:00:00Z" });
    let (code, message) = app.fails_as(&app.token("admin"), CREATE, backwards).await;
    assert_eq!(code, "BAD_USER_INPUT");
    assert!(message.contains("startsAt"), "{message}");
    let w = freeze(&app, "Freeze", vec![]).await;
    let update = "mutation($id: ID!, $v: Int, $to: DateTime) { updateBlackoutWindow(id: $id, expectedVersion: $v, endsAt: $to) { endsAt version } }";
    let admin = app.token("admin");
    let moved = app
        .ok_as(
            &admin,
            update,
            json!({ "id": w["id"], "v": 1, "to": "2026-12-13T00:00:00Z" }),
        )
        .await;
    assert_eq!(moved["updateBlackoutWindow"]["version"], 2);
    let (code, _) = app
        .fails_as(
            &admin,
            update,
            json!({ "id": w["id"], "v": 1, "to": "2026-12-14T00:00:00Z" }),
        )
        .await;
    assert_eq!(code, "CONFLICT");
    let listed = app.data("{ blackoutWindows(from: \"2026-12-12T12:00:00Z\", to: \"2026-12-20T00:00:00Z\") { id endsAt } }", json!({})).await;
    assert_eq!(
        listed["blackoutWindows"],
        json!([{ "id": w["id"], "endsAt": "2026-12-13T00:00:00+00:00" }])
    );
    let before = app
        .data(
            "{ blackoutWindows(to: \"2026-12-10T00:00:00Z\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(
        before["blackoutWindows"],
        json!([]),
        "a window ending before the period is not listed"
    );
    app.ok_as(
        &admin,
        "mutation($id: ID!) { deleteBlackoutWindow(id: $id) }",
        json!({ "id": w["id"] }),
    )
    .await;
    let gone = app
        .data(
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": w["id"] }),
        )
        .await;
    assert!(gone["node"].is_null());
}

#[tokio::test]
async fn a_change_does_not_start_inside_a_blackout_window_covering_its_service_unless_it_is_an_emergency()
 {
    let app = spawn_app().await;
    let alice = app.token("admin");
    let vpn = service_id(&app, "vpn").await;
    let id = authorized(&app).await; // touches the VPN
    let (start, end) = window_from_now(1, 3);
    let scheduled = change_ok(
        &app,
        &alice,
        "scheduleChange",
        with_id(&id, json!({ "start": start, "end": end })),
    )
    .await;
    assert_eq!(scheduled["status"], "SCHEDULED", "no window yet");
    let frozen = freeze_now(&app, "Network freeze", vec![vpn.clone()]).await;

    let (code, message) = change_fails(&app, &alice, "startChange", json!({ "id": id })).await;
    assert_eq!(code, "CONFLICT");
    assert!(
        message.contains("Network freeze") && message.contains("`vpn`"),
        "{message}"
    );
    let same = app
        .data(
            "query($id: ID!) { node(id: $id) { ... on Change { status version startedAt } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(same["node"]["status"], "SCHEDULED");
    assert_eq!(same["node"]["version"], scheduled["version"]);
    assert!(same["node"]["startedAt"].is_null());
    let shown = change_transition(&app, &alice, &id, "START").await;
    assert_eq!(
        (
            shown["allowed"].clone(),
            shown["code"].clone(),
            shown["reason"].clone()
        ),
        (json!(false), json!("CONFLICT"), json!(message)),
        "availableTransitions says what the mutation says"
    );

    // An emergency change on the same service goes ahead.
    let requester = app.token("requester");
    let deepak = app.token_of("deepak", TokenScope::Write).await;
    let urgent = draft(&app, &requester, "EMERGENCY", "HIGH", json!({})).await;
    change_ok(&app, &requester, "submitChange", json!({ "id": urgent })).await;
    change_ok(&app, &deepak, "approveChange", json!({ "id": urgent })).await;
    assert_eq!(
        change_transition(&app, &alice, &urgent, "START").await["allowed"],
        true
    );
    let started = change_ok(&app, &alice, "startChange", json!({ "id": urgent })).await;
    assert_eq!(started["status"], "IMPLEMENTING");

    // Once the window is gone, the scheduled change starts.
    app.ok_as(
        &alice,
        "mutation($id: ID!) { deleteBlackoutWindow(id: $id) }",
        json!({ "id": frozen["id"] }),
    )
    .await;
    assert_eq!(
        change_transition(&app, &alice, &id, "START").await["allowed"],
        true
    );
    let started = change_ok(&app, &alice, "startChange", json!({ "id": id })).await;
    assert_eq!(started["status"], "IMPLEMENTING");
}
