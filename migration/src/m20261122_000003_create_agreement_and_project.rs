//! Agreements, the projects run under them, and what each project is about.

use crate::util::{drop_tables, fk, index, search_columns, sort_indexes, table, timestamps, version};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut t = table("agreement");
        t.col(big_integer("partner_id"))
            .col(text_uniq("reference"))
            .col(text("title_en"))
            .col(text("title_fr"))
            .col(text("kind"))
            .col(text("status"))
            .col(integer_null("signed_year"))
            .col(date_null("signed_on"))
            .col(date_null("effective_from"))
            .col(date_null("expires_on"))
            .col(text_null("summary_en"))
            .col(text_null("summary_fr"))
            .col(text_null("source_url"))
            .col(version())
            .foreign_key(&mut fk("agreement", "partner_id", "partner"));
        search_columns(&mut t, ["title_en_key", "title_fr_key"]);
        manager.create_table(timestamps(&mut t).to_owned()).await?;
        index(manager, "agreement", "partner_id").await?;
        sort_indexes(
            manager,
            "agreement",
            &["title_en_key", "title_fr_key", "signed_on", "effective_from", "expires_on"],
        )
        .await?;

        let mut t = table("project");
        t.col(big_integer("agreement_id"))
            .col(text_uniq("code"))
            .col(text("name_en"))
            .col(text("name_fr"))
            .col(text_null("description_en"))
            .col(text_null("description_fr"))
            .col(text("status"))
            .col(date_null("starts_on"))
            .col(date_null("ends_on"))
            .col(text_null("source_url"))
            .col(version())
            .foreign_key(&mut fk("project", "agreement_id", "agreement"));
        search_columns(&mut t, ["name_en_key", "name_fr_key"]);
        manager.create_table(timestamps(&mut t).to_owned()).await?;
        index(manager, "project", "agreement_id").await?;
        sort_indexes(manager, "project", &["name_en_key", "name_fr_key", "starts_on", "ends_on"]).await?;

        // In each link table the primary key's first column indexes the project.
        for (link, column, target) in [
            ("project_crime_area", "crime_area_id", "crime_area"),
            ("project_policing_goal", "policing_goal_id", "policing_goal"),
        ] {
            let mut t = Table::create()
                .table(link)
                .col(big_integer("project_id"))
                .col(big_integer(column))
                .primary_key(Index::create().col("project_id").col(column))
                .foreign_key(&mut fk(link, "project_id", "project"))
                .foreign_key(&mut fk(link, column, target))
                .take();
            manager.create_table(timestamps(&mut t).to_owned()).await?;
            index(manager, link, column).await?;
        }

        let mut t = Table::create()
            .table("project_country")
            .col(big_integer("project_id"))
            .col(char_len("country_code", 2))
            .primary_key(Index::create().col("project_id").col("country_code"))
            .foreign_key(&mut fk("project_country", "project_id", "project"))
            .take();
        manager.create_table(timestamps(&mut t).to_owned()).await?;
        index(manager, "project_country", "country_code").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            &["project_country", "project_policing_goal", "project_crime_area", "project", "agreement"],
        )
        .await
    }
}
