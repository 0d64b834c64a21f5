//! Live changes, over graphql-transport-ws (`/graphql/ws`). Every event is
//! a committed change (see [`crate::events`]), delivered once and in commit
//! order. A subscription given a cursor (`after`) first reads the history
//! from there; one that falls behind the live broadcast reads its way back
//! the same way, so neither misses a change.

use std::collections::VecDeque;

use async_graphql::{Context, ID, Object, Subscription};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use tokio::sync::broadcast;

use crate::db::CountingDb;
use crate::error::{ApiError, ApiResult};
use crate::events::{self, Batch, ChangeAction, ChangeEvent, RecordKind};
use crate::graphql::context::{db, request};
use crate::graphql::id;
use crate::graphql::node::{NodeType, Wanted};
use crate::graphql::object::{Agreement, Change, Funding, Node, Partner, Project};
use crate::graphql::scalar::DateTimeUtc;
use crate::graphql::sql;

/// Everything that can be watched.
#[derive(Default)]
pub struct SubscriptionRoot;

/// One committed change, as a subscriber receives it.
pub struct ChangeNotice(ChangeEvent);

/// The type name inside a subscription cursor.
pub const CURSOR: &str = "ChangeCursor";

/// A committed change to a partner, agreement, project or funding.
#[Object(name = "ChangeEvent")]
impl ChangeNotice {
    /// Created, updated or deleted.
    async fn action(&self) -> ChangeAction {
        self.0.action
    }

    /// What kind of record changed.
    async fn record_kind(&self) -> RecordKind {
        self.0.kind
    }

    /// The global id of the record that changed.
    async fn record_id(&self) -> ID {
        ID(id::encode(self.0.kind.type_name(), self.0.id))
    }

    /// The record's version after the change; null after a deletion.
    async fn version(&self) -> Option<i32> {
        self.0.version
    }

    /// The name of the API token that made the change.
    async fn actor(&self) -> &str {
        &self.0.actor
    }

    /// When the change was committed.
    async fn at(&self) -> DateTimeUtc {
        DateTimeUtc(self.0.at)
    }

    /// The record as it is now (read when the event is delivered, so it may
    /// be newer than `version`); null once deleted.
    async fn node(&self, ctx: &Context<'_>) -> ApiResult<Option<Node>> {
        async fn one<N: NodeType>(ctx: &Context<'_>, id: i64, wrap: fn(N) -> Node) -> ApiResult<Option<Node>> {
            let group = sql::fetch_by_ids::<N::Entity>(db(ctx)?, &[id], Wanted::ALL).await?;
            Ok(N::all(&group).into_iter().next().map(wrap))
        }
        if self.0.action == ChangeAction::Delete {
            return Ok(None);
        }
        match self.0.kind {
            RecordKind::Partner => one::<Partner>(ctx, self.0.id, Node::Partner).await,
            RecordKind::Agreement => one::<Agreement>(ctx, self.0.id, Node::Agreement).await,
            RecordKind::Project => one::<Project>(ctx, self.0.id, Node::Project).await,
            RecordKind::Funding => one::<Funding>(ctx, self.0.id, Node::Funding).await,
        }
    }

    /// The change's place in commit order: subscribe again with it as
    /// `after` to receive every change that followed, none twice.
    async fn cursor(&self) -> String {
        id::encode(CURSOR, self.0.change_id)
    }

    /// The history entry of the change, with the record before and after.
    async fn change(&self, ctx: &Context<'_>) -> ApiResult<Option<Change>> {
        let group = sql::fetch_by_ids::<entity::change_log::Entity>(db(ctx)?, &[self.0.change_id], Wanted::ALL).await?;
        Ok(Change::all(&group).into_iter().next())
    }
}

/// What a subscription field returns: its events, or one error if it could not start.
type Notices = BoxStream<'static, ApiResult<ChangeNotice>>;

