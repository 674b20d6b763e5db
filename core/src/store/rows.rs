//! Rows decoded by position for the tables a portal page reads by the thousand.
//!
//! SeaORM's derived decoding finds every column by name (hashing the name, per column and
//! row) and, for each NULL of an optional column, formats an error message that it then
//! discards. On the portal page (1,400 changes and their releases) that was a fifth of the
//! server's CPU. The tables here are decoded straight through sqlx — which is what SeaORM
//! does underneath, for both engines — by each column's position in the result set, found
//! once per statement. Every other table keeps SeaORM's derived decoding. A test decodes
//! the same rows both ways and compares them, on both engines.
//!
//! A statement of those tables may also select only some columns ([`Columns`]): the ones
//! the fields a client asked for read. A portal page shows four of a change's 23 columns,
//! and the rest would be read, sent and decoded for nothing.
//!
//! On SQLite, a statement of those tables is answered as one JSON document ([`fetch`]):
//! sqlx runs SQLite on a thread of its own and hands every row over a channel, waking the
//! request's task once per row — a portal page's 2,700 rows cost 3,000 context switches
//! and half the server's CPU. `json_group_array` hands them over at once.

use entity::{
    approval, approval_rule, audit_event, blackout_window, change, change_model,
    offering_component, partner, person, policy, process, process_role_assignment, project,
    release, service, service_dependency, service_offering, service_partner,
};
use std::fmt;

use chrono::{DateTime, NaiveDateTime, Utc};
use sea_orm::sea_query::Order;
use sea_orm::sqlx::{self, Postgres, Sqlite};
use sea_orm::{
    ActiveEnum, ConnectionTrait, DbBackend, DbErr, FromQueryResult, Iterable, QueryResult,
    Statement, StatementBuilder,
};
use serde::de::{self, Deserialize, Deserializer, Visitor};

/// A model that the store can decode from a row of its table (`SELECT table.*, …`).
pub trait Decode: Sized {
    /// Columns read by position, in the order [`Decode::decode`] expects their positions;
    /// empty for models decoded by SeaORM, which are always read whole.
    const COLUMNS: &'static [&'static str] = &[];

    /// Decodes one row, given the position in its result set of each of
    /// [`Decode::COLUMNS`], or `None` for a column the statement did not select: that
    /// field gets a filler value (empty, zero, the enum's first variant).
    fn decode(row: Row<'_>, at: &[Option<usize>]) -> Result<Self, DbErr>;
}

