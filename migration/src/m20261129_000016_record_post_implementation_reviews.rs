//! The post-implementation review a change closes with: what happened, whether it met its
//! objectives, what follows up, and who reviewed it (the person who closed it; no foreign
//! key, as SQLite cannot add one to an existing table — people are never deleted).

use crate::conventions::*;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer_null, boolean_null, text_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMNS: [&str; 4] = [
    "review_summary",
    "review_objectives_met",
    "review_follow_up",
    "reviewed_by_id",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let columns = vec![
            text_null(COLUMNS[0]),
            boolean_null(COLUMNS[1]),
            text_null(COLUMNS[2]),
            big_integer_null(COLUMNS[3]),
        ];
        add_columns(m, "change", columns).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(m, "change", &COLUMNS).await
    }
}
