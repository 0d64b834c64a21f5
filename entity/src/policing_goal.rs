//! `policing_goal`: one of INTERPOL's seven Global Policing Goals.

use sea_orm::entity::prelude::*;

crate::positional_model! {
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "policing_goal")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        #[sea_orm(unique)]
        pub number: i32,
        pub name_en: String,
        pub name_fr: String,
        pub description_en: Option<String>,
        pub description_fr: Option<String>,
        /// The fields no cited page states (reference knowledge), as the dataset's keys, space-separated.
        pub reference_fields: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
