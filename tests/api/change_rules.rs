//! The change lifecycle and rules 1–4 and 8 of DESIGN.md §3: each allowed path, and each
//! refused one with its code, leaving the change as it was.

use entity::TokenScope;
use serde_json::json;

use crate::helpers::spawn_app;
use crate::ops::*;

#[tokio::test]
async fn a_normal_change_goes_from_draft_to_closed_through_every_state() {
    let app = spawn_app().await;
    let (requester, alice) = (app.token("requester"), app.token("admin"));
    let erin = app.token_of("erin", TokenScope::Write).await;
    let id = draft(&app, &requester, "NORMAL", "MEDIUM", json!({})).await;

    let c = change_ok(&app, &requester, "submitChange", json!({ "id": id })).await;
    assert_eq!(
        (c["status"].as_str(), c["submittedAt"].is_null()),
        (Some("SUBMITTED"), false)
    );
    let c = change_ok(
        &app,
        &alice,
        "approveChange",
        json!({ "id": id, "comment": "fine" }),
    )
    .await;
    assert_eq!(c["status"], "AUTHORIZED");
    assert_eq!(
        (c["approvalCount"].as_i64(), c["requiredApprovals"].as_i64()),
        (Some(1), Some(1))
    );
    // A practitioner of change-management schedules, implements and reviews.
    let c = change_ok(&app, &erin, "scheduleChange", with_id(&id, window(3))).await;
    assert_eq!(c["status"], "SCHEDULED");
    assert_eq!(c["plannedStart"], "2026-12-03T20:00:00+00:00");
    let c = change_ok(&app, &erin, "startChange", json!({ "id": id })).await;
    assert_eq!(c["status"], "IMPLEMENTING");
    let c = change_ok(
        &app,
        &erin,
        "completeChange",
        json!({ "id": id, "outcome": "SUCCESSFUL" }),
    )
    .await;
    assert_eq!(
        (c["status"].as_str(), c["outcome"].as_str()),
        (Some("REVIEW"), Some("SUCCESSFUL"))
    );
    let (code, message) = change_fails(&app, &erin, "closeChange", json!({ "id": id })).await;
    assert_eq!(
        code, "BAD_USER_INPUT",
        "a NORMAL change closes with a review"
    );
    assert!(message.contains("`review`"), "{message}");
    let review = json!({ "summary": "Went as planned.", "objectivesMet": true, "followUp": "Retire the old client." });
    let c = change_ok(
        &app,
        &erin,
        "closeChange",
        json!({ "id": id, "review": review }),
    )
    .await;
    assert_eq!(c["status"], "CLOSED");
    assert_eq!(
        (
            &c["review"]["summary"],
            &c["review"]["objectivesMet"],
            &c["review"]["followUp"],
            &c["review"]["reviewedBy"]["email"],
            &c["review"]["reviewedAt"],
        ),
        (
            &json!("Went as planned."),
            &json!(true),
            &json!("Retire the old client."),
            &json!("erin@portfolio.example"),
            &c["closedAt"],
        )
    );
    for stamp in [
        "submittedAt",
        "authorizedAt",
        "startedAt",
        "completedAt",
        "closedAt",
    ] {
        assert!(!c[stamp].is_null(), "{stamp} is set");
    }
    let history = app
        .data(
            "query($n: String!) { change(number: $n) { history(first: 50) { nodes { action actor { email } } } } }",
            json!({ "n": c["number"] }),
        )
        .await;
    let actions: Vec<&str> = history["change"]["history"]["nodes"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["action"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        actions,
        [
            "CREATED",
            "SUBMITTED",
            "AUTHORIZED",
            "SCHEDULED",
            "STARTED",
            "COMPLETED",
            "CLOSED"
        ]
    );
}

#[tokio::test]
async fn a_move_the_lifecycle_does_not_have_is_refused_naming_both_states_and_changes_nothing() {
    let app = spawn_app().await;
    let requester = app.token("requester");
    let alice = app.token("admin");
    let id = draft(&app, &requester, "NORMAL", "LOW", json!({})).await;
    let (code, message) = change_fails(&app, &alice, "closeChange", json!({ "id": id })).await;
    assert_eq!(code, "INVALID_TRANSITION");
    assert!(
        message.contains("DRAFT") && message.contains("CLOSED"),
        "{message}"
    );
    let (code, message) = change_fails(&app, &alice, "startChange", json!({ "id": id })).await;
    assert_eq!(code, "INVALID_TRANSITION");
    assert!(
        message.contains("DRAFT") && message.contains("IMPLEMENTING"),
        "{message}"
    );
    let c = change_ok(
        &app,
        &requester,
        "updateChange",
        json!({ "id": id, "input": {} }),
    )
    .await;
    assert_eq!(
        (c["status"].as_str(), c["version"].as_i64()),
        (Some("DRAFT"), Some(2))
    );
}

#[tokio::test]
async fn a_standard_change_within_a_pre_approved_model_is_authorized_on_submission() {
    let app = spawn_app().await;
    let requester = app.token("requester");
    let model = model_id(&app, "os-patching").await;
    let id = draft(
        &app,
        &requester,
        "STANDARD",
        "MEDIUM",
        json!({ "modelId": model }),
    )
    .await;
    let c = change_ok(&app, &requester, "submitChange", json!({ "id": id })).await;
    assert_eq!(c["status"], "AUTHORIZED");
    assert_eq!(c["requiredApprovals"], 0);
    let history = app
        .data(
            "query($id: ID!) { node(id: $id) { ... on Change { history { nodes { action } } } } }",
            json!({ "id": id }),
        )
        .await;
    let actions: Vec<&str> = history["node"]["history"]["nodes"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["action"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(actions, ["CREATED", "SUBMITTED", "AUTHORIZED_BY_MODEL"]);
    // Its model authorized it: nobody decides on it.
    let (code, _) = change_fails(
        &app,
        &app.token("admin"),
        "approveChange",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(code, "INVALID_TRANSITION");
}

#[tokio::test]
async fn a_standard_change_is_refused_without_a_model_or_with_a_model_that_does_not_cover_it() {
    let app = spawn_app().await;
    let requester = app.token("requester");
    let alice = app.token("admin");
    let not_pre_approved = app
        .ok_as(
            &alice,
            r#"mutation { createChangeModel(key: "firewall-rule", name: "Firewall rule", changeType: STANDARD, maxRisk: HIGH, preApproved: false) { id } }"#,
            json!({}),
        )
        .await["createChangeModel"]["id"]
        .clone();
    let cases = [
        (json!({}), "names no change model"),
        (json!({ "modelId": not_pre_approved }), "not pre-approved"),
        // documentation-update is pre-approved up to LOW risk only.
        (
            json!({ "modelId": model_id(&app, "documentation-update").await }),
            "above",
        ),
        (
            json!({ "modelId": model_id(&app, "application-release").await }),
            "NORMAL",
        ),
    ];
    for (overrides, why) in cases {
        let id = draft(&app, &requester, "STANDARD", "MEDIUM", overrides).await;
        let (code, message) =
            change_fails(&app, &requester, "submitChange", json!({ "id": id })).await;
        assert_eq!(code, "INVALID_TRANSITION", "{message}");
        assert!(message.contains(why), "{message} should say {why}");
        let c = app
            .data(
                "query($id: ID!) { node(id: $id) { ... on Change { status version } } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(
            (c["node"]["status"].as_str(), c["node"]["version"].as_i64()),
            (Some("DRAFT"), Some(1))
        );
    }
}

#[tokio::test]
async fn a_normal_change_needs_its_models_number_of_approvals_from_distinct_deciders() {
    let app = spawn_app().await;
    let requester = app.token("requester");
    let (alice, bob) = (
        app.token("admin"),
        app.token_of("bob", TokenScope::Write).await,
    );
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

    let c = change_ok(&app, &alice, "approveChange", json!({ "id": id })).await;
    assert_eq!(
        (c["status"].as_str(), c["approvalCount"].as_i64()),
        (Some("SUBMITTED"), Some(1))
    );
    let (code, _) = change_fails(&app, &alice, "approveChange", json!({ "id": id })).await;
    assert_eq!(code, "CONFLICT", "a second decision by the same person");
    let c = change_ok(&app, &bob, "approveChange", json!({ "id": id })).await;
    assert_eq!(
        (c["status"].as_str(), c["approvalCount"].as_i64()),
        (Some("AUTHORIZED"), Some(2))
    );
}

#[tokio::test]
async fn nobody_decides_on_a_change_they_requested_and_practitioners_do_not_decide() {
    let app = spawn_app().await;
    let alice = app.token("admin");
    let erin = app.token_of("erin", TokenScope::Write).await;
    let requester = app.token("requester");
    // Alice owns change-management and holds an ADMIN token, yet requested this change.
    let id = draft(&app, &alice, "NORMAL", "LOW", json!({})).await;
    change_ok(&app, &alice, "submitChange", json!({ "id": id })).await;
    let (code, message) = change_fails(&app, &alice, "approveChange", json!({ "id": id })).await;
    assert_eq!(code, "FORBIDDEN");
    assert!(message.contains("segregation of duties"), "{message}");
    for token in [&erin, &requester] {
        let (code, _) = change_fails(&app, token, "approveChange", json!({ "id": id })).await;
        assert_eq!(code, "FORBIDDEN");
        let (code, _) = change_fails(
            &app,
            token,
            "rejectChange",
            json!({ "id": id, "comment": "no" }),
        )
        .await;
        assert_eq!(code, "FORBIDDEN");
    }
    let approvals = app
        .data(
            "query($id: ID!) { node(id: $id) { ... on Change { status approvals { id } } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(approvals["node"]["status"], "SUBMITTED");
    assert_eq!(approvals["node"]["approvals"], json!([]));
}

#[tokio::test]
async fn one_rejection_rejects_a_change_even_after_an_approval() {
    let app = spawn_app().await;
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
    let bob = app.token_of("bob", TokenScope::Write).await; // EMEA, like the VPN
    let (code, _) = change_fails(
        &app,
        &bob,
        "rejectChange",
        json!({ "id": id, "comment": " " }),
    )
    .await;
    assert_eq!(code, "BAD_USER_INPUT", "a rejection says why");
    let c = change_ok(
        &app,
        &bob,
        "rejectChange",
        json!({ "id": id, "comment": "too risky" }),
    )
    .await;
    assert_eq!(c["status"], "REJECTED");
}

#[tokio::test]
async fn an_emergency_change_is_authorized_by_one_manager_and_may_start_at_once() {
    let app = spawn_app().await;
    let requester = app.token("requester");
    let deepak = app.token_of("deepak", TokenScope::Write).await;
    let id = draft(&app, &requester, "EMERGENCY", "VERY_HIGH", json!({})).await;
    change_ok(&app, &requester, "submitChange", json!({ "id": id })).await;
    let hiro = app.token_of("hiro", TokenScope::Write).await; // a practitioner
    let (code, _) = change_fails(&app, &hiro, "approveChange", json!({ "id": id })).await;
    assert_eq!(
        code, "FORBIDDEN",
        "an emergency change needs the owner or a manager"
    );
    let c = change_ok(&app, &deepak, "approveChange", json!({ "id": id })).await;
    assert_eq!(
        (c["status"].as_str(), c["requiredApprovals"].as_i64()),
        (Some("AUTHORIZED"), Some(1))
    );
    let c = change_ok(&app, &deepak, "startChange", json!({ "id": id })).await;
    assert_eq!(c["status"], "IMPLEMENTING");
}

#[tokio::test]
async fn a_normal_change_starts_only_once_scheduled_into_a_valid_window() {
    let app = spawn_app().await;
    let alice = app.token("admin");
    let id = authorized(&app).await;
    let (code, message) = change_fails(&app, &alice, "startChange", json!({ "id": id })).await;
    assert_eq!(code, "INVALID_TRANSITION");
    assert!(
        message.contains("AUTHORIZED") && message.contains("SCHEDULED"),
        "{message}"
    );
    let backwards =
        json!({ "id": id, "start": "2026-12-03T23:00:00Z", "end": "2026-12-03T20:00:00Z" });
    let (code, message) = change_fails(&app, &alice, "scheduleChange", backwards).await;
    assert_eq!(code, "BAD_USER_INPUT");
    assert!(message.contains("plannedStart"), "{message}");
    change_ok(&app, &alice, "scheduleChange", with_id(&id, window(3))).await;
    // Rescheduling is allowed.
    let c = change_ok(&app, &alice, "scheduleChange", with_id(&id, window(4))).await;
    assert_eq!(
        (c["status"].as_str(), c["plannedStart"].as_str()),
        (Some("SCHEDULED"), Some("2026-12-04T20:00:00+00:00"))
    );
    let c = change_ok(&app, &alice, "startChange", json!({ "id": id })).await;
    assert_eq!(c["status"], "IMPLEMENTING");
}

#[tokio::test]
async fn scheduling_and_implementing_need_a_change_management_role() {
    let app = spawn_app().await;
    let id = authorized(&app).await;
    let farid = app.token("release");
    let (code, message) =
        change_fails(&app, &farid, "scheduleChange", with_id(&id, window(3))).await;
    assert_eq!(code, "FORBIDDEN");
    assert!(message.contains("change-management"), "{message}");
}

#[tokio::test]
async fn only_the_requester_edits_and_submits_and_only_a_draft() {
    let app = spawn_app().await;
    let requester = app.token("requester");
    let bob = app.token_of("bob", TokenScope::Write).await;
    let id = draft(&app, &requester, "NORMAL", "LOW", json!({})).await;
    let edit = json!({ "id": id, "input": { "title": "Renamed" } });
    let (code, _) = change_fails(&app, &bob, "updateChange", edit.clone()).await;
    assert_eq!(code, "FORBIDDEN");
    let (code, _) = change_fails(&app, &bob, "submitChange", json!({ "id": id })).await;
    assert_eq!(code, "FORBIDDEN");
    let c = change_ok(&app, &requester, "updateChange", edit.clone()).await;
    assert_eq!(c["version"], 2);
    change_ok(&app, &requester, "submitChange", json!({ "id": id })).await;
    let (code, message) = change_fails(&app, &requester, "updateChange", edit).await;
    assert_eq!(code, "INVALID_TRANSITION");
    assert!(
        message.contains("SUBMITTED") && message.contains("DRAFT"),
        "{message}"
    );
}

#[tokio::test]
async fn a_change_is_cancelled_by_its_requester_its_project_manager_or_a_change_manager_only() {
    let app = spawn_app().await;
    let bob = app.token_of("bob", TokenScope::Write).await;
    let outsider = app.mint("pat@example.org", TokenScope::Write).await;
    let project = project_id(&app, "PRJ-2026-001").await; // managed by Laura
    let id = draft(&app, &bob, "NORMAL", "LOW", json!({ "projectId": project })).await;
    let cancel = json!({ "id": id, "reason": "superseded" });
    let (code, _) = change_fails(&app, &outsider, "cancelChange", cancel.clone()).await;
    assert_eq!(code, "FORBIDDEN");
    let c = change_ok(
        &app,
        &app.token("requester"),
        "cancelChange",
        cancel.clone(),
    )
    .await;
    assert_eq!(
        (c["status"].as_str(), c["cancellationReason"].as_str()),
        (Some("CANCELLED"), Some("superseded"))
    );
    let (code, _) = change_fails(&app, &bob, "cancelChange", cancel).await;
    assert_eq!(
        code, "INVALID_TRANSITION",
        "a cancelled change stays cancelled"
    );
}

#[tokio::test]
async fn a_closed_project_and_a_retired_service_get_no_new_change() {
    let app = spawn_app().await;
    let requester = app.token("requester");
    let closed = project_id(&app, "PRJ-2025-014").await;
    let input = change_input(&app, "NORMAL", "LOW", json!({ "projectId": closed })).await;
    let (code, message) =
        change_fails(&app, &requester, "createChange", json!({ "input": input })).await;
    assert_eq!(code, "CONFLICT");
    assert!(message.contains("CLOSED"), "{message}");
    let fax = service_id(&app, "legacy-fax").await;
    let input = change_input(&app, "NORMAL", "LOW", json!({ "serviceIds": [fax] })).await;
    let (code, message) =
        change_fails(&app, &requester, "createChange", json!({ "input": input })).await;
    assert_eq!(code, "CONFLICT");
    assert!(message.contains("RETIRED"), "{message}");
}

#[tokio::test]
async fn available_transitions_say_what_the_viewer_may_do_and_why_not() {
    let app = spawn_app().await;
    let requester = app.token("requester");
    let bob = app.token_of("bob", TokenScope::Write).await;
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
    let query = "query($id: ID!) { node(id: $id) { ... on Change { availableTransitions { action mutation toStatus allowed reason code } } } }";
    let as_requester = app.ok_as(&requester, query, json!({ "id": id })).await;
    let moves = &as_requester["node"]["availableTransitions"];
    let approve = moves
        .as_array()
        .and_then(|m| m.iter().find(|t| t["action"] == "APPROVE"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(approve["allowed"], false);
    assert_eq!(approve["code"], "FORBIDDEN");
    assert!(
        approve["reason"]
            .as_str()
            .unwrap_or("")
            .contains("segregation")
    );
    let cancel = moves
        .as_array()
        .and_then(|m| m.iter().find(|t| t["action"] == "CANCEL"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(cancel["allowed"], true);

    let as_bob = app.ok_as(&bob, query, json!({ "id": id })).await;
    let approve = as_bob["node"]["availableTransitions"]
        .as_array()
        .and_then(|m| m.iter().find(|t| t["action"] == "APPROVE"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (
            approve["allowed"].as_bool(),
            approve["mutation"].as_str(),
            approve["toStatus"].as_str()
        ),
        (Some(true), Some("approveChange"), Some("SUBMITTED")),
        "one of two approvals"
    );
    let actions: Vec<&str> = as_bob["node"]["availableTransitions"]
        .as_array()
        .map(|m| m.iter().filter_map(|t| t["action"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        actions,
        ["APPROVE", "REJECT", "CANCEL"],
        "only the moves the lifecycle has from SUBMITTED"
    );

    let anonymous = app.post(query, json!({ "id": id })).await;
    let first = &anonymous["data"]["node"]["availableTransitions"][0];
    assert_eq!(
        (first["allowed"].as_bool(), first["code"].as_str()),
        (Some(false), Some("UNAUTHENTICATED"))
    );
}

#[tokio::test]
async fn change_models_are_defined_by_an_admin_or_the_owner_of_change_management() {
    let app = spawn_app().await;
    let create = r#"mutation($key: String!) { createChangeModel(key: $key, name: "Firewall rule", changeType: STANDARD, maxRisk: LOW, preApproved: true) { key requiredApprovals } }"#;
    let bob = app.token_of("bob", TokenScope::Write).await; // a manager, not the owner
    let (code, _) = app.fails_as(&bob, create, json!({ "key": "fw-bob" })).await;
    assert_eq!(code, "FORBIDDEN");
    let alice = app.token_of("alice", TokenScope::Write).await; // the owner, no ADMIN token
    let m = app
        .ok_as(&alice, create, json!({ "key": "fw-alice" }))
        .await;
    assert_eq!(m["createChangeModel"]["requiredApprovals"], 0);
    let laura_admin = app.token_of("laura", TokenScope::Admin).await;
    app.ok_as(&laura_admin, create, json!({ "key": "fw-admin" }))
        .await;
    let normal_pre_approved = r#"mutation { createChangeModel(key: "odd", name: "Odd", changeType: NORMAL, maxRisk: LOW, preApproved: true) { key } }"#;
    let (code, message) = app.fails_as(&alice, normal_pre_approved, json!({})).await;
    assert_eq!(code, "BAD_USER_INPUT");
    assert!(message.contains("preApproved"), "{message}");
}

#[tokio::test]
async fn a_review_is_required_to_close_unless_a_standard_change_succeeded() {
    let app = spawn_app().await;
    let (requester, erin) = (
        app.token("requester"),
        app.token_of("erin", TokenScope::Write).await,
    );
    let model = model_id(&app, "os-patching").await;
    // Two STANDARD changes in REVIEW: one successful, one failed.
    let mut ids = Vec::new();
    for outcome in ["SUCCESSFUL", "FAILED"] {
        let id = draft(
            &app,
            &requester,
            "STANDARD",
            "LOW",
            json!({ "modelId": model }),
        )
        .await;
        change_ok(&app, &requester, "submitChange", json!({ "id": id })).await;
        let (start, end) = window_from_now(3, 2);
        change_ok(
            &app,
            &erin,
            "scheduleChange",
            with_id(&id, json!({ "start": start, "end": end })),
        )
        .await;
        change_ok(&app, &erin, "startChange", json!({ "id": id })).await;
        let c = change_ok(
            &app,
            &erin,
            "completeChange",
            json!({ "id": id, "outcome": outcome }),
        )
        .await;
        assert_eq!(c["status"], "REVIEW");
        ids.push((id, c["version"].clone()));
    }
    let (ok, _) = &ids[0];
    let c = change_ok(&app, &erin, "closeChange", json!({ "id": ok })).await;
    assert_eq!(c["status"], "CLOSED");
    assert!(c["review"].is_null(), "closed without one");

    let (failed, version) = &ids[1];
    let (code, message) = change_fails(&app, &erin, "closeChange", json!({ "id": failed })).await;
    assert_eq!(code, "BAD_USER_INPUT");
    assert!(message.contains("FAILED"), "{message}");
    let (code, _) = change_fails(
        &app,
        &erin,
        "closeChange",
        json!({ "id": failed, "review": { "summary": "  ", "objectivesMet": false } }),
    )
    .await;
    assert_eq!(code, "BAD_USER_INPUT", "an empty summary is no review");
    let same = app
        .data(
            "query($id: ID!) { node(id: $id) { ... on Change { status version review { summary } } } }",
            json!({ "id": failed }),
        )
        .await;
    assert_eq!(
        same["node"],
        json!({ "status": "REVIEW", "version": version, "review": null }),
        "the refusals wrote nothing"
    );
    let c = change_ok(
        &app,
        &erin,
        "closeChange",
        json!({ "id": failed, "review": { "summary": "Patch broke the agent.", "objectivesMet": false, "followUp": "PRB0000012" } }),
    )
    .await;
    assert_eq!(c["review"]["objectivesMet"], false);
    assert_eq!(c["review"]["followUp"], "PRB0000012");
}
