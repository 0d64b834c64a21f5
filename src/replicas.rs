//! Read replicas (PostgreSQL streaming standbys): where a request's reads
//! go, and how a client still reads its own writes.
//!
//! Writes, and every read of a request once it has written, go to the
//! primary; so do subscriptions (an event's record is read as committed),
//! everything over a WebSocket, and the event reader. Other reads go to
//! the replicas in turn, chosen at a request's first read and skipping
//! those the monitor found down. A read a replica fails is run again on the
//! primary: when the replica cannot be reached, it is also marked down;
//! when it was only busy (its pool full), cancelled the read to replay the
//! primary's changes, or took half the time the request had left, it
//! stays up.
//!
//! A write records, in its API token's row, the primary's WAL position
//! after its commit; every server reads that row with the token on each
//! request, so the token's next reads, through any server, use a replica
//! only once it has replayed that far, waiting for one at most
//! [`ServerOptions::replica_wait`] and at most half the time the request
//! has left (the rest is the primary's), and reading from the primary after
//! that.
//!
//! [`ServerOptions::replica_wait`]: crate::options::ServerOptions::replica_wait

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use entity::api_token;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use sea_orm::error::ConnAcquireErr;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, RuntimeErr, Statement,
};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::error::{is_pool_timeout, is_recovery_conflict, is_unreachable};
use crate::metrics::Metrics;

/// The WAL position after everything written so far (on the primary), in bytes.
const WRITTEN: &str = "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint AS lsn";

/// What a standby has replayed, in bytes; null on a server that is not one.
/// `pg_last_wal_replay_lsn()` alone is not null on a primary that went
/// through crash recovery since it started, hence `pg_is_in_recovery()`.
const REPLAYED: &str =
    "SELECT CASE WHEN pg_is_in_recovery() THEN (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint END AS lsn";

/// The first pause of a read waiting for a replica to replay; it doubles
/// up to [`POLL_MAX`], so a long wait costs a dozen statements, not a hundred.
const POLL_FIRST: Duration = Duration::from_millis(2);
const POLL_MAX: Duration = Duration::from_millis(50);

/// How long a read waits for one of a replica's connections, and the
/// start-up check for an answer: a replica that refuses connections costs
/// a request this much before its read goes to the primary.
const REPLICA_ACQUIRE: Duration = Duration::from_secs(2);

/// One standby.
struct Replica {
    /// The pool requests read from.
    db: DatabaseConnection,
    /// The monitor's own connection: a replica whose pool is busy with
    /// reads is not taken for one that does not answer.
    probe: DatabaseConnection,
    up: AtomicBool,
    /// The WAL position it has replayed, as last seen.
    replayed: AtomicI64,
    /// How far it was behind the primary when the monitor last looked, in bytes.
    lag_bytes: AtomicI64,
}

/// The replicas of one server.
pub struct Replicas {
    primary: DatabaseConnection,
    members: Vec<Replica>,
    next: AtomicUsize,
    wait: Duration,
    metrics: Option<Arc<Metrics>>,
}

/// Where a request reads, and why: the `choice` label of
/// `replica_read_choices_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    /// A replica that already had the caller's last write, if any.
    Replica,
    /// A replica, once it had replayed the caller's last write.
    ReplicaAfterWait,
    /// The primary: no replica replayed the caller's last write in time.
    PrimaryReplicasBehind,
    /// The primary: no replica was up.
    PrimaryNoReplicaUp,
    /// The primary, from a read on, after a request chose a replica that
    /// then could not be reached, and was marked down (counted besides
    /// that first choice).
    PrimaryReplicaLost,
    /// The primary, from a read on, after a request chose a replica that
    /// then had no connection free in time or cancelled the read to replay
    /// (counted besides that first choice); the replica stays up.
    PrimaryReplicaBusy,
}

impl Choice {
    pub fn label(self) -> &'static str {
        match self {
            Choice::Replica => "replica",
            Choice::ReplicaAfterWait => "replica_after_wait",
            Choice::PrimaryReplicasBehind => "primary_replicas_behind",
            Choice::PrimaryNoReplicaUp => "primary_no_replica_up",
            Choice::PrimaryReplicaLost => "primary_replica_lost",
            Choice::PrimaryReplicaBusy => "primary_replica_busy",
        }
    }
}

