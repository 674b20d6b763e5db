//! The approval policy of change-management as data: rules that require more approvals
//! (and the process OWNER's) as risk and the criticality of the services touched rise. New
//! databases start with the defaults below, which the OWNER edits through the API.

use crate::conventions::*;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{boolean, integer, string, string_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A default rule, for NORMAL changes (EMERGENCY ones keep their single, fast approval).
struct Rule {
    name: &'static str,
    min_risk: Option<&'static str>,
    min_criticality: Option<&'static str>,
    approvals: i32,
    owner: bool,
}

const DEFAULTS: [Rule; 3] = [
    Rule {
        name: "High risk",
        min_risk: Some("HIGH"),
        min_criticality: None,
        approvals: 2,
        owner: false,
    },
    Rule {
        name: "Very high risk",
        min_risk: Some("VERY_HIGH"),
        min_criticality: None,
        approvals: 3,
        owner: true,
    },
    Rule {
        name: "Critical service",
        min_risk: None,
        min_criticality: Some("CRITICAL"),
        approvals: 3,
        owner: true,
    },
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let mut rules = table("approval_rule");
        rules
            .col(string("name"))
            .col(string_null("change_type"))
            .col(string_null("min_risk"))
            .col(string_null("min_criticality"))
            .col(integer("required_approvals"))
            .col(boolean("owner_required").default(false));
        create(m, vec![audited(rules, "version")], vec![]).await?;
        let mut insert = Query::insert();
        insert.into_table("approval_rule").columns([
            "name",
            "change_type",
            "min_risk",
            "min_criticality",
            "required_approvals",
            "owner_required",
            "created_at",
            "updated_at",
            "version",
        ]);
        for r in DEFAULTS {
            insert.values_panic([
                r.name.into(),
                "NORMAL".into(),
                r.min_risk.into(),
                r.min_criticality.into(),
                r.approvals.into(),
                r.owner.into(),
                Expr::current_timestamp(),
                Expr::current_timestamp(),
                1.into(),
            ]);
        }
        m.exec_stmt(insert).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        drop(m, &["approval_rule"]).await
    }
}
