//! Connecting to SQLite or PostgreSQL, and the per-request handle that counts
//! every SQL statement a request costs.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::OnceCell;
use tokio::time::Instant;

use crate::auth::Written;
use crate::metrics::Metrics;
use crate::replicas::{Choice, Replicas, half_left};

use futures_util::TryStreamExt;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, SqliteTransactionMode, Statement, StreamTrait, TransactionOptions, TransactionTrait,
};

/// How long one of the primary's pooled connections may sit idle before
/// it is pinged on its way out of the pool. sqlx's default pings at every
/// checkout, a round trip to the database per statement; a connection in
/// steady use is known to be alive, and one that fails is closed by sqlx,
/// not put back. What the ping still catches is a connection that died
/// while idle: a database restarted, a proxy or firewall that dropped it.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

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
        .test_before_acquire_if_idle_for(PING_IF_IDLE_FOR)
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

/// Where a request's statements go: with read replicas, its reads to the
/// one chosen at its first read (see [`Replicas::choose`]) until it writes
/// or that replica is lost; everything else to the primary, so a request
/// sees what it wrote.
#[derive(Clone)]
pub struct Route {
    primary: DatabaseConnection,
    /// Everything from now on goes to the primary: the request began a
    /// write, executed a statement, or lost its replica.
    primary_only: Arc<AtomicBool>,
    replicas: Option<ReplicaReads>,
}

/// A request's reads from replicas.
#[derive(Clone)]
struct ReplicaReads {
    replicas: Arc<Replicas>,
    /// What the caller wrote last, which the replica must have replayed.
    written: Option<Written>,
    /// When the request must have answered, which bounds the wait for a replica.
    deadline: Option<Instant>,
    /// The replica chosen (`None`: the primary), once the request first reads.
    chosen: Arc<OnceCell<Option<usize>>>,
    /// The request's statement count: choosing a replica and a read run
    /// again on the primary count too.
    statements: Arc<AtomicU64>,
}

impl Route {
    /// The replica the next read goes to, if any, chosen at the first.
    async fn replica(&self) -> Option<(usize, &ReplicaReads)> {
        let reads = self.replicas.as_ref()?;
        if self.primary_only.load(Ordering::SeqCst) {
            return None;
        }
        let chosen = reads
            .chosen
            .get_or_init(|| async {
                let needed = reads.written.as_ref().and_then(Written::get);
                let (chosen, statements) = reads.replicas.choose(needed, reads.deadline).await;
                reads.statements.fetch_add(statements, Ordering::Relaxed);
                chosen
            })
            .await;
        // Another of the request's fields may have written while this one
        // waited for the choice: from then on the replica may lack it.
        if self.primary_only.load(Ordering::SeqCst) {
            return None;
        }
        chosen.map(|n| (n, reads))
    }

    /// Runs a read on the request's replica, or once more on the primary
    /// when the replica fails it for want of a connection or to replay.
    async fn read<T, F>(&self, stmt: Statement, run: impl Fn(DatabaseConnection, Statement) -> F) -> Result<T, DbErr>
    where
        F: Future<Output = Result<T, DbErr>>,
    {
        if let Some((n, reads)) = self.replica().await {
            // The replica has half the time the request has left; the primary the rest.
            let attempt = run(reads.replicas.replica(n).clone(), stmt.clone());
            let answered = match reads.deadline {
                Some(deadline) => tokio::time::timeout_at(half_left(deadline), attempt).await.ok(),
                None => Some(attempt.await),
            };
            let choice = match answered {
                Some(Err(e)) => match reads.replicas.failed(n, &e) {
                    Some(choice) => {
                        tracing::info!(replica = n + 1, error = %e, "a replica failed a read: it runs on the primary");
                        choice
                    }
                    None => return Err(e),
                },
                Some(result) => return result,
                None => {
                    tracing::info!(
                        replica = n + 1,
                        "a replica took half the time left for a read: it runs on the primary"
                    );
                    Choice::PrimaryReplicaBusy
                }
            };
            // Counted once for the request, though its other reads in flight may fail too.
            if !self.primary_only.swap(true, Ordering::SeqCst) {
                reads.replicas.count(choice);
            }
            reads.statements.fetch_add(1, Ordering::Relaxed);
        }
        run(self.primary.clone(), stmt).await
    }

    /// The primary, for a statement that may write; every read of the
    /// request after it goes there too.
    fn writing(&self) -> &DatabaseConnection {
        self.primary_only.store(true, Ordering::SeqCst);
        &self.primary
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Route {
    fn get_database_backend(&self) -> DbBackend {
        self.primary.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.writing().execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.writing().execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.read(stmt, |db, stmt| async move { db.query_one_raw(stmt).await }).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.read(stmt, |db, stmt| async move { db.query_all_raw(stmt).await }).await
    }
}

/// A transaction whose statements count towards its request.
pub type CountingTxn = Counting<DatabaseTransaction>;

impl CountingDb {
    /// Everything on `conn`.
    pub fn new(conn: DatabaseConnection) -> Self {
        let route = Route { primary: conn, primary_only: Arc::new(AtomicBool::new(false)), replicas: None };
        Counting { conn: route, statements: Arc::new(AtomicU64::new(0)), metrics: None }
    }

    /// Reads on one of `replicas`, one that has what the caller wrote up to
    /// `written`, until the request writes; writes on the primary. A
    /// request that must answer by `deadline` waits for a replica at most
    /// half the time it has left when it first reads.
    pub fn with_replicas(
        mut self,
        replicas: Arc<Replicas>,
        written: Option<Written>,
        deadline: Option<Instant>,
    ) -> Self {
        let statements = self.statements.clone();
        self.conn.replicas = Some(ReplicaReads { replicas, written, deadline, chosen: Arc::default(), statements });
        self
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
        self.conn.primary_only.store(true, Ordering::SeqCst);
        Ok(Counting {
            conn: self.conn.primary.begin_with_options(options).await?,
            statements: self.statements.clone(),
            metrics: self.metrics.clone(),
        })
    }

    /// Runs a read and hands its rows to `each` one at a time, as they
    /// arrive, into a state `start` makes (made again should the read run
    /// once more on the primary). A level of ten thousand rows is read into
    /// its models as it comes, never first gathered as rows: gathering
    /// them grew a vector by doubling, copying every row each time, and
    /// kept the driver's receive buffer from being reused, megabytes of
    /// memory touched afresh per request.
    pub async fn read_each<S, Start, Each>(&self, stmt: Statement, start: Start, each: Each) -> Result<S, DbErr>
    where
        S: Send,
        Start: Fn() -> S + Sync,
        Each: Fn(&mut S, &QueryResult) -> Result<(), DbErr> + Sync,
    {
        self.count();
        let (start, each) = (&start, &each);
        let (state, rows) = self
            .conn
            .read(stmt, |db, stmt| async move {
                let mut stream = db.stream_raw(stmt).await?;
                let mut state = start();
                let mut rows = 0_u64;
                while let Some(row) = stream.try_next().await? {
                    each(&mut state, &row)?;
                    rows += 1;
                }
                Ok((state, rows))
            })
            .await?;
        if let Some(metrics) = &self.metrics {
            metrics.batch_rows.observe(rows as f64);
        }
        Ok(state)
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
