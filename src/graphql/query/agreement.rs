//! `agreement`, `agreements`.

use async_graphql::{Context, ID, Object};
use entity::agreement;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::lookup;
use crate::error::ApiResult;
use crate::graphql::object::Agreement;
use crate::graphql::pagination::{Connection, TopLevel, Window};

#[derive(Default)]
pub struct AgreementQuery;

#[Object]
impl AgreementQuery {
    /// One agreement, by global `id` or by `reference` (give exactly one); null when there is none.
    async fn agreement(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The agreement's global id.")] id: Option<ID>,
        #[graphql(desc = "The agreement's reference, e.g. `UN-1996-COOPERATION`.")] reference: Option<String>,
    ) -> ApiResult<Option<Agreement>> {
        lookup(ctx, id, reference, "reference", |r| {
            agreement::Entity::find().filter(agreement::Column::Reference.eq(r))
        })
        .await
    }

    /// All agreements, in the order they were recorded.
    async fn agreements(
        &self,
        #[graphql(desc = "Return the first n results (1–100; 20 when neither first nor last is given).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Return results after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n results (1–100).")] last: Option<i32>,
        #[graphql(desc = "Return results before this cursor.")] before: Option<String>,
    ) -> ApiResult<Connection<Agreement>> {
        Ok(TopLevel::connection(Window::new(first, after, last, before)?))
    }
}
