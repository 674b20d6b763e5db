//! Service dependencies: the technology of the Four Ps. `service_id` depends on
//! `depends_on_id`; both directions are indexed (its dependencies by the primary key, its
//! dependents by `depends_on_id`), for batched loads and recursive walks either way.

use crate::conventions::*;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{string, text_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut link = join_table("service_dependency");
        for column in ["service_id", "depends_on_id"] {
            fk(
                &mut link,
                "service_dependency",
                column,
                "service",
                ForeignKeyAction::Cascade,
            );
        }
        link.col(string("kind"))
            .col(text_null("note"))
            .col(ts("created_at"))
            .primary_key(Index::create().col("service_id").col("depends_on_id"));
        create(
            m,
            vec![link],
            vec![index(
                "service_dependency",
                &["depends_on_id", "service_id"],
            )],
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop(m, &["service_dependency"]).await
    }
}
