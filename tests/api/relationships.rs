//! Every relationship of the contract, walked in both directions over the demo portfolio.

use serde_json::json;

use crate::helpers::{pluck, spawn_app};

#[tokio::test]
async fn a_process_names_its_owner_managers_practitioners_and_policies() {
    let app = spawn_app().await;
    let q = r#"{ process(key: "change-management") {
        owner { name } managers { name } practitioners { name }
        roleAssignments { role scope person { email } process { key } }
        policies { statement process { key } } } }"#;
    let p = &app.data(q, json!({})).await["process"];
    assert_eq!(p["owner"]["name"], "Alice Moreau");
    assert_eq!(
        pluck(&p["managers"], "name"),
        vec!["Bob Chen", "Carmen Diaz", "Deepak Rao"]
    );
    assert_eq!(pluck(&p["practitioners"], "name").len(), 2);
    let scopes: Vec<&str> = p["roleAssignments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["scope"].as_str())
        .collect();
    assert_eq!(
        scopes,
        vec!["EMEA", "Americas"],
        "Deepak manages every region"
    );
    assert!(p["policies"].as_array().is_some_and(
        |a| a.len() == 3 && a.iter().all(|x| x["process"]["key"] == "change-management")
    ));
    let im = app
        .data(
            r#"{ process(key: "incident-management") { policies { statement } } }"#,
            json!({}),
        )
        .await;
    assert!(
        pluck(&im["process"]["policies"], "statement").contains(&"All incidents must be logged.")
    );
}

#[tokio::test]
async fn a_person_leads_to_roles_services_changes_and_projects() {
    let app = spawn_app().await;
    let q = r#"{ people(search: "laura") { nodes {
        processRoles { role }
        ownedServices { totalCount }
        requestedChanges(filter: { status: [CLOSED] }) { totalCount nodes { requestedBy { name } status } }
        managedProjects { totalCount nodes { code manager { name } } } } } }"#;
    let laura = &app.data(q, json!({})).await["people"]["nodes"][0];
    assert_eq!(laura["managedProjects"]["totalCount"], 4);
    assert!(
        laura["managedProjects"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|p| p["manager"]["name"] == "Laura Novak")
    );
    let closed = &laura["requestedChanges"];
    assert!(closed["totalCount"].as_i64().unwrap_or(0) >= 2);
    assert!(
        closed["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|c| c["requestedBy"]["name"] == "Laura Novak" && c["status"] == "CLOSED")
    );
    let mateo = app.data(r#"{ people(search: "mateo") { nodes { ownedServices { nodes { key owner { name } } } } } }"#, json!({})).await;
    let owned = &mateo["people"]["nodes"][0]["ownedServices"]["nodes"];
    assert_eq!(
        pluck(owned, "key"),
        vec!["email", "identity-sso", "mobile-app", "customer-portal"]
    );
}

#[tokio::test]
async fn services_offerings_and_partners_link_both_ways() {
    let app = spawn_app().await;
    let q = r#"{ service(key: "email") {
        offerings { nodes { key services { nodes { key } } } }
        partners { role contractRef partner { name kind services { service { key } } } } } }"#;
    let s = &app.data(q, json!({})).await["service"];
    let offerings = &s["offerings"]["nodes"];
    assert_eq!(
        pluck(offerings, "key"),
        vec!["employee-workplace", "new-hire-onboarding", "fax-to-email"]
    );
    for o in offerings.as_array().into_iter().flatten() {
        assert!(pluck(&o["services"]["nodes"], "key").contains(&"email"));
    }
    let partners = s["partners"].as_array().cloned().unwrap_or_default();
    assert_eq!(partners.len(), 2);
    for p in &partners {
        let back: Vec<&str> = p["partner"]["services"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| l["service"]["key"].as_str())
            .collect();
        assert!(back.contains(&"email"));
    }
    let o = app.data(r#"{ serviceOffering(key: "employee-workplace") { components { kind offering { key } } goods: components(kind: GOODS) { name } } }"#, json!({})).await;
    let kinds: Vec<&str> = pluck(&o["serviceOffering"]["components"], "kind");
    assert!(
        kinds.contains(&"GOODS")
            && kinds.contains(&"ACCESS_TO_RESOURCE")
            && kinds.contains(&"SERVICE_ACTION")
    );
    assert_eq!(
        pluck(&o["serviceOffering"]["goods"], "name"),
        vec!["Laptop"]
    );
}

