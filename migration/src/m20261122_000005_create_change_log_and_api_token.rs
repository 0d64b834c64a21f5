//! The change history and the API tokens.

use crate::util::{drop_tables, table, timestamps};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut t = table("change_log");
        t.col(text("entity"))
            .col(big_integer("entity_id"))
            .col(text("action"))
            .col(text("actor"))
            .col(timestamp_with_time_zone("at"))
            .col(json_null("before"))
            .col(json_null("after"));
        manager.create_table(timestamps(&mut t).to_owned()).await?;
        // A record's history is read by (entity, entity_id); the firehose by time.
        manager
            .create_index(
                Index::create()
                    .name("idx_change_log_entity")
                    .table("change_log")
                    .col("entity")
                    .col("entity_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("idx_change_log_at").table("change_log").col("at").to_owned())
            .await?;

        let mut t = table("api_token");
        t.col(text("name"))
            .col(text_uniq("token_sha256"))
            .col(text("role"))
            .col(timestamp_with_time_zone_null("revoked_at"));
        manager.create_table(timestamps(&mut t).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["api_token", "change_log"]).await
    }
}
