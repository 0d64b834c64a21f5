//! Objects are written as JSON where they resolve, unless the document
//! names a response key twice, when they are gathered into maps and merged.
//! Either way the answer is the same.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::ServerResult;
use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo};
use partnership_registry::graphql::{ExecutorOptions, SharedExtension};
use serde_json::{Value, json};

use partnership_registry::auth::Role;

use crate::helpers::{TestApp, error_code};
use crate::mutations::partner_input;
use crate::on_both_databases;

const FIELDS: &str = "slug name(lang: FR) acronym kind agreements(first: 8) { totalCount nodes { reference signedOn \
                      projects(first: 8) { nodes { code fundings(first: 8) { nodes { amount { amount currency } funder { slug } } } } } } }";

/// The body as sent, for what parsing would hide: key order.
async fn raw_body(app: &TestApp, query: &str) -> String {
    let response =
        app.client.post(app.url("/graphql")).json(&json!({ "query": query })).send().await.expect("the server answers");
    response.text().await.expect("a text body")
}

fn fundings(data: &Value) -> usize {
    let mut count = 0;
    for partner in data["partners"]["nodes"].as_array().expect("partners") {
        for agreement in partner["agreements"]["nodes"].as_array().expect("agreements") {
            for project in agreement["projects"]["nodes"].as_array().expect("projects") {
                let fundings = project["fundings"]["nodes"].as_array().expect("fundings");
                count += fundings.iter().filter(|f| f["funder"]["slug"].is_string()).count();
            }
        }
    }
    count
}

