use crate::conventions::*;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{boolean, integer, string, text};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut project = table("project");
        project
            .col(string("code"))
            .col(string("name"))
            .col(string("status"));
        fk_null(&mut project, "project", "manager_id", "person");

        let mut model = table("change_model");
        model
            .col(string("key"))
            .col(string("name"))
            .col(text("description"))
            .col(string("change_type"))
            .col(string("max_risk"))
            .col(boolean("pre_approved"))
            .col(integer("required_approvals"));

        create(
            m,
            vec![audited(project, "version"), audited(model, "version")],
            vec![
                unique("project", &["code"]),
                index("project", &["manager_id"]),
                index("project", &["status"]),
                unique("change_model", &["key"]),
            ],
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop(m, &["change_model", "project"]).await
    }
}
