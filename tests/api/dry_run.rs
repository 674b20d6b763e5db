//! Dry runs: a mutation sent with `Dry-Run: true` runs every rule and every write inside its
//! transaction, answers exactly as the real run then does (or refuses with the same code),
//! and rolls back: nothing stored, nothing audited, no event published.

use std::collections::{BTreeMap, BTreeSet};

use sea_orm::{FromQueryResult, JsonValue, Statement};
use serde_json::{Value, json};

use portfolio::config::ServeArgs;

use crate::helpers::{TestApp, on_postgres, spawn_app, spawn_with};
use crate::ops::*;

/// Every row of every table, as text, by table: what a dry run must leave as it found.
/// A token's `last_used_at` is left out: reading with a token may write it.
async fn stored(app: &TestApp) -> BTreeMap<String, Vec<String>> {
    let backend = app.db.get_database_backend();
    let list = if on_postgres() {
        "SELECT table_name AS name FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
    } else {
        // sqlite_sequence holds the AUTOINCREMENT counters: a dry run consumes none.
        "SELECT name FROM sqlite_master WHERE type = 'table'"
    };
    let tables = JsonValue::find_by_statement(Statement::from_string(backend, list))
        .all(&app.db)
        .await
        .expect("tables listed");
    let mut out = BTreeMap::new();
    for t in tables {
        let name = t["name"].as_str().expect("a table name").to_owned();
        let rows = JsonValue::find_by_statement(Statement::from_string(
            backend,
            format!("SELECT * FROM \"{name}\""),
        ))
        .all(&app.db)
        .await
        .expect("rows read");
        let mut rows: Vec<String> = rows
            .into_iter()
            .map(|mut r| {
                if let Some(o) = r.as_object_mut() {
                    o.remove("last_used_at");
                }
                r.to_string()
            })
            .collect();
        rows.sort();
        out.insert(name, rows);
    }
    assert!(out.len() > 20, "every table was read: {:?}", out.keys());
    out
}

