//! The audit trail.

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};

use crate::error::AppError;
use crate::graphql::connection::{self, Conn};
use crate::graphql::ids::{Kind, decode_opt};
use crate::graphql::types::*;
use crate::graphql::viewer::{Viewer, ViewerOf};
use crate::graphql::{bounded, db};
use crate::store::history::{self, DiffScope};
use crate::store::listing::{self, AuditScope};

/// The part of `Query` for the audit trail.
#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The audit trail, oldest first, optionally for one object, one type, one actor or a period.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only events of this object.")] entity_id: Option<ID>,
        #[graphql(desc = "Only events of objects of this GraphQL type, e.g. `Change`.")]
        entity_type: Option<String>,
        #[graphql(desc = "Only events by this person.")] actor_id: Option<ID>,
        #[graphql(desc = "Only events at or after this time.")] from: Option<DateTime<Utc>>,
        #[graphql(desc = "Only events at or before this time.")] to: Option<DateTime<Utc>>,
        #[graphql(
            desc = "Page forward: at most this many items (max 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Page forward: items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Page backward: at most this many items, the last ones (max 100).")]
        last: Option<i32>,
        #[graphql(desc = "Page backward: items before this cursor.")] before: Option<String>,
    ) -> Result<Conn<AuditEvent>> {
        let (entity_kind, entity_row) = match &entity_id {
            Some(id) => {
                let (k, r) = crate::graphql::ids::decode_any(id, "entityId")?;
                (Some(k.name().to_owned()), Some(r))
            }
            None => (None, None),
        };
        if let (Some(t), Some(k)) = (&entity_type, &entity_kind)
            && t != k
        {
            return Err(AppError::bad_input(format!(
                "`entityId` is a {k}, but `entityType` is {t}"
            ))
            .into());
        }
        let filter = listing::AuditFilter {
            entity_type: entity_kind.or(entity_type),
            entity_id: entity_row,
            actor_id: decode_opt(actor_id.as_ref(), Kind::Person, "actorId")?,
            from,
            to,
        };
        connection::load(
            ctx,
            None,
            connection::list(AuditScope::Root, filter, first, after, last, before)?,
        )
        .await
    }

    /// What changed in the portfolio between two instants, for a quarterly CAB or PMO
    /// review: each object with audit events after `from` up to and including `to`, its
    /// events folded into one field-level difference (as it stood at `from`, as it stands
    /// at `to`), by type then creation, in pages. API tokens appear to ADMIN tokens only.
    async fn portfolio_diff(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The start: the state at this instant is the `before`.")] from: DateTime<
            Utc,
        >,
        #[graphql(desc = "The end: the state at this instant is the `after`.")] to: DateTime<Utc>,
        #[graphql(desc = "Only objects of these GraphQL types, e.g. `[\"Change\", \"Service\"]`.")]
        entity_types: Option<Vec<String>>,
        #[graphql(desc = "At most this many objects (max 100; 20 when not given).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Objects after this cursor (a page's `endCursor`).")] after: Option<
            String,
        >,
    ) -> Result<EntityDiffConnection> {
        if from > to {
            return Err(AppError::bad_input("`from` must not be after `to`").into());
        }
        if let Some(unknown) = entity_types
            .iter()
            .flatten()
            .find(|t| Kind::from_name(t).is_none())
        {
            return Err(AppError::bad_input(format!(
                "`entityTypes`: no type `{unknown}` is audited"
            ))
            .into());
        }
        let limit = bounded("first", first.unwrap_or(20), 100)? as usize;
        let cursor = after.as_deref().map(decode_cursor).transpose()?;
        let scope = DiffScope {
            from,
            to,
            entity_types,
            hidden: match Viewer::of(ctx).is_admin() {
                true => Vec::new(),
                false => vec![Kind::ApiToken.name().to_owned()],
            },
        };
        let mut items = history::diff(db(ctx), &scope, cursor.as_ref(), limit as u64 + 1).await?;
        let has_next_page = items.len() > limit;
        items.truncate(limit);
        Ok(EntityDiffConnection {
            items,
            has_next_page,
        })
    }

    /// The portfolio as it stood at an instant, rebuilt from the audit trail: each object's
    /// fields as its last audited write left them at or before `at` (null where it did not
    /// exist yet), with the relationships the trail records answered as of the same
    /// instant. Reads only; objects loaded by `portfolio seed synthetic`, whose audit holds
    /// partial images, are refused with a message.
    async fn as_of(
        &self,
        #[graphql(desc = "The instant.")] at: DateTime<Utc>,
    ) -> PortfolioSnapshot {
        PortfolioSnapshot { at }
    }
}
