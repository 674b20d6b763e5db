//! `portfolio export` / `portfolio import`: a lossless round trip across engines, and a bad
//! file that writes nothing.

use std::process::Command;

use entity::{approval, audit_event, person, process_role_assignment};
use portfolio::{db, transfer};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;

use portfolio::config::ServeArgs;

use crate::helpers::{spawn_app, spawn_with, sqlite_file};
use crate::ops::*;

#[tokio::test]
async fn an_export_imported_into_another_engine_exports_byte_identical() {
    // The source is the suite's engine (PostgreSQL with TEST_DATABASE_URL), the target a
    // SQLite file: the round trip crosses engines whenever PostgreSQL is there.
    let app = spawn_app().await;
    let requester = app.token("requester");
    let admin = app.token("admin");
    let id = draft(&app, &requester, "NORMAL", "LOW", json!({})).await;
    change_ok(&app, &requester, "submitChange", json!({ "id": id })).await;
    change_ok(&app, &admin, "approveChange", json!({ "id": id })).await;
    let mut first = Vec::new();
    let rows = transfer::export(&app.db, &mut first).await.expect("export");
    assert!(rows > 500, "the demo and the moves: {rows} rows");

    let target = sqlite_file();
    let (copy, _) = db::connect(&target.url, None).await.expect("connect");
    db::migrate(&copy).await.expect("migrate");
    let loaded = transfer::import(&copy, &first).await.expect("import");
    assert_eq!(loaded, rows);
    for (what, there, here) in [
        (
            "approvals",
            approval::Entity::find().count(&copy).await.ok(),
            approval::Entity::find().count(&app.db).await.ok(),
        ),
        (
            "role assignments",
            process_role_assignment::Entity::find()
                .count(&copy)
                .await
                .ok(),
            process_role_assignment::Entity::find()
                .count(&app.db)
                .await
                .ok(),
        ),
        (
            "audit events",
            audit_event::Entity::find().count(&copy).await.ok(),
            audit_event::Entity::find().count(&app.db).await.ok(),
        ),
    ] {
        assert_eq!(there, here, "{what}");
        assert!(there.unwrap_or(0) > 0, "{what} travelled");
    }
    let mut second = Vec::new();
    transfer::export(&copy, &mut second)
        .await
        .expect("export again");
    assert!(
        first == second,
        "byte-identical: {} vs {} bytes",
        first.len(),
        second.len()
    );
    // And back into an empty database of the suite's engine (SQLite → PostgreSQL when the
    // suite runs on it): the third export is the first one again.
    let empty = spawn_with(ServeArgs {
        anonymous_read: Some(true),
        ..ServeArgs::default()
    })
    .await;
    transfer::import(&empty.db, &second)
        .await
        .expect("import back");
    let mut third = Vec::new();
    transfer::export(&empty.db, &mut third)
        .await
        .expect("export a third time");
    assert!(first == third, "byte-identical after the way back");
    let viewer = empty
        .ok_as(&requester, "{ viewer { email } }", json!({}))
        .await;
    assert_eq!(
        viewer["viewer"]["email"], "laura@portfolio.example",
        "tokens travel as their hashes and still work"
    );
}

fn portfolio(url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_portfolio"))
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "error")
        .args(args)
        .output()
        .expect("the binary runs")
}

#[tokio::test]
async fn a_partial_or_foreign_file_imports_nothing_and_a_full_one_only_into_an_empty_database() {
    let source = sqlite_file();
    assert!(portfolio(&source.url, &["seed", "demo"]).status.success());
    let dir = tempdir();
    let full = dir.join("portfolio.json");
    let exported = portfolio(
        &source.url,
        &["export", "--output", &full.display().to_string()],
    );
    assert!(exported.status.success(), "{exported:?}");
    let bytes = std::fs::read(&full).expect("the export");
    let partial = dir.join("partial.json");
    std::fs::write(&partial, &bytes[..bytes.len() / 2]).expect("write");
    let foreign = dir.join("foreign.json");
    std::fs::write(
        &foreign,
        r#"{"format":"something-else","version":1,"schema":"x","tables":{}}"#,
    )
    .expect("write");

    let target = sqlite_file();
    for (file, says) in [
        (&partial, "not a complete portfolio export"),
        (&foreign, "not service-portfolio-graph"),
    ] {
        let out = portfolio(&target.url, &["import", &file.display().to_string()]);
        assert!(!out.status.success(), "{out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(says) && err.contains("nothing was imported"),
            "{err}"
        );
        let (copy, _) = db::connect(&target.url, None).await.expect("connect");
        assert_eq!(
            person::Entity::find().count(&copy).await.ok(),
            Some(0),
            "nothing written"
        );
    }
    let out = portfolio(&target.url, &["import", &full.display().to_string()]);
    assert!(out.status.success(), "{out:?}");
    let again = portfolio(&target.url, &["import", &full.display().to_string()]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "portfolio-transfer-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    ));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    dir
}