/// The instant halfway from now to `deadline`: what a replica is given of
/// a request's time, so the primary has the other half if it fails.
pub fn half_left(deadline: Instant) -> Instant {
    let now = Instant::now();
    now + deadline.saturating_duration_since(now) / 2
}

/// The primary's WAL position now.
async fn written(db: &impl ConnectionTrait) -> Result<Option<i64>, DbErr> {
    match db.query_one_raw(Statement::from_string(DbBackend::Postgres, WRITTEN)).await? {
        Some(row) => row.try_get::<Option<i64>>("", "lsn"),
        None => Ok(None),
    }
}

/// What a standby has replayed, asked by `until`: `Ok(None)` from a server
/// that is not one; an answer later than `until` is none. The statement is
/// counted in `sent` once a connection is had to send it on.
async fn replayed_by(db: &DatabaseConnection, until: Instant, sent: &AtomicU64) -> Option<Result<Option<i64>, DbErr>> {
    let ask = async {
        let mut connection = db.get_postgres_connection_pool().acquire().await.map_err(|e| match e {
            sqlx::Error::PoolTimedOut => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
            e => DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e))),
        })?;
        sent.fetch_add(1, Ordering::Relaxed);
        sqlx::query_scalar::<_, Option<i64>>(REPLAYED)
            .fetch_one(&mut *connection)
            .await
            .map_err(|e| DbErr::Query(RuntimeErr::SqlxError(Arc::new(e))))
    };
    tokio::time::timeout_at(until, ask).await.ok()
}

/// A replica's pool, opened without connecting: a replica that cannot be
/// reached when the server starts is only down until it answers. Unlike
/// the primary's, it pings every connection it hands out (sqlx's
/// default): a hung replica then fails the checkout within
/// `REPLICA_ACQUIRE` and is out of reach, where a read sent to it on a
/// connection not pinged would wait out half the request's time and find
/// it merely busy.
async fn pool(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(max_connections)
        .min_connections(0)
        .connect_timeout(REPLICA_ACQUIRE)
        .acquire_timeout(REPLICA_ACQUIRE)
        .connect_lazy(true)
        .sqlx_logging(false);
    Database::connect(options).await
}

impl Replicas {
    /// Opens each replica's pool (`max_connections` each) and asks each
    /// whether it is a standby: one that answers that it is not is refused;
    /// one that does not answer starts down, and the monitor brings it in
    /// once it does.
    pub async fn connect(
        primary: DatabaseConnection,
        urls: &[String],
        max_connections: u32,
        wait: Duration,
        metrics: Option<Arc<Metrics>>,
    ) -> anyhow::Result<Self> {
        if primary.get_database_backend() != DbBackend::Postgres {
            anyhow::bail!("read replicas (--database-replica-url) need PostgreSQL as the database");
        }
        let mut members = Vec::with_capacity(urls.len());
        for (n, url) in urls.iter().enumerate() {
            let opened = async { Ok::<_, DbErr>((pool(url, max_connections).await?, pool(url, 1).await?)) };
            let (db, probe) = opened.await.map_err(|e| anyhow::anyhow!("replica {}: {e}", n + 1))?;
            if db.get_database_backend() != DbBackend::Postgres {
                anyhow::bail!("replica {} is not a PostgreSQL URL: a replica is a PostgreSQL streaming standby", n + 1);
            }
            members.push(Replica {
                db,
                probe,
                up: AtomicBool::new(false),
                replayed: AtomicI64::new(0),
                lag_bytes: AtomicI64::new(0),
            });
        }
        // All at once: start-up waits for the slowest replica, not their sum.
        let (until, sent) = (Instant::now() + REPLICA_ACQUIRE, AtomicU64::new(0));
        let answers = futures_util::future::join_all(members.iter().map(|r| replayed_by(&r.probe, until, &sent))).await;
        for (n, (replica, answer)) in members.iter().zip(answers).enumerate() {
            match answer {
                Some(Ok(Some(replayed))) => {
                    replica.replayed.store(replayed, Ordering::Relaxed);
                    replica.up.store(true, Ordering::Relaxed);
                }
                Some(Ok(None)) => anyhow::bail!(
                    "replica {} is not a standby (pg_is_in_recovery() is false): it cannot be read as one",
                    n + 1
                ),
                Some(Err(e)) => {
                    tracing::warn!(replica = n + 1, error = %e, "replica unreachable: reads skip it until it answers");
                }
                None => tracing::warn!(replica = n + 1, "replica not answering: reads skip it until it answers"),
            }
        }
        Ok(Replicas { primary, members, next: AtomicUsize::new(0), wait, metrics })
    }

