//! `partner_crime_area`: a partner works on a crime area.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "partner_crime_area")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub partner_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub crime_area_id: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::partner::Entity", from = "Column::PartnerId", to = "super::partner::Column::Id")]
    Partner,
    #[sea_orm(
        belongs_to = "super::crime_area::Entity",
        from = "Column::CrimeAreaId",
        to = "super::crime_area::Column::Id"
    )]
    CrimeArea,
}

impl ActiveModelBehavior for ActiveModel {}
