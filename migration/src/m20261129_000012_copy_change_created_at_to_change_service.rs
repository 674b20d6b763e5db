//! "Each service's most recent changes" — the portal page — orders a service's changes by
//! their creation. With only `change_service (service_id, change_id)`, finding a service's
//! five newest changes reads every one of its changes from the `change` table to learn when
//! it was created. `change_service` therefore carries a copy of `change.created_at` (which
//! never changes after insert) and an index on `(service_id, change_created_at, change_id)`,
//! so the newest changes of a service are the first entries of one index range.

use crate::conventions::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Added nullable, filled from `change`, and left nullable: SQLite cannot tighten a
        // column in place. Every writer sets it; readers never see a null.
        m.alter_table(
            Table::alter()
                .table("change_service")
                .add_column(ts_null("change_created_at"))
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared(crate::FILL_CHANGE_SERVICE_CREATED_AT)
            .await?;
        m.create_index(index(
            "change_service",
            &["service_id", "change_created_at", "change_id"],
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_change_service_service_id_change_created_at_change_id")
                .table("change_service")
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("change_service")
                .drop_column("change_created_at")
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
