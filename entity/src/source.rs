//! `source`: a public page the dataset's facts come from.

use sea_orm::entity::prelude::*;

crate::positional_model! {
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "source")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        /// Stable key the dataset's records cite, e.g. `united-nations-entities`.
        #[sea_orm(unique)]
        pub key: String,
        pub title: String,
        /// The page's languages, `+`-separated: `fr`, `en`, `fr+en`.
        pub languages: String,
        pub url: Option<String>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