/// One value of a row that SQLite answered as JSON.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl<'de> Deserialize<'de> for Cell {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Scalar;
        impl Visitor<'_> for Scalar {
            type Value = Cell;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a column value: null, a number or a string")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Cell, E> {
                Ok(Cell::Null)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Cell, E> {
                Ok(Cell::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Cell, E> {
                i64::try_from(v)
                    .map(Cell::Int)
                    .map_err(|_| E::custom("an integer beyond 64 bits"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Cell, E> {
                Ok(Cell::Real(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Cell, E> {
                Ok(Cell::Text(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Cell, E> {
                Ok(Cell::Text(v))
            }
        }
        d.deserialize_any(Scalar)
    }
}

/// One row of a statement's result, read by column position.
#[derive(Clone, Copy)]
pub enum Row<'a> {
    /// As the driver returned it.
    Driver(&'a QueryResult),
    /// One element of a JSON answer ([`fetch`]), with the names of its columns.
    Json {
        names: &'a [String],
        cells: &'a [Cell],
    },
}

impl<'a> From<&'a QueryResult> for Row<'a> {
    fn from(row: &'a QueryResult) -> Self {
        Row::Driver(row)
    }
}

/// The rows of one statement.
pub enum Rows {
    Driver(Vec<QueryResult>),
    Json {
        names: Vec<String>,
        rows: Vec<Vec<Cell>>,
    },
}

impl From<Vec<QueryResult>> for Rows {
    fn from(rows: Vec<QueryResult>) -> Self {
        Rows::Driver(rows)
    }
}

impl Rows {
    /// Each row, in the statement's order.
    pub fn iter(&self) -> impl Iterator<Item = Row<'_>> {
        let (driver, json) = match self {
            Rows::Driver(rows) => (Some(rows.iter().map(Row::Driver)), None),
            Rows::Json { names, rows } => (
                None,
                Some(rows.iter().map(|cells| Row::Json { names, cells })),
            ),
        };
        driver
            .into_iter()
            .flatten()
            .chain(json.into_iter().flatten())
    }

    /// The first row, if any.
    pub fn first(&self) -> Option<Row<'_>> {
        self.iter().next()
    }
}

/// Whether [`fetch`] answers rows of `M` on `backend` as one JSON document, put in order
/// by the document itself: the statement then need not sort them too.
pub fn as_json<M: Decode>(backend: DbBackend) -> bool {
    backend == DbBackend::Sqlite && !M::COLUMNS.is_empty()
}

/// Runs `select`, a statement over `M`'s table that selects `columns` of it and the
/// columns named `extra`, and returns its rows; `order` (names of selected columns) is the
/// order the rows must come in.
///
/// On SQLite, for a model decoded by position, the statement is wrapped in `SELECT
/// json_group_array(json_array(…) ORDER BY …)`: all its rows come back as one value, and
/// SQLite's thread hands the request one row instead of thousands. Other models and
/// PostgreSQL, which streams rows over a socket in batches, read the rows as they are.
pub async fn fetch<M: Decode, C: ConnectionTrait, S: StatementBuilder>(
    db: &C,
    select: &S,
    columns: Columns,
    extra: &[&str],
    order: &[(&str, Order)],
) -> Result<Rows, DbErr> {
    if !as_json::<M>(db.get_database_backend()) {
        return Ok(Rows::Driver(db.query_all(select).await?));
    }
    let names: Vec<String> = columns
        .names::<M>()
        .unwrap_or_else(|| M::COLUMNS.to_vec())
        .into_iter()
        .chain(extra.iter().copied())
        .map(str::to_owned)
        .collect();
    let quoted = |name: &str| format!("\"r\".\"{}\"", name.replace('"', "\"\""));
    let cells: Vec<String> = names.iter().map(|n| quoted(n)).collect();
    let order: Vec<String> = order
        .iter()
        .map(|(name, o)| {
            let dir = if *o == Order::Desc { "DESC" } else { "ASC" };
            format!("{} {dir}", quoted(name))
        })
        .collect();
    let order = match order.is_empty() {
        true => String::new(),
        false => format!(" ORDER BY {}", order.join(", ")),
    };
    let inner = DbBackend::Sqlite.build(select);
    let sql = format!(
        "SELECT json_group_array(json_array({}){order}) AS \"rows\" FROM ({}) AS \"r\"",
        cells.join(", "),
        inner.sql
    );
    let values = inner.values.map(|v| v.0).unwrap_or_default();
    let answer = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            sql,
            values,
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("an aggregate answered no row".into()))?;
    let text: String = get(Row::Driver(&answer), 0)?;
    let rows = serde_json::from_str(&text)
        .map_err(|e| DbErr::Type(format!("SQLite's JSON answer: {e}")))?;
    Ok(Rows::Json { names, rows })
}

/// The columns of a model's table that a statement selects: a set of indexes into
/// [`Decode::COLUMNS`], or all of them. The row id is always among them.
///
/// Who narrows a statement takes on a promise: no reader of its models looks at a field
/// left out. The GraphQL layer narrows only by the fields a client selected, each of which
/// names the columns it reads; a test checks every field of every narrowed type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Columns(u64);

impl Columns {
    /// Every column: `SELECT table.*`.
    pub const ALL: Self = Self(u64::MAX);

    /// The row id alone, of a model decoded by position; all columns of any other.
    pub fn id<M: Decode>() -> Self {
        Self::ALL.narrowed::<M>().with::<M>(&["id"])
    }

    /// No column yet, when `M` can be narrowed at all.
    fn narrowed<M: Decode>(self) -> Self {
        if M::COLUMNS.is_empty() || M::COLUMNS.len() > 64 {
            Self::ALL
        } else {
            Self(0)
        }
    }

    /// These columns as well; a name `M` does not decode by position widens to all.
    pub fn with<M: Decode>(self, names: &[&str]) -> Self {
        names.iter().fold(self, |acc, name| {
            match M::COLUMNS.iter().position(|c| c == name) {
                Some(i) if i < 64 => Self(acc.0 | 1 << i),
                _ => Self::ALL,
            }
        })
    }

    /// Whether every column is selected.
    pub fn is_all(self) -> bool {
        self == Self::ALL
    }

    fn has(self, index: usize) -> bool {
        index >= 64 || self.0 & (1 << index) != 0
    }

    /// The selected columns of `M`'s table by name, or `None` for all of them.
    pub fn names<M: Decode>(self) -> Option<Vec<&'static str>> {
        if self.is_all() || M::COLUMNS.is_empty() {
            return None;
        }
        Some(
            M::COLUMNS
                .iter()
                .enumerate()
                .filter(|(i, _)| self.has(*i))
                .map(|(_, c)| *c)
                .collect(),
        )
    }
}

/// Decodes the rows of one statement: positions are looked up on the first row only.
pub struct Decoder<M> {
    columns: Columns,
    at: Option<Vec<Option<usize>>>,
    _model: std::marker::PhantomData<fn() -> M>,
}

impl<M: Decode> Default for Decoder<M> {
    fn default() -> Self {
        Self::new(Columns::ALL)
    }
}

impl<M: Decode> Decoder<M> {
    /// A decoder for a statement that selected `columns` of the model's table.
    pub fn new(columns: Columns) -> Self {
        Self {
            columns,
            at: None,
            _model: std::marker::PhantomData,
        }
    }

    /// Decodes `row` (of the statement this decoder was made for).
    pub fn decode<'r>(&mut self, row: impl Into<Row<'r>>) -> Result<M, DbErr> {
        let row = row.into();
        if self.at.is_none() {
            let selected = self.columns.names::<M>();
            let selected = selected.as_deref().unwrap_or(M::COLUMNS);
            let mut found = positions(row, selected)?.into_iter();
            let at = (0..M::COLUMNS.len())
                .map(|i| match self.columns.has(i) {
                    true => found.next(),
                    false => None,
                })
                .collect();
            self.at = Some(at);
        }
        M::decode(row, self.at.as_deref().unwrap_or_default())
    }
}

/// The position of each of `columns` in the row's result set (the first column of that
/// name: the table's own columns come first in every statement of the store).
pub(crate) fn positions<S: AsRef<str>>(row: Row<'_>, columns: &[S]) -> Result<Vec<usize>, DbErr> {
    if columns.is_empty() {
        return Ok(Vec::new());
    }
    let names = match row {
        Row::Driver(r) => r.column_names(),
        Row::Json { names, .. } => names.to_vec(),
    };
    columns
        .iter()
        .map(|c| {
            let c = c.as_ref();
            names
                .iter()
                .position(|n| n == c)
                .ok_or_else(|| DbErr::Type(format!("column {c} is not in the result set")))
        })
        .collect()
}

/// A value sqlx decodes on both engines, and the store from SQLite's JSON.
pub(crate) trait Column:
    for<'r> sqlx::Decode<'r, Postgres>
    + sqlx::Type<Postgres>
    + for<'r> sqlx::Decode<'r, Sqlite>
    + sqlx::Type<Sqlite>
    + FromCell
{
}
impl<T> Column for T where
    T: for<'r> sqlx::Decode<'r, Postgres>
        + sqlx::Type<Postgres>
        + for<'r> sqlx::Decode<'r, Sqlite>
        + sqlx::Type<Sqlite>
        + FromCell
{
}

/// A value read from a JSON cell as sqlx would read it from SQLite's column.
pub(crate) trait FromCell: Sized {
    fn from_cell(cell: &Cell) -> Result<Self, DbErr>;
}

fn mismatch<T>(expected: &str, cell: &Cell) -> Result<T, DbErr> {
    Err(DbErr::Type(format!("expected {expected}, found {cell:?}")))
}

impl FromCell for i64 {
    fn from_cell(cell: &Cell) -> Result<Self, DbErr> {
        match cell {
            Cell::Int(n) => Ok(*n),
            other => mismatch("an integer", other),
        }
    }
}

impl FromCell for i32 {
    fn from_cell(cell: &Cell) -> Result<Self, DbErr> {
        i32::try_from(i64::from_cell(cell)?)
            .map_err(|_| DbErr::Type("an integer beyond 32 bits".into()))
    }
}

impl FromCell for bool {
    /// SQLite keeps a boolean as the integer 0 or 1.
    fn from_cell(cell: &Cell) -> Result<Self, DbErr> {
        match cell {
            Cell::Int(n) => Ok(*n != 0),
            other => mismatch("a boolean", other),
        }
    }
}

impl FromCell for String {
    fn from_cell(cell: &Cell) -> Result<Self, DbErr> {
        match cell {
            Cell::Text(s) => Ok(s.clone()),
            other => mismatch("text", other),
        }
    }
}

impl FromCell for DateTime<Utc> {
    /// The forms sqlx reads from SQLite: RFC 3339 text (what it writes), text without a
    /// `T` or without an offset (UTC), or Unix seconds.
    fn from_cell(cell: &Cell) -> Result<Self, DbErr> {
        match cell {
            Cell::Text(s) => DateTime::parse_from_rfc3339(s)
                .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%:z"))
                .map(|t| t.with_timezone(&Utc))
                .or_else(|_| {
                    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
                        .iter()
                        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
                        .map(|t| t.and_utc())
                        .ok_or(())
                })
                .or_else(|_| mismatch("a date and time", cell)),
            Cell::Int(secs) => DateTime::from_timestamp(*secs, 0)
                .map_or_else(|| mismatch("a date and time", cell), Ok),
            other => mismatch("a date and time", other),
        }
    }
}

impl<T: FromCell> FromCell for Option<T> {
    fn from_cell(cell: &Cell) -> Result<Self, DbErr> {
        match cell {
            Cell::Null => Ok(None),
            cell => T::from_cell(cell).map(Some),
        }
    }
}

/// Column `i` of the row, as sqlx decodes it.
pub(crate) fn get<T: Column>(row: Row<'_>, i: usize) -> Result<T, DbErr> {
    match row {
        Row::Driver(r) => read(r, i, true),
        Row::Json { cells, .. } => cell(cells, i),
    }
}

/// Column `i` of a table's own row, whose type the migrations fix and the decoding test
/// checks against SeaORM's: sqlx's per-value type check (a third of a value's decoding
/// cost) is skipped. The value itself is still validated as it is decoded.
fn own<T: Column>(row: Row<'_>, i: usize) -> Result<T, DbErr> {
    match row {
        Row::Driver(r) => read(r, i, false),
        Row::Json { cells, .. } => cell(cells, i),
    }
}

fn cell<T: FromCell>(cells: &[Cell], i: usize) -> Result<T, DbErr> {
    let cell = cells
        .get(i)
        .ok_or_else(|| DbErr::Type(format!("column {i} is not in the row")))?;
    T::from_cell(cell).map_err(|e| DbErr::Type(format!("column {i}: {e}")))
}

/// Column `i` through the row's engine, with or without sqlx's type check.
fn read<T: Column>(row: &QueryResult, i: usize, checked: bool) -> Result<T, DbErr> {
    let decoded = if let Some(r) = row.try_as_pg_row() {
        if checked {
            sqlx::Row::try_get(r, i)
        } else {
            sqlx::Row::try_get_unchecked(r, i)
        }
    } else if let Some(r) = row.try_as_sqlite_row() {
        if checked {
            sqlx::Row::try_get(r, i)
        } else {
            sqlx::Row::try_get_unchecked(r, i)
        }
    } else {
        return Err(DbErr::Type(
            "a row of an engine the store does not run on".into(),
        ));
    };
    decoded.map_err(|e| DbErr::Type(format!("column {i}: {e}")))
}

/// Column `i` as one of the string enums of the entities.
fn enumerated<E: ActiveEnum<Value = String>>(row: Row<'_>, i: usize) -> Result<E, DbErr> {
    E::try_from_value(&own::<String>(row, i)?)
}

/// Column `i` as an optional string enum.
fn enumerated_opt<E: ActiveEnum<Value = String>>(
    row: Row<'_>,
    i: usize,
) -> Result<Option<E>, DbErr> {
    own::<Option<String>>(row, i)?
        .map(|v| E::try_from_value(&v))
        .transpose()
}

/// The filler of an enum field whose column was not selected: the enum's first variant.
fn first_variant<E: Iterable>() -> Result<E, DbErr> {
    E::iter()
        .next()
        .ok_or_else(|| DbErr::Type("an enum without variants".into()))
}

/// The filler of a field whose column a statement did not select, by the field's reader.
macro_rules! absent {
    (own) => {
        Default::default()
    };
    (enumerated) => {
        first_variant()?
    };
    (enumerated_opt) => {
        None
    };
}

/// Implements [`Decode`] by position for a model whose fields are named after its columns,
/// each read with `own` (a plain column), `enumerated` or `enumerated_opt` (string enums).
macro_rules! decoded_by_position {
    ($model:ty { $($field:ident: $read:ident),* $(,)? }) => {
        impl Decode for $model {
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),*];

            fn decode(row: Row<'_>, at: &[Option<usize>]) -> Result<Self, DbErr> {
                // `at` holds one position (or none) per column, in the order of COLUMNS.
                let mut at = at.iter().copied();
                Ok(Self {
                    $($field: match at.next().flatten() {
                        Some(i) => $read(row, i)?,
                        None => absent!($read),
                    }),*
                })
            }
        }
    };
}

