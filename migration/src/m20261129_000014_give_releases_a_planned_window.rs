//! A release's planned deployment window (`planned_start`, `planned_end`): required before
//! it is DEPLOYED, checked against blackout windows, and shown on the forward schedule of
//! change beside the changes' windows. `planned_date` stays as the date portals show.

use crate::conventions::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let columns = vec![ts_null("planned_start"), ts_null("planned_end")];
        add_columns(m, "release", columns).await?;
        m.create_index(index("release", &["planned_start"])).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_index(m, "release", &["planned_start"]).await?;
        drop_columns(m, "release", &["planned_start", "planned_end"]).await
    }
}
