//! Blackout windows and the services they cover.

use crate::conventions::*;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{string, text};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut window = table("blackout_window");
        window
            .col(string("name"))
            .col(text("reason"))
            .col(ts("starts_at"))
            .col(ts("ends_at"));

        let mut link = join_table("blackout_window_service");
        fk(
            &mut link,
            "blackout_window_service",
            "window_id",
            "blackout_window",
            ForeignKeyAction::Cascade,
        );
        fk(
            &mut link,
            "blackout_window_service",
            "service_id",
            "service",
            ForeignKeyAction::Cascade,
        );
        link.primary_key(Index::create().col("window_id").col("service_id"));

        create(
            m,
            vec![audited(window, "version"), link],
            vec![
                index("blackout_window", &["starts_at"]),
                index("blackout_window", &["ends_at"]),
                index("blackout_window_service", &["service_id"]),
            ],
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop(m, &["blackout_window_service", "blackout_window"]).await
    }
}
