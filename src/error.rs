//! The errors the API can answer with, each carrying a stable `extensions.code`.

use async_graphql::ErrorExtensions;

/// An error a resolver can return; converted to a GraphQL error whose
/// `extensions.code` clients can match on. Database and other internal
/// failures are logged here and reach clients only as a generic message.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// The input is malformed or out of range; `field` names the argument when known.
    #[error("{message}")]
    BadUserInput { message: String, field: Option<String> },
    /// The named record does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The change would break a rule of the registry (a key already taken,
    /// dependent records in the way); `field` names the input field when known.
    #[error("{message}")]
    Conflict { message: String, field: Option<String> },
    /// The record changed since the caller read it: `expectedVersion` is stale.
    #[error("the record is at version {current}, not {expected}: it changed since you read it; re-read it and retry")]
    StaleVersion { expected: i32, current: i32 },
    /// No valid token came with a request that needs one.
    #[error("{0}")]
    Unauthenticated(String),
    /// The token's role is not enough for this.
    #[error("{0}")]
    Forbidden(String),
    /// The database cannot be reached; retry later.
    #[error("the registry's database is unavailable; retry shortly")]
    Unavailable,
    /// The operation ran out of time before this part of it began.
    #[error("{0}")]
    Timeout(String),
    /// Something failed on our side; the details are in the server log.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn bad_input(field: &str, message: impl Into<String>) -> Self {
        ApiError::BadUserInput { message: message.into(), field: Some(field.to_owned()) }
    }

    pub fn conflict(field: &str, message: impl Into<String>) -> Self {
        ApiError::Conflict { message: message.into(), field: Some(field.to_owned()) }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadUserInput { .. } => "BAD_USER_INPUT",
            ApiError::NotFound(_) => "NOT_FOUND",
            ApiError::Conflict { .. } => "CONFLICT",
            ApiError::StaleVersion { .. } => "STALE_VERSION",
            ApiError::Unauthenticated(_) => "UNAUTHENTICATED",
            ApiError::Forbidden(_) => "FORBIDDEN",
            ApiError::Unavailable => "UNAVAILABLE",
            ApiError::Timeout(_) => "TIMEOUT",
            ApiError::Internal(_) => "INTERNAL",
        }
    }
}

/// The sqlx error under a database error, if any.
fn sqlx_error(err: &sea_orm::DbErr) -> Option<&sqlx::Error> {
    use sea_orm::{DbErr, RuntimeErr};
    match err {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => Some(e.as_ref()),
        _ => None,
    }
}

/// Whether a database error is the database being out of reach (no
/// connection, a lost one, PostgreSQL shutting down or refusing it) rather
/// than a statement failing.
pub fn is_outage(err: &sea_orm::DbErr) -> bool {
    if matches!(err, sea_orm::DbErr::ConnectionAcquire(_) | sea_orm::DbErr::Conn(_)) {
        return true;
    }
    match sqlx_error(err) {
        Some(sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Tls(_)) => true,
        // PostgreSQL ending or refusing the connection (a restart, a
        // shutdown: SQLSTATE classes 08 and 57P).
        Some(sqlx::Error::Database(db)) => {
            db.code().is_some_and(|code| code.starts_with("08") || code.starts_with("57P"))
        }
        _ => false,
    }
}

/// Whether a database error is only a pool with no connection ready in
/// time: every one busy, or none could be opened (sqlx retries a refused
/// connection until then).
pub fn is_pool_timeout(err: &sea_orm::DbErr) -> bool {
    matches!(err, sea_orm::DbErr::ConnectionAcquire(sea_orm::error::ConnAcquireErr::Timeout))
        || matches!(sqlx_error(err), Some(sqlx::Error::PoolTimedOut))
}

/// Whether a database error says the server cannot be reached: an outage
/// other than a pool that had no connection free in time.
pub fn is_unreachable(err: &sea_orm::DbErr) -> bool {
    is_outage(err) && !is_pool_timeout(err)
}

/// Whether a standby cancelled a read to go on replaying (a recovery
/// conflict: SQLSTATE 40001, or 40P01 for a buffer-pin deadlock).
pub fn is_recovery_conflict(err: &sea_orm::DbErr) -> bool {
    matches!(sqlx_error(err), Some(sqlx::Error::Database(db)) if matches!(db.code().as_deref(), Some("40001" | "40P01")))
}

impl From<sea_orm::DbErr> for ApiError {
    /// What a database error means for the client: an outage, a race with
    /// another writer (retry), or a failure of ours (logged, never shown).
    fn from(err: sea_orm::DbErr) -> Self {
        if is_outage(&err) {
            return ApiError::Unavailable;
        }
        // PostgreSQL: deadlock, serialization failure, foreign-key and
        // unique violations; SQLite: busy, foreign key, unique.
        if let Some(sqlx::Error::Database(db)) = sqlx_error(&err)
            && matches!(
                db.code().as_deref(),
                Some("40P01" | "40001" | "23503" | "23505" | "5" | "517" | "787" | "1555" | "2067")
            )
        {
            tracing::info!(error = %err, "write lost a race with another writer");
            return ApiError::Conflict {
                message: "another change to the same records got in first; re-read and retry".into(),
                field: None,
            };
        }
        ApiError::Internal(format!("database error: {err}"))
    }
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        if let ApiError::Internal(detail) = self {
            // The client sees a generic message and the request id; this line has the rest.
            tracing::error!(detail = %detail, "internal error");
        }
        async_graphql::Error::new(self.to_string()).extend_with(|_, ext| {
            ext.set("code", self.code());
            match self {
                ApiError::BadUserInput { field: Some(field), .. } | ApiError::Conflict { field: Some(field), .. } => {
                    ext.set("field", field.as_str());
                }
                ApiError::StaleVersion { expected, current } => {
                    // A stale version is a conflict; clients matching either find it.
                    ext.set("conflict", true);
                    ext.set("expectedVersion", *expected);
                    ext.set("currentVersion", *current);
                }
                _ => {}
            }
        })
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        err.extend()
    }
}

/// What resolvers return.
pub type ApiResult<T> = Result<T, ApiError>;
