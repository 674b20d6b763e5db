//! Batched look-ups: rows by id, by natural key, the children of many parents at once, and
//! the small aggregates that hang off one parent (impacted offerings, status counts).

use std::collections::HashMap;

use entity::*;
use sea_orm::sea_query::{Alias, Asterisk, Condition, Expr, ExprTrait, JoinType, Order, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect,
};

use super::page::Via;
use crate::error::AppResult;

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
    blackout_window
);

/// Rows of `E` by id, in one `WHERE id IN (…)`.
pub async fn by_ids<E, C>(db: &C, ids: &[i64]) -> AppResult<HashMap<i64, E::Model>>
where
    E: EntityTrait,
    E::Model: HasId,
    C: ConnectionTrait,
{
    let rows = E::find()
        .filter(Expr::col(Alias::new("id")).is_in(ids.iter().copied()))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|m| (m.id(), m)).collect())
}

/// How children hang off their parents, for non-paginated lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Children {
    pub table: &'static str,
    pub via: Via,
    /// Column of `table` that orders the children.
    pub order_by: &'static str,
}

/// All children of each parent, in one statement: `SELECT t.*, parent AS __parent … WHERE parent IN (…)`.
pub async fn children<E, C>(
    db: &C,
    spec: Children,
    parents: &[i64],
) -> AppResult<HashMap<i64, Vec<E::Model>>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let table = Alias::new(spec.table);
    let mut q = Query::select();
    q.column((table.clone(), Asterisk)).from(table.clone());
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
    q.expr_as(parent.clone(), Alias::new("__parent"))
        .cond_where(Condition::all().add(parent.is_in(parents.iter().copied())))
        .order_by((table, Alias::new(spec.order_by)), Order::Asc);
    group(db.query_all(&q).await?)
}

fn group<M: FromQueryResult>(rows: Vec<sea_orm::QueryResult>) -> AppResult<HashMap<i64, Vec<M>>> {
    let mut out: HashMap<i64, Vec<M>> = HashMap::new();
    for row in rows {
        let p: i64 = row.try_get("", "__parent")?;
        out.entry(p)
            .or_default()
            .push(M::from_query_result(&row, "")?);
    }
    Ok(out)
}

/// The offerings that include any service touched by each parent (a change or a release),
/// through `link` (`change_service` or `release_service`) and `offering_service`.
pub async fn impacted_offerings<C: ConnectionTrait>(
    db: &C,
    link: &'static str,
    parent_column: &'static str,
    parents: &[i64],
) -> AppResult<HashMap<i64, Vec<service_offering::Model>>> {
    let so = Alias::new("service_offering");
    let os = Alias::new("offering_service");
    let l = Alias::new(link);
    let mut q = Query::select();
    q.distinct()
        .column((so.clone(), Asterisk))
        .expr_as(
            Expr::col((l.clone(), Alias::new(parent_column))),
            Alias::new("__parent"),
        )
        .from(so.clone())
        .inner_join(
            os.clone(),
            Expr::col((os.clone(), Alias::new("offering_id")))
                .equals((so.clone(), Alias::new("id"))),
        )
        .inner_join(
            l.clone(),
            Expr::col((l.clone(), Alias::new("service_id"))).equals((os, Alias::new("service_id"))),
        )
        .and_where(Expr::col((l, Alias::new(parent_column))).is_in(parents.iter().copied()))
        .order_by((so, Alias::new("id")), Order::Asc);
    group(db.query_all(&q).await?)
}

/// For each project, how many of its changes are in each status.
pub async fn change_status_counts<C: ConnectionTrait>(
    db: &C,
    projects: &[i64],
) -> AppResult<HashMap<i64, Vec<(ChangeStatus, i64)>>> {
    let rows: Vec<(i64, ChangeStatus, i64)> = change::Entity::find()
        .select_only()
        .column(change::Column::ProjectId)
        .column(change::Column::Status)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .filter(change::Column::ProjectId.is_in(projects.iter().copied()))
        .group_by(change::Column::ProjectId)
        .group_by(change::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let mut out: HashMap<i64, Vec<(ChangeStatus, i64)>> = HashMap::new();
    for (p, s, n) in rows {
        out.entry(p).or_default().push((s, n));
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
