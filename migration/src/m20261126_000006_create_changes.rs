use crate::conventions::*;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{string, string_null, text, text_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut change = table("change");
        change
            .col(string("number"))
            .col(string("title"))
            .col(text("description"))
            .col(string("category"))
            .col(string("change_type"))
            .col(string("risk"))
            .col(string("status"))
            .col(string_null("outcome"));
        fk(
            &mut change,
            "change",
            "requested_by_id",
            "person",
            ForeignKeyAction::Restrict,
        );
        fk_null(&mut change, "change", "project_id", "project");
        fk_null(&mut change, "change", "model_id", "change_model");
        change
            .col(ts_null("planned_start"))
            .col(ts_null("planned_end"))
            .col(ts_null("submitted_at"))
            .col(ts_null("authorized_at"))
            .col(ts_null("started_at"))
            .col(ts_null("completed_at"))
            .col(ts_null("closed_at"))
            .col(text_null("cancellation_reason"));

        let mut link = join_table("change_service");
        fk(
            &mut link,
            "change_service",
            "change_id",
            "change",
            ForeignKeyAction::Cascade,
        );
        fk(
            &mut link,
            "change_service",
            "service_id",
            "service",
            ForeignKeyAction::Restrict,
        );
        link.primary_key(Index::create().col("change_id").col("service_id"));

        let mut approval = table("approval");
        fk(
            &mut approval,
            "approval",
            "change_id",
            "change",
            ForeignKeyAction::Cascade,
        );
        fk(
            &mut approval,
            "approval",
            "approver_id",
            "person",
            ForeignKeyAction::Restrict,
        );
        approval
            .col(string("decision"))
            .col(text_null("comment"))
            .col(ts("decided_at"));

        create(
            m,
            vec![audited(change, "version"), link, approval],
            vec![
                unique("change", &["number"]),
                index("change", &["requested_by_id"]),
                index("change", &["project_id"]),
                index("change", &["model_id"]),
                index("change", &["status"]),
                index("change", &["planned_start"]),
                index("change", &["created_at"]),
                index("change", &["updated_at"]),
                index("change_service", &["service_id"]),
                unique("approval", &["change_id", "approver_id"]),
                index("approval", &["approver_id"]),
            ],
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop(m, &["approval", "change_service", "change"]).await
    }
}
