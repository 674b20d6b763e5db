//! The one error type of the service and its stable, client-facing codes (DESIGN.md §4).
//!
//! Web-free: the domain and store layers return [`AppError`]; the GraphQL layer turns it
//! into an error with `extensions.code`. Database causes are logged here and never sent.

use std::sync::Arc;

use sea_orm::{DbErr, RuntimeErr, SqlErr};

/// Every way a request can fail, each with a stable `extensions.code`.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input is malformed or breaks a validation rule.
    #[error("{0}")]
    BadUserInput(String),
    /// The referenced object does not exist (or is of another type).
    #[error("{0}")]
    NotFound(String),
    /// The request collides with the current state (duplicate, stale version, concurrent write).
    #[error("{0}")]
    Conflict(String),
    /// No valid credentials.
    #[error("{0}")]
    Unauthenticated(String),
    /// Valid credentials, insufficient rights.
    #[error("{0}")]
    Forbidden(String),
    /// A lifecycle move that the state machine does not allow.
    #[error("{0}")]
    InvalidTransition(String),
    /// A page size, list length or query cost above the configured limit.
    #[error("{0}")]
    LimitExceeded(String),
    /// The caller sent more operations than its rate limit allows; retry after
    /// `retry_after` seconds (HTTP 429 with `Retry-After`).
    #[error("{message}")]
    RateLimited { message: String, retry_after: u64 },
    /// An automatic persisted query names a hash this instance does not know: the client
    /// sends the document once (Apollo's protocol; the message is the one clients look for).
    #[error("PersistedQueryNotFound")]
    PersistedQueryNotFound,
    /// A live subscription missed events (it fell behind, or its instance lost the database
    /// for a moment); it goes on with the next ones, and the client should refetch.
    #[error("{0}")]
    EventsMissed(String),
    /// A database failure; the cause is logged, the client sees a generic message.
    #[error("internal error")]
    Database(#[source] DbErr),
    /// Any other unexpected failure; the cause is logged, never sent.
    #[error("internal error")]
    Internal(String),
}

impl AppError {
    /// The stable `extensions.code` of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadUserInput(_) => "BAD_USER_INPUT",
            Self::NotFound(_) => "NOT_FOUND",
            Self::Conflict(_) => "CONFLICT",
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::InvalidTransition(_) => "INVALID_TRANSITION",
            Self::LimitExceeded(_) => "LIMIT_EXCEEDED",
            Self::EventsMissed(_) => "EVENTS_MISSED",
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            Self::Database(_) | Self::Internal(_) => "INTERNAL",
        }
    }

    /// The message a client may see: internal causes are replaced by a generic text.
    pub fn public_message(&self) -> String {
        match self {
            Self::Database(err) => {
                tracing::error!(error = %err, "database error");
                "internal error; the incident has been logged".to_owned()
            }
            Self::Internal(cause) => {
                tracing::error!(error = %cause, "internal error");
                "internal error; the incident has been logged".to_owned()
            }
            other => other.to_string(),
        }
    }

    /// The message for the operator (a command's error output, the log): the cause of an
    /// internal error included, which clients never see.
    pub fn operator_message(&self) -> String {
        match self {
            Self::Database(err) => format!("database error: {err}"),
            Self::Internal(cause) => format!("internal error: {cause}"),
            other => other.to_string(),
        }
    }

    /// Seconds to wait before retrying, for a caller over its rate limit.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// Shorthand for [`AppError::BadUserInput`].
    pub fn bad_input(msg: impl Into<String>) -> Self {
        Self::BadUserInput(msg.into())
    }

    /// Shorthand for [`AppError::NotFound`].
    pub fn not_found(msg: impl Into<String>) -> Self {
        Self::NotFound(msg.into())
    }
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        if let Some(SqlErr::UniqueConstraintViolation(_)) = err.sql_err() {
            return Self::Conflict("an object with the same unique key already exists".into());
        }
        if is_contention(&err) {
            return Self::Conflict("the object was changed concurrently; retry".into());
        }
        Self::Database(err)
    }
}

impl From<Arc<AppError>> for AppError {
    fn from(err: Arc<AppError>) -> Self {
        match Arc::try_unwrap(err) {
            Ok(inner) => inner,
            Err(shared) => match &*shared {
                Self::BadUserInput(m) => Self::BadUserInput(m.clone()),
                Self::NotFound(m) => Self::NotFound(m.clone()),
                Self::Conflict(m) => Self::Conflict(m.clone()),
                Self::Unauthenticated(m) => Self::Unauthenticated(m.clone()),
                Self::Forbidden(m) => Self::Forbidden(m.clone()),
                Self::InvalidTransition(m) => Self::InvalidTransition(m.clone()),
                Self::LimitExceeded(m) => Self::LimitExceeded(m.clone()),
                Self::EventsMissed(m) => Self::EventsMissed(m.clone()),
                Self::PersistedQueryNotFound => Self::PersistedQueryNotFound,
                Self::RateLimited {
                    message,
                    retry_after,
                } => Self::RateLimited {
                    message: message.clone(),
                    retry_after: *retry_after,
                },
                Self::Database(e) => Self::Internal(e.to_string()),
                Self::Internal(m) => Self::Internal(m.clone()),
            },
        }
    }
}

/// SQLite "database is locked/busy" and PostgreSQL serialization failures or deadlocks are
/// contention between concurrent writers, which a client resolves by retrying.
fn is_contention(err: &DbErr) -> bool {
    let runtime = match err {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        DbErr::Conn(RuntimeErr::SqlxError(e)) => e,
        _ => return false,
    };
    match runtime.as_database_error().and_then(|d| d.code()) {
        Some(code) => matches!(
            code.as_ref(),
            "40001" | "40P01" | "5" | "6" | "517" | "261" | "262"
        ),
        None => false,
    }
}

/// Result of the domain and store layers.
pub type AppResult<T> = Result<T, AppError>;
