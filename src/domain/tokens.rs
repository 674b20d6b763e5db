//! API tokens: random, shown once, stored as a SHA-256 hash (DESIGN.md §4). Created and
//! revoked from the command line (an operator's act, so no actor and no GraphQL mutation);
//! each creation and revocation is still recorded in the audit trail, without the token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use entity::{TokenScope, api_token, audit_event, person};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set, TransactionTrait,
};
use serde_json::json;

use super::validate::{self, MAX_TITLE};
use crate::auth::hash_token;
use crate::error::{AppError, AppResult};

/// Prefix of every token, so a leaked one is recognisable by secret scanners.
pub const TOKEN_PREFIX: &str = "spg_";

/// A token just created: the only time its secret is seen.
#[derive(Debug)]
pub struct IssuedToken {
    pub id: i64,
    pub person_id: i64,
    pub email: String,
    pub scope: TokenScope,
    pub expires_at: Option<DateTime<Utc>>,
    /// The secret; only its hash is stored.
    pub token: String,
}

/// A new random token: the prefix and 32 random bytes in base64url.
fn random_token() -> AppResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AppError::Internal(format!("randomness: {e}")))?;
    Ok(format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// What to create.
#[derive(Clone, Debug)]
pub struct TokenRequest {
    pub email: String,
    /// Name of the person, used when the person is created.
    pub person_name: Option<String>,
    pub scope: TokenScope,
    /// A label for the token, e.g. where it is used.
    pub label: String,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Creates a token for the person with `email`, creating the person when absent.
pub async fn create(db: &DatabaseConnection, req: TokenRequest) -> AppResult<IssuedToken> {
    let email = validate::email("email", &req.email)?;
    let label = validate::text("name", &req.label, MAX_TITLE)?;
    let now = super::now();
    let txn = db.begin().await?;
    let person = match person::Entity::find()
        .filter(person::Column::Email.eq(&email))
        .one(&txn)
        .await?
    {
        Some(p) => p,
        None => {
            let name = match req.person_name {
                Some(n) => validate::text("name", &n, MAX_TITLE)?,
                None => email.split('@').next().unwrap_or(&email).to_owned(),
            };
            let p = person::ActiveModel {
                name: Set(name),
                email: Set(email.clone()),
                skills: Set(person::Skills(Vec::new())),
                created_at: Set(now),
                updated_at: Set(now),
                version: Set(1),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            record(&txn, "CREATED", "Person", p.id, json!(p)).await?;
            p
        }
    };
    let token = random_token()?;
    let row = api_token::ActiveModel {
        person_id: Set(person.id),
        name: Set(label),
        token_hash: Set(hash_token(&token)),
        scope: Set(req.scope),
        expires_at: Set(req.expires_at),
        revoked_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    record(&txn, "TOKEN_CREATED", "Person", person.id, public(&row)).await?;
    txn.commit().await?;
    Ok(IssuedToken {
        id: row.id,
        person_id: person.id,
        email,
        scope: req.scope,
        expires_at: req.expires_at,
        token,
    })
}

/// Revokes token `id`; revoking twice is harmless. NOT_FOUND for an unknown id.
pub async fn revoke(db: &DatabaseConnection, id: i64) -> AppResult<api_token::Model> {
    let txn = db.begin().await?;
    let row = api_token::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no token with id {id}")))?;
    if row.revoked_at.is_some() {
        txn.commit().await?;
        return Ok(row);
    }
    let row = api_token::ActiveModel {
        id: Set(id),
        revoked_at: Set(Some(super::now())),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    record(&txn, "TOKEN_REVOKED", "Person", row.person_id, public(&row)).await?;
    txn.commit().await?;
    Ok(row)
}

/// Revokes every live token whose label starts with `prefix` (the demo's tokens of an
/// earlier start). Returns how many.
pub async fn revoke_labelled<C: ConnectionTrait>(db: &C, prefix: &str) -> AppResult<u64> {
    let result = api_token::Entity::update_many()
        .col_expr(
            api_token::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(super::now()),
        )
        .filter(api_token::Column::Name.starts_with(prefix))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// The audit image of a token: never its hash.
fn public(row: &api_token::Model) -> serde_json::Value {
    json!({
        "id": row.id,
        "personId": row.person_id,
        "name": row.name,
        "scope": row.scope,
        "expiresAt": row.expires_at,
        "revokedAt": row.revoked_at,
    })
}

async fn record<C: ConnectionTrait>(
    db: &C,
    action: &str,
    entity_type: &str,
    entity_id: i64,
    after: serde_json::Value,
) -> AppResult<()> {
    audit_event::ActiveModel {
        at: Set(super::now()),
        actor_id: Set(None),
        action: Set(action.to_owned()),
        entity_type: Set(entity_type.to_owned()),
        entity_id: Set(entity_id),
        before: Set(None),
        after: Set(Some(after)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}
