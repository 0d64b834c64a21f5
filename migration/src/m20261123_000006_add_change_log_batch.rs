//! Groups the history entries of one write: a write's notification names
//! its batch, and every replica reads the batch's entries back.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table("change_log").add_column(text_null("batch")).to_owned()).await?;
        manager
            .create_index(Index::create().name("idx_change_log_batch").table("change_log").col("batch").to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("idx_change_log_batch").table("change_log").to_owned()).await?;
        manager.alter_table(Table::alter().table("change_log").drop_column("batch").to_owned()).await
    }
}
