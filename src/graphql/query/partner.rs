//! `partner`, `partners`.

use async_graphql::{Context, ID, Object};
use entity::partner;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::lookup;
use crate::error::ApiResult;
use crate::graphql::object::Partner;
use crate::graphql::pagination::{Connection, TopLevel, Window};

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
        #[graphql(desc = "Return the first n results (1–100; 20 when neither first nor last is given).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Return results after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n results (1–100).")] last: Option<i32>,
        #[graphql(desc = "Return results before this cursor.")] before: Option<String>,
    ) -> ApiResult<Connection<Partner>> {
        Ok(TopLevel::connection(Window::new(first, after, last, before)?))
    }
}
