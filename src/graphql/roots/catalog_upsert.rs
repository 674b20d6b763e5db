//! `upsertCatalog`: the bulk upsert of people, partners, services and offerings (ADMIN).

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject};

use crate::domain::catalog_upsert::{
    self as upsert, CatalogRecord, CatalogReport, CatalogRow, ComponentRow, OfferingRow,
    PartnerLinkRow, PartnerRow, PersonRow, ServiceRow,
};
use crate::graphql::enums::{
    Criticality, OfferingComponentKind, OfferingStatus, PartnerKind, ServiceLifecycle,
};
use crate::graphql::gov;
use crate::graphql::viewer::{Viewer, ViewerOf};

/// A person, found by e-mail.
#[derive(InputObject)]
#[graphql(name = "CatalogPersonInput")]
pub struct PersonInput {
    /// The natural key.
    pub email: String,
    /// Full name.
    pub name: String,
    /// Replaces the skills when given.
    pub skills: Option<Vec<String>>,
}

/// A partner, found by name.
#[derive(InputObject)]
#[graphql(name = "CatalogPartnerInput")]
pub struct PartnerInput {
    /// The natural key.
    pub name: String,
    /// SUPPLIER, MANUFACTURER or VENDOR.
    pub kind: PartnerKind,
}

/// A partner of a service, named.
#[derive(InputObject)]
#[graphql(name = "CatalogPartnerLinkInput")]
pub struct PartnerLinkInput {
    /// The partner's name (existing, or among this import's partners).
    pub partner: String,
    /// What it does for the service, e.g. "hosting".
    pub role: String,
    /// Its underpinning contract's reference.
    pub contract: Option<String>,
}

/// A service, found by key. Fields left out stay as they are (defaults for a new one).
#[derive(InputObject)]
#[graphql(name = "CatalogServiceInput")]
pub struct ServiceInput {
    /// The natural key.
    pub key: String,
    /// Display name.
    pub name: String,
    /// What it provides.
    pub description: Option<String>,
    /// PIPELINE or LIVE (retiring goes through `updateService`, which checks open changes).
    pub lifecycle: Option<ServiceLifecycle>,
    /// LOW, MEDIUM, HIGH or CRITICAL.
    pub criticality: Option<Criticality>,
    /// The owner's e-mail (existing, or among this import's people).
    pub owner_email: Option<String>,
    /// Region or business unit; empty clears it.
    pub scope: Option<String>,
    /// Replaces the service's partners when given.
    pub partners: Option<Vec<PartnerLinkInput>>,
}

/// A component of an offering.
#[derive(InputObject)]
#[graphql(name = "CatalogComponentInput")]
pub struct ComponentInput {
    /// GOODS, ACCESS_TO_RESOURCE or SERVICE_ACTION.
    pub kind: OfferingComponentKind,
    /// What the consumer gets, e.g. "Laptop".
    pub name: String,
    /// Its terms, in a sentence.
    pub description: Option<String>,
}

/// An offering, found by key. Fields left out stay as they are (defaults for a new one).
#[derive(InputObject)]
#[graphql(name = "CatalogOfferingInput")]
pub struct OfferingInput {
    /// The natural key.
    pub key: String,
    /// Display name.
    pub name: String,
    /// What it offers.
    pub description: Option<String>,
    /// Required for a new offering.
    pub target_consumer_group: Option<String>,
    /// DRAFT, PUBLISHED or WITHDRAWN.
    pub status: Option<OfferingStatus>,
    /// Replaces its services (by key) when given.
    pub service_keys: Option<Vec<String>>,
    /// Replaces its components when given.
    pub components: Option<Vec<ComponentInput>>,
}

/// The catalog rows of one upsert, each kind applied in this order.
#[derive(InputObject)]
pub struct CatalogInput {
    /// People, first.
    #[graphql(default)]
    pub people: Vec<PersonInput>,
    /// Partners, second.
    #[graphql(default)]
    pub partners: Vec<PartnerInput>,
    /// Services, third (they may name the people and partners above).
    #[graphql(default)]
    pub services: Vec<ServiceInput>,
    /// Offerings, last (they may name the services above).
    #[graphql(default)]
    pub offerings: Vec<OfferingInput>,
}

/// What became of a row.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "upsert::Outcome")]
pub enum CatalogOutcome {
    /// It was new.
    Created,
    /// It differed; its version was bumped and the change audited.
    Updated,
    /// It matched what was stored.
    Unchanged,
    /// It was refused (see `reason`); nothing of the upsert was written.
    Refused,
}

