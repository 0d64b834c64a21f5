//! Where the primary's WAL stood after each token's last write, so that
//! every server reading from PostgreSQL replicas can send that token's
//! reads to a replica only once it has replayed its writes.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table("api_token").add_column(big_integer_null("written_lsn")).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table("api_token").drop_column("written_lsn").to_owned()).await
    }
}
