//! Keyset pagination for every connection, batched across parents.
//!
//! A [`Listing`] describes *what* is listed (a target table, how its rows hang off a parent,
//! the filter, the ordering, the page). [`fetch_pages`] answers it for many parents in one
//! statement: with parents, rows are numbered per parent by `ROW_NUMBER() OVER (PARTITION BY
//! parent ORDER BY keys)` and cut at `first + 1`, so a nested connection costs one query
//! whatever the number of parents, and never reads children it does not return.
//! Cursors are opaque: base64url of the sort-key values of a row plus the ordering's name.

use std::collections::HashMap;
use std::hash::Hash;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{
    Alias, Asterisk, Condition, Expr, ExprTrait, Func, Order, OverStatement, Query,
    SelectStatement, Value, WindowStatement,
};
use sea_orm::{ConnectionTrait, EntityTrait, FromQueryResult, QueryResult};
use serde_json::Value as Json;

use crate::error::{AppError, AppResult};

/// Default page size when neither `first` nor `last` is given.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// Largest page a client may ask for.
pub const MAX_PAGE_SIZE: u64 = 100;

/// The pagination arguments of a connection field, exactly as the client sent them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

/// Validated pagination: how many rows, in which direction, from which cursor.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PageSpec {
    pub limit: u64,
    pub backward: bool,
    /// A cursor already checked to decode against the ordering.
    cursor: Option<String>,
    /// The cursor on the other side (`before` when paging forward), bounding the page.
    opposite: Option<String>,
}

impl PageSpec {
    /// Validates the arguments against an ordering: page size within limits, `first` and
    /// `last` not both given, cursors well-formed and made by the same ordering.
    pub fn parse(args: &PageArgs, ordering: &Ordering) -> AppResult<Self> {
        let size = |name: &str, v: i32| -> AppResult<u64> {
            if v < 0 {
                return Err(AppError::bad_input(format!(
                    "`{name}` must not be negative"
                )));
            }
            let v = v as u64;
            if v > MAX_PAGE_SIZE {
                return Err(AppError::LimitExceeded(format!(
                    "`{name}` is {v}, above the maximum page size of {MAX_PAGE_SIZE}; page with cursors instead"
                )));
            }
            Ok(v)
        };
        let (limit, backward) = match (args.first, args.last) {
            (Some(_), Some(_)) => {
                return Err(AppError::bad_input("pass `first` or `last`, not both"));
            }
            (Some(f), None) => (size("first", f)?, false),
            (None, Some(l)) => (size("last", l)?, true),
            (None, None) => (
                DEFAULT_PAGE_SIZE,
                args.before.is_some() && args.after.is_none(),
            ),
        };
        let (cursor, opposite) = if backward {
            (args.before.clone(), args.after.clone())
        } else {
            (args.after.clone(), args.before.clone())
        };
        for (name, c) in [("after", &args.after), ("before", &args.before)] {
            if let Some(c) = c {
                decode_cursor(c, ordering).map_err(|_| {
                    AppError::bad_input(format!(
                        "`{name}` is not a valid cursor for this list and ordering"
                    ))
                })?;
            }
        }
        Ok(Self {
            limit,
            backward,
            cursor,
            opposite,
        })
    }
}

/// The kind of value a sort key holds, for cursor encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    Int,
    Text,
    Time,
}

/// One sort key: an SQL expression over the target table and its direction.
#[derive(Clone, Debug)]
pub struct SortKey {
    pub expr: Expr,
    pub kind: KeyKind,
    pub nullable: bool,
    pub desc: bool,
}

impl SortKey {
    /// A non-null column of the target table.
    pub fn column(table: &'static str, column: &'static str, kind: KeyKind, desc: bool) -> Self {
        Self {
            expr: Expr::col((Alias::new(table), Alias::new(column))),
            kind,
            nullable: false,
            desc,
        }
    }
}

