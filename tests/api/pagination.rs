//! Relay pagination, forwards and backwards, and its edges.

use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code};
use crate::on_both_databases;

const PAGE: &str = r#"
query($first: Int, $after: String, $last: Int, $before: String) {
  partners(first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { slug } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"#;

async fn page(app: &TestApp, vars: Value) -> Value {
    app.data(PAGE, vars).await["partners"].clone()
}

fn slugs(page: &Value) -> Vec<String> {
    page["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["node"]["slug"].as_str().map(str::to_owned))
        .collect()
}

async fn all_slugs(app: &TestApp) -> Vec<String> {
    slugs(&page(app, json!({ "first": 100 })).await)
}

on_both_databases! {
    async fn walking_forwards_visits_every_partner_once(app) {
        let all = all_slugs(&app).await;
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let p = page(&app, json!({ "first": 7, "after": after })).await;
            seen.extend(slugs(&p));
            assert_eq!(p["pageInfo"]["hasPreviousPage"], after.is_some());
            if p["pageInfo"]["hasNextPage"] == false {
                break;
            }
            after = p["pageInfo"]["endCursor"].as_str().map(str::to_owned);
        }
        assert_eq!(seen, all);
        assert_eq!(page(&app, json!({})).await["totalCount"].as_u64(), Some(all.len() as u64));
    }

    async fn walking_backwards_visits_every_partner_once(app) {
        let all = all_slugs(&app).await;
        let mut seen: Vec<String> = Vec::new();
        let mut before: Option<String> = None;
        loop {
            let p = page(&app, json!({ "last": 6, "before": before })).await;
            let mut chunk = slugs(&p);
            chunk.extend(seen);
            seen = chunk;
            assert_eq!(p["pageInfo"]["hasNextPage"], before.is_some());
            if p["pageInfo"]["hasPreviousPage"] == false {
                break;
            }
            before = p["pageInfo"]["startCursor"].as_str().map(str::to_owned);
        }
        assert_eq!(seen, all);
    }

    async fn the_last_page_says_nothing_follows(app) {
        let all = all_slugs(&app).await;
        let p = page(&app, json!({ "last": 3 })).await;
        assert_eq!(slugs(&p), all[all.len() - 3..]);
        assert_eq!(p["pageInfo"]["hasPreviousPage"], true);
        assert_eq!(p["pageInfo"]["hasNextPage"], false);
    }

    async fn after_the_last_cursor_comes_an_empty_page(app) {
        let p = page(&app, json!({ "last": 1 })).await;
        let last_cursor = p["pageInfo"]["endCursor"].as_str().map(str::to_owned);
        let empty = page(&app, json!({ "first": 5, "after": last_cursor })).await;
        assert_eq!(slugs(&empty), Vec::<String>::new());
        assert_eq!(empty["pageInfo"]["hasNextPage"], false);
        assert!(empty["pageInfo"]["startCursor"].is_null());
        assert!(empty["pageInfo"]["endCursor"].is_null());
    }

    async fn nested_connections_paginate_per_parent(app) {
        let query = r#"query($after: String) { partner(slug: "united-nations") { children(first: 4, after: $after) {
            edges { cursor node { slug } } pageInfo { hasNextPage endCursor } } } }"#;
        let first = app.data(query, json!({})).await;
        let first = &first["partner"]["children"];
        assert_eq!(first["edges"].as_array().map(Vec::len), Some(4));
        assert_eq!(first["pageInfo"]["hasNextPage"], true);
        let second = app.data(query, json!({ "after": first["pageInfo"]["endCursor"] })).await;
        let second = &second["partner"]["children"];
        let one: Vec<&Value> = first["edges"].as_array().into_iter().flatten().map(|e| &e["node"]["slug"]).collect();
        let two: Vec<&Value> = second["edges"].as_array().into_iter().flatten().map(|e| &e["node"]["slug"]).collect();
        assert!(!two.is_empty());
        assert!(one.iter().all(|s| !two.contains(s)), "pages do not overlap");
    }

    async fn an_invalid_cursor_is_a_clear_error(app) {
        for cursor in ["not-a-cursor", "", "Y3Vyc29yOmlkOm5vcGU", "😀"] {
            let body = app.graphql(PAGE, json!({ "first": 2, "after": cursor })).await;
            assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body:#}");
            assert_eq!(body["errors"][0]["extensions"]["field"], "after");
        }
    }

    async fn page_sizes_outside_one_to_a_hundred_are_refused(app) {
        for (vars, field) in [
            (json!({ "first": 101 }), "first"),
            (json!({ "first": 0 }), "first"),
            (json!({ "first": -1 }), "first"),
            (json!({ "last": 1000000 }), "last"),
        ] {
            let body = app.graphql(PAGE, vars).await;
            assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body:#}");
            assert_eq!(body["errors"][0]["extensions"]["field"], field);
        }
        let body = app.graphql("{ partners { nodes { agreements(first: 500) { totalCount } } } }", json!({})).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
    }

    async fn first_and_last_together_are_refused(app) {
        let body = app.graphql(PAGE, json!({ "first": 2, "last": 2 })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
    }

    async fn the_default_page_holds_twenty(app) {
        let p = page(&app, json!({})).await;
        assert_eq!(slugs(&p).len(), 20);
        assert_eq!(p["pageInfo"]["hasNextPage"], true);
    }
}
