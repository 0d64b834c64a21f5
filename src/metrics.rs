//! What the server tells operators, as Prometheus text at `/metrics`:
//! requests, operations and their latency, SQL statements and rows per
//! batched statement, document cost, database pool, WebSockets.

use std::collections::HashSet;
use std::sync::Mutex;

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};
use sea_orm::{DatabaseConnection, DbBackend};

/// Operation names become label values: only this many distinct ones (the
/// rest count as `other`), so clients cannot grow the metrics without end.
const MAX_OPERATION_NAMES: usize = 200;

pub struct Metrics {
    registry: Registry,
    /// HTTP requests by route and status.
    pub http_requests: IntCounterVec,
    /// GraphQL operations by name and outcome (`ok` or the first error code).
    pub operations: IntCounterVec,
    /// Operation latency by name.
    pub duration: HistogramVec,
    /// SQL statements one operation ran.
    pub statements: Histogram,
    /// Rows one batched statement returned (the batch size of a level).
    pub batch_rows: Histogram,
    /// The cost a document was measured at.
    pub cost: Histogram,
    /// Database pool connections by state (`idle`, `in_use`).
    pub pool: IntGaugeVec,
    /// Open WebSocket connections.
    pub websockets: IntGauge,
    /// 1 while the database answers, 0 while it does not.
    pub database_up: IntGauge,
    /// Where requests read, with read replicas, and why.
    pub read_choices: IntCounterVec,
    names: Mutex<HashSet<String>>,
}

impl Metrics {
    pub fn new() -> prometheus::Result<Self> {
        let registry = Registry::new_custom(Some("registry".into()), None)?;
        let metrics = Metrics {
            http_requests: IntCounterVec::new(
                Opts::new("http_requests_total", "HTTP requests answered, by route and status."),
                &["route", "status"],
            )?,
            operations: IntCounterVec::new(
                Opts::new("graphql_operations_total", "GraphQL operations, by operation name and outcome."),
                &["operation", "outcome"],
            )?,
            duration: HistogramVec::new(
                HistogramOpts::new(
                    "graphql_operation_duration_seconds",
                    "GraphQL operation latency, by operation name.",
                )
                .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
                &["operation"],
            )?,
            statements: Histogram::with_opts(
                HistogramOpts::new("graphql_sql_statements", "SQL statements one GraphQL operation ran.")
                    .buckets(vec![0.0, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0, 34.0, 55.0]),
            )?,
            batch_rows: Histogram::with_opts(
                HistogramOpts::new(
                    "sql_rows_per_statement",
                    "Rows one statement returned: the size of a batched level.",
                )
                .buckets(vec![0.0, 1.0, 10.0, 50.0, 100.0, 500.0, 1_000.0, 5_000.0, 10_000.0]),
            )?,
            cost: Histogram::with_opts(
                HistogramOpts::new("graphql_document_cost", "Nodes a document may return, as measured before it ran.")
                    .buckets(vec![1.0, 10.0, 100.0, 1_000.0, 10_000.0, 50_000.0]),
            )?,
            pool: IntGaugeVec::new(
                Opts::new("db_pool_connections", "Database pool connections, by state."),
                &["state"],
            )?,
            websockets: IntGauge::new("websocket_connections", "Open WebSocket connections.")?,
            database_up: IntGauge::new("database_up", "1 while the database answers, 0 while it does not.")?,
            read_choices: IntCounterVec::new(
                Opts::new(
                    "replica_read_choices_total",
                    "Where requests read with read replicas configured: a replica, one after waiting for it to \
                     replay the caller's last write, or the primary (the replicas were behind or none was up), and \
                     reads moved to the primary when the replica chosen was lost or failed a read while up.",
                ),
                &["choice"],
            )?,
            registry,
            names: Mutex::new(HashSet::new()),
        };
        metrics.registry.register(Box::new(metrics.http_requests.clone()))?;
        metrics.registry.register(Box::new(metrics.operations.clone()))?;
        metrics.registry.register(Box::new(metrics.duration.clone()))?;
        metrics.registry.register(Box::new(metrics.statements.clone()))?;
        metrics.registry.register(Box::new(metrics.batch_rows.clone()))?;
        metrics.registry.register(Box::new(metrics.cost.clone()))?;
        metrics.registry.register(Box::new(metrics.pool.clone()))?;
        metrics.registry.register(Box::new(metrics.websockets.clone()))?;
        metrics.registry.register(Box::new(metrics.database_up.clone()))?;
        metrics.registry.register(Box::new(metrics.read_choices.clone()))?;
        Ok(metrics)
    }

    /// The label for an operation name: itself if it is a plain name and
    /// one of the first few hundred seen, else `other`; `anonymous` for none.
    pub fn operation_label(&self, name: Option<&str>) -> String {
        let Some(name) = name else { return "anonymous".into() };
        let plain =
            !name.is_empty() && name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !plain {
            return "other".into();
        }
        let Ok(mut names) = self.names.lock() else { return "other".into() };
        if names.contains(name) || (names.len() < MAX_OPERATION_NAMES && names.insert(name.to_owned())) {
            name.to_owned()
        } else {
            "other".into()
        }
    }

    /// The label for a name already seen by [`Metrics::operation_label`],
    /// else `other` (or `anonymous`): for operations refused before they ran,
    /// which may not claim a label.
    pub fn known_operation_label(&self, name: Option<&str>) -> String {
        let Some(name) = name else { return "anonymous".into() };
        match self.names.lock() {
            Ok(names) if names.contains(name) => name.to_owned(),
            _ => "other".into(),
        }
    }

    /// The Prometheus text exposition, with the pool read now.
    pub fn render(&self, db: &DatabaseConnection) -> String {
        let (size, idle) = match db.get_database_backend() {
            DbBackend::Postgres => {
                let pool = db.get_postgres_connection_pool();
                (pool.size(), pool.num_idle() as u32)
            }
            _ => {
                let pool = db.get_sqlite_connection_pool();
                (pool.size(), pool.num_idle() as u32)
            }
        };
        self.pool.with_label_values(&["idle"]).set(i64::from(idle));
        self.pool.with_label_values(&["in_use"]).set(i64::from(size.saturating_sub(idle)));
        let mut buffer = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut buffer) {
            tracing::error!(error = %e, "metrics could not be encoded");
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}
