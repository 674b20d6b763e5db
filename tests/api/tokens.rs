//! API tokens as an administrator manages them over GraphQL: listed without secrets,
//! created with the secret shown once, given an expiry, revoked with effect at once, every
//! act audited without the secret.

use entity::TokenScope;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::subscriptions::first_answer;

const CREATE: &str =
    "mutation($person: ID!, $scope: TokenScope!, $label: String!, $expires: DateTime) {
  createApiToken(personId: $person, scope: $scope, label: $label, expiresAt: $expires) {
    secret token { id label scope active expiresAt lastUsedAt revokedAt person { email } }
  }
}";
const LIST: &str = "query($person: ID, $all: Boolean) {
  apiTokens(personId: $person, includeInactive: $all) { id label scope active createdAt expiresAt lastUsedAt revokedAt person { email } }
}";
const REVOKE: &str = "mutation($id: ID!) { revokeApiToken(id: $id) { id active revokedAt } }";
const EXPIRE: &str = "mutation($id: ID!, $at: DateTime) { setApiTokenExpiry(id: $id, expiresAt: $at) { id expiresAt active } }";

/// The global ID of the person of `token`.
async fn person_of(app: &TestApp, token: &str) -> Value {
    app.ok_as(token, "{ viewer { id } }", json!({})).await["viewer"]["id"].clone()
}

