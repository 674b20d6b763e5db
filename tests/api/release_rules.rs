//! Release management under the authority of Change: rules 5–7 of DESIGN.md §3 and the
//! release-management role of rule 8.

use entity::TokenScope;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::ops::*;

/// Creates a release as Farid (release-management owner) packaging `changes`.
async fn release_with(app: &TestApp, changes: &[&str], extra: Value) -> Value {
    // A deployment window tomorrow evening, which DEPLOYED needs.
    let (start, end) = window_from_now(1, 2);
    let mut input = json!({ "name": "Remote access refresh", "version": "1.0", "type": "MINOR", "changeIds": changes,
        "plannedStart": start, "plannedEnd": end });
    if let (Some(obj), Some(more)) = (input.as_object_mut(), extra.as_object()) {
        for (k, v) in more {
            obj.insert(k.clone(), v.clone());
        }
    }
    release_ok(
        app,
        &app.token("release"),
        "createRelease",
        json!({ "input": input }),
    )
    .await
}

/// Moves a release through `steps` as Farid.
async fn advance(app: &TestApp, id: &Value, steps: &[&str]) -> Value {
    let mut last = Value::Null;
    for to in steps {
        last = release_ok(
            app,
            &app.token("release"),
            "advanceRelease",
            json!({ "id": id, "to": to }),
        )
        .await;
    }
    last
}

