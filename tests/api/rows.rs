//! Rows are read by position with sqlx's per-cell type check skipped; the
//! statement's column types are checked once instead, at its first row.

use entity::crime_area::Model;
use entity::row::{Checked, Positional, Selected};
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement};

use crate::on_both_databases;

async fn first_row(db: &sea_orm::DatabaseConnection, sql: &str) -> QueryResult {
    let statement = Statement::from_string(db.get_database_backend(), sql);
    db.query_one_raw(statement).await.expect("the statement runs").expect("a row")
}

on_both_databases! {
    async fn a_column_of_another_type_than_its_field_fails_the_read(app) {
        let all = Selected::of::<Model>(u64::MAX);
        let columns = Model::NAMES.join(", ");
        let row = first_row(&app.db, &format!("SELECT {columns} FROM crime_area ORDER BY id LIMIT 1")).await;
        let checked = Checked::<Model>::of(&row, all, 0).expect("the table's own columns");
        let area = checked.read(&row).expect("a crime area");
        assert!(area.id > 0 && !area.slug.is_empty(), "{area:?}");

        // A float8 is 8 bytes too: read unchecked, its bits would have
        // made an id.
        let others = Model::NAMES[1..].join(", ");
        let sql = format!("SELECT CAST(id AS DOUBLE PRECISION) AS id, {others} FROM crime_area ORDER BY id LIMIT 1");
        let row = first_row(&app.db, &sql).await;
        if app.db.get_database_backend() == DbBackend::Postgres {
            let refused = Checked::<Model>::of(&row, all, 0).err().expect("a float column is not an id");
            assert!(refused.to_string().contains("column 0 (`id`) is FLOAT8"), "{refused}");
            // The keys after the model's columns are checked as well.
            let row = first_row(&app.db, &format!("SELECT {columns}, 'x' AS __parent FROM crime_area LIMIT 1")).await;
            let refused = Checked::<Model>::of(&row, all, 1).err().expect("a text key");
            assert!(refused.to_string().contains("`__parent`"), "{refused}");
        }
    }
}