on_both_databases! {
    async fn an_installed_extension_sees_every_field_resolve(app) {
        let resolved = Arc::new(AtomicUsize::new(0));
        let extension: SharedExtension = Arc::new(CountFields(resolved.clone()));
        let mut options = crate::helpers::options();
        options.executor = ExecutorOptions { fast_path: true, extensions: vec![extension] };
        let traced = app.replica_with(options).await;
        let query = format!("{{ partners(first: 25) {{ totalCount nodes {{ {FIELDS} }} }} }}");
        let data = traced.data(&query, json!({})).await;
        assert!(fundings(&data) > 0, "the answer has nested lists and to-one objects");
        // The fast path would resolve list items and to-one objects out of the
        // extension's sight; with one installed, it steps aside.
        assert_eq!(resolved.load(Ordering::Relaxed), resolutions(&data), "every field and item resolved before the extension");
        assert_eq!(data, app.data(&query, json!({})).await, "the same answer as without the extension");
    }

    async fn written_objects_and_merged_maps_give_the_same_answer(app) {
        let written = app.data(&format!("{{ partners(first: 25) {{ totalCount nodes {{ {FIELDS} }} }} }}"), json!({})).await;
        // The fragment names every key a second time: this request merges maps.
        let merged_query = format!("{{ partners(first: 25) {{ totalCount nodes {{ {FIELDS} ...F }} }} }} fragment F on Partner {{ {FIELDS} }}");
        let merged = app.data(&merged_query, json!({})).await;
        assert_eq!(written, merged);
        let total = written["partners"]["totalCount"].as_u64().expect("a count");
        assert!(total > 10, "{written:#}");
        assert_eq!(written["partners"]["nodes"].as_array().map(|n| n.len() as u64), Some(total.min(25)));
        assert!(fundings(&written) > 0, "the real dataset has fundings down this walk: {written:#}");
    }

    async fn written_objects_keep_the_order_of_the_document(app) {
        for (query, keys) in [
            (r#"{ partner(slug: "unodc") { name(lang: FR) slug acronym } }"#, ["\"name\"", "\"slug\"", "\"acronym\""]),
            (r#"{ partner(slug: "unodc") { acronym name(lang: FR) slug } }"#, ["\"acronym\"", "\"name\"", "\"slug\""]),
            (r#"{ partners(first: 1) { nodes { kind slug __typename } } }"#, ["\"kind\"", "\"slug\"", "\"__typename\""]),
        ] {
            let body = raw_body(&app, query).await;
            let at: Vec<usize> = keys.iter().map(|k| body.find(k).unwrap_or_else(|| panic!("{k} in {body}"))).collect();
            assert!(at.windows(2).all(|w| w[0] < w[1]), "{query}: {body}");
            let parsed: Value = serde_json::from_str(&body).expect("the body is JSON");
            assert!(parsed.get("errors").is_none(), "{body}");
        }
        // Text in French goes out as UTF-8, escaped only where JSON needs it.
        let body = raw_body(&app, r#"{ partner(slug: "unodc") { name(lang: FR) } }"#).await;
        let parsed: Value = serde_json::from_str(&body).expect("the body is JSON");
        let name = parsed["data"]["partner"]["name"].as_str().expect("a name");
        assert!(body.contains(&serde_json::to_string(name).expect("a string")), "{body}");
    }

    async fn root_fields_keep_the_order_of_the_document(app) {
        // Root fields resolve side by side; `__typename` is ready at once,
        // the others after their statements, yet each answer lists its keys
        // as the document does: each at its first field not skipped,
        // fragments read in place, a fragment spread twice counted once.
        let query = r#"query($no: Boolean!) {
            k_late: partners(first: 1) @include(if: $no) { totalCount }
            k_partners: partners(first: 3) { totalCount }
            ...Middle
            k_typename: __typename
            ... on Query { k_inline: partner(slug: "unodc") { slug } }
            k_skipped: __typename @skip(if: true)
            ...Middle
            k_late: partners(first: 1) { totalCount }
        }
        fragment Middle on Query { k_search: search(query: "security", first: 1) { totalCount } k_partners: partners(first: 3) { totalCount } }"#;
        let expected = ["k_partners", "k_search", "k_typename", "k_inline", "k_late"];
        for _ in 0..10 {
            let response = app
                .client
                .post(app.url("/graphql"))
                .json(&json!({ "query": query, "variables": { "no": false } }))
                .send()
                .await
                .expect("the server answers");
            let body = response.text().await.expect("a text body");
            let parsed: Value = serde_json::from_str(&body).expect("the body is JSON");
            assert!(parsed.get("errors").is_none(), "{body}");
            let keys = parsed["data"].as_object().map(|data| data.len());
            assert_eq!(keys, Some(expected.len()), "{body}");
            let at: Vec<usize> = expected
                .iter()
                .map(|key| body.find(&format!("\"{key}\":")).unwrap_or_else(|| panic!("{key} in {body}")))
                .collect();
            assert!(at.windows(2).all(|w| w[0] < w[1]), "keys in the document's order {expected:?}: {body}");
        }
    }

    async fn a_variable_left_out_takes_its_default_in_skip_and_include(app) {
        let query = "query($all: Boolean = true, $none: Boolean = false) { partners(first: 1) {
            a: totalCount @include(if: $all) b: totalCount @skip(if: $all) c: totalCount @include(if: $none) } }";
        let keys = |data: &Value| data["partners"].as_object().map(|o| o.keys().cloned().collect::<Vec<_>>());
        let data = app.data(query, json!({})).await;
        assert_eq!(keys(&data), Some(vec!["a".to_owned()]), "{data:#}");
        let data = app.data(query, json!({ "all": false, "none": true })).await;
        assert_eq!(keys(&data), Some(vec!["b".to_owned(), "c".to_owned()]), "{data:#}");
    }

    async fn a_key_of_the_document_is_never_taken_for_the_placeholder(app) {
        // The key added where a selection could select nothing is one the
        // document uses nowhere, so a client's own key of that shape stays.
        let query = r#"{ __placeholder0: __typename partners(first: 1) { __placeholder1: totalCount
            nodes { slug @skip(if: true) } } }"#;
        let data = app.data(query, json!({})).await;
        assert_eq!(data["__placeholder0"], "Query", "{data:#}");
        assert!(data["partners"]["__placeholder1"].is_number(), "{data:#}");
        assert_eq!(data["partners"]["nodes"], json!([{}]), "{data:#}");
    }

    async fn a_failed_mutation_field_is_null_and_the_writes_before_it_stay_in_the_answer(app) {
        // The second partner repeats the first's slug: refused, while the
        // first is made. `data: null` would hide it.
        let editor = app.token(Role::Editor).await;
        let query = "mutation($a: CreatePartnerInput!, $b: CreatePartnerInput!) {
            a: createPartner(input: $a) { slug } b: createPartner(input: $b) { slug } }";
        let input = partner_input("made-once");
        let body = app.graphql_as(&editor, query, json!({ "a": input, "b": input })).await;
        assert!(body["errors"].as_array().is_some_and(|e| e.len() == 1), "{body:#}");
        assert_eq!(body["data"]["a"]["slug"], "made-once", "{body:#}");
        assert!(body["data"].get("b").is_some_and(Value::is_null), "{body:#}");
    }

    async fn a_failed_field_is_null_and_its_null_climbs_to_a_place_that_may_hold_it(app) {
        // `agreements` is a non-null connection in a list of non-null
        // partners, under a non-null root field: its error takes `data`.
        let body = app.graphql(r#"{ partners(first: 2) { nodes { slug agreements(first: 1, after: "bogus") { totalCount } kind } } }"#, json!({})).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body:#}");
        assert_eq!(body["data"], Value::Null, "{body:#}");
        for i in 0..2 {
            assert_eq!(body["errors"][i]["path"], json!(["partners", "nodes", i, "agreements"]), "{body:#}");
        }
        // A nullable root field takes the null; its neighbours keep their values.
        let body = app
            .graphql(r#"{ a: partner(slug: "unodc") { slug agreements(first: 1, after: "bogus") { totalCount } } b: partners(first: 1) { totalCount } }"#, json!({}))
            .await;
        assert_eq!(body["data"]["a"], Value::Null, "{body:#}");
        assert!(body["data"]["b"]["totalCount"].is_number(), "{body:#}");
        // A nullable field that fails is null in its place, its key there.
        let body = app.graphql(r#"{ n: node(id: "bogus") { id } partners(first: 1) { totalCount } }"#, json!({})).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body:#}");
        assert_eq!(body["data"].as_object().map(|d| d.keys().cloned().collect::<Vec<_>>()), Some(vec!["n".to_owned(), "partners".to_owned()]), "{body:#}");
        assert_eq!(body["data"]["n"], Value::Null, "{body:#}");
    }
}

/// A schema extension that counts the fields it sees resolve.
struct CountFields(Arc<AtomicUsize>);

impl ExtensionFactory for CountFields {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(CountFields(self.0.clone()))
    }
}

#[async_trait::async_trait]
impl Extension for CountFields {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<async_graphql::Value>> {
        self.0.fetch_add(1, Ordering::Relaxed);
        next.run(ctx, info).await
    }
}

/// What async-graphql resolves for an answer: every key of every object
/// (one field each) and every item of every list.
fn resolutions(value: &Value) -> usize {
    match value {
        Value::Object(map) => map.len() + map.values().map(resolutions).sum::<usize>(),
        Value::Array(items) => items.len() + items.iter().map(resolutions).sum::<usize>(),
        _ => 0,
    }
}