fn statuses(release: &Value) -> Vec<(String, String)> {
    release["changes"]["nodes"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| {
                    (
                        c["status"].as_str().unwrap_or("").to_owned(),
                        c["outcome"].as_str().unwrap_or("-").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_release_is_run_by_release_management_only() {
    let app = spawn_app().await;
    let input = json!({ "input": { "name": "X", "version": "1", "type": "PATCH" } });
    for token in [app.token("requester"), app.token("admin")] {
        let (code, message) = release_fails(&app, &token, "createRelease", input.clone()).await;
        assert_eq!(code, "FORBIDDEN");
        assert!(message.contains("release-management"), "{message}");
    }
    let grace = app.token_of("grace", TokenScope::Write).await;
    let r = release_ok(&app, &grace, "createRelease", input).await;
    assert_eq!(
        (r["status"].as_str(), r["revision"].as_i64()),
        (Some("PLANNED"), Some(1))
    );
    let read_only = app.token_of("farid", TokenScope::Read).await;
    let (code, _) = release_fails(
        &app,
        &read_only,
        "advanceRelease",
        json!({ "id": r["id"], "to": "CANCELLED", "reason": "x" }),
    )
    .await;
    assert_eq!(code, "FORBIDDEN", "a READ token never writes");
}

#[tokio::test]
async fn a_release_needs_a_change_before_it_starts_building() {
    let app = spawn_app().await;
    let r = release_with(&app, &[], json!({})).await;
    let (code, message) = release_fails(
        &app,
        &app.token("release"),
        "advanceRelease",
        json!({ "id": r["id"], "to": "BUILDING" }),
    )
    .await;
    assert_eq!(code, "INVALID_TRANSITION");
    assert!(message.contains("no change"), "{message}");
    let id = authorized(&app).await;
    release_ok(
        &app,
        &app.token("release"),
        "addChangeToRelease",
        json!({ "release": r["id"], "change": id }),
    )
    .await;
    let r = advance(&app, &r["id"], &["BUILDING"]).await;
    assert_eq!(r["status"], "BUILDING");
}

#[tokio::test]
async fn a_release_skipping_a_state_is_refused_naming_both_states() {
    let app = spawn_app().await;
    let id = authorized(&app).await;
    let r = release_with(&app, &[&id], json!({})).await;
    let (code, message) = release_fails(
        &app,
        &app.token("release"),
        "advanceRelease",
        json!({ "id": r["id"], "to": "DEPLOYED" }),
    )
    .await;
    assert_eq!(code, "INVALID_TRANSITION");
    assert!(
        message.contains("PLANNED") && message.contains("DEPLOYED"),
        "{message}"
    );
    let (code, _) = release_fails(
        &app,
        &app.token("release"),
        "advanceRelease",
        json!({ "id": r["id"], "to": "CANCELLED" }),
    )
    .await;
    assert_eq!(code, "BAD_USER_INPUT", "cancelling says why");
}

#[tokio::test]
async fn a_release_deploys_only_when_every_change_is_authorized_then_starts_and_completes_them() {
    let app = spawn_app().await;
    let requester = app.token("requester");
    let ready = authorized(&app).await;
    let scheduled = authorized(&app).await;
    change_ok(
        &app,
        &app.token("admin"),
        "scheduleChange",
        with_id(&scheduled, window(5)),
    )
    .await;
    let pending = draft(&app, &requester, "NORMAL", "LOW", json!({})).await;
    change_ok(&app, &requester, "submitChange", json!({ "id": pending })).await;
    let r = release_with(&app, &[&ready, &scheduled, &pending], json!({})).await;
    advance(&app, &r["id"], &["BUILDING", "TESTING", "READY"]).await;

    let query = "query($id: ID!) { node(id: $id) { ... on Release { availableTransitions { toStatus allowed reason code } } } }";
    let moves = app
        .ok_as(&app.token("release"), query, json!({ "id": r["id"] }))
        .await;
    let deploy = moves["node"]["availableTransitions"]
        .as_array()
        .and_then(|m| m.iter().find(|t| t["toStatus"] == "DEPLOYED"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(deploy["allowed"], false);
    let number_of_pending = app
        .data(
            "query($id: ID!) { node(id: $id) { ... on Change { number } } }",
            json!({ "id": pending }),
        )
        .await["node"]["number"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    assert!(
        deploy["reason"]
            .as_str()
            .unwrap_or("")
            .contains(&number_of_pending),
        "{deploy}"
    );
    let (code, message) = release_fails(
        &app,
        &app.token("release"),
        "advanceRelease",
        json!({ "id": r["id"], "to": "DEPLOYED" }),
    )
    .await;
    assert_eq!(code, "INVALID_TRANSITION");
    assert!(
        message.contains(&number_of_pending) && message.contains("SUBMITTED"),
        "{message}"
    );

    change_ok(
        &app,
        &app.token("admin"),
        "approveChange",
        json!({ "id": pending }),
    )
    .await;
    let deployed = advance(&app, &r["id"], &["DEPLOYED"]).await;
    assert!(!deployed["deployedAt"].is_null());
    assert!(
        statuses(&deployed).iter().all(|(s, _)| s == "IMPLEMENTING"),
        "{deployed}"
    );
    // While the release holds them, only the release moves its changes (rule 7).
    let (code, _) = change_fails(
        &app,
        &app.token("admin"),
        "completeChange",
        json!({ "id": ready, "outcome": "SUCCESSFUL" }),
    )
    .await;
    assert_eq!(code, "INVALID_TRANSITION");
    let closed = advance(&app, &r["id"], &["CLOSED"]).await;
    assert!(
        statuses(&closed)
            .iter()
            .all(|(s, o)| s == "REVIEW" && o == "SUCCESSFUL"),
        "{closed}"
    );
}

#[tokio::test]
async fn failing_a_deployed_release_backs_its_changes_out() {
    let app = spawn_app().await;
    let id = authorized(&app).await;
    let r = release_with(&app, &[&id], json!({})).await;
    advance(
        &app,
        &r["id"],
        &["BUILDING", "TESTING", "READY", "DEPLOYED"],
    )
    .await;
    let failed = release_ok(
        &app,
        &app.token("release"),
        "advanceRelease",
        json!({ "id": r["id"], "to": "FAILED", "reason": "smoke tests failed" }),
    )
    .await;
    assert_eq!(failed["status"], "FAILED");
    assert_eq!(
        statuses(&failed),
        [("REVIEW".to_owned(), "BACKED_OUT".to_owned())]
    );
}

#[tokio::test]
async fn failing_before_deployment_leaves_the_changes_free_to_join_another_release() {
    let app = spawn_app().await;
    let id = authorized(&app).await;
    let first = release_with(&app, &[&id], json!({})).await;
    let farid = app.token("release");
    let second = release_with(&app, &[], json!({ "version": "1.1" })).await;
    let (code, message) = release_fails(
        &app,
        &farid,
        "addChangeToRelease",
        json!({ "release": second["id"], "change": id }),
    )
    .await;
    assert_eq!(code, "CONFLICT", "a change is in at most one live release");
    assert!(message.contains("Remote access refresh"), "{message}");
    advance(&app, &first["id"], &["BUILDING"]).await;
    let failed = release_ok(
        &app,
        &farid,
        "advanceRelease",
        json!({ "id": first["id"], "to": "FAILED", "reason": "build broke" }),
    )
    .await;
    assert_eq!(
        statuses(&failed),
        [("AUTHORIZED".to_owned(), "-".to_owned())]
    );
    let joined = release_ok(
        &app,
        &farid,
        "addChangeToRelease",
        json!({ "release": second["id"], "change": id }),
    )
    .await;
    assert_eq!(joined["changes"]["nodes"][0]["id"], id.as_str());
}

#[tokio::test]
async fn a_sequential_release_deploys_only_after_its_previous_one() {
    let app = spawn_app().await;
    let farid = app.token("release");
    let (a, b) = (authorized(&app).await, authorized(&app).await);
    let first = release_with(&app, &[&a], json!({})).await;
    let second = release_with(
        &app,
        &[&b],
        json!({ "version": "2.0", "previousReleaseId": first["id"] }),
    )
    .await;
    advance(&app, &second["id"], &["BUILDING", "TESTING", "READY"]).await;
    let (code, message) = release_fails(
        &app,
        &farid,
        "advanceRelease",
        json!({ "id": second["id"], "to": "DEPLOYED" }),
    )
    .await;
    assert_eq!(code, "INVALID_TRANSITION");
    assert!(message.contains("previous release"), "{message}");
    advance(
        &app,
        &first["id"],
        &["BUILDING", "TESTING", "READY", "DEPLOYED"],
    )
    .await;
    let deployed = advance(&app, &second["id"], &["DEPLOYED"]).await;
    assert_eq!(deployed["status"], "DEPLOYED");
}

#[tokio::test]
async fn release_sequences_are_chains_without_cycles() {
    let app = spawn_app().await;
    let farid = app.token("release");
    let first = release_with(&app, &[], json!({})).await;
    let second = release_with(
        &app,
        &[],
        json!({ "version": "2", "previousReleaseId": first["id"] }),
    )
    .await;
    let input = json!({ "input": { "name": "Other", "version": "9", "type": "PATCH", "previousReleaseId": first["id"] } });
    let (code, _) = release_fails(&app, &farid, "createRelease", input).await;
    assert_eq!(
        code, "CONFLICT",
        "a release is the previous of at most one release"
    );
    let (code, message) = release_fails(
        &app,
        &farid,
        "updateRelease",
        json!({ "id": first["id"], "prev": second["id"] }),
    )
    .await;
    assert_eq!(code, "BAD_USER_INPUT");
    assert!(message.contains("cycle"), "{message}");
    let (code, _) = release_fails(
        &app,
        &farid,
        "updateRelease",
        json!({ "id": first["id"], "prev": first["id"] }),
    )
    .await;
    assert_eq!(code, "BAD_USER_INPUT");
}

#[tokio::test]
async fn cancelling_a_change_takes_it_out_of_its_release_unless_it_is_the_last_one_past_planned() {
    let app = spawn_app().await;
    let requester = app.token("requester");
    let (a, b) = (authorized(&app).await, authorized(&app).await);
    let r = release_with(&app, &[&a, &b], json!({})).await;
    advance(&app, &r["id"], &["BUILDING"]).await;
    let c = change_ok(
        &app,
        &requester,
        "cancelChange",
        json!({ "id": a, "reason": "not needed" }),
    )
    .await;
    assert_eq!(
        (c["status"].as_str(), c["activeRelease"].is_null()),
        (Some("CANCELLED"), true)
    );
    let (code, message) = change_fails(
        &app,
        &requester,
        "cancelChange",
        json!({ "id": b, "reason": "not needed" }),
    )
    .await;
    assert_eq!(code, "CONFLICT");
    assert!(message.contains("only change"), "{message}");
    let release = app
        .data(
            "query($id: ID!) { node(id: $id) { ... on Release { changes { nodes { id } } } } }",
            json!({ "id": r["id"] }),
        )
        .await;
    assert_eq!(release["node"]["changes"]["nodes"], json!([{ "id": b }]));
}

#[tokio::test]
async fn closed_rejected_or_cancelled_changes_join_no_release_and_membership_freezes_after_ready() {
    let app = spawn_app().await;
    let requester = app.token("requester");
    let farid = app.token("release");
    let cancelled = draft(&app, &requester, "NORMAL", "LOW", json!({})).await;
    change_ok(
        &app,
        &requester,
        "cancelChange",
        json!({ "id": cancelled, "reason": "dup" }),
    )
    .await;
    let r = release_with(&app, &[], json!({})).await;
    let (code, message) = release_fails(
        &app,
        &farid,
        "addChangeToRelease",
        json!({ "release": r["id"], "change": cancelled }),
    )
    .await;
    assert_eq!(code, "CONFLICT");
    assert!(message.contains("CANCELLED"), "{message}");
    let id = authorized(&app).await;
    let other = authorized(&app).await;
    release_ok(
        &app,
        &farid,
        "addChangeToRelease",
        json!({ "release": r["id"], "change": id }),
    )
    .await;
    advance(
        &app,
        &r["id"],
        &["BUILDING", "TESTING", "READY", "DEPLOYED"],
    )
    .await;
    let (code, _) = release_fails(
        &app,
        &farid,
        "addChangeToRelease",
        json!({ "release": r["id"], "change": other }),
    )
    .await;
    assert_eq!(code, "CONFLICT");
    let (code, _) = release_fails(
        &app,
        &farid,
        "removeChangeFromRelease",
        json!({ "release": r["id"], "change": id }),
    )
    .await;
    assert_eq!(code, "CONFLICT");
}

#[tokio::test]
async fn services_join_a_release_unless_retired() {
    let app = spawn_app().await;
    let farid = app.token("release");
    let r = release_with(&app, &[], json!({})).await;
    let vpn = service_id(&app, "vpn").await;
    let fax = service_id(&app, "legacy-fax").await;
    release_ok(
        &app,
        &farid,
        "addServiceToRelease",
        json!({ "release": r["id"], "service": vpn }),
    )
    .await;
    let (code, _) = release_fails(
        &app,
        &farid,
        "addServiceToRelease",
        json!({ "release": r["id"], "service": vpn }),
    )
    .await;
    assert_eq!(code, "CONFLICT");
    let (code, _) = release_fails(
        &app,
        &farid,
        "addServiceToRelease",
        json!({ "release": r["id"], "service": fax }),
    )
    .await;
    assert_eq!(code, "CONFLICT");
    release_ok(
        &app,
        &farid,
        "removeServiceFromRelease",
        json!({ "release": r["id"], "service": vpn }),
    )
    .await;
    let (code, _) = release_fails(
        &app,
        &farid,
        "removeServiceFromRelease",
        json!({ "release": r["id"], "service": vpn }),
    )
    .await;
    assert_eq!(code, "NOT_FOUND");
}

/// The `availableTransitions` entry towards `to` of release `id`, as Farid sees it.
async fn release_move(app: &TestApp, id: &Value, to: &str) -> Value {
    let q = "query($id: ID!) { node(id: $id) { ... on Release { availableTransitions { toStatus allowed reason code } } } }";
    let moves = app
        .ok_as(&app.token("release"), q, json!({ "id": id }))
        .await;
    moves["node"]["availableTransitions"]
        .as_array()
        .and_then(|m| m.iter().find(|t| t["toStatus"] == to))
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn a_release_deploys_only_in_a_planned_window_and_never_into_a_blackout_window() {
    let app = spawn_app().await;
    let farid = app.token("release");
    let vpn = service_id(&app, "vpn").await;
    let change = authorized(&app).await; // touches the VPN
    let r = release_with(
        &app,
        &[&change],
        json!({ "plannedStart": null, "plannedEnd": null }),
    )
    .await;
    advance(&app, &r["id"], &["BUILDING", "TESTING", "READY"]).await;

    let deploy = json!({ "id": r["id"], "to": "DEPLOYED" });
    let (code, message) = release_fails(&app, &farid, "advanceRelease", deploy.clone()).await;
    assert_eq!(code, "INVALID_TRANSITION");
    assert!(message.contains("planned window"), "{message}");
    let shown = release_move(&app, &r["id"], "DEPLOYED").await;
    assert_eq!(
        (&shown["code"], &shown["reason"]),
        (&json!(code), &json!(message))
    );

    let (start, end) = window_from_now(0, 3);
    release_ok(
        &app,
        &farid,
        "updateRelease",
        json!({ "id": r["id"], "start": start, "end": end }),
    )
    .await;
    let frozen = freeze_now(&app, "Quarter close", vec![vpn]).await;
    let (code, message) = release_fails(&app, &farid, "advanceRelease", deploy.clone()).await;
    assert_eq!(code, "CONFLICT");
    assert!(
        message.contains("Quarter close") && message.contains("`vpn`"),
        "{message}"
    );
    let shown = release_move(&app, &r["id"], "DEPLOYED").await;
    assert_eq!(
        (&shown["allowed"], &shown["code"], &shown["reason"]),
        (&json!(false), &json!(code), &json!(message)),
        "availableTransitions says what the mutation says"
    );
    let still = app
        .data(
            "query($id: ID!) { node(id: $id) { ... on Release { status deployedAt changes { nodes { status } } } } }",
            json!({ "id": r["id"] }),
        )
        .await;
    assert_eq!(still["node"]["status"], "READY");
    assert!(still["node"]["deployedAt"].is_null());
    assert_eq!(still["node"]["changes"]["nodes"][0]["status"], "AUTHORIZED");

    app.ok_as(
        &app.token("admin"),
        "mutation($id: ID!) { deleteBlackoutWindow(id: $id) }",
        json!({ "id": frozen["id"] }),
    )
    .await;
    assert_eq!(
        release_move(&app, &r["id"], "DEPLOYED").await["allowed"],
        true
    );
    let deployed = release_ok(&app, &farid, "advanceRelease", deploy).await;
    assert_eq!(deployed["status"], "DEPLOYED");
    assert_eq!(deployed["changes"]["nodes"][0]["status"], "IMPLEMENTING");
}

#[tokio::test]
async fn a_release_of_emergency_changes_only_deploys_through_a_blackout_window() {
    let app = spawn_app().await;
    let requester = app.token("requester");
    let deepak = app.token_of("deepak", TokenScope::Write).await;
    let vpn = service_id(&app, "vpn").await;
    let urgent = draft(&app, &requester, "EMERGENCY", "HIGH", json!({})).await;
    change_ok(&app, &requester, "submitChange", json!({ "id": urgent })).await;
    change_ok(&app, &deepak, "approveChange", json!({ "id": urgent })).await;
    freeze_now(&app, "Freeze", vec![vpn]).await;
    let r = release_with(&app, &[&urgent], json!({})).await;
    let deployed = advance(
        &app,
        &r["id"],
        &["BUILDING", "TESTING", "READY", "DEPLOYED"],
    )
    .await;
    assert_eq!(deployed["status"], "DEPLOYED");
    assert_eq!(deployed["changes"]["nodes"][0]["status"], "IMPLEMENTING");
}

#[tokio::test]
async fn the_schedule_lists_live_releases_in_their_windows_and_the_pairs_that_touch_one_service() {
    let app = spawn_app().await;
    let farid = app.token("release");
    let (vpn, email) = (
        service_id(&app, "vpn").await,
        service_id(&app, "email").await,
    );
    // Far beyond the demo's releases: 200 days out.
    let base =
        chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 0) + chrono::Duration::days(200);
    let at = |h: i64| (base + chrono::Duration::hours(h)).to_rfc3339();
    let make = |name: &str, services: Vec<&String>, from: i64, to: i64| {
        json!({ "input": { "name": name, "version": "1", "type": "MINOR", "serviceIds": services,
            "plannedStart": at(from), "plannedEnd": at(to) } })
    };
    let a = release_ok(
        &app,
        &farid,
        "createRelease",
        make("A", vec![&vpn, &email], 0, 4),
    )
    .await;
    let b = release_ok(&app, &farid, "createRelease", make("B", vec![&vpn], 2, 6)).await;
    let c = release_ok(&app, &farid, "createRelease", make("C", vec![&email], 5, 8)).await;
    let d = release_ok(&app, &farid, "createRelease", make("D", vec![&vpn], 3, 5)).await;
    release_ok(
        &app,
        &farid,
        "advanceRelease",
        json!({ "id": d["id"], "to": "CANCELLED", "reason": "dropped" }),
    )
    .await;
    let q = "query($f: DateTime!, $t: DateTime!) { changeSchedule(from: $f, to: $t) {
        releases { id }
        releaseConflicts { service { key } first { id } second { id } overlapStart overlapEnd } } }";
    let s = app.data(q, json!({ "f": at(-24), "t": at(24) })).await["changeSchedule"].clone();
    assert_eq!(
        s["releases"],
        json!([{ "id": a["id"] }, { "id": b["id"] }, { "id": c["id"] }]),
        "live releases by planned start; the cancelled one is off the schedule"
    );
    let overlap_start = chrono::DateTime::parse_from_rfc3339(&at(2)).expect("a time");
    let got = &s["releaseConflicts"];
    assert_eq!(got.as_array().map(Vec::len), Some(1), "{got}");
    assert_eq!(got[0]["service"]["key"], "vpn");
    assert_eq!(
        (&got[0]["first"]["id"], &got[0]["second"]["id"]),
        (&a["id"], &b["id"])
    );
    let reported =
        chrono::DateTime::parse_from_rfc3339(got[0]["overlapStart"].as_str().unwrap_or(""));
    assert_eq!(reported.ok(), Some(overlap_start));
}
