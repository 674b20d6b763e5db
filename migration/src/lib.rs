//! Ordered, reversible schema migrations. Run at start-up by `portfolio serve` and on demand
//! by `portfolio migrate`. A migration, once released, is never edited: add a new one.

pub use sea_orm_migration::prelude::*;

mod conventions;

/// Fills `change_service.change_created_at` from `change.created_at`: the copy that orders a
/// service's changes by creation (migration 000012). Derived data; run again by anything
/// that loads `change_service` rows without it (an import).
pub const FILL_CHANGE_SERVICE_CREATED_AT: &str = "UPDATE change_service SET change_created_at = \
     (SELECT c.created_at FROM change c WHERE c.id = change_service.change_id)";

mod m20261126_000001_create_people_and_partners;
mod m20261126_000002_create_services;
mod m20261126_000003_create_offerings;
mod m20261126_000004_create_processes;
mod m20261126_000005_create_projects_and_change_models;
mod m20261126_000006_create_changes;
mod m20261126_000007_create_releases;
mod m20261126_000008_create_audit_events_and_tokens;
mod m20261126_000009_make_audit_events_append_only;
mod m20261126_000010_add_covering_indexes_for_nested_pages;
mod m20261126_000011_create_blackout_windows;
mod m20261129_000012_copy_change_created_at_to_change_service;
mod m20261129_000013_record_when_tokens_were_last_used;
mod m20261129_000014_give_releases_a_planned_window;
mod m20261129_000015_give_services_a_scope;
mod m20261129_000016_record_post_implementation_reviews;
mod m20261129_000017_let_change_models_retire;
mod m20261129_000018_create_the_approval_policy;
mod m20261129_000019_create_service_dependencies;
mod m20261130_000020_create_webhooks;

/// Every migration of the portfolio schema, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_create_people_and_partners::Migration),
            Box::new(m20261126_000002_create_services::Migration),
            Box::new(m20261126_000003_create_offerings::Migration),
            Box::new(m20261126_000004_create_processes::Migration),
            Box::new(m20261126_000005_create_projects_and_change_models::Migration),
            Box::new(m20261126_000006_create_changes::Migration),
            Box::new(m20261126_000007_create_releases::Migration),
            Box::new(m20261126_000008_create_audit_events_and_tokens::Migration),
            Box::new(m20261126_000009_make_audit_events_append_only::Migration),
            Box::new(m20261126_000010_add_covering_indexes_for_nested_pages::Migration),
            Box::new(m20261126_000011_create_blackout_windows::Migration),
            Box::new(m20261129_000012_copy_change_created_at_to_change_service::Migration),
            Box::new(m20261129_000013_record_when_tokens_were_last_used::Migration),
            Box::new(m20261129_000014_give_releases_a_planned_window::Migration),
            Box::new(m20261129_000015_give_services_a_scope::Migration),
            Box::new(m20261129_000016_record_post_implementation_reviews::Migration),
            Box::new(m20261129_000017_let_change_models_retire::Migration),
            Box::new(m20261129_000018_create_the_approval_policy::Migration),
            Box::new(m20261129_000019_create_service_dependencies::Migration),
            Box::new(m20261130_000020_create_webhooks::Migration),
        ]
    }
}