    /// After a write with API token `token` has committed (outside its
    /// transaction, on the primary): records in the token's row where the
    /// primary's WAL now stands, never moving it back, and returns the
    /// position recorded. One statement.
    pub async fn record_write(&self, db: &impl ConnectionTrait, token: i64) -> Result<Option<i64>, DbErr> {
        let now = Expr::cust("(pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint");
        let kept = Expr::col(api_token::Column::WrittenLsn);
        let update = Query::update()
            .table(api_token::Entity)
            .value(api_token::Column::WrittenLsn, Expr::case(kept.clone().gt(now.clone()), kept).finally(now))
            .and_where(api_token::Column::Id.eq(token))
            .returning_col(api_token::Column::WrittenLsn)
            .to_owned();
        Ok(db.query_one(&update).await?.and_then(|row| row.try_get_by_index::<Option<i64>>(0).ok()).flatten())
    }

    /// The replica a request reads from (`None`: the primary) when it must
    /// see the primary's WAL up to `needed`, and the statements choosing it
    /// ran: the next replica up that has replayed that far, waiting for one
    /// at most the configured wait and, for a request that must end by
    /// `deadline`, at most half the time it has left.
    pub async fn choose(&self, needed: Option<i64>, deadline: Option<Instant>) -> (Option<usize>, u64) {
        let sent = AtomicU64::new(0);
        let (replica, choice) = self.choice(needed, deadline, &sent).await;
        self.count(choice);
        (replica, sent.into_inner())
    }

    /// What a read that replica `n` failed with `error` means, if it is the
    /// replica's failure and the read may run on the primary instead: lost
    /// (now marked down) or only busy. An acquire timeout on a pool with
    /// room for another connection is a replica refusing them (sqlx tries
    /// again until the timeout), on a full one a busy replica.
    pub fn failed(&self, n: usize, error: &DbErr) -> Option<Choice> {
        let pool = self.members[n].db.get_postgres_connection_pool();
        let full = pool.size() >= pool.options().get_max_connections() && pool.num_idle() == 0;
        if is_unreachable(error) || (is_pool_timeout(error) && !full) {
            self.lost(n, &error.to_string());
            return Some(Choice::PrimaryReplicaLost);
        }
        (is_pool_timeout(error) || is_recovery_conflict(error)).then_some(Choice::PrimaryReplicaBusy)
    }

    /// Counts a request's read choice in the metrics.
    pub fn count(&self, choice: Choice) {
        if let Some(metrics) = &self.metrics {
            metrics.read_choices.with_label_values(&[choice.label()]).inc();
        }
    }

