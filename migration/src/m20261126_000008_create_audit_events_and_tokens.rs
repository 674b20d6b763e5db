use crate::conventions::*;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{json_binary_null, string};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut audit = table("audit_event");
        audit.col(ts("at"));
        fk_null(&mut audit, "audit_event", "actor_id", "person");
        audit
            .col(string("action"))
            .col(string("entity_type"))
            .col(ColumnDef::new("entity_id").big_integer().not_null())
            .col(json_binary_null("before"))
            .col(json_binary_null("after"));

        let mut token = table("api_token");
        fk(
            &mut token,
            "api_token",
            "person_id",
            "person",
            ForeignKeyAction::Cascade,
        );
        token
            .col(string("name"))
            .col(string("token_hash"))
            .col(string("scope"))
            .col(ts_null("expires_at"))
            .col(ts_null("revoked_at"))
            .col(ts("created_at"));

        create(
            m,
            vec![audit, token],
            vec![
                index("audit_event", &["entity_type", "entity_id"]),
                index("audit_event", &["actor_id"]),
                index("audit_event", &["at"]),
                unique("api_token", &["token_hash"]),
                index("api_token", &["person_id"]),
            ],
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop(m, &["api_token", "audit_event"]).await
    }
}
