//! `GET`/`POST /graphql`: GraphQL over HTTP, per the GraphQL-over-HTTP
//! specification (see [`super::transport`] for the wire rules).
//!
//! Statuses: transport errors (not JSON, wrong content type, bad
//! parameters) are 4xx whatever the media type. A request that never runs
//! (does not parse, fails validation or a limit, misses a required
//! variable, a persisted query not found) is 400 under
//! `application/graphql-response+json` and 200 under `application/json`;
//! so are a timeout (504) and an unavailable database (503). A response
//! that ran is 200. A mutation over GET is 405 with `Allow: POST`.

use std::time::Instant;

use async_graphql::ServerError;
use async_graphql::parser::types::OperationType;
use axum::body::{Body, to_bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::transport::{self, Incoming, MediaType, TransportError};
use super::{AppState, RequestId};
use crate::auth::{AuthError, Role};
use crate::error::ApiError;
use crate::gate::{Params, Refused, coded};
use crate::graphql::Asker;
use crate::graphql::lang::Lang;

/// A finished answer for one operation.
struct Answer {
    status: StatusCode,
    body: Vec<u8>,
    /// A mutation sent by GET: 405 with `Allow: POST`.
    post_only: bool,
}

/// Serialises straight to bytes: a big result is never held twice.
fn to_json(value: &impl serde::Serialize) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_else(unserialisable)
}

fn unserialisable(e: serde_json::Error) -> Vec<u8> {
    tracing::error!(error = %e, "a response could not be serialised");
    br#"{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}"#.to_vec()
}

/// A body of GraphQL errors alone (the request did not run: no `data`).
fn errors_body(errors: &[ServerError]) -> Vec<u8> {
    to_json(&json!({ "errors": errors }))
}

fn transport_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    json_response(status, MediaType::Json, to_json(&body))
}

fn json_response(status: StatusCode, media: MediaType, bytes: Vec<u8>) -> Response {
    let mut response = (status, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media.content_type()));
    // The answer depends on both: the media type and the language of text.
    headers.insert(header::VARY, HeaderValue::from_static("accept, accept-language"));
    response
}

/// The status of a request that did not run, by its error code.
fn refused_status(media: MediaType, code: &str) -> StatusCode {
    match (media, code) {
        (MediaType::Json, _) => StatusCode::OK,
        (MediaType::GraphQLResponse, "UNAVAILABLE") => StatusCode::SERVICE_UNAVAILABLE,
        (MediaType::GraphQLResponse, "TIMEOUT") => StatusCode::GATEWAY_TIMEOUT,
        (MediaType::GraphQLResponse, _) => StatusCode::BAD_REQUEST,
    }
}

fn refused(media: MediaType, refused: &Refused) -> Answer {
    Answer { status: refused_status(media, refused.code()), body: errors_body(&refused.errors), post_only: false }
}

pub async fn graphql(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    RawQuery(raw_query): RawQuery,
    request_id: Option<axum::Extension<RequestId>>,
    body: Body,
) -> Response {
    let header_text = |name| headers.get(name).and_then(|v: &HeaderValue| v.to_str().ok());
    let Some(media) = transport::negotiate(header_text(header::ACCEPT)) else {
        return transport_error(
            StatusCode::NOT_ACCEPTABLE,
            "NOT_ACCEPTABLE",
            "this endpoint answers in application/graphql-response+json or application/json",
        );
    };
    let via_get = method == Method::GET || method == Method::HEAD;
    let incoming = if via_get {
        transport::parse_query_string(raw_query.as_deref().unwrap_or("")).map(Incoming::Single)
    } else {
        if !transport::is_json_body(header_text(header::CONTENT_TYPE)) {
            return transport_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                "a POST body must be application/json (UTF-8)",
            );
        }
        let limit = state.gate.limits.max_body_bytes;
        let Ok(bytes) = to_bytes(body, limit).await else {
            return transport_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                &format!("the request body is larger than {limit} bytes"),
            );
        };
        transport::parse_body(&bytes, state.gate.limits.max_batch)
    };
    let incoming = match incoming {
        Ok(incoming) => incoming,
        Err(e @ TransportError::BatchSize(_)) => {
            return transport_error(StatusCode::BAD_REQUEST, "LIMIT_EXCEEDED", &e.to_string());
        }
        Err(e) => return transport_error(StatusCode::BAD_REQUEST, "BAD_REQUEST", &e.to_string()),
    };
    if !state.health.is_up() {
        // Fail at once, before even a token lookup waits on the pool.
        let error = coded("UNAVAILABLE", ApiError::Unavailable.to_string());
        return json_response(refused_status(media, "UNAVAILABLE"), media, errors_body(&[error]));
    }
    let caller = match super::caller(&state, headers.get(header::AUTHORIZATION)).await {
        Ok(caller) => caller,
        Err(AuthError::Database(_)) => {
            return transport_error(StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE", &ApiError::Unavailable.to_string());
        }
        Err(e) => return unauthenticated(&e.to_string()),
    };
    if state.options.require_auth_for_reads && !caller.has(Role::Viewer) {
        return unauthenticated(
            "this server needs an API token for every request: send `Authorization: Bearer <token>`",
        );
    }
    let lang = header_text(header::ACCEPT_LANGUAGE).map(Lang::from_accept_language).unwrap_or_default();
    let request_id = request_id.map(|r| r.0.0.clone()).unwrap_or_default();
    let asker = Asker { caller, lang };
    match incoming {
        Incoming::Single(params) => {
            let answer = run(&state, params, via_get, media, &asker, &request_id).await;
            let mut response = json_response(answer.status, media, answer.body);
            if answer.post_only {
                response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
            }
            response
        }
        Incoming::Batch(batch) => {
            // One after the other: a batch takes no more of the server at once than one request.
            let mut bytes = vec![b'['];
            for (i, params) in batch.into_iter().enumerate() {
                if i > 0 {
                    bytes.push(b',');
                }
                bytes.extend(run(&state, params, via_get, media, &asker, &request_id).await.body);
            }
            bytes.push(b']');
            json_response(StatusCode::OK, media, bytes)
        }
    }
}

