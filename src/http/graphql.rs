//! `GET`/`POST /graphql`: GraphQL over HTTP, per the GraphQL-over-HTTP
//! specification (see [`super::transport`] for the wire rules).
//!
//! Statuses: transport errors (not JSON, wrong content type, bad
//! parameters) are 4xx whatever the media type. A request that never runs
//! (does not parse, fails validation or a limit, misses a required
//! variable, a persisted query not found) is 400 under
//! `application/graphql-response+json` and 200 under `application/json`;
//! so are a timeout (504) and an unavailable database (503). A response
//! that ran is 200. A mutation over GET is 405 with `Allow: POST`. An
//! operation the client's budget cannot pay for is 429 with `Retry-After`;
//! every operation's answer reports the budget in `RateLimit` and
//! `RateLimit-Policy` headers (and, when it ran, in `extensions.rateLimit`).

use std::time::Instant;

use async_graphql::ServerError;
use async_graphql::parser::types::OperationType;
use axum::body::{Body, to_bytes};
use axum::extract::connect_info::ConnectInfo;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::json;

use super::body::Pieces;
use super::transport::{self, Incoming, MediaType, TransportError};
use super::{AppState, RATELIMIT, RATELIMIT_POLICY, RequestId};
use crate::auth::{AuthError, Role};
use crate::budget::{Client, Over, Spent};
use crate::error::ApiError;
use crate::gate::{Admitted, Params, Refused, coded};
use crate::graphql::lang::Lang;
use crate::graphql::{Asker, ReadFrom};

/// A finished answer for one operation.
struct Answer {
    status: StatusCode,
    /// The JSON answer, in the pieces it was written in.
    body: Vec<Bytes>,
    /// A mutation sent by GET: 405 with `Allow: POST`.
    post_only: bool,
    /// What the operation spent of the client's budget, or why it could not.
    budget: Budget,
}

/// An operation's budget, as its answer reports it.
#[derive(Clone, Debug, Default)]
enum Budget {
    /// Budgets are off for this kind of client.
    #[default]
    Off,
    Spent(Spent),
    Over(Over),
}

impl Budget {
    /// The `RateLimit-Policy`, `RateLimit` and `Retry-After` headers.
    fn write(&self, headers: &mut HeaderMap) {
        let (policy, remaining, retry_after) = match self {
            Budget::Off => return,
            Budget::Spent(spent) => (spent.policy_header(), Some(spent.header()), None),
            Budget::Over(over) => (over.policy_header(), over.header(), over.retry_after_seconds()),
        };
        for (name, value) in [(RATELIMIT_POLICY, Some(policy)), (RATELIMIT, remaining)] {
            if let Some(Ok(value)) = value.map(|value| HeaderValue::from_str(&value)) {
                headers.insert(name, value);
            }
        }
        if let Some(seconds) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
    }
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

/// [`errors_body`], as an answer's one piece.
fn errors_answer(errors: &[ServerError]) -> Vec<Bytes> {
    vec![errors_body(errors).into()]
}

fn transport_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    json_response(status, MediaType::Json, to_json(&body))
}

fn json_response(status: StatusCode, media: MediaType, body: impl Into<Body>) -> Response {
    let mut response = (status, body.into()).into_response();
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
    Answer {
        status: refused_status(media, refused.code()),
        body: errors_answer(&refused.errors),
        post_only: false,
        budget: Budget::Off,
    }
}

/// 429 whatever the media type: the request is fine, the client must wait.
fn rate_limited(over: Over) -> Answer {
    let mut error = coded("RATE_LIMITED", over.message());
    let extensions = error.extensions.get_or_insert_with(Default::default);
    extensions.set("cost", over.cost);
    extensions.set("limit", over.limit);
    if let Some(seconds) = over.retry_after_seconds() {
        extensions.set("retryAfterSeconds", seconds);
    }
    Answer {
        status: StatusCode::TOO_MANY_REQUESTS,
        body: errors_answer(&[error]),
        post_only: false,
        budget: Budget::Over(over),
    }
}

