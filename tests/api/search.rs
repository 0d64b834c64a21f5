//! Search in both languages, ignoring case and accents, best hits first.

use entity::search::Searchable;
use entity::search::normalize;
use entity::{agreement, partner, project};
use partnership_registry::seed::synthetic::{self, Shape};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IdenStatic, Statement, TransactionTrait,
};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, error_code};
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

    async fn a_fragment_on_one_kind_leaves_the_other_hits_empty_not_null(app) {
        let data = app
            .data(
                r#"{ kinds: search(query: "security", first: 30) { nodes { __typename } }
                     hits: search(query: "security", first: 30) { nodes { ... on Partner { slug } } } }"#,
                json!({}),
            )
            .await;
        let kinds: Vec<&str> =
            data["kinds"]["nodes"].as_array().into_iter().flatten().filter_map(|n| n["__typename"].as_str()).collect();
        let hits = data["hits"]["nodes"].as_array().cloned().unwrap_or_default();
        assert_eq!(kinds.len(), hits.len(), "{data:#}");
        assert!(kinds.contains(&"Partner") && kinds.iter().any(|k| *k != "Partner"), "both kinds among {kinds:?}");
        for (kind, hit) in kinds.iter().zip(&hits) {
            if *kind == "Partner" {
                assert!(hit["slug"].is_string(), "{hit}");
            } else {
                assert_eq!(hit, &json!({}), "a {kind} selects nothing");
            }
        }
        // The same of a node.
        let id = app.partner_id("unodc").await;
        let query = "query($id: ID!) { node(id: $id) { ... on Project { code } } }";
        assert_eq!(app.data(query, json!({ "id": id })).await, json!({ "node": {} }));
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
    async fn every_search_walks_the_hits_a_plain_scan_finds_in_rank_order(app) {
        let shape = Shape { agreements_per_partner: 4, projects_per_agreement: 3, fundings_per_project: 1, ..Shape::with_partners(3) };
        synthetic::load(&app.db, shape, 5, |_| {}).await.expect("synthetic data");
        // Words the indexes serve (three letters or more), words too short
        // for a trigram, names met exactly, as a prefix and inside, and
        // phrases that match nothing.
        let queries = [
            "nations", "Nations Unies", "un", "UN police", "onudc", "sécurité", "sp2", "synthetic partner",
            "synthetic project 7", "projet synthetique", "s5 prj", "cooperation agreement", "of", "zanzibar",
            "office zanzibar", "border security", "la",
        ];
        for query in queries {
            let expected = expected_hits(&app.db, query).await;
            for first in [3, 100] {
                let (walked, total) = walked_hits(&app, query, first).await;
                assert_eq!(walked, expected, "{query:?}, {first} a page");
                assert_eq!(total, expected.len() as i64, "{query:?}: totalCount");
            }
        }

        // Rows written, renamed and deleted are found, found anew and gone:
        // the indexes follow every write.
        let model = partner::Entity::find().one(&app.db).await.expect("a partner").expect("a partner");
        let added = partner::ActiveModel {
            id: NotSet,
            slug: Set("harbour-watch".into()),
            name_en: Set("Zanzibar Harbour Watch".into()),
            ..model.into()
        }
        .insert(&app.db)
        .await
        .expect("a new partner");
        let renamed = partner::ActiveModel { name_en: Set("Pemba Harbour Watch".into()), ..added.clone().into() };
        let steps: [(&str, &[&str]); 3] =
            [("added", &["zanzibar", "harbour watch"]), ("renamed", &["zanzibar", "pemba", "harbour"]), ("deleted", &["pemba", "harbour"])];
        for (step, queries) in steps {
            match step {
                "renamed" => drop(renamed.clone().update(&app.db).await.expect("renamed")),
                "deleted" => drop(partner::Entity::delete_by_id(added.id).exec(&app.db).await.expect("deleted")),
                _ => {}
            }
            for query in queries {
                let expected = expected_hits(&app.db, query).await;
                assert_eq!(walked_hits(&app, query, 3).await.0, expected, "{step}: {query:?}");
                let found = !matches!((step, *query), ("renamed", "zanzibar") | ("deleted", _));
                assert_eq!(expected.iter().any(|(key, _)| key == "harbour-watch"), found, "{step}: {query:?}");
            }
        }
    }
    async fn search_keys_are_read_through_their_indexes(app) {
        let statements = [
            plans_of::<partner::Entity>(app.backend),
            plans_of::<agreement::Entity>(app.backend),
            plans_of::<project::Entity>(app.backend),
        ];
        for sql in statements.into_iter().flatten() {
            let plan = plan(&app, sql.clone()).await;
            match app.backend {
                Backend::Postgres => {
                    assert!(plan.contains("Bitmap Index Scan"), "{sql}:\n{plan}");
                    assert!(!plan.contains("Seq Scan"), "{sql}:\n{plan}");
                }
                // The FTS5 table answers the patterns and returns rows in id order.
                Backend::Sqlite => {
                    assert!(plan.contains("VIRTUAL TABLE INDEX"), "{sql}:\n{plan}");
                    assert!(!plan.contains("TEMP B-TREE"), "{sql}:\n{plan}");
                }
            }
        }
    }
}

