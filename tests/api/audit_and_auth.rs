//! The audit trail (rule 12) and authentication: tokens from the command line, their
//! scopes, expiry and revocation.

use std::process::Command;

use entity::TokenScope;
use portfolio::config::ServeArgs;
use portfolio::domain::tokens::{self, TokenRequest};
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::helpers::{spawn_app, spawn_with};
use crate::ops::*;

#[tokio::test]
async fn every_mutation_is_audited_with_actor_and_images_shown_to_admins_only() {
    let app = spawn_app().await;
    let requester = app.token("requester");
    let id = draft(&app, &requester, "NORMAL", "LOW", json!({})).await;
    change_ok(
        &app,
        &requester,
        "updateChange",
        json!({ "id": id, "input": { "title": "Audited" } }),
    )
    .await;
    let q = "query($id: ID!) { auditEvents(entityId: $id, entityType: \"Change\") { nodes { action entityType entityId actor { email } before after } } }";
    let as_admin = app.ok_as(&app.token("admin"), q, json!({ "id": id })).await;
    let events = as_admin["auditEvents"]["nodes"].clone();
    assert_eq!(events[0]["action"], "CREATED");
    assert_eq!(events[1]["action"], "UPDATED");
    assert_eq!(events[1]["entityId"], id.as_str());
    assert_eq!(events[1]["actor"]["email"], "laura@portfolio.example");
    assert_eq!(events[1]["before"]["title"], "NORMAL change at LOW risk");
    assert_eq!(events[1]["after"]["title"], "Audited");
    let as_writer = app.ok_as(&requester, q, json!({ "id": id })).await;
    assert!(as_writer["auditEvents"]["nodes"][1]["before"].is_null());
    assert!(as_writer["auditEvents"]["nodes"][1]["after"].is_null());
}

#[tokio::test]
async fn audit_events_cannot_be_deleted_or_rewritten_even_in_the_database() {
    let app = spawn_app().await;
    for sql in [
        "DELETE FROM audit_event",
        "UPDATE audit_event SET action = 'FORGED'",
    ] {
        let err = app.db.execute_unprepared(sql).await.err();
        let message = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("append-only"), "{sql}: {message:?}");
    }
}

#[tokio::test]
async fn tokens_never_appear_in_the_audit_trail() {
    let app = spawn_app().await;
    let token = app.mint("auditor@example.org", TokenScope::Read).await;
    let events = app
        .ok_as(
            &app.token("admin"),
            "{ auditEvents(last: 100) { nodes { action before after } } }",
            json!({}),
        )
        .await;
    let text = events.to_string();
    assert!(text.contains("TOKEN_CREATED"), "token creation is audited");
    assert!(!text.contains(&token) && !text.contains(&portfolio::auth::hash_token(&token)));
}

#[tokio::test]
async fn writes_need_a_write_token_and_reads_follow_the_anonymous_read_setting() {
    let app = spawn_with(ServeArgs {
        demo: true,
        anonymous_read: Some(false),
        ..ServeArgs::default()
    })
    .await;
    let read = app.token_of("kwame", TokenScope::Read).await;
    let body = app.post("{ viewer { email } }", json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let me = app.ok_as(&read, "{ viewer { email } }", json!({})).await;
    assert_eq!(me["viewer"]["email"], "kwame@portfolio.example");
    let vpn = app
        .ok_as(&read, r#"{ service(key: "vpn") { id } }"#, json!({}))
        .await["service"]["id"]
        .clone();
    let input = json!({ "title": "Read-only", "category": "APPLICATION", "type": "NORMAL", "risk": "LOW", "serviceIds": [vpn] });
    let (code, message) =
        change_fails(&app, &read, "createChange", json!({ "input": input })).await;
    assert_eq!(code, "FORBIDDEN");
    assert!(message.contains("READ"), "{message}");
}

/// A token for `email`, expiring at `expires_at`.
async fn issue(
    app: &crate::helpers::TestApp,
    email: &str,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
) -> tokens::IssuedToken {
    let request = TokenRequest {
        email: email.into(),
        person_name: Some("New Person".into()),
        scope: TokenScope::Write,
        label: "test".into(),
        expires_at,
    };
    tokens::create(&app.db, request).await.expect("created")
}

/// Asserts that `token` is refused as UNAUTHENTICATED, saying `why`.
async fn refused(app: &crate::helpers::TestApp, token: &str, why: &str) {
    let body = app
        .post_as(Some(token), "{ viewer { id } }", json!({}))
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let message = body["errors"][0]["message"].as_str().unwrap_or("");
    assert!(message.contains(why), "{message}");
}

#[tokio::test]
async fn expired_and_revoked_tokens_are_refused() {
    let app = spawn_app().await;
    let an_hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
    let expired = issue(&app, "old@example.org", Some(an_hour_ago)).await;
    refused(&app, &expired.token, "expired").await;
    let live = issue(&app, "new@example.org", None).await;
    let me = app
        .ok_as(&live.token, "{ viewer { name email } }", json!({}))
        .await;
    assert_eq!(
        me["viewer"],
        json!({ "name": "New Person", "email": "new@example.org" })
    );
    tokens::revoke(&app.db, live.id).await.expect("revoked");
    refused(&app, &live.token, "revoked").await;
}

/// Runs `portfolio` with `args` on database `url`.
fn portfolio(url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_portfolio"))
        .args(args)
        .env("DATABASE_URL", url)
        .output()
        .expect("the binary runs")
}

/// Who `token` authenticates as on database `url`.
fn authenticate(url: &str, token: &str) -> Result<Option<TokenScope>, &'static str> {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let (db, _) = portfolio::db::connect(url, None).await.expect("db");
        let usage = portfolio::auth::TokenUse::default();
        portfolio::auth::authenticate(&db, Some(&format!("Bearer {token}")), &usage)
            .await
            .map(|c| c.viewer.scope)
            .map_err(|e| e.code())
    })
}

#[test]
fn the_token_command_prints_a_token_once_and_revokes_it_by_id() {
    let dir = std::env::temp_dir().join(format!("portfolio-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let url = format!("sqlite://{}/cli.db?mode=rwc", dir.display());
    let args = [
        "token",
        "create",
        "--email",
        "ops@example.org",
        "--name",
        "Ops",
        "--scope",
        "admin",
    ];
    let created = portfolio(&url, &args);
    assert!(created.status.success(), "{created:?}");
    let token = String::from_utf8_lossy(&created.stdout).trim().to_owned();
    assert!(token.starts_with("spg_") && token.len() > 40, "{token}");
    let note = String::from_utf8_lossy(&created.stderr).to_string();
    let id = note
        .split_whitespace()
        .nth(1)
        .expect("the note names the token's id")
        .to_owned();
    assert_eq!(authenticate(&url, &token), Ok(Some(TokenScope::Admin)));
    let revoked = portfolio(&url, &["token", "revoke", "--id", &id]);
    assert!(revoked.status.success(), "{revoked:?}");
    assert_eq!(authenticate(&url, &token), Err("UNAUTHENTICATED"));
    let bad = portfolio(
        &url,
        &["token", "create", "--email", "nope", "--scope", "read"],
    );
    assert!(!bad.status.success(), "a malformed e-mail is refused");
    let _ = std::fs::remove_dir_all(&dir);
}
