//! Batched look-ups: rows by id, by natural key, the children of many parents at once, and
//! the small aggregates that hang off one parent (impacted offerings, status counts).

use std::collections::HashMap;

use entity::*;
use sea_orm::sea_query::{Alias, Asterisk, Condition, Expr, ExprTrait, JoinType, Order, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityName, EntityTrait, QueryFilter};

use super::page::{Via, id_in, select_columns};
use super::rows::{self, Columns, Decode, Decoder, Rows};
use crate::error::{AppError, AppResult};

/// Models with a surrogate `id`.
pub trait HasId {
    /// The row id.
    fn id(&self) -> i64;
}

macro_rules! has_id {
    ($($m:ident),+) => { $(impl HasId for $m::Model { fn id(&self) -> i64 { self.id } })+ };
}
has_id!(
    person,
    partner,
    service,
    service_offering,
    offering_component,
    process,
    policy,
    process_role_assignment,
    project,
    change_model,
    change,
    approval,
    release,
    audit_event,
    blackout_window,
    api_token,
    approval_rule
);

/// Rows of `E` by id, in one `WHERE id IN (…)`.
pub async fn by_ids<E, C>(db: &C, ids: &[i64]) -> AppResult<HashMap<i64, E::Model>>
where
    E: EntityTrait,
    E::Model: HasId,
    C: ConnectionTrait,
{
    let rows = E::find()
        .filter(id_in(
            Expr::col(Alias::new("id")),
            ids,
            db.get_database_backend(),
        ))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|m| (m.id(), m)).collect())
}

/// How children hang off their parents, for non-paginated lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Children {
    pub table: &'static str,
    pub via: Via,
    /// Column of `table` that orders the children.
    pub order_by: &'static str,
}

/// A loader hashes its keys several times each, and a page of changes has a thousand keys
/// of one `Children`: the table alone tells the relationships of a request apart well
/// enough (equal specs still hash equal), at a fraction of hashing every name in them.
impl std::hash::Hash for Children {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.table.hash(state);
    }
}

/// All children of each parent, in one statement: `SELECT t.*, parent AS __parent … WHERE
/// parent IN (…)`, or only the given columns of `t`.
pub async fn children<E, C>(
    db: &C,
    spec: Children,
    columns: Columns,
    parents: &[i64],
) -> AppResult<HashMap<i64, Vec<E::Model>>>
where
    E: EntityTrait<Model: Decode>,
    C: ConnectionTrait,
{
    let table = Alias::new(spec.table);
    let mut q = Query::select();
    select_columns::<E::Model>(&mut q, spec.table, columns);
    q.from(table.clone());
    let parent = match spec.via {
        Via::Root => return Ok(HashMap::new()),
        Via::Column(c) => Expr::col((table.clone(), Alias::new(c))),
        Via::Junction {
            table: jt,
            child,
            parent,
        } => {
            q.inner_join(
                Alias::new(jt),
                Expr::col((Alias::new(jt), Alias::new(child)))
                    .equals((table.clone(), Alias::new("id"))),
            );
            Expr::col((Alias::new(jt), Alias::new(parent)))
        }
    };
    // The ordering column as a column of its own: a narrowed row may not hold it.
    let order = Expr::col((table.clone(), Alias::new(spec.order_by)));
    let backend = db.get_database_backend();
    q.expr_as(parent.clone(), Alias::new("__parent"))
        .expr_as(order.clone(), Alias::new("__order"))
        .cond_where(Condition::all().add(id_in(parent, parents, backend)));
    if !rows::as_json::<E::Model>(backend) {
        q.order_by_expr(order, Order::Asc);
    }
    let found = rows::fetch::<E::Model, _, _>(
        db,
        &q,
        columns,
        &["__parent", "__order"],
        &[("__order", Order::Asc)],
    )
    .await?;
    group(found, columns)
}

/// Rows of a statement grouped by their `__parent` column, in the statement's order.
fn group<M: Decode>(found: Rows, columns: Columns) -> AppResult<HashMap<i64, Vec<M>>> {
    let mut out: HashMap<i64, Vec<M>> = HashMap::new();
    let mut decoder = Decoder::<M>::new(columns);
    let parent_at = match found.first() {
        Some(row) => rows::positions(row, &["__parent"])?[0],
        None => return Ok(out),
    };
    for row in found.iter() {
        let p: i64 = rows::get(row, parent_at)?;
        out.entry(p).or_default().push(decoder.decode(row)?);
    }
    Ok(out)
}

