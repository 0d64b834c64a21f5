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
/// with long queries does not read as an outage. With read replicas, each
/// is listed as up or not and how many bytes of WAL it is behind the
/// primary; a replica down only sends reads elsewhere, so it never makes
/// the server unready.
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let (status, mut body) = if state.health.is_up() {
        (StatusCode::OK, json!({ "status": "ready" }))
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, json!({ "status": "unavailable", "reason": "database unreachable" }))
    };
    if let Some(replicas) = state.executor.replicas() {
        body["replicas"] = Value::Array(replicas.status());
    }
    (status, Json(body))
}
