use crate::conventions::*;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::string;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut release = table("release");
        release
            .col(string("name"))
            .col(string("version"))
            .col(string("release_type"))
            .col(string("status"));
        fk_null(&mut release, "release", "project_id", "project");
        fk_null(&mut release, "release", "previous_id", "release");
        release
            .col(ts_null("planned_date"))
            .col(ts_null("deployed_at"));

        let mut changes = join_table("release_change");
        fk(
            &mut changes,
            "release_change",
            "release_id",
            "release",
            ForeignKeyAction::Cascade,
        );
        fk(
            &mut changes,
            "release_change",
            "change_id",
            "change",
            ForeignKeyAction::Cascade,
        );
        changes.primary_key(Index::create().col("release_id").col("change_id"));

        let mut services = join_table("release_service");
        fk(
            &mut services,
            "release_service",
            "release_id",
            "release",
            ForeignKeyAction::Cascade,
        );
        fk(
            &mut services,
            "release_service",
            "service_id",
            "service",
            ForeignKeyAction::Restrict,
        );
        services.primary_key(Index::create().col("release_id").col("service_id"));

        create(
            m,
            vec![audited(release, "revision"), changes, services],
            vec![
                index("release", &["project_id"]),
                // A release is the previous of at most one other: sequences are chains.
                unique("release", &["previous_id"]),
                index("release", &["status"]),
                index("release", &["planned_date"]),
                index("release_change", &["change_id"]),
                index("release_service", &["service_id"]),
            ],
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop(m, &["release_service", "release_change", "release"]).await
    }
}
