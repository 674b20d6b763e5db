//! The listings of the portfolio: for each listed entity, its filter, its ordering and the
//! relationships (scopes) through which it is reached. Each becomes a batched keyset query
//! through [`super::page`].

use std::hash::Hash;

use chrono::{DateTime, Utc};
use entity::*;
use sea_orm::EntityTrait;
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Func, LikeExpr, Query};

use super::page::{KeyKind, Listing, Ordering, PageArgs, PageSpec, SortKey, Via};
use super::rows::{Columns, Decode};
use crate::error::AppResult;

/// The filter (and ordering) of one listed entity, and how it is reached from parents.
pub trait Filter: Clone + Eq + Hash + Send + Sync + 'static {
    /// The listed entity.
    type Entity: EntityTrait<Model: Decode>;
    /// The relationships a list of this entity can hang off.
    type Scope: Copy + Eq + Hash + std::fmt::Debug + Send + Sync + 'static;
    /// Table of the listed entity.
    const TABLE: &'static str;
    /// How rows relate to parent ids in a scope.
    fn via(scope: Self::Scope) -> Via;
    /// Conditions on the target table.
    fn condition(&self, scope: Self::Scope) -> Condition;
    /// Sort order; creation order unless the filter says otherwise.
    fn ordering(&self) -> Ordering {
        Ordering::by_id(Self::TABLE)
    }
    /// The column of the scope's join table that copies the target's `column`, if any.
    fn junction_copy(scope: Self::Scope, column: &str) -> Option<&'static str> {
        let _ = (scope, column);
        None
    }
}

/// A list of `F::Entity` in a scope, filtered, paged. The batching key of every connection.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct List<F: Filter> {
    pub scope: F::Scope,
    pub filter: F,
    page: PageSpec,
    columns: Columns,
}

impl<F: Filter> List<F> {
    /// Validates the page arguments against the filter's ordering.
    pub fn new(scope: F::Scope, filter: F, args: &PageArgs) -> AppResult<Self> {
        let page = PageSpec::parse(args, &filter.ordering())?;
        Ok(Self {
            scope,
            filter,
            page,
            columns: Columns::ALL,
        })
    }

    /// The same list, reading only `columns` of its rows (see [`Columns`] for the promise
    /// this makes).
    pub fn narrowed(self, columns: Columns) -> Self {
        Self { columns, ..self }
    }
}

impl<F: Filter> Listing for List<F> {
    type Entity = F::Entity;
    const TABLE: &'static str = F::TABLE;
    fn via(&self) -> Via {
        F::via(self.scope)
    }
    fn condition(&self) -> Condition {
        self.filter.condition(self.scope)
    }
    fn ordering(&self) -> Ordering {
        self.filter.ordering()
    }
    fn page(&self) -> &PageSpec {
        &self.page
    }
    fn junction_copy(&self, column: &str) -> Option<&'static str> {
        F::junction_copy(self.scope, column)
    }
    fn columns(&self) -> Columns {
        self.columns
    }
}

/// The one scope of lists that are only top-level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Root {
    Root,
}

fn col(table: &'static str, column: &'static str) -> Expr {
    Expr::col((Alias::new(table), Alias::new(column)))
}

fn any_of<T: Copy>(
    table: &'static str,
    column: &'static str,
    values: &Option<Vec<T>>,
    f: fn(T) -> &'static str,
) -> Option<Expr> {
    values
        .as_ref()
        .map(|vs| col(table, column).is_in(vs.iter().map(|v| f(*v))))
}

/// Case-insensitive substring match over several columns; `%` and `_` are taken literally.
fn search(
    table: &'static str,
    columns: &[&'static str],
    text: &Option<String>,
) -> Option<Condition> {
    let text = text.as_ref()?.trim();
    if text.is_empty() {
        return None;
    }
    let escaped: String = text
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    let pattern = format!("%{escaped}%");
    let mut any = Condition::any();
    for c in columns {
        any = any.add(
            Expr::expr(Func::lower(col(table, c)))
                .like(LikeExpr::new(pattern.clone()).escape('\\')),
        );
    }
    Some(any)
}

/// `EXISTS (SELECT 1 FROM junction WHERE junction.child = table.id AND junction.other = id)`.
fn linked(
    table: &'static str,
    junction: &'static str,
    child: &'static str,
    other: &'static str,
    id: i64,
) -> Expr {
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(Alias::new(junction))
            .and_where(col(junction, child).equals((Alias::new(table), Alias::new("id"))))
            .and_where(col(junction, other).eq(id))
            .take(),
    )
}

