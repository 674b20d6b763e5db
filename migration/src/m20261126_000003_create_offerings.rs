use crate::conventions::*;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{string, text};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut offering = table("service_offering");
        offering
            .col(string("key"))
            .col(string("name"))
            .col(text("description"))
            .col(string("target_consumer_group"))
            .col(string("status"));

        let mut link = join_table("offering_service");
        fk(
            &mut link,
            "offering_service",
            "offering_id",
            "service_offering",
            ForeignKeyAction::Cascade,
        );
        fk(
            &mut link,
            "offering_service",
            "service_id",
            "service",
            ForeignKeyAction::Cascade,
        );
        link.col(ts("created_at"))
            .primary_key(Index::create().col("offering_id").col("service_id"));

        let mut component = table("offering_component");
        fk(
            &mut component,
            "offering_component",
            "offering_id",
            "service_offering",
            ForeignKeyAction::Cascade,
        );
        component
            .col(string("kind"))
            .col(string("name"))
            .col(text("description"));

        create(
            m,
            vec![
                audited(offering, "version"),
                link,
                audited(component, "version"),
            ],
            vec![
                unique("service_offering", &["key"]),
                index("service_offering", &["status"]),
                index("offering_service", &["service_id"]),
                index("offering_component", &["offering_id"]),
            ],
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop(
            m,
            &["offering_component", "offering_service", "service_offering"],
        )
        .await
    }
}
