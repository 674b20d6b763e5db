//! The synthetic portfolio for benchmarks: deterministic (the same scale gives the same
//! rows, byte for byte), consistent with the governance rules (approvals by deciders who
//! did not request the change, each change in at most one live release, releases whose
//! status matches their changes'), and loaded in batched inserts, one transaction per batch.
//!
//! Scale 1: 500 people, 50 partners, 1,000 services, 300 offerings of 3–8 services with
//! components, 100 projects, 10 change models, 20,000 changes touching 1–3 services with
//! approvals and audit events, 3,000 releases packaging 1–10 changes, some sequential;
//! about 3 dependencies per service, most on 20 platform services, with cycles.

use std::fmt;

use chrono::{DateTime, Duration, TimeZone, Utc};
use entity::*;
use indicatif::ProgressBar;
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, TransactionTrait,
};
use serde_json::json;

use crate::bulk;
use crate::domain::rules;
use crate::error::AppResult;

/// Most bound parameters one statement carries (below SQLite's 32,766; PostgreSQL allows 65,535).
/// Rows per transaction: large enough to amortise commits, small enough to show progress.
const ROWS_PER_TXN: usize = 5_000;

/// What a load inserted.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub people: usize,
    pub services: usize,
    pub offerings: usize,
    pub changes: usize,
    pub releases: usize,
    pub rows: usize,
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} people, {} services, {} offerings, {} changes, {} releases ({} rows in all)",
            self.people, self.services, self.offerings, self.changes, self.releases, self.rows
        )
    }
}

/// Day 0 of the synthetic calendar.
fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 6, 8, 0, 0)
        .single()
        .unwrap_or_default()
}

const FIRST: [&str; 20] = [
    "Ada", "Ben", "Chloe", "Dmitri", "Elena", "Femi", "Gita", "Hugo", "Ivy", "Jamal", "Kira",
    "Luis", "Maya", "Noor", "Oscar", "Priya", "Quentin", "Rosa", "Sven", "Tariq",
];
const LAST: [&str; 20] = [
    "Abbott", "Banerjee", "Castro", "Dubois", "Eriksen", "Fischer", "Garcia", "Hansen", "Ito",
    "Jensen", "Kowalski", "Larsen", "Moreau", "Nakamura", "Okafor", "Petrov", "Quinn", "Rossi",
    "Silva", "Tanaka",
];
const SKILLS: [&str; 12] = [
    "networking",
    "databases",
    "cloud platforms",
    "service desk",
    "security",
    "release engineering",
    "change coordination",
    "project management",
    "identity",
    "storage",
    "observability",
    "application support",
];
const NOUNS: [&str; 16] = [
    "billing",
    "identity",
    "mail",
    "storage",
    "network",
    "payroll",
    "portal",
    "search",
    "backup",
    "reporting",
    "messaging",
    "printing",
    "telephony",
    "wiki",
    "crm",
    "erp",
];
const VERBS: [&str; 10] = [
    "Upgrade",
    "Patch",
    "Migrate",
    "Reconfigure",
    "Scale out",
    "Decommission part of",
    "Harden",
    "Document",
    "Renew certificates of",
    "Tune",
];

/// The generator: one seeded stream, so the rows depend only on the scale.
struct Gen {
    rng: fastrand::Rng,
    scale: usize,
}

impl Gen {
    fn new(scale: usize) -> Self {
        Self {
            rng: fastrand::Rng::with_seed(0x5e9_7f01 + scale as u64),
            scale,
        }
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.usize(..items.len())]
    }

    /// `k` distinct values of `1..=n`.
    fn distinct(&mut self, n: usize, k: usize) -> Vec<i64> {
        let mut out: Vec<i64> = Vec::with_capacity(k);
        while out.len() < k.min(n) {
            let v = self.rng.usize(1..=n) as i64;
            if !out.contains(&v) {
                out.push(v);
            }
        }
        out
    }
}

