//! `agreement`, `agreements`.

use async_graphql::{Context, ID};
use entity::agreement;

use super::lookup;
use crate::error::ApiResult;
use crate::graphql::declare::object;
use crate::graphql::input::{AgreementFilter, AgreementOrder};
use crate::graphql::object::Agreement;

object! {
    root AgreementQuery {
        /// One agreement, by global `id` or by `reference` (give exactly one); null when there is none.
        async fn agreement(
            &self,
            ctx: &Context<'_>,
            #[graphql(desc = "The agreement's global id.")] id: Option<ID>,
            #[graphql(desc = "The agreement's reference, e.g. `UN-1996-COOPERATION`.")] reference: Option<String>,
        ) -> ApiResult<Option<Agreement>> {
            lookup(ctx, id, reference, agreement::Column::Reference, "reference").await
        }

        /// All agreements, in the order they were recorded.
        fn agreements() -> Connection<Agreement> = list(AgreementFilter, AgreementOrder);
    }
}
