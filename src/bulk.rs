//! Bulk loading shared by the synthetic data set and `portfolio import`: multi-row INSERTs
//! with explicit ids, sized to the engines' bound-parameter limits, and the PostgreSQL
//! sequences moved past the ids afterwards.

use indicatif::{ProgressBar, ProgressStyle};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbBackend,
    EntityTrait, IntoActiveModel, Iterable,
};

use crate::error::AppResult;

/// Bound parameters per statement: under SQLite's 32,766 and PostgreSQL's 65,535.
const MAX_PARAMS: usize = 30_000;

/// A progress bar on standard error for `total` rows (drawn only on a terminal).
pub fn progress(total: u64) -> ProgressBar {
    ProgressBar::new(total).with_style(
        ProgressStyle::with_template("{msg:>24} [{bar:40}] {pos}/{len} rows, {per_sec}, {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    )
}

/// Inserts `rows` on `conn` in statements of as many rows as the parameter limit allows.
pub async fn insert_rows<A, C>(conn: &C, bar: &ProgressBar, rows: Vec<A>) -> AppResult<()>
where
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
    C: ConnectionTrait,
{
    let columns = <A::Entity as EntityTrait>::Column::iter().count().max(1);
    let per_statement = (MAX_PARAMS / columns).max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(per_statement).collect();
        let k = chunk.len();
        <A::Entity as EntityTrait>::insert_many(chunk)
            .exec_without_returning(conn)
            .await?;
        bar.inc(k as u64);
    }
    Ok(())
}

/// Rows were inserted with explicit ids; move PostgreSQL's sequences past them.
pub async fn advance_sequences(db: &DatabaseConnection) -> AppResult<()> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    for table in [
        "person",
        "partner",
        "api_token",
        "service",
        "service_offering",
        "offering_component",
        "process",
        "process_role_assignment",
        "policy",
        "project",
        "change_model",
        "approval_rule",
        "change",
        "approval",
        "release",
        "blackout_window",
        "audit_event",
    ] {
        db.execute_unprepared(&format!(
            "SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), \
             COALESCE((SELECT MAX(id) FROM \"{table}\"), 0) + 1, false)"
        ))
        .await?;
    }
    Ok(())
}
