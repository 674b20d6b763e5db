//! Bulk upsert of the catalog: `portfolio import-catalog FILE [--dry-run]` and the
//! `upsertCatalog` mutation.

use std::process::Command;

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_on_disk};

/// A crafted file: 4 rows new, 1 differing, 3 as stored in the demo.
const CRAFTED_CSV: &str = "\
type,email,name,skills,kind,key,owner,partners,lifecycle,targetConsumerGroup,services,components
person,new.person@example.org,New Person,itil;cmdb,,,,,,,,
person,alice@portfolio.example,Alice Moreau,,,,,,,,,
partner,,Globex Networks,,SUPPLIER,,,,,,,
partner,,Contoso Cloud,,VENDOR,,,,,,,
service,,Remote access VPN (renamed),,,vpn,,,,,,
service,,Bulk API,,,bulk-api,new.person@example.org,Contoso Cloud|hosting|CC-1,LIVE,,,
offering,,Bulk offering,,,bulk-offering,,,,Integrators,bulk-api;vpn,GOODS|Token|A hardware token;SERVICE_ACTION|Reset|Within a day
offering,,Employee workplace,,,employee-workplace,,,,,,
";

/// Runs `portfolio import-catalog` on `app`'s database; exit success and standard output.
fn import(app: &TestApp, file: &std::path::Path, dry_run: bool) -> (bool, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_portfolio"));
    cmd.env("DATABASE_URL", &app.database_url)
        .env("RUST_LOG", "warn")
        .arg("import-catalog")
        .arg(file);
    if dry_run {
        cmd.arg("--dry-run");
    }
    let out = cmd.output().expect("the command runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn write(name: &str, text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!(
        "catalog-{}-{}-{name}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    ));
    std::fs::write(&path, text).expect("the file is written");
    path
}

const SERVICE: &str = "query($k: String!) { service(key: $k) { name version lifecycle \
    owner { email } partners { role contractRef partner { name } } } }";

async fn service(app: &TestApp, key: &str) -> Value {
    app.data(SERVICE, json!({ "k": key })).await["service"].clone()
}

/// The versions of everything the crafted file names.
async fn versions(app: &TestApp) -> Value {
    app.data(
        "{ vpn: service(key: \"vpn\") { version } api: service(key: \"bulk-api\") { version } \
           o: serviceOffering(key: \"bulk-offering\") { version } \
           w: serviceOffering(key: \"employee-workplace\") { version } }",
        json!({}),
    )
    .await
}

#[tokio::test]
async fn a_crafted_file_creates_updates_and_leaves_alone_exactly_and_a_second_run_changes_nothing()
{
    let app = spawn_on_disk().await;
    let file = write("crafted.csv", CRAFTED_CSV);
    let vpn_before = service(&app, "vpn").await;

    let (dry_ok, dry) = import(&app, &file, true);
    assert!(dry_ok, "{dry}");
    assert!(
        dry.contains("4 created, 1 updated, 3 unchanged, 0 refused"),
        "{dry}"
    );
    assert!(dry.contains("nothing written"), "{dry}");
    assert!(
        service(&app, "bulk-api").await.is_null(),
        "a dry run writes nothing"
    );

    let (ok, out) = import(&app, &file, false);
    assert!(ok, "{out}");
    assert!(
        out.contains("4 created, 1 updated, 3 unchanged, 0 refused"),
        "{out}"
    );
    assert!(out.contains("line 6: updated service vpn"), "{out}");
    let vpn = service(&app, "vpn").await;
    assert_eq!(vpn["name"], "Remote access VPN (renamed)");
    assert_eq!(
        vpn["version"],
        vpn_before["version"].as_i64().unwrap_or(0) + 1
    );
    assert_eq!(
        vpn["owner"], vpn_before["owner"],
        "an absent owner is left alone"
    );
    let api = service(&app, "bulk-api").await;
    assert_eq!(api["owner"]["email"], "new.person@example.org");
    assert_eq!(api["lifecycle"], "LIVE");
    assert_eq!(api["partners"][0]["partner"]["name"], "Contoso Cloud");
    assert_eq!(api["partners"][0]["contractRef"], "CC-1");
    let offering = app
        .data(
            "{ serviceOffering(key: \"bulk-offering\") { targetConsumerGroup \
               services(first: 5) { nodes { key } } components { kind name } } }",
            json!({}),
        )
        .await;
    let o = &offering["serviceOffering"];
    assert_eq!(o["targetConsumerGroup"], "Integrators");
    let mut keys: Vec<&str> = o["services"]["nodes"]
        .as_array()
        .map(|n| n.iter().filter_map(|s| s["key"].as_str()).collect())
        .unwrap_or_default();
    keys.sort_unstable();
    assert_eq!(keys, ["bulk-api", "vpn"]);
    assert_eq!(o["components"].as_array().map(Vec::len), Some(2));
    let audited = app
        .data(
            "{ auditEvents(entityType: \"Service\", first: 100) { nodes { action } } }",
            json!({}),
        )
        .await;
    assert!(
        audited["auditEvents"]["nodes"]
            .as_array()
            .is_some_and(|n| n.iter().any(|e| e["action"] == "UPDATED")),
        "the update is audited"
    );

    let before = versions(&app).await;
    let (ok, again) = import(&app, &file, false);
    assert!(ok, "{again}");
    assert!(
        again.contains("0 created, 0 updated, 8 unchanged, 0 refused"),
        "{again}"
    );
    assert_eq!(
        versions(&app).await,
        before,
        "the second run bumps no version"
    );
    let _ = std::fs::remove_file(file);
}

#[tokio::test]
async fn a_file_with_one_bad_row_writes_nothing_and_names_its_line_and_reason() {
    let app = spawn_on_disk().await;
    let file = write(
        "bad.json",
        r#"[
  {"type": "person", "email": "fine@example.org", "name": "Fine Person"},
  {"type": "partner", "name": "Fine Partner", "kind": "VENDOR"},
  {
    "type": "service", "key": "orphan", "name": "Orphan",
    "owner": "nobody@example.org"
  },
  {"type": "offering", "key": "Not A Key", "name": "Bad key", "targetConsumerGroup": "All"}
]"#,
    );
    let (ok, out) = import(&app, &file, false);
    assert!(!ok, "a refused row fails the command: {out}");
    assert!(
        out.contains("line 4: refused service orphan") && out.contains("nobody@example.org"),
        "{out}"
    );
    assert!(out.contains("line 8: refused offering"), "{out}");
    assert!(
        out.contains("2 created, 0 updated, 0 unchanged, 2 refused"),
        "{out}"
    );
    let people = app
        .data(
            "{ people(search: \"fine@example.org\") { nodes { email } } }",
            json!({}),
        )
        .await;
    assert_eq!(people["people"]["nodes"], json!([]), "nothing was written");
    let _ = std::fs::remove_file(file);
}

