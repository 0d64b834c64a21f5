//! `Change`: one entry of the change history.

use async_graphql::{ID, Json, Object};
use entity::change_log::Model;

use super::node_type;
use crate::error::{ApiError, ApiResult};
use crate::events::{ChangeAction, RecordKind};
use crate::graphql::id;
use crate::graphql::node::NodeType;
use crate::graphql::scalar::DateTimeUtc;
use crate::graphql::sort::{SortValue, Sortable};

node_type!(Change, change_log, "One recorded change to a partner, agreement, project or funding.");

impl Sortable for Model {
    fn sort_value(&self, _column: &str) -> SortValue {
        SortValue::Null
    }
}

impl Change {
    fn kind(&self) -> ApiResult<RecordKind> {
        RecordKind::from_table(&self.row().entity)
            .ok_or_else(|| ApiError::Internal(format!("change {} is of unknown entity", self.row().id)))
    }
}

/// One recorded change: which record, what happened, who did it and when,
/// and the record as it was before and after (as stored, in JSON).
#[Object(serial)]
impl Change {
    /// The change's opaque global id.
    pub async fn id(&self) -> ID {
        ID(id::encode(Self::TYPE_NAME, self.row().id))
    }

    /// The change's row id in the database; changes are numbered in the order they were committed.
    async fn database_id(&self) -> i64 {
        self.row().id
    }

    /// Created, updated or deleted.
    async fn action(&self) -> ApiResult<ChangeAction> {
        ChangeAction::parse(&self.row().action)
            .ok_or_else(|| ApiError::Internal(format!("change {} has an unknown action", self.row().id)))
    }

    /// What kind of record changed.
    async fn record_kind(&self) -> ApiResult<RecordKind> {
        self.kind()
    }

    /// The global id of the record that changed (it may no longer exist).
    async fn record_id(&self) -> ApiResult<ID> {
        Ok(ID(id::encode(self.kind()?.type_name(), self.row().entity_id)))
    }

    /// The name of the API token that made the change.
    async fn actor(&self) -> &str {
        &self.row().actor
    }

    /// When the change was committed.
    async fn at(&self) -> DateTimeUtc {
        DateTimeUtc(self.row().at)
    }

    /// The record before the change; null for a creation.
    async fn before(&self) -> Option<Json<serde_json::Value>> {
        self.row().before.clone().map(Json)
    }

    /// The record after the change; null for a deletion.
    async fn after(&self) -> Option<Json<serde_json::Value>> {
        self.row().after.clone().map(Json)
    }
}