decoded_by_position!(change::Model {
    id: own,
    number: own,
    title: own,
    description: own,
    category: enumerated,
    change_type: enumerated,
    risk: enumerated,
    status: enumerated,
    outcome: enumerated_opt,
    requested_by_id: own,
    project_id: own,
    model_id: own,
    planned_start: own,
    planned_end: own,
    submitted_at: own,
    authorized_at: own,
    started_at: own,
    completed_at: own,
    closed_at: own,
    cancellation_reason: own,
    created_at: own,
    updated_at: own,
    version: own,
    review_summary: own,
    review_objectives_met: own,
    review_follow_up: own,
    reviewed_by_id: own,
});

decoded_by_position!(release::Model {
    id: own,
    name: own,
    version: own,
    release_type: enumerated,
    status: enumerated,
    project_id: own,
    previous_id: own,
    planned_date: own,
    deployed_at: own,
    created_at: own,
    updated_at: own,
    revision: own,
    planned_start: own,
    planned_end: own,
});

decoded_by_position!(service::Model {
    id: own,
    key: own,
    name: own,
    description: own,
    lifecycle: enumerated,
    criticality: enumerated,
    owner_id: own,
    created_at: own,
    updated_at: own,
    version: own,
    scope: own,
});

/// Models read a few at a time keep SeaORM's derived decoding.
macro_rules! decoded_by_sea_orm {
    ($($model:ty),* $(,)?) => {$(
        impl Decode for $model {
            fn decode(row: Row<'_>, _: &[Option<usize>]) -> Result<Self, DbErr> {
                match row {
                    Row::Driver(r) => <$model as FromQueryResult>::from_query_result(r, ""),
                    // `fetch` answers JSON only for models decoded by position.
                    Row::Json { .. } => Err(DbErr::Type(concat!(
                        stringify!($model),
                        " is decoded by SeaORM, from the driver's rows only"
                    ).into())),
                }
            }
        }
    )*};
}

