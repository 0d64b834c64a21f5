//! Connecting to SQLite or PostgreSQL, and the per-request handle that counts
//! every SQL statement a request costs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crate::metrics::Metrics;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};

/// Opens the pool. A SQLite file is created when missing; foreign keys are
/// enforced on both backends.
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    let url = sqlite_create_if_missing(url);
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false);
    let conn = Database::connect(options).await?;
    if conn.get_database_backend() == DbBackend::Sqlite {
        // WAL lets readers proceed while a writer commits.
        conn.execute_unprepared("PRAGMA journal_mode = WAL").await?;
    }
    Ok(conn)
}

fn sqlite_create_if_missing(url: &str) -> String {
    if url.starts_with("sqlite:") && !url.contains("mode=") && !url.contains(":memory:") {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}mode=rwc")
    } else {
        url.to_owned()
    }
}

/// A connection (or transaction) that counts the statements run through it.
/// One is made per request, so the count is that request's alone, whichever
/// task runs the statement; a transaction begun from it shares its count.
#[derive(Clone)]
pub struct Counting<C> {
    conn: C,
    statements: Arc<AtomicU64>,
    /// Where the rows of each statement are reported (the size of a batched level).
    metrics: Option<Arc<Metrics>>,
}

/// A request's counting handle on the pool.
pub type CountingDb = Counting<Route>;

/// Where a request's statements go: its reads to `read` (a replica, or
/// the primary) until it begins a write; the write, and every read after
/// it, to the primary, so a request sees what it wrote.
#[derive(Clone)]
pub struct Route {
    read: DatabaseConnection,
    primary: DatabaseConnection,
    wrote: Arc<AtomicBool>,
}

impl Route {
    fn conn(&self) -> &DatabaseConnection {
        if self.wrote.load(Ordering::Relaxed) { &self.primary } else { &self.read }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Route {
    fn get_database_backend(&self) -> DbBackend {
        self.primary.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.conn().execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.conn().execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.conn().query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.conn().query_all_raw(stmt).await
    }
}

/// A transaction whose statements count towards its request.
pub type CountingTxn = Counting<DatabaseTransaction>;

impl CountingDb {
    /// Everything on `conn`.
    pub fn new(conn: DatabaseConnection) -> Self {
        Self::reading(conn.clone(), conn)
    }

    /// Reads on `read` until the request writes; writes on `primary`.
    pub fn reading(read: DatabaseConnection, primary: DatabaseConnection) -> Self {
        let route = Route { read, primary, wrote: Arc::new(AtomicBool::new(false)) };
        Counting { conn: route, statements: Arc::new(AtomicU64::new(0)), metrics: None }
    }

    /// Counts statements run for this request elsewhere (choosing a replica).
    pub fn add_statements(&self, n: u64) {
        self.statements.fetch_add(n, Ordering::Relaxed);
    }

    /// Also reports the rows of every statement to `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Begins a write transaction counted with this request (`BEGIN` and
    /// `COMMIT` are not counted). On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a transaction that read first and wrote later
    /// would fail outright, instead of waiting, when another writer got in
    /// between.
    pub async fn begin(&self) -> Result<CountingTxn, DbErr> {
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        self.conn.wrote.store(true, Ordering::Relaxed);
        Ok(Counting {
            conn: self.conn.primary.begin_with_options(options).await?,
            statements: self.statements.clone(),
            metrics: self.metrics.clone(),
        })
    }

    /// The primary's pool, for work that is not the request's own.
    pub fn pool(&self) -> &DatabaseConnection {
        &self.conn.primary
    }
}

impl CountingTxn {
    pub async fn commit(self) -> Result<(), DbErr> {
        self.conn.commit().await
    }
}

impl<C> Counting<C> {
    /// Statements run so far through this handle (and those sharing its count).
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    fn count(&self) {
        self.statements.fetch_add(1, Ordering::Relaxed);
    }
}

#[async_trait::async_trait]
impl<C: ConnectionTrait + Send + Sync> ConnectionTrait for Counting<C> {
    fn get_database_backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.count();
        self.conn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.count();
        self.conn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.count();
        self.conn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.count();
        let rows = self.conn.query_all_raw(stmt).await?;
        if let Some(metrics) = &self.metrics {
            metrics.batch_rows.observe(rows.len() as f64);
        }
        Ok(rows)
    }
}
