//! `Funding`: what a partner puts into a project.

use async_graphql::{Context, ID, Object};
use entity::enums::{FundingKind, FundingStatus};

use super::{Partner, Project, node_type};
use crate::error::{ApiError, ApiResult};
use crate::graphql::id;
use crate::graphql::inline::Inline;
use crate::graphql::node::NodeType;
use crate::graphql::pagination::{Connection, to_one};
use crate::graphql::scalar::{Date, DateTimeUtc, Decimal, currency_exponent, format_minor};
use crate::graphql::sort::{SortValue, Sortable};

node_type!(Funding, funding, "What a partner puts into a project.", reads {
    "amount" => &["amount_minor", "currency"],
    "currency" => &["currency"],
    "programme" => &["programme"],
    "committedOn" => &["committed_on"],
    "sourceUrl" => &["source_url"],
    "id" | "databaseId" | "kind" | "status" | "project" | "funder" | "history" | "version" => &[],
    "createdAt" => &["created_at"],
    "updatedAt" => &["updated_at"],
});

impl Sortable for entity::funding::Model {
    fn sort_value(&self, column: &str) -> SortValue {
        match column {
            "amount_minor" => self.amount_minor.into(),
            "committed_on" => self.committed_on.into(),
            _ => SortValue::Null,
        }
    }
}

/// An exact amount of money in one currency. Sums are held in 128 bits, so
/// a total of many 64-bit amounts never overflows.
pub struct Money {
    pub minor: i128,
    pub currency: String,
}

/// An exact amount of money in one currency.
#[Object(serial)]
impl Money {
    /// The amount as an exact decimal string with the currency's usual decimals (`"1250000.00"`).
    async fn amount(&self) -> Decimal {
        let exponent = currency_exponent(&self.currency).unwrap_or(2);
        Decimal(format_minor(self.minor, u32::from(exponent)))
    }

    /// The amount in the currency's minor unit (cents for EUR), as a string so no client rounds it.
    async fn minor_units(&self) -> String {
        self.minor.to_string()
    }

    /// ISO 4217 currency code, e.g. `EUR`.
    async fn currency(&self) -> &str {
        &self.currency
    }
}

/// Money, goods or services a partner (the funder) puts into a project.
/// Amounts the sources do not disclose are null, never guessed.
#[Object(serial)]
impl Funding {
    /// The funding's opaque global id.
    pub async fn id(&self) -> ID {
        ID(id::encode(Self::TYPE_NAME, self.row().id))
    }

    /// The funding's row id in the database; prefer `id` in clients.
    async fn database_id(&self) -> i64 {
        self.row().id
    }

    /// The form the funding takes.
    async fn kind(&self) -> FundingKind {
        self.row().kind
    }

    /// How far the funding has progressed.
    async fn status(&self) -> FundingStatus {
        self.row().status
    }

    /// The amount; null when it is not disclosed.
    async fn amount(&self) -> Option<Inline<Money>> {
        let row = self.row();
        Some(Inline(Money { minor: row.amount_minor?.into(), currency: row.currency.clone()? }))
    }

    /// ISO 4217 currency of the funding, when known (even if the amount is not).
    async fn currency(&self) -> Option<&str> {
        self.row().currency.as_deref()
    }

    /// The funder's programme the money comes from (e.g. the EU's Justice programme).
    async fn programme(&self) -> Option<&str> {
        self.row().programme.as_deref()
    }

    /// The day the funding was committed, when known.
    async fn committed_on(&self) -> Option<Date> {
        self.row().committed_on.map(Date)
    }

    /// The public page this record's facts come from.
    async fn source_url(&self) -> Option<&str> {
        self.row().source_url.as_deref()
    }

    /// The funded project.
    async fn project(&self, ctx: &Context<'_>) -> ApiResult<Inline<Project>> {
        to_one(ctx, &self.group, "project", |m| Some(m.project_id), Some(self.row().project_id))
            .await?
            .ok_or_else(|| ApiError::NotFound("the project of this funding no longer exists".into()))
            .map(Inline)
    }

    /// The partner that provides the funding.
    async fn funder(&self, ctx: &Context<'_>) -> ApiResult<Inline<Partner>> {
        to_one(ctx, &self.group, "funder", |m| Some(m.funder_id), Some(self.row().funder_id))
            .await?
            .ok_or_else(|| ApiError::NotFound("the funder of this funding no longer exists".into()))
            .map(Inline)
    }

    /// The changes made to this funding, oldest first (use `last` for the most recent).
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
            crate::events::RecordKind::Funding,
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
