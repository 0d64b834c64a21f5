//! What the running server enforces, whichever database it serves: the
//! options every part of it reads, set from the command line or by tests.

use std::path::PathBuf;
use std::time::Duration;

use crate::graphql::ExecutorOptions;
use crate::limits::Limits;

/// What the running server enforces, whichever database it serves.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// GraphQL operations executed at once; later ones wait their turn.
    pub max_concurrent_queries: usize,
    /// Reads (and subscriptions) need a token with the VIEWER role or more.
    pub require_auth_for_reads: bool,
    /// How long a WebSocket client has to send `connection_init`.
    pub ws_init_timeout: Duration,
    /// What one document and one request may cost.
    pub limits: Limits,
    /// Run only these documents (a JSON file of trusted documents).
    pub trusted_documents: Option<PathBuf>,
    /// Documents kept for automatic persisted queries.
    pub persisted_cache: usize,
    /// Origins allowed to call from a browser (CORS); `*` for any; none: no CORS.
    pub cors_origins: Vec<String>,
    /// How long a shutdown waits for requests in flight.
    pub shutdown_grace: Duration,
    /// How often the database is checked (and how long a check may take).
    pub health_interval: Duration,
    /// How operations run: the fast path, schema extensions.
    pub executor: ExecutorOptions,
    /// Where `/metrics` is served, apart from the API; `None`: nowhere.
    pub metrics_addr: Option<String>,
    /// Points of document cost each API token may spend a minute; 0: no budget.
    pub budget_per_token: u32,
    /// Points each IP address may spend a minute on requests without a token; 0: no budget.
    pub budget_per_address: u32,
    /// A header naming the client's address, set by a proxy in front;
    /// without one, the connection's peer is the client.
    pub client_address_header: Option<axum::http::HeaderName>,
    /// The proxies whose `client_address_header` is believed: a request
    /// from any other peer is that peer's, and the header's entries these
    /// proxies added are skipped from the right.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// PostgreSQL streaming replicas to read from (none: every read on the primary).
    pub database_replica_urls: Vec<String>,
    /// How long a read waits for a replica to replay its caller's last write
    /// before reading from the primary instead.
    pub replica_wait: Duration,
    /// How often, on PostgreSQL, the event reader reads the history without
    /// being woken: the longest a change waits when a notification is lost.
    pub event_poll: Duration,
}

/// A proxy on the same host: loopback, in IPv4 and IPv6.
pub fn default_trusted_proxies() -> Vec<ipnet::IpNet> {
    use std::net::{Ipv4Addr, Ipv6Addr};
    let v4 = ipnet::Ipv4Net::new_assert(Ipv4Addr::new(127, 0, 0, 0), 8);
    let v6 = ipnet::Ipv6Net::new_assert(Ipv6Addr::LOCALHOST, 128);
    vec![v4.into(), v6.into()]
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            max_concurrent_queries: default_concurrent_queries(),
            require_auth_for_reads: false,
            ws_init_timeout: Duration::from_secs(3),
            limits: Limits::default(),
            trusted_documents: None,
            persisted_cache: 1_000,
            cors_origins: Vec::new(),
            shutdown_grace: Duration::from_secs(20),
            health_interval: Duration::from_secs(1),
            executor: ExecutorOptions::default(),
            metrics_addr: Some("127.0.0.1:0".to_owned()),
            budget_per_token: DEFAULT_BUDGET_PER_TOKEN,
            budget_per_address: DEFAULT_BUDGET_PER_ADDRESS,
            client_address_header: None,
            trusted_proxies: default_trusted_proxies(),
            database_replica_urls: Vec::new(),
            replica_wait: Duration::from_millis(500),
            event_poll: Duration::from_secs(2),
        }
    }
}

/// A token's points a minute: 76 of the costliest reads the registry's
/// example (Q1, 13,051 points) describes, or 500,000 lookups of one record.
pub const DEFAULT_BUDGET_PER_TOKEN: u32 = 1_000_000;

/// An address's points a minute without a token: a quarter of a token's.
pub const DEFAULT_BUDGET_PER_ADDRESS: u32 = 250_000;

/// Two operations per core: enough to keep every core busy while others
/// wait on the database, few enough that memory stays bounded under load.
pub fn default_concurrent_queries() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()) * 2
}
