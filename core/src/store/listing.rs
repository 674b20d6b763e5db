//! The listings of the portfolio: for each listed entity, its filter, its ordering and the
//! relationships (scopes) through which it is reached. Each becomes a batched keyset query
//! through [`super::page`].

use std::hash::Hash;

use chrono::{DateTime, Utc};
use entity::*;
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Func, LikeExpr, Query};
use sea_orm::{ColumnTrait, EntityName, EntityTrait, IdenStatic};

use super::page::{KeyKind, Listing, Ordering, PageArgs, PageSpec, SortKey, Via};
use super::relations;
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

/// `table.column` for a column of an entity: a renamed column fails to compile.
fn col<C: ColumnTrait>(c: C) -> Expr {
    Expr::col((Alias::new(table_of(c)), Alias::new(c.as_str())))
}

/// The table of an entity's column.
fn table_of<C: ColumnTrait>(_: C) -> &'static str {
    C::EntityName::default().table_name()
}

fn any_of<C: ColumnTrait, T: Copy>(
    column: C,
    values: &Option<Vec<T>>,
    f: fn(T) -> &'static str,
) -> Option<Expr> {
    values
        .as_ref()
        .map(|vs| col(column).is_in(vs.iter().map(|v| f(*v))))
}

/// Case-insensitive substring match over several columns; `%` and `_` are taken literally.
fn search<C: ColumnTrait>(columns: &[C], text: &Option<String>) -> Option<Condition> {
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
            Expr::expr(Func::lower(col(*c))).like(LikeExpr::new(pattern.clone()).escape('\\')),
        );
    }
    Some(any)
}

/// `EXISTS (SELECT 1 FROM junction WHERE junction.child = table.id AND junction.other = id)`,
/// `child` and `other` being two columns of one junction entity.
fn linked<C: ColumnTrait>(table: &'static str, child: C, other: C, id: i64) -> Expr {
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(Alias::new(table_of(child)))
            .and_where(col(child).equals((Alias::new(table), Alias::new("id"))))
            .and_where(col(other).eq(id))
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
    /// The services a service depends on.
    DependsOn,
    /// The services that depend on a service.
    Dependents,
}