/// Loads the synthetic portfolio at `scale` into an empty database.
pub async fn load(db: &DatabaseConnection, scale: usize) -> AppResult<Counts> {
    let scale = scale.max(1);
    let mut g = Gen::new(scale);
    let plan = plan(&mut g);
    let total = plan.rows();
    let counts = Counts {
        people: plan.people.len(),
        services: plan.services.len(),
        offerings: plan.offerings.len(),
        changes: plan.changes.len(),
        releases: plan.releases.len(),
        rows: total,
    };
    let bar = bulk::progress(total as u64);
    insert(db, &bar, "people", plan.people).await?;
    insert(db, &bar, "partners", plan.partners).await?;
    insert(db, &bar, "services", plan.services).await?;
    insert(db, &bar, "dependencies", plan.service_dependencies).await?;
    insert(db, &bar, "service partners", plan.service_partners).await?;
    insert(db, &bar, "offerings", plan.offerings).await?;
    insert(db, &bar, "offering services", plan.offering_services).await?;
    insert(db, &bar, "components", plan.components).await?;
    insert(db, &bar, "processes", plan.processes).await?;
    insert(db, &bar, "roles", plan.roles).await?;
    insert(db, &bar, "policies", plan.policies).await?;
    insert(db, &bar, "projects", plan.projects).await?;
    insert(db, &bar, "change models", plan.models).await?;
    insert(db, &bar, "changes", plan.changes).await?;
    insert(db, &bar, "change services", plan.change_services).await?;
    insert(db, &bar, "approvals", plan.approvals).await?;
    insert(db, &bar, "releases", plan.releases).await?;
    insert(db, &bar, "release changes", plan.release_changes).await?;
    insert(db, &bar, "release services", plan.release_services).await?;
    insert(db, &bar, "audit events", plan.audit).await?;
    bar.finish_with_message("done");
    bulk::advance_sequences(db).await?;
    // Fresh statistics, so the planner knows the tables' sizes from the first query on; on
    // PostgreSQL also the visibility map, without which index-only scans visit the heap.
    let refresh = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => "VACUUM ANALYZE",
        _ => "ANALYZE",
    };
    db.execute_unprepared(refresh).await?;
    Ok(counts)
}

/// Inserts `rows`, one transaction per [`ROWS_PER_TXN`] rows.
async fn insert<A>(
    db: &DatabaseConnection,
    bar: &ProgressBar,
    what: &'static str,
    rows: Vec<A>,
) -> AppResult<()>
where
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
{
    bar.set_message(what);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(ROWS_PER_TXN).collect();
        let txn = db.begin().await?;
        bulk::insert_rows(&txn, bar, chunk).await?;
        txn.commit().await?;
    }
    Ok(())
}

/// Every row to insert, as active models with all fields set.
#[derive(Default)]
struct Plan {
    people: Vec<person::ActiveModel>,
    partners: Vec<partner::ActiveModel>,
    services: Vec<service::ActiveModel>,
    service_dependencies: Vec<service_dependency::ActiveModel>,
    service_partners: Vec<service_partner::ActiveModel>,
    offerings: Vec<service_offering::ActiveModel>,
    offering_services: Vec<offering_service::ActiveModel>,
    components: Vec<offering_component::ActiveModel>,
    processes: Vec<process::ActiveModel>,
    roles: Vec<process_role_assignment::ActiveModel>,
    policies: Vec<policy::ActiveModel>,
    projects: Vec<project::ActiveModel>,
    models: Vec<change_model::ActiveModel>,
    changes: Vec<change::ActiveModel>,
    change_services: Vec<change_service::ActiveModel>,
    approvals: Vec<approval::ActiveModel>,
    releases: Vec<release::ActiveModel>,
    release_changes: Vec<release_change::ActiveModel>,
    release_services: Vec<release_service::ActiveModel>,
    audit: Vec<audit_event::ActiveModel>,
}

