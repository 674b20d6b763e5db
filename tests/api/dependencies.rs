//! Service dependencies: the portfolio's technology graph, recorded by service owners, read
//! both ways as connections.

use entity::TokenScope;
use serde_json::{Value, json};

use crate::helpers::spawn_app;
use crate::ops::*;

const LINKS: &str = "query($k: String!) { service(key: $k) {
    dependsOn(first: 50) { totalCount nodes { key } }
    dependents(first: 50) { totalCount nodes { key } }
    dependencies { dependsOn { key } kind note } } }";

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n["key"].as_str().map(str::to_owned))
        .collect();
    k.sort();
    k
}

const ADD: &str = "mutation($s: ID!, $d: ID!, $k: DependencyKind!, $n: String) {
    addServiceDependency(serviceId: $s, dependsOnId: $d, kind: $k, note: $n) { service { key } dependsOn { key } kind note } }";
const REMOVE: &str = "mutation($s: ID!, $d: ID!) { removeServiceDependency(serviceId: $s, dependsOnId: $d) { kind } }";

#[tokio::test]
async fn dependencies_read_both_ways_cycles_included() {
    let app = spawn_app().await;
    let payroll = app.data(LINKS, json!({ "k": "payroll" })).await["service"].clone();
    assert_eq!(keys(&payroll["dependsOn"]), ["hr-portal", "identity-sso"]);
    assert_eq!(
        keys(&payroll["dependents"]),
        ["data-warehouse", "hr-portal"],
        "a cycle with the HR portal"
    );
    assert_eq!(payroll["dependsOn"]["totalCount"], 2);
    let kinds: Vec<&str> = payroll["dependencies"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["kind"].as_str())
        .collect();
    assert_eq!(kinds.len(), 2);
    assert!(kinds.contains(&"DATA") && kinds.contains(&"RUNTIME"));
    let sso = app.data(LINKS, json!({ "k": "identity-sso" })).await["service"].clone();
    assert_eq!(
        keys(&sso["dependents"]),
        [
            "customer-portal",
            "email",
            "hr-portal",
            "payroll",
            "service-desk",
            "vpn"
        ]
    );
    assert!(keys(&sso["dependsOn"]).is_empty());
}

#[tokio::test]
async fn owners_record_and_remove_dependencies_and_refusals_change_nothing() {
    let app = spawn_app().await;
    let (vpn, email, fax) = (
        service_id(&app, "vpn").await,
        service_id(&app, "email").await,
        service_id(&app, "legacy-fax").await,
    );
    let bob = app.token_of("bob", TokenScope::Write).await; // owns the VPN
    let laura = app.token("requester"); // owns no service
    let before = app.data(LINKS, json!({ "k": "vpn" })).await;

    let (code, _) = app
        .fails_as(&bob, ADD, json!({ "s": vpn, "d": vpn, "k": "RUNTIME" }))
        .await;
    assert_eq!(
        code, "BAD_USER_INPUT",
        "a service does not depend on itself"
    );
    let (code, _) = app
        .fails_as(&laura, ADD, json!({ "s": vpn, "d": email, "k": "RUNTIME" }))
        .await;
    assert_eq!(
        code, "FORBIDDEN",
        "the owner of either service, or an ADMIN"
    );
    let sso = service_id(&app, "identity-sso").await;
    let (code, _) = app
        .fails_as(&bob, ADD, json!({ "s": vpn, "d": sso, "k": "DATA" }))
        .await;
    assert_eq!(code, "CONFLICT", "the VPN already depends on identity");
    assert_eq!(
        app.data(LINKS, json!({ "k": "vpn" })).await,
        before,
        "nothing changed"
    );

    // Bob owns the VPN: he records what it depends on, and what depends on it.
    let added = app
        .ok_as(
            &bob,
            ADD,
            json!({ "s": vpn, "d": email, "k": "INFRASTRUCTURE", "n": "Alerts by mail." }),
        )
        .await;
    assert_eq!(
        added["addServiceDependency"],
        json!({ "service": { "key": "vpn" }, "dependsOn": { "key": "email" }, "kind": "INFRASTRUCTURE", "note": "Alerts by mail." })
    );
    app.ok_as(&bob, ADD, json!({ "s": fax, "d": vpn, "k": "RUNTIME" }))
        .await;
    let now = app.data(LINKS, json!({ "k": "vpn" })).await["service"].clone();
    assert_eq!(keys(&now["dependsOn"]), ["email", "identity-sso"]);
    assert_eq!(keys(&now["dependents"]), ["legacy-fax"]);
    let email_dependents =
        app.data(LINKS, json!({ "k": "email" })).await["service"]["dependents"].clone();
    assert!(keys(&email_dependents).contains(&"vpn".to_owned()));

    app.ok_as(&bob, REMOVE, json!({ "s": vpn, "d": email }))
        .await;
    let (code, _) = app
        .fails_as(&bob, REMOVE, json!({ "s": vpn, "d": email }))
        .await;
    assert_eq!(code, "NOT_FOUND", "removed once");
    let history = app
        .ok_as(
            &app.token("admin"),
            "query($id: ID!) { auditEvents(first: 50, entityId: $id) { nodes { action } } }",
            json!({ "id": vpn }),
        )
        .await;
    let actions: Vec<&str> = history["auditEvents"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.ends_with(&["DEPENDENCY_ADDED", "DEPENDENCY_REMOVED"]),
        "{actions:?}"
    );
}

#[tokio::test]
async fn both_directions_load_in_batches_whatever_the_number_of_services() {
    let app = spawn_app().await;
    let q = "query($n: Int!) { services(first: $n) { nodes { key
        dependsOn(first: 10) { nodes { key } } dependents(first: 10) { nodes { key } }
        dependencies { kind dependsOn { key } } } } }";
    let mut spent = Vec::new();
    for n in [3, 10] {
        let before = app.statements().await;
        app.data(q, json!({ "n": n })).await;
        spent.push(app.statements().await - before);
    }
    assert_eq!(spent[0], spent[1], "{spent:?}");
}
