//! Search in both languages, ignoring case and accents, best hits first.

use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code};
use crate::on_both_databases;

const SEARCH: &str = r#"query($q: String!, $first: Int, $after: String, $kinds: [SearchKind!]) {
  search(query: $q, first: $first, after: $after, kinds: $kinds) {
    totalCount
    edges { cursor rank node { __typename ... on Partner { key: slug } ... on Agreement { key: reference } ... on Project { key: code } } }
    pageInfo { hasNextPage endCursor }
  }
}"#;

async fn search(app: &TestApp, q: &str) -> Value {
    app.data(SEARCH, json!({ "q": q, "first": 100 })).await["search"].clone()
}

fn keys(result: &Value) -> Vec<String> {
    result["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["node"]["key"].as_str().map(str::to_owned))
        .collect()
}

on_both_databases! {
    async fn an_acronym_in_either_language_finds_its_partner_first(app) {
        for q in ["onudc", "UNODC", "Onudc"] {
            let result = search(&app, q).await;
            assert_eq!(result["edges"][0]["node"]["key"], "unodc", "{q}");
            assert_eq!(result["edges"][0]["rank"], 0, "an exact acronym ranks first");
        }
    }

    async fn accents_and_case_do_not_matter(app) {
        let a = keys(&search(&app, "securite").await);
        let b = keys(&search(&app, "Sécurité").await);
        let c = keys(&search(&app, "SECURITE").await);
        assert!(!a.is_empty());
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert!(a.contains(&"un-dss".to_owned()), "the UN Department of Safety and Security: {a:?}");
    }

    async fn french_and_english_words_both_find_records(app) {
        assert!(keys(&search(&app, "drogue").await).contains(&"unodc".to_owned()));
        assert!(keys(&search(&app, "drugs").await).contains(&"unodc".to_owned()));
        let french = keys(&search(&app, "Accord de coopération").await);
        assert!(french.contains(&"UN-1996-COOPERATION".to_owned()), "{french:?}");
        let english = keys(&search(&app, "cooperation agreement").await);
        assert!(english.contains(&"UN-1996-COOPERATION".to_owned()), "{english:?}");
    }

    async fn exact_names_rank_before_mere_mentions(app) {
        let result = search(&app, "sharaka").await;
        assert_eq!(result["edges"][0]["node"]["key"], "SHARAKA");
        assert_eq!(result["edges"][0]["rank"], 0);
        let ranks: Vec<i64> = result["edges"].as_array().into_iter().flatten().filter_map(|e| e["rank"].as_i64()).collect();
        assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "best first: {ranks:?}");
        let all = search(&app, "nations").await;
        let ranks: Vec<i64> = all["edges"].as_array().into_iter().flatten().filter_map(|e| e["rank"].as_i64()).collect();
        assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "best first: {ranks:?}");
        assert_eq!(all["totalCount"].as_u64(), Some(ranks.len() as u64));
    }

    async fn every_word_must_match(app) {
        let both = keys(&search(&app, "office drugs").await);
        assert!(both.contains(&"unodc".to_owned()));
        assert!(keys(&search(&app, "office zanzibar").await).is_empty());
    }

    async fn search_pages_through_every_hit_once(app) {
        let all = keys(&search(&app, "nations").await);
        assert!(all.len() > 10);
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = app.data(SEARCH, json!({ "q": "nations", "first": 4, "after": after })).await["search"].clone();
            seen.extend(keys(&page));
            if page["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
        }
        assert_eq!(seen, all);
    }

    async fn search_can_be_limited_to_kinds(app) {
        let result = app.data(SEARCH, json!({ "q": "nations", "first": 100, "kinds": ["PROJECT"] })).await;
        let types: Vec<&str> = result["search"]["edges"].as_array().into_iter().flatten().filter_map(|e| e["node"]["__typename"].as_str()).collect();
        assert!(!types.is_empty());
        assert!(types.iter().all(|t| *t == "Project"));
    }

    async fn bad_queries_are_clear_errors(app) {
        for (q, after) in [("   ", None), ("!!!", None), (&"a ".repeat(11)[..], None), (&"x".repeat(201)[..], None), ("nations", Some("nope"))] {
            let body = app.graphql(SEARCH, json!({ "q": q, "after": after })).await;
            assert_eq!(error_code(&body), "BAD_USER_INPUT", "{q:?}: {body:#}");
        }
        let page = app.data(SEARCH, json!({ "q": "nations", "first": 1 })).await;
        let cursor = page["search"]["pageInfo"]["endCursor"].clone();
        let body = app.graphql(SEARCH, json!({ "q": "office", "after": cursor })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "a cursor of another search");
    }
}
