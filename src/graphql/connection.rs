//! Relay connections built from store pages, with a `totalCount` that costs a (batched)
//! `COUNT` query only when a client asks for it.

use std::sync::Arc;

use async_graphql::connection::{CursorType, Edge, EmptyFields, PageInfo};
use async_graphql::{Context, Object, OutputType, Result};
use futures_util::future::BoxFuture;

use super::loader;
use super::loaders::{AppLoader, CountKey, LoadError, PageKey};
use super::narrow::{self, Narrow};
use super::types::{
    AuditEvent, Change, ChangeModel, Partner, Person, Process, Project, Release, Service,
    ServiceOffering,
};
use crate::error::AppError;
use crate::store::listing::{Filter, List};
use crate::store::page::{Cursor, ModelOf, PageArgs};

/// A Relay connection of `N` with `totalCount`. Ours rather than the engine's `Connection`,
/// whose type has no description: every connection type of the schema is documented here.
pub struct Conn<N: OutputType> {
    has_previous_page: bool,
    has_next_page: bool,
    edges: Vec<Edge<EdgeCursor, N, EmptyFields>>,
    total: TotalCount,
}

/// A page of a list (a Relay cursor connection): the items as `nodes`, or as `edges` with
/// a cursor each; `pageInfo` to ask for the next or the previous page; `totalCount`, which
/// is counted only when asked for.
#[Object(
    concrete(name = "AuditEventConnection", params(AuditEvent)),
    concrete(name = "ChangeConnection", params(Change)),
    concrete(name = "ChangeModelConnection", params(ChangeModel)),
    concrete(name = "PartnerConnection", params(Partner)),
    concrete(name = "PersonConnection", params(Person)),
    concrete(name = "ProcessConnection", params(Process)),
    concrete(name = "ProjectConnection", params(Project)),
    concrete(name = "ReleaseConnection", params(Release)),
    concrete(name = "ServiceConnection", params(Service)),
    concrete(name = "ServiceOfferingConnection", params(ServiceOffering))
)]
impl<N: OutputType> Conn<N> {
    /// Information to aid in pagination.
    async fn page_info(&self) -> PageInfo {
        PageInfo {
            has_previous_page: self.has_previous_page,
            has_next_page: self.has_next_page,
            start_cursor: self.edges.first().map(|e| e.cursor.encode_cursor()),
            end_cursor: self.edges.last().map(|e| e.cursor.encode_cursor()),
        }
    }

    /// A list of edges.
    async fn edges(&self) -> &[Edge<EdgeCursor, N, EmptyFields>] {
        &self.edges
    }

    /// A list of nodes.
    async fn nodes(&self) -> Vec<&N> {
        self.edges.iter().map(|e| &e.node).collect()
    }

    /// Number of items in the whole list (all pages), with the list's filters applied.
    async fn total_count(&self, ctx: &Context<'_>) -> Result<i32> {
        self.total.resolve(ctx).await
    }
}

/// A store cursor as the engine's edges carry it.
pub struct EdgeCursor(Cursor);

impl CursorType for EdgeCursor {
    type Error = &'static str;

    /// Cursors arrive as plain `after` / `before` strings and are checked against the
    /// list's ordering by the store; the engine never decodes one.
    fn decode_cursor(_: &str) -> Result<Self, Self::Error> {
        Err("cursors are decoded against their list's ordering")
    }

    fn encode_cursor(&self) -> String {
        self.0.encode()
    }
}

trait CountSource: Send + Sync {
    fn count<'a>(&'a self, loader: &'a AppLoader) -> BoxFuture<'a, Result<i64, LoadError>>;
}

impl<F: Filter> CountSource for PageKey<F> {
    fn count<'a>(&'a self, loader: &'a AppLoader) -> BoxFuture<'a, Result<i64, LoadError>> {
        Box::pin(async move { Ok(loader.load_one(CountKey(self.clone())).await?.unwrap_or(0)) })
    }
}

/// The `totalCount` of a connection, resolved lazily.
struct TotalCount(Box<dyn CountSource>);

impl TotalCount {
    async fn resolve(&self, ctx: &Context<'_>) -> Result<i32> {
        let n = self.0.count(loader(ctx)).await.map_err(AppError::from)?;
        Ok(i32::try_from(n).unwrap_or(i32::MAX))
    }
}

/// Loads one page of `list` for `parent` through the request's loader and wraps it as a
/// connection of `N`, reading only the columns the client's selection of nodes needs.
pub async fn load<F, N>(ctx: &Context<'_>, parent: Option<i64>, list: List<F>) -> Result<Conn<N>>
where
    F: Filter,
    ModelOf<List<F>>: Clone + Send + Sync,
    N: OutputType + From<ModelOf<List<F>>> + Narrow<Entity = F::Entity>,
{
    let list = list.narrowed(narrow::of_connection::<N>(ctx));
    let key = PageKey { parent, list };
    let loader = loader(ctx);
    let page = loader
        .load_one(key.clone())
        .await
        .map_err(AppError::from)?
        .unwrap_or_default();
    // Every resolver waiting on the batch already holds its page; without the cache's
    // reference the rows move into the connection instead of being copied (a portal page
    // is over a thousand rows). A page asked for twice in one request is read twice.
    loader.clear::<PageKey<F>>();
    let page = Arc::unwrap_or_clone(page);
    let conn = Conn {
        has_previous_page: page.has_previous_page,
        has_next_page: page.has_next_page,
        edges: page
            .rows
            .into_iter()
            .map(|(cursor, m)| Edge::new(EdgeCursor(cursor), N::from(m)))
            .collect(),
        total: TotalCount(Box::new(key)),
    };
    Ok(conn)
}

/// Builds a [`List`] from a filter and the connection arguments, or a client error.
pub fn list<F: Filter>(
    scope: F::Scope,
    filter: F,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<List<F>, AppError> {
    List::new(
        scope,
        filter,
        &PageArgs {
            first,
            after,
            last,
            before,
        },
    )
}

/// The complexity of a connection field: its children's cost times the items a page may
/// return, so `changes(first: 100) { services(first: 100) { … } }` costs what it can fetch.
/// Out-of-range sizes count as the maximum; they are refused when the field runs anyway.
pub fn cost(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let items = match (first, last) {
        (None, None) => 20,
        (f, l) => f.max(l).unwrap_or(0).clamp(1, 100) as usize,
    };
    items
        .saturating_mul(child_complexity.max(1))
        .saturating_add(1)
}
