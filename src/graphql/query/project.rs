//! `project`, `projects`.

use async_graphql::{Context, ID};
use entity::project;

use super::lookup;
use crate::error::ApiResult;
use crate::graphql::declare::object;
use crate::graphql::input::{ProjectFilter, ProjectOrder};
use crate::graphql::object::Project;

object! {
    root ProjectQuery {
        /// One project, by global `id` or by `code` (give exactly one); null when there is none.
        async fn project(
            &self,
            ctx: &Context<'_>,
            #[graphql(desc = "The project's global id.")] id: Option<ID>,
            #[graphql(desc = "The project's code, e.g. `SHARAKA`.")] code: Option<String>,
        ) -> ApiResult<Option<Project>> {
            lookup(ctx, id, code, project::Column::Code, "code").await
        }

        /// All projects, in the order they were recorded.
        fn projects() -> Connection<Project> = list(ProjectFilter, ProjectOrder);
    }
}
