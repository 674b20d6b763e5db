//! Who is asking, and the API tokens an administrator manages.

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use entity::{api_token, person};

use crate::domain::tokens::TokenFilter;
use crate::error::AppError;
use crate::graphql::enums::*;
use crate::graphql::ids::{Kind, decode, decode_opt};
use crate::graphql::types::*;
use crate::graphql::viewer::{Viewer, ViewerOf};
use crate::graphql::{by_id, by_opt_id, gov};

/// Most tokens `apiTokens` lists at once.
const MAX_TOKENS: i32 = 100;

/// The part of `Query` for who is asking, and the API tokens an administrator manages.
#[derive(Default)]
pub struct AccessQuery;

#[Object]
impl AccessQuery {
    /// API tokens, newest first. ADMIN. Never shows a secret.
    async fn api_tokens(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this person's tokens.")] person_id: Option<ID>,
        #[graphql(desc = "Also the revoked and expired ones (default: false).")]
        include_inactive: Option<bool>,
        #[graphql(desc = "At most this many (max 100; default 50).")] first: Option<i32>,
        #[graphql(desc = "Tokens after this one (older), for the next page.")] after: Option<ID>,
    ) -> Result<Vec<ApiToken>> {
        let first = first.unwrap_or(50);
        if !(0..=MAX_TOKENS).contains(&first) {
            return Err(AppError::bad_input(format!(
                "`first` must be between 0 and {MAX_TOKENS}, not {first}"
            ))
            .into());
        }
        let filter = TokenFilter {
            person_id: decode_opt(person_id.as_ref(), Kind::Person, "personId")?,
            include_inactive: include_inactive.unwrap_or(false),
            before_id: decode_opt(after.as_ref(), Kind::ApiToken, "after")?,
            limit: first as u64,
        };
        let rows = gov(ctx).api_tokens(Viewer::of(ctx), filter).await?;
        Ok(rows.into_iter().map(ApiToken).collect())
    }

    /// The person of the bearer token; null for anonymous callers.
    async fn viewer(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        Ok(by_opt_id::<person::Entity>(ctx, Viewer::of(ctx).person_id)
            .await?
            .map(Person))
    }
}

/// The part of `Mutation` for who is asking, and the API tokens an administrator manages.
#[derive(Default)]
pub struct AccessMutation;

#[Object]
impl AccessMutation {
    /// Creates an API token for a person. ADMIN. The answer holds the secret, the only time
    /// it is shown; the audit trail records the token, never the secret.
    async fn create_api_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The person the token acts as.")] person_id: ID,
        #[graphql(desc = "What it may do.")] scope: TokenScope,
        #[graphql(desc = "What it is for, e.g. \"PMO tracker sync\" (1–200 characters).")]
        label: String,
        #[graphql(desc = "When it stops working (in the future); omitted: never.")]
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<NewApiToken> {
        let person = decode(&person_id, Kind::Person, "personId")?;
        let issued = gov(ctx)
            .create_api_token(Viewer::of(ctx), person, scope.into(), &label, expires_at)
            .await?;
        let token = by_id::<api_token::Entity>(ctx, issued.id)
            .await?
            .ok_or_else(|| AppError::Internal(format!("token {} vanished", issued.id)))?;
        Ok(NewApiToken {
            token: ApiToken(token),
            secret: issued.token,
        })
    }

    /// Revokes an API token. ADMIN. It is refused from the next request on, over HTTP and
    /// for new WebSocket connections; revoking a revoked token changes nothing.
    async fn revoke_api_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token.")] id: ID,
    ) -> Result<ApiToken> {
        let id = decode(&id, Kind::ApiToken, "id")?;
        let row = gov(ctx).revoke_api_token(Viewer::of(ctx), id).await?;
        Ok(ApiToken(row))
    }

    /// Sets when an API token expires. ADMIN. A revoked token stays revoked (CONFLICT).
    async fn set_api_token_expiry(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token.")] id: ID,
        #[graphql(desc = "When it stops working (in the future); null: never.")] expires_at: Option<
            DateTime<Utc>,
        >,
    ) -> Result<ApiToken> {
        let id = decode(&id, Kind::ApiToken, "id")?;
        let row = gov(ctx)
            .set_api_token_expiry(Viewer::of(ctx), id, expires_at)
            .await?;
        Ok(ApiToken(row))
    }
}