fn all(parts: impl IntoIterator<Item = Option<Expr>>) -> Condition {
    parts
        .into_iter()
        .flatten()
        .fold(Condition::all(), Condition::add)
}

// ---------------------------------------------------------------- services

/// Where a list of services hangs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServiceScope {
    Root,
    Offering,
    Owner,
    Change,
    Release,
}

/// Filter of services.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ServiceFilter {
    pub lifecycle: Option<Vec<ServiceLifecycle>>,
    pub criticality: Option<Vec<Criticality>>,
    pub owner_id: Option<i64>,
    pub search: Option<String>,
}

impl Filter for ServiceFilter {
    type Entity = service::Entity;
    type Scope = ServiceScope;
    const TABLE: &'static str = "service";
    fn via(scope: ServiceScope) -> Via {
        match scope {
            ServiceScope::Root => Via::Root,
            ServiceScope::Owner => Via::column(service::Column::OwnerId),
            ServiceScope::Offering => Via::junction(
                offering_service::Column::ServiceId,
                offering_service::Column::OfferingId,
            ),
            ServiceScope::Change => Via::junction(
                change_service::Column::ServiceId,
                change_service::Column::ChangeId,
            ),
            ServiceScope::Release => Via::junction(
                release_service::Column::ServiceId,
                release_service::Column::ReleaseId,
            ),
        }
    }
    fn condition(&self, _: ServiceScope) -> Condition {
        let t = Self::TABLE;
        all([
            any_of(t, "lifecycle", &self.lifecycle, ServiceLifecycle::as_str),
            any_of(t, "criticality", &self.criticality, Criticality::as_str),
            self.owner_id.map(|id| col(t, "owner_id").eq(id)),
        ])
        .add_option(search(t, &["key", "name"], &self.search))
    }
}

// ---------------------------------------------------------------- offerings

/// Where a list of offerings hangs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OfferingScope {
    Root,
    Service,
}

/// Filter of service offerings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct OfferingFilter {
    pub status: Option<Vec<OfferingStatus>>,
}

impl Filter for OfferingFilter {
    type Entity = service_offering::Entity;
    type Scope = OfferingScope;
    const TABLE: &'static str = "service_offering";
    fn via(scope: OfferingScope) -> Via {
        match scope {
            OfferingScope::Root => Via::Root,
            OfferingScope::Service => Via::junction(
                offering_service::Column::OfferingId,
                offering_service::Column::ServiceId,
            ),
        }
    }
    fn condition(&self, _: OfferingScope) -> Condition {
        all([any_of(
            Self::TABLE,
            "status",
            &self.status,
            OfferingStatus::as_str,
        )])
    }
}

// ---------------------------------------------------------------- people, partners, processes, models

/// Filter of people.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PersonFilter {
    pub search: Option<String>,
}

impl Filter for PersonFilter {
    type Entity = person::Entity;
    type Scope = Root;
    const TABLE: &'static str = "person";
    fn via(_: Root) -> Via {
        Via::Root
    }
    fn condition(&self, _: Root) -> Condition {
        Condition::all().add_option(search(Self::TABLE, &["name", "email"], &self.search))
    }
}

/// Declares a filter with no criteria over a top-level-only entity.
macro_rules! unfiltered {
    ($(#[$doc:meta])* $name:ident, $entity:path, $table:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
        pub struct $name;

        impl Filter for $name {
            type Entity = $entity;
            type Scope = Root;
            const TABLE: &'static str = $table;
            fn via(_: Root) -> Via {
                Via::Root
            }
            fn condition(&self, _: Root) -> Condition {
                Condition::all()
            }
        }
    };
}

unfiltered!(
    /// All partners.
    AllPartners, partner::Entity, "partner"
);
unfiltered!(
    /// All processes.
    AllProcesses, process::Entity, "process"
);
unfiltered!(
    /// All change models.
    AllChangeModels, change_model::Entity, "change_model"
);

// ---------------------------------------------------------------- projects

/// Where a list of projects hangs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProjectScope {
    Root,
    Manager,
}

/// Filter of projects.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ProjectFilter {
    pub status: Option<Vec<ProjectStatus>>,
    pub manager_id: Option<i64>,
    pub search: Option<String>,
}

