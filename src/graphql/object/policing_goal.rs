//! `PolicingGoal`: one of INTERPOL's seven Global Policing Goals.

use async_graphql::{Context, ID, Object};
use entity::policing_goal::Model;

use super::{Project, node_type};
use crate::error::ApiResult;
use crate::graphql::context::lang;
use crate::graphql::id;
use crate::graphql::input::{ProjectFilter, ProjectOrder};
use crate::graphql::lang::Lang;
use crate::graphql::node::NodeType;
use crate::graphql::pagination::{Connection, Nested, Relation, Window};
use crate::graphql::sort::{SortValue, Sortable};
use crate::graphql::sql::Via;
use sea_orm::sea_query::Condition;

node_type!(PolicingGoal, policing_goal, "One of INTERPOL's seven Global Policing Goals.");

/// Listed in the order they were recorded only.
impl Sortable for entity::policing_goal::Model {
    fn sort_value(&self, _column: &str) -> SortValue {
        SortValue::Null
    }
}

const PROJECTS: Relation<Model> = Relation {
    name: "projects",
    via: Via::link("project_policing_goal", "policing_goal_id", "project_id"),
    key: |m| Some(m.id),
};

/// One of INTERPOL's seven Global Policing Goals, which frame its work within
/// the UN 2030 Agenda for Sustainable Development.
#[Object(serial)]
impl PolicingGoal {
    /// The goal's opaque global id.
    pub async fn id(&self) -> ID {
        ID(id::encode(Self::TYPE_NAME, self.row().id))
    }

    /// The goal's row id in the database; prefer `id` in clients.
    async fn database_id(&self) -> i64 {
        self.row().id
    }

    /// The goal's number, 1 to 7.
    async fn number(&self) -> i32 {
        self.row().number
    }

    /// The goal's name.
    async fn name(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Language of the name; the request's `Accept-Language` by default.")] lang: Option<Lang>,
    ) -> &str {
        self::lang(ctx, lang).pick(&self.row().name_en, &self.row().name_fr)
    }

    /// The projects that serve this goal.
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
        Ok(Nested::connection(
            &self.group,
            self.index,
            PROJECTS,
            Window::sorted(
                first,
                after,
                last,
                before,
                ProjectOrder::sort(order_by, lang(ctx, None)),
                filter.map(|f| f.condition()).transpose()?.unwrap_or_else(Condition::all),
            )?,
        ))
    }
}
