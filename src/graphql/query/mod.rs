//! The query roots, one per domain, merged into [`QueryRoot`].

mod agreement;
mod funding;
mod node;
mod partner;
mod project;
mod reference;
pub(crate) mod report;
mod search;

use async_graphql::{Context, ID, MergedObject};
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, EntityTrait};

use crate::error::{ApiError, ApiResult};
use crate::graphql::context::db;
use crate::graphql::id;
use crate::graphql::node::NodeType;
use crate::graphql::sql;
use crate::graphql::window::{wanted, wanted_once};

/// Everything that can be read.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    node::NodeQuery,
    partner::PartnerQuery,
    agreement::AgreementQuery,
    project::ProjectQuery,
    funding::FundingQuery,
    reference::ReferenceQuery,
    report::ReportQuery,
    search::SearchQuery,
    crate::graphql::history::HistoryQuery,
);

/// One record by global id, with the columns the field's selection reads;
/// null when it does not exist.
async fn by_id<N: NodeType>(ctx: &Context<'_>, id: &ID) -> ApiResult<Option<N>> {
    let id = id::decode_as("id", N::TYPE_NAME, id)?;
    let wanted = wanted_once::<N>(ctx, || wanted::<N>(ctx, ctx.field().selection_set(), None))?;
    let group = sql::fetch_by_ids::<N::Entity>(db(ctx)?, &[id], wanted).await?;
    Ok(N::all(&group).into_iter().next())
}

/// Looks one record up by global id or by its natural key `column` (slug,
/// reference, code, number), the argument `key_name`: exactly one of the
/// two must be given.
async fn lookup<N, V>(
    ctx: &Context<'_>,
    id: Option<ID>,
    key: Option<V>,
    column: <N::Entity as EntityTrait>::Column,
    key_name: &str,
) -> ApiResult<Option<N>>
where
    N: NodeType,
    V: Into<sea_orm::Value>,
{
    match (id, key) {
        (Some(id), None) => by_id(ctx, &id).await,
        (None, Some(key)) => {
            let wanted = wanted_once::<N>(ctx, || wanted::<N>(ctx, ctx.field().selection_set(), None))?;
            let group = sql::fetch_where::<N::Entity>(db(ctx)?, Condition::all().add(column.eq(key)), wanted).await?;
            Ok(N::all(&group).into_iter().next())
        }
        _ => Err(ApiError::bad_input("id", format!("give exactly one of `id` and `{key_name}`"))),
    }
}
