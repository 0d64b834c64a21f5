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

/// A row linking one record to one page its facts come from.
pub trait SourceLink: ActiveModelTrait {
    fn link(record_id: i64, source_id: i64, now: DateTimeUtc) -> Self;
}

/// Declares the table linking one kind of record to the pages its facts
/// come from: `source_link!("partner_source", partner, partner_id, PartnerId);`
/// gives `partner_source` with columns `partner_id` and `source_id`, and
/// the relations `Record` (to `partner`) and `Source`.
#[macro_export]
macro_rules! source_link {
    ($table:tt, $record:ident, $record_id:ident, $RecordId:ident) => {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = $table)]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub $record_id: i64,
            #[sea_orm(primary_key, auto_increment = false)]
            pub source_id: i64,
            pub created_at: DateTimeUtc,
            pub updated_at: DateTimeUtc,
        }

        #[derive(Copy, Clone, Debug, EnumIter)]
        pub enum Relation {
            /// The record that relies on the page.
            Record,
            /// The page.
            Source,
        }

        impl RelationTrait for Relation {
            fn def(&self) -> RelationDef {
                match self {
                    Relation::Record => Entity::belongs_to(super::$record::Entity)
                        .from(Column::$RecordId)
                        .to(super::$record::Column::Id)
                        .into(),
                    Relation::Source => Entity::belongs_to(super::source::Entity)
                        .from(Column::SourceId)
                        .to(super::source::Column::Id)
                        .into(),
                }
            }
        }

        impl ActiveModelBehavior for ActiveModel {}

        impl $crate::source::SourceLink for ActiveModel {
            fn link(record_id: i64, source_id: i64, now: DateTimeUtc) -> Self {
                ActiveModel {
                    $record_id: sea_orm::Set(record_id),
                    source_id: sea_orm::Set(source_id),
                    created_at: sea_orm::Set(now),
                    updated_at: sea_orm::Set(now),
                }
            }
        }
    };
}
