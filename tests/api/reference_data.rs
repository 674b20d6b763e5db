//! Reference data and who may change it (rule 8), one owner per process (rule 9), no
//! retiring a service with open changes (rule 10), and input validation: a bad input names
//! its field and writes nothing.

use entity::TokenScope;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::ops::*;

/// How many audit events exist: every successful mutation adds at least one.
async fn audit_count(app: &TestApp) -> i64 {
    let d = app
        .ok_as(
            &app.token("admin"),
            "{ auditEvents { totalCount } }",
            json!({}),
        )
        .await;
    d["auditEvents"]["totalCount"].as_i64().unwrap_or(-1)
}

#[tokio::test]
async fn reference_data_needs_an_admin_token() {
    let app = spawn_app().await;
    let writer = app.token("requester");
    let admin = app.token("admin");
    let docs = [
        r#"mutation { createPerson(name: "Quinn", email: "quinn@example.org") { id } }"#,
        r#"mutation { createPartner(name: "Acme", kind: VENDOR) { id } }"#,
        r#"mutation { createService(key: "wiki", name: "Wiki") { id } }"#,
        r#"mutation { createServiceOffering(key: "kb", name: "Knowledge", targetConsumerGroup: "Everyone") { id } }"#,
        r#"mutation { createProcess(key: "problem-management", name: "Problem Management") { id } }"#,
    ];
    for doc in docs {
        let (code, _) = app.fails_as(&writer, doc, json!({})).await;
        assert_eq!(code, "FORBIDDEN", "{doc}");
        let body = app.post(doc, json!({})).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{doc}"
        );
        let before = audit_count(&app).await;
        app.ok_as(&admin, doc, json!({})).await;
        assert_eq!(audit_count(&app).await, before + 1, "{doc} is audited");
    }
}

#[tokio::test]
async fn a_service_owner_updates_their_service_and_its_partner_links_but_not_others() {
    let app = spawn_app().await;
    let bob = app.token_of("bob", TokenScope::Write).await; // owns vpn
    let vpn = service_id(&app, "vpn").await;
    let email = service_id(&app, "email").await;
    let update = "mutation($id: ID!, $name: String) { updateService(id: $id, name: $name) { name version } }";
    let s = app
        .ok_as(&bob, update, json!({ "id": vpn, "name": "Remote access" }))
        .await;
    assert_eq!(s["updateService"]["name"], "Remote access");
    let (code, _) = app
        .fails_as(&bob, update, json!({ "id": email, "name": "Mail" }))
        .await;
    assert_eq!(code, "FORBIDDEN");

    let partner = app
        .ok_as(
            &app.token("admin"),
            r#"mutation { createPartner(name: "Acme Networks", kind: SUPPLIER) { id } }"#,
            json!({}),
        )
        .await["createPartner"]["id"]
        .clone();
    let link = "mutation($s: ID!, $p: ID!) { linkPartner(serviceId: $s, partnerId: $p, role: \"transit\", contractRef: \"AC-1\") { partners { role partner { name } } } }";
    let linked = app
        .ok_as(&bob, link, json!({ "s": vpn, "p": partner }))
        .await;
    let roles: Vec<&str> = linked["linkPartner"]["partners"]
        .as_array()
        .map(|a| a.iter().filter_map(|p| p["role"].as_str()).collect())
        .unwrap_or_default();
    assert!(roles.contains(&"transit"), "{linked}");
    let (code, _) = app
        .fails_as(&bob, link, json!({ "s": vpn, "p": partner }))
        .await;
    assert_eq!(code, "CONFLICT", "linked twice");
    let unlink =
        "mutation($s: ID!, $p: ID!) { unlinkPartner(serviceId: $s, partnerId: $p) { id } }";
    app.ok_as(&bob, unlink, json!({ "s": vpn, "p": partner }))
        .await;
    let (code, _) = app
        .fails_as(&bob, unlink, json!({ "s": vpn, "p": partner }))
        .await;
    assert_eq!(code, "NOT_FOUND");
}