impl Plan {
    fn rows(&self) -> usize {
        self.people.len()
            + self.partners.len()
            + self.services.len()
            + self.service_dependencies.len()
            + self.service_partners.len()
            + self.offerings.len()
            + self.offering_services.len()
            + self.components.len()
            + self.processes.len()
            + self.roles.len()
            + self.policies.len()
            + self.projects.len()
            + self.models.len()
            + self.changes.len()
            + self.change_services.len()
            + self.approvals.len()
            + self.releases.len()
            + self.release_changes.len()
            + self.release_services.len()
            + self.audit.len()
    }
}

/// A model with every field marked for insertion.
fn row<M, A>(m: M) -> A
where
    M: IntoActiveModel<A>,
    A: ActiveModelTrait,
{
    m.into_active_model().reset_all()
}

/// People 1..=5 manage and own change-management, 6..=20 practise it; 21 owns
/// release-management and 22..=24 manage it.
const CM_DECIDERS: std::ops::RangeInclusive<i64> = 1..=5;

fn plan(g: &mut Gen) -> Plan {
    let s = g.scale;
    let t0 = epoch();
    let mut p = Plan::default();
    let n_people = 500 * s;
    for i in 1..=n_people {
        let first = FIRST[(i - 1) % FIRST.len()];
        let last = LAST[((i - 1) / FIRST.len()) % LAST.len()];
        let skills = (0..g.rng.usize(1..=3))
            .map(|_| g.pick(&SKILLS).to_string())
            .collect::<Vec<_>>();
        p.people.push(row(person::Model {
            id: i as i64,
            name: format!("{first} {last} {i}"),
            email: format!("person{i}@synthetic.example"),
            skills: person::Skills(skills),
            created_at: t0,
            updated_at: t0,
            version: 1,
        }));
    }
    let n_partners = 50 * s;
    for i in 1..=n_partners {
        let kind = *g.pick(&[
            PartnerKind::Supplier,
            PartnerKind::Manufacturer,
            PartnerKind::Vendor,
        ]);
        p.partners.push(row(partner::Model {
            id: i as i64,
            name: format!("Partner {i} {}", g.pick(&NOUNS)),
            kind,
            created_at: t0,
            updated_at: t0,
            version: 1,
        }));
    }
    let n_services = 1000 * s;
    // Indexed by service id (0 unused).
    let mut retired = vec![false];
    for i in 1..=n_services {
        let roll = g.rng.u8(..100);
        let lifecycle = match roll {
            0..=79 => ServiceLifecycle::Live,
            80..=94 => ServiceLifecycle::Pipeline,
            _ => ServiceLifecycle::Retired,
        };
        retired.push(lifecycle == ServiceLifecycle::Retired);
        let criticality = *g.pick(&[
            Criticality::Low,
            Criticality::Medium,
            Criticality::High,
            Criticality::Critical,
        ]);
        let noun = g.pick(&NOUNS);
        p.services.push(row(service::Model {
            id: i as i64,
            key: format!("svc-{i:05}"),
            name: format!("{} service {i}", capitalise(noun)),
            description: format!("The {noun} capability of business unit {}.", i % 40),
            lifecycle,
            criticality,
            owner_id: Some(g.rng.usize(1..=n_people) as i64),
            created_at: t0,
            updated_at: t0,
            version: 1,
            // From the index, not the generator, so every other row stays as it was.
            scope: Some(["EMEA", "Americas", "APAC"][i % 3].to_owned()),
        }));
        let links = g.rng.usize(0..=2);
        for partner_id in g.distinct(n_partners, links) {
            p.service_partners.push(row(service_partner::Model {
                service_id: i as i64,
                partner_id,
                role: g
                    .pick(&["hosting", "licences", "support", "hardware"])
                    .to_string(),
                contract_ref: Some(format!("CT-{i:05}-{partner_id}")),
                created_at: t0,
            }));
        }
    }
    let n_offerings = 300 * s;
    let mut component_id = 0;
    for i in 1..=n_offerings {
        let status = match g.rng.u8(..10) {
            0 => OfferingStatus::Draft,
            1 => OfferingStatus::Withdrawn,
            _ => OfferingStatus::Published,
        };
        p.offerings.push(row(service_offering::Model {
            id: i as i64,
            key: format!("offering-{i:04}"),
            name: format!("{} bundle {i}", capitalise(g.pick::<&str>(&NOUNS))),
            description: format!("Everything group {} needs for {}.", i % 25, g.pick(&NOUNS)),
            target_consumer_group: format!("Consumer group {}", i % 25),
            status,
            created_at: t0,
            updated_at: t0,
            version: 1,
        }));
        let k = g.rng.usize(3..=8);
        for service_id in g.distinct(n_services, k) {
            p.offering_services.push(row(offering_service::Model {
                offering_id: i as i64,
                service_id,
                created_at: t0,
            }));
        }
        for _ in 0..g.rng.usize(1..=3) {
            component_id += 1;
            let kind = *g.pick(&[
                OfferingComponentKind::Goods,
                OfferingComponentKind::AccessToResource,
                OfferingComponentKind::ServiceAction,
            ]);
            p.components.push(row(offering_component::Model {
                id: component_id,
                offering_id: i as i64,
                kind,
                name: format!("Component {component_id}"),
                description: String::new(),
                created_at: t0,
                updated_at: t0,
                version: 1,
            }));
        }
    }
    plan_processes(&mut p, t0);
    let n_projects = 100 * s;
    for i in 1..=n_projects {
        let status = match g.rng.u8(..10) {
            0 => ProjectStatus::Proposed,
            1 => ProjectStatus::OnHold,
            2 => ProjectStatus::Closed,
            _ => ProjectStatus::Active,
        };
        p.projects.push(row(project::Model {
            id: i as i64,
            code: format!("PRJ-{i:04}"),
            name: format!("{} programme {i}", capitalise(g.pick::<&str>(&NOUNS))),
            status,
            manager_id: Some(g.rng.usize(1..=n_people) as i64),
            created_at: t0,
            updated_at: t0,
            version: 1,
        }));
    }
    // Models 1–4 standard (pre-approved), 5–8 normal, 9–10 emergency.
    for i in 1..=10i64 {
        let (change_type, max_risk, pre_approved, required) = match i {
            1..=4 => (
                ChangeType::Standard,
                [RiskLevel::Low, RiskLevel::Medium][(i % 2) as usize],
                true,
                0,
            ),
            5..=8 => (
                ChangeType::Normal,
                RiskLevel::VeryHigh,
                false,
                (i - 4) as i32 % 3 + 1,
            ),
            _ => (ChangeType::Emergency, RiskLevel::VeryHigh, false, 1),
        };
        p.models.push(row(change_model::Model {
            id: i,
            key: format!("model-{i:02}"),
            name: format!("Change model {i}"),
            description: String::new(),
            change_type,
            max_risk,
            pre_approved,
            required_approvals: required,
            created_at: t0,
            updated_at: t0,
            version: 1,
            retired_at: None,
        }));
    }
    plan_changes(g, &mut p, &retired, n_projects, t0);
    plan_dependencies(&mut p, n_services, t0);
    p
}

