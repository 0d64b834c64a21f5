//! Partners (a tree: UN → DPO → Police Division) and the crime areas they work on.

use crate::util::{drop_tables, fk, index, search_columns, sort_indexes, table, timestamps, version};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut t = table("partner");
        t.col(text_uniq("slug"))
            .col(text("name_en"))
            .col(text("name_fr"))
            .col(text_null("acronym_en"))
            .col(text_null("acronym_fr"))
            .col(text("kind"))
            .col(text("sector"))
            .col(big_integer_null("parent_id"))
            .col(char_len_null("country_code", 2))
            .col(text_null("website"))
            .col(text_null("description_en"))
            .col(text_null("description_fr"))
            .col(text_null("source_url"))
            .col(version())
            .foreign_key(&mut fk("partner", "parent_id", "partner"));
        search_columns(&mut t, ["name_en_key", "name_fr_key"]);
        manager.create_table(timestamps(&mut t).to_owned()).await?;
        index(manager, "partner", "parent_id").await?;
        sort_indexes(manager, "partner", &["name_en_key", "name_fr_key", "country_code"]).await?;

        // The primary key (partner_id, crime_area_id) already indexes partner_id.
        let mut t = Table::create()
            .table("partner_crime_area")
            .col(big_integer("partner_id"))
            .col(big_integer("crime_area_id"))
            .primary_key(Index::create().col("partner_id").col("crime_area_id"))
            .foreign_key(&mut fk("partner_crime_area", "partner_id", "partner"))
            .foreign_key(&mut fk("partner_crime_area", "crime_area_id", "crime_area"))
            .take();
        manager.create_table(timestamps(&mut t).to_owned()).await?;
        index(manager, "partner_crime_area", "crime_area_id").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite empties a table row by row before dropping it, and a child
        // deleted after its parent would break the self-reference.
        manager.get_connection().execute_unprepared("UPDATE partner SET parent_id = NULL").await?;
        drop_tables(manager, &["partner_crime_area", "partner"]).await
    }
}
