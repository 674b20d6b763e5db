//! People and processes: who holds which process role, and the policies that govern a process.

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use entity::{person, policy, process, process_role_assignment};

use super::{Change, Project, Service, wrapper};
use crate::domain::access::{CHANGE_MANAGEMENT, DECIDERS};
use crate::error::AppError;
use crate::graphql::connection::{self, Conn};
use crate::graphql::enums::ProcessRole;
use crate::graphql::ids::{Kind, encode};
use crate::graphql::inputs::ChangeFilter;
use crate::graphql::loaders::RolesOf;
use crate::graphql::{children, loader, many, required};
use crate::store::listing::{self, ChangeScope, ProjectScope, ServiceScope};
use crate::store::relations;

wrapper!(
    /// A person (the People of the Four Ps): skills, process roles, owned services, requested
    /// changes and managed projects.
    Person, person::Model
);

#[Object(use_type_description)]
impl Person {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        encode(Kind::Person, self.0.id)
    }
    /// Full name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// E-mail address; unique.
    async fn email(&self) -> &str {
        &self.0.email
    }
    /// Skills and competences.
    async fn skills(&self) -> &[String] {
        &self.0.skills.0
    }
    /// Process roles this person holds.
    async fn process_roles(&self, ctx: &Context<'_>) -> Result<Vec<ProcessRoleAssignment>> {
        let rows = children(ctx, relations::roles_of_person(), self.0.id).await?;
        Ok(rows.iter().cloned().map(ProcessRoleAssignment).collect())
    }
    /// Services this person owns.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn owned_services(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Page forward: at most this many items (max 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Page forward: items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Page backward: at most this many items, the last ones (max 100).")]
        last: Option<i32>,
        #[graphql(desc = "Page backward: items before this cursor.")] before: Option<String>,
    ) -> Result<Conn<Service>> {
        let list = connection::list(
            ServiceScope::Owner,
            listing::ServiceFilter::default(),
            first,
            after,
            last,
            before,
        )?;
        connection::load(ctx, Some(self.0.id), list).await
    }
    /// Changes this person requested.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn requested_changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the changes matching this filter.")] filter: Option<ChangeFilter>,
        #[graphql(
            desc = "Page forward: at most this many items (max 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Page forward: items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Page backward: at most this many items, the last ones (max 100).")]
        last: Option<i32>,
        #[graphql(desc = "Page backward: items before this cursor.")] before: Option<String>,
    ) -> Result<Conn<Change>> {
        let filter = filter.unwrap_or_default().resolve(None)?;
        let list = connection::list(ChangeScope::Requester, filter, first, after, last, before)?;
        connection::load(ctx, Some(self.0.id), list).await
    }
    /// The changes waiting for this person's decision, longest-waiting first: SUBMITTED
    /// NORMAL and EMERGENCY changes they did not request and have not decided on, whose
    /// every service is within the reach of their OWNER or MANAGER role on
    /// change-management (a scoped role reaches the services of its scope). Ask it as
    /// `viewer { pendingDecisions { … } }` for the caller's inbox.
    #[graphql(complexity = "crate::graphql::connection::cost(first, None, child_complexity)")]
    async fn pending_decisions(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Page forward: at most this many items (max 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Page forward: items after this cursor.")] after: Option<String>,
    ) -> Result<Conn<Change>> {
        let roles = loader(ctx)
            .load_one(RolesOf(self.0.id))
            .await
            .map_err(|e| async_graphql::Error::from(AppError::from(e)))?
            .unwrap_or_default();
        let filter = listing::ChangeFilter {
            awaiting: Some(listing::Awaiting {
                person_id: self.0.id,
                reach: roles.reach(CHANGE_MANAGEMENT, DECIDERS),
            }),
            sort: listing::ChangeSort::SubmittedAt,
            ..Default::default()
        };
        let list = connection::list(ChangeScope::Root, filter, first, after, None, None)?;
        connection::load(ctx, None, list).await
    }
    /// Projects this person manages.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn managed_projects(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Page forward: at most this many items (max 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Page forward: items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Page backward: at most this many items, the last ones (max 100).")]
        last: Option<i32>,
        #[graphql(desc = "Page backward: items before this cursor.")] before: Option<String>,
    ) -> Result<Conn<Project>> {
        let list = connection::list(
            ProjectScope::Manager,
            listing::ProjectFilter::default(),
            first,
            after,
            last,
            before,
        )?;
        connection::load(ctx, Some(self.0.id), list).await
    }
    /// When the person was recorded.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the person last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Row version, for `expectedVersion` in updates.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

