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
        }
    }
}

/// Two operations per core: enough to keep every core busy while others
/// wait on the database, few enough that memory stays bounded under load.
pub fn default_concurrent_queries() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()) * 2
}