/// The answer with what differs between two runs by design blanked: the secret of a new
/// token, and on PostgreSQL the ids a dry run's sequence consumed (and the change numbers
/// made from them).
fn comparable(mut v: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(o) => {
                for (k, x) in o.iter_mut() {
                    let generated =
                        k == "secret" || (on_postgres() && (k == "id" || k == "number"));
                    if generated {
                        *x = Value::Null;
                    } else {
                        walk(x);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

/// The name of the first field an operation selects.
fn root_field(doc: &str) -> String {
    let body = &doc[doc.find('{').expect("a selection") + 1..];
    body.trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric())
        .collect()
}

/// Sends `doc` as `token` with a `Dry-Run` header of `value`; returns status and body.
async fn send(app: &TestApp, token: &str, doc: &str, vars: &Value, value: &str) -> (u16, Value) {
    app.post_with(token, &[("Dry-Run", value)], doc, vars).await
}

/// Runs mutations as a dry run then for real, checking each pair, and remembers which
/// mutations it has tried.
struct Trial<'a> {
    app: &'a TestApp,
    tried: BTreeSet<String>,
}

impl<'a> Trial<'a> {
    /// Tries `doc` dry, checks nothing changed, runs it for real and checks both answers
    /// agree; the real run must succeed. Returns the mutation's result.
    async fn step(&mut self, token: &str, doc: &str, vars: Value) -> Value {
        let real = self.both(token, doc, vars).await;
        assert!(real.get("errors").is_none(), "{doc}: {real}");
        real["data"][root_field(doc)].clone()
    }

    /// As [`Trial::step`] for a mutation that must be refused; returns its code.
    async fn refused(&mut self, token: &str, doc: &str, vars: Value) -> String {
        let real = self.both(token, doc, vars).await;
        real["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("{doc}: expected a refusal, got {real}"))
            .to_owned()
    }

    async fn both(&mut self, token: &str, doc: &str, vars: Value) -> Value {
        let name = root_field(doc);
        let before = stored(self.app).await;
        let (status, dry) = send(self.app, token, doc, &vars, "true").await;
        assert_eq!(status, 200, "{name}: {dry}");
        assert_eq!(dry["extensions"]["dryRun"], true, "{name}: {dry}");
        assert!(
            stored(self.app).await == before,
            "{name}: a dry run left the database as it found it"
        );
        let real = self.app.post_as(Some(token), doc, vars).await;
        assert!(real.get("extensions").is_none_or(|x| x["dryRun"].is_null()));
        let strip = |mut v: Value| {
            if let Some(o) = v.as_object_mut() {
                o.remove("extensions");
            }
            comparable(v)
        };
        assert_eq!(
            strip(dry),
            strip(real.clone()),
            "{name}: the dry run answered as the real run"
        );
        self.tried.insert(name);
        real
    }
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_owned()
}

#[tokio::test]
async fn every_mutation_tried_dry_changes_nothing_and_answers_as_the_real_run_then_does() {
    // No webhook worker: its writes, concurrent with the trials, would blur the comparison.
    let app = spawn_with(ServeArgs {
        demo: true,
        anonymous_read: Some(true),
        webhook_worker: false,
        ..ServeArgs::default()
    })
    .await;
    let admin = app.token("admin");
    let requester = app.token("requester");
    let release = app.token("release");
    let mut t = Trial {
        app: &app,
        tried: BTreeSet::new(),
    };
    let vpn = service_id(&app, "vpn").await;
    let email = service_id(&app, "email").await;
    let sso = service_id(&app, "identity-sso").await;

    // People, partners, services and their links.
    let p = t
        .step(&admin, r#"mutation { createPerson(name: "Dry Runner", email: "dry@portfolio.example", skills: ["ITIL"]) { id name email skills } }"#, json!({}))
        .await;
    let person = id(&p);
    t.step(&admin, "mutation($id: ID!) { updatePerson(id: $id, name: \"Dry Runner II\", expectedVersion: 1) { id name skills } }", json!({ "id": person })).await;
    let partner = id(&t
        .step(
            &admin,
            r#"mutation { createPartner(name: "Dry Hosting", kind: SUPPLIER) { id name kind } }"#,
            json!({}),
        )
        .await);
    let svc = id(&t
        .step(&admin, "mutation($o: ID) { createService(key: \"dry-svc\", name: \"Dry service\", criticality: HIGH, ownerId: $o) { id key name lifecycle criticality owner { email } } }", json!({ "o": person }))
        .await);
    t.step(&admin, "mutation($id: ID!) { updateService(id: $id, lifecycle: LIVE, expectedVersion: 1) { key lifecycle criticality } }", json!({ "id": svc })).await;
    let link = "mutation($s: ID!, $p: ID!) { linkPartner(serviceId: $s, partnerId: $p, role: \"hosting\", contractRef: \"UC-1\") { key partners { role partner { name } } } }";
    t.step(&admin, link, json!({ "s": svc, "p": partner }))
        .await;
    t.step(&admin, "mutation($s: ID!, $p: ID!) { unlinkPartner(serviceId: $s, partnerId: $p) { key partners { role } } }", json!({ "s": svc, "p": partner })).await;
    let depend = "mutation($s: ID!, $d: ID!) { addServiceDependency(serviceId: $s, dependsOnId: $d, kind: RUNTIME, note: \"login\") { service { key } dependsOn { key } kind note } }";
    t.step(&admin, depend, json!({ "s": svc, "d": sso })).await;
    assert_eq!(
        t.refused(&admin, depend, json!({ "s": svc, "d": sso }))
            .await,
        "CONFLICT",
        "a duplicate is refused dry as it is for real"
    );
    t.step(&admin, "mutation($s: ID!, $d: ID!) { removeServiceDependency(serviceId: $s, dependsOnId: $d) { kind note } }", json!({ "s": svc, "d": sso })).await;

    // Offerings.
    let offering = id(&t
        .step(&admin, "mutation($s: [ID!]) { createServiceOffering(key: \"dry-offering\", name: \"Dry offering\", targetConsumerGroup: \"Testers\", serviceIds: $s) { id key status services(first: 5) { nodes { key } } } }", json!({ "s": [vpn] }))
        .await);
    t.step(&admin, "mutation($id: ID!) { updateServiceOffering(id: $id, status: PUBLISHED, expectedVersion: 1) { key status } }", json!({ "id": offering })).await;
    t.step(&admin, "mutation($o: ID!, $s: ID!) { addServiceToOffering(offeringId: $o, serviceId: $s) { key services(first: 5) { nodes { key } } } }", json!({ "o": offering, "s": svc })).await;
    t.step(&admin, "mutation($o: ID!, $s: ID!) { removeServiceFromOffering(offeringId: $o, serviceId: $s) { key services(first: 5) { nodes { key } } } }", json!({ "o": offering, "s": svc })).await;
    let component = id(&t
        .step(&admin, "mutation($o: ID!) { addOfferingComponent(offeringId: $o, kind: GOODS, name: \"Laptop\", description: \"A laptop\") { id kind name } }", json!({ "o": offering }))
        .await);
    t.step(
        &admin,
        "mutation($id: ID!) { removeOfferingComponent(id: $id) { key } }",
        json!({ "id": component }),
    )
    .await;

    // Processes, roles, projects, models, approval rules.
    let process = id(&t
        .step(&admin, r#"mutation { createProcess(key: "dry-process", name: "Dry process", description: "Tried") { id key name } }"#, json!({}))
        .await);
    t.step(&admin, "mutation($p: ID!) { addPolicy(processId: $p, statement: \"Try before you write.\") { statement } }", json!({ "p": process })).await;
    let assignment = id(&t
        .step(&admin, "mutation($p: ID!, $who: ID!) { assignProcessRole(processId: $p, personId: $who, role: PRACTITIONER, scope: \"EMEA\") { id role scope } }", json!({ "p": process, "who": person }))
        .await);
    t.step(
        &admin,
        "mutation($a: ID!) { revokeProcessRole(assignmentId: $a) { key } }",
        json!({ "a": assignment }),
    )
    .await;
    let project = id(&t
        .step(&admin, "mutation($m: ID) { createProject(code: \"PRJ-DRY-001\", name: \"Dry project\", managerId: $m) { id code status } }", json!({ "m": person }))
        .await);
    t.step(&admin, "mutation($id: ID!) { updateProject(id: $id, status: ACTIVE, expectedVersion: 1) { code status } }", json!({ "id": project })).await;
    let model = id(&t
        .step(&admin, r#"mutation { createChangeModel(key: "dry-model", name: "Dry model", changeType: STANDARD, maxRisk: LOW, preApproved: true) { id key preApproved requiredApprovals } }"#, json!({}))
        .await);
    t.step(&admin, "mutation($id: ID!) { updateChangeModel(id: $id, name: \"Dry model II\", expectedVersion: 1) { key name } }", json!({ "id": model })).await;
    t.step(
        &admin,
        "mutation($id: ID!) { retireChangeModel(id: $id) { key version } }",
        json!({ "id": model }),
    )
    .await;
    let rule = id(&t
        .step(&admin, r#"mutation { createApprovalRule(name: "Dry rule", minRisk: VERY_HIGH, requiredApprovals: 3) { id name requiredApprovals } }"#, json!({}))
        .await);
    t.step(&admin, "mutation($id: ID!) { updateApprovalRule(id: $id, requiredApprovals: 4, expectedVersion: 1) { name requiredApprovals } }", json!({ "id": rule })).await;
    t.step(
        &admin,
        "mutation($id: ID!) { deleteApprovalRule(id: $id, expectedVersion: 2) }",
        json!({ "id": rule }),
    )
    .await;

    // Tokens and blackout windows.
    let token = t
        .step(&admin, "mutation($p: ID!) { createApiToken(personId: $p, scope: READ, label: \"dry\") { secret token { id label scope } } }", json!({ "p": person }))
        .await;
    let token = token["token"]["id"]
        .as_str()
        .expect("a token id")
        .to_owned();
    t.step(&admin, "mutation($id: ID!) { setApiTokenExpiry(id: $id, expiresAt: \"2031-01-01T00:00:00Z\") { label expiresAt } }", json!({ "id": token })).await;
    t.step(
        &admin,
        "mutation($id: ID!) { revokeApiToken(id: $id) { label scope } }",
        json!({ "id": token }),
    )
    .await;
    let (from, to) = window_from_now(300, 48);
    let blackout = id(&t
        .step(&admin, "mutation($f: DateTime!, $t: DateTime!, $s: [ID!]) { createBlackoutWindow(name: \"Dry freeze\", reason: \"Tried\", startsAt: $f, endsAt: $t, serviceIds: $s) { id name } }", json!({ "f": from, "t": to, "s": [email] }))
        .await);
    t.step(&admin, "mutation($id: ID!) { updateBlackoutWindow(id: $id, name: \"Dry freeze II\", expectedVersion: 1) { name } }", json!({ "id": blackout })).await;
    t.step(
        &admin,
        "mutation($id: ID!) { deleteBlackoutWindow(id: $id) }",
        json!({ "id": blackout }),
    )
    .await;

    // The catalog in bulk: a new person, an updated service, an unchanged partner.
    t.step(&admin, "mutation($i: CatalogInput!) { upsertCatalog(input: $i) { created updated unchanged refused written rows { source kind key outcome reason } } }", json!({ "i": {
        "people": [{ "email": "dry.bulk@example.org", "name": "Dry Bulk", "skills": ["itil"] }],
        "partners": [{ "name": "Globex Networks", "kind": "SUPPLIER" }],
        "services": [{ "key": "vpn", "name": "Remote access VPN (bulk)", "ownerEmail": "dry.bulk@example.org" }],
    } })).await;

    // A webhook endpoint, which the events of the steps below then queue deliveries for.
    let hook = "endpoint { id url description paused eventTypes version } secret";
    let registered = t
        .step(&admin, &format!("mutation {{ registerWebhookEndpoint(url: \"http://127.0.0.1:9/hook\", eventTypes: [CHANGE]) {{ {hook} }} }}"), json!({}))
        .await;
    let endpoint = id(&registered["endpoint"]);
    t.step(&admin, "mutation($id: ID!) { updateWebhookEndpoint(id: $id, description: \"Dry hook\", eventTypes: [CHANGE, RELEASE], expectedVersion: 1) { description eventTypes version } }", json!({ "id": endpoint })).await;
    t.step(
        &admin,
        &format!("mutation($id: ID!) {{ rotateWebhookSecret(id: $id) {{ {hook} }} }}"),
        json!({ "id": endpoint }),
    )
    .await;
    t.step(
        &admin,
        "mutation($id: ID!) { pauseWebhookEndpoint(id: $id) { paused version } }",
        json!({ "id": endpoint }),
    )
    .await;
    t.step(
        &admin,
        "mutation($id: ID!) { resumeWebhookEndpoint(id: $id) { paused version } }",
        json!({ "id": endpoint }),
    )
    .await;

    // A change through its whole lifecycle, and the other ways a change ends.
    let fields = "id number status version approvalCount outcome";
    let create = format!(
        "mutation($i: CreateChangeInput!) {{ createChange(input: $i) {{ {fields} services(first: 5) {{ nodes {{ key }} }} }} }}"
    );
    let input = json!({ "i": { "title": "Dry change", "category": "INFRASTRUCTURE", "type": "NORMAL", "risk": "MEDIUM", "serviceIds": [vpn] } });
    let change = id(&t.step(&requester, &create, input.clone()).await);
    t.step(&requester, &format!("mutation($id: ID!) {{ updateChange(id: $id, input: {{ title: \"Dry change II\" }}) {{ {fields} title }} }}"), json!({ "id": change })).await;
    let submit = format!("mutation($id: ID!) {{ submitChange(id: $id) {{ {fields} }} }}");
    assert_eq!(
        t.refused(&admin, &submit, json!({ "id": change })).await,
        "FORBIDDEN",
        "only the requester submits, dry or not"
    );
    t.step(&requester, &submit, json!({ "id": change })).await;
    t.step(
        &admin,
        &format!(
            "mutation($id: ID!) {{ approveChange(id: $id, comment: \"Fine\") {{ {fields} }} }}"
        ),
        json!({ "id": change }),
    )
    .await;
    let (start, end) = window_from_now(-1, 72);
    t.step(&admin, &format!("mutation($id: ID!, $s: DateTime!, $e: DateTime!) {{ scheduleChange(id: $id, plannedStart: $s, plannedEnd: $e) {{ {fields} plannedStart plannedEnd }} }}"), json!({ "id": change, "s": start, "e": end })).await;
    t.step(
        &admin,
        &format!("mutation($id: ID!) {{ startChange(id: $id) {{ {fields} }} }}"),
        json!({ "id": change }),
    )
    .await;
    t.step(
        &admin,
        &format!(
            "mutation($id: ID!) {{ completeChange(id: $id, outcome: SUCCESSFUL) {{ {fields} }} }}"
        ),
        json!({ "id": change }),
    )
    .await;
    t.step(&admin, &format!("mutation($id: ID!) {{ closeChange(id: $id, review: {{ summary: \"Went well\", objectivesMet: true }}) {{ {fields} review {{ summary objectivesMet }} }} }}"), json!({ "id": change })).await;
    let rejected = draft(&app, &requester, "NORMAL", "MEDIUM", json!({})).await;
    change_ok(&app, &requester, "submitChange", json!({ "id": rejected })).await;
    t.step(
        &admin,
        &format!(
            "mutation($id: ID!) {{ rejectChange(id: $id, comment: \"Not now\") {{ {fields} }} }}"
        ),
        json!({ "id": rejected }),
    )
    .await;
    let cancelled = draft(&app, &requester, "NORMAL", "LOW", json!({})).await;
    t.step(&requester, &format!("mutation($id: ID!) {{ cancelChange(id: $id, reason: \"Not needed\") {{ {fields} cancellationReason }} }}"), json!({ "id": cancelled })).await;

    // A release packaging an authorized change.
    let packaged = authorized(&app).await;
    let rel = "id name status revision changes { nodes { number status } } services(first: 5) { nodes { key } }";
    let r = id(&t
        .step(&release, &format!("mutation($s: [ID!]) {{ createRelease(input: {{ name: \"Dry release\", version: \"1.0\", type: MINOR, serviceIds: $s }}) {{ {rel} }} }}"), json!({ "s": [vpn] }))
        .await);
    t.step(&release, &format!("mutation($id: ID!) {{ updateRelease(id: $id, name: \"Dry release II\", expectedVersion: 1) {{ {rel} }} }}"), json!({ "id": r })).await;
    t.step(&release, &format!("mutation($r: ID!, $s: ID!) {{ addServiceToRelease(releaseId: $r, serviceId: $s) {{ {rel} }} }}"), json!({ "r": r, "s": email })).await;
    t.step(&release, &format!("mutation($r: ID!, $s: ID!) {{ removeServiceFromRelease(releaseId: $r, serviceId: $s) {{ {rel} }} }}"), json!({ "r": r, "s": email })).await;
    let add = format!(
        "mutation($r: ID!, $c: ID!) {{ addChangeToRelease(releaseId: $r, changeId: $c) {{ {rel} }} }}"
    );
    t.step(&release, &add, json!({ "r": r, "c": packaged }))
        .await;
    t.step(&release, &format!("mutation($r: ID!, $c: ID!) {{ removeChangeFromRelease(releaseId: $r, changeId: $c) {{ {rel} }} }}"), json!({ "r": r, "c": packaged })).await;
    release_ok(
        &app,
        &release,
        "addChangeToRelease",
        json!({ "release": r, "change": packaged }),
    )
    .await;
    t.step(
        &release,
        &format!("mutation($id: ID!) {{ advanceRelease(id: $id, to: BUILDING) {{ {rel} }} }}"),
        json!({ "id": r }),
    )
    .await;

    let queued = app
        .ok_as(
            &admin,
            "query($e: ID!) { webhookDeliveries(endpointId: $e, first: 1) { id } }",
            json!({ "e": endpoint }),
        )
        .await;
    let delivery = id(&queued["webhookDeliveries"][0]);
    t.step(
        &admin,
        "mutation($id: ID!) { replayWebhookDelivery(id: $id) { status attempts eventType } }",
        json!({ "id": delivery }),
    )
    .await;
    t.step(
        &admin,
        "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }",
        json!({ "id": endpoint }),
    )
    .await;

    let schema = app
        .data(
            "{ __schema { mutationType { fields { name } } } }",
            json!({}),
        )
        .await;
    let all: BTreeSet<String> = schema["__schema"]["mutationType"]["fields"]
        .as_array()
        .expect("mutation fields")
        .iter()
        .filter_map(|f| f["name"].as_str().map(str::to_owned))
        .collect();
    let untried: Vec<&String> = all.difference(&t.tried).collect();
    assert!(
        untried.is_empty(),
        "every mutation is tried dry; not: {untried:?}"
    );
}

#[tokio::test]
async fn a_dry_run_header_other_than_true_or_false_is_refused_and_false_writes() {
    let app = spawn_app().await;
    let doc = r#"mutation { createPartner(name: "Maybe", kind: VENDOR) { name } }"#;
    let before = stored(&app).await;
    let (status, body) = send(&app, &app.token("admin"), doc, &json!({}), "yes").await;
    assert_eq!(
        status, 200,
        "a JSON client gets its refusal as a GraphQL answer"
    );
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert!(
        stored(&app).await == before,
        "a refused header writes nothing"
    );
    let (_, body) = send(&app, &app.token("admin"), doc, &json!({}), "false").await;
    assert_eq!(body["data"]["createPartner"]["name"], "Maybe");
    assert!(stored(&app).await != before, "Dry-Run: false is a real run");
}

#[tokio::test]
async fn the_mutations_of_one_dry_run_see_each_others_writes_as_a_real_run_would() {
    let app = spawn_app().await;
    let mut t = Trial {
        app: &app,
        tried: BTreeSet::new(),
    };
    let twice = r#"mutation {
        first: createService(key: "twice", name: "First") { key name }
        second: createService(key: "twice", name: "Second") { key name } }"#;
    let code = t.refused(&app.token("admin"), twice, json!({})).await;
    assert_eq!(
        code, "CONFLICT",
        "the second creation meets the first one's key, dry as for real"
    );
}
