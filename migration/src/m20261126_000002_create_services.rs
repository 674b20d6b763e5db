use crate::conventions::*;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{string, string_null, text};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut service = table("service");
        service
            .col(string("key"))
            .col(string("name"))
            .col(text("description"))
            .col(string("lifecycle"))
            .col(string("criticality"));
        fk_null(&mut service, "service", "owner_id", "person");

        let mut link = join_table("service_partner");
        fk(
            &mut link,
            "service_partner",
            "service_id",
            "service",
            ForeignKeyAction::Cascade,
        );
        fk(
            &mut link,
            "service_partner",
            "partner_id",
            "partner",
            ForeignKeyAction::Cascade,
        );
        link.col(string("role"))
            .col(string_null("contract_ref"))
            .col(ts("created_at"))
            .primary_key(Index::create().col("service_id").col("partner_id"));

        create(
            m,
            vec![audited(service, "version"), link],
            vec![
                unique("service", &["key"]),
                index("service", &["owner_id"]),
                index("service", &["lifecycle"]),
                index("service_partner", &["partner_id"]),
            ],
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop(m, &["service_partner", "service"]).await
    }
}