#[tokio::test]
async fn a_project_leads_to_changes_releases_and_back() {
    let app = spawn_app().await;
    let q = r#"{ project(code: "PRJ-2026-001") {
        changeSummary { status count }
        changes(first: 100) { totalCount nodes { project { code } } }
        releases { nodes { name version project { code } changes { nodes { number } } } } } }"#;
    let p = &app.data(q, json!({})).await["project"];
    let total = p["changes"]["totalCount"].as_i64().unwrap_or(0);
    let summed: i64 = p["changeSummary"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["count"].as_i64())
        .sum();
    assert_eq!(
        summed, total,
        "the summary adds up to the project's changes"
    );
    assert!(
        p["changes"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|c| c["project"]["code"] == "PRJ-2026-001")
    );
    let versions: Vec<&str> = pluck(&p["releases"]["nodes"], "version");
    assert_eq!(versions, vec!["1.0", "1.1", "1.2", "3.2"]);
}

#[tokio::test]
async fn sequential_releases_chain_through_previous_and_next() {
    let app = spawn_app().await;
    let q = r#"{ releases(filter: { search: "workplace" }) { nodes { version previous { version } next { version } } } }"#;
    let nodes = app.data(q, json!({})).await["releases"]["nodes"].clone();
    let chain: Vec<(String, String, String)> = nodes
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let v = |x: &serde_json::Value| x["version"].as_str().unwrap_or("-").to_owned();
            (v(r), v(&r["previous"]), v(&r["next"]))
        })
        .collect();
    assert_eq!(
        chain,
        vec![
            ("1.0".into(), "-".into(), "1.1".into()),
            ("1.1".into(), "1.0".into(), "1.2".into()),
            ("1.2".into(), "1.1".into(), "-".into())
        ]
    );
}

#[tokio::test]
async fn a_change_shows_its_releases_approvals_impact_and_history() {
    let app = spawn_app().await;
    let q = r#"{ change(number: "CHG0000013") {
        type status model { key changes(filter: { status: [AUTHORIZED] }) { totalCount } }
        services { nodes { key } }
        impactedOfferings { key }
        releases { version status }
        activeRelease { version }
        approvals { decision approver { name } change { number } }
        requiredApprovals approvalCount
        history { totalCount nodes { action entityType actor { name } before after } } } }"#;
    let c = &app.data(q, json!({})).await["change"];
    assert_eq!(pluck(&c["releases"], "version"), vec!["0.9-beta", "1.0"]);
    assert_eq!(
        c["activeRelease"]["version"], "1.0",
        "the cancelled release is not active"
    );
    // It touches identity-sso, a CRITICAL service: the policy asks for three, the OWNER's
    // among them.
    assert_eq!(c["requiredApprovals"], 3);
    assert_eq!(c["approvalCount"], 3);
    assert!(
        c["approvals"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|a| a["change"]["number"] == "CHG0000013")
    );
    let impacted = pluck(&c["impactedOfferings"], "key");
    assert!(
        impacted.contains(&"customer-self-service") && impacted.contains(&"employee-workplace"),
        "{impacted:?}"
    );
    let history = &c["history"];
    assert!(history["totalCount"].as_i64().unwrap_or(0) >= 4);
    assert!(
        history["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|e| e["entityType"] == "Change" && e["before"].is_null()),
        "before/after are for admins only"
    );
}

#[tokio::test]
async fn node_fetches_any_object_by_global_id_and_nodes_keeps_order() {
    let app = spawn_app().await;
    let d = app
        .data(
            r#"{ service(key: "vpn") { id } change(number: "CHG0000001") { id } }"#,
            json!({}),
        )
        .await;
    let (service_id, change_id) = (d["service"]["id"].clone(), d["change"]["id"].clone());
    let q = r#"query($a: ID!, $b: ID!) { nodes(ids: [$b, $a]) { id ... on Change { number } ... on Service { key } } node(id: $a) { ... on Service { key } } }"#;
    let got = app
        .data(q, json!({ "a": service_id, "b": change_id }))
        .await;
    assert_eq!(got["nodes"][0]["number"], "CHG0000001");
    assert_eq!(got["nodes"][1]["key"], "vpn");
    assert_eq!(got["node"]["key"], "vpn");
}
