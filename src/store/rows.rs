//! Rows decoded by position for the tables a portal page reads by the thousand.
//!
//! SeaORM's derived decoding finds every column by name (hashing the name, per column and
//! row) and, for each NULL of an optional column, formats an error message that it then
//! discards. On the portal page (1,400 changes and their releases) that was a fifth of the
//! server's CPU. The tables here are decoded straight through sqlx — which is what SeaORM
//! does underneath, for both engines — by each column's position in the result set, found
//! once per statement. Every other table keeps SeaORM's derived decoding. A test decodes
//! the same rows both ways and compares them, on both engines.

use entity::{
    approval, audit_event, blackout_window, change, change_model, offering_component, partner,
    person, policy, process, process_role_assignment, project, release, service, service_offering,
    service_partner,
};
use sea_orm::sqlx::{self, Postgres, Sqlite};
use sea_orm::{ActiveEnum, DbErr, FromQueryResult, QueryResult};

/// A model that the store can decode from a row of its table (`SELECT table.*, …`).
pub trait Decode: Sized {
    /// Columns read by position, in the order [`Decode::decode`] expects their positions;
    /// empty for models decoded by SeaORM.
    const COLUMNS: &'static [&'static str] = &[];

    /// Decodes one row, given the positions of [`Decode::COLUMNS`] in its result set.
    fn decode(row: &QueryResult, at: &[usize]) -> Result<Self, DbErr>;
}

/// Decodes the rows of one statement: positions are looked up on the first row only.
pub struct Decoder<M> {
    at: Option<Vec<usize>>,
    _model: std::marker::PhantomData<fn() -> M>,
}

impl<M: Decode> Default for Decoder<M> {
    fn default() -> Self {
        Self {
            at: None,
            _model: std::marker::PhantomData,
        }
    }
}

impl<M: Decode> Decoder<M> {
    /// Decodes `row` (of the statement this decoder was made for).
    pub fn decode(&mut self, row: &QueryResult) -> Result<M, DbErr> {
        if self.at.is_none() {
            self.at = Some(positions(row, M::COLUMNS)?);
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
    let decoded = if let Some(r) = row.try_as_pg_row() {
        sqlx::Row::try_get(r, i)
    } else if let Some(r) = row.try_as_sqlite_row() {
        sqlx::Row::try_get(r, i)
    } else {
        return Err(DbErr::Type(
            "a row of an engine the store does not run on".into(),
        ));
    };
    decoded.map_err(|e| DbErr::Type(format!("column {i}: {e}")))
}

/// Column `i` of a table's own row, whose type the migrations fix and the decoding test
/// checks against SeaORM's: sqlx's per-value type check (a third of a value's decoding
/// cost) is skipped. The value itself is still validated as it is decoded.
fn own<T: Column>(row: &QueryResult, i: usize) -> Result<T, DbErr> {
    let decoded = if let Some(r) = row.try_as_pg_row() {
        sqlx::Row::try_get_unchecked(r, i)
    } else if let Some(r) = row.try_as_sqlite_row() {
        sqlx::Row::try_get_unchecked(r, i)
    } else {
        return get(row, i);
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

impl Decode for change::Model {
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "number",
        "title",
        "description",
        "category",
        "change_type",
        "risk",
        "status",
        "outcome",
        "requested_by_id",
        "project_id",
        "model_id",
        "planned_start",
        "planned_end",
        "submitted_at",
        "authorized_at",
        "started_at",
        "completed_at",
        "closed_at",
        "cancellation_reason",
        "created_at",
        "updated_at",
        "version",
    ];

    fn decode(row: &QueryResult, at: &[usize]) -> Result<Self, DbErr> {
        Ok(Self {
            id: own(row, at[0])?,
            number: own(row, at[1])?,
            title: own(row, at[2])?,
            description: own(row, at[3])?,
            category: enumerated(row, at[4])?,
            change_type: enumerated(row, at[5])?,
            risk: enumerated(row, at[6])?,
            status: enumerated(row, at[7])?,
            outcome: enumerated_opt(row, at[8])?,
            requested_by_id: own(row, at[9])?,
            project_id: own(row, at[10])?,
            model_id: own(row, at[11])?,
            planned_start: own(row, at[12])?,
            planned_end: own(row, at[13])?,
            submitted_at: own(row, at[14])?,
            authorized_at: own(row, at[15])?,
            started_at: own(row, at[16])?,
            completed_at: own(row, at[17])?,
            closed_at: own(row, at[18])?,
            cancellation_reason: own(row, at[19])?,
            created_at: own(row, at[20])?,
            updated_at: own(row, at[21])?,
            version: own(row, at[22])?,
        })
    }
}

impl Decode for release::Model {
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "name",
        "version",
        "release_type",
        "status",
        "project_id",
        "previous_id",
        "planned_date",
        "deployed_at",
        "created_at",
        "updated_at",
        "revision",
    ];

    fn decode(row: &QueryResult, at: &[usize]) -> Result<Self, DbErr> {
        Ok(Self {
            id: own(row, at[0])?,
            name: own(row, at[1])?,
            version: own(row, at[2])?,
            release_type: enumerated(row, at[3])?,
            status: enumerated(row, at[4])?,
            project_id: own(row, at[5])?,
            previous_id: own(row, at[6])?,
            planned_date: own(row, at[7])?,
            deployed_at: own(row, at[8])?,
            created_at: own(row, at[9])?,
            updated_at: own(row, at[10])?,
            revision: own(row, at[11])?,
        })
    }
}

impl Decode for service::Model {
    const COLUMNS: &'static [&'static str] = &[
        "id",
        "key",
        "name",
        "description",
        "lifecycle",
        "criticality",
        "owner_id",
        "created_at",
        "updated_at",
        "version",
    ];

    fn decode(row: &QueryResult, at: &[usize]) -> Result<Self, DbErr> {
        Ok(Self {
            id: own(row, at[0])?,
            key: own(row, at[1])?,
            name: own(row, at[2])?,
            description: own(row, at[3])?,
            lifecycle: enumerated(row, at[4])?,
            criticality: enumerated(row, at[5])?,
            owner_id: own(row, at[6])?,
            created_at: own(row, at[7])?,
            updated_at: own(row, at[8])?,
            version: own(row, at[9])?,
        })
    }
}

/// Models read a few at a time keep SeaORM's derived decoding.
macro_rules! decoded_by_sea_orm {
    ($($model:ty),* $(,)?) => {$(
        impl Decode for $model {
            fn decode(row: &QueryResult, _: &[usize]) -> Result<Self, DbErr> {
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
