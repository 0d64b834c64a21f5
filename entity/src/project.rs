//! `project`: work run under an agreement.

use crate::enums::ProjectStatus;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
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
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
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

impl ActiveModelBehavior for ActiveModel {}
