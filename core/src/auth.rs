//! Bearer tokens: random, shown once, stored as a SHA-256 hash. Resolves a request's
//! `Authorization` header into a [`Viewer`], and notes when each token was last used.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use entity::api_token;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::domain::Actor as Viewer;
use crate::error::{AppError, AppResult};

/// How often at most a token's `last_used_at` is written, per instance.
pub const LAST_USE_PRECISION: Duration = Duration::from_secs(60);

pub use crate::domain::tokens::hash_token;

/// Who sent a request: the viewer and, when it came with one, the token's row id.
#[derive(Clone, Debug, Default)]
pub struct Credential {
    pub viewer: Viewer,
    pub token_id: Option<i64>,
}

/// When this instance last wrote each token's `last_used_at`: a token in steady use costs
/// one UPDATE a minute, not one per request.
#[derive(Debug, Default)]
pub struct TokenUse(Mutex<HashMap<i64, Instant>>);

impl TokenUse {
    /// Whether token `id`'s last use should be written now (and notes that it is).
    fn due(&self, id: i64) -> bool {
        let Ok(mut written) = self.0.lock() else {
            return false;
        };
        let now = Instant::now();
        match written.get(&id) {
            Some(at) if now.duration_since(*at) < LAST_USE_PRECISION => false,
            _ => {
                written.insert(id, now);
                true
            }
        }
    }
}

/// Resolves an `Authorization` header value. No header is anonymous; a header that is not a
/// live bearer token is UNAUTHENTICATED, never silently anonymous. The token is looked up on
/// every request, so a revocation or an expiry takes effect at once.
pub async fn authenticate<C: ConnectionTrait>(
    db: &C,
    header: Option<&str>,
    usage: &TokenUse,
) -> AppResult<Credential> {
    let Some(header) = header else {
        return Ok(Credential::default());
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
    let now = crate::domain::now();
    if row.expires_at.is_some_and(|t| t <= now) {
        return Err(AppError::Unauthenticated("the token has expired".into()));
    }
    if usage.due(row.id) {
        // Bookkeeping: a failure (a busy SQLite writer) costs a minute of precision, never
        // the request.
        let written = api_token::Entity::update_many()
            .col_expr(api_token::Column::LastUsedAt, Expr::value(now))
            .filter(api_token::Column::Id.eq(row.id))
            .exec(db)
            .await;
        if let Err(e) = written {
            tracing::warn!(error = %e, token = row.id, "a token's last use was not recorded");
        }
    }
    Ok(Credential {
        viewer: Viewer {
            person_id: Some(row.person_id),
            scope: Some(row.scope),
        },
        token_id: Some(row.id),
    })
}
