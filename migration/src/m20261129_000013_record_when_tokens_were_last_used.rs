//! When each API token was last used, for administrators tidying up tokens nobody uses.
//! Written at most once a minute per token and instance (`auth::TokenUse`).

use crate::conventions::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("api_token")
                .add_column(ts_null("last_used_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("api_token")
                .drop_column("last_used_at")
                .to_owned(),
        )
        .await
    }
}
