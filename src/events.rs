//! Change events, from the write that makes them to every subscriber of
//! every server replica.
//!
//! The change history is the source of every event: each write records its
//! entries in `change_log` as the last statements of its transaction, and
//! entry ids follow commit order (the migration numbering them says how).
//! Each process runs one reader that delivers every entry above the last
//! one it delivered, in id order, whenever it is woken: by the write itself
//! in this process, and on PostgreSQL by `NOTIFY registry_changes`, which
//! the write queues inside its transaction so that every replica hears of
//! it at commit. A listener that loses its connection listens again and
//! wakes the reader, which then reads what was committed meanwhile: nothing
//! is skipped and nothing is delivered twice, whatever the outage.
//!
//! Fan-out is a bounded broadcast of one message per write: publishing
//! never waits for a subscriber. A subscriber that falls more than
//! [`CAPACITY`] writes behind reads what it missed back from the history
//! (see [`crate::graphql::subscription`]).
//!
//! On PostgreSQL the reader also looks every
//! [`ServerOptions::event_poll`] (2 s) without being woken, so a listening
//! connection that died without a word (no TCP reset reaches the server)
//! delays other servers' changes by that much at most.
//!
//! [`ServerOptions::event_poll`]: crate::options::ServerOptions::event_poll

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use async_graphql::Enum;
use chrono::{DateTime, Utc};
use entity::change_log;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityName, EntityTrait, IdenStatic,
    QueryFilter, QueryOrder, QuerySelect, Statement,
};
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, broadcast};
use tokio::task::JoinHandle;

/// The PostgreSQL notification channel.
pub const CHANNEL: &str = "registry_changes";

/// Writes a subscriber may fall behind by before it reads from the history.
pub const CAPACITY: usize = 1024;

/// History entries a write inserts per statement: each row binds one value
/// per column, and SQLite takes at most 32,766 bound values a statement
/// (PostgreSQL 65,535).
const ENTRIES_PER_INSERT: usize = 1_000;

/// What happened to a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Enum)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChangeAction {
    /// The record was created.
    Create,
    /// The record was changed.
    Update,
    /// The record was deleted.
    Delete,
}

impl ChangeAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeAction::Create => "CREATE",
            ChangeAction::Update => "UPDATE",
            ChangeAction::Delete => "DELETE",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "CREATE" => Some(ChangeAction::Create),
            "UPDATE" => Some(ChangeAction::Update),
            "DELETE" => Some(ChangeAction::Delete),
            _ => None,
        }
    }
}

/// The kinds of record that are written through the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Enum)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RecordKind {
    /// A partner organisation.
    Partner,
    /// An agreement with a partner.
    Agreement,
    /// A project under an agreement.
    Project,
    /// A funding of a project.
    Funding,
}

/// Runs `$body` with `$entity` the entity of the record kind `$kind`.
macro_rules! with_entity {
    ($kind:expr, $entity:ident => $body:expr) => {
        match $kind {
            $crate::events::RecordKind::Partner => {
                type $entity = entity::partner::Entity;
                $body
            }
            $crate::events::RecordKind::Agreement => {
                type $entity = entity::agreement::Entity;
                $body
            }
            $crate::events::RecordKind::Project => {
                type $entity = entity::project::Entity;
                $body
            }
            $crate::events::RecordKind::Funding => {
                type $entity = entity::funding::Entity;
                $body
            }
        }
    };
}
pub(crate) use with_entity;

impl RecordKind {
    pub const ALL: [RecordKind; 4] =
        [RecordKind::Partner, RecordKind::Agreement, RecordKind::Project, RecordKind::Funding];

    /// The table, also the `change_log.entity` value.
    pub fn table(self) -> &'static str {
        with_entity!(self, E => E::default().table_name())
    }

    /// The GraphQL type, also the prefix of global ids.
    pub fn type_name(self) -> &'static str {
        match self {
            RecordKind::Partner => "Partner",
            RecordKind::Agreement => "Agreement",
            RecordKind::Project => "Project",
            RecordKind::Funding => "Funding",
        }
    }

    /// The column (a field of the row's JSON snapshot) naming the record a row hangs off.
    fn parent_column(self) -> &'static str {
        with_entity!(self, E => <E as entity::Record>::PARENT.as_str())
    }

    /// The column (a field of the row's JSON snapshot) holding the version.
    fn version_column(self) -> &'static str {
        with_entity!(self, E => <E as entity::Record>::VERSION.as_str())
    }

    pub fn from_table(table: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.table() == table)
    }
}

