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
    // The customer portal is CRITICAL: the policy wants three approvals, the OWNER's too.
    assert_eq!(
        (c["status"].as_str(), c["approvalCount"].as_i64()),
        (Some("SUBMITTED"), Some(1))
    );

    // Within her region Carmen decides.
    let portal = submitted_on(&app, &["customer-portal"]).await;
    assert_eq!(
        change_transition(&app, &carmen, &portal, "APPROVE").await["allowed"],
        true
    );
    let c = change_ok(&app, &carmen, "approveChange", json!({ "id": portal })).await;
    assert_eq!(c["approvalCount"], 1);
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

const INBOX: &str =
    "query($n: Int) { viewer { pendingDecisions(first: $n) { totalCount nodes { number } } } }";

/// The numbers in the inbox of the person holding `token`.
async fn inbox(app: &TestApp, token: &str) -> Vec<String> {
    let d = app.ok_as(token, INBOX, json!({ "n": 100 })).await;
    let page = &d["viewer"]["pendingDecisions"];
    let numbers: Vec<String> = page["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["number"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(page["totalCount"], json!(numbers.len()));
    numbers
}

/// Worked out from the whole list of changes: what `email` may decide on and has not, in
/// order of submission; `scopes` None for a role that reaches every service.
async fn expected_inbox(app: &TestApp, email: &str, scopes: Option<&[&str]>) -> Vec<String> {
    let q = "{ changes(first: 100) { nodes { number status type submittedAt requestedBy { email }
        services { nodes { scope } } approvals { approver { email } } } } }";
    let d = app.data(q, json!({})).await;
    let mut waiting: Vec<(String, String)> = d["changes"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["status"] == "SUBMITTED" && c["type"] != "STANDARD")
        .filter(|c| c["requestedBy"]["email"] != email)
        .filter(|c| {
            !c["approvals"]
                .as_array()
                .is_some_and(|a| a.iter().any(|a| a["approver"]["email"] == email))
        })
        .filter(|c| {
            scopes.is_none_or(|scopes| {
                c["services"]["nodes"].as_array().is_some_and(|s| {
                    s.iter()
                        .all(|s| s["scope"].as_str().is_some_and(|x| scopes.contains(&x)))
                })
            })
        })
        .map(|c| {
            let at = c["submittedAt"].as_str().unwrap_or_default().to_owned();
            (at, c["number"].as_str().unwrap_or_default().to_owned())
        })
        .collect();
    waiting.sort();
    waiting.into_iter().map(|(_, n)| n).collect()
}

#[tokio::test]
async fn the_inbox_holds_what_waits_for_the_viewers_decision_longest_waiting_first() {
    let app = spawn_app().await;
    let alice = app.token("admin");
    let bob = app.token_of("bob", TokenScope::Write).await;
    let carmen = app.token_of("carmen", TokenScope::Write).await;
    let hiro = app.token_of("hiro", TokenScope::Write).await; // a practitioner: decides nothing

    let owner = inbox(&app, &alice).await;
    assert_eq!(
        owner,
        expected_inbox(&app, "alice@portfolio.example", None).await
    );
    assert!(!owner.is_empty(), "the demo has changes waiting");
    let emea = inbox(&app, &bob).await;
    assert_eq!(
        emea,
        expected_inbox(&app, "bob@portfolio.example", Some(&["EMEA"])).await
    );
    assert!(inbox(&app, &hiro).await.is_empty());

    // A new change on the customer portal reaches Carmen's inbox, last; deciding empties it.
    let before = inbox(&app, &carmen).await;
    let fresh = submitted_on(&app, &["customer-portal"]).await;
    let number = app
        .data(
            "query($id: ID!) { node(id: $id) { ... on Change { number } } }",
            json!({ "id": fresh }),
        )
        .await["node"]["number"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let after = inbox(&app, &carmen).await;
    assert_eq!(after.last(), Some(&number), "{after:?}");
    assert_eq!(after.len(), before.len() + 1);
    assert!(
        !inbox(&app, &bob).await.contains(&number),
        "outside Bob's scope"
    );
    change_ok(&app, &carmen, "approveChange", json!({ "id": fresh })).await;
    assert_eq!(inbox(&app, &carmen).await, before);

    // One statement for the page, whatever its size.
    let mut spent = Vec::new();
    for n in [1, 50] {
        let start = app.statements().await;
        app.ok_as(&alice, INBOX, json!({ "n": n })).await;
        spent.push(app.statements().await - start);
    }
    assert_eq!(spent[0], spent[1], "{spent:?}");
}