wrapper!(
    /// An ITIL process, e.g. `change-management`: its owner (accountable), managers (run it
    /// day to day, possibly per region), practitioners (perform it) and policies.
    Process, process::Model
);

impl Process {
    async fn holders(&self, ctx: &Context<'_>, role: entity::ProcessRole) -> Result<Vec<Person>> {
        let rows = children(ctx, relations::roles_of_process(), self.0.id).await?;
        let mut ids: Vec<i64> = rows
            .iter()
            .filter(|a| a.role == role)
            .map(|a| a.person_id)
            .collect();
        // A person may hold the same role for several scopes; list them once.
        let mut seen = std::collections::HashSet::new();
        ids.retain(|id| seen.insert(*id));
        Ok(many::<person::Entity>(ctx, ids)
            .await?
            .into_iter()
            .map(Person)
            .collect())
    }
}

#[Object(use_type_description)]
impl Process {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        encode(Kind::Process, self.0.id)
    }
    /// Unique slug, e.g. `change-management`; look-up key of `Query.process`.
    async fn key(&self) -> &str {
        &self.0.key
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Purpose and scope of the process.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// The process owner, accountable for the process; at most one.
    async fn owner(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        Ok(self
            .holders(ctx, entity::ProcessRole::Owner)
            .await?
            .into_iter()
            .next())
    }
    /// The process managers.
    async fn managers(&self, ctx: &Context<'_>) -> Result<Vec<Person>> {
        self.holders(ctx, entity::ProcessRole::Manager).await
    }
    /// The process practitioners.
    async fn practitioners(&self, ctx: &Context<'_>) -> Result<Vec<Person>> {
        self.holders(ctx, entity::ProcessRole::Practitioner).await
    }
    /// Every role assignment, with its scope.
    async fn role_assignments(&self, ctx: &Context<'_>) -> Result<Vec<ProcessRoleAssignment>> {
        let rows = children(ctx, relations::roles_of_process(), self.0.id).await?;
        Ok(rows.iter().cloned().map(ProcessRoleAssignment).collect())
    }
    /// The rules that govern the process, e.g. "All incidents must be logged".
    async fn policies(&self, ctx: &Context<'_>) -> Result<Vec<Policy>> {
        let rows = children(ctx, relations::policies_of_process(), self.0.id).await?;
        Ok(rows.iter().cloned().map(Policy).collect())
    }
}

wrapper!(
    /// A person holding a role on a process, optionally for a scope such as a region.
    ProcessRoleAssignment, process_role_assignment::Model
);

#[Object(use_type_description)]
impl ProcessRoleAssignment {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        encode(Kind::ProcessRoleAssignment, self.0.id)
    }
    /// The process.
    async fn process(&self, ctx: &Context<'_>) -> Result<Process> {
        Ok(required::<process::Entity>(ctx, self.0.process_id)
            .await?
            .into())
    }
    /// The role holder.
    async fn person(&self, ctx: &Context<'_>) -> Result<Person> {
        Ok(required::<person::Entity>(ctx, self.0.person_id)
            .await?
            .into())
    }
    /// Owner, manager or practitioner.
    async fn role(&self) -> ProcessRole {
        self.0.role.into()
    }
    /// Where the role applies, e.g. a region; null means everywhere.
    async fn scope(&self) -> Option<&str> {
        self.0.scope.as_deref()
    }
}

wrapper!(
    /// A policy: a rule that governs a process.
    Policy, policy::Model
);

#[Object(use_type_description)]
impl Policy {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        encode(Kind::Policy, self.0.id)
    }
    /// The governed process.
    async fn process(&self, ctx: &Context<'_>) -> Result<Process> {
        Ok(required::<process::Entity>(ctx, self.0.process_id)
            .await?
            .into())
    }
    /// The rule, e.g. "All incidents must be logged".
    async fn statement(&self) -> &str {
        &self.0.statement
    }
}