#[tokio::test]
async fn upsert_catalog_reports_every_row_and_is_for_admin_tokens_only() {
    let app = spawn_app().await;
    let doc = "mutation($i: CatalogInput!, $dry: Boolean) { upsertCatalog(input: $i, dryRun: $dry) { \
        created updated unchanged refused written rows { source kind key outcome reason } } }";
    let input = json!({
        "partners": [{ "name": "Contoso Cloud", "kind": "VENDOR" }],
        "services": [
            { "key": "bulk-api", "name": "Bulk API", "partners": [{ "partner": "Contoso Cloud", "role": "hosting" }] },
            { "key": "vpn", "name": "VPN", "ownerEmail": "ghost@example.org" },
        ],
    });
    let (code, _) = app
        .fails_as(&app.token("requester"), doc, json!({ "i": input }))
        .await;
    assert_eq!(code, "FORBIDDEN");

    let report = app
        .ok_as(&app.token("admin"), doc, json!({ "i": input }))
        .await["upsertCatalog"]
        .clone();
    assert_eq!(report["refused"], 1);
    assert_eq!(report["written"], false);
    let refused = &report["rows"][2];
    assert_eq!(refused["source"], "services[1]");
    assert_eq!(refused["outcome"], "REFUSED");
    assert!(
        refused["reason"]
            .as_str()
            .is_some_and(|r| r.contains("ghost@example.org"))
    );
    assert!(
        app.data("{ service(key: \"bulk-api\") { key } }", json!({}))
            .await["service"]
            .is_null()
    );

    let fixed = json!({
        "partners": input["partners"],
        "services": [input["services"][0]],
    });
    let dry = app
        .ok_as(&app.token("admin"), doc, json!({ "i": fixed, "dry": true }))
        .await["upsertCatalog"]
        .clone();
    assert_eq!(
        (dry["created"].as_i64(), dry["written"].as_bool()),
        (Some(2), Some(false))
    );
    let done = app
        .ok_as(&app.token("admin"), doc, json!({ "i": fixed }))
        .await["upsertCatalog"]
        .clone();
    assert_eq!(
        (done["created"].as_i64(), done["written"].as_bool()),
        (Some(2), Some(true))
    );
    let again = app
        .ok_as(&app.token("admin"), doc, json!({ "i": fixed }))
        .await["upsertCatalog"]
        .clone();
    assert_eq!(again["unchanged"], 2, "{again}");
}
