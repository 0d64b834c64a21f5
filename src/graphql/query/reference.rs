//! `crimeArea`, `crimeAreas`, `policingGoal`, `policingGoals`, `source`, `sources`.

use async_graphql::{Context, ID};
use entity::{crime_area, policing_goal, source};
use sea_orm::{EntityTrait, QueryOrder};

use super::lookup;
use crate::error::ApiResult;
use crate::graphql::batch::Group;
use crate::graphql::context::db;
use crate::graphql::declare::object;
use crate::graphql::list::List;
use crate::graphql::node::NodeType;
use crate::graphql::object::{CrimeArea, PolicingGoal, Source};

object! {
    root ReferenceQuery {
        /// One crime area, by global `id` or by `slug` (give exactly one); null when there is none.
        async fn crime_area(
            &self,
            ctx: &Context<'_>,
            #[graphql(desc = "The crime area's global id.")] id: Option<ID>,
            #[graphql(desc = "The crime area's slug, e.g. `terrorism`.")] slug: Option<String>,
        ) -> ApiResult<Option<CrimeArea>> {
            lookup(ctx, id, slug, crime_area::Column::Slug, "slug").await
        }

        /// All crime areas, in the order they were recorded.
        fn crime_areas() -> Connection<CrimeArea> = list;

        /// One Global Policing Goal, by global `id` or by `number` (give exactly one).
        async fn policing_goal(
            &self,
            ctx: &Context<'_>,
            #[graphql(desc = "The goal's global id.")] id: Option<ID>,
            #[graphql(desc = "The goal's number, 1 to 7.")] number: Option<i32>,
        ) -> ApiResult<Option<PolicingGoal>> {
            lookup(ctx, id, number, policing_goal::Column::Number, "number").await
        }

        /// The seven Global Policing Goals, by number.
        async fn policing_goals(&self, ctx: &Context<'_>) -> ApiResult<List<PolicingGoal>> {
            let rows = policing_goal::Entity::find().order_by_asc(policing_goal::Column::Number).all(db(ctx)?).await?;
            Ok(List(PolicingGoal::all(&Group::new(rows))))
        }

        /// One source page, by global `id` or by `key` (give exactly one); null when there is none.
        async fn source(
            &self,
            ctx: &Context<'_>,
            #[graphql(desc = "The page's global id.")] id: Option<ID>,
            #[graphql(desc = "The page's key, e.g. `united-nations-entities`.")] key: Option<String>,
        ) -> ApiResult<Option<Source>> {
            lookup(ctx, id, key, source::Column::Key, "key").await
        }

        /// The public pages the registry's facts come from, in the order they were recorded.
        fn sources() -> Connection<Source> = list;
    }
}
