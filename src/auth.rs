//! Bearer tokens: random, shown once, stored as a SHA-256 hash. Resolves a request's
//! `Authorization` header into a [`Viewer`].

use chrono::Utc;
use entity::api_token;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};

use crate::domain::Actor as Viewer;
use crate::error::{AppError, AppResult};

/// Hex SHA-256 of a token, as stored in `api_token.token_hash`.
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Resolves an `Authorization` header value. No header is anonymous; a header that is not a
/// live bearer token is UNAUTHENTICATED, never silently anonymous.
pub async fn authenticate<C: ConnectionTrait>(db: &C, header: Option<&str>) -> AppResult<Viewer> {
    let Some(header) = header else {
        return Ok(Viewer::default());
    };
    let token = header
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            AppError::Unauthenticated("the Authorization header must be `Bearer <token>`".into())
        })?;
    let row = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(hash_token(token)))
        .one(db)
        .await?
        .ok_or_else(|| AppError::Unauthenticated("unknown token".into()))?;
    if row.revoked_at.is_some() {
        return Err(AppError::Unauthenticated(
            "the token has been revoked".into(),
        ));
    }
    if row.expires_at.is_some_and(|t| t <= Utc::now()) {
        return Err(AppError::Unauthenticated("the token has expired".into()));
    }
    Ok(Viewer {
        person_id: Some(row.person_id),
        scope: Some(row.scope),
    })
}
