//! The demo as a document, `demo.toml`, where entries name one another by handle, partner
//! name and key: the reference data — people, partners, services, offerings, processes,
//! projects and change models — inserted here in the document's order, every row stamped
//! with its section's day of the demo calendar; and the changes and releases, which
//! `demo.rs` loads.

use std::collections::HashMap;

use chrono::{DateTime, Timelike, Utc};
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
    /// Region or business unit; scoped process roles cover the services of their scope.
    scope: Option<String>,
    /// When its owner retired it, once the changes that touched it were done.
    retired: Option<Relative>,
    #[serde(default)]
    partners: Vec<PartnerLink>,
    #[serde(default)]
    depends_on: Vec<Dependency>,
}

/// A service this one depends on, by key.
#[derive(Deserialize)]
struct Dependency {
    service: String,
    kind: DependencyKind,
    note: Option<String>,
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
    /// When its manager closed it, once its changes were done.
    closed: Option<Relative>,
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

/// A planned window, from `start` to `end`.
#[derive(Clone, Copy, Deserialize)]
pub struct Window {
    pub start: Relative,
    pub end: Relative,
}

/// A time relative to the day the demo is loaded, written `+9d 20:00`, `-25d 18:00` or
/// `-3d` (midnight), in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Relative {
    days: i64,
    minutes: i64,
}

impl Relative {
    /// The time on the calendar whose day 0 starts at `day0`.
    pub fn on(self, day0: DateTime<Utc>) -> DateTime<Utc> {
        day0 + chrono::Duration::days(self.days) + chrono::Duration::minutes(self.minutes)
    }

    /// The day, relative to the day of loading.
    pub fn day(self) -> i64 {
        self.days
    }
}

impl TryFrom<String> for Relative {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        let bad = || format!("`{text}` is not a relative time like \"+9d 20:00\" or \"-3d\"");
        let (day, clock) = match text.split_once(' ') {
            Some((day, clock)) => (day, Some(clock)),
            None => (text.as_str(), None),
        };
        let days: i64 = day
            .strip_suffix('d')
            .filter(|d| d.starts_with(['+', '-']))
            .and_then(|d| d.parse().ok())
            .ok_or_else(bad)?;
        let minutes = match clock {
            None => 0,
            Some(clock) => {
                let t = chrono::NaiveTime::parse_from_str(clock, "%H:%M").map_err(|_| bad())?;
                i64::from(t.num_seconds_from_midnight() / 60)
            }
        };
        Ok(Self { days, minutes })
    }
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
    pub planned: Relative,
    pub deployed: Option<Relative>,
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

/// A service retired by its owner, or a project closed by its manager, at a time.
pub enum Ending {
    Service { id: i64, owner: i64, at: Relative },
    Project { id: i64, manager: i64, at: Relative },
}

/// The reference data as loaded, and the changes and releases still to load.
pub struct Loaded {
    pub ids: Ids,
    /// What ends after the history: services retired and projects closed once their
    /// changes are done, in the document's order.
    pub endings: Vec<Ending>,
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
    let mut endings = Vec::new();
    let mut lifecycles = HashMap::new();
    let mut dependencies = Vec::new();
    for s in doc.services {
        let owner = id(&ids.people, "person", &s.owner)?;
        let m = service::ActiveModel {
            key: Set(s.key.clone()),
            name: Set(s.name),
            description: Set(s.description),
            lifecycle: Set(s.lifecycle),
            criticality: Set(s.criticality),
            owner_id: Set(Some(owner)),
            scope: Set(s.scope),
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
        lifecycles.insert(s.key.clone(), s.lifecycle);
        dependencies.push((s.key.clone(), s.depends_on));
        if let Some(at) = s.retired {
            endings.push(Ending::Service {
                id: m.id,
                owner,
                at,
            });
        }
        ids.services.insert(s.key, m.id);
    }
    // Dependencies once every service exists: they may point forward, and form cycles.
    for (key, deps) in &dependencies {
        for d in deps {
            service_dependency::ActiveModel {
                service_id: Set(id(&ids.services, "service", key)?),
                depends_on_id: Set(id(&ids.services, "service", &d.service)?),
                kind: Set(d.kind),
                note: Set(d.note.clone()),
                created_at: Set(at(-57, 1)),
            }
            .insert(db)
            .await?;
        }
    }
    for o in doc.offerings {
        // The rule the use cases keep: a published offering holds LIVE services only.
        if o.status == OfferingStatus::Published
            && let Some(s) = o
                .services
                .iter()
                .find(|s| lifecycles.get(*s) != Some(&ServiceLifecycle::Live))
        {
            return Err(AppError::Internal(format!(
                "demo.toml: offering `{}` is PUBLISHED but holds `{s}`, which is not LIVE",
                o.key
            )));
        }
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
        let manager = id(&ids.people, "person", &p.manager)?;
        let m = project::ActiveModel {
            code: Set(p.code.clone()),
            name: Set(p.name),
            status: Set(p.status),
            manager_id: Set(Some(manager)),
            created_at: Set(at(-45, 0)),
            updated_at: Set(at(-45, 0)),
            version: Set(1),
            ..Default::default()
        }
        .insert(db)
        .await?;
        if let Some(at) = p.closed {
            endings.push(Ending::Project {
                id: m.id,
                manager,
                at,
            });
        }
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
        endings,
        changes: doc.changes,
        releases: doc.releases,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Relative, String> {
        Relative::try_from(text.to_owned())
    }

    #[test]
    fn relative_times_read_days_and_clock_hours_and_refuse_anything_else() {
        assert_eq!(
            parse("+9d 20:00"),
            Ok(Relative {
                days: 9,
                minutes: 1200
            })
        );
        assert_eq!(
            parse("-25d 18:30"),
            Ok(Relative {
                days: -25,
                minutes: 1110
            })
        );
        assert_eq!(
            parse("-3d"),
            Ok(Relative {
                days: -3,
                minutes: 0
            })
        );
        for bad in ["9d", "+9 20:00", "+9d 25:00", "+9d20:00", "yesterday", ""] {
            assert!(parse(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn the_document_parses_and_names_only_what_it_defines() {
        let doc: Document = toml::from_str(DOCUMENT).expect("demo.toml parses");
        let numbers: Vec<String> = (1..=doc.changes.len())
            .map(|n| format!("CHG{n:07}"))
            .collect();
        for r in &doc.releases {
            for c in &r.changes {
                assert!(numbers.contains(c), "release {} names {c}", r.name);
            }
        }
        let handles: Vec<&str> = doc.people.iter().map(|p| p.handle.as_str()).collect();
        for c in &doc.changes {
            assert!(handles.contains(&c.requester.as_str()), "{}", c.title);
        }
    }
}