#[tokio::test]
async fn absent_arguments_keep_a_field_and_explicit_null_clears_it() {
    let app = spawn_app().await;
    let admin = app.token("admin");
    let vpn = service_id(&app, "vpn").await;
    let q = "mutation($id: ID!, $owner: ID) { updateService(id: $id, ownerId: $owner) { owner { email } description } }";
    let kept = app
        .ok_as(
            &admin,
            "mutation($id: ID!) { updateService(id: $id) { owner { email } description } }",
            json!({ "id": vpn }),
        )
        .await;
    assert_eq!(
        kept["updateService"]["owner"]["email"],
        "bob@portfolio.example"
    );
    assert_ne!(kept["updateService"]["description"], "");
    let cleared = app
        .ok_as(&admin, q, json!({ "id": vpn, "owner": null }))
        .await;
    assert!(cleared["updateService"]["owner"].is_null());
    assert_eq!(
        cleared["updateService"]["description"],
        kept["updateService"]["description"]
    );
    let (code, message) = app
        .fails_as(
            &admin,
            "mutation($id: ID!) { updateService(id: $id, name: null) { id } }",
            json!({ "id": vpn }),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
    assert!(message.contains("`name`"), "{message}");
}

#[tokio::test]
async fn a_process_has_one_owner_at_a_time() {
    let app = spawn_app().await;
    let alice = app.token("admin"); // owns change-management
    let process = app.data(r#"{ process(key: "change-management") { id owner { id } roleAssignments { id role person { email } } } }"#, json!({})).await["process"].clone();
    let bob = app
        .data(r#"{ people(search: "Bob") { nodes { id } } }"#, json!({}))
        .await["people"]["nodes"][0]["id"]
        .clone();
    let assign = "mutation($p: ID!, $who: ID!, $role: ProcessRole!) { assignProcessRole(processId: $p, personId: $who, role: $role) { id role } }";
    let (code, message) = app
        .fails_as(
            &alice,
            assign,
            json!({ "p": process["id"], "who": bob, "role": "OWNER" }),
        )
        .await;
    assert_eq!(code, "CONFLICT");
    assert!(message.contains("revoke"), "{message}");
    let owner_assignment = process["roleAssignments"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["role"] == "OWNER"))
        .map(|r| r["id"].clone())
        .unwrap_or_default();
    app.ok_as(
        &alice,
        "mutation($a: ID!) { revokeProcessRole(assignmentId: $a) { owner { id } } }",
        json!({ "a": owner_assignment }),
    )
    .await;
    let made = app
        .ok_as(
            &alice,
            assign,
            json!({ "p": process["id"], "who": bob, "role": "OWNER" }),
        )
        .await;
    assert_eq!(made["assignProcessRole"]["role"], "OWNER");
    let owner = app
        .data(
            r#"{ process(key: "change-management") { owner { id } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(owner["process"]["owner"]["id"], bob);
}

#[tokio::test]
async fn a_process_owner_manages_its_policies_and_roles_and_nobody_elses() {
    let app = spawn_app().await;
    let farid = app.token("release"); // owns release-management only
    let rm = app
        .data(
            r#"{ process(key: "release-management") { id } }"#,
            json!({}),
        )
        .await["process"]["id"]
        .clone();
    let cm = app
        .data(r#"{ process(key: "change-management") { id } }"#, json!({}))
        .await["process"]["id"]
        .clone();
    let add = "mutation($p: ID!) { addPolicy(processId: $p, statement: \"Every release has a back-out plan.\") { statement process { key } } }";
    let p = app.ok_as(&farid, add, json!({ "p": rm })).await;
    assert_eq!(p["addPolicy"]["process"]["key"], "release-management");
    let (code, _) = app.fails_as(&farid, add, json!({ "p": cm })).await;
    assert_eq!(code, "FORBIDDEN");
}

#[tokio::test]
async fn a_service_with_open_changes_cannot_be_retired() {
    let app = spawn_app().await;
    let admin = app.token("admin");
    let retire = "mutation($id: ID!) { updateService(id: $id, lifecycle: RETIRED) { lifecycle } }";
    let vpn = service_id(&app, "vpn").await;
    let (code, message) = app.fails_as(&admin, retire, json!({ "id": vpn })).await;
    assert_eq!(code, "CONFLICT");
    assert!(
        message.contains("open changes") && message.contains("CHG"),
        "{message}"
    );
    let fresh = app.ok_as(&admin, r#"mutation { createService(key: "intranet", name: "Intranet", lifecycle: LIVE) { id } }"#, json!({})).await["createService"]["id"].clone();
    let retired = app.ok_as(&admin, retire, json!({ "id": fresh })).await;
    assert_eq!(retired["updateService"]["lifecycle"], "RETIRED");
    let offering = app
        .data(
            r#"{ serviceOfferings(first: 1) { nodes { id } } }"#,
            json!({}),
        )
        .await["serviceOfferings"]["nodes"][0]["id"]
        .clone();
    let (code, _) = app.fails_as(&admin, "mutation($o: ID!, $s: ID!) { addServiceToOffering(offeringId: $o, serviceId: $s) { id } }", json!({ "o": offering, "s": fresh })).await;
    assert_eq!(code, "CONFLICT", "a retired service joins no offering");
}

#[tokio::test]
async fn offerings_are_composed_of_services_and_components() {
    let app = spawn_app().await;
    let admin = app.token("admin");
    let vpn = service_id(&app, "vpn").await;
    let o = app.ok_as(&admin, "mutation($s: [ID!]) { createServiceOffering(key: \"road-warrior\", name: \"Road warrior kit\", targetConsumerGroup: \"Field sales\", serviceIds: $s) { id status services { nodes { key } } } }", json!({ "s": [vpn] })).await["createServiceOffering"].clone();
    assert_eq!(
        (
            o["status"].as_str(),
            o["services"]["nodes"][0]["key"].as_str()
        ),
        (Some("DRAFT"), Some("vpn"))
    );
    let c = app.ok_as(&admin, "mutation($o: ID!) { addOfferingComponent(offeringId: $o, kind: GOODS, name: \"Laptop\") { id kind offering { key } } }", json!({ "o": o["id"] })).await["addOfferingComponent"].clone();
    assert_eq!(c["offering"]["key"], "road-warrior");
    let published = app.ok_as(&admin, "mutation($o: ID!) { updateServiceOffering(id: $o, status: PUBLISHED, expectedVersion: 2) { status version } }", json!({ "o": o["id"] })).await;
    assert_eq!(published["updateServiceOffering"]["status"], "PUBLISHED");
    let after = app
        .ok_as(
            &admin,
            "mutation($c: ID!) { removeOfferingComponent(id: $c) { components { id } } }",
            json!({ "c": c["id"] }),
        )
        .await;
    assert_eq!(after["removeOfferingComponent"]["components"], json!([]));
}

#[tokio::test]
async fn bad_input_names_its_field_and_writes_nothing() {
    let app = spawn_app().await;
    let admin = app.token("admin");
    let requester = app.token("requester");
    let before = audit_count(&app).await;
    let long_title = "x".repeat(201);
    let long_description = "y".repeat(10_001);
    let vpn = service_id(&app, "vpn").await;
    let release_id = app
        .data("{ releases(first: 1) { nodes { id } } }", json!({}))
        .await["releases"]["nodes"][0]["id"]
        .clone();
    let unknown_service = "U2VydmljZTo5OTk5OQ"; // Service:99999
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({ "title": "" }), "BAD_USER_INPUT", "title"),
        (json!({ "title": long_title }), "BAD_USER_INPUT", "title"),
        (
            json!({ "description": long_description }),
            "BAD_USER_INPUT",
            "description",
        ),
        (
            json!({ "plannedStart": "2026-12-02T10:00:00Z", "plannedEnd": "2026-12-02T10:00:00Z" }),
            "BAD_USER_INPUT",
            "plannedStart",
        ),
        (
            json!({ "plannedStart": "2026-12-02T10:00:00Z" }),
            "BAD_USER_INPUT",
            "plannedEnd",
        ),
        (json!({ "serviceIds": [] }), "BAD_USER_INPUT", "serviceIds"),
        (
            json!({ "serviceIds": ["garbage"] }),
            "BAD_USER_INPUT",
            "serviceIds",
        ),
        (
            json!({ "serviceIds": [release_id] }),
            "NOT_FOUND",
            "serviceIds",
        ),
        (
            json!({ "serviceIds": [unknown_service] }),
            "NOT_FOUND",
            "serviceIds",
        ),
        (json!({ "projectId": vpn }), "NOT_FOUND", "projectId"),
    ];
    for (overrides, want, field) in cases {
        let input = change_input(&app, "NORMAL", "LOW", overrides.clone()).await;
        let (code, message) =
            change_fails(&app, &requester, "createChange", json!({ "input": input })).await;
        assert_eq!(code, want, "{overrides}: {message}");
        assert!(
            message.contains(field),
            "{overrides}: {message} should name {field}"
        );
    }
    let people = [
        (
            r#"mutation { createPerson(name: "Ann", email: "not-an-email") { id } }"#,
            "email",
        ),
        (
            r#"mutation { createPerson(name: " ", email: "ann@example.org") { id } }"#,
            "name",
        ),
        (
            r#"mutation { createService(key: "Not A Slug", name: "X") { id } }"#,
            "key",
        ),
        (
            r#"mutation { createPerson(name: "Dup", email: "bob@portfolio.example") { id } }"#,
            "email",
        ),
    ];
    for (doc, field) in people {
        let (code, message) = app.fails_as(&admin, doc, json!({})).await;
        assert!(
            code == "BAD_USER_INPUT" || code == "CONFLICT",
            "{doc}: {code}"
        );
        assert!(message.contains(field), "{message} should name {field}");
    }
    assert_eq!(audit_count(&app).await, before, "nothing was written");
}

/// Creates a service as Alice, in `lifecycle`; returns its ID.
async fn new_service(app: &TestApp, key: &str, lifecycle: &str) -> Value {
    let q = "mutation($k: String!, $l: ServiceLifecycle) { createService(key: $k, name: $k, lifecycle: $l) { id } }";
    app.ok_as(&app.token("admin"), q, json!({ "k": key, "l": lifecycle }))
        .await["createService"]["id"]
        .clone()
}

const MOVE_SERVICE: &str = "mutation($id: ID!, $l: ServiceLifecycle) { updateService(id: $id, lifecycle: $l) { lifecycle version } }";

#[tokio::test]
async fn a_service_moves_from_pipeline_to_live_to_retired_and_retired_is_final() {
    let app = spawn_app().await;
    let admin = app.token("admin");
    let id = new_service(&app, "chatbot", "PIPELINE").await;
    let live = app
        .ok_as(&admin, MOVE_SERVICE, json!({ "id": id, "l": "LIVE" }))
        .await;
    assert_eq!(live["updateService"]["lifecycle"], "LIVE");
    let (code, message) = app
        .fails_as(&admin, MOVE_SERVICE, json!({ "id": id, "l": "PIPELINE" }))
        .await;
    assert_eq!(code, "INVALID_TRANSITION");
    assert!(message.contains("from LIVE to PIPELINE"), "{message}");
    let retired = app
        .ok_as(&admin, MOVE_SERVICE, json!({ "id": id, "l": "RETIRED" }))
        .await;
    assert_eq!(retired["updateService"]["lifecycle"], "RETIRED");
    let (code, message) = app
        .fails_as(&admin, MOVE_SERVICE, json!({ "id": id, "l": "LIVE" }))
        .await;
    assert_eq!(code, "INVALID_TRANSITION");
    assert!(message.contains("RETIRED is final"), "{message}");
    let same = app
        .data(
            "query($id: ID!) { node(id: $id) { ... on Service { lifecycle version } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        same["node"], retired["updateService"],
        "the refusals wrote nothing"
    );
}

#[tokio::test]
async fn an_offering_is_published_only_while_every_service_it_holds_is_live() {
    let app = spawn_app().await;
    let admin = app.token("admin");
    let vpn = service_id(&app, "vpn").await;
    let beta = new_service(&app, "vpn-beta", "PIPELINE").await;
    let o = app
        .ok_as(
            &admin,
            "mutation($s: [ID!]) { createServiceOffering(key: \"remote-pro\", name: \"Remote pro\", targetConsumerGroup: \"Engineers\", serviceIds: $s) { id version } }",
            json!({ "s": [vpn, beta] }),
        )
        .await["createServiceOffering"]
        .clone();
    let publish =
        "mutation($o: ID!) { updateServiceOffering(id: $o, status: PUBLISHED) { status version } }";
    let (code, message) = app.fails_as(&admin, publish, json!({ "o": o["id"] })).await;
    assert_eq!(code, "CONFLICT");
    assert!(message.contains("`vpn-beta` is PIPELINE"), "{message}");
    let still = app
        .data(
            "query($id: ID!) { node(id: $id) { ... on ServiceOffering { status version } } }",
            json!({ "id": o["id"] }),
        )
        .await;
    assert_eq!(still["node"]["status"], "DRAFT");

    app.ok_as(&admin, MOVE_SERVICE, json!({ "id": beta, "l": "LIVE" }))
        .await;
    let published = app.ok_as(&admin, publish, json!({ "o": o["id"] })).await;
    assert_eq!(published["updateServiceOffering"]["status"], "PUBLISHED");

    // A published offering takes no pipeline service, and holds its services LIVE.
    let next = new_service(&app, "vpn-next", "PIPELINE").await;
    let (code, _) = app
        .fails_as(
            &admin,
            "mutation($o: ID!, $s: ID!) { addServiceToOffering(offeringId: $o, serviceId: $s) { id } }",
            json!({ "o": o["id"], "s": next }),
        )
        .await;
    assert_eq!(code, "CONFLICT");
    let (code, message) = app
        .fails_as(&admin, MOVE_SERVICE, json!({ "id": beta, "l": "RETIRED" }))
        .await;
    assert_eq!(code, "CONFLICT");
    assert!(message.contains("remote-pro"), "{message}");
    let beta_now = app
        .data(
            "query($id: ID!) { node(id: $id) { ... on Service { lifecycle } } }",
            json!({ "id": beta }),
        )
        .await;
    assert_eq!(beta_now["node"]["lifecycle"], "LIVE");
}

#[tokio::test]
async fn a_retired_change_model_takes_no_new_submission_and_what_it_authorized_keeps_its_authority()
{
    let app = spawn_app().await;
    let (alice, requester) = (app.token("admin"), app.token("requester"));
    let bob = app.token_of("bob", entity::TokenScope::Write).await;
    let model = model_id(&app, "os-patching").await;
    let edit = "mutation($id: ID!, $r: RiskLevel) { updateChangeModel(id: $id, maxRisk: $r) { maxRisk version retiredAt } }";
    let (code, _) = app
        .fails_as(&bob, edit, json!({ "id": model, "r": "LOW" }))
        .await;
    assert_eq!(code, "FORBIDDEN", "a manager does not edit models");
    let edited = app
        .ok_as(&alice, edit, json!({ "id": model, "r": "LOW" }))
        .await;
    assert_eq!(
        edited["updateChangeModel"],
        json!({ "maxRisk": "LOW", "version": 2, "retiredAt": null })
    );
    let draft_id = draft(
        &app,
        &requester,
        "STANDARD",
        "LOW",
        json!({ "modelId": model }),
    )
    .await;
    let retire = "mutation($id: ID!) { retireChangeModel(id: $id) { retiredAt version } }";
    let retired = app.ok_as(&alice, retire, json!({ "id": model })).await;
    assert!(!retired["retireChangeModel"]["retiredAt"].is_null());
    let (code, _) = app.fails_as(&alice, retire, json!({ "id": model })).await;
    assert_eq!(code, "CONFLICT", "retired once");

    let (code, message) =
        change_fails(&app, &requester, "submitChange", json!({ "id": draft_id })).await;
    assert_eq!(code, "INVALID_TRANSITION");
    assert!(message.contains("retired"), "{message}");
    let still = app
        .data(
            "query($id: ID!) { node(id: $id) { ... on Change { status } } }",
            json!({ "id": draft_id }),
        )
        .await;
    assert_eq!(still["node"]["status"], "DRAFT");

    // The demo's patch change for the payroll servers was authorized by the model before.
    let authorized = app
        .data(
            "{ change(number: \"CHG0000018\") { id status model { key } } }",
            json!({}),
        )
        .await["change"]
        .clone();
    assert_eq!(
        (
            authorized["status"].as_str(),
            authorized["model"]["key"].as_str()
        ),
        (Some("AUTHORIZED"), Some("os-patching"))
    );
    let (start, end) = window_from_now(4, 2);
    let c = change_ok(
        &app,
        &alice,
        "scheduleChange",
        json!({ "id": authorized["id"], "start": start, "end": end }),
    )
    .await;
    assert_eq!(c["status"], "SCHEDULED", "its authority stands");
}
