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

use entity::{
    approval, audit_event, blackout_window, change, change_model, offering_component, partner,
    person, policy, process, process_role_assignment, project, release, service, service_offering,
    service_partner,
};
use sea_orm::sqlx::{self, Postgres, Sqlite};
use sea_orm::{ActiveEnum, DbErr, FromQueryResult, Iterable, QueryResult};

/// A model that the store can decode from a row of its table (`SELECT table.*, …`).
pub trait Decode: Sized {
    /// Columns read by position, in the order [`Decode::decode`] expects their positions;
    /// empty for models decoded by SeaORM, which are always read whole.
    const COLUMNS: &'static [&'static str] = &[];

    /// Decodes one row, given the position in its result set of each of
    /// [`Decode::COLUMNS`], or `None` for a column the statement did not select: that
    /// field gets a filler value (empty, zero, the enum's first variant).
    fn decode(row: &QueryResult, at: &[Option<usize>]) -> Result<Self, DbErr>;
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
    pub fn decode(&mut self, row: &QueryResult) -> Result<M, DbErr> {
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
pub(crate) fn positions<S: AsRef<str>>(
    row: &QueryResult,
    columns: &[S],
) -> Result<Vec<usize>, DbErr> {
    if columns.is_empty() {
        return Ok(Vec::new());
    }
    let names = row.column_names();
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

/// A value sqlx decodes on both engines.
pub(crate) trait Column:
    for<'r> sqlx::Decode<'r, Postgres>
    + sqlx::Type<Postgres>
    + for<'r> sqlx::Decode<'r, Sqlite>
    + sqlx::Type<Sqlite>
{
}
impl<T> Column for T where
    T: for<'r> sqlx::Decode<'r, Postgres>
        + sqlx::Type<Postgres>
        + for<'r> sqlx::Decode<'r, Sqlite>
        + sqlx::Type<Sqlite>
{
}

/// Column `i` of the row, as sqlx decodes it.
pub(crate) fn get<T: Column>(row: &QueryResult, i: usize) -> Result<T, DbErr> {
    read(row, i, true)
}

/// Column `i` of a table's own row, whose type the migrations fix and the decoding test
/// checks against SeaORM's: sqlx's per-value type check (a third of a value's decoding
/// cost) is skipped. The value itself is still validated as it is decoded.
fn own<T: Column>(row: &QueryResult, i: usize) -> Result<T, DbErr> {
    read(row, i, false)
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
fn enumerated<E: ActiveEnum<Value = String>>(row: &QueryResult, i: usize) -> Result<E, DbErr> {
    E::try_from_value(&own::<String>(row, i)?)
}

/// Column `i` as an optional string enum.
fn enumerated_opt<E: ActiveEnum<Value = String>>(
    row: &QueryResult,
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

            fn decode(row: &QueryResult, at: &[Option<usize>]) -> Result<Self, DbErr> {
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
});

/// Models read a few at a time keep SeaORM's derived decoding.
macro_rules! decoded_by_sea_orm {
    ($($model:ty),* $(,)?) => {$(
        impl Decode for $model {
            fn decode(row: &QueryResult, _: &[Option<usize>]) -> Result<Self, DbErr> {
                <$model as FromQueryResult>::from_query_result(row, "")
            }
        }
    )*};
}

decoded_by_sea_orm!(
    approval::Model,
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
    service_offering::Model,
    service_partner::Model,
);
