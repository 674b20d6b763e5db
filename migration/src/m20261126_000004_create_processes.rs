use crate::conventions::*;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{string, string_null, text};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut process = table("process");
        process
            .col(string("key"))
            .col(string("name"))
            .col(text("description"));

        let mut policy = table("policy");
        fk(
            &mut policy,
            "policy",
            "process_id",
            "process",
            ForeignKeyAction::Cascade,
        );
        policy.col(text("statement"));

        let mut role = table("process_role_assignment");
        fk(
            &mut role,
            "process_role_assignment",
            "process_id",
            "process",
            ForeignKeyAction::Cascade,
        );
        fk(
            &mut role,
            "process_role_assignment",
            "person_id",
            "person",
            ForeignKeyAction::Cascade,
        );
        role.col(string("role")).col(string_null("scope"));

        create(
            m,
            vec![
                audited(process, "version"),
                audited(policy, "version"),
                audited(role, "version"),
            ],
            vec![
                unique("process", &["key"]),
                index("policy", &["process_id"]),
                index("process_role_assignment", &["process_id", "role"]),
                index("process_role_assignment", &["person_id"]),
            ],
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop(m, &["process_role_assignment", "policy", "process"]).await
    }
}
