//! Covering indexes for the batched nested pages a portal page runs: "each service's most
//! recent changes" reads `change_service` by service and "each change's releases" reads
//! `release_change` by change; with the other key in the index, both are index-only. They
//! replace the single-column indexes they start with, and `change (created_at, id)` serves
//! the keyset ordering of change lists by creation.

use crate::conventions::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(index("change_service", &["service_id", "change_id"]))
            .await?;
        m.create_index(index("release_change", &["change_id", "release_id"]))
            .await?;
        m.create_index(index("change", &["created_at", "id"]))
            .await?;
        for (table, name) in [
            ("change_service", "idx_change_service_service_id"),
            ("release_change", "idx_release_change_change_id"),
        ] {
            m.drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(index("change_service", &["service_id"]))
            .await?;
        m.create_index(index("release_change", &["change_id"]))
            .await?;
        for (table, name) in [
            ("change_service", "idx_change_service_service_id_change_id"),
            ("release_change", "idx_release_change_change_id_release_id"),
            ("change", "idx_change_created_at_id"),
        ] {
            m.drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
