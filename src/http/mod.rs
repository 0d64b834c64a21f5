//! The HTTP surface: `/graphql`, `/graphql/ws`, `/graphiql`, `/health`,
//! `/ready`, `/metrics` (on its own listener), and what wraps every route: a request id, a trace
//! span, metrics, CORS, compression, and a panic turned into a 500.

mod body;
mod graphiql;
mod graphql;
mod health;
pub mod transport;
mod ws;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sea_orm::DatabaseConnection;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::TraceLayer;

use crate::auth::{self, AuthError, Caller};
use crate::budget::Budgets;
use crate::gate::Gate;
use crate::graphql::Executor;
use crate::metrics::Metrics;
use crate::options::ServerOptions;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The schema and the registry it reads.
    pub executor: Executor,
    /// One permit per GraphQL operation executing; bounds CPU and memory under load.
    pub executions: Arc<Semaphore>,
    pub options: Arc<ServerOptions>,
    /// Persisted documents and the limits every document is held to.
    pub gate: Arc<Gate>,
    pub metrics: Arc<Metrics>,
    /// Whether the database answered lately.
    pub health: Arc<Health>,
    /// What each client may still spend.
    pub budgets: Arc<Budgets>,
    /// Flips to true when the server starts shutting down; open WebSockets close.
    pub shutdown: watch::Receiver<bool>,
}

impl AppState {
    pub fn db(&self) -> &DatabaseConnection {
        self.executor.db()
    }

    /// The client's address: the connection's peer, unless the peer is a
    /// trusted proxy and the configured header names one.
    pub fn client_address(&self, headers: &HeaderMap, peer: Option<SocketAddr>) -> IpAddr {
        let peer = peer.map_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), |p| p.ip());
        match &self.options.client_address_header {
            Some(name) => forwarded_client(headers, name, peer, &self.options.trusted_proxies),
            None => peer,
        }
    }
}

/// The client behind trusted proxies: reading the header's entries from the
/// right (the nearest proxy's), the first address that is not a trusted
/// proxy, or the leftmost when all are. Entries may carry a port
/// (`192.0.2.1:4711`, `[2001:db8::1]:4711`); one that is no address ends
/// the walk at the last address read, so a client cannot hide behind junk.
fn forwarded_client(headers: &HeaderMap, name: &HeaderName, peer: IpAddr, trusted: &[ipnet::IpNet]) -> IpAddr {
    let is_trusted = |address: &IpAddr| trusted.iter().any(|network| network.contains(address));
    let peer = peer.to_canonical();
    if !is_trusted(&peer) {
        return peer;
    }
    let entries = headers.get_all(name).iter().rev().flat_map(|value| {
        // A header that is not text is junk too: it ends the walk.
        value.to_str().map_or(vec![""], |text| text.rsplit(',').collect::<Vec<_>>())
    });
    let mut client = peer;
    for entry in entries {
        let entry = entry.trim();
        let Some(address) = entry
            .parse::<IpAddr>()
            .ok()
            .or_else(|| entry.parse::<SocketAddr>().ok().map(|socket| socket.ip()))
            .map(|address| address.to_canonical())
        else {
            break;
        };
        client = address;
        if !is_trusted(&address) {
            break;
        }
    }
    client
}

/// Whether the database answers, as a monitor sees it every second: while
/// it does not, GraphQL requests fail at once with `UNAVAILABLE` instead of
/// each waiting out a connection timeout.
pub struct Health {
    up: AtomicBool,
}

impl Health {
    pub fn new() -> Self {
        Health { up: AtomicBool::new(true) }
    }

    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Checks the database every `every` (each check bounded by the same),
    /// until the returned task is aborted. On PostgreSQL the check runs on a
    /// connection of its own, outside the pool: a pool busy with long
    /// queries is not a database that is down. Two misses in a row mark it
    /// down; one answer marks it up again.
    pub fn monitor(self: &Arc<Self>, db: DatabaseConnection, metrics: Arc<Metrics>, every: Duration) -> JoinHandle<()> {
        let health = self.clone();
        tokio::spawn(async move {
            let mut own: Option<sqlx::PgConnection> = None;
            let mut misses = 0u32;
            loop {
                let answered = match db.get_database_backend() {
                    sea_orm::DbBackend::Postgres => probe_postgres(&db, &mut own, every).await,
                    _ => matches!(tokio::time::timeout(every, db.ping()).await, Ok(Ok(()))),
                };
                misses = if answered { 0 } else { misses.saturating_add(1) };
                let up = misses < 2;
                if up != health.is_up() {
                    if up {
                        tracing::info!("the database answers again");
                    } else {
                        tracing::warn!(
                            "the database does not answer; GraphQL requests fail with UNAVAILABLE until it does"
                        );
                    }
                }
                health.up.store(up, Ordering::Relaxed);
                metrics.database_up.set(i64::from(up));
                tokio::time::sleep(every).await;
            }
        })
    }
}

