//! The roots of the schema, composed from one part per domain. Each part is thin: it decodes
//! its arguments (IDs, absent-versus-null), reads through the loaders and the store, or
//! calls one use case of the domain layer as the request's viewer, and wraps the result.
//! Every rule lives in the domain layer; every mutation is one transaction.
//!
//! The order of the parts is the order of the fields in the schema.

mod access;
mod audit;
mod blackouts;
mod catalog;
mod catalog_upsert;
mod changes;
mod nodes;
mod planning;
mod processes;
mod releases;
mod reporting;
mod webhooks;

use async_graphql::{ID, MaybeUndefined, MergedObject, MergedSubscription};

use crate::domain::Patch;
use crate::error::AppResult;
use crate::graphql::ids::{Kind, decode};

/// Entry points for reading the portfolio graph.
#[derive(MergedObject, Default)]
pub struct Query(
    nodes::NodesQuery,
    access::AccessQuery,
    catalog::CatalogQuery,
    processes::ProcessesQuery,
    planning::PlanningQuery,
    changes::ChangesQuery,
    releases::ReleasesQuery,
    audit::AuditQuery,
    reporting::ReportingQuery,
    blackouts::BlackoutsQuery,
    webhooks::WebhooksQuery,
);

/// Every write of the portfolio. Send one mutation per operation: mutations return
/// non-null objects, so a failing one nulls the whole `data`.
#[derive(MergedObject, Default)]
pub struct Mutation(
    catalog::CatalogMutation,
    catalog_upsert::CatalogUpsertMutation,
    processes::ProcessesMutation,
    planning::PlanningMutation,
    access::AccessMutation,
    blackouts::BlackoutsMutation,
    changes::ChangesMutation,
    releases::ReleasesMutation,
    webhooks::WebhooksMutation,
);

/// Live events over WebSocket (`graphql-transport-ws` at `/graphql`).
#[derive(MergedSubscription, Default)]
pub struct Subscription(changes::ChangesSubscription, releases::ReleasesSubscription);

/// Absent stays, null clears, a value sets.
fn patch<T, U: From<T>>(v: MaybeUndefined<T>) -> Patch<U> {
    match v {
        MaybeUndefined::Undefined => Patch::Keep,
        MaybeUndefined::Null => Patch::Clear,
        MaybeUndefined::Value(v) => Patch::Set(v.into()),
    }
}

/// An optional ID argument of an update: absent stays, null clears, an ID of `kind` sets.
fn patch_id(v: MaybeUndefined<ID>, kind: Kind, field: &str) -> AppResult<Patch<i64>> {
    patch::<ID, ID>(v).try_map(|id| decode(&id, kind, field))
}

/// A list of IDs of `kind` in an update: absent stays, null clears, a list sets.
fn patch_ids(v: MaybeUndefined<Vec<ID>>, kind: Kind, field: &str) -> AppResult<Patch<Vec<i64>>> {
    patch::<Vec<ID>, Vec<ID>>(v).try_map(|v| ids(&v, kind, field))
}

/// A list argument of IDs of `kind`.
fn ids(v: &[ID], kind: Kind, field: &str) -> AppResult<Vec<i64>> {
    v.iter().map(|id| decode(id, kind, field)).collect()
}
