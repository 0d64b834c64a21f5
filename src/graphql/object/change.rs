//! `Change`: one entry of the change history.

use async_graphql::{ID, Json};

use crate::error::{ApiError, ApiResult};
use crate::events::{ChangeAction, RecordKind};
use crate::graphql::declare::object;
use crate::graphql::direct::enum_json;
use crate::graphql::id;
use crate::graphql::scalar::DateTimeUtc;

enum_json!(ChangeAction, RecordKind);

/// The kind of the record a change is about, from its `entity`.
fn kind(id: i64, entity: &str) -> ApiResult<RecordKind> {
    RecordKind::from_table(entity).ok_or_else(|| ApiError::Internal(format!("change {id} is of unknown entity")))
}

object! {
    /// One recorded change: which record, what happened, who did it and when,
    /// and the record as it was before and after (as stored, in JSON).
    node Change(change_log, "change") {
        /// Created, updated or deleted.
        fn action() reads(id, action) -> ApiResult<ChangeAction> {
            ChangeAction::parse(action).ok_or_else(|| ApiError::Internal(format!("change {id} has an unknown action")))
        }

        /// What kind of record changed.
        fn record_kind() reads(id, entity) -> ApiResult<RecordKind> {
            kind(id, entity)
        }

        /// The global id of the record that changed (it may no longer exist).
        fn record_id() reads(id, entity, entity_id) -> ApiResult<ID> {
            Ok(ID(id::encode(kind(id, entity)?.type_name(), entity_id)))
        }

        /// The name of the API token that made the change.
        fn actor() reads(actor) -> &str { actor }

        /// When the change was committed.
        fn at() reads(at) -> DateTimeUtc { DateTimeUtc(at) }

        /// The record before the change; null for a creation.
        fn before() reads(before) -> Option<Json<serde_json::Value>> { before.cloned().map(Json) }

        /// The record after the change; null for a deletion.
        fn after() reads(after) -> Option<Json<serde_json::Value>> { after.cloned().map(Json) }
    }
}