/// Pings PostgreSQL on the monitor's own connection, (re)connecting first
/// when there is none; a failed ping drops it.
async fn probe_postgres(db: &DatabaseConnection, own: &mut Option<sqlx::PgConnection>, within: Duration) -> bool {
    use sqlx::{ConnectOptions, Connection};
    if own.is_none() {
        let options = db.get_postgres_connection_pool().connect_options();
        *own = tokio::time::timeout(within, options.connect()).await.ok().and_then(Result::ok);
    }
    let Some(connection) = own.as_mut() else { return false };
    let answered = matches!(tokio::time::timeout(within, connection.ping()).await, Ok(Ok(())));
    if !answered {
        *own = None;
    }
    answered
}

impl Default for Health {
    fn default() -> Self {
        Self::new()
    }
}

/// Who a request comes from, from its `Authorization` header: anonymous
/// without one, the token's holder with a valid one, and a refusal for a
/// malformed, unknown or revoked token, even where reads are public, so a
/// client never mistakes a bad credential for an anonymous session.
pub async fn caller(
    state: &AppState,
    header: Option<&HeaderValue>,
    deadline: tokio::time::Instant,
) -> Result<Caller, AuthError> {
    let Some(header) = header else { return Ok(Caller::Anonymous) };
    let token = auth::bearer(header.to_str().map_err(|_| AuthError::Malformed)?)?;
    authenticate(state, token, deadline).await
}

/// Looks the token up by `deadline`: a database that accepts the query and
/// never answers must not hold the request past its time limit.
pub async fn authenticate(state: &AppState, token: &str, deadline: tokio::time::Instant) -> Result<Caller, AuthError> {
    tokio::time::timeout_at(deadline, auth::authenticate(state.db(), token)).await.unwrap_or(Err(AuthError::TimedOut))
}

/// The request's id: the client's `x-request-id` if it is a plain one, else
/// a fresh one; echoed back and named in every log line of the request.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What is left of the client's budget (IETF draft-ietf-httpapi-ratelimit-headers).
pub const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// The client's budget: its size and window (the same draft).
pub const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

async fn request_id(mut request: Request, next: Next) -> Response {
    let given = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .map(str::to_owned);
    let id = given.unwrap_or_else(fresh_id);
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

fn fresh_id() -> String {
    use rand::TryRngCore;
    // 96 random bits, as 24 hex digits written in one go.
    let mut bytes = [0u8; 16];
    if rand::rngs::OsRng.try_fill_bytes(&mut bytes[4..]).is_err() {
        // No randomness from the system: the time still tells requests apart in a log.
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        return format!("t{nanos:x}");
    }
    format!("{:024x}", u128::from_be_bytes(bytes))
}

/// Counts every answer by route and status.
async fn count(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_owned();
    let response = next.run(request).await;
    metrics.http_requests.with_label_values(&[route.as_str(), response.status().as_str()]).inc();
    response
}

async fn metrics_text(State(state): State<AppState>) -> Response {
    let text = state.metrics.render(state.db());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
}

/// A panic in a handler is a 500 with a coded error, never a dropped connection.
fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    let body = r#"{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}"#;
    (StatusCode::INTERNAL_SERVER_ERROR, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], body)
        .into_response()
}

fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::CONTENT_TYPE,
                header::AUTHORIZATION,
                header::ACCEPT,
                header::ACCEPT_LANGUAGE,
                REQUEST_ID,
            ])
            .expose_headers([REQUEST_ID, RATELIMIT, RATELIMIT_POLICY, header::RETRY_AFTER])
            .max_age(Duration::from_secs(600)),
    )
}