/// The events passing `keep` after the change of cursor `after` (or from
/// now on), until the server stops.
fn notices(
    ctx: &Context<'_>,
    after: Option<&str>,
    keep: impl Fn(&ChangeEvent) -> bool + Send + Sync + 'static,
) -> ApiResult<Notices> {
    let data = request(ctx)?;
    let (receiver, live_after) = data.events.subscribe();
    let not_a_cursor = || ApiError::bad_input("after", "`after` is not the cursor of a change event");
    let after = after.map(|cursor| id::decode_as("after", CURSOR, cursor).map_err(|_| not_a_cursor())).transpose()?;
    // Counted with the subscription: its history reads go in `sqlStatements`.
    let db = data.db.clone();
    let start = async move {
        let (examined, replaying) = match after {
            // From now on: every change above the broadcast's place when subscribed.
            None => (live_after, false),
            Some(after) if after > events::newest_entry(&db).await? => return Err(not_a_cursor()),
            Some(after) => (after, true),
        };
        Ok(Feed { receiver, pending: VecDeque::new(), keep, db, examined, replaying })
    };
    Ok(futures_util::stream::once(start)
        .flat_map(|feed| match feed {
            Ok(feed) => futures_util::stream::unfold(Some(feed), |feed| async move {
                let mut feed = feed?;
                match feed.next().await? {
                    Ok(notice) => Some((Ok(notice), Some(feed))),
                    Err(e) => Some((Err(e), None)),
                }
            })
            .boxed(),
            Err(e) => futures_util::stream::once(async move { Err(e) }).boxed(),
        })
        .boxed())
}

/// One subscription's place in the stream of changes.
struct Feed<K> {
    receiver: broadcast::Receiver<Batch>,
    /// Events passing `keep`, examined and not yet sent.
    pending: VecDeque<ChangeEvent>,
    keep: K,
    db: CountingDb,
    /// The newest change examined: nothing at or below it is sent again.
    examined: i64,
    /// Reading the history after `examined` rather than the live broadcast.
    replaying: bool,
}

impl<K: Fn(&ChangeEvent) -> bool> Feed<K> {
    /// The next event; none once the server stops.
    async fn next(&mut self) -> Option<ApiResult<ChangeNotice>> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(Ok(ChangeNotice(event)));
            }
            if self.replaying {
                let entries = match events::entries_after(&self.db, self.examined).await {
                    Ok(entries) => entries,
                    Err(e) => return Some(Err(e.into())),
                };
                self.replaying = entries.len() as u64 == events::PAGE;
                self.take(&events::batches(&entries));
                if let Some(last) = entries.last() {
                    self.examined = self.examined.max(last.id);
                }
                continue;
            }
            match self.receiver.recv().await {
                Ok(batch) => self.take(std::slice::from_ref(&batch)),
                // The broadcast dropped events for this subscriber: the
                // history still has them.
                Err(broadcast::error::RecvError::Lagged(_)) => self.replaying = true,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    fn take(&mut self, batches: &[Batch]) {
        for event in batches.iter().flat_map(|batch| batch.iter()) {
            if event.change_id > self.examined {
                self.examined = event.change_id;
                if (self.keep)(event) {
                    self.pending.push_back(event.clone());
                }
            }
        }
    }
}

/// A subscription that could not start: its one item is the error.
fn or_error(notices: ApiResult<Notices>) -> Notices {
    notices.unwrap_or_else(|e| futures_util::stream::once(async move { Err(e) }).boxed())
}

/// Changes to records of `kind`: all of them, or only those under `parent`,
/// a global id of `parent_type` given in the argument `field`.
fn changes_under(
    ctx: &Context<'_>,
    kind: RecordKind,
    field: &str,
    parent_type: &str,
    parent: Option<&ID>,
    after: Option<&str>,
) -> Notices {
    let parent = parent.map(|id| id::decode_as(field, parent_type, id)).transpose();
    or_error(parent.and_then(|parent| {
        notices(ctx, after, move |e| e.kind == kind && parent.is_none_or(|p| e.parents.contains(&p)))
    }))
}

