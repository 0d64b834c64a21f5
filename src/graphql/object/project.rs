//! `Project`: work run under an agreement.

use std::collections::HashMap;

use async_graphql::{Context, ID, Object};
use entity::enums::ProjectStatus;
use entity::project::Model;
use entity::project_country;
use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::{Agreement, Country, CrimeArea, Funding, Money, Partner, PolicingGoal, node_type};
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::{db, lang};
use crate::graphql::id;
use crate::graphql::inline::Inline;
use crate::graphql::input::{FundingFilter, FundingOrder};
use crate::graphql::lang::Lang;
use crate::graphql::node::NodeType;
use crate::graphql::pagination::{Connection, Nested, Relation, Window, linked, to_one};
use crate::graphql::scalar::{Date, DateTimeUtc};
use crate::graphql::sort::{SortValue, Sortable};
use crate::graphql::sql::{Via, key_in};
use crate::graphql::totals::{self, Totals};
use sea_orm::sea_query::Condition;

node_type!(Project, project, "Work run under an agreement.", reads {
    "code" => &["code"],
    "name" => &["name_en", "name_fr"],
    "description" => &["description_en", "description_fr"],
    "startsOn" => &["starts_on"],
    "endsOn" => &["ends_on"],
    "sourceUrl" => &["source_url"],
    // Their not-found errors name the project.
    "agreement" | "partner" => &["code"],
    "id"
    | "databaseId"
    | "status"
    | "fundings"
    | "funders"
    | "crimeAreas"
    | "policingGoals"
    | "countries"
    | "totalFunding"
    | "undisclosedFundingCount"
    | "history"
    | "version" => &[],
    "createdAt" => &["created_at"],
    "updatedAt" => &["updated_at"],
});

impl Sortable for entity::project::Model {
    fn sort_value(&self, column: &str) -> SortValue {
        match column {
            "name_en_key" => SortValue::Text(self.name_en_key.clone()),
            "name_fr_key" => SortValue::Text(self.name_fr_key.clone()),
            "starts_on" => self.starts_on.into(),
            "ends_on" => self.ends_on.into(),
            _ => SortValue::Null,
        }
    }
}

const FUNDINGS: Relation<Model> =
    Relation { name: "fundings", via: Via::column("funding", "project_id"), key: |m| Some(m.id) };
const FUNDERS: Relation<Model> =
    Relation { name: "funders", via: Via::link("funding", "project_id", "funder_id"), key: |m| Some(m.id) };
/// The partner is reached through the agreement, keyed by the project's `agreement_id`.
const PARTNER: Relation<Model> =
    Relation { name: "partner", via: Via::link("agreement", "id", "partner_id"), key: |m| Some(m.agreement_id) };
const CRIME_AREAS: Relation<Model> = Relation {
    name: "crimeAreas",
    via: Via::link("project_crime_area", "project_id", "crime_area_id"),
    key: |m| Some(m.id),
};
const POLICING_GOALS: Relation<Model> = Relation {
    name: "policingGoals",
    via: Via::link("project_policing_goal", "project_id", "policing_goal_id"),
    key: |m| Some(m.id),
};

/// A project run under an agreement with a partner, and funded by one or
/// more partners (SHARAKA, WAPIS, e-MLA…).
#[Object(serial)]
impl Project {
    /// The project's opaque global id.
    pub async fn id(&self) -> ID {
        ID(id::encode(Self::TYPE_NAME, self.row().id))
    }

    /// The project's row id in the database; prefer `id` in clients.
    async fn database_id(&self) -> i64 {
        self.row().id
    }

    /// Stable code, e.g. `SHARAKA`.
    async fn code(&self) -> &str {
        &self.row().code
    }

    /// The project's name.
    async fn name(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Language of the name; the request's `Accept-Language` by default.")] lang: Option<Lang>,
    ) -> &str {
        self::lang(ctx, lang).pick(&self.row().name_en, &self.row().name_fr)
    }

    /// What the project does.
    async fn description(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Language of the description; the request's `Accept-Language` by default.")] lang: Option<
            Lang,
        >,
    ) -> Option<&str> {
        let row = self.row();
        self::lang(ctx, lang).pick_opt(row.description_en.as_deref(), row.description_fr.as_deref())
    }

    /// Where the project stands.
    async fn status(&self) -> ProjectStatus {
        self.row().status
    }

    /// The day it starts or started, when known.
    async fn starts_on(&self) -> Option<Date> {
        self.row().starts_on.map(Date)
    }

    /// The day it ends or ended, when known.
    async fn ends_on(&self) -> Option<Date> {
        self.row().ends_on.map(Date)
    }

    /// The public page this record's facts come from.
    async fn source_url(&self) -> Option<&str> {
        self.row().source_url.as_deref()
    }

