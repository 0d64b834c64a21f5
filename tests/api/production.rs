//! What operators and hostile clients see: persisted queries, request ids,
//! metrics, CORS, compression, and internal errors that tell nothing away.

use partnership_registry::options::ServerOptions;
use partnership_registry::persisted::sha256_hex;
use serde_json::{Value, json};

use crate::helpers::{Backend, error_code, spawn_app_with};
use crate::on_both_databases;

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

on_both_databases! {
    async fn automatic_persisted_queries_register_then_run_by_hash(app) {
        let query = r#"{ partner(slug: "unodc") { acronym } }"#;
        let hash = sha256_hex(query);
        let url = app.url("/graphql");
        let by_hash = json!({ "extensions": persisted(&hash) });
        let body: Value = app.client.post(&url).json(&by_hash).send().await.expect("answer").json().await.expect("json");
        assert_eq!(error_code(&body), "PERSISTED_QUERY_NOT_FOUND");
        assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");
        let both = json!({ "query": query, "extensions": persisted(&hash) });
        let body: Value = app.client.post(&url).json(&both).send().await.expect("answer").json().await.expect("json");
        assert_eq!(body["data"]["partner"]["acronym"], "UNODC");
        // By hash alone now, and over GET as clients do for caching.
        let body: Value = app.client.post(&url).json(&by_hash).send().await.expect("answer").json().await.expect("json");
        assert_eq!(body["data"]["partner"]["acronym"], "UNODC");
        let extensions = persisted(&hash).to_string();
        let response = app.client.get(&url).query(&[("extensions", extensions.as_str())]).send().await.expect("answer");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["data"]["partner"]["acronym"], "UNODC");
        let wrong = json!({ "query": "{ __typename }", "extensions": persisted(&hash) });
        let body: Value = app.client.post(&url).json(&wrong).send().await.expect("answer").json().await.expect("json");
        assert_eq!(error_code(&body), "BAD_REQUEST");
    }

    async fn every_response_carries_a_request_id(app) {
        let response = app.client.get(app.url("/health")).send().await.expect("answer");
        let generated = response.headers()["x-request-id"].to_str().expect("text").to_owned();
        assert!(generated.len() >= 16);
        let response = app
            .client
            .post(app.url("/graphql"))
            .header("x-request-id", "client-chosen-42")
            .json(&json!({ "query": "{ __typename }" }))
            .send()
            .await
            .expect("answer");
        assert_eq!(response.headers()["x-request-id"], "client-chosen-42");
        let response = app.client.get(app.url("/health")).header("x-request-id", "bad id\twith\ttabs").send().await.expect("answer");
        assert_ne!(response.headers()["x-request-id"], "bad id\twith\ttabs");
    }

    async fn metrics_count_requests_operations_and_statements(app) {
        app.graphql_with("query Partners { partners(first: 3) { nodes { name } } }", json!({}), &[]).await;
        app.graphql("{ nope }", json!({})).await;
        let text = app.client.get(app.metrics_url()).send().await.expect("answer").text().await.expect("text");
        for expected in [
            r#"registry_graphql_operations_total{operation="Partners",outcome="ok"} 1"#,
            r#"registry_graphql_operations_total{operation="anonymous",outcome="GRAPHQL_VALIDATION_FAILED"} 1"#,
            r#"registry_http_requests_total{route="/graphql",status="200"}"#,
            "registry_graphql_operation_duration_seconds_bucket",
            "registry_graphql_sql_statements_count",
            "registry_sql_rows_per_statement_bucket",
            r#"registry_db_pool_connections{state="idle"}"#,
            "registry_database_up 1",
        ] {
            assert!(text.contains(expected), "/metrics lacks {expected}:\n{text}");
        }
    }

    async fn metrics_are_not_served_on_the_public_address(app) {
        let public = app.client.get(app.url("/metrics")).send().await.expect("answer");
        assert_eq!(public.status(), 404);
        let private = app.client.get(app.metrics_url()).send().await.expect("answer");
        assert_eq!(private.status(), 200);
        assert_eq!(app.metrics_address.map(|a| a.ip().is_loopback()), Some(true), "loopback by default");
        // The operators' listener serves nothing else.
        let other = app.client.get(app.metrics_url().replace("/metrics", "/graphql")).send().await.expect("answer");
        assert_eq!(other.status(), 404);
    }

    async fn large_responses_are_compressed(app) {
        let response = app
            .client
            .post(app.url("/graphql"))
            .header("accept-encoding", "gzip")
            .json(&json!({ "query": "{ partners(first: 30) { nodes { name description } } }" }))
            .send()
            .await
            .expect("answer");
        assert_eq!(response.headers().get("content-encoding").map(|v| v.to_str().unwrap_or("")), Some("gzip"));
    }

    async fn an_internal_failure_tells_the_client_nothing_but_a_request_id(app) {
        use sea_orm::ConnectionTrait;
        // Break the database behind the server's back.
        app.db.execute_unprepared("ALTER TABLE crime_area RENAME TO crime_area_elsewhere").await.expect("renamed");
        let response = app
            .client
            .post(app.url("/graphql"))
            .header("x-request-id", "trace-me")
            .json(&json!({ "query": "{ crimeAreas { nodes { slug } } }" }))
            .send()
            .await
            .expect("answer");
        let text = response.text().await.expect("text");
        let body: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(error_code(&body), "INTERNAL");
        assert_eq!(body["errors"][0]["message"], "internal error");
        assert_eq!(body["errors"][0]["extensions"]["requestId"], "trace-me");
        for leak in ["crime_area", "SELECT", "sqlx", "no such table", "does not exist", ".rs"] {
            assert!(!text.contains(leak), "the response leaks `{leak}`: {text}");
        }
    }
}