/// One committed change, as subscribers receive it.
#[derive(Clone, Debug, PartialEq)]
pub struct ChangeEvent {
    /// The `change_log` row recording it.
    pub change_id: i64,
    pub kind: RecordKind,
    pub id: i64,
    pub action: ChangeAction,
    /// The record's version after the change; none after a delete.
    pub version: Option<i32>,
    /// The records it hangs off, before and after the change: the partner of
    /// an agreement, the agreement of a project, the project of a funding.
    pub parents: Vec<i64>,
    pub actor: String,
    pub at: DateTime<Utc>,
}

impl ChangeEvent {
    /// The event a history entry stands for.
    pub fn of(entry: &change_log::Model) -> Option<Self> {
        let kind = RecordKind::from_table(&entry.entity)?;
        let column = kind.parent_column();
        let mut parents: Vec<i64> = [&entry.before, &entry.after]
            .into_iter()
            .flatten()
            .filter_map(|row| row.get(column).and_then(serde_json::Value::as_i64))
            .collect();
        parents.sort_unstable();
        parents.dedup();
        Some(ChangeEvent {
            change_id: entry.id,
            kind,
            id: entry.entity_id,
            action: ChangeAction::parse(&entry.action)?,
            version: entry
                .after
                .as_ref()
                .and_then(|a| a.get(kind.version_column()))
                .and_then(|v| v.as_i64())
                .and_then(|v| i32::try_from(v).ok()),
            parents,
            actor: entry.actor.clone(),
            at: entry.at,
        })
    }
}

/// The changes of one write, in the order they were recorded.
pub type Batch = Arc<Vec<ChangeEvent>>;

/// History entries read per statement by the reader and by a resuming
/// subscriber.
pub const PAGE: u64 = 500;

/// Fans committed changes out to this process's subscribers.
///
/// Entry ids follow commit order (see the migration numbering them), so
/// one reader per process delivers every entry above the last one it
/// delivered, in id order: nothing committed is skipped, nothing is sent
/// twice, however late a transaction commits or however long the reader
/// was cut off. Writes only wake the reader: on PostgreSQL through
/// `NOTIFY` (for every replica) and in process (for this one), on SQLite
/// in process.
#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Batch>,
    wake: Arc<Notify>,
    /// The newest entry the reader has handed to the broadcast (or found
    /// when the server started): every entry above it is still to come.
    delivered: Arc<AtomicI64>,
    via_postgres: bool,
}

impl EventBus {
    pub fn new(backend: DbBackend) -> Self {
        let (sender, _) = broadcast::channel(CAPACITY);
        EventBus {
            sender,
            wake: Arc::new(Notify::new()),
            delivered: Arc::new(AtomicI64::new(0)),
            via_postgres: backend == DbBackend::Postgres,
        }
    }

    /// A receiver of every write delivered from now on, and the entry it
    /// starts after: every entry above that one reaches the receiver (those
    /// at or below it may too, and are the subscriber's to skip).
    pub fn subscribe(&self) -> (broadcast::Receiver<Batch>, i64) {
        let receiver = self.sender.subscribe();
        (receiver, self.delivered.load(Ordering::SeqCst))
    }