    async fn choice(
        &self,
        needed: Option<i64>,
        deadline: Option<Instant>,
        sent: &AtomicU64,
    ) -> (Option<usize>, Choice) {
        let n = self.members.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let order: Vec<usize> = (0..n).map(|i| (start + i) % n).filter(|&r| self.is_up(r)).collect();
        let Some(&first) = order.first() else { return (None, Choice::PrimaryNoReplicaUp) };
        let Some(needed) = needed else { return (Some(first), Choice::Replica) };
        if let Some(&ready) = order.iter().find(|&&r| self.members[r].replayed.load(Ordering::Relaxed) >= needed) {
            return (Some(ready), Choice::Replica);
        }
        let now = Instant::now();
        let mut until = now.checked_add(self.wait).unwrap_or(now + Duration::from_secs(86_400));
        if let Some(deadline) = deadline {
            until = Ord::min(until, half_left(deadline));
        }
        let mut pause = POLL_FIRST;
        loop {
            // Every replica up at once, none past `until`, the first to have
            // replayed far enough taken at once (the others' polls dropped).
            let mut polls: FuturesUnordered<_> = order
                .iter()
                .copied()
                .filter(|&r| self.is_up(r))
                .map(|r| async move { (r, replayed_by(&self.members[r].db, until, sent).await) })
                .collect();
            if polls.is_empty() {
                return (None, Choice::PrimaryNoReplicaUp);
            }
            while let Some((r, answer)) = polls.next().await {
                match answer {
                    Some(Ok(Some(replayed))) => {
                        self.members[r].replayed.fetch_max(replayed, Ordering::Relaxed);
                        if replayed >= needed {
                            return (Some(r), Choice::ReplicaAfterWait);
                        }
                    }
                    Some(Ok(None)) => self.lost(r, "no longer a standby"),
                    // `failed` marks a replica out of reach down, and says so.
                    Some(Err(e)) if self.failed(r, &e) == Some(Choice::PrimaryReplicaLost) => {}
                    Some(Err(e)) => {
                        tracing::warn!(replica = r + 1, error = %e, "cannot ask a replica how far it replayed")
                    }
                    None => {}
                }
            }
            if Instant::now() + pause >= until {
                return (None, Choice::PrimaryReplicasBehind);
            }
            tokio::time::sleep(pause).await;
            pause = Ord::min(pause * 2, POLL_MAX);
        }
    }

    /// Replica `n`'s pool.
    pub fn replica(&self, n: usize) -> &DatabaseConnection {
        &self.members[n].db
    }

    fn is_up(&self, n: usize) -> bool {
        self.members[n].up.load(Ordering::Relaxed)
    }

    /// Marks replica `n` down, for `why`: reads skip it until the monitor
    /// finds it answering again.
    pub fn lost(&self, n: usize, why: &str) {
        if self.members[n].up.swap(false, Ordering::Relaxed) {
            tracing::warn!(replica = n + 1, error = why, "replica lost: reads skip it until it answers again");
        }
    }

    /// Checks every replica each `interval`: up or down, what it replayed,
    /// how far behind the primary.
    pub fn monitor(self: Arc<Self>, interval: Duration) -> JoinHandle<()> {
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                self.check(interval).await;
            }
        })
    }

    async fn check(&self, limit: Duration) {
        let (until, sent) = (Instant::now() + limit, AtomicU64::new(0));
        let (written, answers) = tokio::join!(
            tokio::time::timeout_at(until, written(&self.primary)),
            futures_util::future::join_all(self.members.iter().map(|r| replayed_by(&r.probe, until, &sent))),
        );
        let written = written.ok().and_then(Result::ok).flatten();
        for (n, (replica, answer)) in self.members.iter().zip(answers).enumerate() {
            let replayed = answer.and_then(Result::ok).flatten();
            let was_up = replica.up.swap(replayed.is_some(), Ordering::Relaxed);
            match replayed {
                Some(replayed) => {
                    replica.replayed.fetch_max(replayed, Ordering::Relaxed);
                    if let Some(written) = written {
                        replica.lag_bytes.store(Ord::max(written - replayed, 0), Ordering::Relaxed);
                    }
                    if !was_up {
                        tracing::info!(replica = n + 1, "replica back: reads go to it again");
                    }
                }
                None => {
                    if was_up {
                        tracing::warn!(replica = n + 1, "replica unreachable or no longer a standby: reads skip it");
                    }
                }
            }
        }
    }

    /// Each replica as `/ready` reports it.
    pub fn status(&self) -> Vec<Value> {
        self.members
            .iter()
            .enumerate()
            .map(|(n, r)| {
                json!({
                    "replica": n + 1,
                    "up": r.up.load(Ordering::Relaxed),
                    "lagBytes": r.lag_bytes.load(Ordering::Relaxed),
                })
            })
            .collect()
    }
}
