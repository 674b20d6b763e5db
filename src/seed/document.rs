//! The demo as a document, `demo.toml`, where entries name one another by handle, partner
//! name and key: the reference data — people, partners, services, offerings, processes,
//! projects and change models — inserted here in the document's order, every row stamped
//! with its section's day of the demo calendar; and the changes and releases, which
//! `demo.rs` loads.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::*;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use serde::Deserialize;

use crate::error::{AppError, AppResult};

/// The document, compiled into the binary.
const DOCUMENT: &str = include_str!("demo.toml");

#[derive(Deserialize)]
struct Document {
    people: Vec<Person>,
    partners: Vec<Partner>,
    services: Vec<Service>,
    offerings: Vec<Offering>,
    processes: Vec<Process>,
    projects: Vec<Project>,
    change_models: Vec<ChangeModel>,
    changes: Vec<DemoChange>,
    releases: Vec<DemoRelease>,
}

#[derive(Deserialize)]
struct Person {
    handle: String,
    name: String,
    skills: Vec<String>,
}

#[derive(Deserialize)]
struct Partner {
    name: String,
    kind: PartnerKind,
}

#[derive(Deserialize)]
struct Service {
    key: String,
    name: String,
    description: String,
    lifecycle: ServiceLifecycle,
    criticality: Criticality,
    owner: String,
    #[serde(default)]
    partners: Vec<PartnerLink>,
}

#[derive(Deserialize)]
struct PartnerLink {
    partner: String,
    role: String,
    contract: Option<String>,
}

#[derive(Deserialize)]
struct Offering {
    key: String,
    name: String,
    description: String,
    target_consumer_group: String,
    status: OfferingStatus,
    services: Vec<String>,
    components: Vec<Component>,
}

#[derive(Deserialize)]
struct Component {
    kind: OfferingComponentKind,
    name: String,
    description: String,
}

#[derive(Deserialize)]
struct Process {
    key: String,
    name: String,
    description: String,
    policies: Vec<String>,
    roles: Vec<Role>,
}

#[derive(Deserialize)]
struct Role {
    person: String,
    role: ProcessRole,
    scope: Option<String>,
}

#[derive(Deserialize)]
struct Project {
    code: String,
    name: String,
    status: ProjectStatus,
    manager: String,
}

#[derive(Deserialize)]
struct ChangeModel {
    key: String,
    name: String,
    description: String,
    change_type: ChangeType,
    max_risk: RiskLevel,
    pre_approved: bool,
    required_approvals: i32,
}

/// A change of the demo: what it is, where it stands, who asked, on what.
#[derive(Deserialize)]
pub struct DemoChange {
    pub title: String,
    pub category: ChangeCategory,
    #[serde(rename = "type")]
    pub change_type: ChangeType,
    pub risk: RiskLevel,
    pub status: ChangeStatus,
    pub services: Vec<String>,
    pub project: Option<String>,
    pub model: Option<String>,
    pub requester: String,
    /// A planned window the story needs; otherwise one is derived.
    pub window: Option<Window>,
}

/// A planned window on the demo calendar: a day and the hours it starts and ends (an end
/// past 24 runs into the next day).
#[derive(Deserialize)]
pub struct Window {
    pub day: i64,
    pub start_hour: i64,
    pub end_hour: i64,
}

/// A release of the demo.
#[derive(Deserialize)]
pub struct DemoRelease {
    pub name: String,
    pub version: String,
    #[serde(rename = "type")]
    pub release_type: ReleaseType,
    pub status: ReleaseStatus,
    pub project: Option<String>,
    /// The release it follows, as "name version".
    pub previous: Option<String>,
    /// Change numbers.
    pub changes: Vec<String>,
    pub planned_day: i64,
    pub deployed_day: Option<i64>,
}

/// The rows the rest of the demo refers to, by name.
#[derive(Default)]
pub struct Ids {
    pub people: HashMap<String, i64>,
    pub services: HashMap<String, i64>,
    pub projects: HashMap<String, i64>,
    pub models: HashMap<String, i64>,
    pub offerings: usize,
}

/// The reference data as loaded, and the changes and releases still to load.
pub struct Loaded {
    pub ids: Ids,
    pub changes: Vec<DemoChange>,
    pub releases: Vec<DemoRelease>,
}

/// Looks `name` up among the `what` loaded so far.
fn id(ids: &HashMap<String, i64>, what: &str, name: &str) -> AppResult<i64> {
    ids.get(name)
        .copied()
        .ok_or_else(|| AppError::Internal(format!("demo.toml: no {what} `{name}`")))
}

