//! Keyset pagination for every connection, batched across parents.
//!
//! A [`Listing`] describes *what* is listed (a target table, how its rows hang off a parent,
//! the filter, the ordering, the page). [`fetch_pages`] answers it for many parents in one
//! statement — each parent's `ORDER BY keys LIMIT first + 1` as a `LATERAL` join
//! (PostgreSQL) or a correlated subquery (SQLite) — so a nested connection costs one query
//! whatever the number of parents, and never reads children it does not return.
//! Cursors are opaque: base64url of the sort-key values of a row plus the ordering's name.

use std::collections::HashMap;
use std::fmt::Write;
use std::hash::Hash;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{
    Alias, Asterisk, Condition, Expr, ExprTrait, Func, Order, PostgresQueryBuilder, Query,
    SelectStatement, Value,
};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Statement};
use serde_json::Value as Json;

use super::rows::{self, Columns, Decode, Decoder, Row};
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
    /// The target table's column the key is, when it is a plain column: a join table that
    /// holds a copy of it can then sort by its own copy (see [`Listing::junction_copy`]).
    pub column: Option<&'static str>,
}

impl SortKey {
    /// A non-null column of the target table.
    pub fn column(table: &'static str, column: &'static str, kind: KeyKind, desc: bool) -> Self {
        Self {
            expr: Expr::col((Alias::new(table), Alias::new(column))),
            kind,
            nullable: false,
            desc,
            column: Some(column),
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
                    column: None,
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
    type Entity: EntityTrait<Model: Decode>;
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
    /// The column of the join table (of a [`Via::Junction`]) that holds a copy of the
    /// target's `column`, if it keeps one; the target's id is always there, as the child.
    fn junction_copy(&self, column: &str) -> Option<&'static str> {
        let _ = column;
        None
    }
    /// The columns of the target table to read: all unless the listing was narrowed.
    fn columns(&self) -> Columns {
        Columns::ALL
    }
}

/// Model type of a listing.
pub type ModelOf<L> = <<L as Listing>::Entity as EntityTrait>::Model;

/// The position of a row in a listing: its ordering's name and sort-key values. Encoded
/// (base64url of JSON) only when a client asks for it, since most pages are read without
/// their cursors.
#[derive(Clone, Debug)]
pub struct Cursor {
    ordering: Arc<str>,
    keys: Vec<KeyValue>,
}

/// A sort-key value as read from the row; turned into JSON only when a cursor is encoded.
#[derive(Clone, Debug)]
enum KeyValue {
    Null,
    Int(i64),
    Text(String),
    Time(DateTime<Utc>),
}

impl KeyValue {
    fn to_json(&self) -> Json {
        match self {
            KeyValue::Null => Json::Null,
            KeyValue::Int(n) => Json::from(*n),
            KeyValue::Text(s) => Json::from(s.as_str()),
            KeyValue::Time(t) => Json::from(t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
        }
    }
}

impl Cursor {
    /// The opaque string a client sends back as `after` or `before`.
    pub fn encode(&self) -> String {
        let keys: Vec<Json> = self.keys.iter().map(KeyValue::to_json).collect();
        encode_cursor(&self.ordering, &keys)
    }
}

/// One page of rows of one parent, each with its cursor.
#[derive(Clone, Debug)]
pub struct PageRows<M> {
    pub rows: Vec<(Cursor, M)>,
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
/// The parents of a `LATERAL` page statement, as a relation.
const LATERAL_PARENTS: &str = "__parents";
/// The ranked or lateral rows of a page statement.
const PAGE: &str = "page";

fn key_alias(i: usize) -> String {
    format!("__k{i}")
}

/// Selects the columns of `table` that `columns` names (`table.*` for all of them).
pub fn select_columns<M: Decode>(q: &mut SelectStatement, table: &'static str, columns: Columns) {
    match columns.names::<M>() {
        Some(names) => {
            for name in names {
                q.column((Alias::new(table), Alias::new(name)));
            }
        }
        None => {
            q.column((Alias::new(table), Asterisk));
        }
    }
}

/// How a statement narrows a listing to its parents.
#[derive(Clone, Copy)]
enum Parents<'a> {
    /// A top-level list.
    None,
    /// `parent IN (ids)`, selecting the parent as `__parent`.
    In(&'a [i64], DbBackend),
    /// `parent = "__parents"."<column>"`: a page's rows for the parent of an enclosing row
    /// (the body of PostgreSQL's `LATERAL` join, SQLite's correlated subquery).
    Correlated(&'static str),
}

/// FROM target [JOIN junction] WHERE filter [AND parent …], and the parent expression.
fn base_select<L: Listing>(listing: &L, parents: Parents<'_>) -> (SelectStatement, Option<Expr>) {
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
    let parent = match (parent, parents) {
        (Some(p), Parents::In(ids, backend)) => {
            cond = cond.add(id_in(p.clone(), ids, backend));
            q.expr_as(p.clone(), Alias::new(PARENT));
            Some(p)
        }
        (Some(p), Parents::Correlated(column)) => {
            cond = cond.add(
                p.clone()
                    .equals((Alias::new(LATERAL_PARENTS), Alias::new(column))),
            );
            Some(p)
        }
        _ => None,
    };
    q.cond_where(cond);
    (q, parent)
}

/// `expr IN (ids)` as one parameter, whatever the number of ids: on PostgreSQL `= ANY(CAST($1
/// AS bigint[]))`, on SQLite `IN (SELECT value FROM json_each(?))`. The statement is then
/// the same, prepared once, for any number of ids (a list of placeholders makes a new
/// statement per length, and SQLite refuses more than 32,766 of them).
pub fn id_in(expr: Expr, ids: &[i64], backend: DbBackend) -> Expr {
    match backend {
        DbBackend::Postgres => {
            expr.eq(Func::cust(Alias::new("ANY")).arg(Expr::val(pg_array(ids)).cast_as("bigint[]")))
        }
        DbBackend::Sqlite => expr.in_subquery(
            Query::select()
                .column(Alias::new(JSON_EACH_VALUE))
                .from_function(
                    Func::cust(Alias::new("json_each")).arg(json_array(ids)),
                    Alias::new("__ids"),
                )
                .take(),
        ),
        _ => expr.is_in(ids.iter().copied()),
    }
}

/// [`id_in`] for hand-written SQL: the condition `column IN (ids)` with its one
/// parameter, numbered `n` on PostgreSQL (SQLite numbers its `?` by position).
pub fn id_in_sql(column: &str, ids: &[i64], backend: DbBackend, n: usize) -> (String, Value) {
    match backend {
        DbBackend::Postgres => (
            format!("{column} = ANY(CAST(${n} AS bigint[]))"),
            Value::from(pg_array(ids)),
        ),
        _ => (
            format!("{column} IN (SELECT {JSON_EACH_VALUE} FROM json_each(?))"),
            Value::from(json_array(ids)),
        ),
    }
}

/// A PostgreSQL array literal of ids: `{1,2,3}`.
fn pg_array(ids: &[i64]) -> String {
    let mut out = String::with_capacity(ids.len() * 7 + 2);
    out.push('{');
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // Writing to a String cannot fail.
        let _ = write!(out, "{id}");
    }
    out.push('}');
    out
}

/// The column of the listing's join table that holds sort key `k`, if it keeps one: the
/// target's id always (the child column), others as [`Listing::junction_copy`] says.
fn junction_column<L: Listing>(listing: &L, k: &SortKey) -> Option<&'static str> {
    let Via::Junction { child, .. } = listing.via() else {
        return None;
    };
    match k.column? {
        "id" => Some(child),
        c => listing.junction_copy(c),
    }
}

/// The keys of `ordering` as this listing sorts by them: a key the join table keeps is read
/// from the join table, whose index then yields the rows in order.
fn sort_keys<L: Listing>(listing: &L, ordering: &Ordering) -> Vec<SortKey> {
    let Via::Junction { table, .. } = listing.via() else {
        return ordering.keys.clone();
    };
    ordering
        .keys
        .iter()
        .map(|k| match junction_column(listing, k) {
            Some(c) => SortKey {
                expr: Expr::col((Alias::new(table), Alias::new(c))),
                ..k.clone()
            },
            None => k.clone(),
        })
        .collect()
}

/// The ids of one parent's page read from the join table alone, when nothing else is
/// needed: no filter on the target and every sort key kept by the join table (a service's
/// newest changes from the index on `change_service`, without reading each change).
/// Correlated to the parent `"__parents"."value"` of SQLite's enclosing row.
fn junction_only<L: Listing>(listing: &L, ordering: &Ordering) -> Option<SelectStatement> {
    let Via::Junction {
        table,
        child,
        parent,
    } = listing.via()
    else {
        return None;
    };
    let on_junction = |k: &SortKey| junction_column(listing, k).is_some();
    if !listing.condition().is_empty() || !ordering.keys.iter().all(on_junction) {
        return None;
    }
    let jt = Alias::new(table);
    let mut q = Query::select();
    q.from(jt.clone())
        .column((jt.clone(), Alias::new(child)))
        .and_where(
            Expr::col((jt, Alias::new(parent)))
                .equals((Alias::new(LATERAL_PARENTS), Alias::new(JSON_EACH_VALUE))),
        );
    Some(q)
}

/// The column of SQLite's `json_each` that holds each element.
const JSON_EACH_VALUE: &str = "value";

/// A JSON array of ids: `[1,2,3]`, SQLite's one parameter for any number of parents.
fn json_array(ids: &[i64]) -> String {
    let mut out = pg_array(ids);
    out.replace_range(..1, "[");
    out.replace_range(out.len() - 1.., "]");
    out
}

/// Fetches one page per parent (or the one top-level page when `parents` is `None`) in a
/// single statement.
///
/// For many parents, PostgreSQL runs a `LATERAL` join: for each parent, the page's
/// `first + 1` rows straight from an index range, reading no other child. SQLite has no
/// `LATERAL`; its equivalent is a correlated subquery: for each parent of `json_each(?)`
/// (one parameter whatever the number of parents), the target rows whose id is `IN (…
/// WHERE parent = that parent ORDER BY keys LIMIT first + 1)`, the ids read from an index
/// (from the join table alone when no filter needs the target). `CROSS JOIN` keeps the
/// parents as the outer loop: SQLite does not reorder it.
pub async fn fetch_pages<L, C>(
    db: &C,
    listing: &L,
    parents: Option<&[i64]>,
) -> AppResult<HashMap<Option<i64>, PageRows<ModelOf<L>>>>
where
    L: Listing,
    C: ConnectionTrait,
{
    let backend = db.get_database_backend();
    let ordering = listing.ordering();
    let page = listing.page();
    let keys = &sort_keys(listing, &ordering);
    let lateral = parents.is_some() && backend == DbBackend::Postgres;
    let table = Alias::new(L::TABLE);
    // Relay: `after` and `before` may both be given; the page lies between them.
    let mut bounds = Vec::new();
    for (cursor, backward) in [
        (&page.cursor, page.backward),
        (&page.opposite, !page.backward),
    ] {
        if let Some(cursor) = cursor {
            let values = decode_cursor(cursor, &ordering)
                .map_err(|_| AppError::bad_input("invalid cursor"))?;
            bounds.extend(keyset_condition(keys, &values, backward));
        }
    }
    // The listed columns and sort keys of the top-level page, or of one parent's page as
    // the body of a LATERAL join; cursor bounds included, no order or limit.
    let select = |parents: Parents<'_>| -> SelectStatement {
        let (mut q, _) = base_select(listing, parents);
        select_columns::<ModelOf<L>>(&mut q, L::TABLE, listing.columns());
        for (i, k) in keys.iter().enumerate() {
            q.expr_as(k.expr.clone(), Alias::new(key_alias(i)));
        }
        for bound in &bounds {
            q.and_where(bound.clone());
        }
        q
    };
    let fetch = page.limit + 1;
    let direction = |k: &SortKey| {
        if k.desc != page.backward {
            Order::Desc
        } else {
            Order::Asc
        }
    };
    // One page's rows in page order, `first + 1` of them (the extra one tells of a next page).
    let first_rows = |mut q: SelectStatement| {
        for k in keys {
            q.order_by_expr(k.expr.clone(), direction(k));
        }
        q.limit(fetch);
        q
    };
    // What is read back besides the model's columns: the parent id and the sort keys, in
    // page order (SQLite's JSON answer is ordered by them).
    let aliases: Vec<String> = (0..keys.len()).map(key_alias).collect();
    let mut extra: Vec<&str> = Vec::new();
    let mut order: Vec<(&str, Order)> = Vec::new();
    if parents.is_some() {
        extra.push(PARENT);
        order.push((PARENT, Order::Asc));
    }
    for (alias, k) in aliases.iter().zip(keys) {
        extra.push(alias);
        order.push((alias, direction(k)));
    }
    let columns = listing.columns();
    let rows = match parents {
        Some(ids) if lateral => {
            let (body, mut values) =
                first_rows(select(Parents::Correlated(PARENT))).build(PostgresQueryBuilder);
            // The body's placeholders are $1…$n; the parents' array comes last.
            values.0.push(Value::from(pg_array(ids)));
            let order: Vec<String> = keys
                .iter()
                .enumerate()
                .map(|(i, k)| {
                    let dir = if direction(k) == Order::Desc {
                        "DESC"
                    } else {
                        "ASC"
                    };
                    format!(", \"{PAGE}\".\"{}\" {dir}", key_alias(i))
                })
                .collect();
            let sql = format!(
                "SELECT \"{LATERAL_PARENTS}\".\"{PARENT}\", \"{PAGE}\".* \
                 FROM unnest(CAST(${n} AS bigint[])) AS \"{LATERAL_PARENTS}\"(\"{PARENT}\") \
                 CROSS JOIN LATERAL ({body}) AS \"{PAGE}\" \
                 ORDER BY \"{LATERAL_PARENTS}\".\"{PARENT}\"{order}",
                n = values.0.len(),
                order = order.concat(),
            );
            db.query_all_raw(Statement::from_sql_and_values(backend, sql, values))
                .await?
                .into()
        }
        None => {
            let q = first_rows(select(Parents::None));
            rows::fetch::<ModelOf<L>, _, _>(db, &q, columns, &extra, &order).await?
        }
        Some(ids) => {
            // The ids of the page of the parent `"__parents"."value"`, from an index.
            let mut page_ids = junction_only(listing, &ordering).unwrap_or_else(|| {
                let (mut q, _) = base_select(listing, Parents::Correlated(JSON_EACH_VALUE));
                q.column((table.clone(), Alias::new("id")));
                q
            });
            for bound in &bounds {
                page_ids.and_where(bound.clone());
            }
            let parents = Alias::new(LATERAL_PARENTS);
            let mut q = Query::select();
            select_columns::<ModelOf<L>>(&mut q, L::TABLE, columns);
            q.expr_as(
                Expr::col((parents.clone(), Alias::new(JSON_EACH_VALUE))),
                Alias::new(PARENT),
            );
            // The keys from the target's own columns: a join table's copy holds the same.
            for (i, k) in ordering.keys.iter().enumerate() {
                q.expr_as(k.expr.clone(), Alias::new(key_alias(i)));
            }
            q.from_function(
                Func::cust(Alias::new("json_each")).arg(json_array(ids)),
                parents,
            )
            .cross_join(table.clone())
            .and_where(
                Expr::col((table.clone(), Alias::new("id"))).in_subquery(first_rows(page_ids)),
            );
            if !rows::as_json::<ModelOf<L>>(backend) {
                for (name, o) in &order {
                    q.order_by(Alias::new(*name), o.clone());
                }
            }
            rows::fetch::<ModelOf<L>, _, _>(db, &q, columns, &extra, &order).await?
        }
    };

