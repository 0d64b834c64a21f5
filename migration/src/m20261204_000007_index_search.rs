//! Indexes `search` reads through, so that finding a page of hits does not
//! read every row of the searched tables.
//!
//! `search` matches substrings of the normalised keys (`search_names`,
//! `search_text`) with `LIKE '%…%'`; both backends index exactly that, so
//! its results do not change:
//! - PostgreSQL: trigram GIN indexes (`pg_trgm`, shipped with PostgreSQL's
//!   contrib modules) on both keys, with a short pending list; `LIKE
//!   '%word%'` is served by them for words of three characters or more.
//! - SQLite: two FTS5 tables per searched table with the trigram tokenizer,
//!   `<table>_search_names` and `<table>_search_text`, each holding one key
//!   by reference (external content, kept in step by triggers); `LIKE` on
//!   their column is served by the index, and rows come out in id order, so
//!   a page stops after its last hit. One table per key, because an FTS5
//!   index lists a trigram's rows whatever column holds it: with both keys
//!   in one table, a phrase sought among the names alone would be checked
//!   against every row whose text holds it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The searched tables; the FTS5 table of each key is `<table>_<key>`.
const TABLES: [&str; 3] = ["partner", "agreement", "project"];
const KEYS: [&str; 2] = ["search_names", "search_text"];

/// A GIN index queues new rows in a pending list until it holds this many
/// kilobytes (4 MB by default) or the table is vacuumed, and every search
/// reads the whole list: a full default list cost 1–3 ms per index scan on
/// the 10,000-partner set, where an empty one costs 0.1 ms.
const PENDING_LIST_KB: u32 = 256;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm").await.map_err(|e| {
                    DbErr::Migration(format!(
                        "search needs PostgreSQL's pg_trgm extension (in the contrib modules, installed with \
                         PostgreSQL by most packages), and the migrating role may not create it: {e}. Run \
                         `CREATE EXTENSION pg_trgm` in this database as a superuser, then migrate again."
                    ))
                })?;
                for table in TABLES {
                    for key in KEYS {
                        db.execute_unprepared(&format!(
                            r#"CREATE INDEX "idx_{table}_{key}_trgm" ON "{table}" USING gin ("{key}" gin_trgm_ops) WITH (gin_pending_list_limit = {PENDING_LIST_KB})"#
                        ))
                        .await?;
                    }
                }
            }
            _ => {
                for table in TABLES {
                    for key in KEYS {
                        let fts = format!("{table}_{key}");
                        for statement in [
                            format!(
                                r#"CREATE VIRTUAL TABLE "{fts}" USING fts5("{key}", content='{table}', content_rowid='id', tokenize='trigram')"#
                            ),
                            format!(r#"INSERT INTO "{fts}"("{fts}") VALUES ('rebuild')"#),
                            format!(
                                r#"CREATE TRIGGER "{fts}_insert" AFTER INSERT ON "{table}" BEGIN
                                    INSERT INTO "{fts}"(rowid, "{key}") VALUES (new.id, new."{key}");
                                END"#
                            ),
                            format!(
                                r#"CREATE TRIGGER "{fts}_delete" AFTER DELETE ON "{table}" BEGIN
                                    INSERT INTO "{fts}"("{fts}", rowid, "{key}") VALUES ('delete', old.id, old."{key}");
                                END"#
                            ),
                            format!(
                                r#"CREATE TRIGGER "{fts}_update" AFTER UPDATE OF "{key}" ON "{table}" BEGIN
                                    INSERT INTO "{fts}"("{fts}", rowid, "{key}") VALUES ('delete', old.id, old."{key}");
                                    INSERT INTO "{fts}"(rowid, "{key}") VALUES (new.id, new."{key}");
                                END"#
                            ),
                        ] {
                            db.execute_unprepared(&statement).await?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for table in TABLES {
            match manager.get_database_backend() {
                DbBackend::Postgres => {
                    for key in KEYS {
                        db.execute_unprepared(&format!(r#"DROP INDEX "idx_{table}_{key}_trgm""#)).await?;
                    }
                }
                _ => {
                    for key in KEYS {
                        let fts = format!("{table}_{key}");
                        for suffix in ["insert", "delete", "update"] {
                            db.execute_unprepared(&format!(r#"DROP TRIGGER "{fts}_{suffix}""#)).await?;
                        }
                        db.execute_unprepared(&format!(r#"DROP TABLE "{fts}""#)).await?;
                    }
                }
            }
        }
        Ok(())
    }
}
