//! Crime areas and the Global Policing Goals: small reference tables.

use crate::util::{drop_tables, table, timestamps};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut t = table("crime_area");
        t.col(text_uniq("slug")).col(text("name_en")).col(text("name_fr"));
        manager.create_table(timestamps(&mut t).to_owned()).await?;

        let mut t = table("policing_goal");
        t.col(integer_uniq("number"))
            .col(text("name_en"))
            .col(text("name_fr"))
            .check(Expr::cust("number BETWEEN 1 AND 7"));
        manager.create_table(timestamps(&mut t).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["policing_goal", "crime_area"]).await
    }
}
