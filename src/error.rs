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
    /// Something failed on our side; the details are in the server log.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn bad_input(field: &str, message: impl Into<String>) -> Self {
        ApiError::BadUserInput { message: message.into(), field: Some(field.to_owned()) }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadUserInput { .. } => "BAD_USER_INPUT",
            ApiError::NotFound(_) => "NOT_FOUND",
            ApiError::Internal(_) => "INTERNAL",
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        tracing::error!(error = %err, "database error");
        ApiError::Internal(err.to_string())
    }
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        async_graphql::Error::new(self.to_string()).extend_with(|_, ext| {
            ext.set("code", self.code());
            if let ApiError::BadUserInput { field: Some(field), .. } = self {
                ext.set("field", field.as_str());
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
