//! Filling a database: the real dataset shipped in `data/registry.json`, and
//! synthetic data of any size for benchmarks and scale tests.

pub mod dataset;
pub mod provenance;
pub mod synthetic;

use sea_orm::{ConnectionTrait, DbBackend, DbErr, EntityTrait, PaginatorTrait};

/// Whether the registry holds no partner yet (a fresh database).
pub async fn is_empty(db: &impl ConnectionTrait) -> Result<bool, DbErr> {
    Ok(entity::partner::Entity::find().count(db).await? == 0)
}

/// Settles a bulk load. Refreshes the planner's statistics: without them
/// PostgreSQL plans a freshly filled table as if it were empty and scans
/// all of it where an index would serve. On PostgreSQL, also vacuums, which
/// moves the rows queued in the search keys' trigram indexes (their pending
/// lists) into the indexes proper: a queue left behind is read in full by
/// every search, up to 3 ms per index on the 10,000-partner set.
pub async fn after_bulk_load(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    let statement = match db.get_database_backend() {
        DbBackend::Postgres => "VACUUM ANALYZE",
        _ => "ANALYZE",
    };
    db.execute_unprepared(statement).await.map(|_| ())
}
