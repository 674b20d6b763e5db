//! Scoped roles: a process role assigned for a scope (a region or business unit) covers only
//! the services of that scope; an unscoped role and the process OWNER cover every service.
//! In the demo, Bob manages change for EMEA, Carmen for the Americas (the customer portal),
//! Deepak for every region.

use entity::TokenScope;
use serde_json::json;

use crate::helpers::{TestApp, spawn_app};
use crate::ops::*;

/// A submitted NORMAL change (one approval authorizes it) on the services with these keys.
async fn submitted_on(app: &TestApp, keys: &[&str]) -> String {
    let mut services = Vec::new();
    for k in keys {
        services.push(service_id(app, k).await);
    }
    let requester = app.token("requester");
    let id = draft(
        app,
        &requester,
        "NORMAL",
        "MEDIUM",
        json!({ "serviceIds": services }),
    )
    .await;
    change_ok(app, &requester, "submitChange", json!({ "id": id })).await;
    id
}

#[tokio::test]
async fn a_regional_manager_decides_only_changes_whose_every_service_is_in_their_scope() {
    let app = spawn_app().await;
    let carmen = app.token_of("carmen", TokenScope::Write).await; // Americas
    let mixed = submitted_on(&app, &["customer-portal", "vpn"]).await;

    let (code, message) =
        change_fails(&app, &carmen, "approveChange", json!({ "id": mixed })).await;
    assert_eq!(code, "FORBIDDEN");
    assert!(
        message.contains("`vpn`") && message.contains("EMEA") && message.contains("Americas"),
        "{message}"
    );
    let after = app
        .data(
            "query($id: ID!) { node(id: $id) { ... on Change { status version approvalCount } } }",
            json!({ "id": mixed }),
        )
        .await;
    assert_eq!(
        after["node"],
        json!({ "status": "SUBMITTED", "version": 2, "approvalCount": 0 }),
        "the refusal wrote nothing"
    );
    let seen = change_transition(&app, &carmen, &mixed, "APPROVE").await;
    assert_eq!(
        (&seen["allowed"], &seen["code"], &seen["reason"]),
        (&json!(false), &json!(code), &json!(message)),
        "availableTransitions says what the mutation says"
    );
    let (code, _) = change_fails(
        &app,
        &carmen,
        "rejectChange",
        json!({ "id": mixed, "comment": "not mine to judge" }),
    )
    .await;
    assert_eq!(code, "FORBIDDEN", "rejecting is deciding too");

    // Deepak's role has no scope: he decides anywhere.
    let deepak = app.token_of("deepak", TokenScope::Write).await;
    assert_eq!(
        change_transition(&app, &deepak, &mixed, "APPROVE").await["allowed"],
        true
    );
    let c = change_ok(&app, &deepak, "approveChange", json!({ "id": mixed })).await;
    assert_eq!(c["status"], "AUTHORIZED");

    // Within her region Carmen decides.
    let portal = submitted_on(&app, &["customer-portal"]).await;
    assert_eq!(
        change_transition(&app, &carmen, &portal, "APPROVE").await["allowed"],
        true
    );
    let c = change_ok(&app, &carmen, "approveChange", json!({ "id": portal })).await;
    assert_eq!(c["status"], "AUTHORIZED");
}

#[tokio::test]
async fn the_owner_decides_everywhere_and_moving_a_service_to_a_scope_moves_who_may_decide() {
    let app = spawn_app().await;
    let (alice, carmen) = (
        app.token("admin"),
        app.token_of("carmen", TokenScope::Write).await,
    );
    let first = submitted_on(&app, &["vpn"]).await;
    let c = change_ok(&app, &alice, "approveChange", json!({ "id": first })).await;
    assert_eq!(c["status"], "AUTHORIZED", "the OWNER's role is global");

    let second = submitted_on(&app, &["vpn"]).await;
    let (code, _) = change_fails(&app, &carmen, "approveChange", json!({ "id": second })).await;
    assert_eq!(code, "FORBIDDEN");
    let vpn = service_id(&app, "vpn").await;
    let moved = app
        .ok_as(
            &alice,
            "mutation($id: ID!) { updateService(id: $id, scope: \"Americas\") { scope version } }",
            json!({ "id": vpn }),
        )
        .await;
    assert_eq!(moved["updateService"]["scope"], "Americas");
    let c = change_ok(&app, &carmen, "approveChange", json!({ "id": second })).await;
    assert_eq!(c["status"], "AUTHORIZED");
}

#[tokio::test]
async fn services_filter_by_scope_and_people_show_each_assignments_scope() {
    let app = spawn_app().await;
    let q = "{ services(filter: { scope: [\"Americas\"] }) { nodes { key scope } } }";
    assert_eq!(
        app.data(q, json!({})).await["services"]["nodes"],
        json!([{ "key": "customer-portal", "scope": "Americas" }])
    );
    let roles = app
        .data(
            "{ people(search: \"carmen\") { nodes { processRoles { role scope process { key } } } } }",
            json!({}),
        )
        .await;
    let held = &roles["people"]["nodes"][0]["processRoles"];
    assert!(
        held.as_array()
            .is_some_and(|r| r.iter().any(|a| a["scope"] == "Americas"
                && a["process"]["key"] == "change-management"
                && a["role"] == "MANAGER")),
        "{held}"
    );
}
