//! The change history of a record (`history` on every writable node) and
//! of the whole registry (`changes`), read from `change_log`.

use async_graphql::Context;
use entity::change_log;
use entity::row::Positional;
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, EntityName, IdenStatic, ModelTrait};

use crate::error::ApiResult;
use crate::events::RecordKind;
use crate::graphql::batch::RowId;
use crate::graphql::declare::object;
use crate::graphql::input::Unfiltered;
use crate::graphql::node::NodeType;
use crate::graphql::object::Change;
use crate::graphql::pagination::{self, Connection, Declared, Relation};
use crate::graphql::scalar::DateTimeUtc;
use crate::graphql::sort::primary_key;
use crate::graphql::sql::Path;
use crate::graphql::window::Paging;

/// From a record to its history entries: `change_log` rows whose
/// `entity_id` is the record's id (and whose `entity` is its table).
pub fn relation<P>() -> ApiResult<Relation<P>>
where
    P: ModelTrait + Positional + RowId,
{
    let id = primary_key::<P::Entity>()?;
    Relation::keyed("history", Path::column(change_log::Column::EntityId), id.as_str())
}

/// The changes to `record`, batched for all its siblings.
pub fn of_record<P: NodeType>(
    ctx: &Context<'_>,
    record: &P,
    paging: Paging,
    relation: &'static Declared<P::Model>,
) -> ApiResult<Connection<Change>> {
    let of_table = Condition::all().add(change_log::Column::Entity.eq(P::Entity::default().table_name()));
    pagination::nested_where::<P, Change, Unfiltered, Unfiltered>(ctx, record, paging, relation, None, None, of_table)
}

/// The changes committed since `since`, to records of `kinds`.
fn since(since: Option<DateTimeUtc>, kinds: Option<Vec<RecordKind>>) -> Condition {
    let mut filter = Condition::all();
    if let Some(since) = since {
        filter = filter.add(change_log::Column::At.gte(since.0));
    }
    if let Some(kinds) = kinds {
        filter = filter.add(change_log::Column::Entity.is_in(kinds.iter().map(|k| k.table())));
    }
    filter
}

object! {
    /// The registry-wide history.
    root HistoryQuery {
        /// Every recorded change, oldest first (use `last` for the most recent).
        fn changes(
            #[graphql(desc = "Only changes committed at or after this instant.")] since: Option<DateTimeUtc>,
            #[graphql(desc = "Only changes to records of these kinds.")] kinds: Option<Vec<RecordKind>>,
        ) -> Connection<Change> = list(where self::since(since, kinds));
    }
}