pub async fn graphql(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    RawQuery(raw_query): RawQuery,
    request_id: Option<axum::Extension<RequestId>>,
    peer: Option<axum::Extension<ConnectInfo<std::net::SocketAddr>>>,
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
    let address = state.client_address(&headers, peer.map(|p| p.0.0));
    if headers.contains_key(header::AUTHORIZATION)
        && let Err(over) = state.budgets.may_look_up(address)
    {
        return respond(rate_limited(over), media);
    }
    // The time limit counts from here: the token lookup is part of the operation's time.
    let arrived = tokio::time::Instant::now();
    let caller = match super::caller(&state, headers.get(header::AUTHORIZATION), arrived + state.gate.limits.timeout)
        .await
    {
        Ok(caller) => caller,
        Err(AuthError::Database(_)) => {
            return transport_error(StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE", &ApiError::Unavailable.to_string());
        }
        Err(AuthError::TimedOut) => {
            let limit = state.gate.limits.timeout.as_millis();
            let message = format!("the token could not be checked within {limit} ms; the request was cancelled");
            return transport_error(StatusCode::GATEWAY_TIMEOUT, "TIMEOUT", &message);
        }
        Err(e) => {
            // The lookup was work done for nothing: the address pays a point,
            // and once it cannot, it is refused before the next lookup.
            let budget = match state.budgets.refused_token(address) {
                Ok(Some(spent)) => Budget::Spent(spent),
                Ok(None) => Budget::Off,
                Err(over) => return respond(rate_limited(over), media),
            };
            let mut response = unauthenticated(&e.to_string());
            budget.write(response.headers_mut());
            return response;
        }
    };
    if state.options.require_auth_for_reads && !caller.has(Role::Viewer) {
        return unauthenticated(
            "this server needs an API token for every request: send `Authorization: Bearer <token>`",
        );
    }
    let lang = header_text(header::ACCEPT_LANGUAGE).map(Lang::from_accept_language).unwrap_or_default();
    let request_id = request_id.map(|r| r.0.0.clone()).unwrap_or_default();
    let client = Client::of(&caller, address);
    let asker = Asker { caller, lang, read_from: ReadFrom::Replicas };
    match incoming {
        Incoming::Single(params) => {
            respond(run(&state, params, via_get, media, &asker, &client, &request_id, arrived).await, media)
        }
        Incoming::Batch(batch) => {
            // One after the other: a batch takes no more of the server at once than one request.
            let mut bytes = vec![b'['];
            // The headers tell the budget after the last operation, or the
            // first the budget could not pay for.
            let mut budget = Budget::Off;
            for (i, params) in batch.into_iter().enumerate() {
                if i > 0 {
                    bytes.push(b',');
                }
                // Each operation has the whole limit, the first counting from the request's arrival.
                let since = if i == 0 { arrived } else { tokio::time::Instant::now() };
                let answer = run(&state, params, via_get, media, &asker, &client, &request_id, since).await;
                answer.body.iter().for_each(|piece| bytes.extend_from_slice(piece));
                if !matches!(budget, Budget::Over(_)) {
                    budget = answer.budget;
                }
            }
            bytes.push(b']');
            let mut response = json_response(StatusCode::OK, media, bytes);
            budget.write(response.headers_mut());
            response
        }
    }
}

/// The HTTP response of one operation's answer.
fn respond(answer: Answer, media: MediaType) -> Response {
    let mut response = json_response(answer.status, media, Body::new(Pieces::new(answer.body)));
    if answer.post_only {
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
    }
    answer.budget.write(response.headers_mut());
    response
}

/// 401 with a GraphQL error: the request was not run.
fn unauthenticated(message: &str) -> Response {
    let mut response = transport_error(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", message);
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// Admits, charges, runs and measures one operation.
async fn run(
    state: &AppState,
    params: Params,
    via_get: bool,
    media: MediaType,
    asker: &Asker,
    client: &Client,
    request_id: &str,
    since: tokio::time::Instant,
) -> Answer {
    let metrics = &state.metrics;
    // Refused operations are not allowed to claim a label of their own.
    let asked = metrics.known_operation_label(params.operation_name.as_deref());
    let admitted = state.gate.admit(params);
    // A document refused before it runs costs a point; one admitted, its cost.
    let cost = admitted.as_ref().map_or(1, |admitted| admitted.analysis.measure.cost);
    let budget = match state.budgets.spend(client, cost) {
        Ok(Some(spent)) => Budget::Spent(spent),
        Ok(None) => Budget::Off,
        Err(over) => {
            metrics.operations.with_label_values(&[asked.as_str(), "RATE_LIMITED"]).inc();
            tracing::info!(operation = %asked, cost = over.cost, policy = over.policy, "operation over budget");
            return rate_limited(over);
        }
    };
    let admitted = match admitted {
        Ok(admitted) => admitted,
        Err(no) => {
            metrics.operations.with_label_values(&[asked.as_str(), no.code()]).inc();
            tracing::info!(operation = %asked, outcome = no.code(), "operation refused before running");
            return Answer { budget, ..refused(media, &no) };
        }
    };
    let answer = execute(state, admitted, via_get, media, asker, &budget, request_id, since).await;
    Answer { budget, ..answer }
}

/// Runs and measures an admitted operation the budget paid for.
async fn execute(
    state: &AppState,
    admitted: Admitted,
    via_get: bool,
    media: MediaType,
    asker: &Asker,
    budget: &Budget,
    request_id: &str,
    since: tokio::time::Instant,
) -> Answer {
    let started = Instant::now();
    let metrics = &state.metrics;
    let label = metrics.operation_label(admitted.operation_name.as_deref());
    match admitted.operation_type {
        OperationType::Mutation if via_get => {
            let error = coded("METHOD_NOT_ALLOWED", "mutations are sent with POST");
            return Answer {
                status: StatusCode::METHOD_NOT_ALLOWED,
                body: errors_answer(&[error]),
                post_only: true,
                budget: Budget::Off,
            };
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
    let deadline = since + timeout;
    // Waiting for a turn counts against the timeout: a full queue answers in time too.
    let executed = match tokio::time::timeout_at(deadline, state.executions.acquire()).await {
        Ok(_permit) => {
            let operation_type = admitted.operation_type;
            state
                .executor
                .execute_by(asker.clone(), admitted.into_request(&state.gate), operation_type, deadline)
                .await
                .ok()
        }
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
    if let Budget::Spent(spent) = budget {
        executed.set_extension(
            "rateLimit",
            async_graphql::value!({
                "policy": spent.policy,
                "limit": spent.limit,
                "remaining": spent.remaining,
                "resetSeconds": spent.reset_seconds,
                "cost": spent.cost,
            }),
        );
    }
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
    let body = executed.to_json_pieces().unwrap_or_else(|e| vec![unserialisable(e).into()]);
    if body.iter().map(Bytes::len).sum::<usize>() >= BIG_RESPONSE_BYTES {
        // Freeing a big result (tens of thousands of maps and strings) takes
        // milliseconds the client need not wait for: another thread does it
        // while the answer is on its way.
        tokio::task::spawn_blocking(move || drop(executed));
    }
    Answer { status: StatusCode::OK, body, post_only: false, budget: Budget::Off }
}

/// From this size on, a result is freed off the request's path.
const BIG_RESPONSE_BYTES: usize = 64 * 1024;