    /// The agreement the project runs under.
    async fn agreement(&self, ctx: &Context<'_>) -> ApiResult<Inline<Agreement>> {
        to_one(ctx, &self.group, "agreement", |m| Some(m.agreement_id), Some(self.row().agreement_id))
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("the agreement of project {} no longer exists", self.row().code)))
            .map(Inline)
    }

    /// The partner of the project's agreement.
    async fn partner(&self, ctx: &Context<'_>) -> ApiResult<Inline<Partner>> {
        linked::<_, Partner>(ctx, &self.group, PARTNER, false)
            .await?
            .of::<Partner>(Some(self.row().agreement_id))
            .into_iter()
            .next()
            .ok_or_else(|| ApiError::NotFound(format!("the partner of project {} no longer exists", self.row().code)))
            .map(Inline)
    }

    /// The fundings that pay for the project.
    async fn fundings(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n results (1–100; 20 when neither first nor last is given).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Return results after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n results (1–100).")] last: Option<i32>,
        #[graphql(desc = "Return results before this cursor.")] before: Option<String>,
        #[graphql(desc = "Only the results matching this filter.")] filter: Option<FundingFilter>,
        #[graphql(desc = "The order of the results; the order they were recorded in by default.")] order_by: Option<
            FundingOrder,
        >,
    ) -> ApiResult<Connection<Funding>> {
        Ok(Nested::connection(
            &self.group,
            self.index,
            FUNDINGS,
            Window::sorted(
                first,
                after,
                last,
                before,
                FundingOrder::sort(order_by),
                filter.map(|f| f.condition()).transpose()?.unwrap_or_else(Condition::all),
            )?
            .reading::<Funding>(ctx),
        ))
    }

    /// The partners that fund the project, each once.
    async fn funders(&self, ctx: &Context<'_>) -> ApiResult<Vec<Partner>> {
        Ok(linked::<_, Partner>(ctx, &self.group, FUNDERS, true).await?.of(Some(self.row().id)))
    }

    /// The crime areas the project addresses.
    async fn crime_areas(&self, ctx: &Context<'_>) -> ApiResult<Vec<CrimeArea>> {
        Ok(linked::<_, CrimeArea>(ctx, &self.group, CRIME_AREAS, false).await?.of(Some(self.row().id)))
    }

    /// The Global Policing Goals the project serves.
    async fn policing_goals(&self, ctx: &Context<'_>) -> ApiResult<Vec<PolicingGoal>> {
        Ok(linked::<_, PolicingGoal>(ctx, &self.group, POLICING_GOALS, false).await?.of(Some(self.row().id)))
    }

    /// The countries the project benefits.
    async fn countries(&self, ctx: &Context<'_>) -> ApiResult<Vec<Country>> {
        let db = db(ctx)?;
        let by_project = self
            .group
            .once(("countries".into(), 0), || async {
                let rows = project_country::Entity::find()
                    .filter(key_in(db.get_database_backend(), "project_country", "project_id", &self.group.ids()))
                    .order_by_asc(project_country::Column::ProjectId)
                    .order_by_asc(project_country::Column::CountryCode)
                    .all(db)
                    .await?;
                let mut by_project: HashMap<i64, Vec<String>> = HashMap::new();
                for row in rows {
                    by_project.entry(row.project_id).or_default().push(row.country_code);
                }
                Ok::<_, ApiError>(by_project)
            })
            .await?;
        Ok(by_project.get(&self.row().id).into_iter().flatten().cloned().map(Country).collect())
    }

    /// What has been put into this project: the sum of the disclosed amounts, one per currency (by currency code).
    async fn total_funding(&self, ctx: &Context<'_>) -> ApiResult<Vec<Money>> {
        let totals = totals::of_group(ctx, &self.group, "project_id").await?;
        Ok(totals.get(&self.row().id).map(Totals::money).unwrap_or_default())
    }

    /// How many of those fundings have no disclosed amount (and so are not in `totalFunding`).
    async fn undisclosed_funding_count(&self, ctx: &Context<'_>) -> ApiResult<i64> {
        let totals = totals::of_group(ctx, &self.group, "project_id").await?;
        Ok(totals.get(&self.row().id).map_or(0, |t| t.undisclosed))
    }

    /// The changes made to this project, oldest first (use `last` for the most recent).
    async fn history(
        &self,
        #[graphql(desc = "Return the first n results (1–100; 20 when neither first nor last is given).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Return results after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n results (1–100).")] last: Option<i32>,
        #[graphql(desc = "Return results before this cursor.")] before: Option<String>,
    ) -> ApiResult<Connection<super::Change>> {
        crate::graphql::history::of_record(
            &self.group,
            self.index,
            crate::events::RecordKind::Project,
            (first, after, last, before),
        )
    }

    /// Incremented by every change; pass it back as `expectedVersion` when updating.
    async fn version(&self) -> i32 {
        self.row().version
    }

    /// When the record was created.
    async fn created_at(&self) -> DateTimeUtc {
        DateTimeUtc(self.row().created_at)
    }

    /// When the record last changed.
    async fn updated_at(&self) -> DateTimeUtc {
        DateTimeUtc(self.row().updated_at)
    }
}
