//! The GraphQL schema: the roots (one part per domain, `roots/`), object types (`types/`),
//! inputs, loaders and connections. Resolvers are thin: they decode arguments, go through a
//! loader or the store or call one use case, and map errors to codes.

pub mod connection;
pub mod enums;
pub mod ids;
pub mod inputs;
pub mod loaders;
pub mod narrow;
pub mod roots;
pub mod types;
pub mod viewer;

use std::sync::Arc;

use async_graphql::dataloader::Loader;
use async_graphql::{Context, Schema};
use sea_orm::{DatabaseConnection, EntityTrait};

use crate::domain::Governance;
use crate::error::AppError;
use crate::store::Db;
use crate::store::lookup::HasId;
use crate::store::relations::Relation;
use loaders::{AppLoader, ById, ChildrenOf, LoadError, Loaders};

/// The schema served at `/graphql`.
pub type AppSchema = Schema<roots::Query, roots::Mutation, roots::Subscription>;

/// Limits that protect the server from expensive documents.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Deepest nesting of selections.
    pub depth: usize,
    /// Largest complexity (number of fields, connection fields weighted by page size).
    pub complexity: usize,
    /// Whether introspection and field suggestions are served.
    pub introspection: bool,
}

/// Builds the schema once, at start-up; per-request data (the loader) is added per request.
///
/// No engine extension is registered: with any, async-graphql resolves every field through
/// its slower instrumented path (the portal page took half as long again).
pub fn build_schema(db: DatabaseConnection, governance: Governance, limits: Limits) -> AppSchema {
    let mut builder = Schema::build(
        roots::Query::default(),
        roots::Mutation::default(),
        roots::Subscription::default(),
    )
    .data(Db::Pool(db))
    .data(governance)
    .limit_depth(limits.depth)
    .limit_complexity(limits.complexity);
    if !limits.introspection {
        // Suggestions ("did you mean …") would leak the field names introspection hides.
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder.finish()
}

/// The SDL of the schema, as `portfolio schema` prints it and `schema.graphql` holds it.
pub fn sdl() -> String {
    Schema::build(
        roots::Query::default(),
        roots::Mutation::default(),
        roots::Subscription::default(),
    )
    .finish()
    .sdl()
}

/// Gives every error raised from an [`AppError`] its stable code and public message.
///
/// Resolvers return `AppError`s with `?` (async-graphql keeps the error as the source of the
/// GraphQL error it makes); this reads the source back, on every transport, in one place.
/// A database cause is logged here and never sent.
pub fn coded(response: &mut async_graphql::Response) {
    for err in &mut response.errors {
        let app = err
            .source::<AppError>()
            .or_else(|| err.source::<Arc<AppError>>().map(AsRef::as_ref));
        let Some(app) = app else { continue };
        let (message, code, retry_after) = (app.public_message(), app.code(), app.retry_after());
        err.message = message;
        let extensions = err.extensions.get_or_insert_with(Default::default);
        extensions.set("code", code);
        if let Some(secs) = retry_after {
            extensions.set("retryAfter", secs);
        }
    }
}

/// The schema as the WebSocket transport executes it: every answer and event goes through
/// [`coded`], as every HTTP answer does.
#[derive(Clone)]
pub struct Coded(pub AppSchema);

impl async_graphql::Executor for Coded {
    async fn execute(&self, request: async_graphql::Request) -> async_graphql::Response {
        let mut response = self.0.execute(request).await;
        coded(&mut response);
        response
    }

    fn execute_stream(
        &self,
        request: async_graphql::Request,
        session_data: Option<Arc<async_graphql::Data>>,
    ) -> futures_util::stream::BoxStream<'static, async_graphql::Response> {
        use futures_util::StreamExt;
        async_graphql::Executor::execute_stream(&self.0, request, session_data)
            .map(|mut response| {
                coded(&mut response);
                response
            })
            .boxed()
    }
}

/// A count argument (a page size, a depth) between 1 and `max`: above it LIMIT_EXCEEDED,
/// below 1 BAD_USER_INPUT, each naming the argument.
pub fn bounded(arg: &str, n: i32, max: u32) -> Result<u32, AppError> {
    match u32::try_from(n) {
        Ok(v @ 1..) if v <= max => Ok(v),
        Ok(v @ 1..) => Err(AppError::LimitExceeded(format!(
            "`{arg}` is {v}; at most {max} are allowed"
        ))),
        _ => Err(AppError::bad_input(format!(
            "`{arg}` must be positive, not {n}"
        ))),
    }
}