/// A total ordering of a listing: its sort keys, then the row id as the tie-breaker.
#[derive(Clone, Debug)]
pub struct Ordering {
    /// Cursors remember the ordering that made them, so that a cursor from another
    /// ordering is refused instead of silently returning a wrong page.
    pub name: String,
    keys: Vec<SortKey>,
}

impl Ordering {
    /// Builds an ordering from `keys` and the row id of `table` (same direction as the last key).
    pub fn new(name: impl Into<String>, table: &'static str, keys: Vec<SortKey>) -> Self {
        let id_desc = keys.last().map(|k| k.desc).unwrap_or(false);
        let mut expanded = Vec::with_capacity(keys.len() * 2 + 1);
        for key in keys {
            if key.nullable {
                // Nulls sort after every value (ascending): an explicit 0/1 flag key first,
                // so that keyset comparisons never compare against NULL.
                let flag = Expr::case(key.expr.clone().is_null(), Expr::val(1i64))
                    .finally(Expr::val(0i64));
                expanded.push(SortKey {
                    expr: flag.into(),
                    kind: KeyKind::Int,
                    nullable: false,
                    desc: key.desc,
                });
            }
            expanded.push(key);
        }
        expanded.push(SortKey::column(table, "id", KeyKind::Int, id_desc));
        Self {
            name: name.into(),
            keys: expanded,
        }
    }

    /// Ascending by id: the default, creation order.
    pub fn by_id(table: &'static str) -> Self {
        Self::new("ID", table, Vec::new())
    }
}

/// How the rows of a listing hang off their parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Via {
    /// Top-level list: no parent.
    Root,
    /// A column of the target table holds the parent id.
    Column(&'static str),
    /// A join table links target rows (`child`) to parents (`parent`).
    Junction {
        table: &'static str,
        child: &'static str,
        parent: &'static str,
    },
}

/// A list query: what to list, for which parents, in which order, which page.
/// It is a batching key, so it is hashable; the parent id is not part of it.
pub trait Listing: Clone + Eq + Hash + Send + Sync + 'static {
    /// The listed entity.
    type Entity: EntityTrait;
    /// Table of the listed entity.
    const TABLE: &'static str;
    /// How rows relate to the parent ids.
    fn via(&self) -> Via;
    /// Filter conditions on the target table.
    fn condition(&self) -> Condition;
    /// Sort order.
    fn ordering(&self) -> Ordering;
    /// Validated pagination.
    fn page(&self) -> &PageSpec;
}

/// Model type of a listing.
pub type ModelOf<L> = <<L as Listing>::Entity as EntityTrait>::Model;

/// One page of rows of one parent, each with its cursor.
#[derive(Clone, Debug)]
pub struct PageRows<M> {
    pub rows: Vec<(String, M)>,
    pub has_previous_page: bool,
    pub has_next_page: bool,
}

impl<M> Default for PageRows<M> {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            has_previous_page: false,
            has_next_page: false,
        }
    }
}

const PARENT: &str = "__parent";
const ROW_NUMBER: &str = "__rn";
const ROW_ID: &str = "__id";

fn key_alias(i: usize) -> String {
    format!("__k{i}")
}

/// FROM target [JOIN junction] WHERE filter [AND parent IN (…)], selecting the parent as `__parent`.
fn base_select<L: Listing>(
    listing: &L,
    parents: Option<&[i64]>,
) -> (SelectStatement, Option<Expr>) {
    let table = Alias::new(L::TABLE);
    let mut q = Query::select();
    q.from(table.clone());
    let parent = match listing.via() {
        Via::Root => None,
        Via::Column(col) => Some(Expr::col((table.clone(), Alias::new(col)))),
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
            Some(Expr::col((Alias::new(jt), Alias::new(parent))))
        }
    };
    let mut cond = listing.condition();
    if let (Some(p), Some(ids)) = (&parent, parents) {
        cond = cond.add(p.clone().is_in(ids.iter().copied()));
        q.expr_as(p.clone(), Alias::new(PARENT));
    }
    q.cond_where(cond);
    (q, parent.filter(|_| parents.is_some()))
}