/// The operators' routes: `/metrics` alone, served on its own address so
/// the public one never shows it.
pub fn metrics_router(state: AppState) -> Router {
    Router::new().route("/metrics", get(metrics_text)).with_state(state)
}

/// The application's routes, without binding anything: tests and the server share it.
pub fn router(state: AppState) -> Router {
    let metrics = state.metrics.clone();
    let cors = cors(&state.options.cors_origins);
    let router = Router::new()
        .route("/graphql", get(graphql::graphql).post(graphql::graphql))
        .route("/graphql/ws", get(ws::upgrade))
        .route("/graphiql", get(graphiql::index))
        .route("/graphiql/", get(graphiql::index))
        .route("/graphiql/{file}", get(graphiql::asset))
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .with_state(state)
        .layer(CompressionLayer::new())
        .layer(CatchPanicLayer::custom(panicked))
        // Outside the panic catcher, so a panic's 500 is counted too.
        .layer(middleware::from_fn_with_state(metrics, count))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
            let id = request.extensions().get::<RequestId>().map_or("", |r| r.0.as_str());
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
        }));
    let router = match cors {
        Some(cors) => router.layer(cors),
        None => router,
    };
    router.layer(middleware::from_fn(request_id))
}

#[cfg(test)]
mod tests {
    use super::{forwarded_client, fresh_id};
    use axum::http::{HeaderMap, HeaderName, HeaderValue};
    use std::net::IpAddr;

    fn client(peer: &str, values: &[&str]) -> String {
        let name = HeaderName::from_static("x-forwarded-for");
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(&name, HeaderValue::from_str(value).expect("a header value"));
        }
        let trusted = ["127.0.0.0/8", "::1/128", "10.0.0.0/8"].map(|n| n.parse().expect("a network"));
        let peer: IpAddr = peer.parse().expect("an address");
        forwarded_client(&headers, &name, peer, &trusted).to_string()
    }

    #[test]
    fn the_client_is_the_first_untrusted_address_from_the_right() {
        assert_eq!(client("127.0.0.1", &["198.51.100.7, 203.0.113.9"]), "203.0.113.9");
        // Proxies the operator trusts are skipped, in one header or several.
        assert_eq!(client("127.0.0.1", &["198.51.100.7, 203.0.113.9, 10.1.2.3"]), "203.0.113.9");
        assert_eq!(client("::1", &["203.0.113.9", "10.1.2.3"]), "203.0.113.9");
        // All trusted: the leftmost; none: the peer.
        assert_eq!(client("127.0.0.1", &["10.0.0.5, 10.0.0.6"]), "10.0.0.5");
        assert_eq!(client("127.0.0.1", &[]), "127.0.0.1");
    }

    #[test]
    fn a_peer_that_is_no_trusted_proxy_is_the_client_whatever_it_claims() {
        assert_eq!(client("192.0.2.50", &["203.0.113.9"]), "192.0.2.50");
        // A loopback peer written as IPv6 is still loopback.
        assert_eq!(client("::ffff:127.0.0.1", &["203.0.113.9"]), "203.0.113.9");
    }

    #[test]
    fn ports_and_brackets_are_read_and_junk_ends_the_walk() {
        assert_eq!(client("127.0.0.1", &["203.0.113.9:4711"]), "203.0.113.9");
        assert_eq!(client("127.0.0.1", &["[2001:db8::1]:4711"]), "2001:db8::1");
        assert_eq!(client("127.0.0.1", &["::ffff:203.0.113.9"]), "203.0.113.9");
        // Junk to the left of a trusted proxy: the last address read.
        assert_eq!(client("127.0.0.1", &["203.0.113.9, unknown, 10.0.0.7"]), "10.0.0.7");
        assert_eq!(client("127.0.0.1", &["unknown"]), "127.0.0.1");
    }

    /// A fresh id is 96 random bits in 24 lowercase hex digits, leading zeros kept.
    #[test]
    fn fresh_ids_are_24_hex_digits_and_differ() {
        let ids: std::collections::HashSet<String> = (0..1_000).map(|_| fresh_id()).collect();
        assert_eq!(ids.len(), 1_000);
        for id in &ids {
            assert_eq!(id.len(), 24, "{id}");
            assert!(id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{id}");
        }
        // Some of a thousand start with a zero digit: the width is kept, not trimmed.
        assert!(ids.iter().any(|id| id.starts_with('0')));
    }
}
