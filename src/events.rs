//! Change events, from the write that makes them to every subscriber of
//! every server replica.
//!
//! On PostgreSQL a write sends `NOTIFY` inside its own transaction, so an
//! event exists exactly when its change is committed (never for a rollback,
//! never lost for a commit while the listener is connected), and every
//! replica's listener (`LISTEN`), this one's included, fans it out to its
//! subscribers. On SQLite, which has no such channel and one process, the
//! events are handed over right after the commit.
//!
//! Fan-out is a bounded broadcast: publishing never waits for a subscriber.
//! A subscriber that falls more than [`CAPACITY`] events behind loses its
//! place and its subscription ends with an error (see
//! [`crate::graphql::subscription`]).

use std::sync::Arc;
use std::time::Duration;

use async_graphql::Enum;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

/// The PostgreSQL notification channel.
pub const CHANNEL: &str = "registry_changes";

/// Events a subscriber may fall behind by before it is dropped.
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

impl RecordKind {
    /// The table, also the `change_log.entity` value.
    pub fn table(self) -> &'static str {
        match self {
            RecordKind::Partner => "partner",
            RecordKind::Agreement => "agreement",
            RecordKind::Project => "project",
            RecordKind::Funding => "funding",
        }
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

    pub fn from_table(table: &str) -> Option<Self> {
        [RecordKind::Partner, RecordKind::Agreement, RecordKind::Project, RecordKind::Funding]
            .into_iter()
            .find(|k| k.table() == table)
    }
}

/// One committed change, as subscribers receive it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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

/// Fans committed changes out to this process's subscribers.
#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Arc<ChangeEvent>>,
    via_postgres: bool,
}

impl EventBus {
    pub fn new(backend: DbBackend) -> Self {
        let (sender, _) = broadcast::channel(CAPACITY);
        EventBus { sender, via_postgres: backend == DbBackend::Postgres }
    }

    /// A receiver of every event committed from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<ChangeEvent>> {
        self.sender.subscribe()
    }

    /// Called inside the write's transaction: on PostgreSQL, queues the
    /// notifications, which the database delivers at commit and drops on
    /// rollback.
    pub async fn notify_in(&self, txn: &impl ConnectionTrait, events: &[ChangeEvent]) -> Result<(), DbErr> {
        if !self.via_postgres {
            return Ok(());
        }
        for event in events {
            let payload = serde_json::to_string(event).map_err(|e| DbErr::Custom(e.to_string()))?;
            txn.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_notify($1, $2)",
                [CHANNEL.into(), payload.into()],
            ))
            .await?;
        }
        Ok(())
    }

    /// Called once the write is committed: on SQLite, delivers the events.
    pub fn committed(&self, events: Vec<ChangeEvent>) {
        if self.via_postgres {
            return;
        }
        for event in events {
            // No receiver is not an error: nobody is subscribed.
            let _ = self.sender.send(Arc::new(event));
        }
    }

    fn deliver(&self, payload: &str) {
        match serde_json::from_str::<ChangeEvent>(payload) {
            Ok(event) => {
                let _ = self.sender.send(Arc::new(event));
            }
            Err(e) => tracing::warn!(error = %e, "ignoring a change notification that is not ours"),
        }
    }

    /// On PostgreSQL, starts listening for every replica's changes and
    /// returns once `LISTEN` is in effect, so nothing committed after the
    /// server starts is missed. On SQLite, does nothing.
    pub async fn start(&self, db: &DatabaseConnection) -> Result<Option<JoinHandle<()>>, DbErr> {
        if !self.via_postgres {
            return Ok(None);
        }
        let pool = db.get_postgres_connection_pool().clone();
        let mut listener = sqlx::postgres::PgListener::connect_with(&pool)
            .await
            .map_err(|e| DbErr::Custom(format!("cannot listen for changes: {e}")))?;
        listener.listen(CHANNEL).await.map_err(|e| DbErr::Custom(format!("cannot listen for changes: {e}")))?;
        let bus = self.clone();
        Ok(Some(tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(notification) => bus.deliver(notification.payload()),
                    Err(e) => {
                        // The listener reconnects (and listens again) on the
                        // next call; changes committed meanwhile are not seen.
                        tracing::warn!(error = %e, "change listener lost its connection; reconnecting");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        })))
    }
}
