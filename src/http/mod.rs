//! The HTTP surface: `/graphql`, `/graphql/ws`, `/graphiql`, `/health`, `/ready`.

mod graphiql;
mod graphql;
mod health;
mod ws;

use std::sync::Arc;

use axum::Router;
use axum::http::HeaderValue;
use axum::routing::get;
use sea_orm::DatabaseConnection;
use tokio::sync::{Semaphore, watch};
use tower_http::trace::TraceLayer;

use crate::auth::{self, AuthError, Caller};
use crate::graphql::{Registry, RegistrySchema};
use crate::startup::ServerOptions;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub schema: RegistrySchema,
    pub registry: Registry,
    /// One permit per GraphQL operation executing; bounds CPU and memory under load.
    pub executions: Arc<Semaphore>,
    pub options: Arc<ServerOptions>,
    /// Flips to true when the server starts shutting down; open WebSockets close.
    pub shutdown: watch::Receiver<bool>,
}

impl AppState {
    pub fn new(
        schema: RegistrySchema,
        registry: Registry,
        options: &ServerOptions,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        AppState {
            schema,
            registry,
            executions: Arc::new(Semaphore::new(options.max_concurrent_queries.max(1))),
            options: Arc::new(options.clone()),
            shutdown,
        }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.registry.db
    }
}

/// Who a request comes from, from its `Authorization` header: anonymous
/// without one, the token's holder with a valid one, and a refusal for a
/// malformed, unknown or revoked token, even where reads are public, so a
/// client never mistakes a bad credential for an anonymous session.
pub async fn caller(state: &AppState, header: Option<&HeaderValue>) -> Result<Caller, AuthError> {
    let Some(header) = header else { return Ok(Caller::Anonymous) };
    let token = auth::bearer(header.to_str().map_err(|_| AuthError::Malformed)?)?;
    auth::authenticate(state.db(), token).await
}

/// The application's routes, without binding anything: tests and the server share it.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/graphql", get(graphql::graphql).post(graphql::graphql))
        .route("/graphql/ws", get(ws::upgrade))
        .route("/graphiql", get(graphiql::index))
        .route("/graphiql/", get(graphiql::index))
        .route("/graphiql/{file}", get(graphiql::asset))
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
