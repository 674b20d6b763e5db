//! API tokens: random, shown once, stored as a SHA-256 hash (DESIGN.md §4). Managed by an
//! ADMIN through the API (listed, created, revoked, given an expiry) or by the operator
//! from the command line (no actor). Every act is recorded in the audit trail — never the
//! secret nor its hash.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use entity::{TokenScope, api_token, audit_event, person};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde::Serialize;
use serde_json::json;

use super::validate::{self, MAX_TITLE};
use super::{Actor, Governance};
use crate::error::{AppError, AppResult};
use sha2::{Digest, Sha256};

/// Hex SHA-256 of a token, as stored in `api_token.token_hash`.
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

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
            record_on(&txn, "CREATED", "Person", p.id, json!(p)).await?;
            p
        }
    };
    let (row, token) = insert(&txn, person.id, req.scope, label, req.expires_at, now).await?;
    record(&txn, "TOKEN_CREATED", row.id, public(&row)).await?;
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
    record(&txn, "TOKEN_REVOKED", row.id, public(&row)).await?;
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

/// Inserts a new token of `scope` for `person_id`; returns the row and the secret.
async fn insert<C: ConnectionTrait>(
    db: &C,
    person_id: i64,
    scope: TokenScope,
    label: String,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> AppResult<(api_token::Model, String)> {
    let token = random_token()?;
    let row = api_token::ActiveModel {
        person_id: Set(person_id),
        name: Set(label),
        token_hash: Set(hash_token(&token)),
        scope: Set(scope),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
        created_at: Set(now),
        last_used_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok((row, token))
}

/// The audit image of a token: never its hash.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Public<'a> {
    id: i64,
    person_id: i64,
    name: &'a str,
    scope: TokenScope,
    expires_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

fn public(row: &api_token::Model) -> Public<'_> {
    Public {
        id: row.id,
        person_id: row.person_id,
        name: &row.name,
        scope: row.scope,
        expires_at: row.expires_at,
        revoked_at: row.revoked_at,
    }
}

/// Records an operator's act on token `id` (no actor).
async fn record<C: ConnectionTrait>(
    db: &C,
    action: &str,
    id: i64,
    after: Public<'_>,
) -> AppResult<()> {
    let after =
        serde_json::to_value(after).map_err(|e| AppError::Internal(format!("audit image: {e}")))?;
    record_on(db, action, TOKEN, id, after).await
}

/// The `entity_type` of tokens in the audit trail.
const TOKEN: &str = "ApiToken";

async fn record_on<C: ConnectionTrait>(
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

/// Which tokens to list.
#[derive(Clone, Debug, Default)]
pub struct TokenFilter {
    /// Only this person's tokens.
    pub person_id: Option<i64>,
    /// Include revoked and expired tokens.
    pub include_inactive: bool,
    /// Tokens after this id (keyset paging, newest first: ids below it).
    pub before_id: Option<i64>,
    /// At most this many.
    pub limit: u64,
}

impl Governance {
    /// Lists tokens, newest first (ADMIN).
    pub async fn api_tokens(
        &self,
        actor: &Actor,
        filter: TokenFilter,
    ) -> AppResult<Vec<api_token::Model>> {
        actor.admin("listing API tokens")?;
        let mut query = api_token::Entity::find()
            .order_by_desc(api_token::Column::Id)
            .limit(filter.limit);
        if let Some(person) = filter.person_id {
            query = query.filter(api_token::Column::PersonId.eq(person));
        }
        if let Some(before) = filter.before_id {
            query = query.filter(api_token::Column::Id.lt(before));
        }
        if !filter.include_inactive {
            query = query.filter(api_token::Column::RevokedAt.is_null()).filter(
                Condition::any()
                    .add(api_token::Column::ExpiresAt.is_null())
                    .add(api_token::Column::ExpiresAt.gt(super::now())),
            );
        }
        Ok(query.all(&self.db).await?)
    }

    /// Creates a token of `scope` for person `person_id` (ADMIN); the secret is returned
    /// once. An expiry, when given, lies in the future.
    pub async fn create_api_token(
        &self,
        actor: &Actor,
        person_id: i64,
        scope: TokenScope,
        label: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> AppResult<IssuedToken> {
        actor.admin("creating an API token")?;
        let label = validate::text("label", label, MAX_TITLE)?;
        let w = self.start(actor).await?;
        future("expiresAt", expires_at, w.now)?;
        let person = person::Entity::find_by_id(person_id)
            .one(w.tx())
            .await?
            .ok_or_else(|| AppError::not_found(format!("no person with id {person_id}")))?;
        let (row, token) = insert(w.tx(), person.id, scope, label, expires_at, w.now).await?;
        w.audit("TOKEN_CREATED", TOKEN, row.id, None, Some(&public(&row)))
            .await?;
        w.commit(&self.bus).await?;
        Ok(IssuedToken {
            id: row.id,
            person_id: person.id,
            email: person.email,
            scope,
            expires_at,
            token,
        })
    }

    /// Revokes token `id` (ADMIN): it is refused from the next request on. Revoking twice
    /// changes nothing and records nothing.
    pub async fn revoke_api_token(&self, actor: &Actor, id: i64) -> AppResult<api_token::Model> {
        actor.admin("revoking an API token")?;
        let w = self.start(actor).await?;
        let before = find(w.tx(), id).await?;
        if before.revoked_at.is_some() {
            return Ok(before);
        }
        let now = w.now;
        let change = api_token::ActiveModel {
            id: Set(id),
            revoked_at: Set(Some(now)),
            ..Default::default()
        };
        self.save(w, &before, change, "TOKEN_REVOKED").await
    }

    /// Sets when token `id` expires (ADMIN); `None`: never. A revoked token stays revoked
    /// (CONFLICT); an expiry lies in the future (revoke to end a token now).
    pub async fn set_api_token_expiry(
        &self,
        actor: &Actor,
        id: i64,
        expires_at: Option<DateTime<Utc>>,
    ) -> AppResult<api_token::Model> {
        actor.admin("changing an API token's expiry")?;
        let w = self.start(actor).await?;
        future("expiresAt", expires_at, w.now)?;
        let before = find(w.tx(), id).await?;
        if before.revoked_at.is_some() {
            return Err(AppError::Conflict(format!(
                "token {id} is revoked; a revoked token cannot be given a new expiry"
            )));
        }
        let change = api_token::ActiveModel {
            id: Set(id),
            expires_at: Set(expires_at),
            ..Default::default()
        };
        self.save(w, &before, change, "TOKEN_EXPIRY_SET").await
    }

    /// Writes `change` to the token `before`, audits it as `action` and commits.
    async fn save(
        &self,
        w: super::Work,
        before: &api_token::Model,
        change: api_token::ActiveModel,
        action: &str,
    ) -> AppResult<api_token::Model> {
        let after = change.update(w.tx()).await?;
        w.audit(
            action,
            TOKEN,
            after.id,
            Some(&public(before)),
            Some(&public(&after)),
        )
        .await?;
        w.commit(&self.bus).await?;
        Ok(after)
    }
}

/// Token `id`, or NOT_FOUND.
async fn find<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<api_token::Model> {
    api_token::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no API token with id {id}")))
}

/// Refuses an instant `at` that is not after `now`.
fn future(field: &str, at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> AppResult<()> {
    match at {
        Some(t) if t <= now => Err(AppError::bad_input(format!(
            "`{field}` must lie in the future (it is {t}); revoke a token to end it now"
        ))),
        _ => Ok(()),
    }
}
