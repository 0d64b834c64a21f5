//! `change_log`: who changed which record, when, and how (before/after as JSON).

use sea_orm::entity::prelude::*;

crate::positional_model! {
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "change_log")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub entity: String,
        pub entity_id: i64,
        pub action: String,
        pub actor: String,
        pub at: DateTimeUtc,
        pub before: Option<Json>,
        pub after: Option<Json>,
        /// The write this entry belongs to: every entry of one transaction shares it.
        pub batch: Option<String>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
