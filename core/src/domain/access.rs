//! Who is acting and what they may do (DESIGN.md §3, rule 8): the token's person and scope,
//! and the process roles that person holds.

use entity::{ProcessRole, TokenScope, process, process_role_assignment, service};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::error::{AppError, AppResult};
pub use crate::store::listing::Reach;

/// The process whose managers and owner authorize changes.
pub const CHANGE_MANAGEMENT: &str = "change-management";
/// The process whose managers and owner run releases.
pub const RELEASE_MANAGEMENT: &str = "release-management";

/// The caller of a use case: the person and scope of the bearer token, or anonymous.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Actor {
    /// The token's person; `None` for an anonymous caller.
    pub person_id: Option<i64>,
    /// The token's scope; `None` for an anonymous caller.
    pub scope: Option<TokenScope>,
}

impl Actor {
    /// An actor holding a token of `scope` for person `person_id`.
    pub fn new(person_id: i64, scope: TokenScope) -> Self {
        Self {
            person_id: Some(person_id),
            scope: Some(scope),
        }
    }

    /// The operator at the command line (`portfolio import-catalog`): ADMIN, without a
    /// person; no API token can be this.
    pub fn operator() -> Self {
        Self {
            person_id: None,
            scope: Some(TokenScope::Admin),
        }
    }

    /// Whether the caller holds an ADMIN token.
    pub fn is_admin(&self) -> bool {
        self.scope == Some(TokenScope::Admin)
    }

    /// The person of a caller allowed to write: anonymous callers are UNAUTHENTICATED,
    /// READ-scope tokens FORBIDDEN.
    pub fn writer(&self) -> AppResult<i64> {
        match (self.person_id, self.scope) {
            (Some(id), Some(TokenScope::Write | TokenScope::Admin)) => Ok(id),
            (Some(_), _) => Err(AppError::Forbidden(
                "this token has READ scope; writing needs a WRITE or ADMIN token".into(),
            )),
            (None, _) => Err(AppError::Unauthenticated(
                "writing needs a bearer token (Authorization: Bearer <token>)".into(),
            )),
        }
    }

    /// The person of a caller with an ADMIN token, for `what` (used in the refusal).
    pub fn admin(&self, what: &str) -> AppResult<i64> {
        let id = self.writer()?;
        if self.is_admin() {
            Ok(id)
        } else {
            Err(AppError::Forbidden(format!("{what} needs an ADMIN token")))
        }
    }
}

/// One role the actor holds.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Held {
    process_id: i64,
    process_key: String,
    role: ProcessRole,
    /// The services' scope the assignment covers; `None`: every service.
    scope: Option<String>,
}

/// The process roles a person holds now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActorRoles {
    held: Vec<Held>,
}

impl ActorRoles {
    /// Loads the roles of `person_id` (none for an anonymous caller), in one statement.
    pub async fn load<C: ConnectionTrait>(db: &C, person_id: Option<i64>) -> AppResult<Self> {
        let Some(person_id) = person_id else {
            return Ok(Self::default());
        };
        let rows = process_role_assignment::Entity::find()
            .filter(process_role_assignment::Column::PersonId.eq(person_id))
            .find_also_related(process::Entity)
            .all(db)
            .await?;
        Ok(Self::from_rows(rows.into_iter().filter_map(|(a, p)| {
            p.map(|p| (a.process_id, p.key, a.role, a.scope))
        })))
    }

    /// Builds the set from `(process id, process key, role, scope)` rows.
    pub fn from_rows(
        rows: impl IntoIterator<Item = (i64, String, ProcessRole, Option<String>)>,
    ) -> Self {
        Self {
            held: rows
                .into_iter()
                .map(|(process_id, process_key, role, scope)| Held {
                    process_id,
                    process_key,
                    role,
                    scope,
                })
                .collect(),
        }
    }

    /// The first of `services` that none of the actor's `roles` on process `process_key`
    /// covers: a role covers every service when it is the OWNER or has no scope, else the
    /// services of its scope. `None` when all are covered.
    pub fn uncovered<'s>(
        &self,
        process_key: &str,
        roles: &[ProcessRole],
        services: &'s [service::Model],
    ) -> Option<&'s service::Model> {
        let held: Vec<&Held> = self
            .held
            .iter()
            .filter(|h| h.process_key == process_key && roles.contains(&h.role))
            .collect();
        if held
            .iter()
            .any(|h| h.role == ProcessRole::Owner || h.scope.is_none())
        {
            return None;
        }
        services
            .iter()
            .find(|s| !held.iter().any(|h| h.scope.is_some() && h.scope == s.scope))
    }

    /// Which services the actor's `roles` on process `process_key` reach.
    pub fn reach(&self, process_key: &str, roles: &[ProcessRole]) -> Reach {
        let held: Vec<&Held> = self
            .held
            .iter()
            .filter(|h| h.process_key == process_key && roles.contains(&h.role))
            .collect();
        if held.is_empty() {
            Reach::Nothing
        } else if held
            .iter()
            .any(|h| h.role == ProcessRole::Owner || h.scope.is_none())
        {
            Reach::Everywhere
        } else {
            let mut scopes: Vec<String> = held.iter().filter_map(|h| h.scope.clone()).collect();
            scopes.sort_unstable();
            scopes.dedup();
            Reach::Scopes(scopes)
        }
    }

    /// The scopes of the actor's `roles` on process `process_key`, for messages.
    pub fn scopes(&self, process_key: &str, roles: &[ProcessRole]) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .held
            .iter()
            .filter(|h| h.process_key == process_key && roles.contains(&h.role))
            .filter_map(|h| h.scope.as_deref())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether one of `roles` is held on the process with key `process_key`.
    pub fn holds(&self, process_key: &str, roles: &[ProcessRole]) -> bool {
        self.held
            .iter()
            .any(|h| h.process_key == process_key && roles.contains(&h.role))
    }

    /// Whether the actor is the OWNER of process `process_id`.
    pub fn owns(&self, process_id: i64) -> bool {
        self.held
            .iter()
            .any(|h| h.process_id == process_id && h.role == ProcessRole::Owner)
    }
}

/// Change-management roles that decide on changes (rules 2 and 3).
pub const DECIDERS: &[ProcessRole] = &[ProcessRole::Owner, ProcessRole::Manager];
/// Change-management roles that schedule, start, complete and close changes.
pub const IMPLEMENTERS: &[ProcessRole] = &[
    ProcessRole::Owner,
    ProcessRole::Manager,
    ProcessRole::Practitioner,
];
/// Release-management roles that run releases.
pub const RELEASERS: &[ProcessRole] = &[ProcessRole::Owner, ProcessRole::Manager];

/// The people who hold the OWNER role on process `process_key`, in one statement.
pub async fn owners_of<C: ConnectionTrait>(db: &C, process_key: &str) -> AppResult<Vec<i64>> {
    Ok(process_role_assignment::Entity::find()
        .filter(process_role_assignment::Column::Role.eq(ProcessRole::Owner.as_str()))
        .find_also_related(process::Entity)
        .all(db)
        .await?
        .into_iter()
        .filter(|(_, p)| p.as_ref().is_some_and(|p| p.key == process_key))
        .map(|(a, _)| a.person_id)
        .collect())
}
