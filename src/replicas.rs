//! Read replicas (PostgreSQL streaming standbys): where a request's reads
//! go, and how a client still reads its own writes.
//!
//! Writes, and every read of a request once it has written, go to the
//! primary; so do subscriptions (an event's record is read as committed)
//! and the event reader.
//! Other reads go to the replicas in turn, skipping one the monitor found
//! down. A write records, in its API token's row, the primary's WAL position
//! after its commit; every server reads that row with the token on each
//! request, so the token's next reads, through any server, use a replica
//! only once it has replayed that far, waiting for it at most
//! [`ServerOptions::replica_wait`] and reading from the primary after that.
//!
//! [`ServerOptions::replica_wait`]: crate::options::ServerOptions::replica_wait

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use entity::api_token;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

/// The WAL position after everything written so far (on the primary), in bytes.
const WRITTEN: &str = "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint AS lsn";

/// What a standby has replayed, in bytes; null on a server that is not one.
/// `pg_last_wal_replay_lsn()` alone is not null on a primary that went
/// through crash recovery since it started, hence `pg_is_in_recovery()`.
const REPLAYED: &str =
    "SELECT CASE WHEN pg_is_in_recovery() THEN (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint END AS lsn";

/// How often a waiting read asks its replica again.
const POLL: Duration = Duration::from_millis(5);

/// One standby.
struct Replica {
    db: DatabaseConnection,
    up: AtomicBool,
    /// The WAL position it has replayed, as the monitor last saw it.
    replayed: AtomicI64,
    /// How far it was behind the primary then, in bytes.
    lag_bytes: AtomicI64,
}

/// The replicas of one server, and who wrote what lately.
pub struct Replicas {
    primary: DatabaseConnection,
    members: Vec<Replica>,
    next: AtomicUsize,
    wait: Duration,
    /// This server's own record of each token's last write: a request
    /// reads the token's row once, so the later operations of a batch and
    /// of a WebSocket connection learn of the earlier ones' writes here.
    recent: Mutex<HashMap<i64, i64>>,
}

/// Tokens [`Replicas::recent`] keeps before it starts afresh.
const RECENT: usize = 10_000;

async fn position(db: &impl ConnectionTrait, sql: &str) -> Result<Option<i64>, DbErr> {
    let row = db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql)).await?;
    Ok(row.and_then(|row| row.try_get::<Option<i64>>("", "lsn").ok()).flatten())
}

impl Replicas {
    /// Connects to each replica (`max_connections` each) and checks that
    /// it is a standby.
    pub async fn connect(
        primary: DatabaseConnection,
        urls: &[String],
        max_connections: u32,
        wait: Duration,
    ) -> anyhow::Result<Self> {
        if primary.get_database_backend() != DbBackend::Postgres {
            anyhow::bail!("read replicas (--database-replica-url) need PostgreSQL as the database");
        }
        let mut members = Vec::with_capacity(urls.len());
        for (n, url) in urls.iter().enumerate() {
            let db = crate::db::connect(url, max_connections)
                .await
                .map_err(|e| anyhow::anyhow!("connecting to replica {}: {e}", n + 1))?;
            let replayed =
                position(&db, REPLAYED).await.map_err(|e| anyhow::anyhow!("asking replica {}: {e}", n + 1))?;
            let Some(replayed) = replayed else {
                anyhow::bail!(
                    "replica {} is not a standby (pg_is_in_recovery() is false): it cannot be read as one",
                    n + 1
                );
            };
            members.push(Replica {
                db,
                up: AtomicBool::new(true),
                replayed: AtomicI64::new(replayed),
                lag_bytes: AtomicI64::new(0),
            });
        }
        Ok(Replicas { primary, members, next: AtomicUsize::new(0), wait, recent: Mutex::default() })
    }

    /// After a write with API token `token` has committed (outside its
    /// transaction, on the primary): records in the token's row, and here,
    /// where the primary's WAL now stands, never moving it back. One statement.
    pub async fn record_write(&self, db: &impl ConnectionTrait, token: i64) -> Result<(), DbErr> {
        let now = Expr::cust("(pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint");
        let kept = Expr::col(api_token::Column::WrittenLsn);
        let update = Query::update()
            .table(api_token::Entity)
            .value(api_token::Column::WrittenLsn, Expr::case(kept.clone().gt(now.clone()), kept).finally(now))
            .and_where(api_token::Column::Id.eq(token))
            .returning_col(api_token::Column::WrittenLsn)
            .to_owned();
        let written =
            db.query_one(&update).await?.and_then(|row| row.try_get_by_index::<Option<i64>>(0).ok()).flatten();
        if let Some(written) = written {
            let mut recent = self.recent.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if recent.len() >= RECENT {
                // Each token's row still has it; only later operations of a request already begun may miss it.
                recent.clear();
            }
            let at = recent.entry(token).or_insert(written);
            *at = Ord::max(*at, written);
        }
        Ok(())
    }

    /// Where the reads of a caller go (with API token `token` whose row said,
    /// when the request began, that its last write left the primary's WAL at
    /// `written`), and the statements choosing it ran: the next replica that
    /// is up and has replayed the token's last write (waiting for it within
    /// the bound), else the primary.
    pub async fn reader(&self, token: Option<i64>, written: Option<i64>) -> (DatabaseConnection, u64) {
        let recent =
            token.and_then(|t| self.recent.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get(&t).copied());
        let needed = Ord::max(written, recent);
        let n = self.members.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let Some(replica) = (0..n).map(|i| &self.members[(start + i) % n]).find(|r| r.up.load(Ordering::Relaxed))
        else {
            return (self.primary.clone(), 0);
        };
        let Some(needed) = needed else { return (replica.db.clone(), 0) };
        if replica.replayed.load(Ordering::Relaxed) >= needed {
            return (replica.db.clone(), 0);
        }
        let deadline = tokio::time::Instant::now() + self.wait;
        let mut statements = 0;
        loop {
            statements += 1;
            match position(&replica.db, REPLAYED).await {
                Ok(Some(replayed)) if replayed >= needed => {
                    replica.replayed.fetch_max(replayed, Ordering::Relaxed);
                    return (replica.db.clone(), statements);
                }
                Ok(_) if tokio::time::Instant::now() + POLL < deadline => tokio::time::sleep(POLL).await,
                _ => return (self.primary.clone(), statements),
            }
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
        let written =
            tokio::time::timeout(limit, position(&self.primary, WRITTEN)).await.ok().and_then(Result::ok).flatten();
        for (n, replica) in self.members.iter().enumerate() {
            let replayed =
                tokio::time::timeout(limit, position(&replica.db, REPLAYED)).await.ok().and_then(Result::ok).flatten();
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
