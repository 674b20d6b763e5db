//! Webhooks: the endpoints an ADMIN registers and the outbox of their deliveries. A
//! delivery row is written in the same transaction as the change or release event it
//! carries, so an event is never committed without its deliveries nor delivered without
//! its commit; the worker sends, retries and records each one.

use crate::conventions::*;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    boolean, integer, integer_null, json_binary, json_binary_null, string, text, text_null,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut endpoints = table("webhook_endpoint");
        endpoints
            .col(string("url"))
            .col(text_null("description"))
            .col(json_binary("event_types"))
            .col(json_binary_null("service_ids"))
            .col(json_binary_null("project_ids"))
            .col(string("secret"))
            .col(boolean("paused").default(false));
        let mut deliveries = table("webhook_delivery");
        fk(
            &mut deliveries,
            "webhook_delivery",
            "endpoint_id",
            "webhook_endpoint",
            ForeignKeyAction::Cascade,
        );
        deliveries
            .col(string("message_id"))
            .col(string("event_type"))
            .col(text("payload"))
            .col(string("status"))
            .col(integer("attempts").default(0))
            .col(ts("next_attempt_at"))
            .col(ts("round_started_at"))
            .col(ts_null("last_attempt_at"))
            .col(integer_null("last_status"))
            .col(text_null("last_error"))
            .col(ts_null("delivered_at"))
            .col(ts("created_at"));
        create(
            m,
            vec![audited(endpoints, "version"), deliveries],
            vec![
                // The worker's scan: due deliveries, oldest first.
                index("webhook_delivery", &["status", "next_attempt_at"]),
                // An endpoint's deliveries, newest first, for `webhookDeliveries`.
                index("webhook_delivery", &["endpoint_id", "id"]),
            ],
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop(m, &["webhook_delivery", "webhook_endpoint"]).await
    }
}
