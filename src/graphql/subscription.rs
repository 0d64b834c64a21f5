//! Live changes, over graphql-transport-ws (`/graphql/ws`). Every event is
//! a committed change (see [`crate::events`]); a subscriber that falls too
//! far behind gets a `SUBSCRIBER_LAGGED` error and its subscription ends.

use std::collections::VecDeque;
use std::sync::Arc;

use async_graphql::{Context, ID, Object, Subscription};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use tokio::sync::broadcast;

use crate::error::{ApiError, ApiResult};
use crate::events::{ChangeAction, ChangeEvent, RecordKind};
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
pub struct ChangeNotice(Arc<ChangeEvent>);

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

    /// The history entry of the change, with the record before and after.
    async fn change(&self, ctx: &Context<'_>) -> ApiResult<Option<Change>> {
        let group = sql::fetch_by_ids::<entity::change_log::Entity>(db(ctx)?, &[self.0.change_id], Wanted::ALL).await?;
        Ok(Change::all(&group).into_iter().next())
    }
}

/// What a subscription field returns: its events, or one error if it could not start.
type Notices = BoxStream<'static, ApiResult<ChangeNotice>>;

/// The events passing `keep`, until the channel closes or the subscriber lags.
fn notices(ctx: &Context<'_>, keep: impl Fn(&ChangeEvent) -> bool + Send + Sync + 'static) -> ApiResult<Notices> {
    let receiver = request(ctx)?.events.subscribe();
    let state = Some((receiver, VecDeque::<ChangeEvent>::new(), keep));
    Ok(futures_util::stream::unfold(state, |state| async move {
        let (mut receiver, mut pending, keep) = state?;
        loop {
            if let Some(event) = pending.pop_front() {
                return Some((Ok(ChangeNotice(Arc::new(event))), Some((receiver, pending, keep))));
            }
            match receiver.recv().await {
                Ok(batch) => pending.extend(batch.iter().filter(|e| keep(e)).cloned()),
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    return Some((Err(ApiError::Lagged { missed }), None));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
    .boxed())
}

/// A subscription that could not start: its one item is the error.
fn or_error(notices: ApiResult<Notices>) -> Notices {
    notices.unwrap_or_else(|e| futures_util::stream::once(async move { Err(e) }).boxed())
}

/// Changes to records of `kind`: all of them, or only those under `parent`,
/// a global id of `parent_type` given in the argument `field`.
fn changes_under(ctx: &Context<'_>, kind: RecordKind, field: &str, parent_type: &str, parent: Option<&ID>) -> Notices {
    let parent = parent.map(|id| id::decode_as(field, parent_type, id)).transpose();
    or_error(
        parent
            .and_then(|parent| notices(ctx, move |e| e.kind == kind && parent.is_none_or(|p| e.parents.contains(&p)))),
    )
}

/// Live changes, over graphql-transport-ws at `/graphql/ws`: each event is a
/// committed change. A subscriber that falls more than 1,024 writes behind
/// gets a `SUBSCRIBER_LAGGED` error and its subscription ends.
#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Every change to one partner.
    async fn partner_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partner to watch (global id).")] id: ID,
    ) -> Notices {
        or_error(
            id::decode_as("id", Partner::TYPE_NAME, &id)
                .and_then(|id| notices(ctx, move |e| e.kind == RecordKind::Partner && e.id == id)),
        )
    }

    /// Changes to agreements: all of them, or those of one partner (an
    /// agreement moved between partners is reported to both).
    async fn agreement_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the agreements of this partner (global id).")] partner_id: Option<ID>,
    ) -> Notices {
        changes_under(ctx, RecordKind::Agreement, "partnerId", Partner::TYPE_NAME, partner_id.as_ref())
    }

    /// Changes to projects: all of them, or those under one agreement.
    async fn project_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the projects under this agreement (global id).")] agreement_id: Option<ID>,
    ) -> Notices {
        changes_under(ctx, RecordKind::Project, "agreementId", Agreement::TYPE_NAME, agreement_id.as_ref())
    }

    /// Changes to fundings: all of them, or those of one project.
    async fn funding_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the fundings of this project (global id).")] project_id: Option<ID>,
    ) -> Notices {
        changes_under(ctx, RecordKind::Funding, "projectId", Project::TYPE_NAME, project_id.as_ref())
    }

    /// Every change to every partner, agreement, project and funding, or to those of the kinds given.
    async fn changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only changes to records of these kinds.")] kinds: Option<Vec<RecordKind>>,
    ) -> Notices {
        or_error(notices(ctx, move |e| kinds.as_ref().is_none_or(|k| k.contains(&e.kind))))
    }
}
