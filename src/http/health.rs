//! Liveness and readiness probes.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::AppState;

/// `/health`: the process is up and serving HTTP.
pub async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `/ready`: the database answers, as the monitor last saw it (every
/// second, on a connection of its own); 503 while it does not. A load
/// balancer polling this does not add to the pool's load, and a pool busy
/// with long queries does not read as an outage.
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    if state.health.is_up() {
        (StatusCode::OK, Json(json!({ "status": "ready" })))
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "unavailable", "reason": "database unreachable" })))
    }
}
