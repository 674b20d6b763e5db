//! Bulk upsert of the catalog from a system of record (a CMDB, an HR system): people by
//! e-mail, partners by name, services and offerings by key. What is new is created, what
//! differs is updated (its version bumped, audited), the rest is left alone, in one
//! transaction: one refused row and nothing is written. Running the same rows twice
//! changes nothing the second time.

use std::collections::{BTreeSet, HashMap};

use entity::*;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::Serialize;

use super::validate::{self, MAX_DESCRIPTION, MAX_TITLE};
use super::{Actor, Governance, Work, save};
use crate::error::{AppError, AppResult};
use crate::store::lookup::by_key;

/// A person, by e-mail.
#[derive(Clone, Debug, Default)]
pub struct PersonRow {
    pub email: String,
    pub name: String,
    /// Absent: left as it is (none for a new person).
    pub skills: Option<Vec<String>>,
}

/// A partner, by name.
#[derive(Clone, Debug)]
pub struct PartnerRow {
    pub name: String,
    pub kind: PartnerKind,
}

/// A partner of a service, by the partner's name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PartnerLinkRow {
    pub partner: String,
    pub role: String,
    pub contract: Option<String>,
}

/// A service, by key. Absent fields are left as they are (defaults for a new service).
#[derive(Clone, Debug, Default)]
pub struct ServiceRow {
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    pub lifecycle: Option<ServiceLifecycle>,
    pub criticality: Option<Criticality>,
    /// The owner's e-mail; the person must exist or come earlier in the same import.
    pub owner_email: Option<String>,
    pub scope: Option<String>,
    /// Replaces the service's partners when given.
    pub partners: Option<Vec<PartnerLinkRow>>,
}

/// A component of an offering.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComponentRow {
    pub kind: OfferingComponentKind,
    pub name: String,
    pub description: String,
}

/// An offering, by key. Absent fields are left as they are (defaults for a new one).
#[derive(Clone, Debug, Default)]
pub struct OfferingRow {
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    pub target_consumer_group: Option<String>,
    pub status: Option<OfferingStatus>,
    /// Replaces the offering's services (by key) when given.
    pub services: Option<Vec<String>>,
    /// Replaces the offering's components when given.
    pub components: Option<Vec<ComponentRow>>,
}

/// One record of an import.
#[derive(Clone, Debug)]
pub enum CatalogRecord {
    Person(PersonRow),
    Partner(PartnerRow),
    Service(ServiceRow),
    Offering(OfferingRow),
    /// A record the file reader could not read, and why.
    Unreadable(String),
}

/// A record and where it came from (`line 12`, `services[3]`), for the report.
#[derive(Clone, Debug)]
pub struct CatalogRow {
    pub source: String,
    pub record: CatalogRecord,
}

/// What became of one row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
    Refused,
}

/// One row of the report.
#[derive(Clone, Debug, Serialize)]
pub struct RowReport {
    pub source: String,
    /// `person`, `partner`, `service`, `offering` (empty for an unreadable record).
    pub kind: &'static str,
    /// The natural key: e-mail, name or key.
    pub key: String,
    pub outcome: Outcome,
    /// Why it was refused.
    pub reason: Option<String>,
}

/// The report of an import.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CatalogReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub refused: usize,
    /// Whether anything was written: no when a row was refused, or in a dry run.
    pub written: bool,
    pub rows: Vec<RowReport>,
}

impl CatalogRecord {
    fn kind(&self) -> (&'static str, u8) {
        match self {
            Self::Person(_) => ("person", 0),
            Self::Partner(_) => ("partner", 1),
            Self::Service(_) => ("service", 2),
            Self::Offering(_) => ("offering", 3),
            Self::Unreadable(_) => ("", 4),
        }
    }

    fn key(&self) -> String {
        match self {
            Self::Person(p) => p.email.trim().to_lowercase(),
            Self::Partner(p) => p.name.trim().to_owned(),
            Self::Service(s) => s.key.trim().to_owned(),
            Self::Offering(o) => o.key.trim().to_owned(),
            Self::Unreadable(_) => String::new(),
        }
    }
}

/// Sets `slot` to `value` when it differs from `current`; returns whether it did.
fn differs<T: PartialEq + Clone + Into<sea_orm::Value>>(
    slot: &mut sea_orm::ActiveValue<T>,
    current: &T,
    value: T,
) -> bool {
    if *current == value {
        return false;
    }
    *slot = Set(value);
    true
}