/// Filter of services.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ServiceFilter {
    pub lifecycle: Option<Vec<ServiceLifecycle>>,
    pub criticality: Option<Vec<Criticality>>,
    pub owner_id: Option<i64>,
    /// Services in any of these scopes.
    pub scope: Option<Vec<String>>,
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
            ServiceScope::Offering => relations::services_of_offering(),
            ServiceScope::Change => relations::services_of_change(),
            ServiceScope::Release => relations::services_of_release(),
            ServiceScope::DependsOn => relations::services_depended_on(),
            ServiceScope::Dependents => relations::dependents_of_service(),
        }
    }
    fn condition(&self, _: ServiceScope) -> Condition {
        all([
            any_of(
                service::Column::Lifecycle,
                &self.lifecycle,
                ServiceLifecycle::as_str,
            ),
            any_of(
                service::Column::Criticality,
                &self.criticality,
                Criticality::as_str,
            ),
            self.owner_id.map(|id| col(service::Column::OwnerId).eq(id)),
            self.scope
                .as_ref()
                .map(|scopes| col(service::Column::Scope).is_in(scopes.iter().cloned())),
        ])
        .add_option(search(
            &[service::Column::Key, service::Column::Name],
            &self.search,
        ))
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
            OfferingScope::Service => relations::offerings_of_service(),
        }
    }
    fn condition(&self, _: OfferingScope) -> Condition {
        all([any_of(
            service_offering::Column::Status,
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
        Condition::all().add_option(search(
            &[person::Column::Name, person::Column::Email],
            &self.search,
        ))
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
        all([
            any_of(project::Column::Status, &self.status, ProjectStatus::as_str),
            self.manager_id
                .map(|id| col(project::Column::ManagerId).eq(id)),
        ])
        .add_option(search(
            &[project::Column::Code, project::Column::Name],
            &self.search,
        ))
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
    /// By submission, for decisions waiting longest first (not offered to clients).
    SubmittedAt,
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
    /// Only the changes awaiting a decision from this person.
    pub awaiting: Option<Awaiting>,
    pub sort: ChangeSort,
    pub descending: bool,
}

/// The services a person's roles on a process reach.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Reach {
    /// No such role.
    Nothing,
    /// Every service: an OWNER, or a role without a scope.
    Everywhere,
    /// The services of these scopes.
    Scopes(Vec<String>),
}

/// The changes awaiting one person's decision: SUBMITTED, not STANDARD (a model authorizes
/// those), not requested by them, not yet decided by them, and with every service within
/// what their deciding roles reach.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Awaiting {
    pub person_id: i64,
    pub reach: Reach,
}

impl Awaiting {
    fn condition(&self, table: &'static str) -> Expr {
        let me = self.person_id;
        let id = || Expr::col((Alias::new(table), Alias::new("id")));
        let not_decided = Expr::exists(
            Query::select()
                .expr(Expr::val(1))
                .from(approval::Entity)
                .and_where(
                    col(approval::Column::ChangeId).equals((Alias::new(table), Alias::new("id"))),
                )
                .and_where(col(approval::Column::ApproverId).eq(me))
                .take(),
        )
        .not();
        let base = col(change::Column::Status)
            .eq(ChangeStatus::Submitted.as_str())
            .and(col(change::Column::ChangeType).ne(ChangeType::Standard.as_str()))
            .and(col(change::Column::RequestedById).ne(me))
            .and(not_decided);
        match &self.reach {
            Reach::Nothing => Expr::val(1).eq(0),
            Reach::Everywhere => base,
            Reach::Scopes(scopes) => {
                // No service of the change outside the person's scopes.
                let outside = Query::select()
                    .expr(Expr::val(1))
                    .from(change_service::Entity)
                    .inner_join(
                        service::Entity,
                        col(service::Column::Id).equals(change_service::Column::ServiceId),
                    )
                    .and_where(col(change_service::Column::ChangeId).eq(id()))
                    .cond_where(
                        Condition::any()
                            .add(col(service::Column::Scope).is_null())
                            .add(col(service::Column::Scope).is_not_in(scopes.iter().cloned())),
                    )
                    .take();
                base.and(Expr::exists(outside).not())
            }
        }
    }
}

/// `CASE risk WHEN 'LOW' THEN 0 … END`: risk by severity, never alphabetically.
pub fn risk_rank(table: &'static str) -> Expr {
    let risk = Expr::col((Alias::new(table), Alias::new(change::Column::Risk.as_str())));
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
            ChangeScope::Service => relations::changes_of_service(),
            ChangeScope::Release => relations::changes_of_release().spec().via,
        }
    }
    fn junction_copy(scope: ChangeScope, column: &str) -> Option<&'static str> {
        // A service's changes by creation: the portal's "most recent changes".
        (scope == ChangeScope::Service && column == change::Column::CreatedAt.as_str())
            .then_some(change_service::Column::ChangeCreatedAt.as_str())
    }
    fn condition(&self, _: ChangeScope) -> Condition {
        let t = Self::TABLE;
        all([
            any_of(change::Column::Status, &self.status, ChangeStatus::as_str),
            any_of(
                change::Column::ChangeType,
                &self.change_type,
                ChangeType::as_str,
            ),
            any_of(change::Column::Risk, &self.risk, RiskLevel::as_str),
            any_of(
                change::Column::Category,
                &self.category,
                ChangeCategory::as_str,
            ),
            self.service_id.map(|id| {
                linked(
                    t,
                    change_service::Column::ChangeId,
                    change_service::Column::ServiceId,
                    id,
                )
            }),
            self.release_id.map(|id| {
                linked(
                    t,
                    release_change::Column::ChangeId,
                    release_change::Column::ReleaseId,
                    id,
                )
            }),
            self.project_id
                .map(|id| col(change::Column::ProjectId).eq(id)),
            self.model_id.map(|id| col(change::Column::ModelId).eq(id)),
            self.requested_by_id
                .map(|id| col(change::Column::RequestedById).eq(id)),
            // The planned window overlaps [from, to].
            self.planned_to
                .map(|to| col(change::Column::PlannedStart).lte(to)),
            self.planned_from
                .map(|from| col(change::Column::PlannedEnd).gte(from)),
            self.updated_since
                .map(|since| col(change::Column::UpdatedAt).gte(since)),
            self.awaiting.as_ref().map(|a| a.condition(t)),
        ])
        .add_option(search(
            &[change::Column::Number, change::Column::Title],
            &self.search,
        ))
    }
    fn ordering(&self) -> Ordering {
        let t = Self::TABLE;
        let d = self.descending;
        let key = match self.sort {
            ChangeSort::Id => {
                return Ordering::new(
                    if d { "ID_DESC" } else { "ID" },
                    t,
                    vec![SortKey::column(
                        t,
                        change::Column::Id.as_str(),
                        KeyKind::Int,
                        d,
                    )],
                );
            }
            ChangeSort::Number => {
                SortKey::column(t, change::Column::Number.as_str(), KeyKind::Text, d)
            }
            ChangeSort::CreatedAt => {
                SortKey::column(t, change::Column::CreatedAt.as_str(), KeyKind::Time, d)
            }
            ChangeSort::UpdatedAt => {
                SortKey::column(t, change::Column::UpdatedAt.as_str(), KeyKind::Time, d)
            }
            ChangeSort::SubmittedAt => SortKey {
                expr: col(change::Column::SubmittedAt),
                kind: KeyKind::Time,
                nullable: true,
                desc: d,
                column: None,
            },
            ChangeSort::PlannedStart => SortKey {
                expr: col(change::Column::PlannedStart),
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
            ReleaseScope::Service => relations::releases_of_service(),
        }
    }
    fn condition(&self, _: ReleaseScope) -> Condition {
        let t = Self::TABLE;
        all([
            any_of(release::Column::Status, &self.status, ReleaseStatus::as_str),
            any_of(
                release::Column::ReleaseType,
                &self.release_type,
                ReleaseType::as_str,
            ),
            self.project_id
                .map(|id| col(release::Column::ProjectId).eq(id)),
            self.service_id.map(|id| {
                linked(
                    t,
                    release_service::Column::ReleaseId,
                    release_service::Column::ServiceId,
                    id,
                )
            }),
            self.planned_from
                .map(|from| col(release::Column::PlannedDate).gte(from)),
            self.planned_to
                .map(|to| col(release::Column::PlannedDate).lte(to)),
        ])
        .add_option(search(
            &[release::Column::Name, release::Column::Version],
            &self.search,
        ))
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
        let scoped_type = match scope {
            AuditScope::Entity(kind) => Some(col(audit_event::Column::EntityType).eq(kind)),
            AuditScope::Root => None,
        };
        all([
            scoped_type,
            self.entity_type
                .as_ref()
                .map(|k| col(audit_event::Column::EntityType).eq(k.as_str())),
            self.entity_id
                .map(|id| col(audit_event::Column::EntityId).eq(id)),
            self.actor_id
                .map(|id| col(audit_event::Column::ActorId).eq(id)),
            self.from.map(|from| col(audit_event::Column::At).gte(from)),
            self.to.map(|to| col(audit_event::Column::At).lte(to)),
        ])
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::EntityName;

    use super::*;

    fn table_of_entity<F: Filter>() -> (&'static str, &'static str) {
        (F::TABLE, F::Entity::default().table_name())
    }

    #[test]
    fn every_listing_names_the_table_of_its_entity() {
        for (listed, entity) in [
            table_of_entity::<ServiceFilter>(),
            table_of_entity::<OfferingFilter>(),
            table_of_entity::<PersonFilter>(),
            table_of_entity::<AllPartners>(),
            table_of_entity::<AllProcesses>(),
            table_of_entity::<AllChangeModels>(),
            table_of_entity::<ProjectFilter>(),
            table_of_entity::<ChangeFilter>(),
            table_of_entity::<ReleaseFilter>(),
            table_of_entity::<AuditFilter>(),
        ] {
            assert_eq!(listed, entity);
        }
    }
}