/// The offerings that include any service touched by each parent (a change or a release),
/// through `services` (the parent's junction to its services, see `relations`) and
/// `offering_service`.
pub async fn impacted_offerings<C: ConnectionTrait>(
    db: &C,
    services: Via,
    parents: &[i64],
) -> AppResult<HashMap<i64, Vec<service_offering::Model>>> {
    let Via::Junction {
        table: link,
        child: service_column,
        parent: parent_column,
    } = services
    else {
        return Err(AppError::Internal(format!(
            "impacted offerings go through a junction of services, not {services:?}"
        )));
    };
    let so = service_offering::Entity.table_name();
    let os = offering_service::Entity.table_name();
    let mut q = Query::select();
    q.distinct()
        .column((Alias::new(so), Asterisk))
        .expr_as(
            Expr::col((Alias::new(link), Alias::new(parent_column))),
            Alias::new("__parent"),
        )
        .from(Alias::new(so))
        .inner_join(
            Alias::new(os),
            Expr::col((Alias::new(os), offering_service::Column::OfferingId))
                .equals((Alias::new(so), service_offering::Column::Id)),
        )
        .inner_join(
            Alias::new(link),
            Expr::col((Alias::new(link), Alias::new(service_column)))
                .equals((Alias::new(os), offering_service::Column::ServiceId)),
        )
        .and_where(
            Expr::col((Alias::new(link), Alias::new(parent_column))).is_in(parents.iter().copied()),
        )
        .order_by((Alias::new(so), service_offering::Column::Id), Order::Asc);
    group(db.query_all(&q).await?.into(), Columns::ALL)
}

/// A breakdown of a project's changes or releases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tally {
    /// Changes by status.
    ChangeStatus,
    /// Changes by risk.
    ChangeRisk,
    /// Releases by status.
    ReleaseStatus,
}

impl Tally {
    fn table_and_column(self) -> (&'static str, &'static str) {
        match self {
            Self::ChangeStatus => ("change", "status"),
            Self::ChangeRisk => ("change", "risk"),
            Self::ReleaseStatus => ("release", "status"),
        }
    }
}

/// For each project, how many of its changes (or releases) have each value of the tally's
/// column, in one `GROUP BY`.
pub async fn project_tallies<C: ConnectionTrait>(
    db: &C,
    tally: Tally,
    projects: &[i64],
) -> AppResult<HashMap<i64, Vec<(String, i64)>>> {
    let (table, column) = tally.table_and_column();
    let (t, c, p) = (
        Alias::new(table),
        Alias::new(column),
        Alias::new("project_id"),
    );
    let mut q = Query::select();
    q.expr_as(Expr::col((t.clone(), p.clone())), Alias::new("project_id"))
        .expr_as(Expr::col((t.clone(), c.clone())), Alias::new("value"))
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .from(t.clone())
        .and_where(Expr::col((t.clone(), p.clone())).is_in(projects.iter().copied()))
        .group_by_col((t.clone(), p))
        .group_by_col((t, c));
    let mut out: HashMap<i64, Vec<(String, i64)>> = HashMap::new();
    for row in db.query_all(&q).await? {
        out.entry(row.try_get("", "project_id")?)
            .or_default()
            .push((row.try_get("", "value")?, row.try_get("", "n")?));
    }
    Ok(out)
}

/// Finds one row by a unique text column (a natural key).
pub async fn by_key<E, C>(db: &C, column: E::Column, key: &str) -> AppResult<Option<E::Model>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    Ok(E::find().filter(column.eq(key)).one(db).await?)
}

/// For each change, how many changes its active release (neither CANCELLED nor FAILED)
/// packages; changes without one are absent. One statement, so it batches with the other
/// facts of `availableTransitions` instead of waiting for the releases first.
pub async fn active_release_sizes<C: ConnectionTrait>(
    db: &C,
    changes: &[i64],
) -> AppResult<HashMap<i64, i64>> {
    let (rc, peer, r) = (Alias::new("rc"), Alias::new("peer"), Alias::new("r"));
    let col = |t: &Alias, c: &str| Expr::col((t.clone(), Alias::new(c)));
    let mut q = Query::select();
    q.expr_as(col(&rc, "change_id"), Alias::new("change_id"))
        .expr_as(col(&peer, "change_id").count(), Alias::new("n"))
        .from_as(Alias::new("release_change"), rc.clone())
        .join_as(
            JoinType::InnerJoin,
            Alias::new("release"),
            r.clone(),
            col(&r, "id").equals((rc.clone(), Alias::new("release_id"))),
        )
        .join_as(
            JoinType::InnerJoin,
            Alias::new("release_change"),
            peer.clone(),
            col(&peer, "release_id").equals((rc.clone(), Alias::new("release_id"))),
        )
        .and_where(col(&rc, "change_id").is_in(changes.iter().copied()))
        .and_where(col(&r, "status").is_not_in([
            ReleaseStatus::Cancelled.as_str(),
            ReleaseStatus::Failed.as_str(),
        ]))
        .group_by_col((rc, Alias::new("change_id")));
    let mut out = HashMap::new();
    for row in db.query_all(&q).await? {
        out.insert(row.try_get("", "change_id")?, row.try_get("", "n")?);
    }
    Ok(out)
}

