//! The query roots, one per domain, merged into [`QueryRoot`].

mod agreement;
mod funding;
mod node;
mod partner;
mod project;
mod reference;
mod report;
mod search;

use async_graphql::MergedObject;
use sea_orm::Select;

use crate::error::{ApiError, ApiResult};
use crate::graphql::context::db;
use crate::graphql::id;
use crate::graphql::node::NodeType;
use crate::graphql::sql;

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

/// One record by global id; null when it does not exist.
async fn by_id<N: NodeType>(ctx: &async_graphql::Context<'_>, id: &async_graphql::ID) -> ApiResult<Option<N>> {
    let id = id::decode_as("id", N::TYPE_NAME, id)?;
    let rows = sql::fetch_by_ids::<N::Entity>(db(ctx)?, &[id]).await?;
    Ok(single(rows.into_iter().next()))
}

/// Looks one record up by global id or by its natural key (slug, reference,
/// code): exactly one of the two must be given.
async fn lookup<N, V>(
    ctx: &async_graphql::Context<'_>,
    id: Option<async_graphql::ID>,
    key: Option<V>,
    key_name: &str,
    by_key: impl FnOnce(V) -> Select<N::Entity>,
) -> ApiResult<Option<N>>
where
    N: NodeType,
{
    match (id, key) {
        (Some(id), None) => by_id(ctx, &id).await,
        (None, Some(key)) => Ok(single(by_key(key).one(db(ctx)?).await?)),
        _ => Err(ApiError::bad_input("id", format!("give exactly one of `id` and `{key_name}`"))),
    }
}

fn single<N: NodeType>(row: Option<N::Model>) -> Option<N> {
    row.map(N::one)
}
