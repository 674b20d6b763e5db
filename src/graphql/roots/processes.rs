//! Processes, their policies and the roles people hold in them.

use async_graphql::{Context, ID, Object, Result};
use entity::process;

use crate::graphql::connection::{self, Conn};
use crate::graphql::enums::*;
use crate::graphql::ids::{Kind, decode};
use crate::graphql::types::*;
use crate::graphql::viewer::{Viewer, ViewerOf};
use crate::graphql::{db, gov};
use crate::store::listing::{self, Root};
use crate::store::lookup::by_key;

/// The part of `Query` for processes, their policies and the roles people hold in them.
#[derive(Default)]
pub struct ProcessesQuery;

#[Object]
impl ProcessesQuery {
    /// Processes.
    #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
    async fn processes(
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
    ) -> Result<Conn<Process>> {
        connection::load(
            ctx,
            None,
            connection::list(
                Root::Root,
                listing::AllProcesses,
                first,
                after,
                last,
                before,
            )?,
        )
        .await
    }

    /// A process by its key, e.g. `change-management`.
    async fn process(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The process's key, e.g. `change-management`.")] key: String,
    ) -> Result<Option<Process>> {
        Ok(
            by_key::<process::Entity, _>(db(ctx), process::Column::Key, &key)
                .await?
                .map(Process),
        )
    }
}

/// The part of `Mutation` for processes, their policies and the roles people hold in them.
#[derive(Default)]
pub struct ProcessesMutation;

#[Object]
impl ProcessesMutation {
    /// Adds a process. ADMIN.
    async fn create_process(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Unique slug, e.g. `problem-management`.")] key: String,
        #[graphql(desc = "Display name (1–200 characters).")] name: String,
        #[graphql(desc = "Purpose and scope.")] description: Option<String>,
    ) -> Result<Process> {
        let p = gov(ctx)
            .create_process(Viewer::of(ctx), &key, &name, description)
            .await?;
        Ok(Process(p))
    }

    /// Adds a policy to a process. ADMIN or the process's OWNER.
    async fn add_policy(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The process.")] process_id: ID,
        #[graphql(desc = "The rule, e.g. \"All incidents must be logged\".")] statement: String,
    ) -> Result<Policy> {
        let pid = decode(&process_id, Kind::Process, "processId")?;
        let p = gov(ctx)
            .add_policy(Viewer::of(ctx), pid, &statement)
            .await?;
        Ok(Policy(p))
    }

    /// Gives a person a role on a process. ADMIN or the process's OWNER. A process has one
    /// OWNER at a time: assigning a second is CONFLICT (revoke the first).
    async fn assign_process_role(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The process.")] process_id: ID,
        #[graphql(desc = "The person.")] person_id: ID,
        #[graphql(desc = "The role.")] role: ProcessRole,
        #[graphql(desc = "Where the role applies, e.g. a region.")] scope: Option<String>,
    ) -> Result<ProcessRoleAssignment> {
        let proc_id = decode(&process_id, Kind::Process, "processId")?;
        let person = decode(&person_id, Kind::Person, "personId")?;
        let a = gov(ctx)
            .assign_process_role(Viewer::of(ctx), proc_id, person, role.into(), scope)
            .await?;
        Ok(ProcessRoleAssignment(a))
    }

    /// Ends a role assignment; returns the process. ADMIN or the process's OWNER.
    async fn revoke_process_role(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The assignment.")] assignment_id: ID,
    ) -> Result<Process> {
        let id = decode(&assignment_id, Kind::ProcessRoleAssignment, "assignmentId")?;
        let p = gov(ctx).revoke_process_role(Viewer::of(ctx), id).await?;
        Ok(Process(p))
    }
}