/// Every hit of `query`, best first, as `search` defines them, computed
/// here from the stored keys without SQL: each word occurs in the text;
/// rank 0 when the phrase is a whole name, 1 when a name starts with it,
/// 2 when a name contains it, 3 otherwise; ties by kind, then id.
async fn expected_hits(db: &DatabaseConnection, query: &str) -> Vec<(String, i64)> {
    let phrase = normalize(query);
    let words: Vec<&str> = phrase.split(' ').collect();
    let rank = |names: &str| {
        if names.contains(&format!("|{phrase}|")) {
            0
        } else if names.contains(&format!("|{phrase}")) {
            1
        } else if names.contains(&phrase) {
            2
        } else {
            3
        }
    };
    let mut hits = Vec::new();
    let mut add = |kind: i64, id: i64, key: String, names: &str, text: &str| {
        if words.iter().all(|w| text.contains(w)) {
            hits.push((rank(names), kind, id, key));
        }
    };
    for p in partner::Entity::find().all(db).await.expect("partners") {
        add(1, p.id, p.slug, &p.search_names, &p.search_text);
    }
    for a in agreement::Entity::find().all(db).await.expect("agreements") {
        add(2, a.id, a.reference, &a.search_names, &a.search_text);
    }
    for p in project::Entity::find().all(db).await.expect("projects") {
        add(3, p.id, p.code, &p.search_names, &p.search_text);
    }
    hits.sort();
    hits.into_iter().map(|(rank, _, _, key)| (key, rank)).collect()
}

/// Every hit of `query`, walked page by page with cursors.
async fn walked_hits(app: &TestApp, query: &str, first: i64) -> (Vec<(String, i64)>, i64) {
    let mut hits = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = app.data(SEARCH, json!({ "q": query, "first": first, "after": after })).await["search"].clone();
        for edge in page["edges"].as_array().into_iter().flatten() {
            let key = edge["node"]["key"].as_str().unwrap_or_default().to_owned();
            hits.push((key, edge["rank"].as_i64().unwrap_or(-1)));
        }
        if page["pageInfo"]["hasNextPage"] != true {
            return (hits, page["totalCount"].as_i64().unwrap_or(-1));
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
}

/// The statement shapes a page of hits reads with: a phrase among the
/// names, or the words in the text, then id order.
fn plans_of<E: Searchable>(backend: Backend) -> Vec<String> {
    let (names, text) = (E::NAMES.as_str(), E::TEXT.as_str());
    let (phrase, words) = ("'%|border security|%'", ["'%border%'", "'%security%'"]);
    match backend {
        Backend::Postgres => {
            let (table, id) = (E::default().table_name(), E::ID.as_str());
            vec![
                format!(
                    r#"EXPLAIN SELECT "{id}" FROM "{table}" WHERE "{names}" LIKE {phrase} ORDER BY "{id}" LIMIT 21"#
                ),
                format!(
                    r#"EXPLAIN SELECT "{id}" FROM "{table}" WHERE "{text}" LIKE {} AND "{text}" LIKE {} ORDER BY "{id}" LIMIT 21"#,
                    words[0], words[1]
                ),
            ]
        }
        Backend::Sqlite => {
            let (names_index, text_index) = E::SQLITE_INDEXES;
            vec![
                format!(
                    r#"EXPLAIN QUERY PLAN SELECT rowid FROM "{names_index}" WHERE "{names}" LIKE {phrase} ORDER BY rowid LIMIT 21"#
                ),
                format!(
                    r#"EXPLAIN QUERY PLAN SELECT rowid FROM "{text_index}" WHERE "{text}" LIKE {} AND "{text}" LIKE {} ORDER BY rowid LIMIT 21"#,
                    words[0], words[1]
                ),
            ]
        }
    }
}

async fn plan(app: &TestApp, sql: String) -> String {
    let backend = app.db.get_database_backend();
    // One transaction, so the settings hold for the statement explained.
    let txn = app.db.begin().await.expect("a transaction");
    if app.backend == Backend::Postgres {
        // Only the trigram indexes can serve the patterns: with plain scans
        // and primary-key walks ruled out, a plan without them would scan.
        for setting in ["SET LOCAL enable_seqscan = off", "SET LOCAL enable_indexscan = off"] {
            txn.execute_unprepared(setting).await.expect(setting);
        }
    }
    let rows = txn.query_all_raw(Statement::from_string(backend, sql)).await.expect("plan");
    rows.iter()
        .map(|row| match app.backend {
            Backend::Postgres => row.try_get::<String>("", "QUERY PLAN").expect("plan line"),
            Backend::Sqlite => row.try_get::<String>("", "detail").expect("plan line"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}