mod configured {
    use super::*;

    async fn cors_allows_the_configured_origin_only(backend: Backend) {
        let options =
            ServerOptions { cors_origins: vec!["https://analyst.example".into()], ..crate::helpers::options() };
        let app = spawn_app_with(backend, options).await;
        let preflight = |origin: &'static str| {
            app.client
                .request(reqwest::Method::OPTIONS, app.url("/graphql"))
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "content-type, authorization")
                .send()
        };
        let allowed = preflight("https://analyst.example").await.expect("answer");
        assert_eq!(allowed.headers()["access-control-allow-origin"], "https://analyst.example");
        let other = preflight("https://evil.example").await.expect("answer");
        assert!(other.headers().get("access-control-allow-origin").is_none());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_sqlite_cors_allows_the_configured_origin_only() {
        cors_allows_the_configured_origin_only(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres_cors_allows_the_configured_origin_only() {
        cors_allows_the_configured_origin_only(Backend::Postgres).await;
    }

    async fn only_trusted_documents_run(backend: Backend) {
        let trusted = r#"{ partner(slug: "unodc") { acronym } }"#;
        let file = std::env::temp_dir().join(format!("trusted-{}-{backend:?}.json", std::process::id()));
        std::fs::write(&file, serde_json::to_string(&[trusted]).expect("json")).expect("written");
        let options = ServerOptions { trusted_documents: Some(file.clone()), ..crate::helpers::options() };
        let app = spawn_app_with(backend, options).await;
        let _ = std::fs::remove_file(&file);
        assert_eq!(app.data(trusted, json!({})).await["partner"]["acronym"], "UNODC");
        let by_hash = json!({ "extensions": persisted(&sha256_hex(trusted)) });
        let body: Value =
            app.client.post(app.url("/graphql")).json(&by_hash).send().await.expect("a").json().await.expect("j");
        assert_eq!(body["data"]["partner"]["acronym"], "UNODC");
        let body = app.graphql("{ partners { totalCount } }", json!({})).await;
        assert_eq!(error_code(&body), "PERSISTED_QUERY_NOT_IN_LIST");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_sqlite_only_trusted_documents_run() {
        only_trusted_documents_run(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres_only_trusted_documents_run() {
        only_trusted_documents_run(Backend::Postgres).await;
    }
}