decoded_by_sea_orm!(
    approval::Model,
    approval_rule::Model,
    audit_event::Model,
    blackout_window::Model,
    change_model::Model,
    offering_component::Model,
    partner::Model,
    person::Model,
    policy::Model,
    process::Model,
    process_role_assignment::Model,
    project::Model,
    service_dependency::Model,
    service_offering::Model,
    service_partner::Model,
);

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};

    use super::{Cell, FromCell};

    #[test]
    fn a_json_answer_parses_into_nulls_integers_reals_and_unescaped_text() {
        let rows: Vec<Vec<Cell>> =
            serde_json::from_str(r#"[[1,null,"a \"quoted\" é",2.5],[-9223372036854775808]]"#)
                .expect("parsed");
        assert_eq!(
            rows,
            vec![
                vec![
                    Cell::Int(1),
                    Cell::Null,
                    Cell::Text("a \"quoted\" é".into()),
                    Cell::Real(2.5)
                ],
                vec![Cell::Int(i64::MIN)],
            ]
        );
        assert!(serde_json::from_str::<Vec<Vec<Cell>>>("[[18446744073709551615]]").is_err());
    }

    #[test]
    fn times_read_from_json_in_every_form_sqlx_reads_from_sqlite() {
        let at = Utc.with_ymd_and_hms(2025, 1, 6, 8, 52, 0).unwrap();
        for text in [
            "2025-01-06T08:52:00+00:00",
            "2025-01-06T09:52:00+01:00",
            "2025-01-06 08:52:00+00:00",
            "2025-01-06 08:52:00",
            "2025-01-06T08:52:00",
        ] {
            let read = DateTime::<Utc>::from_cell(&Cell::Text(text.into()));
            assert_eq!(read.ok(), Some(at), "{text}");
        }
        let secs = Cell::Int(at.timestamp());
        assert_eq!(DateTime::<Utc>::from_cell(&secs).ok(), Some(at));
        assert!(DateTime::<Utc>::from_cell(&Cell::Text("yesterday".into())).is_err());
        assert_eq!(
            Option::<DateTime<Utc>>::from_cell(&Cell::Null).ok(),
            Some(None)
        );
    }

    #[test]
    fn integers_text_and_options_from_json_refuse_the_wrong_kind() {
        assert_eq!(i64::from_cell(&Cell::Int(42)).ok(), Some(42));
        assert!(i64::from_cell(&Cell::Text("42".into())).is_err());
        assert!(i32::from_cell(&Cell::Int(i64::from(i32::MAX) + 1)).is_err());
        assert!(String::from_cell(&Cell::Int(1)).is_err());
        assert_eq!(Option::<i64>::from_cell(&Cell::Int(3)).ok(), Some(Some(3)));
        assert_eq!(Option::<String>::from_cell(&Cell::Null).ok(), Some(None));
    }
}
