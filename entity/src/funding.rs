//! `funding`: money (or kind) a partner puts into a project.

use crate::enums::{FundingKind, FundingStatus};
use sea_orm::entity::prelude::*;

crate::positional_model! {
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "funding")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub project_id: i64,
        pub funder_id: i64,
        pub kind: FundingKind,
        pub status: FundingStatus,
        /// In the currency's minor unit; `None` when the amount is not disclosed.
        pub amount_minor: Option<i64>,
        /// ISO 4217; `None` only when the amount is undisclosed and so is its currency.
        pub currency: Option<String>,
        pub programme: Option<String>,
        pub committed_on: Option<Date>,
        pub source_url: Option<String>,
        pub version: i32,
        /// The fields no cited page states (reference knowledge), as the dataset's keys, space-separated.
        pub reference_fields: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::project::Entity", from = "Column::ProjectId", to = "super::project::Column::Id")]
    Project,
    #[sea_orm(belongs_to = "super::partner::Entity", from = "Column::FunderId", to = "super::partner::Column::Id")]
    Funder,
}

impl Related<super::project::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Project.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