impl Filter for ProjectFilter {
    type Entity = project::Entity;
    type Scope = ProjectScope;
    const TABLE: &'static str = "project";
    fn via(scope: ProjectScope) -> Via {
        match scope {
            ProjectScope::Root => Via::Root,
            ProjectScope::Manager => Via::column(project::Column::ManagerId),
        }
    }
    fn condition(&self, _: ProjectScope) -> Condition {
        let t = Self::TABLE;
        all([
            any_of(t, "status", &self.status, ProjectStatus::as_str),
            self.manager_id.map(|id| col(t, "manager_id").eq(id)),
        ])
        .add_option(search(t, &["code", "name"], &self.search))
    }
}

// ---------------------------------------------------------------- changes

/// Where a list of changes hangs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChangeScope {
    Root,
    Service,
    Project,
    Model,
    Requester,
    Release,
}

/// Sort fields of changes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ChangeSort {
    #[default]
    Id,
    Number,
    CreatedAt,
    UpdatedAt,
    PlannedStart,
    /// By severity: LOW < MEDIUM < HIGH < VERY_HIGH.
    Risk,
}

/// Filter and ordering of changes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ChangeFilter {
    pub status: Option<Vec<ChangeStatus>>,
    pub change_type: Option<Vec<ChangeType>>,
    pub risk: Option<Vec<RiskLevel>>,
    pub category: Option<Vec<ChangeCategory>>,
    pub service_id: Option<i64>,
    pub project_id: Option<i64>,
    pub model_id: Option<i64>,
    pub requested_by_id: Option<i64>,
    pub planned_from: Option<DateTime<Utc>>,
    pub planned_to: Option<DateTime<Utc>>,
    pub search: Option<String>,
    pub release_id: Option<i64>,
    pub updated_since: Option<DateTime<Utc>>,
    pub sort: ChangeSort,
    pub descending: bool,
}

/// `CASE risk WHEN 'LOW' THEN 0 … END`: risk by severity, never alphabetically.
pub fn risk_rank(table: &'static str) -> Expr {
    let risk = col(table, "risk");
    let mut case = Expr::case(
        risk.clone().eq(RiskLevel::Low.as_str()),
        Expr::val(RiskLevel::Low.rank() as i64),
    );
    for r in [RiskLevel::Medium, RiskLevel::High] {
        case = case.case(risk.clone().eq(r.as_str()), Expr::val(r.rank() as i64));
    }
    case.finally(Expr::val(RiskLevel::VeryHigh.rank() as i64))
        .into()
}

impl Filter for ChangeFilter {
    type Entity = change::Entity;
    type Scope = ChangeScope;
    const TABLE: &'static str = "change";
    fn via(scope: ChangeScope) -> Via {
        match scope {
            ChangeScope::Root => Via::Root,
            ChangeScope::Project => Via::column(change::Column::ProjectId),
            ChangeScope::Model => Via::column(change::Column::ModelId),
            ChangeScope::Requester => Via::column(change::Column::RequestedById),
            ChangeScope::Service => Via::junction(
                change_service::Column::ChangeId,
                change_service::Column::ServiceId,
            ),
            ChangeScope::Release => Via::junction(
                release_change::Column::ChangeId,
                release_change::Column::ReleaseId,
            ),
        }
    }
    fn junction_copy(scope: ChangeScope, column: &str) -> Option<&'static str> {
        // A service's changes by creation: the portal's "most recent changes".
        (scope == ChangeScope::Service && column == "created_at").then_some("change_created_at")
    }
    fn condition(&self, _: ChangeScope) -> Condition {
        let t = Self::TABLE;
        all([
            any_of(t, "status", &self.status, ChangeStatus::as_str),
            any_of(t, "change_type", &self.change_type, ChangeType::as_str),
            any_of(t, "risk", &self.risk, RiskLevel::as_str),
            any_of(t, "category", &self.category, ChangeCategory::as_str),
            self.service_id
                .map(|id| linked(t, "change_service", "change_id", "service_id", id)),
            self.release_id
                .map(|id| linked(t, "release_change", "change_id", "release_id", id)),
            self.project_id.map(|id| col(t, "project_id").eq(id)),
            self.model_id.map(|id| col(t, "model_id").eq(id)),
            self.requested_by_id
                .map(|id| col(t, "requested_by_id").eq(id)),
            // The planned window overlaps [from, to].
            self.planned_to.map(|to| col(t, "planned_start").lte(to)),
            self.planned_from
                .map(|from| col(t, "planned_end").gte(from)),
            self.updated_since
                .map(|since| col(t, "updated_at").gte(since)),
        ])
        .add_option(search(t, &["number", "title"], &self.search))
    }
    fn ordering(&self) -> Ordering {
        let t = Self::TABLE;
        let d = self.descending;
        let key = match self.sort {
            ChangeSort::Id => {
                return Ordering::new(
                    if d { "ID_DESC" } else { "ID" },
                    t,
                    vec![SortKey::column(t, "id", KeyKind::Int, d)],
                );
            }
            ChangeSort::Number => SortKey::column(t, "number", KeyKind::Text, d),
            ChangeSort::CreatedAt => SortKey::column(t, "created_at", KeyKind::Time, d),
            ChangeSort::UpdatedAt => SortKey::column(t, "updated_at", KeyKind::Time, d),
            ChangeSort::PlannedStart => SortKey {
                expr: col(t, "planned_start"),
                kind: KeyKind::Time,
                nullable: true,
                desc: d,
                column: None,
            },
            ChangeSort::Risk => SortKey {
                expr: risk_rank(t),
                kind: KeyKind::Int,
                nullable: false,
                desc: d,
                column: None,
            },
        };
        Ordering::new(
            format!("{:?}_{}", self.sort, if d { "DESC" } else { "ASC" }),
            t,
            vec![key],
        )
    }
}

