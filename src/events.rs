//! Change events, from the write that makes them to every subscriber of
//! every server replica.
//!
//! The change history is the source of every event: each write records its
//! entries in `change_log` under one batch id. On PostgreSQL the write sends
//! `NOTIFY registry_changes, '<batch>'` inside its own transaction, so the
//! notification exists exactly when the change is committed; every replica
//! `LISTEN`s, reads the batch's entries back and hands them to its
//! subscribers. A replica whose listening connection drops reconnects and
//! reads back what was committed meanwhile, so a change is not lost for
//! it either. On SQLite, which has one process and no such channel, a
//! write hands its entries over right after committing.
//!
//! Fan-out is a bounded broadcast of one message per write: publishing
//! never waits for a subscriber. A subscriber that falls more than
//! [`CAPACITY`] writes behind loses its place and its subscription ends
//! with an error (see [`crate::graphql::subscription`]).

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use async_graphql::Enum;
use chrono::{DateTime, Utc};
use entity::change_log;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityName, EntityTrait, IdenStatic,
    QueryFilter, QueryOrder, QuerySelect, Statement,
};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

/// The PostgreSQL notification channel.
pub const CHANNEL: &str = "registry_changes";

/// Writes a subscriber may fall behind by before it is dropped.
pub const CAPACITY: usize = 1024;

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

/// Fans committed changes out to this process's subscribers.
#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Batch>,
    via_postgres: bool,
}

impl EventBus {
    pub fn new(backend: DbBackend) -> Self {
        let (sender, _) = broadcast::channel(CAPACITY);
        EventBus { sender, via_postgres: backend == DbBackend::Postgres }
    }

    /// A receiver of every write committed from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Batch> {
        self.sender.subscribe()
    }

    /// Called inside the write's transaction: on PostgreSQL, queues the
    /// notification, which the database delivers at commit and drops on
    /// rollback.
    pub async fn notify_in(&self, txn: &impl ConnectionTrait, batch: &str) -> Result<(), DbErr> {
        if !self.via_postgres {
            return Ok(());
        }
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), batch.into()],
        ))
        .await
        .map(|_| ())
    }

    /// Called once the write is committed: on SQLite, delivers its entries.
    pub fn committed(&self, entries: &[change_log::Model]) {
        if !self.via_postgres {
            self.deliver(entries);
        }
    }

    fn deliver(&self, entries: &[change_log::Model]) {
        let events: Vec<ChangeEvent> = entries.iter().filter_map(ChangeEvent::of).collect();
        if !events.is_empty() {
            // No receiver is not an error: nobody is subscribed.
            let _ = self.sender.send(Arc::new(events));
        }
    }

    /// On PostgreSQL, starts listening for every replica's writes and
    /// returns once `LISTEN` is in effect, so nothing committed after the
    /// server starts is missed. On SQLite, does nothing.
    pub async fn start(&self, db: &DatabaseConnection) -> Result<Option<JoinHandle<()>>, DbErr> {
        if !self.via_postgres {
            return Ok(None);
        }
        let listener = listen(db).await?;
        let newest = newest_entry(db).await?;
        let mut reader = Reader { bus: self.clone(), db: db.clone(), seen: Seen::default(), newest };
        Ok(Some(tokio::spawn(async move { reader.run(listener).await })))
    }
}

async fn listen(db: &DatabaseConnection) -> Result<sqlx::postgres::PgListener, DbErr> {
    let failed = |e: sqlx::Error| DbErr::Custom(format!("cannot listen for changes: {e}"));
    let mut listener =
        sqlx::postgres::PgListener::connect_with(db.get_postgres_connection_pool()).await.map_err(failed)?;
    listener.listen(CHANNEL).await.map_err(failed)?;
    Ok(listener)
}

async fn newest_entry(db: &DatabaseConnection) -> Result<i64, DbErr> {
    let newest = change_log::Entity::find()
        .select_only()
        .column(change_log::Column::Id)
        .order_by_desc(change_log::Column::Id)
        .into_tuple::<i64>()
        .one(db)
        .await?;
    Ok(newest.unwrap_or(0))
}

