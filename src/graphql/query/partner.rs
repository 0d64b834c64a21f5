//! `partner`, `partners`.

use async_graphql::{Context, ID, Object};
use entity::partner;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::lookup;
use crate::error::ApiResult;
use crate::graphql::context::lang;
use crate::graphql::input::{PartnerFilter, PartnerOrder};
use crate::graphql::object::Partner;
use crate::graphql::pagination::{Connection, TopLevel, Window};
use sea_orm::sea_query::Condition;

#[derive(Default)]
pub struct PartnerQuery;

#[Object]
impl PartnerQuery {
    /// One partner, by global `id` or by `slug` (give exactly one); null when there is none.
    async fn partner(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The partner's global id.")] id: Option<ID>,
        #[graphql(desc = "The partner's slug, e.g. `unodc`.")] slug: Option<String>,
    ) -> ApiResult<Option<Partner>> {
        lookup(ctx, id, slug, "slug", |slug| partner::Entity::find().filter(partner::Column::Slug.eq(slug))).await
    }

    /// All partners, in the order they were recorded.
    async fn partners(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n results (1–100; 20 when neither first nor last is given).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Return results after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n results (1–100).")] last: Option<i32>,
        #[graphql(desc = "Return results before this cursor.")] before: Option<String>,
        #[graphql(desc = "Only the results matching this filter.")] filter: Option<PartnerFilter>,
        #[graphql(desc = "The order of the results; the order they were recorded in by default.")] order_by: Option<
            PartnerOrder,
        >,
    ) -> ApiResult<Connection<Partner>> {
        Ok(TopLevel::connection(
            Window::sorted(
                first,
                after,
                last,
                before,
                PartnerOrder::sort(order_by, lang(ctx, None)),
                filter.map(|f| f.condition()).transpose()?.unwrap_or_else(Condition::all),
            )?
            .reading::<Partner>(ctx),
        ))
    }
}
