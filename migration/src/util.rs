//! Column and constraint shapes every migration repeats.

use sea_orm_migration::{prelude::*, schema::*};

/// `id`, then the caller's columns, then `created_at` / `updated_at`.
pub fn table(name: &'static str) -> TableCreateStatement {
    Table::create().table(name).col(big_pk_auto("id")).take()
}

/// The timestamps every table carries; the application sets them.
pub fn timestamps(t: &mut TableCreateStatement) -> &mut TableCreateStatement {
    t.col(timestamp_with_time_zone("created_at")).col(timestamp_with_time_zone("updated_at"))
}

/// Optimistic-concurrency counter of the four main tables.
pub fn version() -> ColumnDef {
    integer("version").default(1).take()
}

/// A foreign key `table.column -> target.id`, named after the column.
pub fn fk(table: &'static str, column: &'static str, target: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table, column)
        .to(target, "id")
        .on_delete(ForeignKeyAction::Restrict)
        .on_update(ForeignKeyAction::Cascade)
        .take()
}

/// The index every foreign key gets, so joins and cascades never scan.
pub async fn index(manager: &SchemaManager<'_>, table: &'static str, column: &'static str) -> Result<(), DbErr> {
    manager
        .create_index(Index::create().name(format!("idx_{table}_{column}")).table(table).col(column).to_owned())
        .await
}

/// Drops tables in the given order (dependents first).
pub async fn drop_tables(manager: &SchemaManager<'_>, tables: &[&'static str]) -> Result<(), DbErr> {
    for table in tables {
        manager.drop_table(Table::drop().table(*table).to_owned()).await?;
    }
    Ok(())
}

/// The normalised sort and search keys of a named table (see `entity::search`).
pub fn search_columns(t: &mut TableCreateStatement, sort_keys: [&'static str; 2]) {
    for key in sort_keys {
        t.col(text(key).default(""));
    }
    t.col(text("search_names").default("")).col(text("search_text").default(""));
}

/// Indexes on the columns lists are ordered by, so a sorted page is an index walk.
pub async fn sort_indexes(
    manager: &SchemaManager<'_>,
    table: &'static str,
    columns: &[&'static str],
) -> Result<(), DbErr> {
    for column in columns {
        index(manager, table, column).await?;
    }
    Ok(())
}
