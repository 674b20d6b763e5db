//! Pieces of the hand-written statements (reporting, flow, history): bound values with
//! their placeholders in the backend's syntax, and the expressions the engines spell
//! differently.

use sea_orm::{DbBackend, Statement, Value};

/// Bound values and their placeholders, in the backend's syntax (`$n` or `?`), in the
/// order the text uses them.
pub(crate) struct Binds {
    backend: DbBackend,
    values: Vec<Value>,
}

impl Binds {
    pub(crate) fn new(backend: DbBackend) -> Self {
        Self {
            backend,
            values: Vec::new(),
        }
    }

    /// Binds `v`; returns its placeholder.
    pub(crate) fn bind(&mut self, v: impl Into<Value>) -> String {
        self.values.push(v.into());
        match self.backend {
            DbBackend::Postgres => format!("${}", self.values.len()),
            _ => "?".to_owned(),
        }
    }

    /// `column` among `ids`, bound as one parameter (see [`super::page::id_in_sql`]).
    pub(crate) fn ids_in(&mut self, column: &str, ids: &[i64]) -> String {
        let (cond, value) =
            super::page::id_in_sql(column, ids, self.backend, self.values.len() + 1);
        self.values.push(value);
        cond
    }

    /// The values bound so far, for a second statement over the same text.
    pub(crate) fn values(&self) -> &[Value] {
        &self.values
    }

    pub(crate) fn statement(self, sql: String) -> Statement {
        Statement::from_sql_and_values(self.backend, sql, self.values)
    }
}

/// Hours from timestamp `start` to timestamp `end`.
pub(crate) fn hours(backend: DbBackend, start: &str, end: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("EXTRACT(EPOCH FROM ({end} - {start})) / 3600.0"),
        _ => format!("(julianday({end}) - julianday({start})) * 24.0"),
    }
}