/// The request's loader.
pub fn loader<'a>(ctx: &Context<'a>) -> &'a AppLoader {
    ctx.data_unchecked::<Arc<AppLoader>>()
}

/// The use cases, for resolvers that run one.
pub fn gov<'a>(ctx: &Context<'a>) -> &'a Governance {
    ctx.data_unchecked::<Governance>()
}

/// The database: the pool, or the transaction of a dry run.
pub fn db<'a>(ctx: &Context<'a>) -> &'a Db {
    ctx.data_unchecked::<Db>()
}

/// Loads row `id` of `E` through the request's loader.
pub async fn by_id<E>(ctx: &Context<'_>, id: i64) -> async_graphql::Result<Option<E::Model>>
where
    E: EntityTrait,
    E::Model: HasId + Clone + Send + Sync,
    Loaders: Loader<ById<E>, Value = E::Model, Error = LoadError>,
{
    Ok(loader(ctx)
        .load_one(ById::<E>::new(id))
        .await
        .map_err(AppError::from)?)
}

/// The freeze `key` names, through the request's loader; none when there is no key (the
/// work cannot run into one), without a statement.
pub async fn freeze_of(
    ctx: &Context<'_>,
    key: Option<loaders::FreezeOf>,
) -> async_graphql::Result<Option<Arc<crate::store::blackouts::Freeze>>> {
    match key {
        Some(key) => Ok(loader(ctx)
            .load_one(key)
            .await
            .map_err(|e| async_graphql::Error::from(AppError::from(e)))?),
        None => Ok(None),
    }
}

/// Loads an optional reference through the request's loader.
pub async fn by_opt_id<E>(
    ctx: &Context<'_>,
    id: Option<i64>,
) -> async_graphql::Result<Option<E::Model>>
where
    E: EntityTrait,
    E::Model: HasId + Clone + Send + Sync,
    Loaders: Loader<ById<E>, Value = E::Model, Error = LoadError>,
{
    match id {
        Some(id) => by_id::<E>(ctx, id).await,
        None => Ok(None),
    }
}

/// Loads a required reference; its absence is a broken foreign key, hence internal.
pub async fn required<E>(ctx: &Context<'_>, id: i64) -> async_graphql::Result<E::Model>
where
    E: EntityTrait,
    E::Model: HasId + Clone + Send + Sync,
    Loaders: Loader<ById<E>, Value = E::Model, Error = LoadError>,
{
    by_id::<E>(ctx, id)
        .await?
        .ok_or_else(|| AppError::Internal(format!("dangling reference to id {id}")).into())
}

/// Loads the `C` children of the `P` row `parent` through `relation`.
pub async fn children<P, C>(
    ctx: &Context<'_>,
    relation: Relation<P, C>,
    parent: i64,
) -> async_graphql::Result<Arc<Vec<C::Model>>>
where
    P: EntityTrait,
    C: EntityTrait,
    C::Model: Clone + Send + Sync,
    Loaders: Loader<ChildrenOf<C>, Value = Arc<Vec<C::Model>>, Error = LoadError>,
{
    Ok(loader(ctx)
        .load_one(ChildrenOf::<C>::new(relation.spec(), parent))
        .await
        .map_err(AppError::from)?
        .unwrap_or_default())
}

/// Loads rows of `E` by id in one batch, in the order of `ids`, skipping unknown ids.
pub async fn many<E>(
    ctx: &Context<'_>,
    ids: impl IntoIterator<Item = i64>,
) -> async_graphql::Result<Vec<E::Model>>
where
    E: EntityTrait,
    E::Model: HasId + Clone + Send + Sync,
    Loaders: Loader<ById<E>, Value = E::Model, Error = LoadError>,
{
    let ids: Vec<i64> = ids.into_iter().collect();
    let found = loader(ctx)
        .load_many(ids.iter().map(|id| ById::<E>::new(*id)))
        .await
        .map_err(AppError::from)?;
    Ok(ids
        .iter()
        .filter_map(|id| found.get(&ById::new(*id)).cloned())
        .collect())
}
