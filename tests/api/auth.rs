//! API tokens and roles: who may read, who may write.

use partnership_registry::auth::{self, Role};
use partnership_registry::options::ServerOptions;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, error_code, spawn_app_with};
use crate::on_both_databases;

const CREATE: &str = r#"mutation($input: CreatePartnerInput!) { createPartner(input: $input) { slug version } }"#;

fn new_partner(slug: &str) -> Value {
    json!({ "input": {
        "slug": slug, "nameEn": "Test partner", "nameFr": "Partenaire de test",
        "kind": "NGO", "sector": "PRIVATE"
    } })
}

async fn partner_exists(app: &TestApp, slug: &str) -> bool {
    let data = app.data("query($s: String!) { partner(slug: $s) { id } }", json!({ "s": slug })).await;
    !data["partner"].is_null()
}

async fn raw_post(app: &TestApp, authorization: &str, query: &str) -> reqwest::Response {
    app.client
        .post(app.url("/graphql"))
        .header("authorization", authorization)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("the server answers")
}

async fn require_reads(backend: Backend) -> TestApp {
    spawn_app_with(backend, ServerOptions { require_auth_for_reads: true, ..crate::helpers::options() }).await
}

on_both_databases! {
    async fn a_mutation_without_a_token_is_unauthenticated_and_writes_nothing(app) {
        let body = app.graphql(CREATE, new_partner("no-token")).await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED");
        assert!(body["data"].is_null());
        assert!(!partner_exists(&app, "no-token").await);
    }

    async fn a_viewer_token_may_read_but_not_write(app) {
        let viewer = app.token(Role::Viewer).await;
        let read = app.data_as(&viewer, r#"{ partner(slug: "unodc") { acronym } }"#, json!({})).await;
        assert_eq!(read["partner"]["acronym"], "UNODC");
        let body = app.graphql_as(&viewer, CREATE, new_partner("by-viewer")).await;
        assert_eq!(error_code(&body), "FORBIDDEN");
        assert!(!partner_exists(&app, "by-viewer").await);
    }

    async fn an_editor_token_may_write(app) {
        let editor = app.token(Role::Editor).await;
        let data = app.data_as(&editor, CREATE, new_partner("by-editor")).await;
        assert_eq!(data["createPartner"], json!({ "slug": "by-editor", "version": 1 }));
        assert!(partner_exists(&app, "by-editor").await);
    }

    async fn an_unknown_token_is_refused_with_401_even_for_a_read(app) {
        let response = raw_post(&app, "Bearer prt_not-a-token", "{ partners { totalCount } }").await;
        assert_eq!(response.status(), 401);
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        let body: Value = response.json().await.expect("json");
        assert_eq!(error_code(&body), "UNAUTHENTICATED");
        assert!(body.get("data").is_none(), "nothing was executed");
    }

    async fn a_malformed_authorization_header_is_refused(app) {
        let editor = app.token(Role::Editor).await;
        let response = raw_post(&app, &format!("Token {editor}"), "{ partners { totalCount } }").await;
        assert_eq!(response.status(), 401);
        let body: Value = response.json().await.expect("json");
        assert_eq!(error_code(&body), "UNAUTHENTICATED");
    }

    async fn a_revoked_token_no_longer_works(app) {
        let editor = app.token(Role::Editor).await;
        assert!(app.graphql_as(&editor, CREATE, new_partner("before-revoke")).await.get("errors").is_none());
        let name = auth::list(&app.db).await.expect("tokens").last().expect("one token").name.clone();
        let revoked = auth::revoke(&app.db, &name).await.expect("revoked");
        assert_eq!(revoked.len(), 1);
        let body = app.graphql_as(&editor, CREATE, new_partner("after-revoke")).await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED");
        assert!(!partner_exists(&app, "after-revoke").await);
    }

    async fn only_the_hash_of_a_token_is_stored(app) {
        let token = app.token(Role::Admin).await;
        let stored = auth::list(&app.db).await.expect("tokens");
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].token_sha256, auth::hash(&token));
        assert!(!stored[0].token_sha256.contains(&token));
        assert_eq!(stored[0].role, Role::Admin);
    }

    async fn the_history_names_the_token_that_made_a_change(app) {
        let editor = app.token(Role::Editor).await;
        app.data_as(&editor, CREATE, new_partner("named-actor")).await;
        let name = auth::list(&app.db).await.expect("tokens")[0].name.clone();
        let data = app.data(r#"{ partner(slug: "named-actor") { history { nodes { actor action } } } }"#, json!({})).await;
        assert_eq!(data["partner"]["history"]["nodes"], json!([{ "actor": name, "action": "CREATE" }]));
    }
}

mod reads_behind_tokens {
    use super::*;

    async fn anonymous_reads_are_refused_and_viewers_read(backend: Backend) {
        let app = require_reads(backend).await;
        let response = app
            .client
            .post(app.url("/graphql"))
            .json(&json!({ "query": "{ partners { totalCount } }" }))
            .send()
            .await
            .expect("the server answers");
        assert_eq!(response.status(), 401);
        let body: Value = response.json().await.expect("json");
        assert_eq!(error_code(&body), "UNAUTHENTICATED");

        let viewer = app.token(Role::Viewer).await;
        let data = app.data_as(&viewer, "{ partners { totalCount } }", json!({})).await;
        assert!(data["partners"]["totalCount"].as_i64().unwrap_or(0) > 20);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_sqlite_anonymous_reads_are_refused_and_viewers_read() {
        anonymous_reads_are_refused_and_viewers_read(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres_anonymous_reads_are_refused_and_viewers_read() {
        anonymous_reads_are_refused_and_viewers_read(Backend::Postgres).await;
    }
}
