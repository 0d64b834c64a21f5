//! `project`: work run under an agreement.

use crate::enums::ProjectStatus;
use sea_orm::Set;
use sea_orm::entity::prelude::*;

crate::positional_model! {
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "project")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub agreement_id: i64,
        #[sea_orm(unique)]
        pub code: String,
        pub name_en: String,
        pub name_fr: String,
        pub description_en: Option<String>,
        pub description_fr: Option<String>,
        pub status: ProjectStatus,
        pub starts_on: Option<Date>,
        pub ends_on: Option<Date>,
        pub source_url: Option<String>,
        /// Normalised `name_en` for sorting (see [`crate::search`]).
        #[serde(skip)]
        pub name_en_key: String,
        /// Normalised `name_fr` for sorting (see [`crate::search`]).
        #[serde(skip)]
        pub name_fr_key: String,
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
    #[sea_orm(
        belongs_to = "super::agreement::Entity",
        from = "Column::AgreementId",
        to = "super::agreement::Column::Id"
    )]
    Agreement,
    #[sea_orm(has_many = "super::funding::Entity")]
    Funding,
}

impl Related<super::agreement::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Agreement.def()
    }
}

impl Related<super::funding::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Funding.def()
    }
}

impl ActiveModel {
    /// Recomputes the sort and search keys from the text columns; a no-op
    /// unless every one of them is present (set or loaded).
    pub fn with_search_keys(mut self) -> Self {
        let Some(code) = self.code.try_as_ref().map(|v| Some(v.as_str())) else { return self };
        let Some(name_en) = self.name_en.try_as_ref().map(|v| Some(v.as_str())) else { return self };
        let Some(name_fr) = self.name_fr.try_as_ref().map(|v| Some(v.as_str())) else { return self };
        let Some(description_en) = self.description_en.try_as_ref().map(|v| v.as_deref()) else { return self };
        let Some(description_fr) = self.description_fr.try_as_ref().map(|v| v.as_deref()) else { return self };
        let name_en_key = crate::search::normalize(name_en.unwrap_or_default());
        let name_fr_key = crate::search::normalize(name_fr.unwrap_or_default());
        let search_names = crate::search::names_key([name_en, name_fr, code]);
        let search_text = crate::search::text_key([name_en, name_fr, code, description_en, description_fr]);
        self.name_en_key = Set(name_en_key);
        self.name_fr_key = Set(name_fr_key);
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
