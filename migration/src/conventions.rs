//! Small builders shared by the migrations, so that every table gets the same id, timestamp,
//! row-version, foreign-key and index conventions.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, big_integer_null, big_pk_auto, integer};

/// `CREATE TABLE` with a `BIGINT` auto-increment `id`.
pub fn table(name: &'static str) -> TableCreateStatement {
    Table::create().table(name).col(big_pk_auto("id")).take()
}

/// `CREATE TABLE` for a join table, without a surrogate id.
pub fn join_table(name: &'static str) -> TableCreateStatement {
    Table::create().table(name).take()
}

/// A UTC timestamp column (`timestamptz` on PostgreSQL).
pub fn ts(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .not_null()
        .take()
}

/// A nullable UTC timestamp column.
pub fn ts_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .null()
        .take()
}

/// Adds `created_at`, `updated_at` and the optimistic-concurrency row version.
pub fn audited(mut t: TableCreateStatement, version_column: &'static str) -> TableCreateStatement {
    t.col(ts("created_at"))
        .col(ts("updated_at"))
        .col(integer(version_column).default(1));
    t
}

/// A required reference column with its foreign key.
pub fn fk(
    t: &mut TableCreateStatement,
    table: &'static str,
    column: &'static str,
    target: &'static str,
    on_delete: ForeignKeyAction,
) {
    t.col(big_integer(column));
    add_fk(t, table, column, target, on_delete);
}

/// An optional reference column with its foreign key.
pub fn fk_null(
    t: &mut TableCreateStatement,
    table: &'static str,
    column: &'static str,
    target: &'static str,
) {
    t.col(big_integer_null(column));
    add_fk(t, table, column, target, ForeignKeyAction::SetNull);
}

fn add_fk(
    t: &mut TableCreateStatement,
    table: &'static str,
    column: &'static str,
    target: &'static str,
    on_delete: ForeignKeyAction,
) {
    t.foreign_key(
        ForeignKey::create()
            .name(format!("fk_{table}_{column}"))
            .from(table, column)
            .to(target, "id")
            .on_delete(on_delete)
            .on_update(ForeignKeyAction::Cascade),
    );
}

/// `CREATE INDEX idx_<table>_<cols>`.
pub fn index(table: &'static str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(format!("idx_{table}_{}", columns.join("_")))
        .table(table);
    for c in columns {
        i.col(*c);
    }
    i.take()
}

/// `CREATE UNIQUE INDEX`.
pub fn unique(table: &'static str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut i = index(table, columns);
    i.unique();
    i
}

/// Creates the tables, then their indexes.
pub async fn create(
    m: &SchemaManager<'_>,
    tables: Vec<TableCreateStatement>,
    indexes: Vec<IndexCreateStatement>,
) -> Result<(), DbErr> {
    for t in tables {
        m.create_table(t).await?;
    }
    for i in indexes {
        m.create_index(i).await?;
    }
    Ok(())
}

/// Drops the tables, in the order given (dependents first).
pub async fn drop(m: &SchemaManager<'_>, tables: &[&'static str]) -> Result<(), DbErr> {
    for t in tables {
        m.drop_table(Table::drop().table(*t).to_owned()).await?;
    }
    Ok(())
}

/// Adds `columns` to `table`, one statement each: SQLite alters a table one change at a time.
pub async fn add_columns(
    m: &SchemaManager<'_>,
    table: &'static str,
    columns: Vec<ColumnDef>,
) -> Result<(), DbErr> {
    for mut c in columns {
        m.alter_table(Table::alter().table(table).add_column(&mut c).to_owned())
            .await?;
    }
    Ok(())
}

/// Drops `columns` of `table`, one statement each.
pub async fn drop_columns(
    m: &SchemaManager<'_>,
    table: &'static str,
    columns: &[&'static str],
) -> Result<(), DbErr> {
    for c in columns {
        m.alter_table(Table::alter().table(table).drop_column(*c).to_owned())
            .await?;
    }
    Ok(())
}

/// Drops the index [`index`] made on `table` over `columns`.
pub async fn drop_index(
    m: &SchemaManager<'_>,
    table: &'static str,
    columns: &[&'static str],
) -> Result<(), DbErr> {
    let name = format!("idx_{table}_{}", columns.join("_"));
    m.drop_index(Index::drop().name(name).table(table).to_owned())
        .await
}
