//! `agreement`: what formalises a partnership (a cooperation agreement, an office, a resolution…).

use crate::enums::{AgreementKind, AgreementStatus};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
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
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
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

impl ActiveModelBehavior for ActiveModel {}
