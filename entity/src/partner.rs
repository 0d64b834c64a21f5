//! `partner`: an organisation INTERPOL works with, possibly part of a larger one.

use crate::enums::{PartnerKind, Sector};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "partner")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub slug: String,
    pub name_en: String,
    pub name_fr: String,
    pub acronym_en: Option<String>,
    pub acronym_fr: Option<String>,
    pub kind: PartnerKind,
    pub sector: Sector,
    pub parent_id: Option<i64>,
    pub country_code: Option<String>,
    pub website: Option<String>,
    pub description_en: Option<String>,
    pub description_fr: Option<String>,
    pub source_url: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "Entity", from = "Column::ParentId", to = "Column::Id")]
    Parent,
    #[sea_orm(has_many = "super::agreement::Entity")]
    Agreement,
}

impl Related<super::agreement::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Agreement.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