    /// Records a write's history entries, as the last statements of its
    /// transaction (on PostgreSQL the numbering lock is held from the first
    /// entry to the commit, so late is short), and queues the notification
    /// PostgreSQL delivers to every replica at commit and drops on rollback.
    pub async fn record_in(
        &self,
        txn: &impl ConnectionTrait,
        entries: Vec<change_log::ActiveModel>,
    ) -> Result<(), DbErr> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut entries = entries.into_iter().peekable();
        while entries.peek().is_some() {
            let chunk: Vec<_> = entries.by_ref().take(ENTRIES_PER_INSERT).collect();
            change_log::Entity::insert_many(chunk).exec_without_returning(txn).await?;
        }
        if self.via_postgres {
            txn.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_notify($1, '')",
                [CHANNEL.into()],
            ))
            .await?;
        }
        Ok(())
    }

    /// Called once a write is committed: this process's reader goes to read it.
    pub fn committed(&self) {
        self.wake.notify_one();
    }

    /// Starts this process's reader from the newest entry recorded, and on
    /// PostgreSQL the listener waking it for every replica's writes (and
    /// the reader reading every `poll` unwoken); returns once `LISTEN` is
    /// in effect, so nothing committed after the server starts is missed.
    pub async fn start(&self, db: &DatabaseConnection, poll: Duration) -> Result<Vec<JoinHandle<()>>, DbErr> {
        let mut tasks = Vec::new();
        if self.via_postgres {
            let listener = listen(db).await?;
            let wake = self.wake.clone();
            let db = db.clone();
            tasks.push(tokio::spawn(async move { keep_listening(listener, &db, &wake).await }));
        }
        self.delivered.store(newest_entry(db).await?, Ordering::SeqCst);
        let mut reader = Reader {
            sender: self.sender.clone(),
            db: db.clone(),
            delivered: self.delivered.clone(),
            idle_read: self.via_postgres.then_some(poll),
        };
        let wake = self.wake.clone();
        tasks.push(tokio::spawn(async move { reader.run(&wake).await }));
        Ok(tasks)
    }
}

async fn listen(db: &DatabaseConnection) -> Result<sqlx::postgres::PgListener, DbErr> {
    let failed = |e: sqlx::Error| DbErr::Custom(format!("cannot listen for changes: {e}"));
    let mut listener =
        sqlx::postgres::PgListener::connect_with(db.get_postgres_connection_pool()).await.map_err(failed)?;
    listener.listen(CHANNEL).await.map_err(failed)?;
    Ok(listener)
}

/// Wakes the reader for every notification, and once more each time the
/// listening connection is back: what was committed while it was gone is
/// read then.
async fn keep_listening(mut listener: sqlx::postgres::PgListener, db: &DatabaseConnection, wake: &Notify) {
    loop {
        match listener.try_recv().await {
            Ok(Some(_)) => wake.notify_one(),
            // The connection dropped and sqlx has listened again on a new one.
            Ok(None) => {
                tracing::info!("change listener reconnected");
                wake.notify_one();
            }
            Err(e) => {
                tracing::warn!(error = %e, "change listener lost the database; reconnecting");
                listener = loop {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    if let Ok(listener) = listen(db).await {
                        break listener;
                    }
                };
                tracing::info!("change listener reconnected");
                wake.notify_one();
            }
        }
    }
}

/// The newest history entry's id (0 when there is none).
pub async fn newest_entry(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let newest = change_log::Entity::find()
        .select_only()
        .column(change_log::Column::Id)
        .order_by_desc(change_log::Column::Id)
        .into_tuple::<i64>()
        .one(db)
        .await?;
    Ok(newest.unwrap_or(0))
}

/// Up to [`PAGE`] history entries after entry `after`, in id (commit) order.
pub async fn entries_after(db: &impl ConnectionTrait, after: i64) -> Result<Vec<change_log::Model>, DbErr> {
    change_log::Entity::find()
        .filter(change_log::Column::Id.gt(after))
        .order_by_asc(change_log::Column::Id)
        .limit(PAGE)
        .all(db)
        .await
}

/// The events of `entries`, one batch per write.
pub fn batches(entries: &[change_log::Model]) -> Vec<Batch> {
    entries
        .chunk_by(same_write)
        .map(|write| Arc::new(write.iter().filter_map(ChangeEvent::of).collect::<Vec<_>>()))
        .filter(|events| !events.is_empty())
        .collect()
}

/// Delivers every entry committed after the last one it delivered.
struct Reader {
    sender: broadcast::Sender<Batch>,
    db: DatabaseConnection,
    /// The newest entry delivered, or present when the server started.
    delivered: Arc<AtomicI64>,
    /// How long to wait for a wake-up before reading anyway, if at all.
    idle_read: Option<Duration>,
}

