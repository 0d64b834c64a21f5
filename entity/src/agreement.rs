//! `agreement`: what formalises a partnership (a cooperation agreement, an office, a resolution…).

use crate::enums::{AgreementKind, AgreementStatus};
use sea_orm::Set;
use sea_orm::entity::prelude::*;

crate::positional_model! {
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "agreement")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub partner_id: i64,
        #[sea_orm(unique)]
        pub reference: String,
        pub title_en: String,
        pub title_fr: String,
        pub kind: AgreementKind,
        pub status: AgreementStatus,
        /// The year of signature or adoption; kept on its own because sources often give no day.
        pub signed_year: Option<i32>,
        pub signed_on: Option<Date>,
        pub effective_from: Option<Date>,
        pub expires_on: Option<Date>,
        pub summary_en: Option<String>,
        pub summary_fr: Option<String>,
        pub source_url: Option<String>,
        /// Normalised `title_en` for sorting (see [`crate::search`]).
        #[serde(skip)]
        pub title_en_key: String,
        /// Normalised `title_fr` for sorting (see [`crate::search`]).
        #[serde(skip)]
        pub title_fr_key: String,
        /// Normalised names, acronyms and key, `|`-fenced, for ranking search hits.
        #[serde(skip)]
        pub search_names: String,
        /// All searchable text, normalised.
        #[serde(skip)]
        pub search_text: String,
        pub version: i32,
        /// The fields no cited page states (reference knowledge), as the dataset's keys, space-separated.
        pub reference_fields: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::partner::Entity", from = "Column::PartnerId", to = "super::partner::Column::Id")]
    Partner,
    #[sea_orm(has_many = "super::project::Entity")]
    Project,
}

impl Related<super::partner::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Partner.def()
    }
}

impl Related<super::project::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Project.def()
    }
}

impl ActiveModel {
    /// Recomputes the sort and search keys from the text columns; a no-op
    /// unless every one of them is present (set or loaded).
    pub fn with_search_keys(mut self) -> Self {
        let Some(reference) = self.reference.try_as_ref().map(|v| Some(v.as_str())) else { return self };
        let Some(title_en) = self.title_en.try_as_ref().map(|v| Some(v.as_str())) else { return self };
        let Some(title_fr) = self.title_fr.try_as_ref().map(|v| Some(v.as_str())) else { return self };
        let Some(summary_en) = self.summary_en.try_as_ref().map(|v| v.as_deref()) else { return self };
        let Some(summary_fr) = self.summary_fr.try_as_ref().map(|v| v.as_deref()) else { return self };
        let title_en_key = crate::search::normalize(title_en.unwrap_or_default());
        let title_fr_key = crate::search::normalize(title_fr.unwrap_or_default());
        let search_names = crate::search::names_key([title_en, title_fr, reference]);
        let search_text = crate::search::text_key([title_en, title_fr, reference, summary_en, summary_fr]);
        self.title_en_key = Set(title_en_key);
        self.title_fr_key = Set(title_fr_key);
        self.search_names = Set(search_names);
        self.search_text = Set(search_text);
        self
    }
}

#[async_trait::async_trait]
impl ActiveModelBehavior for ActiveModel {
    async fn before_save<C: ConnectionTrait>(self, _db: &C, _insert: bool) -> Result<Self, DbErr> {
        Ok(self.with_search_keys())
    }
}
