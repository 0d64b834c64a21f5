//! `project_policing_goal`: a project serves a Global Policing Goal.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "project_policing_goal")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub project_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub policing_goal_id: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::project::Entity", from = "Column::ProjectId", to = "super::project::Column::Id")]
    Project,
    #[sea_orm(
        belongs_to = "super::policing_goal::Entity",
        from = "Column::PolicingGoalId",
        to = "super::policing_goal::Column::Id"
    )]
    PolicingGoal,
}

impl ActiveModelBehavior for ActiveModel {}
