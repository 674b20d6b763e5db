//! When a change model was retired: no new change is submitted under it, while changes it
//! already authorized keep their authority.

use crate::conventions::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add_columns(m, "change_model", vec![ts_null("retired_at")]).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(m, "change_model", &["retired_at"]).await
    }
}
