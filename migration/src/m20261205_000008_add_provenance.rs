//! Where each record's facts come from: the source pages (`source`), which
//! of them each record relies on (`{record}_source`), and which of its
//! fields are reference knowledge no cited page states (`reference_fields`).
//! Policing goals gain a description.

use crate::util::{drop_tables, fk, index, table, timestamps};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The record tables and their source link tables.
const RECORDS: [(&str, &str, &str); 6] = [
    ("crime_area", "crime_area_source", "crime_area_id"),
    ("policing_goal", "policing_goal_source", "policing_goal_id"),
    ("partner", "partner_source", "partner_id"),
    ("agreement", "agreement_source", "agreement_id"),
    ("project", "project_source", "project_id"),
    ("funding", "funding_source", "funding_id"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut t = table("source");
        t.col(text_uniq("key")).col(text("title")).col(text("languages")).col(text_null("url"));
        manager.create_table(timestamps(&mut t).to_owned()).await?;

        for (record, link, record_id) in RECORDS {
            // A record's links to its sources are part of the record: they
            // go with it.
            let mut t = Table::create()
                .table(link)
                .col(big_integer(record_id))
                .col(big_integer("source_id"))
                .primary_key(Index::create().col(record_id).col("source_id"))
                .foreign_key(fk(link, record_id, record).on_delete(ForeignKeyAction::Cascade))
                .foreign_key(&mut fk(link, "source_id", "source"))
                .take();
            manager.create_table(timestamps(&mut t).to_owned()).await?;
            index(manager, link, "source_id").await?;
            manager
                .alter_table(Table::alter().table(record).add_column(text("reference_fields").default("")).to_owned())
                .await?;
        }
        for column in ["description_en", "description_fr"] {
            manager.alter_table(Table::alter().table("policing_goal").add_column(text_null(column)).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["description_fr", "description_en"] {
            manager.alter_table(Table::alter().table("policing_goal").drop_column(column).to_owned()).await?;
        }
        for (record, link, _) in RECORDS.iter().rev() {
            manager.alter_table(Table::alter().table(*record).drop_column("reference_fields").to_owned()).await?;
            drop_tables(manager, &[link]).await?;
        }
        drop_tables(manager, &["source"]).await
    }
}