/// 401 with a GraphQL error: the request was not run.
fn unauthenticated(message: &str) -> Response {
    let mut response = transport_error(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", message);
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// Admits, runs and measures one operation.
async fn run(
    state: &AppState,
    params: Params,
    via_get: bool,
    media: MediaType,
    asker: &Asker,
    request_id: &str,
) -> Answer {
    let started = Instant::now();
    let metrics = &state.metrics;
    // Refused operations are not allowed to claim a label of their own.
    let asked = metrics.known_operation_label(params.operation_name.as_deref());
    let admitted = match state.gate.admit(params) {
        Ok(admitted) => admitted,
        Err(no) => {
            metrics.operations.with_label_values(&[asked.as_str(), no.code()]).inc();
            tracing::info!(operation = %asked, outcome = no.code(), "operation refused before running");
            return refused(media, &no);
        }
    };
    let label = metrics.operation_label(admitted.operation_name.as_deref());
    match admitted.operation_type {
        OperationType::Mutation if via_get => {
            let error = coded("METHOD_NOT_ALLOWED", "mutations are sent with POST");
            return Answer { status: StatusCode::METHOD_NOT_ALLOWED, body: errors_body(&[error]), post_only: true };
        }
        OperationType::Subscription => {
            let error =
                coded("BAD_REQUEST", "subscriptions are served over WebSocket at /graphql/ws (graphql-transport-ws)");
            return refused(media, &Refused { errors: vec![error] });
        }
        _ => {}
    }
    let cost = admitted.analysis.measure.cost;
    metrics.cost.observe(cost as f64);
    if !state.health.is_up() {
        metrics.operations.with_label_values(&[label.as_str(), "UNAVAILABLE"]).inc();
        return refused(media, &Refused { errors: vec![coded("UNAVAILABLE", ApiError::Unavailable.to_string())] });
    }
    let timeout = state.gate.limits.timeout;
    let deadline = tokio::time::Instant::now() + timeout;
    // Waiting for a turn counts against the timeout: a full queue answers in time too.
    let executed = match tokio::time::timeout_at(deadline, state.executions.acquire()).await {
        Ok(_permit) => state.executor.execute_by(asker.clone(), admitted.request, deadline).await.ok(),
        Err(_) => None,
    };
    let elapsed = started.elapsed();
    let Some(mut executed) = executed else {
        metrics.operations.with_label_values(&[label.as_str(), "TIMEOUT"]).inc();
        tracing::warn!(operation = %label, timeout_ms = timeout.as_millis() as u64, "operation timed out");
        let message = format!("the operation took longer than {} ms and was cancelled", timeout.as_millis());
        return refused(media, &Refused { errors: vec![coded("TIMEOUT", message)] });
    };
    if executed.never_ran() {
        metrics.operations.with_label_values(&[label.as_str(), executed.first_code().unwrap_or("")]).inc();
        return refused(media, &Refused { errors: executed.into_errors() });
    }
    executed.mask_internal(request_id);
    executed.set_extension("cost", cost);
    let statements = executed.statements();
    let outcome = executed.first_code().unwrap_or("ok");
    metrics.operations.with_label_values(&[label.as_str(), outcome]).inc();
    metrics.duration.with_label_values(&[label.as_str()]).observe(elapsed.as_secs_f64());
    metrics.statements.observe(statements as f64);
    tracing::info!(
        operation = %label,
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        cost,
        sql_statements = statements,
        outcome,
        "operation"
    );
    let body = executed.to_json().unwrap_or_else(unserialisable);
    if body.len() >= BIG_RESPONSE_BYTES {
        // Freeing a big result (tens of thousands of maps and strings) takes
        // milliseconds the client need not wait for: another thread does it
        // while the answer is on its way.
        tokio::task::spawn_blocking(move || drop(executed));
    }
    Answer { status: StatusCode::OK, body, post_only: false }
}

/// From this size on, a result is freed off the request's path.
const BIG_RESPONSE_BYTES: usize = 64 * 1024;
