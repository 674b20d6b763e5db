//! A service's `scope` — a region or business unit, free text — which a process role
//! assignment with the same scope covers. Unscoped services are covered by unscoped roles
//! (and by process owners) only.

use crate::conventions::*;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::string_null;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add_columns(m, "service", vec![string_null("scope")]).await?;
        m.create_index(index("service", &["scope"])).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop_index(m, "service", &["scope"]).await?;
        drop_columns(m, "service", &["scope"]).await
    }
}