/// Fetches one page per parent (or the one top-level page when `parents` is `None`) in a
/// single statement.
pub async fn fetch_pages<L, C>(
    db: &C,
    listing: &L,
    parents: Option<&[i64]>,
) -> AppResult<HashMap<Option<i64>, PageRows<ModelOf<L>>>>
where
    L: Listing,
    C: ConnectionTrait,
{
    let ordering = listing.ordering();
    let page = listing.page();
    let keys = &ordering.keys;
    let (mut q, parent) = base_select(listing, parents);
    let table = Alias::new(L::TABLE);
    if parent.is_some() {
        // Rank narrow rows (id and sort keys) and fetch whole rows only for the winners:
        // the window then sorts a few bytes per candidate child, not every column.
        q.expr_as(
            Expr::col((table.clone(), Alias::new("id"))),
            Alias::new(ROW_ID),
        );
    } else {
        q.column((table.clone(), Asterisk));
    }
    for (i, k) in keys.iter().enumerate() {
        q.expr_as(k.expr.clone(), Alias::new(key_alias(i)));
    }
    // Relay: `after` and `before` may both be given; the page lies between them.
    for (cursor, backward) in [
        (&page.cursor, page.backward),
        (&page.opposite, !page.backward),
    ] {
        if let Some(cursor) = cursor {
            let values = decode_cursor(cursor, &ordering)
                .map_err(|_| AppError::bad_input("invalid cursor"))?;
            if let Some(c) = keyset_condition(keys, &values, backward) {
                q.and_where(c);
            }
        }
    }
    let fetch = page.limit + 1;
    let direction = |k: &SortKey| {
        if k.desc != page.backward {
            Order::Desc
        } else {
            Order::Asc
        }
    };
    let stmt = match parent {
        None => {
            for k in keys {
                q.order_by_expr(k.expr.clone(), direction(k));
            }
            q.limit(fetch);
            q
        }
        Some(parent) => {
            let mut window = WindowStatement::new();
            window.add_partition_by(parent);
            for k in keys {
                window.order_by_expr(k.expr.clone(), direction(k));
            }
            q.expr_window_as(
                Func::cust(Alias::new("ROW_NUMBER")),
                window,
                Alias::new(ROW_NUMBER),
            );
            let ranked = Alias::new("page");
            let mut outer = Query::select();
            outer
                .column((table.clone(), Asterisk))
                .column((ranked.clone(), Asterisk))
                .from_subquery(q, ranked.clone())
                .inner_join(
                    table.clone(),
                    Expr::col((table, Alias::new("id"))).equals((ranked, Alias::new(ROW_ID))),
                )
                .and_where(Expr::col(Alias::new(ROW_NUMBER)).lte(fetch as i64))
                .order_by(Alias::new(PARENT), Order::Asc)
                .order_by(Alias::new(ROW_NUMBER), Order::Asc);
            outer
        }
    };
    let rows = db.query_all(&stmt).await?;

    let mut pages: HashMap<Option<i64>, PageRows<ModelOf<L>>> = HashMap::new();
    for row in &rows {
        let parent_id: Option<i64> = match parents {
            Some(_) => Some(row.try_get("", PARENT)?),
            None => None,
        };
        let model = <ModelOf<L> as FromQueryResult>::from_query_result(row, "")?;
        let cursor = encode_cursor(&ordering.name, &read_keys(row, keys)?);
        pages
            .entry(parent_id)
            .or_default()
            .rows
            .push((cursor, model));
    }
    if parents.is_none() {
        pages.entry(None).or_default();
    }
    for page_rows in pages.values_mut() {
        let more = page_rows.rows.len() as u64 > page.limit;
        page_rows.rows.truncate(page.limit as usize);
        if page.backward {
            page_rows.rows.reverse();
            page_rows.has_previous_page = more;
            page_rows.has_next_page = page.cursor.is_some();
        } else {
            page_rows.has_next_page = more;
            page_rows.has_previous_page = page.cursor.is_some();
        }
    }
    Ok(pages)
}

