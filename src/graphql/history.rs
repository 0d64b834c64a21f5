//! The change history of a record (`history` on every writable node) and
//! of the whole registry (`changes`), read from `change_log`.

use std::sync::Arc;

use async_graphql::{Context, Object};
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait};

use crate::error::ApiResult;
use crate::events::RecordKind;
use crate::graphql::batch::{Group, RowId};
use crate::graphql::object::Change;
use crate::graphql::pagination::{Connection, Nested, Relation, TopLevel, Window};
use crate::graphql::scalar::DateTimeUtc;
use crate::graphql::sort::Sort;
use crate::graphql::sql::Via;

fn of_kind(kind: RecordKind) -> Condition {
    Condition::all().add(Expr::col((Alias::new("change_log"), Alias::new("entity"))).eq(kind.table()))
}

/// The changes to the row at `index` of `parents`, batched for all of them.
pub fn of_record<P: RowId + 'static>(
    parents: &Arc<Group<P>>,
    index: usize,
    kind: RecordKind,
    window: (Option<i32>, Option<String>, Option<i32>, Option<String>),
) -> ApiResult<Connection<Change>> {
    let relation =
        Relation { name: "history", via: Via::column("change_log", "entity_id"), key: |row: &P| Some(row.row_id()) };
    let (first, after, last, before) = window;
    let window = Window::sorted(first, after, last, before, Sort::BY_ID, of_kind(kind))?;
    Ok(Nested::connection(parents, index, relation, window))
}

/// The registry-wide `changes` query.
#[derive(Default)]
pub struct HistoryQuery;

#[Object(serial)]
impl HistoryQuery {
    /// Every recorded change, oldest first (use `last` for the most recent).
    #[allow(clippy::too_many_arguments)]
    async fn changes(
        &self,
        _ctx: &Context<'_>,
        #[graphql(desc = "Only changes committed at or after this instant.")] since: Option<DateTimeUtc>,
        #[graphql(desc = "Only changes to records of these kinds.")] kinds: Option<Vec<RecordKind>>,
        #[graphql(desc = "Return the first n results (1–100; 20 when neither first nor last is given).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Return results after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n results (1–100).")] last: Option<i32>,
        #[graphql(desc = "Return results before this cursor.")] before: Option<String>,
    ) -> ApiResult<Connection<Change>> {
        let column = |c: &str| Expr::col((Alias::new("change_log"), Alias::new(c)));
        let mut filter = Condition::all();
        if let Some(since) = since {
            filter = filter.add(column("at").gte(since.0));
        }
        if let Some(kinds) = kinds {
            filter = filter.add(column("entity").is_in(kinds.iter().map(|k| k.table())));
        }
        Ok(TopLevel::connection(Window::sorted(first, after, last, before, Sort::BY_ID, filter)?))
    }
}
