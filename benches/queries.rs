//! Q1 (the nested walk), a page of search hits and a filtered search with
//! its total, run through the schema in-process on a synthetic set, on
//! SQLite and on PostgreSQL. By default the 2,000-partner set (2,000
//! partners, 20,000 agreements, 100,000 projects, 400,000 fundings);
//! BENCH_PARTNERS=10000 takes five times that. The sets are built once and
//! kept: `target/bench-registry.db` and the PostgreSQL database `pr_bench`
//! (`…-10000.db` and `pr_bench_10000` for other sizes; BENCH_POSTGRES_URL
//! overrides the database).
//!
//!     cargo bench --bench queries
//!     BENCH_BACKENDS=postgres cargo bench --bench queries   # one backend only

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use migration::{Migrator, MigratorTrait};
use partnership_registry::auth::Caller;
use partnership_registry::events::EventBus;
use partnership_registry::graphql::{Asker, Executor, ExecutorOptions, ReadFrom, Registry, lang::Lang};
use partnership_registry::seed::{self, synthetic};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

pub const Q1: &str = "{ partners(first: 50) { nodes { agreements(first: 10) { nodes { projects(first: 5) { nodes {
    fundings(first: 4) { nodes { amount { amount currency } funder { name } } } } } } } } } }";

/// A page of hits for two words, as a type-ahead asks for it.
pub const SEARCH_PAGE: &str = include_str!("../scripts/load/search.graphql");

/// Only projects, with their total (which counts every hit) and fundings.
pub const SEARCH: &str = r#"{ search(query: "border security", kinds: [PROJECT], first: 20) {
    totalCount edges { rank node { ... on Project { code name fundings(first: 4) { nodes { amount { amount } } } } } } } }"#;

/// The synthetic set's size in partners (BENCH_PARTNERS, 2,000 by default).
fn partners() -> usize {
    std::env::var("BENCH_PARTNERS").ok().and_then(|n| n.parse().ok()).unwrap_or(2_000)
}

// The server's allocator, configured as the server configures it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

async fn database(url: &str) -> DatabaseConnection {
    let db = partnership_registry::db::connect(url, 8).await.expect("the benchmark database is reachable");
    Migrator::up(&db, None).await.expect("migrations apply");
    if seed::is_empty(&db).await.expect("the registry can be read") {
        eprintln!("building the {}-partner synthetic set in {url} (once)…", partners());
        synthetic::load(&db, synthetic::Shape::with_partners(partners()), 1, |_| {})
            .await
            .expect("synthetic data loads");
        seed::after_bulk_load(&db).await.expect("statistics are refreshed");
    }
    db
}

async fn postgres() -> DatabaseConnection {
    let url = std::env::var("BENCH_POSTGRES_URL").unwrap_or_else(|_| match partners() {
        2_000 => "postgres://postgres@127.0.0.1:5432/pr_bench".to_owned(),
        n => format!("postgres://postgres@127.0.0.1:5432/pr_bench_{n}"),
    });
    if let Some((server, name)) = url.rsplit_once('/') {
        let admin = Database::connect(format!("{server}/postgres")).await.expect("PostgreSQL is reachable");
        let exists = admin
            .query_one_raw(sea_orm::Statement::from_string(
                admin.get_database_backend(),
                format!("SELECT 1 AS one FROM pg_database WHERE datname = '{name}'"),
            ))
            .await
            .expect("pg_database can be read");
        if exists.is_none() {
            admin.execute_unprepared(&format!(r#"CREATE DATABASE "{name}""#)).await.expect("the database is created");
        }
    }
    database(&url).await
}

fn bench(c: &mut Criterion) {
    partnership_registry::allocator::return_freed_memory_promptly();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let sqlite_path = match partners() {
        2_000 => concat!(env!("CARGO_MANIFEST_DIR"), "/target/bench-registry.db").to_owned(),
        n => format!("{}/target/bench-registry-{n}.db", env!("CARGO_MANIFEST_DIR")),
    };
    // BENCH_BACKENDS=postgres (or sqlite) runs one backend only, e.g. under a profiler.
    let only = std::env::var("BENCH_BACKENDS").ok();
    let wanted = |backend: &str| only.as_deref().is_none_or(|list| list.split(',').any(|b| b.trim() == backend));
    let mut backends = Vec::new();
    if wanted("sqlite") {
        backends.push(("sqlite", rt.block_on(database(&format!("sqlite://{sqlite_path}")))));
    }
    if wanted("postgres") {
        backends.push(("postgres", rt.block_on(postgres())));
    }
    let mut group = c.benchmark_group("queries");
    group.sample_size(20).measurement_time(Duration::from_secs(10));
    let asker = Asker { caller: Caller::Anonymous, lang: Lang::En, read_from: ReadFrom::Replicas };
    for (backend, db) in &backends {
        let registry = Registry {
            db: db.clone(),
            replicas: None,
            events: EventBus::new(db.get_database_backend()),
            metrics: None,
        };
        let executor = Executor::new(registry, ExecutorOptions::default());
        for (name, query) in [("q1_nested", Q1), ("search_page", SEARCH_PAGE), ("search_filtered", SEARCH)] {
            let check = rt.block_on(executor.execute(asker.clone(), query.into()));
            assert!(check.errors().is_empty(), "{name} on {backend}: {:?}", check.errors());
            group.bench_function(format!("{name}/{backend}"), |b| {
                b.to_async(&rt).iter(|| async { executor.execute(asker.clone(), query.into()).await.to_json() })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
