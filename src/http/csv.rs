//! CSV exports for reporting tools: every change (or release) matching a filter, streamed in
//! chunks of [`CHUNK`] rows (keyset by id), so memory stays flat however many rows there are.
//! A presentation of the store's rows, so it lives with the HTTP layer, not in the core.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{change, person, project, release, service, service_dependency};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::error::{AppError, AppResult};
use crate::store::listing::{
    ChangeFilter, ChangeScope, Filter, ReleaseFilter, ReleaseScope, ServiceFilter, ServiceScope,
};
use crate::store::lookup::{HasId, by_ids};

/// Rows per database round trip and per chunk of output.
pub const CHUNK: u64 = 1000;

/// One kind of row an export streams.
pub trait Exported: HasId + Sized + Send + Sync {
    /// The filter choosing the rows: the one of the GraphQL list, at its root.
    type Filter: Filter<Entity: EntityTrait<Model = Self>>;
    /// The root scope of the filter.
    const ROOT: <Self::Filter as Filter>::Scope;
    /// The CSV header.
    const HEADER: &'static [&'static str];
    /// Writes `rows`, looking up what they reference once per chunk.
    fn write(
        db: &DatabaseConnection,
        rows: &[Self],
        out: &mut csv::Writer<Vec<u8>>,
    ) -> impl Future<Output = AppResult<()>> + Send;
}

/// Where an export stands between chunks.
pub struct Export<T: Exported> {
    db: DatabaseConnection,
    filter: T::Filter,
    after: i64,
    started: bool,
    done: bool,
}

impl<T: Exported> Export<T> {
    /// An export of the rows matching `filter`, in creation (id) order.
    pub fn new(db: DatabaseConnection, filter: T::Filter) -> Self {
        Self {
            db,
            filter,
            after: 0,
            started: false,
            done: false,
        }
    }

    /// The next chunk of CSV (the header first), or `None` when every row has been sent.
    pub async fn next_chunk(&mut self) -> AppResult<Option<Vec<u8>>> {
        if self.done {
            return Ok(None);
        }
        let rows = next_rows(&self.db, &self.filter, T::ROOT, self.after).await?;
        self.done = (rows.len() as u64) < CHUNK;
        let mut out = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 200));
        if !self.started {
            out.write_record(T::HEADER).map_err(csv_error)?;
            self.started = true;
        }
        T::write(&self.db, &rows, &mut out).await?;
        if let Some(last) = rows.last() {
            self.after = last.id();
        }
        out.into_inner()
            .map(Some)
            .map_err(|e| AppError::Internal(format!("csv: {e}")))
    }
}

fn csv_error(e: csv::Error) -> AppError {
    AppError::Internal(format!("csv: {e}"))
}

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.to_rfc3339()).unwrap_or_default()
}

/// Up to [`CHUNK`] rows matching `filter` in `scope` with an `id` above `after`, by id.
async fn next_rows<F: Filter>(
    db: &DatabaseConnection,
    filter: &F,
    scope: F::Scope,
    after: i64,
) -> AppResult<Vec<<F::Entity as EntityTrait>::Model>> {
    let id = Expr::col((Alias::new(F::TABLE), Alias::new("id")));
    Ok(F::Entity::find()
        .filter(filter.condition(scope))
        .filter(id.clone().gt(after))
        .order_by(id, Order::Asc)
        .limit(CHUNK)
        .all(db)
        .await?)
}

/// The rows of `E` with these ids, by id (no statement for none).
async fn referenced<E>(db: &DatabaseConnection, ids: Vec<i64>) -> AppResult<HashMap<i64, E::Model>>
where
    E: EntityTrait,
    E::Model: HasId + Send + Sync,
{
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    by_ids::<E, _>(db, &ids).await
}

const CHANGE_HEADER: [&str; 19] = [
    "number",
    "title",
    "type",
    "category",
    "risk",
    "status",
    "outcome",
    "requested_by",
    "project",
    "planned_start",
    "planned_end",
    "submitted_at",
    "authorized_at",
    "closed_at",
    "created_at",
    "updated_at",
    "review_summary",
    "objectives_met",
    "follow_up",
];

impl Exported for change::Model {
    type Filter = ChangeFilter;
    const ROOT: ChangeScope = ChangeScope::Root;
    const HEADER: &'static [&'static str] = &CHANGE_HEADER;

    async fn write(
        db: &DatabaseConnection,
        rows: &[Self],
        out: &mut csv::Writer<Vec<u8>>,
    ) -> AppResult<()> {
        let people =
            referenced::<person::Entity>(db, rows.iter().map(|c| c.requested_by_id).collect())
                .await?;
        let projects =
            referenced::<project::Entity>(db, rows.iter().filter_map(|c| c.project_id).collect())
                .await?;
        for c in rows {
            out.write_record([
                c.number.as_str(),
                c.title.as_str(),
                c.change_type.as_str(),
                c.category.as_str(),
                c.risk.as_str(),
                c.status.as_str(),
                c.outcome.map(|o| o.as_str()).unwrap_or(""),
                people
                    .get(&c.requested_by_id)
                    .map(|p| p.email.as_str())
                    .unwrap_or(""),
                c.project_id
                    .and_then(|p| projects.get(&p))
                    .map(|p| p.code.as_str())
                    .unwrap_or(""),
                &time(c.planned_start),
                &time(c.planned_end),
                &time(c.submitted_at),
                &time(c.authorized_at),
                &time(c.closed_at),
                &c.created_at.to_rfc3339(),
                &c.updated_at.to_rfc3339(),
                c.review_summary.as_deref().unwrap_or(""),
                match c.review_objectives_met {
                    Some(true) => "true",
                    Some(false) => "false",
                    None => "",
                },
                c.review_follow_up.as_deref().unwrap_or(""),
            ])
            .map_err(csv_error)?;
        }
        Ok(())
    }
}