// ---------------------------------------------------------------- releases

/// Where a list of releases hangs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReleaseScope {
    Root,
    Service,
    Project,
}

/// Filter of releases.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ReleaseFilter {
    pub status: Option<Vec<ReleaseStatus>>,
    pub release_type: Option<Vec<ReleaseType>>,
    pub project_id: Option<i64>,
    pub service_id: Option<i64>,
    pub planned_from: Option<DateTime<Utc>>,
    pub planned_to: Option<DateTime<Utc>>,
    pub search: Option<String>,
}

impl Filter for ReleaseFilter {
    type Entity = release::Entity;
    type Scope = ReleaseScope;
    const TABLE: &'static str = "release";
    fn via(scope: ReleaseScope) -> Via {
        match scope {
            ReleaseScope::Root => Via::Root,
            ReleaseScope::Project => Via::column(release::Column::ProjectId),
            ReleaseScope::Service => Via::junction(
                release_service::Column::ReleaseId,
                release_service::Column::ServiceId,
            ),
        }
    }
    fn condition(&self, _: ReleaseScope) -> Condition {
        let t = Self::TABLE;
        all([
            any_of(t, "status", &self.status, ReleaseStatus::as_str),
            any_of(t, "release_type", &self.release_type, ReleaseType::as_str),
            self.project_id.map(|id| col(t, "project_id").eq(id)),
            self.service_id
                .map(|id| linked(t, "release_service", "release_id", "service_id", id)),
            self.planned_from
                .map(|from| col(t, "planned_date").gte(from)),
            self.planned_to.map(|to| col(t, "planned_date").lte(to)),
        ])
        .add_option(search(t, &["name", "version"], &self.search))
    }
}

// ---------------------------------------------------------------- audit events

/// Where a list of audit events hangs: everywhere, or the history of one kind of entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuditScope {
    Root,
    /// The history of entities of this GraphQL type name.
    Entity(&'static str),
}

/// Filter of audit events.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct AuditFilter {
    pub entity_type: Option<String>,
    pub entity_id: Option<i64>,
    pub actor_id: Option<i64>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl Filter for AuditFilter {
    type Entity = audit_event::Entity;
    type Scope = AuditScope;
    const TABLE: &'static str = "audit_event";
    fn via(scope: AuditScope) -> Via {
        match scope {
            AuditScope::Root => Via::Root,
            AuditScope::Entity(_) => Via::column(audit_event::Column::EntityId),
        }
    }
    fn condition(&self, scope: AuditScope) -> Condition {
        let t = Self::TABLE;
        let scoped_type = match scope {
            AuditScope::Entity(kind) => Some(col(t, "entity_type").eq(kind)),
            AuditScope::Root => None,
        };
        all([
            scoped_type,
            self.entity_type
                .as_ref()
                .map(|k| col(t, "entity_type").eq(k.as_str())),
            self.entity_id.map(|id| col(t, "entity_id").eq(id)),
            self.actor_id.map(|id| col(t, "actor_id").eq(id)),
            self.from.map(|from| col(t, "at").gte(from)),
            self.to.map(|to| col(t, "at").lte(to)),
        ])
    }
}