/// Live changes, over graphql-transport-ws at `/graphql/ws`: each event is a
/// committed change, sent once, in commit order. Every field takes `after`,
/// the `cursor` of the last event a subscriber received: the subscription
/// then starts with every change since, so one that reconnects (to this
/// server or another replica) misses nothing.
#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Every change to one partner.
    async fn partner_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partner to watch (global id).")] id: ID,
        #[graphql(desc = "Start after the change of this cursor (an event's `cursor`), not now.")] after: Option<
            String,
        >,
    ) -> Notices {
        or_error(
            id::decode_as("id", Partner::TYPE_NAME, &id)
                .and_then(|id| notices(ctx, after.as_deref(), move |e| e.kind == RecordKind::Partner && e.id == id)),
        )
    }

    /// Changes to agreements: all of them, or those of one partner (an
    /// agreement moved between partners is reported to both).
    async fn agreement_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the agreements of this partner (global id).")] partner_id: Option<ID>,
        #[graphql(desc = "Start after the change of this cursor (an event's `cursor`), not now.")] after: Option<
            String,
        >,
    ) -> Notices {
        changes_under(
            ctx,
            RecordKind::Agreement,
            "partnerId",
            Partner::TYPE_NAME,
            partner_id.as_ref(),
            after.as_deref(),
        )
    }

    /// Changes to projects: all of them, or those under one agreement.
    async fn project_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the projects under this agreement (global id).")] agreement_id: Option<ID>,
        #[graphql(desc = "Start after the change of this cursor (an event's `cursor`), not now.")] after: Option<
            String,
        >,
    ) -> Notices {
        changes_under(
            ctx,
            RecordKind::Project,
            "agreementId",
            Agreement::TYPE_NAME,
            agreement_id.as_ref(),
            after.as_deref(),
        )
    }

    /// Changes to fundings: all of them, or those of one project.
    async fn funding_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the fundings of this project (global id).")] project_id: Option<ID>,
        #[graphql(desc = "Start after the change of this cursor (an event's `cursor`), not now.")] after: Option<
            String,
        >,
    ) -> Notices {
        changes_under(ctx, RecordKind::Funding, "projectId", Project::TYPE_NAME, project_id.as_ref(), after.as_deref())
    }

    /// Every change to every partner, agreement, project and funding, or to those of the kinds given.
    async fn changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only changes to records of these kinds.")] kinds: Option<Vec<RecordKind>>,
        #[graphql(desc = "Start after the change of this cursor (an event's `cursor`), not now.")] after: Option<
            String,
        >,
    ) -> Notices {
        or_error(notices(ctx, after.as_deref(), move |e| kinds.as_ref().is_none_or(|k| k.contains(&e.kind))))
    }
}

#[cfg(test)]
mod tests {
    //! A subscriber the broadcast dropped events for reads them back from
    //! the history: the broadcast here holds one write, and three arrive
    //! while the subscriber is not reading.

    use std::sync::Arc;

    use chrono::Utc;
    use entity::change_log;
    use migration::{Migrator, MigratorTrait};
    use sea_orm::{ActiveModelTrait, Database, DatabaseConnection, Set};

    use super::*;

    async fn record(db: &DatabaseConnection, partner: i64, version: i32) -> change_log::Model {
        let now = Utc::now();
        change_log::ActiveModel {
            entity: Set("partner".into()),
            entity_id: Set(partner),
            action: Set(if version == 1 { "CREATE" } else { "UPDATE" }.into()),
            actor: Set("test".into()),
            at: Set(now),
            before: Set(None),
            after: Set(Some(serde_json::json!({ "version": version }))),
            batch: Set(Some(format!("{partner}-{version}"))),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("the entry is recorded")
    }

    #[tokio::test]
    async fn a_subscriber_that_lagged_reads_the_history_and_misses_nothing() {
        let db = Database::connect("sqlite::memory:").await.expect("an in-memory database");
        Migrator::up(&db, None).await.expect("migrated");
        let (sender, receiver) = broadcast::channel::<Batch>(1);
        let mut feed = Feed {
            receiver,
            pending: VecDeque::new(),
            keep: |e: &ChangeEvent| e.id != 2,
            db: CountingDb::new(db.clone()),
            examined: events::newest_entry(&db).await.expect("newest"),
            replaying: false,
        };
        let mut written = Vec::new();
        for (partner, version) in [(1, 1), (2, 1), (1, 2)] {
            let entry = record(&db, partner, version).await;
            sender.send(Arc::new(ChangeEvent::of(&entry).into_iter().collect())).expect("a receiver");
            written.push(entry);
        }
        let mut seen = Vec::new();
        for _ in 0..2 {
            let notice = feed.next().await.expect("an event").expect("no error");
            seen.push((notice.0.id, notice.0.version));
        }
        assert_eq!(seen, [(1, Some(1)), (1, Some(2))], "both changes to partner 1, in order, none of partner 2");
        assert_eq!(feed.examined, written[2].id);

        // Live again: a change already read back is not sent twice, a new one is.
        let again = ChangeEvent::of(&written[2]).into_iter().collect();
        sender.send(Arc::new(again)).expect("a receiver");
        let next = record(&db, 1, 3).await;
        sender.send(Arc::new(ChangeEvent::of(&next).into_iter().collect())).expect("a receiver");
        let notice = feed.next().await.expect("an event").expect("no error");
        assert_eq!((notice.0.change_id, notice.0.version), (next.id, Some(3)));
        assert!(feed.pending.is_empty());
    }
}
