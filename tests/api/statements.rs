//! A nested query costs one statement per level, exactly, whatever the page
//! sizes, the data size or the load.

use futures_util::future::join_all;
use partnership_registry::seed::synthetic::{self, Shape};
use serde_json::{Value, json};

use crate::helpers::{TestApp, statements};
use crate::on_both_databases;

const NESTED: &str = r#"
query Nested($p: Int, $last: Int, $a: Int!, $j: Int!, $f: Int!) {
  partners(first: $p, last: $last) { nodes { name
    agreements(first: $a) { nodes { title
      projects(first: $j) { nodes { name
        fundings(first: $f) { nodes { amount { amount currency } funder { name } } }
      } }
    } }
  } }
}"#;

fn sizes(p: i64, a: i64, j: i64, f: i64) -> Value {
    json!({ "p": p, "a": a, "j": j, "f": f })
}

/// Page sizes for the last `last` partners (after synthetic growth, all of them full at every level).
fn tail(last: i64, a: i64, j: i64, f: i64) -> Value {
    json!({ "last": last, "a": a, "j": j, "f": f })
}

async fn nested(app: &TestApp, vars: Value) -> Value {
    let body = app.graphql(NESTED, vars).await;
    assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
    body
}

/// How many fundings (with a funder) the response holds: proof the levels were not empty.
fn fundings_in(body: &Value) -> usize {
    let mut n = 0;
    for p in body["data"]["partners"]["nodes"].as_array().into_iter().flatten() {
        for a in p["agreements"]["nodes"].as_array().into_iter().flatten() {
            for j in a["projects"]["nodes"].as_array().into_iter().flatten() {
                for f in j["fundings"]["nodes"].as_array().into_iter().flatten() {
                    assert!(f["funder"]["name"].is_string());
                    n += 1;
                }
            }
        }
    }
    n
}

on_both_databases! {
    async fn the_nested_query_costs_five_statements_every_time(app) {
        for _ in 0..5 {
            let before = app.pool_statements.load(std::sync::atomic::Ordering::Relaxed);
            let body = nested(&app, sizes(50, 10, 5, 4)).await;
            assert!(fundings_in(&body) > 0, "the real dataset has fundings under the first partners");
            assert_eq!(statements(&body), 5);
            let after = app.pool_statements.load(std::sync::atomic::Ordering::Relaxed);
            assert_eq!(after - before, 5, "the pool ran exactly the statements the request reported");
        }
    }

    async fn concurrent_requests_each_cost_five_statements(app) {
        let before = app.pool_statements.load(std::sync::atomic::Ordering::Relaxed);
        let bodies = join_all((0..12).map(|_| nested(&app, sizes(50, 10, 5, 4)))).await;
        for body in &bodies {
            assert_eq!(statements(body), 5);
        }
        let after = app.pool_statements.load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(after - before, 5 * 12);
    }

    async fn an_empty_level_costs_nothing(app) {
        // The first agreement of the United Nations (1996) runs no project.
        let body = nested(&app, sizes(1, 1, 1, 1)).await;
        assert_eq!(body["data"]["partners"]["nodes"][0]["agreements"]["nodes"][0]["projects"]["nodes"], json!([]));
        assert_eq!(fundings_in(&body), 0);
        assert_eq!(statements(&body), 3, "no fundings or funders statement below an empty projects level");
    }

    async fn total_counts_cost_one_grouped_statement_per_level(app) {
        let body = app
            .graphql(
                "{ partners(first: 50) { totalCount nodes { agreements(first: 2) { totalCount nodes { projects { totalCount } } } } } }",
                json!({}),
            )
            .await;
        assert!(body.get("errors").is_none(), "{body:#}");
        // partners page + partners count + agreements page + agreements counts + projects counts.
        assert_eq!(statements(&body), 5);
    }

    async fn to_one_lookups_cost_one_statement_for_the_whole_level(app) {
        let body = app
            .graphql(
                "{ fundings(first: 100) { nodes { funder { name } project { code agreement { reference partner { slug } } } } } }",
                json!({}),
            )
            .await;
        assert!(body.get("errors").is_none(), "{body:#}");
        // fundings, funders, projects, agreements, partners.
        assert_eq!(statements(&body), 5);
        let body = app.graphql("{ partners(first: 100) { nodes { parent { slug parent { slug } } } } }", json!({})).await;
        assert!(body.get("errors").is_none(), "{body:#}");
        // partners, their parents, the parents' parents (the United Nations).
        assert_eq!(statements(&body), 3);
    }
}

/// The largest pages at every level cost far more than the default cost
/// limit allows; it is lifted here, since what is measured is the statement
/// count of such a query, not whether it may run.
mod largest_pages {
    use partnership_registry::limits::Limits;
    use partnership_registry::options::ServerOptions;

    use super::*;
    use crate::helpers::{Backend, spawn_app_with};

    async fn app(backend: Backend) -> TestApp {
        // Documents far costlier than any default allows: no cost limit, no budget.
        let limits = Limits { max_cost: u64::MAX, ..Limits::default() };
        spawn_app_with(backend, ServerOptions { limits, budget_per_address: 0, ..crate::helpers::options() }).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_sqlite_the_count_does_not_depend_on_page_sizes_or_data_size() {
        the_count_does_not_depend_on_page_sizes_or_data_size(app(Backend::Sqlite).await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres_the_count_does_not_depend_on_page_sizes_or_data_size() {
        the_count_does_not_depend_on_page_sizes_or_data_size(app(Backend::Postgres).await).await;
    }
}

async fn the_count_does_not_depend_on_page_sizes_or_data_size(app: TestApp) {
    for vars in [sizes(50, 10, 5, 4), sizes(100, 100, 100, 100)] {
        let body = nested(&app, vars).await;
        assert!(fundings_in(&body) > 0);
        assert_eq!(statements(&body), 5);
    }
    // Grow the registry a hundredfold: 60 partners, 600 agreements, 3,000 projects, 12,000 fundings.
    synthetic::load(&app.db, Shape::with_partners(60), 7, |_| {}).await.expect("synthetic data loads");
    for (vars, fundings) in [
        (tail(1, 1, 1, 1), 1),
        (tail(3, 2, 2, 2), 3 * 2 * 2 * 2),
        (tail(50, 10, 5, 4), 50 * 10 * 5 * 4),
        (tail(60, 100, 100, 100), 60 * 10 * 5 * 4),
    ] {
        let body = nested(&app, vars).await;
        assert_eq!(fundings_in(&body), fundings, "every level of the synthetic tail is full");
        assert_eq!(statements(&body), 5);
    }
    for vars in [sizes(50, 10, 5, 4), sizes(100, 100, 100, 100)] {
        assert_eq!(statements(&nested(&app, vars).await), 5);
    }
}
