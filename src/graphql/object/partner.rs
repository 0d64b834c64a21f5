//! `Partner`: an organisation INTERPOL works with.

use async_graphql::{Context, ID, Object};
use entity::enums::{PartnerKind, Sector};
use entity::partner::Model;

use super::{Agreement, Country, CrimeArea, Funding, Money, node_type};
use crate::error::ApiResult;
use crate::graphql::context::lang;
use crate::graphql::id;
use crate::graphql::input::{
    AgreementFilter, AgreementOrder, FundingFilter, FundingOrder, PartnerFilter, PartnerOrder,
};
use crate::graphql::lang::Lang;
use crate::graphql::node::NodeType;
use crate::graphql::pagination::{Connection, Nested, Relation, Window, linked, to_one};
use crate::graphql::scalar::DateTimeUtc;
use crate::graphql::sort::{SortValue, Sortable};
use crate::graphql::sql::Via;
use crate::graphql::totals::{self, Totals};
use sea_orm::sea_query::Condition;

node_type!(Partner, partner, "An organisation INTERPOL works with.", reads {
    "slug" => &["slug"],
    "name" => &["name_en", "name_fr"],
    "acronym" => &["acronym_en", "acronym_fr"],
    "description" => &["description_en", "description_fr"],
    "country" => &["country_code"],
    "website" => &["website"],
    "sourceUrl" => &["source_url"],
    "parent" => &["parent_id"],
    "id"
    | "databaseId"
    | "kind"
    | "sector"
    | "children"
    | "agreements"
    | "fundingsProvided"
    | "crimeAreas"
    | "totalFunding"
    | "undisclosedFundingCount"
    | "history"
    | "version" => &[],
    "createdAt" => &["created_at"],
    "updatedAt" => &["updated_at"],
});

impl Sortable for entity::partner::Model {
    fn sort_value(&self, column: &str) -> SortValue {
        match column {
            "name_en_key" => SortValue::Text(self.name_en_key.clone()),
            "name_fr_key" => SortValue::Text(self.name_fr_key.clone()),
            _ => SortValue::Null,
        }
    }
}

const CHILDREN: Relation<Model> =
    Relation { name: "children", via: Via::column("partner", "parent_id"), key: |m| Some(m.id) };
const AGREEMENTS: Relation<Model> =
    Relation { name: "agreements", via: Via::column("agreement", "partner_id"), key: |m| Some(m.id) };
const FUNDINGS: Relation<Model> =
    Relation { name: "fundingsProvided", via: Via::column("funding", "funder_id"), key: |m| Some(m.id) };
const CRIME_AREAS: Relation<Model> = Relation {
    name: "crimeAreas",
    via: Via::link("partner_crime_area", "partner_id", "crime_area_id"),
    key: |m| Some(m.id),
};

/// An organisation INTERPOL works with: a UN entity, an EU institution or
/// agency, a forum such as the G8, a company, a foundation… Partners form a
/// tree (the United Nations → its Department of Peace Operations → its
/// Police Division).
#[Object(serial)]
impl Partner {
    /// The partner's opaque global id.
    pub async fn id(&self) -> ID {
        ID(id::encode(Self::TYPE_NAME, self.row().id))
    }

    /// The partner's row id in the database; prefer `id` in clients.
    async fn database_id(&self) -> i64 {
        self.row().id
    }

    /// Stable, human-readable key, e.g. `unodc`.
    async fn slug(&self) -> &str {
        &self.row().slug
    }

    /// The partner's name.
    async fn name(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Language of the name; the request's `Accept-Language` by default.")] lang: Option<Lang>,
    ) -> &str {
        self::lang(ctx, lang).pick(&self.row().name_en, &self.row().name_fr)
    }

    /// The partner's acronym (`UNODC` in English, `ONUDC` in French), if it has one.
    async fn acronym(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Language of the acronym; the request's `Accept-Language` by default.")] lang: Option<Lang>,
    ) -> Option<&str> {
        let row = self.row();
        self::lang(ctx, lang).pick_opt(row.acronym_en.as_deref(), row.acronym_fr.as_deref())
    }

    /// A short description of the partner and of the partnership.
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

    /// What sort of organisation this is.
    async fn kind(&self) -> PartnerKind {
        self.row().kind
    }

    /// Public or private sector.
    async fn sector(&self) -> Sector {
        self.row().sector
    }

    /// The country of the headquarters, when it has one.
    async fn country(&self) -> Option<Country> {
        self.row().country_code.clone().map(Country)
    }

    /// The partner's official website.
    async fn website(&self) -> Option<&str> {
        self.row().website.as_deref()
    }

    /// The public page this record's facts come from.
    async fn source_url(&self) -> Option<&str> {
        self.row().source_url.as_deref()
    }

    /// The organisation this partner is part of (UNODC → the United Nations).
    async fn parent(&self, ctx: &Context<'_>) -> ApiResult<Option<Partner>> {
        to_one(ctx, &self.group, "parent", |m| m.parent_id, self.row().parent_id).await
    }

    /// The organisations that are part of this one.
    async fn children(
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
            CHILDREN,
            Window::sorted(
                first,
                after,
                last,
                before,
                PartnerOrder::sort(order_by, lang(ctx, None)),
                filter.map(|f| f.condition()).transpose()?.unwrap_or_else(Condition::all),
            )?
            .reading::<Partner>(ctx),
        ))
    }

    /// The agreements that formalise the partnership.
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
        Ok(Nested::connection(
            &self.group,
            self.index,
            AGREEMENTS,
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

    /// The fundings this partner provides, to any project.
    async fn fundings_provided(
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

    /// The crime areas the partner works on with INTERPOL.
    async fn crime_areas(&self, ctx: &Context<'_>) -> ApiResult<Vec<CrimeArea>> {
        Ok(linked::<_, CrimeArea>(ctx, &self.group, CRIME_AREAS, false).await?.of(Some(self.row().id)))
    }

    /// What this partner has put into projects: the sum of the disclosed amounts, one per currency (by currency code).
    async fn total_funding(&self, ctx: &Context<'_>) -> ApiResult<Vec<Money>> {
        let totals = totals::of_group(ctx, &self.group, "funder_id").await?;
        Ok(totals.get(&self.row().id).map(Totals::money).unwrap_or_default())
    }

    /// How many of those fundings have no disclosed amount (and so are not in `totalFunding`).
    async fn undisclosed_funding_count(&self, ctx: &Context<'_>) -> ApiResult<i64> {
        let totals = totals::of_group(ctx, &self.group, "funder_id").await?;
        Ok(totals.get(&self.row().id).map_or(0, |t| t.undisclosed))
    }

    /// The changes made to this partner, oldest first (use `last` for the most recent).
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
            crate::events::RecordKind::Partner,
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
