//! `crimeArea`, `crimeAreas`, `policingGoal`, `policingGoals`.

use async_graphql::{Context, ID, Object};
use entity::{crime_area, policing_goal};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::lookup;
use crate::error::ApiResult;
use crate::graphql::batch::Group;
use crate::graphql::context::db;
use crate::graphql::node::NodeType;
use crate::graphql::object::{CrimeArea, PolicingGoal};
use crate::graphql::pagination::{Connection, TopLevel, Window};

#[derive(Default)]
pub struct ReferenceQuery;

#[Object]
impl ReferenceQuery {
    /// One crime area, by global `id` or by `slug` (give exactly one); null when there is none.
    async fn crime_area(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The crime area's global id.")] id: Option<ID>,
        #[graphql(desc = "The crime area's slug, e.g. `terrorism`.")] slug: Option<String>,
    ) -> ApiResult<Option<CrimeArea>> {
        lookup(ctx, id, slug, "slug", |s| crime_area::Entity::find().filter(crime_area::Column::Slug.eq(s))).await
    }

    /// All crime areas, in the order they were recorded.
    async fn crime_areas(
        &self,
        #[graphql(desc = "Return the first n results (1–100; 20 when neither first nor last is given).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Return results after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n results (1–100).")] last: Option<i32>,
        #[graphql(desc = "Return results before this cursor.")] before: Option<String>,
    ) -> ApiResult<Connection<CrimeArea>> {
        Ok(TopLevel::connection(Window::new(first, after, last, before)?))
    }

    /// One Global Policing Goal, by global `id` or by `number` (give exactly one).
    async fn policing_goal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The goal's global id.")] id: Option<ID>,
        #[graphql(desc = "The goal's number, 1 to 7.")] number: Option<i32>,
    ) -> ApiResult<Option<PolicingGoal>> {
        lookup(ctx, id, number, "number", |n| policing_goal::Entity::find().filter(policing_goal::Column::Number.eq(n)))
            .await
    }

    /// The seven Global Policing Goals, by number.
    async fn policing_goals(&self, ctx: &Context<'_>) -> ApiResult<Vec<PolicingGoal>> {
        let rows = policing_goal::Entity::find().order_by_asc(policing_goal::Column::Number).all(db(ctx)?).await?;
        Ok(PolicingGoal::all(&Group::new(rows)))
    }
}
