//! `portfolio export` and `portfolio import`: the whole portfolio — reference data, changes,
//! releases, approvals, role assignments, tokens (their hashes), audit events, with their
//! ids and versions — as one JSON document, the same whichever engine wrote it.
//!
//! The document lists the tables in dependency order, each row on a line of its own, in
//! primary-key order, timestamps in RFC 3339 with microseconds and JSON values with sorted
//! keys: an export of an import is byte-identical to the export it came from, across SQLite
//! and PostgreSQL. The export reads one snapshot (a read-only REPEATABLE READ transaction).
//! An import checks the whole file before writing anything, and writes in one transaction
//! into an empty database.

use std::io::Write;

use entity::*;
use migration::{Migrator, MigratorTrait};
use sea_orm::sea_query::Expr;
use sea_orm::{
    AccessMode, ActiveModelBehavior, ActiveModelTrait, ColumnTrait, ConnectionTrait,
    DatabaseConnection, EntityTrait, IntoActiveModel, IsolationLevel, Iterable, PaginatorTrait,
    PrimaryKeyToColumn, QueryFilter, QueryOrder, TransactionTrait,
};
use serde::{Deserialize, Serialize};

use crate::bulk;
use crate::error::{AppError, AppResult};

/// What the document says it is.
pub const FORMAT: &str = "service-portfolio-graph/portfolio";
/// The document's layout version.
pub const VERSION: u32 = 1;

/// Rows read per statement while exporting.
const PAGE: u64 = 1_000;

/// The tables, in the order rows can be inserted (referenced tables first).
macro_rules! tables {
    ($($table:ident),+ $(,)?) => {
        /// Every row of every table.
        #[derive(Debug, Default, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Tables {
            $($table: Vec<$table::Model>,)+
        }

        impl Tables {
            fn rows(&self) -> usize {
                0 $(+ self.$table.len())+
            }
        }

        /// Writes every table to `out`; returns the rows written.
        async fn write_tables<C: ConnectionTrait, W: Write>(
            conn: &C,
            out: &mut W,
            bar: &indicatif::ProgressBar,
        ) -> AppResult<u64> {
            let mut rows = 0;
            let mut first = true;
            $(
                rows += write_table::<$table::Entity, C, W>(conn, out, stringify!($table), first, bar).await?;
                first = false;
            )+
            let _ = first;
            Ok(rows)
        }

        /// Counts every table's rows.
        async fn count_rows<C: ConnectionTrait>(conn: &C) -> AppResult<u64> {
            let mut rows = 0;
            $(rows += $table::Entity::find().count(conn).await?;)+
            Ok(rows)
        }
    };
}

tables!(
    person,
    partner,
    api_token,
    service,
    service_partner,
    service_dependency,
    service_offering,
    offering_service,
    offering_component,
    process,
    process_role_assignment,
    policy,
    project,
    change_model,
    approval_rule,
    change,
    change_service,
    approval,
    release,
    release_change,
    release_service,
    blackout_window,
    blackout_window_service,
    audit_event,
);

/// The document.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    format: String,
    version: u32,
    /// The last migration of the database it came from.
    schema: String,
    tables: Tables,
}

/// The last migration this binary knows.
fn schema_name() -> String {
    Migrator::migrations()
        .last()
        .map(|m| m.name().to_owned())
        .unwrap_or_default()
}

/// Writes the whole portfolio to `out`; returns the rows written.
pub async fn export<W: Write>(db: &DatabaseConnection, out: &mut W) -> AppResult<u64> {
    // One snapshot for every table: a read transaction is one on SQLite (WAL), PostgreSQL
    // needs REPEATABLE READ for it.
    let txn = if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        db.begin_with_config(
            Some(IsolationLevel::RepeatableRead),
            Some(AccessMode::ReadOnly),
        )
        .await?
    } else {
        db.begin().await?
    };
    let bar = bulk::progress(count_rows(&txn).await?);
    writeln!(
        out,
        "{{\"format\":\"{FORMAT}\",\"version\":{VERSION},\"schema\":{},\"tables\":{{",
        serde_json::to_string(&schema_name()).map_err(internal)?
    )
    .map_err(io)?;
    let rows = write_tables(&txn, out, &bar).await?;
    out.write_all(b"}}\n").map_err(io)?;
    out.flush().map_err(io)?;
    txn.commit().await?;
    bar.finish_and_clear();
    Ok(rows)
}

async fn write_table<E, C, W>(
    conn: &C,
    out: &mut W,
    name: &str,
    first: bool,
    bar: &indicatif::ProgressBar,
) -> AppResult<u64>
where
    E: EntityTrait,
    E::Model: Serialize + Sync,
    C: ConnectionTrait,
    W: Write,
{
    bar.set_message(name.to_owned());
    write!(out, "{}\"{name}\":[", if first { "" } else { ",\n" }).map_err(io)?;
    let mut query = E::find();
    for key in E::PrimaryKey::iter() {
        query = query.order_by_asc(key.into_column());
    }
    let mut pages = query.paginate(conn, PAGE);
    let mut written = 0u64;
    while let Some(rows) = pages.fetch_and_next().await? {
        for row in &rows {
            out.write_all(if written == 0 { b"\n" } else { b",\n" })
                .map_err(io)?;
            serde_json::to_writer(&mut *out, row).map_err(internal)?;
            written += 1;
        }
        bar.inc(rows.len() as u64);
    }
    out.write_all(if written == 0 { b"]" } else { b"\n]" })
        .map_err(io)?;
    Ok(written)
}