/// Inserts the document's rows; `at(day, hour)` is the demo calendar.
pub async fn load<C: ConnectionTrait>(
    db: &C,
    at: impl Fn(i64, i64) -> DateTime<Utc>,
) -> AppResult<Loaded> {
    let doc: Document = toml::from_str(DOCUMENT)
        .map_err(|e| AppError::Internal(format!("demo.toml does not parse: {e}")))?;
    let mut ids = Ids::default();
    for p in doc.people {
        let m = person::ActiveModel {
            name: Set(p.name),
            email: Set(format!("{}@portfolio.example", p.handle)),
            skills: Set(person::Skills(p.skills)),
            created_at: Set(at(-60, 0)),
            updated_at: Set(at(-60, 0)),
            version: Set(1),
            ..Default::default()
        }
        .insert(db)
        .await?;
        ids.people.insert(p.handle, m.id);
    }
    let mut partners = HashMap::new();
    for p in doc.partners {
        let m = partner::ActiveModel {
            name: Set(p.name.clone()),
            kind: Set(p.kind),
            created_at: Set(at(-59, 0)),
            updated_at: Set(at(-59, 0)),
            version: Set(1),
            ..Default::default()
        }
        .insert(db)
        .await?;
        partners.insert(p.name, m.id);
    }
    for s in doc.services {
        let m = service::ActiveModel {
            key: Set(s.key.clone()),
            name: Set(s.name),
            description: Set(s.description),
            lifecycle: Set(s.lifecycle),
            criticality: Set(s.criticality),
            owner_id: Set(Some(id(&ids.people, "person", &s.owner)?)),
            created_at: Set(at(-58, 0)),
            updated_at: Set(at(-58, 0)),
            version: Set(1),
            ..Default::default()
        }
        .insert(db)
        .await?;
        for link in s.partners {
            service_partner::ActiveModel {
                service_id: Set(m.id),
                partner_id: Set(id(&partners, "partner", &link.partner)?),
                role: Set(link.role),
                contract_ref: Set(link.contract),
                created_at: Set(at(-57, 0)),
            }
            .insert(db)
            .await?;
        }
        ids.services.insert(s.key, m.id);
    }
    for o in doc.offerings {
        let m = service_offering::ActiveModel {
            key: Set(o.key),
            name: Set(o.name),
            description: Set(o.description),
            target_consumer_group: Set(o.target_consumer_group),
            status: Set(o.status),
            created_at: Set(at(-55, 0)),
            updated_at: Set(at(-55, 0)),
            version: Set(1),
            ..Default::default()
        }
        .insert(db)
        .await?;
        for s in o.services {
            offering_service::ActiveModel {
                offering_id: Set(m.id),
                service_id: Set(id(&ids.services, "service", &s)?),
                created_at: Set(at(-55, 1)),
            }
            .insert(db)
            .await?;
        }
        for c in o.components {
            offering_component::ActiveModel {
                offering_id: Set(m.id),
                kind: Set(c.kind),
                name: Set(c.name),
                description: Set(c.description),
                created_at: Set(at(-55, 2)),
                updated_at: Set(at(-55, 2)),
                version: Set(1),
                ..Default::default()
            }
            .insert(db)
            .await?;
        }
        ids.offerings += 1;
    }
    for p in doc.processes {
        let m = process::ActiveModel {
            key: Set(p.key),
            name: Set(p.name),
            description: Set(p.description),
            created_at: Set(at(-50, 0)),
            updated_at: Set(at(-50, 0)),
            version: Set(1),
            ..Default::default()
        }
        .insert(db)
        .await?;
        for r in p.roles {
            process_role_assignment::ActiveModel {
                process_id: Set(m.id),
                person_id: Set(id(&ids.people, "person", &r.person)?),
                role: Set(r.role),
                scope: Set(r.scope),
                created_at: Set(at(-50, 1)),
                updated_at: Set(at(-50, 1)),
                version: Set(1),
                ..Default::default()
            }
            .insert(db)
            .await?;
        }
        for statement in p.policies {
            policy::ActiveModel {
                process_id: Set(m.id),
                statement: Set(statement),
                created_at: Set(at(-50, 2)),
                updated_at: Set(at(-50, 2)),
                version: Set(1),
                ..Default::default()
            }
            .insert(db)
            .await?;
        }
    }
    for p in doc.projects {
        let m = project::ActiveModel {
            code: Set(p.code.clone()),
            name: Set(p.name),
            status: Set(p.status),
            manager_id: Set(Some(id(&ids.people, "person", &p.manager)?)),
            created_at: Set(at(-45, 0)),
            updated_at: Set(at(-45, 0)),
            version: Set(1),
            ..Default::default()
        }
        .insert(db)
        .await?;
        ids.projects.insert(p.code, m.id);
    }
    for cm in doc.change_models {
        let m = change_model::ActiveModel {
            key: Set(cm.key.clone()),
            name: Set(cm.name),
            description: Set(cm.description),
            change_type: Set(cm.change_type),
            max_risk: Set(cm.max_risk),
            pre_approved: Set(cm.pre_approved),
            required_approvals: Set(cm.required_approvals),
            created_at: Set(at(-44, 0)),
            updated_at: Set(at(-44, 0)),
            version: Set(1),
            ..Default::default()
        }
        .insert(db)
        .await?;
        ids.models.insert(cm.key, m.id);
    }
    Ok(Loaded {
        ids,
        changes: doc.changes,
        releases: doc.releases,
    })
}
