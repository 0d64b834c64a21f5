//! Migrations go down and up again without losing their way.

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Statement};

use crate::on_both_databases;

async fn tables(db: &sea_orm::DatabaseConnection) -> Vec<String> {
    let sql = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"
        }
        _ => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1",
    };
    let rows =
        db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await.expect("tables are listed");
    rows.iter().filter_map(|r| r.try_get::<String>("", "name").ok()).collect()
}

on_both_databases! {
    async fn down_then_up_round_trips(app) {
        let migrated = tables(&app.db).await;
        for table in ["partner", "agreement", "project", "funding", "crime_area", "policing_goal", "partner_crime_area",
                      "project_crime_area", "project_policing_goal", "project_country", "change_log", "api_token"] {
            assert!(migrated.contains(&table.to_owned()), "{table} exists: {migrated:?}");
        }
        let applied = Migrator::get_applied_migrations(&app.db).await.expect("status").len();
        assert_eq!(applied, Migrator::migrations().len());

        Migrator::down(&app.db, None).await.expect("down");
        assert_eq!(tables(&app.db).await, ["seaql_migrations"]);
        assert!(Migrator::get_applied_migrations(&app.db).await.expect("status").is_empty());

        Migrator::up(&app.db, None).await.expect("up");
        assert_eq!(tables(&app.db).await, migrated);
        let counts = partnership_registry::seed::dataset::load(&app.db).await.expect("the dataset loads again");
        assert!(counts.partners >= 24);
    }

    async fn every_foreign_key_has_an_index(app) {
        let sql = match app.backend {
            crate::helpers::Backend::Postgres => "SELECT indexname AS name FROM pg_indexes WHERE schemaname = 'public'",
            crate::helpers::Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'index'",
        };
        let rows = app.db.query_all_raw(Statement::from_string(app.db.get_database_backend(), sql)).await.expect("indexes");
        let indexes: Vec<String> = rows.iter().filter_map(|r| r.try_get::<String>("", "name").ok()).collect();
        for index in ["idx_partner_parent_id", "idx_agreement_partner_id", "idx_project_agreement_id", "idx_funding_project_id",
                      "idx_funding_funder_id", "idx_partner_crime_area_crime_area_id", "idx_project_crime_area_crime_area_id",
                      "idx_project_policing_goal_policing_goal_id"] {
            assert!(indexes.contains(&index.to_owned()), "{index} is missing from {indexes:?}");
        }
    }
}
