//! `CrimeArea`: a field of crime partners and projects work on.

use async_graphql::{Context, ID, Object};
use entity::crime_area::Model;

use super::{Partner, Project, node_type};
use crate::error::ApiResult;
use crate::graphql::context::lang;
use crate::graphql::id;
use crate::graphql::input::{PartnerFilter, PartnerOrder, ProjectFilter, ProjectOrder};
use crate::graphql::lang::Lang;
use crate::graphql::node::NodeType;
use crate::graphql::pagination::{Connection, Nested, Relation, Window};
use crate::graphql::sort::{SortValue, Sortable};
use crate::graphql::sql::Via;
use sea_orm::sea_query::Condition;

node_type!(CrimeArea, crime_area, "A field of crime partners and projects work on.");

/// Listed in the order they were recorded only.
impl Sortable for entity::crime_area::Model {
    fn sort_value(&self, _column: &str) -> SortValue {
        SortValue::Null
    }
}

const PARTNERS: Relation<Model> = Relation {
    name: "partners",
    via: Via::link("partner_crime_area", "crime_area_id", "partner_id"),
    key: |m| Some(m.id),
};
const PROJECTS: Relation<Model> = Relation {
    name: "projects",
    via: Via::link("project_crime_area", "crime_area_id", "project_id"),
    key: |m| Some(m.id),
};

/// A field of crime (terrorism, cybercrime, drug trafficking…) that partners
/// work on with INTERPOL and projects address.
#[Object(serial)]
impl CrimeArea {
    /// The crime area's opaque global id.
    pub async fn id(&self) -> ID {
        ID(id::encode(Self::TYPE_NAME, self.row().id))
    }

    /// The crime area's row id in the database; prefer `id` in clients.
    async fn database_id(&self) -> i64 {
        self.row().id
    }

    /// Stable key, e.g. `terrorism`.
    async fn slug(&self) -> &str {
        &self.row().slug
    }

    /// The crime area's name.
    async fn name(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Language of the name; the request's `Accept-Language` by default.")] lang: Option<Lang>,
    ) -> &str {
        self::lang(ctx, lang).pick(&self.row().name_en, &self.row().name_fr)
    }

    /// The partners that work on this crime area.
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
        Ok(Nested::connection(
            &self.group,
            self.index,
            PARTNERS,
            Window::sorted(
                first,
                after,
                last,
                before,
                PartnerOrder::sort(order_by, lang(ctx, None)),
                filter.map(|f| f.condition()).transpose()?.unwrap_or_else(Condition::all),
            )?,
        ))
    }

    /// The projects that address this crime area.
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
