//! Schema migrations of the Partnership Registry; the server's `migrate`
//! command and its first start both run this `Migrator`.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_create_reference_tables;
mod m20261122_000002_create_partner;
mod m20261122_000003_create_agreement_and_project;
mod m20261122_000004_create_funding;
mod m20261122_000005_create_change_log_and_api_token;
mod m20261123_000006_add_change_log_batch;
mod m20261204_000007_index_search;
mod m20261205_000008_add_provenance;
mod m20261205_000009_number_changes_in_commit_order;
mod m20261205_000010_add_api_token_written_lsn;
mod util;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_reference_tables::Migration),
            Box::new(m20261122_000002_create_partner::Migration),
            Box::new(m20261122_000003_create_agreement_and_project::Migration),
            Box::new(m20261122_000004_create_funding::Migration),
            Box::new(m20261122_000005_create_change_log_and_api_token::Migration),
            Box::new(m20261123_000006_add_change_log_batch::Migration),
            Box::new(m20261204_000007_index_search::Migration),
            Box::new(m20261205_000008_add_provenance::Migration),
            Box::new(m20261205_000009_number_changes_in_commit_order::Migration),
            Box::new(m20261205_000010_add_api_token_written_lsn::Migration),
        ]
    }
}