    let name: Arc<str> = Arc::from(ordering.name.as_str());
    let mut pages: HashMap<Option<i64>, PageRows<ModelOf<L>>> = HashMap::new();
    let mut decoder = Decoder::<ModelOf<L>>::new(columns);
    // The sort keys and the parent id, by position: found once for the whole statement.
    let (key_at, parent_at) = match rows.first() {
        Some(row) => {
            let parent_at = match parents {
                Some(_) => Some(rows::positions(row, &[PARENT])?[0]),
                None => None,
            };
            (rows::positions(row, &aliases)?, parent_at)
        }
        None => (Vec::new(), None),
    };
    for row in rows.iter() {
        let parent_id: Option<i64> = match parent_at {
            Some(i) => Some(rows::get(row, i)?),
            None => None,
        };
        let model = decoder.decode(row)?;
        let cursor = Cursor {
            ordering: name.clone(),
            keys: read_keys(row, keys, &key_at)?,
        };
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
    let filter = match parents {
        Some(ids) => Parents::In(ids, db.get_database_backend()),
        None => Parents::None,
    };
    let (mut q, parent) = base_select(listing, filter);
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

/// The sort-key values of `row`, from the positions `at` of the key columns.
fn read_keys(row: Row<'_>, keys: &[SortKey], at: &[usize]) -> AppResult<Vec<KeyValue>> {
    keys.iter()
        .zip(at)
        .map(|(k, &i)| {
            Ok(match k.kind {
                KeyKind::Int => rows::get::<Option<i64>>(row, i)?.map(KeyValue::Int),
                KeyKind::Text => rows::get::<Option<String>>(row, i)?.map(KeyValue::Text),
                KeyKind::Time => rows::get::<Option<DateTime<Utc>>>(row, i)?.map(KeyValue::Time),
            }
            .unwrap_or(KeyValue::Null))
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