const RELEASE_HEADER: [&str; 12] = [
    "name",
    "version",
    "type",
    "status",
    "project",
    "previous",
    "planned_date",
    "deployed_at",
    "created_at",
    "updated_at",
    "planned_start",
    "planned_end",
];

impl Exported for release::Model {
    type Filter = ReleaseFilter;
    const ROOT: ReleaseScope = ReleaseScope::Root;
    const HEADER: &'static [&'static str] = &RELEASE_HEADER;

    async fn write(
        db: &DatabaseConnection,
        rows: &[Self],
        out: &mut csv::Writer<Vec<u8>>,
    ) -> AppResult<()> {
        let projects =
            referenced::<project::Entity>(db, rows.iter().filter_map(|r| r.project_id).collect())
                .await?;
        let previous =
            referenced::<release::Entity>(db, rows.iter().filter_map(|r| r.previous_id).collect())
                .await?;
        for r in rows {
            let prev = r
                .previous_id
                .and_then(|p| previous.get(&p))
                .map(|p| format!("{} {}", p.name, p.version))
                .unwrap_or_default();
            out.write_record([
                r.name.as_str(),
                r.version.as_str(),
                r.release_type.as_str(),
                r.status.as_str(),
                r.project_id
                    .and_then(|p| projects.get(&p))
                    .map(|p| p.code.as_str())
                    .unwrap_or(""),
                &prev,
                &time(r.planned_date),
                &time(r.deployed_at),
                &r.created_at.to_rfc3339(),
                &r.updated_at.to_rfc3339(),
                &time(r.planned_start),
                &time(r.planned_end),
            ])
            .map_err(csv_error)?;
        }
        Ok(())
    }
}

const SERVICE_HEADER: [&str; 10] = [
    "key",
    "name",
    "lifecycle",
    "criticality",
    "scope",
    "owner",
    "depends_on",
    "dependents",
    "created_at",
    "updated_at",
];

impl Exported for service::Model {
    type Filter = ServiceFilter;
    const ROOT: ServiceScope = ServiceScope::Root;
    const HEADER: &'static [&'static str] = &SERVICE_HEADER;

    /// The dependency columns list service keys in key order, separated by spaces (keys
    /// hold none).
    async fn write(
        db: &DatabaseConnection,
        rows: &[Self],
        out: &mut csv::Writer<Vec<u8>>,
    ) -> AppResult<()> {
        let ids: Vec<i64> = rows.iter().map(|s| s.id).collect();
        let edges = if ids.is_empty() {
            Vec::new()
        } else {
            service_dependency::Entity::find()
                .filter(
                    Condition::any()
                        .add(service_dependency::Column::ServiceId.is_in(ids.iter().copied()))
                        .add(service_dependency::Column::DependsOnId.is_in(ids.iter().copied())),
                )
                .all(db)
                .await?
        };
        let linked = edges
            .iter()
            .flat_map(|e| [e.service_id, e.depends_on_id])
            .collect::<std::collections::BTreeSet<i64>>();
        let keys = referenced::<service::Entity>(db, linked.into_iter().collect()).await?;
        let owners =
            referenced::<person::Entity>(db, rows.iter().filter_map(|s| s.owner_id).collect())
                .await?;
        let listed = |pick: &dyn Fn(&service_dependency::Model) -> Option<i64>| {
            let mut found: Vec<&str> = edges
                .iter()
                .filter_map(pick)
                .filter_map(|id| keys.get(&id).map(|s| s.key.as_str()))
                .collect();
            found.sort_unstable();
            found.join(" ")
        };
        for s in rows {
            let depends_on = listed(&|e| (e.service_id == s.id).then_some(e.depends_on_id));
            let dependents = listed(&|e| (e.depends_on_id == s.id).then_some(e.service_id));
            out.write_record([
                s.key.as_str(),
                s.name.as_str(),
                s.lifecycle.as_str(),
                s.criticality.as_str(),
                s.scope.as_deref().unwrap_or(""),
                s.owner_id
                    .and_then(|o| owners.get(&o))
                    .map(|p| p.email.as_str())
                    .unwrap_or(""),
                &depends_on,
                &dependents,
                &s.created_at.to_rfc3339(),
                &s.updated_at.to_rfc3339(),
            ])
            .map_err(csv_error)?;
        }
        Ok(())
    }
}
