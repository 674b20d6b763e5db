//! A release's planned deployment window (`planned_start`, `planned_end`): required before
//! it is DEPLOYED, checked against blackout windows, and shown on the forward schedule of
//! change beside the changes' windows. `planned_date` stays as the date portals show.

use crate::conventions::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMNS: [&str; 2] = ["planned_start", "planned_end"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one change at a time.
        for column in COLUMNS {
            m.alter_table(
                Table::alter()
                    .table("release")
                    .add_column(ts_null(column))
                    .to_owned(),
            )
            .await?;
        }
        m.create_index(index("release", &["planned_start"])).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_release_planned_start")
                .table("release")
                .to_owned(),
        )
        .await?;
        for column in COLUMNS {
            m.alter_table(
                Table::alter()
                    .table("release")
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
