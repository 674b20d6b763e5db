//! API tokens as administrators see them: who holds each, what it may do, when it was last
//! used. Never the secret nor its hash.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{api_token, person};

use super::{Person, wrapper};
use crate::error::AppError;
use crate::graphql::by_id;
use crate::graphql::enums::TokenScope;
use crate::graphql::ids::{Kind, encode};

wrapper!(
    /// A bearer token of a person (listed to ADMIN tokens only). The secret was shown once,
    /// when the token was created; the server keeps only its hash.
    ApiToken, api_token::Model
);

#[Object(use_type_description)]
impl ApiToken {
    /// Opaque global ID, for `revokeApiToken` and `setApiTokenExpiry`.
    pub async fn id(&self) -> ID {
        encode(Kind::ApiToken, self.0.id)
    }
    /// What the token is for, e.g. "PMO tracker sync".
    async fn label(&self) -> &str {
        &self.0.name
    }
    /// The person the token acts as.
    async fn person(&self, ctx: &Context<'_>) -> Result<Person> {
        by_id::<person::Entity>(ctx, self.0.person_id)
            .await?
            .map(Person)
            .ok_or_else(|| AppError::Internal(format!("token {} has no person", self.0.id)).into())
    }
    /// What it may do: READ, WRITE or ADMIN.
    async fn scope(&self) -> TokenScope {
        self.0.scope.into()
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it stops working; null: never.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }
    /// When it last authenticated a request, to the minute; null: never used.
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }
    /// When it was revoked; null: not revoked.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
    /// Whether it authenticates requests now: neither revoked nor expired.
    async fn active(&self) -> bool {
        self.0.revoked_at.is_none() && self.0.expires_at.is_none_or(|t| t > Utc::now())
    }
}

/// A token just created, with its secret: the only time the secret is shown.
#[derive(SimpleObject)]
pub struct NewApiToken {
    /// The token.
    pub token: ApiToken,
    /// The secret to send as `Authorization: Bearer <secret>`. Store it now: it cannot be
    /// shown again.
    pub secret: String,
}
