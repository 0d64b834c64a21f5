//! Hostile requests: each gets its clear error before touching the
//! database, and the server goes on serving the next request.

use std::sync::atomic::Ordering;
use std::time::Duration;

use partnership_registry::limits::Limits;
use partnership_registry::options::ServerOptions;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, error_code, spawn_app_with};
use crate::on_both_databases;

/// Posts a raw body and returns status and JSON (or null).
async fn post_raw(app: &TestApp, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("the server answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Sends a document that must be refused with `code` (and `limit`, if
/// given) without a single statement reaching the database; then proves the
/// server still serves.
async fn refused(app: &TestApp, query: &str, variables: Value, code: &str, limit: Option<&str>) {
    let before = app.pool_statements.load(Ordering::Relaxed);
    let body = app.graphql(query, variables).await;
    assert_eq!(error_code(&body), code, "{}: {body:#}", &query[..query.len().min(80)]);
    if let Some(limit) = limit {
        assert_eq!(body["errors"][0]["extensions"]["limit"], limit, "{body:#}");
    }
    assert!(body.get("data").is_none() || body["data"].is_null(), "{body:#}");
    assert_eq!(app.pool_statements.load(Ordering::Relaxed), before, "no SQL ran for {}", &query[..query.len().min(80)]);
    still_serving(app).await;
}

async fn still_serving(app: &TestApp) {
    let data = app.data(r#"{ partner(slug: "unodc") { acronym } }"#, json!({})).await;
    assert_eq!(data["partner"]["acronym"], "UNODC");
}

/// A chain of `links` fragments, each spreading the next twice.
fn fan_out(links: usize) -> String {
    let mut query = String::from("query { ...F0 }\n");
    for i in 0..links {
        query.push_str(&format!("fragment F{i} on Query {{ ...F{n} ...F{n} }}\n", n = i + 1));
    }
    query.push_str(&format!("fragment F{links} on Query {{ partners {{ totalCount }} }}\n"));
    query
}

on_both_databases! {
    // An operation that passed validation runs without it when sent again,
    // exactly the same; the same document with other variables (or another
    // operation named) is validated in full, and one that failed never skips it.
    async fn an_operation_is_validated_again_when_anything_of_it_changes(app) {
        const PAGE: &str = "query Page($first: Int) { partners(first: $first) { nodes { slug } } }";
        let bad = json!({ "first": "two" });
        let refusal = app.graphql(PAGE, bad.clone()).await;
        assert_eq!(error_code(&refusal), "GRAPHQL_VALIDATION_FAILED", "{refusal:#}");
        let first = app.graphql(PAGE, json!({ "first": 2 })).await;
        assert_eq!(first["data"]["partners"]["nodes"].as_array().map(Vec::len), Some(2), "{first:#}");
        let again = app.graphql(PAGE, json!({ "first": 2 })).await;
        assert_eq!(again["data"], first["data"]);
        assert_eq!(app.graphql(PAGE, bad.clone()).await["errors"], refusal["errors"], "still refused whole, no data");
        // A variable of another type is not an operation seen before either.
        let refused = app.graphql(PAGE, json!({ "first": 2.5 })).await;
        assert_eq!(error_code(&refused), "GRAPHQL_VALIDATION_FAILED", "{refused:#}");
        assert!(refused["data"].is_null(), "{refused:#}");
        // Two operations in one document: each is its own.
        let both = "query Page($first: Int) { partners(first: $first) { totalCount } } query Other { nope }";
        for _ in 0..2 {
            let request = json!({ "query": both, "operationName": "Page", "variables": { "first": 1 } });
            let response = app.client.post(app.url("/graphql")).json(&request).send().await.expect("an answer");
            let body: Value = response.json().await.expect("JSON");
            assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED", "the document as a whole is invalid: {body:#}");
        }
    }

    async fn deeply_nested_values_are_refused_before_parsing(app) {
        for (open, close) in [("[", "]"), ("{a:", "}")] {
            let value = format!("{}1{}", open.repeat(3_000), close.repeat(3_000));
            let query = format!("{{ partners(filter: {{ kindIn: {value} }}) {{ totalCount }} }}");
            refused(&app, &query, json!({}), "LIMIT_EXCEEDED", Some("nesting")).await;
        }
        let selections = format!("{}{}", "{ partners { nodes { children ".repeat(400), "}".repeat(1_200));
        refused(&app, &selections, json!({}), "LIMIT_EXCEEDED", Some("nesting")).await;
    }

    async fn deeply_nested_variables_are_refused(app) {
        // Past serde_json's own bound (128): not JSON this server reads.
        let deep = format!("{}1{}", "[".repeat(5_000), "]".repeat(5_000));
        let body = format!(r#"{{"query":"query($v: [PartnerKind!]) {{ partners(filter: {{ kindIn: $v }}) {{ totalCount }} }}","variables":{{"v":{deep}}}}}"#);
        let (status, json) = post_raw(&app, "application/json", body.into_bytes()).await;
        assert_eq!(status, 400, "{json}");
        assert_eq!(json["errors"][0]["extensions"]["code"], "BAD_REQUEST");
        // Within it, but past the variable nesting limit.
        let nested = format!("{}1{}", "[".repeat(60), "]".repeat(60));
        let variables: Value = serde_json::from_str(&format!(r#"{{"v":{nested}}}"#)).expect("json");
        refused(&app, "query($v: [PartnerKind!]) { partners(filter: { kindIn: $v }) { totalCount } }", variables, "LIMIT_EXCEEDED", Some("variableNesting")).await;
    }

    async fn token_floods_and_huge_documents_are_refused(app) {
        let flood = format!("{{ {} }}", "__typename ".repeat(16_000));
        refused(&app, &flood, json!({}), "LIMIT_EXCEEDED", Some("documentBytes")).await;
        let many = format!("{{ {} }}", "a ".repeat(16_000));
        refused(&app, &many, json!({}), "LIMIT_EXCEEDED", Some("tokens")).await;
    }

    async fn a_fragment_fan_out_chain_is_measured_not_run(app) {
        refused(&app, &fan_out(40), json!({}), "LIMIT_EXCEEDED", Some("selections")).await;
        // In an operation that does not run, or when none can be told apart,
        // it is measured all the same: async-graphql validates them all.
        let beside = fan_out(30).replacen("query { ...F0 }", "query A { __typename } query B { ...F0 }", 1);
        let before = app.pool_statements.load(Ordering::Relaxed);
        let body = app
            .client
            .post(app.url("/graphql"))
            .json(&json!({ "query": beside, "operationName": "A" }))
            .send()
            .await
            .expect("answer")
            .json::<Value>()
            .await
            .expect("json");
        assert_eq!(error_code(&body), "LIMIT_EXCEEDED", "{body:#}");
        assert_eq!(app.pool_statements.load(Ordering::Relaxed), before);
        let two = fan_out(30).replacen("query { ...F0 }", "query A { ...F0 } query B { ...F0 }", 1);
        refused(&app, &two, json!({}), "GRAPHQL_VALIDATION_FAILED", None).await;
        // Fragments nothing spreads are refused rather than validated.
        let unused: String = (0..50).map(|i| format!("fragment U{i} on Query {{ __typename }}\n")).collect();
        refused(&app, &format!("{{ __typename }}\n{unused}"), json!({}), "GRAPHQL_VALIDATION_FAILED", None).await;
        // Spreads written without spaces are still counted one token each.
        let tight = format!("{{ __typename }}{}", "a...F".repeat(8_000));
        refused(&app, &tight, json!({}), "LIMIT_EXCEEDED", Some("tokens")).await;
        let cycle = "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
        refused(&app, cycle, json!({}), "GRAPHQL_VALIDATION_FAILED", None).await;
    }

    async fn alias_and_directive_floods_are_refused(app) {
        let aliases: String = (0..300).map(|i| format!("a{i}: __typename ")).collect();
        refused(&app, &format!("{{ {aliases} }}"), json!({}), "LIMIT_EXCEEDED", Some("aliases")).await;
        let directives = "@include(if: true) ".repeat(60);
        refused(&app, &format!("{{ __typename {directives} }}"), json!({}), "LIMIT_EXCEEDED", Some("directives")).await;
    }

    async fn depth_cost_and_page_sizes_are_refused_before_any_sql(app) {
        let deep = format!("{{ partners {{ nodes {{ {}slug{} }} }} }}", "parent { ".repeat(12), " }".repeat(12));
        refused(&app, &deep, json!({}), "LIMIT_EXCEEDED", Some("depth")).await;
        let costly = "{ partners(first: 100) { nodes { agreements(first: 100) { nodes { projects(first: 100) { totalCount } } } } } }";
        refused(&app, costly, json!({}), "LIMIT_EXCEEDED", Some("cost")).await;
        for (query, variables) in [
            ("{ partners(first: -1) { totalCount } }", json!({})),
            ("{ partners(first: 1000000) { totalCount } }", json!({})),
            ("{ partners { nodes { agreements(last: 101) { totalCount } } } }", json!({})),
            ("query($n: Int) { partners { nodes { agreements(first: $n) { totalCount } } } }", json!({ "n": 0 })),
        ] {
            refused(&app, query, variables, "BAD_USER_INPUT", None).await;
        }
    }

    async fn introspection_stays_open_but_bounded(app) {
        let full = r#"query { __schema { types { name fields { name type { name ofType { name ofType { name ofType { name ofType { name } } } } } } } } }"#;
        let body = app.graphql(full, json!({})).await;
        assert!(body.get("errors").is_none(), "{body:#}");
        let nested = format!("{{ __schema {{ types {{ {} name {} }} }} }}", "fields { type { ".repeat(8), "} } ".repeat(8));
        refused(&app, &nested, json!({}), "LIMIT_EXCEEDED", Some("introspectionDepth")).await;
    }

    async fn under_the_graphql_media_type_refusals_are_400_with_no_data(app) {
        for query in [
            format!("{{ partners(filter: {{ kindIn: {} }}) {{ totalCount }} }}", "[".repeat(500)),
            "{ partners(first: 100) { nodes { agreements(first: 100) { nodes { projects(first: 100) { totalCount } } } } } }".to_owned(),
            "{ partners(first: 0) { totalCount } }".to_owned(),
        ] {
            let response = app
                .client
                .post(app.url("/graphql"))
                .header("accept", "application/graphql-response+json")
                .json(&json!({ "query": query }))
                .send()
                .await
                .expect("answer");
            assert_eq!(response.status(), 400);
            let body: Value = response.json().await.expect("json");
            assert!(body.get("data").is_none() && body["errors"][0]["extensions"]["code"].is_string(), "{body:#}");
        }
    }

    async fn a_hundred_operation_batch_is_refused(app) {
        let batch: Vec<Value> = (0..100).map(|_| json!({ "query": "{ __typename }" })).collect();
        let (status, body) = post_raw(&app, "application/json", serde_json::to_vec(&batch).expect("json")).await;
        assert_eq!(status, 400);
        assert_eq!(body["errors"][0]["extensions"]["code"], "LIMIT_EXCEEDED");
        still_serving(&app).await;
    }

    async fn malformed_bodies_and_wrong_content_types_are_refused(app) {
        for (content_type, body, status) in [
            ("application/json", b"{ not json".to_vec(), 400),
            ("application/json", vec![0xff, 0xfe, 0x7b, 0x7d], 400),
            ("application/json", br#"{"query": "{ __typename }""#.to_vec(), 400),
            ("application/json", b"42".to_vec(), 400),
            ("text/plain", br#"{"query":"{ __typename }"}"#.to_vec(), 415),
            ("application/graphql", b"{ __typename }".to_vec(), 415),
        ] {
            let (got, json) = post_raw(&app, content_type, body).await;
            assert_eq!(got, status, "{content_type}: {json}");
        }
        // A body past the limit is 413, whatever it holds. The server answers
        // before reading the rest and closes the connection, so this one
        // request goes on a connection of its own, not the shared client's.
        let response = reqwest::Client::new()
            .post(app.url("/graphql"))
            .header("content-type", "application/json")
            .body(vec![b' '; 2 * 1024 * 1024])
            .send()
            .await
            .expect("the server answers");
        assert_eq!(response.status().as_u16(), 413);
        still_serving(&app).await;
    }

    async fn enormous_strings_and_numbers_in_variables_get_clear_errors(app) {
        let query = "query($q: String!, $n: Int) { search(query: $q, first: $n) { totalCount } }";
        let long = "x".repeat(500_000);
        let body = app.graphql(query, json!({ "q": long, "n": 5 })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "an over-long search");
        let huge = format!(r#"{{"query":"{query}","variables":{{"q":"a","n":1e999}}}}"#);
        let (status, _) = post_raw(&app, "application/json", huge.into_bytes()).await;
        assert_eq!(status, 400, "a number JSON cannot hold");
        let body = app.graphql(query, json!({ "q": "unodc", "n": 18446744073709551615u64 })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
        still_serving(&app).await;
    }

    async fn unknown_ids_of_every_type_are_null_or_clear_errors(app) {
        for type_name in ["Partner", "Agreement", "Project", "Funding", "CrimeArea", "PolicingGoal", "Change"] {
            let id = base64_id(&format!("{type_name}:999999"));
            let body = app.graphql("query($id: ID!) { node(id: $id) { id } }", json!({ "id": id })).await;
            assert!(body.get("errors").is_none() && body["data"]["node"].is_null(), "{type_name}: {body:#}");
        }
        for bad in ["", "!!!", &base64_id("Nope:1"), &base64_id("Partner:-4"), &base64_id("Partner:99999999999999999999")] {
            let body = app.graphql("query($id: ID!) { node(id: $id) { id } }", json!({ "id": bad })).await;
            assert_eq!(error_code(&body), "BAD_USER_INPUT", "{bad}: {body:#}");
        }
    }
}

fn base64_id(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

mod timeouts {
    use super::*;
    use partnership_registry::auth::Role;
    use sea_orm::{ConnectionTrait, SqliteTransactionMode, TransactionOptions, TransactionTrait};

    const CREATE: &str = "mutation($input: CreatePartnerInput!) { createPartner(input: $input) { slug } }";

    fn partner(slug: &str) -> Value {
        json!({ "input": { "slug": slug, "nameEn": "Held", "nameFr": "Retenu", "kind": "NGO", "sector": "PRIVATE" } })
    }

    /// The test holds the partner table's write lock, so the server's write
    /// cannot finish however fast the machine is: the operation is cut off at
    /// the timeout (not at the database's own busy wait), and nothing of it is
    /// written once the lock is gone.
    async fn an_operation_stuck_behind_a_lock_is_cut_off_with_timeout(backend: Backend) {
        let limits = Limits { timeout: Duration::from_millis(1500), ..Limits::default() };
        let app = spawn_app_with(backend, ServerOptions { limits, ..crate::helpers::options() }).await;
        let editor = app.token(Role::Editor).await;
        let lock = match backend {
            // SQLite's busy wait (5 s) outlasts the timeout; readers go on under WAL.
            Backend::Sqlite => {
                let options = TransactionOptions {
                    sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                    ..Default::default()
                };
                app.db.begin_with_options(options).await.expect("the test takes the write lock")
            }
            // EXCLUSIVE blocks writers and lets readers through.
            Backend::Postgres => {
                let txn = app.db.begin().await.expect("the test begins");
                txn.execute_unprepared("LOCK TABLE partner IN EXCLUSIVE MODE").await.expect("the test locks partner");
                txn
            }
        };
        let body = app.graphql_as(&editor, CREATE, partner("held-back")).await;
        assert_eq!(error_code(&body), "TIMEOUT", "{body:#}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("1500 ms"), "{message}");
        assert!(body["data"].is_null(), "a cut-off operation has no data: {body:#}");
        // Reads are not held up by a writer's lock.
        still_serving(&app).await;
        lock.rollback().await.expect("the test releases the lock");

        let written = app.data(r#"{ partner(slug: "held-back") { slug } }"#, json!({})).await;
        assert!(written["partner"].is_null(), "the cut-off write left a partner behind: {written:#}");
        // The cancelled transaction let go of the table: writes go through again.
        let created = app.data_as(&editor, CREATE, partner("after-release")).await;
        assert_eq!(created["createPartner"]["slug"], "after-release");
        let written = app.data(r#"{ partner(slug: "held-back") { slug } }"#, json!({})).await;
        assert!(written["partner"].is_null(), "the cut-off write landed later: {written:#}");
    }

    /// A write that has committed is never reported as cancelled. The test
    /// holds `crime_area` (which creating a partner does not touch) so that
    /// the first write commits and then its answer, which lists the
    /// partner's crime areas, waits past the deadline: the operation runs on
    /// and answers with what it made, and the write after it, which the
    /// deadline stops from beginning, answers `TIMEOUT` and makes nothing.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres_a_write_committed_before_the_timeout_is_answered_not_cancelled() {
        let limits = Limits { timeout: Duration::from_millis(800), ..Limits::default() };
        let app = spawn_app_with(Backend::Postgres, ServerOptions { limits, ..crate::helpers::options() }).await;
        let editor = app.token(Role::Editor).await;
        let lock = app.db.begin().await.expect("the test begins");
        lock.execute_unprepared("LOCK TABLE crime_area IN ACCESS EXCLUSIVE MODE")
            .await
            .expect("the test locks crime_area");
        let document = "mutation($a: CreatePartnerInput!, $b: CreatePartnerInput!) {
            a: createPartner(input: $a) { slug crimeAreas { slug } }
            b: createPartner(input: $b) { slug } }";
        let variables = json!({ "a": partner("committed-first")["input"], "b": partner("never-begun")["input"] });
        let request = {
            let (client, url) = (app.client.clone(), app.url("/graphql"));
            let body = json!({ "query": document, "variables": variables });
            let token = format!("Bearer {editor}");
            tokio::spawn(async move {
                let response = client.post(url).header("authorization", token).json(&body).send().await;
                response.expect("the server answers").json::<Value>().await.expect("a JSON body")
            })
        };
        tokio::time::sleep(Duration::from_millis(2000)).await;
        lock.rollback().await.expect("the test releases crime_area");
        let body = request.await.expect("the request task ends");

        assert_eq!(body["data"]["a"]["slug"], "committed-first", "the committed write is answered: {body:#}");
        assert_eq!(body["data"]["a"]["crimeAreas"], json!([]), "{body:#}");
        assert!(body["data"]["b"].is_null(), "{body:#}");
        let errors = body["errors"].as_array().cloned().unwrap_or_default();
        assert_eq!(errors.len(), 1, "{body:#}");
        assert_eq!(errors[0]["extensions"]["code"], "TIMEOUT", "{body:#}");
        assert_eq!(errors[0]["path"], json!(["b"]), "{body:#}");
        assert!(!body.to_string().contains("cancelled"), "nothing made is called cancelled: {body:#}");

        let written = app
            .data(
                r#"{ a: partner(slug: "committed-first") { slug } b: partner(slug: "never-begun") { slug } }"#,
                json!({}),
            )
            .await;
        assert_eq!(written["a"]["slug"], "committed-first", "{written:#}");
        assert!(written["b"].is_null(), "the write the deadline stopped was not made: {written:#}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_sqlite_an_operation_stuck_behind_a_lock_is_cut_off_with_timeout() {
        an_operation_stuck_behind_a_lock_is_cut_off_with_timeout(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres_an_operation_stuck_behind_a_lock_is_cut_off_with_timeout() {
        an_operation_stuck_behind_a_lock_is_cut_off_with_timeout(Backend::Postgres).await;
    }
}
