//! `funding`, `fundings`.

use async_graphql::{Context, ID, Object};

use super::by_id;
use crate::error::ApiResult;
use crate::graphql::object::Funding;
use crate::graphql::pagination::{Connection, TopLevel, Window};

#[derive(Default)]
pub struct FundingQuery;

#[Object]
impl FundingQuery {
    /// One funding, by global id; null when there is none.
    async fn funding(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The funding's global id.")] id: ID,
    ) -> ApiResult<Option<Funding>> {
        by_id(ctx, &id).await
    }

    /// All fundings, in the order they were recorded.
    async fn fundings(
        &self,
        #[graphql(desc = "Return the first n results (1–100; 20 when neither first nor last is given).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Return results after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n results (1–100).")] last: Option<i32>,
        #[graphql(desc = "Return results before this cursor.")] before: Option<String>,
    ) -> ApiResult<Connection<Funding>> {
        Ok(TopLevel::connection(Window::new(first, after, last, before)?))
    }
}
