//! Global object identification: any object by its global ID.

use async_graphql::{Context, ID, Object, Result};

use crate::error::AppError;
use crate::graphql::types::*;

/// Most IDs `nodes` takes at once.
const MAX_NODES: usize = 100;

/// The part of `Query` for global object identification: any object by its global ID.
#[derive(Default)]
pub struct NodesQuery;

#[Object]
impl NodesQuery {
    /// Fetches any object by its global ID; null when it does not exist.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The object's global ID, as its `id` field gave it.")] id: ID,
    ) -> Result<Option<Node>> {
        node::fetch(ctx, &id, "id").await
    }

    /// Fetches up to 100 objects by global ID, in order; null for those that do not exist.
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global IDs, at most 100; the answer keeps their order.")] ids: Vec<ID>,
    ) -> Result<Vec<Option<Node>>> {
        if ids.len() > MAX_NODES {
            return Err(AppError::LimitExceeded(format!(
                "`ids` has {} IDs; at most {MAX_NODES} are allowed",
                ids.len()
            ))
            .into());
        }
        node::fetch_many(ctx, &ids).await
    }
}