impl Governance {
    /// Upserts `rows` (ADMIN, or the operator at the command line): people, then partners,
    /// then services, then offerings, each kind in the order given, so that a row may name
    /// what an earlier kind's row creates. Nothing is written if any row is refused, or if
    /// `dry_run`; the report says what would have happened to every row.
    pub async fn upsert_catalog(
        &self,
        actor: &Actor,
        mut rows: Vec<CatalogRow>,
        dry_run: bool,
    ) -> AppResult<CatalogReport> {
        // The operator (`portfolio import-catalog`) is ADMIN without a person.
        if actor.person_id.is_some() || !actor.is_admin() {
            actor.admin("importing the catalog")?;
        }
        if rows.len() > MAX_ROWS {
            return Err(AppError::bad_input(format!(
                "an import has at most {MAX_ROWS} rows, not {}; split the file",
                rows.len()
            )));
        }
        rows.sort_by_key(|r| r.record.kind().1);
        let mut w = self.start(actor).await?;
        let mut report = CatalogReport::default();
        let mut seen: HashMap<(&'static str, String), String> = HashMap::new();
        for row in rows {
            let (kind, _) = row.record.kind();
            let key = row.record.key();
            let result = match seen.get(&(kind, key.clone())) {
                Some(first) if !kind.is_empty() => Err(AppError::bad_input(format!(
                    "the same {kind} `{key}` is already on {first}"
                ))),
                _ => {
                    seen.insert((kind, key.clone()), row.source.clone());
                    upsert_one(&mut w, &row.record).await
                }
            };
            let (outcome, reason) = match result {
                Ok(o) => (o, None),
                Err(e @ AppError::Internal(_)) | Err(e @ AppError::Database(_)) => return Err(e),
                Err(e) => (Outcome::Refused, Some(e.public_message())),
            };
            match outcome {
                Outcome::Created => report.created += 1,
                Outcome::Updated => report.updated += 1,
                Outcome::Unchanged => report.unchanged += 1,
                Outcome::Refused => report.refused += 1,
            }
            report.rows.push(RowReport {
                source: row.source,
                kind,
                key,
                outcome,
                reason,
            });
        }
        if report.refused == 0 && !dry_run {
            w.commit(&self.bus).await?;
            report.written = true;
        }
        // Otherwise the work drops unfinished: its transaction rolls back.
        Ok(report)
    }
}

/// Most rows one import takes.
pub const MAX_ROWS: usize = 50_000;

async fn upsert_one(w: &mut Work, record: &CatalogRecord) -> AppResult<Outcome> {
    match record {
        CatalogRecord::Person(p) => person(w, p).await,
        CatalogRecord::Partner(p) => partner(w, p).await,
        CatalogRecord::Service(s) => service_row(w, s).await,
        CatalogRecord::Offering(o) => offering(w, o).await,
        CatalogRecord::Unreadable(why) => Err(AppError::bad_input(why.clone())),
    }
}

async fn person(w: &mut Work, p: &PersonRow) -> AppResult<Outcome> {
    let email = validate::email("email", &p.email)?;
    let name = validate::text("name", &p.name, MAX_TITLE)?;
    let skills = p
        .skills
        .as_ref()
        .map(|s| validate::skills("skills", s))
        .transpose()?;
    let found = by_key::<person::Entity, _>(w.tx(), person::Column::Email, &email).await?;
    let Some(before) = found else {
        let row = person::ActiveModel {
            email: Set(email),
            name: Set(name),
            skills: Set(person::Skills(skills.unwrap_or_default())),
            created_at: Set(w.now),
            updated_at: Set(w.now),
            version: Set(1),
            ..Default::default()
        };
        inserted::<person::Entity, _>(w, row).await?;
        return Ok(Outcome::Created);
    };
    let mut am: person::ActiveModel = Default::default();
    let mut changed = differs(&mut am.name, &before.name, name);
    if let Some(s) = skills {
        changed |= differs(&mut am.skills, &before.skills, person::Skills(s));
    }
    updated::<person::Entity, _>(w, am, changed, &before, before.id, before.version).await
}

async fn partner(w: &mut Work, p: &PartnerRow) -> AppResult<Outcome> {
    let name = validate::text("name", &p.name, MAX_TITLE)?;
    let found = by_key::<partner::Entity, _>(w.tx(), partner::Column::Name, &name).await?;
    let Some(before) = found else {
        let row = partner::ActiveModel {
            name: Set(name),
            kind: Set(p.kind),
            created_at: Set(w.now),
            updated_at: Set(w.now),
            version: Set(1),
            ..Default::default()
        };
        inserted::<partner::Entity, _>(w, row).await?;
        return Ok(Outcome::Created);
    };
    let mut am: partner::ActiveModel = Default::default();
    let changed = differs(&mut am.kind, &before.kind, p.kind);
    updated::<partner::Entity, _>(w, am, changed, &before, before.id, before.version).await
}

/// Inserts `row`, audited as CREATED; returns it.
async fn inserted<E, A>(w: &Work, row: A) -> AppResult<E::Model>
where
    E: super::Versioned,
    E::Model: Serialize + sea_orm::IntoActiveModel<A> + crate::store::lookup::HasId,
    A: ActiveModelTrait<Entity = E> + sea_orm::ActiveModelBehavior + Send,
{
    use crate::store::lookup::HasId;
    let created = row.insert(w.tx()).await?;
    w.audit("CREATED", E::NAME, created.id(), None, Some(&created))
        .await?;
    Ok(created)
}

/// Saves `am` over row `id` when `changed` (version bumped, audited as UPDATED).
async fn updated<E, A>(
    w: &mut Work,
    am: A,
    changed: bool,
    before: &E::Model,
    id: i64,
    version: i32,
) -> AppResult<Outcome>
where
    E: super::Versioned,
    E::Model: Serialize,
    A: ActiveModelTrait<Entity = E> + Send,
    <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<i64>,
{
    if !changed {
        return Ok(Outcome::Unchanged);
    }
    let after = save::<E, A>(w, am, id, version).await?;
    w.audit("UPDATED", E::NAME, id, Some(before), Some(&after))
        .await?;
    Ok(Outcome::Updated)
}

async fn person_by_email(w: &Work, field: &str, email: &str) -> AppResult<i64> {
    let email = validate::email(field, email)?;
    by_key::<person::Entity, _>(w.tx(), person::Column::Email, &email)
        .await?
        .map(|p| p.id)
        .ok_or_else(|| AppError::not_found(format!("`{field}`: no person with e-mail {email}")))
}

async fn service_row(w: &mut Work, s: &ServiceRow) -> AppResult<Outcome> {
    let key = validate::key("key", &s.key)?;
    let name = validate::text("name", &s.name, MAX_TITLE)?;
    let description = s
        .description
        .as_deref()
        .map(|d| validate::long_text("description", d, MAX_DESCRIPTION))
        .transpose()?;
    let scope = s
        .scope
        .as_deref()
        .map(|v| validate::long_text("scope", v, MAX_TITLE))
        .transpose()?
        .filter(|v| !v.is_empty());
    let owner = match &s.owner_email {
        Some(e) if !e.trim().is_empty() => Some(person_by_email(w, "owner", e).await?),
        _ => None,
    };
    let partners = match &s.partners {
        Some(links) => Some(partner_links(w, links).await?),
        None => None,
    };
    let found = by_key::<service::Entity, _>(w.tx(), service::Column::Key, &key).await?;
    let Some(before) = found else {
        if s.lifecycle == Some(ServiceLifecycle::Retired) {
            return Err(AppError::bad_input(
                "a new service cannot start RETIRED".to_owned(),
            ));
        }
        let row = service::ActiveModel {
            key: Set(key),
            name: Set(name),
            description: Set(description.unwrap_or_default()),
            lifecycle: Set(s.lifecycle.unwrap_or(ServiceLifecycle::Pipeline)),
            criticality: Set(s.criticality.unwrap_or(Criticality::Medium)),
            owner_id: Set(owner),
            scope: Set(scope),
            created_at: Set(w.now),
            updated_at: Set(w.now),
            version: Set(1),
            ..Default::default()
        };
        let created = inserted::<service::Entity, _>(w, row).await?;
        if let Some(links) = partners {
            link_partners(w, created.id, &links).await?;
        }
        return Ok(Outcome::Created);
    };
    if s.lifecycle == Some(ServiceLifecycle::Retired)
        && before.lifecycle != ServiceLifecycle::Retired
    {
        return Err(AppError::bad_input(format!(
            "service `{}` is not retired by an import: retire it with `updateService`, which checks its open changes",
            before.key
        )));
    }
    let mut am: service::ActiveModel = Default::default();
    let mut changed = differs(&mut am.name, &before.name, name);
    if let Some(d) = description {
        changed |= differs(&mut am.description, &before.description, d);
    }
    if let Some(l) = s.lifecycle {
        changed |= differs(&mut am.lifecycle, &before.lifecycle, l);
    }
    if let Some(c) = s.criticality {
        changed |= differs(&mut am.criticality, &before.criticality, c);
    }
    if s.owner_email.is_some() {
        changed |= differs(&mut am.owner_id, &before.owner_id, owner);
    }
    if s.scope.is_some() {
        changed |= differs(&mut am.scope, &before.scope, scope);
    }
    if let Some(links) = partners {
        let current: BTreeSet<(i64, String, Option<String>)> = service_partner::Entity::find()
            .filter(service_partner::Column::ServiceId.eq(before.id))
            .all(w.tx())
            .await?
            .into_iter()
            .map(|l| (l.partner_id, l.role, l.contract_ref))
            .collect();
        if current != links.iter().cloned().collect() {
            service_partner::Entity::delete_many()
                .filter(service_partner::Column::ServiceId.eq(before.id))
                .exec(w.tx())
                .await?;
            link_partners(w, before.id, &links).await?;
            changed = true;
        }
    }
    updated::<service::Entity, _>(w, am, changed, &before, before.id, before.version).await
}

/// The partner links of a row, with partner ids (all looked up in one statement), checked.
async fn partner_links(
    w: &Work,
    links: &[PartnerLinkRow],
) -> AppResult<Vec<(i64, String, Option<String>)>> {
    validate::list("partners", links)?;
    let mut checked = Vec::with_capacity(links.len());
    for l in links {
        let name = validate::text("partners.partner", &l.partner, MAX_TITLE)?;
        let role = validate::text("partners.role", &l.role, MAX_TITLE)?;
        let contract = l
            .contract
            .as_deref()
            .map(|c| validate::long_text("partners.contract", c, MAX_TITLE))
            .transpose()?
            .filter(|c| !c.is_empty());
        checked.push((name, role, contract));
    }
    let names = checked.iter().map(|(n, _, _)| n.clone());
    let ids: HashMap<String, i64> = partner::Entity::find()
        .filter(partner::Column::Name.is_in(names))
        .all(w.tx())
        .await?
        .into_iter()
        .map(|p| (p.name, p.id))
        .collect();
    let mut out: Vec<(i64, String, Option<String>)> = Vec::with_capacity(checked.len());
    for (name, role, contract) in checked {
        let id = *ids
            .get(&name)
            .ok_or_else(|| AppError::not_found(format!("`partners`: no partner named {name:?}")))?;
        if out.iter().any(|(p, _, _)| *p == id) {
            return Err(AppError::bad_input(format!(
                "`partners`: {name:?} is listed twice"
            )));
        }
        out.push((id, role, contract));
    }
    Ok(out)
}

async fn link_partners(
    w: &Work,
    service_id: i64,
    links: &[(i64, String, Option<String>)],
) -> AppResult<()> {
    if links.is_empty() {
        return Ok(());
    }
    service_partner::Entity::insert_many(links.iter().map(|(p, role, contract)| {
        service_partner::ActiveModel {
            service_id: Set(service_id),
            partner_id: Set(*p),
            role: Set(role.clone()),
            contract_ref: Set(contract.clone()),
            created_at: Set(w.now),
        }
    }))
    .exec_without_returning(w.tx())
    .await?;
    Ok(())
}

async fn offering(w: &mut Work, o: &OfferingRow) -> AppResult<Outcome> {
    let key = validate::key("key", &o.key)?;
    let name = validate::text("name", &o.name, MAX_TITLE)?;
    let description = o
        .description
        .as_deref()
        .map(|d| validate::long_text("description", d, MAX_DESCRIPTION))
        .transpose()?;
    let group = o
        .target_consumer_group
        .as_deref()
        .map(|g| validate::text("targetConsumerGroup", g, MAX_TITLE))
        .transpose()?;
    let services = match &o.services {
        Some(keys) => {
            validate::list("services", keys)?;
            let found: HashMap<String, i64> = service::Entity::find()
                .filter(service::Column::Key.is_in(keys.iter().map(|k| k.trim())))
                .all(w.tx())
                .await?
                .into_iter()
                .map(|s| (s.key, s.id))
                .collect();
            let mut ids = BTreeSet::new();
            for k in keys {
                let id = found.get(k.trim()).ok_or_else(|| {
                    AppError::not_found(format!("`services`: no service with key {k:?}"))
                })?;
                ids.insert(*id);
            }
            Some(ids)
        }
        None => None,
    };
    let components = match &o.components {
        Some(list) => {
            validate::list("components", list)?;
            let mut out = Vec::with_capacity(list.len());
            for c in list {
                out.push(ComponentRow {
                    kind: c.kind,
                    name: validate::text("components.name", &c.name, MAX_TITLE)?,
                    description: validate::long_text(
                        "components.description",
                        &c.description,
                        MAX_DESCRIPTION,
                    )?,
                });
            }
            sort_components(&mut out);
            Some(out)
        }
        None => None,
    };
    let found =
        by_key::<service_offering::Entity, _>(w.tx(), service_offering::Column::Key, &key).await?;
    let Some(before) = found else {
        let row = service_offering::ActiveModel {
            key: Set(key),
            name: Set(name),
            description: Set(description.unwrap_or_default()),
            target_consumer_group: Set(group.ok_or_else(|| {
                AppError::bad_input("`targetConsumerGroup` is required for a new offering")
            })?),
            status: Set(o.status.unwrap_or(OfferingStatus::Draft)),
            created_at: Set(w.now),
            updated_at: Set(w.now),
            version: Set(1),
            ..Default::default()
        };
        let created = inserted::<service_offering::Entity, _>(w, row).await?;
        if let Some(ids) = &services {
            link_services(w, created.id, ids).await?;
        }
        if let Some(list) = &components {
            add_components(w, created.id, list).await?;
        }
        return Ok(Outcome::Created);
    };
    let mut am: service_offering::ActiveModel = Default::default();
    let mut changed = differs(&mut am.name, &before.name, name);
    if let Some(d) = description {
        changed |= differs(&mut am.description, &before.description, d);
    }
    if let Some(g) = group {
        changed |= differs(
            &mut am.target_consumer_group,
            &before.target_consumer_group,
            g,
        );
    }
    if let Some(s) = o.status {
        changed |= differs(&mut am.status, &before.status, s);
    }
    if let Some(ids) = &services {
        let current: BTreeSet<i64> = offering_service::Entity::find()
            .filter(offering_service::Column::OfferingId.eq(before.id))
            .all(w.tx())
            .await?
            .into_iter()
            .map(|l| l.service_id)
            .collect();
        if current != *ids {
            offering_service::Entity::delete_many()
                .filter(offering_service::Column::OfferingId.eq(before.id))
                .exec(w.tx())
                .await?;
            link_services(w, before.id, ids).await?;
            changed = true;
        }
    }
    if let Some(list) = &components {
        let mut current: Vec<ComponentRow> = offering_component::Entity::find()
            .filter(offering_component::Column::OfferingId.eq(before.id))
            .all(w.tx())
            .await?
            .into_iter()
            .map(|c| ComponentRow {
                kind: c.kind,
                name: c.name,
                description: c.description,
            })
            .collect();
        sort_components(&mut current);
        if current != *list {
            offering_component::Entity::delete_many()
                .filter(offering_component::Column::OfferingId.eq(before.id))
                .exec(w.tx())
                .await?;
            add_components(w, before.id, list).await?;
            changed = true;
        }
    }
    updated::<service_offering::Entity, _>(w, am, changed, &before, before.id, before.version).await
}

/// Components in a canonical order, to compare them as sets.
fn sort_components(list: &mut [ComponentRow]) {
    list.sort_by(|a, b| {
        (a.kind.as_str(), &a.name, &a.description).cmp(&(b.kind.as_str(), &b.name, &b.description))
    });
}

async fn link_services(w: &Work, offering_id: i64, ids: &BTreeSet<i64>) -> AppResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    offering_service::Entity::insert_many(ids.iter().map(|s| offering_service::ActiveModel {
        offering_id: Set(offering_id),
        service_id: Set(*s),
        created_at: Set(w.now),
    }))
    .exec_without_returning(w.tx())
    .await?;
    Ok(())
}

async fn add_components(w: &Work, offering_id: i64, list: &[ComponentRow]) -> AppResult<()> {
    if list.is_empty() {
        return Ok(());
    }
    offering_component::Entity::insert_many(list.iter().map(|c| offering_component::ActiveModel {
        offering_id: Set(offering_id),
        kind: Set(c.kind),
        name: Set(c.name.clone()),
        description: Set(c.description.clone()),
        created_at: Set(w.now),
        updated_at: Set(w.now),
        version: Set(1),
        ..Default::default()
    }))
    .exec_without_returning(w.tx())
    .await?;
    Ok(())
}
