//! `agreement`, `agreements`.

use async_graphql::{Context, ID, Object};
use entity::agreement;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::lookup;
use crate::error::ApiResult;
use crate::graphql::context::lang;
use crate::graphql::input::{AgreementFilter, AgreementOrder};
use crate::graphql::object::Agreement;
use crate::graphql::pagination::{Connection, TopLevel, Window};
use sea_orm::sea_query::Condition;

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
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n results (1–100; 20 when neither first nor last is given).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Return results after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n results (1–100).")] last: Option<i32>,
        #[graphql(desc = "Return results before this cursor.")] before: Option<String>,
        #[graphql(desc = "Only the results matching this filter.")] filter: Option<AgreementFilter>,
        #[graphql(desc = "The order of the results; the order they were recorded in by default.")] order_by: Option<
            AgreementOrder,
        >,
    ) -> ApiResult<Connection<Agreement>> {
        Ok(TopLevel::connection(
            Window::sorted(
                first,
                after,
                last,
                before,
                AgreementOrder::sort(order_by, lang(ctx, None)),
                filter.map(|f| f.condition()).transpose()?.unwrap_or_else(Condition::all),
            )?
            .reading::<Agreement>(ctx),
        ))
    }
}