/// Loads a document written by [`export`] into an empty database; returns the rows loaded.
/// Nothing is written unless the whole document reads, matches this binary's schema, and
/// the database is empty.
pub async fn import(db: &DatabaseConnection, document: &[u8]) -> AppResult<u64> {
    // What the file says it is comes first, so a foreign file is named as such.
    #[derive(Deserialize)]
    struct Header {
        format: String,
        version: u32,
    }
    if let Ok(h) = serde_json::from_slice::<Header>(document)
        && (h.format != FORMAT || h.version != VERSION)
    {
        return Err(AppError::bad_input(format!(
            "the file is {} version {}, not {FORMAT} version {VERSION}; nothing was imported",
            h.format, h.version
        )));
    }
    let doc: Document = serde_json::from_slice(document).map_err(|e| {
        AppError::bad_input(format!(
            "not a complete portfolio export ({e}); nothing was imported"
        ))
    })?;
    if doc.format != FORMAT || doc.version != VERSION {
        return Err(AppError::bad_input(format!(
            "the file is {} version {}, not {FORMAT} version {VERSION}; nothing was imported",
            doc.format, doc.version
        )));
    }
    if doc.schema != schema_name() {
        return Err(AppError::bad_input(format!(
            "the file was exported at schema {}, this binary is at {}; import it with the \
             matching version; nothing was imported",
            doc.schema,
            schema_name()
        )));
    }
    // A new database holds the default approval policy and nothing else: the document's
    // policy replaces it.
    let policy_rows = approval_rule::Entity::find().count(db).await?;
    if count_rows(db).await? != policy_rows {
        return Err(AppError::Conflict(
            "the database is not empty; import only into an empty database; nothing was imported"
                .into(),
        ));
    }
    let t = doc.tables;
    let total = t.rows() as u64;
    let bar = bulk::progress(total);
    let txn = db.begin().await?;
    // A release may follow one with a higher id: chains are linked once every release exists.
    let links: Vec<(i64, i64)> = t
        .release
        .iter()
        .filter_map(|r| r.previous_id.map(|p| (r.id, p)))
        .collect();
    let releases = t
        .release
        .into_iter()
        .map(|r| release::Model {
            previous_id: None,
            ..r
        })
        .collect();
    load(&txn, &bar, "person", t.person).await?;
    load(&txn, &bar, "partner", t.partner).await?;
    load(&txn, &bar, "api_token", t.api_token).await?;
    load(&txn, &bar, "service", t.service).await?;
    load(&txn, &bar, "service_partner", t.service_partner).await?;
    load(&txn, &bar, "service_dependency", t.service_dependency).await?;
    load(&txn, &bar, "service_offering", t.service_offering).await?;
    load(&txn, &bar, "offering_service", t.offering_service).await?;
    load(&txn, &bar, "offering_component", t.offering_component).await?;
    load(&txn, &bar, "process", t.process).await?;
    load(
        &txn,
        &bar,
        "process_role_assignment",
        t.process_role_assignment,
    )
    .await?;
    load(&txn, &bar, "policy", t.policy).await?;
    load(&txn, &bar, "project", t.project).await?;
    load(&txn, &bar, "change_model", t.change_model).await?;
    approval_rule::Entity::delete_many().exec(&txn).await?;
    load(&txn, &bar, "approval_rule", t.approval_rule).await?;
    load(&txn, &bar, "change", t.change).await?;
    load(&txn, &bar, "change_service", t.change_service).await?;
    // The copy of each change's creation time that orders a service's changes is derived
    // data, left out of the document.
    txn.execute_unprepared(migration::FILL_CHANGE_SERVICE_CREATED_AT)
        .await?;
    load(&txn, &bar, "approval", t.approval).await?;
    load(&txn, &bar, "release", releases).await?;
    for (id, previous) in links {
        release::Entity::update_many()
            .col_expr(release::Column::PreviousId, Expr::value(previous))
            .filter(release::Column::Id.eq(id))
            .exec(&txn)
            .await?;
    }
    load(&txn, &bar, "release_change", t.release_change).await?;
    load(&txn, &bar, "release_service", t.release_service).await?;
    load(&txn, &bar, "blackout_window", t.blackout_window).await?;
    load(
        &txn,
        &bar,
        "blackout_window_service",
        t.blackout_window_service,
    )
    .await?;
    load(&txn, &bar, "audit_event", t.audit_event).await?;
    txn.commit().await?;
    bar.finish_and_clear();
    bulk::advance_sequences(db).await?;
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        db.execute_unprepared("ANALYZE").await?;
    }
    Ok(total)
}

async fn load<M, A, C>(
    conn: &C,
    bar: &indicatif::ProgressBar,
    name: &'static str,
    rows: Vec<M>,
) -> AppResult<()>
where
    M: IntoActiveModel<A>,
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
    C: ConnectionTrait,
{
    bar.set_message(name);
    let rows: Vec<A> = rows
        .into_iter()
        .map(|m| m.into_active_model().reset_all())
        .collect();
    bulk::insert_rows(conn, bar, rows).await
}

fn io(e: std::io::Error) -> AppError {
    AppError::Internal(format!("writing the export: {e}"))
}

fn internal(e: serde_json::Error) -> AppError {
    AppError::Internal(format!("encoding the export: {e}"))
}