/// About 3 dependencies per service, from a stream of their own so that every other row
/// stays as it was. Like a real estate: the first 2 % of services are platforms (identity,
/// network, database clusters) that most services depend on, the rest depend on a nearby,
/// older service; one edge in twenty points to a newer service, which makes cycles.
fn plan_dependencies(p: &mut Plan, n_services: usize, t0: DateTime<Utc>) {
    let mut rng = fastrand::Rng::with_seed(0xde9_3d5 + n_services as u64);
    let platforms = (n_services / 50).max(2);
    let kinds = [
        DependencyKind::Runtime,
        DependencyKind::Data,
        DependencyKind::Infrastructure,
    ];
    for i in 2..=n_services {
        let mut targets: Vec<usize> = Vec::new();
        for _ in 0..rng.usize(2..=4) {
            let target = match rng.u8(..20) {
                0 => rng.usize(1..=n_services),
                1..=10 => rng.usize(1..=platforms),
                _ => i.saturating_sub(rng.usize(1..=50)).max(1),
            };
            if target != i && !targets.contains(&target) {
                targets.push(target);
            }
        }
        for target in targets {
            p.service_dependencies.push(row(service_dependency::Model {
                service_id: i as i64,
                depends_on_id: target as i64,
                kind: kinds[rng.usize(..kinds.len())],
                note: None,
                created_at: t0,
            }));
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn plan_processes(p: &mut Plan, t0: DateTime<Utc>) {
    use ProcessRole as R;
    let processes = [
        (1, "change-management", "Change Management"),
        (2, "release-management", "Release Management"),
        (3, "incident-management", "Incident Management"),
    ];
    for (id, key, name) in processes {
        p.processes.push(row(process::Model {
            id,
            key: key.into(),
            name: name.into(),
            description: format!("{name} for the synthetic portfolio."),
            created_at: t0,
            updated_at: t0,
            version: 1,
        }));
        p.policies.push(row(policy::Model {
            id,
            process_id: id,
            statement: format!(
                "Every {} activity is recorded.",
                key.replace("-management", "")
            ),
            created_at: t0,
            updated_at: t0,
            version: 1,
        }));
    }
    let mut roles: Vec<(i64, i64, R)> = vec![(1, 1, R::Owner)];
    roles.extend((2..=5).map(|person| (1, person, R::Manager)));
    roles.extend((6..=20).map(|person| (1, person, R::Practitioner)));
    roles.push((2, 21, R::Owner));
    roles.extend((22..=24).map(|person| (2, person, R::Manager)));
    roles.push((3, 25, R::Owner));
    for (i, (process_id, person_id, role)) in roles.into_iter().enumerate() {
        p.roles.push(row(process_role_assignment::Model {
            id: i as i64 + 1,
            process_id,
            person_id,
            role,
            scope: None,
            created_at: t0,
            updated_at: t0,
            version: 1,
        }));
    }
}

/// How far along its lifecycle a change got, drawn so that most are closed.
fn draw_status(g: &mut Gen, ty: ChangeType) -> ChangeStatus {
    use ChangeStatus as S;
    let roll = g.rng.u8(..100);
    let status = match roll {
        0..=4 => S::Draft,
        5..=9 => S::Submitted,
        10..=15 => S::Authorized,
        16..=21 => S::Scheduled,
        22..=26 => S::Implementing,
        27..=31 => S::Review,
        32..=87 => S::Closed,
        88..=92 => S::Rejected,
        _ => S::Cancelled,
    };
    // Standard changes are authorized on submission: never waiting for, or refused by, a decision.
    match (ty, status) {
        (ChangeType::Standard, S::Submitted | S::Rejected) => S::Authorized,
        _ => status,
    }
}

fn plan_changes(g: &mut Gen, p: &mut Plan, retired: &[bool], n_projects: usize, t0: DateTime<Utc>) {
    use ChangeStatus as S;
    let s = g.scale;
    let n_changes = 20_000 * s;
    let n_people = 500 * s;
    let n_services = retired.len() - 1;
    let mut audit_id = 0i64;
    let mut approval_id = 0i64;
    // Changes that may join a release, by project (0 = none).
    let mut releasable: Vec<(i64, Option<i64>, ChangeStatus, Vec<i64>)> = Vec::new();
    for i in 1..=n_changes {
        let id = i as i64;
        let ty = match g.rng.u8(..100) {
            0..=49 => ChangeType::Standard,
            50..=89 => ChangeType::Normal,
            _ => ChangeType::Emergency,
        };
        let status = draw_status(g, ty);
        let risk = match ty {
            ChangeType::Standard => *g.pick(&[RiskLevel::Low, RiskLevel::Medium]),
            _ => *g.pick(&[
                RiskLevel::Low,
                RiskLevel::Medium,
                RiskLevel::High,
                RiskLevel::VeryHigh,
            ]),
        };
        let model_id = match ty {
            ChangeType::Standard if risk == RiskLevel::Low => Some(g.rng.i64(1..=4)),
            ChangeType::Standard => Some(*g.pick(&[1i64, 3])),
            ChangeType::Normal => g.rng.bool().then(|| g.rng.i64(5..=8)),
            ChangeType::Emergency => Some(g.rng.i64(9..=10)),
        };
        // Over two years, a change every ~50 minutes; windows a week or two after creation.
        let created = t0 + Duration::minutes((i as i64) * 52 / s as i64);
        let start = created + Duration::hours(g.rng.i64(24..=24 * 14));
        let end = start + Duration::hours(g.rng.i64(1..=6));
        let requester = g.rng.usize(21..=n_people) as i64;
        let project_id = (g.rng.u8(..10) < 7).then(|| g.rng.usize(1..=n_projects) as i64);
        let reached = |stage: S| rules::lifecycle_rank(status) >= rules::lifecycle_rank(stage);
        let submitted = (status != S::Draft).then_some(created + Duration::hours(2));
        let authorized = (reached(S::Authorized) && !matches!(status, S::Rejected | S::Cancelled))
            .then_some(created + Duration::hours(20));
        let started = reached(S::Implementing).then_some(start);
        let completed = reached(S::Review).then_some(end);
        let closed = (status == S::Closed).then_some(end + Duration::hours(g.rng.i64(2..=72)));
        let outcome = completed.map(|_| match g.rng.u8(..20) {
            0 => ChangeOutcome::Failed,
            1 => ChangeOutcome::BackedOut,
            _ => ChangeOutcome::Successful,
        });
        let updated = closed
            .or(completed)
            .or(started)
            .or(authorized)
            .or(submitted)
            .unwrap_or(created);
        let windowed = reached(S::Scheduled) || g.rng.bool();
        let mut services: Vec<i64> = Vec::new();
        let touches = g.rng.usize(1..=3);
        while services.len() < touches {
            let candidate = g.rng.usize(1..=n_services) as i64;
            // Only closed or abandoned changes may touch a service retired since.
            let open = !matches!(status, S::Closed | S::Rejected | S::Cancelled);
            if services.contains(&candidate) || (open && retired[candidate as usize]) {
                continue;
            }
            services.push(candidate);
        }
        let noun = g.pick(&NOUNS);
        let reviewed = status == S::Closed
            && (ty != ChangeType::Standard || outcome != Some(ChangeOutcome::Successful));
        let change = change::Model {
            id,
            number: format!("CHG{id:07}"),
            title: format!("{} the {noun} platform ({i})", g.pick(&VERBS)),
            description: format!("Synthetic change {i} for the {noun} platform."),
            category: *g.pick(&[
                ChangeCategory::Infrastructure,
                ChangeCategory::Application,
                ChangeCategory::Documentation,
            ]),
            change_type: ty,
            risk,
            status,
            outcome,
            requested_by_id: requester,
            project_id,
            model_id,
            planned_start: windowed.then_some(start),
            planned_end: windowed.then_some(end),
            submitted_at: submitted,
            authorized_at: authorized,
            started_at: started,
            completed_at: completed,
            closed_at: closed,
            cancellation_reason: (status == S::Cancelled)
                .then(|| "Superseded by another change.".to_owned()),
            created_at: created,
            updated_at: updated,
            version: 1,
            // A closed change closed with its review whenever the rules ask for one.
            review_summary: reviewed.then(|| format!("Change {i} went as planned.")),
            review_objectives_met: reviewed.then_some(outcome == Some(ChangeOutcome::Successful)),
            review_follow_up: None,
            reviewed_by_id: None,
        };
        for service_id in &services {
            p.change_services.push(row(change_service::Model {
                change_id: id,
                service_id: *service_id,
                change_created_at: Some(created),
            }));
        }
        // Decisions: NORMAL and EMERGENCY changes past SUBMITTED, by change-management deciders.
        if ty != ChangeType::Standard && (authorized.is_some() || status == S::Rejected) {
            let needed = match (ty, model_id) {
                (ChangeType::Normal, Some(m)) => ((m - 4) % 3 + 1) as usize,
                _ => 1,
            };
            let deciders = g.distinct(*CM_DECIDERS.end() as usize, needed);
            for (k, approver) in deciders.into_iter().enumerate() {
                approval_id += 1;
                let rejected = status == S::Rejected && k == 0;
                p.approvals.push(row(approval::Model {
                    id: approval_id,
                    change_id: id,
                    approver_id: approver,
                    decision: if rejected {
                        ApprovalDecision::Rejected
                    } else {
                        ApprovalDecision::Approved
                    },
                    comment: rejected.then(|| "Risk not acceptable in this window.".to_owned()),
                    decided_at: created + Duration::hours(10 + k as i64),
                }));
                if rejected {
                    break;
                }
            }
        }
        let mut trail = vec![("CREATED", created, Some(requester))];
        if let Some(t) = submitted {
            trail.push(("SUBMITTED", t, Some(requester)));
        }
        if let Some(t) = authorized {
            let by_model = ty == ChangeType::Standard;
            trail.push((
                if by_model {
                    "AUTHORIZED_BY_MODEL"
                } else {
                    "AUTHORIZED"
                },
                t,
                Some(if by_model { requester } else { 1 }),
            ));
        }
        if let Some(t) = closed {
            trail.push(("CLOSED", t, Some(6 + id % 15)));
        }
        for (action, at, actor) in trail {
            audit_id += 1;
            p.audit.push(row(audit_event::Model {
                id: audit_id,
                at,
                actor_id: actor,
                action: action.into(),
                entity_type: "Change".into(),
                entity_id: id,
                before: None,
                after: Some(
                    json!({ "number": change.number, "status": status_after(action, status) }),
                ),
            }));
        }
        if matches!(
            status,
            S::Authorized | S::Scheduled | S::Implementing | S::Review | S::Closed
        ) {
            releasable.push((id, project_id, status, services));
        }
        p.changes.push(row(change));
    }
    plan_releases(g, p, releasable, t0);
}

/// The status an audit action leaves the change in (for the synthetic `after` images).
fn status_after(action: &str, final_status: ChangeStatus) -> &'static str {
    match action {
        "CREATED" => "DRAFT",
        "SUBMITTED" => "SUBMITTED",
        "AUTHORIZED" | "AUTHORIZED_BY_MODEL" => "AUTHORIZED",
        _ => final_status.as_str(),
    }
}

/// Releases of 1–10 changes each, taken in creation order so a release's changes are
/// neighbours in time; its status follows its least advanced change; a fifth of them
/// follow the project's previous release.
fn plan_releases(
    g: &mut Gen,
    p: &mut Plan,
    releasable: Vec<(i64, Option<i64>, ChangeStatus, Vec<i64>)>,
    t0: DateTime<Utc>,
) {
    use ChangeStatus as S;
    let n_releases = 3_000 * g.scale;
    // Pools by how far the changes got, so a release's status matches all its changes:
    // implemented and reviewed → CLOSED, implementing → DEPLOYED, authorized → before.
    let mut pools: [Vec<_>; 3] = Default::default();
    for m in releasable {
        let class = match m.2 {
            S::Review | S::Closed => 0,
            S::Implementing => 1,
            _ => 2,
        };
        pools[class].push(m);
    }
    for pool in &mut pools {
        pool.reverse(); // pop() then takes them in creation order
    }
    let mut last_of_project: std::collections::HashMap<i64, i64> = Default::default();
    for r in 1..=n_releases as i64 {
        let left: usize = pools.iter().map(Vec::len).sum();
        if left == 0 {
            break;
        }
        let mut pick = g.rng.usize(..left);
        let class = pools
            .iter()
            .position(|p| {
                if pick < p.len() {
                    true
                } else {
                    pick -= p.len();
                    false
                }
            })
            .unwrap_or(0);
        let size = g.rng.usize(1..=10);
        let pool = &mut pools[class];
        let members: Vec<_> = (0..size).map_while(|_| pool.pop()).collect();
        let status = match class {
            0 => ReleaseStatus::Closed,
            1 => ReleaseStatus::Deployed,
            _ => *g.pick(&[
                ReleaseStatus::Planned,
                ReleaseStatus::Building,
                ReleaseStatus::Testing,
                ReleaseStatus::Ready,
            ]),
        };
        let project_id = members.iter().find_map(|m| m.1);
        // Sequences are chains: only a project's latest release can be followed, once.
        let previous_id = match project_id {
            Some(project) if g.rng.u8(..5) == 0 => last_of_project.get(&project).copied(),
            _ => None,
        };
        if let Some(project) = project_id {
            last_of_project.insert(project, r);
        }
        let planned = t0 + Duration::minutes(r * 350 / g.scale as i64);
        let deployed = matches!(status, ReleaseStatus::Deployed | ReleaseStatus::Closed)
            .then_some(planned + Duration::hours(2));
        let release_type = *g.pick(&[
            ReleaseType::Major,
            ReleaseType::Minor,
            ReleaseType::Minor,
            ReleaseType::Patch,
            ReleaseType::Patch,
        ]);
        p.releases.push(row(release::Model {
            id: r,
            name: format!("Release train {}", r % 97),
            version: format!("{}.{}.{}", r / 1000 + 1, (r / 10) % 100, r % 10),
            release_type,
            status,
            project_id,
            previous_id,
            planned_date: Some(planned),
            deployed_at: deployed,
            created_at: planned - Duration::days(14),
            updated_at: deployed.unwrap_or(planned - Duration::days(14)),
            revision: 1,
            planned_start: Some(planned),
            planned_end: Some(planned + Duration::hours(4)),
        }));
        let mut services: Vec<i64> = Vec::new();
        for (change_id, _, change_status, touched) in &members {
            debug_assert!(!matches!(
                change_status,
                S::Rejected | S::Cancelled | S::Draft
            ));
            p.release_changes.push(row(release_change::Model {
                release_id: r,
                change_id: *change_id,
            }));
            for s in touched {
                if !services.contains(s) && services.len() < 10 {
                    services.push(*s);
                }
            }
        }
        for service_id in services {
            p.release_services.push(row(release_service::Model {
                release_id: r,
                service_id,
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_scale_plans_the_same_rows_and_the_counts_of_the_issue() {
        let (a, b) = (plan(&mut Gen::new(1)), plan(&mut Gen::new(1)));
        assert_eq!(format!("{:?}", a.changes), format!("{:?}", b.changes));
        assert_eq!(
            format!("{:?}", a.release_changes),
            format!("{:?}", b.release_changes)
        );
        assert_eq!(a.rows(), b.rows());
        assert_eq!(
            (a.people.len(), a.partners.len(), a.services.len()),
            (500, 50, 1000)
        );
        assert_eq!(
            (a.offerings.len(), a.projects.len(), a.models.len()),
            (300, 100, 10)
        );
        assert_eq!((a.changes.len(), a.releases.len()), (20_000, 3_000));
        let per_service = a.service_dependencies.len() as f64 / 1000.0;
        assert!((2.5..=3.5).contains(&per_service), "{per_service}");
        let edges: std::collections::HashSet<(i64, i64)> = a
            .service_dependencies
            .iter()
            .map(|d| {
                (
                    d.service_id.clone().unwrap(),
                    d.depends_on_id.clone().unwrap(),
                )
            })
            .collect();
        assert!(
            edges.iter().all(|(s, d)| s != d),
            "no service depends on itself"
        );
        assert!(
            edges
                .iter()
                .any(|(s, d)| edges.contains(&(*d, *s)) || d > s),
            "some edges point forward, so the graph has cycles"
        );
        let per_offering = a.offering_services.len() as f64 / 300.0;
        assert!((3.0..=8.0).contains(&per_offering), "{per_offering}");
    }
}
