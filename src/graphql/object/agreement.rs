//! `Agreement`: what formalises a partnership.

use async_graphql::{Context, ID, Object};
use entity::agreement::Model;
use entity::enums::{AgreementKind, AgreementStatus};

use super::{Partner, Project, node_type};
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::lang;
use crate::graphql::id;
use crate::graphql::inline::Inline;
use crate::graphql::input::{ProjectFilter, ProjectOrder};
use crate::graphql::lang::Lang;
use crate::graphql::node::NodeType;
use crate::graphql::pagination::{Connection, Nested, Relation, Window, to_one};
use crate::graphql::scalar::{Date, DateTimeUtc};
use crate::graphql::sort::{SortValue, Sortable};
use crate::graphql::sql::Via;
use sea_orm::sea_query::Condition;

node_type!(Agreement, agreement, "What formalises a partnership.", reads {
    "reference" => &["reference"],
    "title" => &["title_en", "title_fr"],
    "summary" => &["summary_en", "summary_fr"],
    "signedYear" => &["signed_year"],
    "signedOn" => &["signed_on"],
    "effectiveFrom" => &["effective_from"],
    "expiresOn" => &["expires_on"],
    "sourceUrl" => &["source_url"],
    // Its not-found error names the agreement.
    "partner" => &["reference"],
    "id" | "databaseId" | "kind" | "status" | "projects" | "history" | "version" => &[],
    "createdAt" => &["created_at"],
    "updatedAt" => &["updated_at"],
});

impl Sortable for entity::agreement::Model {
    fn sort_value(&self, column: &str) -> SortValue {
        match column {
            "title_en_key" => SortValue::Text(self.title_en_key.clone()),
            "title_fr_key" => SortValue::Text(self.title_fr_key.clone()),
            "signed_on" => self.signed_on.into(),
            "effective_from" => self.effective_from.into(),
            "expires_on" => self.expires_on.into(),
            _ => SortValue::Null,
        }
    }
}

const PROJECTS: Relation<Model> =
    Relation { name: "projects", via: Via::column("project", "agreement_id"), key: |m| Some(m.id) };

/// What formalises a partnership: a cooperation agreement, observer status,
/// a liaison office, a resolution, a funding or data-exchange agreement…
#[Object(serial)]
impl Agreement {
    /// The agreement's opaque global id.
    pub async fn id(&self) -> ID {
        ID(id::encode(Self::TYPE_NAME, self.row().id))
    }

    /// The agreement's row id in the database; prefer `id` in clients.
    async fn database_id(&self) -> i64 {
        self.row().id
    }

    /// Stable reference, e.g. `UN-1996-COOPERATION`.
    async fn reference(&self) -> &str {
        &self.row().reference
    }

    /// The agreement's title.
    async fn title(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Language of the title; the request's `Accept-Language` by default.")] lang: Option<Lang>,
    ) -> &str {
        self::lang(ctx, lang).pick(&self.row().title_en, &self.row().title_fr)
    }

    /// What the agreement provides for.
    async fn summary(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Language of the summary; the request's `Accept-Language` by default.")] lang: Option<Lang>,
    ) -> Option<&str> {
        let row = self.row();
        self::lang(ctx, lang).pick_opt(row.summary_en.as_deref(), row.summary_fr.as_deref())
    }

    /// The form of the agreement.
    async fn kind(&self) -> AgreementKind {
        self.row().kind
    }

    /// Where the agreement stands.
    async fn status(&self) -> AgreementStatus {
        self.row().status
    }

    /// The year it was signed or adopted; known more often than the day.
    async fn signed_year(&self) -> Option<i32> {
        self.row().signed_year
    }

    /// The day it was signed or adopted, when the sources give it.
    async fn signed_on(&self) -> Option<Date> {
        self.row().signed_on.map(Date)
    }

    /// The first day it applies.
    async fn effective_from(&self) -> Option<Date> {
        self.row().effective_from.map(Date)
    }

    /// The last day it applies, if it ends.
    async fn expires_on(&self) -> Option<Date> {
        self.row().expires_on.map(Date)
    }

    /// The public page this record's facts come from.
    async fn source_url(&self) -> Option<&str> {
        self.row().source_url.as_deref()
    }

    /// The partner on the other side of the agreement.
    async fn partner(&self, ctx: &Context<'_>) -> ApiResult<Inline<Partner>> {
        to_one(ctx, &self.group, "partner", |m| Some(m.partner_id), Some(self.row().partner_id))
            .await?
            .ok_or_else(|| {
                ApiError::NotFound(format!("the partner of agreement {} no longer exists", self.row().reference))
            })
            .map(Inline)
    }

    /// The projects run under this agreement.
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
            )?
            .reading::<Project>(ctx),
        ))
    }

    /// The changes made to this agreement, oldest first (use `last` for the most recent).
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
            crate::events::RecordKind::Agreement,
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