/// What an offering's consumers are about to see change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Upcoming {
    /// Open changes (not CLOSED, REJECTED or CANCELLED) touching its services, by planned start.
    Changes,
    /// Releases not yet deployed (PLANNED..READY) delivering to its services, by planned date.
    Releases,
}

impl Upcoming {
    /// (table, link table, link's column for the row, row's date column, statuses kept)
    fn shape(
        self,
    ) -> (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        Vec<&'static str>,
    ) {
        match self {
            Self::Changes => (
                "change",
                "change_service",
                "change_id",
                "planned_start",
                [
                    ChangeStatus::Draft,
                    ChangeStatus::Submitted,
                    ChangeStatus::Authorized,
                    ChangeStatus::Scheduled,
                    ChangeStatus::Implementing,
                    ChangeStatus::Review,
                ]
                .map(ChangeStatus::as_str)
                .to_vec(),
            ),
            Self::Releases => (
                "release",
                "release_service",
                "release_id",
                "planned_date",
                [
                    ReleaseStatus::Planned,
                    ReleaseStatus::Building,
                    ReleaseStatus::Testing,
                    ReleaseStatus::Ready,
                ]
                .map(ReleaseStatus::as_str)
                .to_vec(),
            ),
        }
    }
}

/// For each offering, up to `limit` rows of `what` touching any of its services, soonest
/// first (undated last), each row once: one statement for all offerings, cut per offering
/// by a window function over narrow rows.
pub async fn upcoming<M: Decode, C: ConnectionTrait>(
    db: &C,
    what: Upcoming,
    offerings: &[i64],
    limit: u64,
) -> AppResult<HashMap<i64, Vec<M>>> {
    let (table, link, link_col, date, statuses) = what.shape();
    let (t, l, os) = (
        Alias::new(table),
        Alias::new(link),
        Alias::new("offering_service"),
    );
    let col = |a: &Alias, c: &str| Expr::col((a.clone(), Alias::new(c)));
    let mut candidates = Query::select();
    candidates
        .expr_as(col(&os, "offering_id"), Alias::new("__parent"))
        .expr_as(col(&t, "id"), Alias::new("__id"))
        .expr_as(col(&t, date), Alias::new("__date"))
        .from(t.clone())
        .inner_join(
            l.clone(),
            col(&l, link_col).equals((t.clone(), Alias::new("id"))),
        )
        .inner_join(
            os.clone(),
            col(&os, "service_id").equals((l.clone(), Alias::new("service_id"))),
        )
        .and_where(col(&os, "offering_id").is_in(offerings.iter().copied()))
        .and_where(col(&t, "status").is_in(statuses))
        .group_by_col((os.clone(), Alias::new("offering_id")))
        .group_by_col((t.clone(), Alias::new("id")))
        .group_by_col((t.clone(), Alias::new(date)));
    let mut window = sea_orm::sea_query::WindowStatement::partition_by(Alias::new("__parent"));
    window
        .order_by_expr(Expr::col(Alias::new("__date")).is_null(), Order::Asc)
        .order_by(Alias::new("__date"), Order::Asc)
        .order_by(Alias::new("__id"), Order::Asc);
    let mut ranked = Query::select();
    ranked
        .columns([Alias::new("__parent"), Alias::new("__id")])
        .expr_window_as(
            sea_orm::sea_query::Func::cust(Alias::new("ROW_NUMBER")),
            window,
            Alias::new("__rn"),
        )
        .from_subquery(candidates, Alias::new("candidates"));
    let r = Alias::new("ranked");
    let mut q = Query::select();
    q.column((t.clone(), Asterisk))
        .expr_as(col(&r, "__parent"), Alias::new("__parent"))
        .from_subquery(ranked, r.clone())
        .inner_join(
            t.clone(),
            col(&t, "id").equals((r.clone(), Alias::new("__id"))),
        )
        .and_where(col(&r, "__rn").lte(limit as i64))
        .order_by((r.clone(), Alias::new("__parent")), Order::Asc)
        .order_by((r, Alias::new("__rn")), Order::Asc);
    group(db.query_all(&q).await?.into(), Columns::ALL)
}
