//! The HTTP surface: `/graphql`, `/graphiql`, `/health`, `/ready`.

mod graphiql;
mod graphql;
mod health;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use sea_orm::DatabaseConnection;
use tokio::sync::Semaphore;
use tower_http::trace::TraceLayer;

use crate::graphql::RegistrySchema;
use crate::startup::ServerOptions;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub schema: RegistrySchema,
    pub db: DatabaseConnection,
    /// One permit per GraphQL operation executing; bounds CPU and memory under load.
    pub executions: Arc<Semaphore>,
}

impl AppState {
    pub fn new(schema: RegistrySchema, db: DatabaseConnection, options: &ServerOptions) -> Self {
        AppState { schema, db, executions: Arc::new(Semaphore::new(options.max_concurrent_queries.max(1))) }
    }
}

/// The application's routes, without binding anything: tests and the server share it.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/graphql", get(graphql::graphql).post(graphql::graphql))
        .route("/graphiql", get(graphiql::index))
        .route("/graphiql/", get(graphiql::index))
        .route("/graphiql/{file}", get(graphiql::asset))
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
