//! `funding`, `fundings`.

use async_graphql::{Context, ID, Object};

use super::by_id;
use crate::error::ApiResult;
use crate::graphql::input::{FundingFilter, FundingOrder};
use crate::graphql::object::Funding;
use crate::graphql::pagination::{Connection, TopLevel, Window};
use sea_orm::sea_query::Condition;

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
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n results (1–100; 20 when neither first nor last is given).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Return results after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n results (1–100).")] last: Option<i32>,
        #[graphql(desc = "Return results before this cursor.")] before: Option<String>,
        #[graphql(desc = "Only the results matching this filter.")] filter: Option<FundingFilter>,
        #[graphql(desc = "The order of the results; the order they were recorded in by default.")] order_by: Option<
            FundingOrder,
        >,
    ) -> ApiResult<Connection<Funding>> {
        Ok(TopLevel::connection(
            Window::sorted(
                first,
                after,
                last,
                before,
                FundingOrder::sort(order_by),
                filter.map(|f| f.condition()).transpose()?.unwrap_or_else(Condition::all),
            )?
            .reading::<Funding>(ctx),
        ))
    }
}
