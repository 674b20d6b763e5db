//! The approval policy as data: rules that ask more approvals, and the OWNER's, of riskier
//! changes and of changes on critical services; edited by the OWNER of change-management.

use entity::TokenScope;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::ops::*;

const REQUIREMENT: &str =
    "query($id: ID!) { node(id: $id) { ... on Change { status requiredApprovals
    approvalRequirement { required ownerRequired approvals ownerApproved rule reason } } } }";

async fn requirement(app: &TestApp, id: &str) -> Value {
    app.data(REQUIREMENT, json!({ "id": id })).await["node"].clone()
}

/// A submitted NORMAL change without a model on the VPN (a HIGH-criticality service).
async fn submitted(app: &TestApp, risk: &str) -> String {
    let requester = app.token("requester");
    let id = draft(app, &requester, "NORMAL", risk, json!({})).await;
    change_ok(app, &requester, "submitChange", json!({ "id": id })).await;
    id
}

#[tokio::test]
async fn the_default_policy_asks_more_approvals_and_the_owners_of_riskier_changes() {
    let app = spawn_app().await;
    let rules = app
        .data("{ approvalRules { name changeType minRisk minCriticality requiredApprovals ownerRequired } }", json!({}))
        .await;
    let names: Vec<&str> = rules["approvalRules"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(names, ["High risk", "Very high risk", "Critical service"]);

    let (alice, bob) = (
        app.token("admin"),
        app.token_of("bob", TokenScope::Write).await,
    );
    let deepak = app.token_of("deepak", TokenScope::Write).await;

    let low = submitted(&app, "LOW").await;
    let r = requirement(&app, &low).await;
    assert_eq!(r["approvalRequirement"]["required"], 1);
    assert!(
        r["approvalRequirement"]["rule"].is_null(),
        "no rule: the change type"
    );
    let c = change_ok(&app, &bob, "approveChange", json!({ "id": low })).await;
    assert_eq!(c["status"], "AUTHORIZED");

    let high = submitted(&app, "HIGH").await;
    let r = requirement(&app, &high).await;
    assert_eq!(
        (&r["requiredApprovals"], &r["approvalRequirement"]["rule"]),
        (&json!(2), &json!("High risk"))
    );
    let c = change_ok(&app, &bob, "approveChange", json!({ "id": high })).await;
    assert_eq!(c["status"], "SUBMITTED", "one of two");
    let c = change_ok(&app, &deepak, "approveChange", json!({ "id": high })).await;
    assert_eq!(c["status"], "AUTHORIZED");

    let very = submitted(&app, "VERY_HIGH").await;
    let r = requirement(&app, &very).await["approvalRequirement"].clone();
    assert_eq!(
        (&r["required"], &r["ownerRequired"], &r["rule"]),
        (&json!(3), &json!(true), &json!("Very high risk"))
    );
    assert!(
        r["reason"].as_str().is_some_and(|t| t.contains("OWNER")),
        "{r}"
    );
    change_ok(&app, &bob, "approveChange", json!({ "id": very })).await;
    // availableTransitions tells Deepak where his approval takes the change, as it goes.
    let seen = change_transition(&app, &deepak, &very, "APPROVE").await;
    let c = change_ok(&app, &deepak, "approveChange", json!({ "id": very })).await;
    assert_eq!(c["status"], "SUBMITTED", "two managers are not the owner");
    assert_eq!(seen["toStatus"], c["status"]);
    let r = requirement(&app, &very).await["approvalRequirement"].clone();
    assert_eq!(
        (&r["approvals"], &r["ownerApproved"]),
        (&json!(2), &json!(false))
    );
    let seen = change_transition(&app, &alice, &very, "APPROVE").await;
    assert_eq!(seen["allowed"], true);
    let c = change_ok(&app, &alice, "approveChange", json!({ "id": very })).await;
    assert_eq!(
        c["status"], "AUTHORIZED",
        "the OWNER's approval completes it"
    );
    assert_eq!(seen["toStatus"], c["status"]);
}

#[tokio::test]
async fn the_owner_edits_the_policy_and_the_next_decisions_follow_it() {
    let app = spawn_app().await;
    let (alice, bob) = (
        app.token("admin"),
        app.token_of("bob", TokenScope::Write).await,
    );
    let create = "mutation($n: String!, $t: ChangeType, $c: Criticality, $a: Int!) {
        createApprovalRule(name: $n, changeType: $t, minCriticality: $c, requiredApprovals: $a) { id version } }";
    let vars = json!({ "n": "High-criticality services", "c": "HIGH", "a": 2 });
    let (code, _) = app.fails_as(&bob, create, vars.clone()).await;
    assert_eq!(code, "FORBIDDEN", "a manager does not edit the policy");
    for bad in [
        json!({ "n": "Standard too", "t": "STANDARD", "a": 2 }),
        json!({ "n": "Nothing", "a": 0 }),
    ] {
        let (code, _) = app.fails_as(&alice, create, bad).await;
        assert_eq!(code, "BAD_USER_INPUT");
    }
    let before = submitted(&app, "LOW").await;
    assert_eq!(requirement(&app, &before).await["requiredApprovals"], 1);

    let rule = app.ok_as(&alice, create, vars).await["createApprovalRule"].clone();
    let r = requirement(&app, &before).await["approvalRequirement"].clone();
    assert_eq!(
        (&r["required"], &r["rule"]),
        (&json!(2), &json!("High-criticality services")),
        "the VPN is a HIGH-criticality service"
    );
    let c = change_ok(&app, &bob, "approveChange", json!({ "id": before })).await;
    assert_eq!(c["status"], "SUBMITTED");

    let update = "mutation($id: ID!, $v: Int, $a: Int) { updateApprovalRule(id: $id, expectedVersion: $v, requiredApprovals: $a) { requiredApprovals version } }";
    let (code, _) = app
        .fails_as(&alice, update, json!({ "id": rule["id"], "v": 7, "a": 3 }))
        .await;
    assert_eq!(code, "CONFLICT", "a stale version changes nothing");
    let updated = app
        .ok_as(&alice, update, json!({ "id": rule["id"], "v": 1, "a": 3 }))
        .await;
    assert_eq!(
        updated["updateApprovalRule"],
        json!({ "requiredApprovals": 3, "version": 2 })
    );
    assert_eq!(requirement(&app, &before).await["requiredApprovals"], 3);

    let deleted = app
        .ok_as(
            &alice,
            "mutation($id: ID!) { deleteApprovalRule(id: $id) }",
            json!({ "id": rule["id"] }),
        )
        .await;
    assert_eq!(deleted["deleteApprovalRule"], rule["id"]);
    assert_eq!(requirement(&app, &before).await["requiredApprovals"], 1);
    let audited = app
        .ok_as(
            &alice,
            "{ auditEvents(first: 50, entityType: \"ApprovalRule\") { nodes { action } } }",
            json!({}),
        )
        .await;
    let actions: Vec<&str> = audited["auditEvents"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions, ["CREATED", "UPDATED", "DELETED"]);
}

#[tokio::test]
async fn approval_requirements_cost_the_same_statements_for_twenty_changes_or_forty() {
    let app = spawn_app().await;
    let q = "query($n: Int!) { changes(first: $n) { nodes { requiredApprovals approvalRequirement { required rule ownerApproved } } } }";
    let mut spent = Vec::new();
    for n in [20, 40] {
        let before = app.statements().await;
        app.data(q, json!({ "n": n })).await;
        spent.push(app.statements().await - before);
    }
    assert_eq!(spent[0], spent[1], "{spent:?}");
}
