//! Filling a database: the real dataset shipped in `data/registry.json`, and
//! synthetic data of any size for benchmarks and scale tests.

pub mod dataset;
pub mod synthetic;

use sea_orm::{ConnectionTrait, DbErr, EntityTrait, PaginatorTrait};

/// Whether the registry holds no partner yet (a fresh database).
pub async fn is_empty(db: &impl ConnectionTrait) -> Result<bool, DbErr> {
    Ok(entity::partner::Entity::find().count(db).await? == 0)
}

/// Refreshes the planner's statistics after a bulk load: without them
/// PostgreSQL plans a freshly filled table as if it were empty and scans
/// all of it where an index would serve.
pub async fn analyze(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    db.execute_unprepared("ANALYZE").await.map(|_| ())
}
