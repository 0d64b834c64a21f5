//! `GET`/`POST /graphql`: runs one GraphQL request with its own counting
//! connection and reports the statements it cost in `extensions`.

use async_graphql::ParseRequestError;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use crate::auth::{AuthError, Role};
use crate::error::ApiError;
use crate::graphql::Asker;
use crate::graphql::lang::Lang;

/// A request that is not GraphQL over HTTP at all, answered as a GraphQL
/// error with a code rather than the transport's debug text.
pub struct Rejection(ParseRequestError);

impl From<ParseRequestError> for Rejection {
    fn from(err: ParseRequestError) -> Self {
        Rejection(err)
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let (status, message) = match &self.0 {
            ParseRequestError::PayloadTooLarge => {
                (StatusCode::PAYLOAD_TOO_LARGE, "the request body is too large".to_owned())
            }
            ParseRequestError::InvalidRequest(e) => {
                (StatusCode::BAD_REQUEST, format!("the request is not valid GraphQL over HTTP: {e}"))
            }
            ParseRequestError::UnsupportedBatch => {
                (StatusCode::BAD_REQUEST, "batched requests are not supported".to_owned())
            }
            ParseRequestError::Io(_) => (StatusCode::BAD_REQUEST, "the request body could not be read".to_owned()),
            _ => (StatusCode::BAD_REQUEST, "file uploads are not supported".to_owned()),
        };
        let body = json!({ "errors": [{ "message": message, "extensions": { "code": "BAD_REQUEST" } }] });
        (status, Json(body)).into_response()
    }
}

/// 401 with a GraphQL error: the request was not executed.
fn unauthenticated(message: &str) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": "UNAUTHENTICATED" } }] });
    let mut response = (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

pub async fn graphql(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: GraphQLRequest<Rejection>,
) -> Response {
    let lang = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Lang::from_accept_language)
        .unwrap_or_default();
    let caller = match super::caller(&state, headers.get(header::AUTHORIZATION)).await {
        Ok(caller) => caller,
        Err(AuthError::Database(_)) => {
            let body = json!({ "errors": [{ "message": ApiError::Unavailable.to_string(), "extensions": { "code": "UNAVAILABLE" } }] });
            return (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
        }
        Err(e) => return unauthenticated(&e.to_string()),
    };
    if state.options.require_auth_for_reads && !caller.has(Role::Viewer) {
        return unauthenticated(
            "this server needs an API token for every request: send `Authorization: Bearer <token>`",
        );
    }
    // Held until the response is serialized: a big result's memory is part of its cost.
    let Ok(_permit) = state.executions.acquire().await else {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    };
    let asker = Asker { caller, lang };
    let response = crate::graphql::execute(&state.schema, &state.registry, asker, request.into_inner()).await;
    let mut response = GraphQLResponse::from(response).into_response();
    // Text comes back in the language the header asks for.
    response.headers_mut().insert(header::VARY, HeaderValue::from_static("accept-language"));
    response
}
