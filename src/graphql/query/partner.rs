//! `partner`, `partners`.

use async_graphql::{Context, ID};
use entity::partner;

use super::lookup;
use crate::error::ApiResult;
use crate::graphql::declare::object;
use crate::graphql::input::{PartnerFilter, PartnerOrder};
use crate::graphql::object::Partner;

object! {
    root PartnerQuery {
        /// One partner, by global `id` or by `slug` (give exactly one); null when there is none.
        async fn partner(
            &self,
            ctx: &Context<'_>,
            #[graphql(desc = "The partner's global id.")] id: Option<ID>,
            #[graphql(desc = "The partner's slug, e.g. `unodc`.")] slug: Option<String>,
        ) -> ApiResult<Option<Partner>> {
            lookup(ctx, id, slug, partner::Column::Slug, "slug").await
        }

        /// All partners, in the order they were recorded.
        fn partners() -> Connection<Partner> = list(PartnerFilter, PartnerOrder);
    }
}