/// Counts the rows of a listing per parent (pagination ignored).
pub async fn count<L, C>(
    db: &C,
    listing: &L,
    parents: Option<&[i64]>,
) -> AppResult<HashMap<Option<i64>, i64>>
where
    L: Listing,
    C: ConnectionTrait,
{
    let (mut q, parent) = base_select(listing, parents);
    q.expr_as(Expr::cust("COUNT(*)"), Alias::new("n"));
    if parent.is_some() {
        q.group_by_col(Alias::new(PARENT));
    }
    let rows = db.query_all(&q).await?;
    let mut counts = HashMap::new();
    for row in rows {
        let p: Option<i64> = match parents {
            Some(_) => Some(row.try_get("", PARENT)?),
            None => None,
        };
        counts.insert(p, row.try_get::<i64>("", "n")?);
    }
    Ok(counts)
}

/// Rows strictly after (or before, going backwards) the cursor row in the ordering:
/// `k1 > v1 OR (k1 = v1 AND (k2 > v2 OR …))`. A key whose cursor value is NULL is skipped:
/// its null flag, which precedes it, already equals 1 for every row it is compared with.
fn keyset_condition(keys: &[SortKey], values: &[Json], backward: bool) -> Option<Expr> {
    let mut cond: Option<Expr> = None;
    for (k, v) in keys.iter().zip(values).rev() {
        let Some(value) = json_to_value(k.kind, v) else {
            continue;
        };
        let beyond = if k.desc != backward {
            k.expr.clone().lt(value.clone())
        } else {
            k.expr.clone().gt(value.clone())
        };
        cond = Some(match cond {
            None => beyond,
            Some(rest) => beyond.or(k.expr.clone().eq(value).and(rest)),
        });
    }
    cond
}

fn json_to_value(kind: KeyKind, v: &Json) -> Option<Value> {
    match (kind, v) {
        (KeyKind::Int, Json::Number(n)) => n.as_i64().map(Value::from),
        (KeyKind::Text, Json::String(s)) => Some(Value::from(s.clone())),
        (KeyKind::Time, Json::String(s)) => DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| Value::from(t.with_timezone(&Utc))),
        _ => None,
    }
}

fn read_keys(row: &QueryResult, keys: &[SortKey]) -> AppResult<Vec<Json>> {
    keys.iter()
        .enumerate()
        .map(|(i, k)| {
            let col = key_alias(i);
            Ok(match k.kind {
                KeyKind::Int => row.try_get::<Option<i64>>("", &col)?.map(Json::from),
                KeyKind::Text => row.try_get::<Option<String>>("", &col)?.map(Json::from),
                KeyKind::Time => row
                    .try_get::<Option<DateTime<Utc>>>("", &col)?
                    .map(|t| Json::from(t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))),
            }
            .unwrap_or(Json::Null))
        })
        .collect()
}

fn encode_cursor(ordering: &str, values: &[Json]) -> String {
    let body = serde_json::json!({ "o": ordering, "k": values });
    URL_SAFE_NO_PAD.encode(body.to_string())
}

fn decode_cursor(cursor: &str, ordering: &Ordering) -> Result<Vec<Json>, ()> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| ())?;
    let body: Json = serde_json::from_slice(&bytes).map_err(|_| ())?;
    if body.get("o").and_then(Json::as_str) != Some(ordering.name.as_str()) {
        return Err(());
    }
    let values = body.get("k").and_then(Json::as_array).ok_or(())?;
    if values.len() != ordering.keys.len() {
        return Err(());
    }
    for (k, v) in ordering.keys.iter().zip(values) {
        let ok = v.is_null() && k.nullable || json_to_value(k.kind, v).is_some();
        if !ok {
            return Err(());
        }
    }
    Ok(values.clone())
}
