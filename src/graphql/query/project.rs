//! `project`, `projects`.

use async_graphql::{Context, ID, Object};
use entity::project;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::lookup;
use crate::error::ApiResult;
use crate::graphql::context::lang;
use crate::graphql::input::{ProjectFilter, ProjectOrder};
use crate::graphql::object::Project;
use crate::graphql::pagination::{Connection, TopLevel, Window};
use sea_orm::sea_query::Condition;

#[derive(Default)]
pub struct ProjectQuery;

#[Object]
impl ProjectQuery {
    /// One project, by global `id` or by `code` (give exactly one); null when there is none.
    async fn project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The project's global id.")] id: Option<ID>,
        #[graphql(desc = "The project's code, e.g. `SHARAKA`.")] code: Option<String>,
    ) -> ApiResult<Option<Project>> {
        lookup(ctx, id, code, "code", |c| project::Entity::find().filter(project::Column::Code.eq(c))).await
    }

    /// All projects, in the order they were recorded.
    async fn projects(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n results (1–100; 20 when neither first nor last is given).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Return results after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n results (1–100).")] last: Option<i32>,
        #[graphql(desc = "Return results before this cursor.")] before: Option<String>,
        #[graphql(desc = "Only the results matching this filter.")] filter: Option<ProjectFilter>,
        #[graphql(desc = "The order of the results; the order they were recorded in by default.")] order_by: Option<
            ProjectOrder,
        >,
    ) -> ApiResult<Connection<Project>> {
        Ok(TopLevel::connection(
            Window::sorted(
                first,
                after,
                last,
                before,
                ProjectOrder::sort(order_by, lang(ctx, None)),
                filter.map(|f| f.condition()).transpose()?.unwrap_or_else(Condition::all),
            )?
            .reading::<Project>(ctx),
        ))
    }
}