/// One row of the report.
#[derive(SimpleObject)]
pub struct CatalogRowReport {
    /// Where the row was in the input, e.g. `services[2]`.
    pub source: String,
    /// `person`, `partner`, `service` or `offering`.
    pub kind: String,
    /// Its natural key (e-mail, name or key).
    pub key: String,
    /// What became of it.
    pub outcome: CatalogOutcome,
    /// Why it was refused.
    pub reason: Option<String>,
}

/// The report of an upsert.
#[derive(SimpleObject)]
pub struct CatalogUpsertReport {
    /// Rows created.
    pub created: i32,
    /// Rows updated.
    pub updated: i32,
    /// Rows left as they were.
    pub unchanged: i32,
    /// Rows refused.
    pub refused: i32,
    /// Whether anything was written: not when a row was refused, nor in a dry run.
    pub written: bool,
    /// Every row, in the order applied.
    pub rows: Vec<CatalogRowReport>,
}

impl From<CatalogReport> for CatalogUpsertReport {
    fn from(r: CatalogReport) -> Self {
        let n = |v: usize| i32::try_from(v).unwrap_or(i32::MAX);
        Self {
            created: n(r.created),
            updated: n(r.updated),
            unchanged: n(r.unchanged),
            refused: n(r.refused),
            written: r.written,
            rows: r
                .rows
                .into_iter()
                .map(|row| CatalogRowReport {
                    source: row.source,
                    kind: row.kind.to_owned(),
                    key: row.key,
                    outcome: row.outcome.into(),
                    reason: row.reason,
                })
                .collect(),
        }
    }
}

fn rows(input: CatalogInput) -> Vec<CatalogRow> {
    let row = |source: String, record| CatalogRow { source, record };
    let people = input.people.into_iter().enumerate().map(|(i, p)| {
        row(
            format!("people[{i}]"),
            CatalogRecord::Person(PersonRow {
                email: p.email,
                name: p.name,
                skills: p.skills,
            }),
        )
    });
    let partners = input.partners.into_iter().enumerate().map(|(i, p)| {
        row(
            format!("partners[{i}]"),
            CatalogRecord::Partner(PartnerRow {
                name: p.name,
                kind: p.kind.into(),
            }),
        )
    });
    let services = input.services.into_iter().enumerate().map(|(i, s)| {
        row(
            format!("services[{i}]"),
            CatalogRecord::Service(ServiceRow {
                key: s.key,
                name: s.name,
                description: s.description,
                lifecycle: s.lifecycle.map(Into::into),
                criticality: s.criticality.map(Into::into),
                owner_email: s.owner_email,
                scope: s.scope,
                partners: s.partners.map(|links| {
                    links
                        .into_iter()
                        .map(|l| PartnerLinkRow {
                            partner: l.partner,
                            role: l.role,
                            contract: l.contract,
                        })
                        .collect()
                }),
            }),
        )
    });
    let offerings = input.offerings.into_iter().enumerate().map(|(i, o)| {
        row(
            format!("offerings[{i}]"),
            CatalogRecord::Offering(OfferingRow {
                key: o.key,
                name: o.name,
                description: o.description,
                target_consumer_group: o.target_consumer_group,
                status: o.status.map(Into::into),
                services: o.service_keys,
                components: o.components.map(|list| {
                    list.into_iter()
                        .map(|c| ComponentRow {
                            kind: c.kind.into(),
                            name: c.name,
                            description: c.description.unwrap_or_default(),
                        })
                        .collect()
                }),
            }),
        )
    });
    people
        .chain(partners)
        .chain(services)
        .chain(offerings)
        .collect()
}

/// The part of `Mutation` for bulk upserts of the catalog.
#[derive(Default)]
pub struct CatalogUpsertMutation;

#[Object]
impl CatalogUpsertMutation {
    /// Creates or updates people (by e-mail), partners (by name), services and offerings
    /// (by key) in one transaction. ADMIN. What is new is created, what differs updated
    /// (version bumped, audited), the rest left alone; one refused row and nothing is
    /// written. The report lists every row; running the same input twice changes nothing.
    async fn upsert_catalog(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The rows, by kind.")] input: CatalogInput,
        #[graphql(desc = "Check and report only; write nothing (default false).")] dry_run: Option<
            bool,
        >,
    ) -> Result<CatalogUpsertReport> {
        let report = gov(ctx)
            .upsert_catalog(Viewer::of(ctx), rows(input), dry_run.unwrap_or(false))
            .await?;
        Ok(report.into())
    }
}
