use crate::conventions::*;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{json_binary, string};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut person = table("person");
        person
            .col(string("name"))
            .col(string("email"))
            .col(json_binary("skills"));
        let mut partner = table("partner");
        partner.col(string("name")).col(string("kind"));
        create(
            m,
            vec![audited(person, "version"), audited(partner, "version")],
            vec![
                unique("person", &["email"]),
                index("person", &["name"]),
                index("partner", &["name"]),
            ],
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop(m, &["partner", "person"]).await
    }
}
