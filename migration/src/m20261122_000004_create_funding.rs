//! Fundings: who pays for which project, in integer minor units of a currency.

use crate::util::{drop_tables, fk, index, sort_indexes, table, timestamps, version};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut t = table("funding");
        t.col(big_integer("project_id"))
            .col(big_integer("funder_id"))
            .col(text("kind"))
            .col(text("status"))
            .col(big_integer_null("amount_minor"))
            .col(char_len_null("currency", 3))
            .col(text_null("programme"))
            .col(date_null("committed_on"))
            .col(text_null("source_url"))
            .col(version())
            // An amount is never negative, and a disclosed amount always has its currency.
            .check(Expr::cust("amount_minor IS NULL OR amount_minor >= 0"))
            .check(Expr::cust("amount_minor IS NULL OR currency IS NOT NULL"))
            .foreign_key(&mut fk("funding", "project_id", "project"))
            .foreign_key(&mut fk("funding", "funder_id", "partner"));
        manager.create_table(timestamps(&mut t).to_owned()).await?;
        index(manager, "funding", "project_id").await?;
        index(manager, "funding", "funder_id").await?;
        sort_indexes(manager, "funding", &["amount_minor", "committed_on", "currency"]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["funding"]).await
    }
}
