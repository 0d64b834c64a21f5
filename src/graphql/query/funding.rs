//! `funding`, `fundings`.

use async_graphql::{Context, ID};

use super::by_id;
use crate::error::ApiResult;
use crate::graphql::declare::object;
use crate::graphql::input::{FundingFilter, FundingOrder};
use crate::graphql::object::Funding;

object! {
    root FundingQuery {
        /// One funding, by global id; null when there is none.
        async fn funding(
            &self,
            ctx: &Context<'_>,
            #[graphql(desc = "The funding's global id.")] id: ID,
        ) -> ApiResult<Option<Funding>> {
            by_id(ctx, &id).await
        }

        /// All fundings, in the order they were recorded.
        fn fundings() -> Connection<Funding> = list(FundingFilter, FundingOrder);
    }
}