impl Reader {
    async fn run(&mut self, wake: &Notify) {
        loop {
            match self.idle_read {
                Some(idle) => {
                    let _ = tokio::time::timeout(idle, wake.notified()).await;
                }
                None => wake.notified().await,
            }
            while let Err(e) = self.deliver_new().await {
                tracing::warn!(error = %e, "cannot read changes; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }

    /// Reads page after page until the history is exhausted, and delivers
    /// each write whole: a full page may end inside a write, whose entries
    /// then wait for the next page.
    async fn deliver_new(&mut self) -> Result<(), DbErr> {
        let mut read = self.delivered.load(Ordering::SeqCst);
        let mut unsent: Vec<change_log::Model> = Vec::new();
        loop {
            let page = entries_after(&self.db, read).await?;
            let Some(last) = page.last().map(|e| e.id) else { break };
            let more = page.len() as u64 == PAGE;
            read = last;
            unsent.extend(page);
            if !more {
                break;
            }
            let last_write = unsent.chunk_by(same_write).last().map_or(0, <[_]>::len);
            let rest = unsent.split_off(unsent.len() - last_write);
            self.deliver(&unsent);
            unsent = rest;
        }
        self.deliver(&unsent);
        Ok(())
    }

    fn deliver(&self, entries: &[change_log::Model]) {
        for batch in batches(entries) {
            tracing::debug!(entries = batch.len(), "change batch delivered");
            // Moved on before the send: a subscriber joining in between
            // starts after this batch and may also receive it, never miss it.
            if let Some(newest) = batch.last() {
                self.delivered.store(newest.change_id, Ordering::SeqCst);
            }
            // No receiver is not an error: nobody is subscribed.
            let _ = self.sender.send(batch);
        }
        // Entries that make no event (none today) are passed over too.
        if let Some(last) = entries.last() {
            self.delivered.fetch_max(last.id, Ordering::SeqCst);
        }
    }
}

/// Whether two neighbouring history entries were recorded by one write.
fn same_write(a: &change_log::Model, b: &change_log::Model) -> bool {
    a.batch.is_some() && a.batch == b.batch
}

#[cfg(test)]
mod tests {
    //! The reader hands each write to the broadcast whole, however many
    //! pages its entries span.

    use chrono::Utc;
    use migration::{Migrator, MigratorTrait};
    use sea_orm::{Database, Set, TransactionTrait};

    use super::*;

    fn entry(partner: i64, write: &str) -> change_log::ActiveModel {
        let now = Utc::now();
        change_log::ActiveModel {
            entity: Set("partner".into()),
            entity_id: Set(partner),
            action: Set("UPDATE".into()),
            actor: Set("test".into()),
            at: Set(now),
            before: Set(None),
            after: Set(Some(serde_json::json!({ "version": 2 }))),
            batch: Set(Some(write.into())),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn a_write_spanning_pages_is_delivered_as_one_batch() {
        let db = Database::connect("sqlite::memory:").await.expect("an in-memory database");
        Migrator::up(&db, None).await.expect("migrated");
        let bus = EventBus::new(DbBackend::Sqlite);
        let tasks = bus.start(&db, Duration::from_secs(2)).await.expect("started");
        let (mut receiver, _) = bus.subscribe();

        let sizes = [1, 2 * PAGE as usize + 200, PAGE as usize - 1, 1];
        let txn = db.begin().await.expect("a transaction");
        for (n, size) in sizes.into_iter().enumerate() {
            let write = format!("write-{n}");
            bus.record_in(&txn, (0..size as i64).map(|p| entry(p, &write)).collect()).await.expect("recorded");
        }
        txn.commit().await.expect("committed");
        bus.committed();

        let mut delivered = Vec::new();
        while delivered.len() < sizes.len() {
            let batch = tokio::time::timeout(Duration::from_secs(10), receiver.recv()).await;
            delivered.push(batch.expect("a batch within 10 s").expect("a batch").len());
        }
        assert_eq!(delivered, sizes, "one batch per write, whole");
        tasks.into_iter().for_each(|task| task.abort());
    }
}