/// The batches delivered lately, so one read back after a reconnection is
/// not delivered twice.
#[derive(Default)]
struct Seen {
    order: VecDeque<String>,
    set: HashSet<String>,
}

impl Seen {
    const KEEP: usize = 4096;

    /// Whether `batch` is new (and now remembered).
    fn first_time(&mut self, batch: &str) -> bool {
        if self.set.contains(batch) {
            return false;
        }
        self.set.insert(batch.to_owned());
        self.order.push_back(batch.to_owned());
        if self.order.len() > Self::KEEP
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        true
    }
}

/// Reads notified batches back from `change_log` and delivers them.
struct Reader {
    bus: EventBus,
    db: DatabaseConnection,
    seen: Seen,
    /// The newest history entry delivered or present at start.
    newest: i64,
}

impl Reader {
    async fn run(&mut self, mut listener: sqlx::postgres::PgListener) {
        loop {
            let failure = match listener.try_recv().await {
                Ok(Some(notification)) => match self.read_batch(notification.payload()).await {
                    Ok(()) => continue,
                    Err(e) => e.to_string(),
                },
                // The connection dropped and sqlx has already listened again on
                // a new one: what was notified in between is read back.
                Ok(None) => match self.catch_up().await {
                    Ok(()) => {
                        tracing::info!("change listener reconnected");
                        continue;
                    }
                    Err(e) => e.to_string(),
                },
                Err(e) => e.to_string(),
            };
            tracing::warn!(error = %failure, "change listener lost the database; reconnecting");
            listener = self.reconnect().await;
        }
    }

    async fn read_batch(&mut self, batch: &str) -> Result<(), DbErr> {
        if self.seen.set.contains(batch) {
            return Ok(());
        }
        let entries = change_log::Entity::find()
            .filter(change_log::Column::Batch.eq(batch))
            .order_by_asc(change_log::Column::Id)
            .all(&self.db)
            .await?;
        self.seen.first_time(batch);
        tracing::debug!(batch, entries = entries.len(), "change batch delivered");
        self.publish(&entries);
        Ok(())
    }

    fn publish(&mut self, entries: &[change_log::Model]) {
        if let Some(last) = entries.iter().map(|e| e.id).max() {
            self.newest = self.newest.max(last);
        }
        self.bus.deliver(entries);
    }

    /// Listens again, then delivers what was committed meanwhile; retries
    /// (every second at most) until the database answers.
    async fn reconnect(&mut self) -> sqlx::postgres::PgListener {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let Ok(listener) = listen(&self.db).await else { continue };
            if self.catch_up().await.is_ok() {
                tracing::info!("change listener reconnected");
                return listener;
            }
        }
    }

    /// Delivers the batches recorded since the newest one delivered. Ids are
    /// handed out before commit, so a write may commit after one with a
    /// higher id: look back a little further, and skip what was delivered.
    async fn catch_up(&mut self) -> Result<(), DbErr> {
        const LOOK_BACK: i64 = 1_000;
        let entries = change_log::Entity::find()
            .filter(change_log::Column::Id.gt(self.newest - LOOK_BACK))
            .filter(change_log::Column::Batch.is_not_null())
            .order_by_asc(change_log::Column::Id)
            .all(&self.db)
            .await?;
        let mut batches: Vec<(String, Vec<change_log::Model>)> = Vec::new();
        for entry in entries {
            let Some(batch) = entry.batch.clone() else { continue };
            match batches.iter_mut().find(|(b, _)| *b == batch) {
                Some((_, group)) => group.push(entry),
                None => batches.push((batch, vec![entry])),
            }
        }
        for (batch, group) in batches {
            if self.seen.first_time(&batch) {
                tracing::debug!(batch, entries = group.len(), "change batch read back after a reconnection");
                self.publish(&group);
            }
        }
        Ok(())
    }
}