#[tokio::test]
async fn an_admin_creates_lists_expires_and_revokes_a_token_which_is_refused_at_once() {
    let app = spawn_app().await;
    let admin = app.token("admin");
    let laura = person_of(&app, &app.token("requester")).await;
    let created = app
        .ok_as(
            &admin,
            CREATE,
            json!({ "person": laura, "scope": "READ", "label": "PMO tracker sync" }),
        )
        .await["createApiToken"]
        .clone();
    let secret = created["secret"].as_str().expect("the secret").to_owned();
    assert!(secret.starts_with("spg_"), "{secret}");
    let token = &created["token"];
    assert_eq!(
        (&token["label"], &token["scope"], &token["active"]),
        (&json!("PMO tracker sync"), &json!("READ"), &json!(true))
    );
    assert_eq!(token["person"]["email"], "laura@portfolio.example");
    assert_eq!(token["lastUsedAt"], Value::Null, "never used yet");
    let id = token["id"].clone();

    // The secret works, as Laura, and only reads.
    let me = app.ok_as(&secret, "{ viewer { email } }", json!({})).await;
    assert_eq!(me["viewer"]["email"], "laura@portfolio.example");
    assert_eq!(first_answer(&app, Some(&secret)).await, "connection_ack");

    // Listed with its last use, never with the secret or its hash.
    let listed = app.ok_as(&admin, LIST, json!({ "person": laura })).await["apiTokens"].clone();
    let mine = listed
        .as_array()
        .and_then(|l| l.iter().find(|t| t["id"] == id))
        .expect("listed")
        .clone();
    assert!(mine["lastUsedAt"].is_string(), "{mine}");
    let text = listed.to_string();
    assert!(!text.contains(&secret) && !text.contains(&portfolio::auth::hash_token(&secret)));

    // An expiry in the future is set; one in the past is refused and changes nothing.
    let next_year = (chrono::Utc::now() + chrono::Duration::days(365)).to_rfc3339();
    let expiring = app
        .ok_as(&admin, EXPIRE, json!({ "id": id, "at": next_year }))
        .await;
    assert!(expiring["setApiTokenExpiry"]["expiresAt"].is_string());
    let yesterday = (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339();
    let (code, _) = app
        .fails_as(&admin, EXPIRE, json!({ "id": id, "at": yesterday }))
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
    assert_eq!(
        app.ok_as(&secret, "{ viewer { email } }", json!({})).await["viewer"]["email"],
        "laura@portfolio.example"
    );

    // Revoked: refused on the very next request and on a new WebSocket.
    let revoked = app.ok_as(&admin, REVOKE, json!({ "id": id })).await;
    assert_eq!(revoked["revokeApiToken"]["active"], false);
    let (code, message) = app
        .fails_as(&secret, "{ viewer { email } }", json!({}))
        .await;
    assert_eq!(code, "UNAUTHENTICATED");
    assert!(message.contains("revoked"), "{message}");
    assert_eq!(first_answer(&app, Some(&secret)).await, "4403");
    let (code, _) = app
        .fails_as(&admin, EXPIRE, json!({ "id": id, "at": next_year }))
        .await;
    assert_eq!(code, "CONFLICT", "a revoked token stays revoked");

    // Gone from the default listing, there with includeInactive.
    let active = app.ok_as(&admin, LIST, json!({ "person": laura })).await;
    assert!(!active.to_string().contains(id.as_str().unwrap_or("-")));
    let all = app
        .ok_as(&admin, LIST, json!({ "person": laura, "all": true }))
        .await;
    assert!(all.to_string().contains(id.as_str().unwrap_or("-")));

    // Each act is audited, by the admin, without the secret.
    let events = app
        .ok_as(
            &admin,
            "query($id: ID!) { auditEvents(last: 20, entityId: $id) { nodes { action actor { email } before after } } }",
            json!({ "id": id }),
        )
        .await;
    let nodes = events["auditEvents"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let actions: Vec<&str> = nodes.iter().filter_map(|n| n["action"].as_str()).collect();
    for action in ["TOKEN_CREATED", "TOKEN_EXPIRY_SET", "TOKEN_REVOKED"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    assert!(
        nodes
            .iter()
            .all(|n| n["actor"]["email"] == "alice@portfolio.example"),
        "{events}"
    );
    let text = events.to_string();
    assert!(!text.contains(&secret) && !text.contains(&portfolio::auth::hash_token(&secret)));
}

#[tokio::test]
async fn only_an_admin_sees_or_manages_tokens() {
    let app = spawn_app().await;
    let admin = app.token("admin");
    let writer = app.token("requester");
    let laura = person_of(&app, &writer).await;
    for (query, vars) in [
        (LIST, json!({})),
        (
            CREATE,
            json!({ "person": laura, "scope": "ADMIN", "label": "escalation" }),
        ),
    ] {
        let (code, _) = app.fails_as(&writer, query, vars).await;
        assert_eq!(code, "FORBIDDEN", "{query}");
    }
    let id = app
        .ok_as(
            &admin,
            CREATE,
            json!({ "person": laura, "scope": "READ", "label": "report" }),
        )
        .await["createApiToken"]["token"]["id"]
        .clone();
    let (code, _) = app.fails_as(&writer, REVOKE, json!({ "id": id })).await;
    assert_eq!(code, "FORBIDDEN");
    // As a node, a token exists for an admin only.
    let node = "query($id: ID!) { node(id: $id) { __typename ... on ApiToken { label } } }";
    let seen = app.ok_as(&admin, node, json!({ "id": id })).await;
    assert_eq!(seen["node"]["label"], "report");
    let hidden = app.ok_as(&writer, node, json!({ "id": id })).await;
    assert_eq!(hidden["node"], Value::Null);
}

#[tokio::test]
async fn a_tokens_last_use_is_written_once_a_minute_not_on_every_request() {
    let app = spawn_app().await;
    let token = app.mint("meter@example.org", TokenScope::Read).await;
    let mut cost = Vec::new();
    for _ in 0..3 {
        let before = app.statements().await;
        app.ok_as(&token, "{ viewer { email } }", json!({})).await;
        cost.push(app.statements().await - before);
    }
    // The first request also writes the token's last use; the next ones only read.
    assert_eq!(cost[0], cost[1] + 1, "{cost:?}");
    assert_eq!(cost[1], cost[2], "{cost:?}");
}
