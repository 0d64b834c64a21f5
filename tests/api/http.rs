//! The HTTP surface around the schema.

use serde_json::{Value, json};

use crate::on_both_databases;

on_both_databases! {
    async fn health_and_readiness_answer(app) {
        let health = app.client.get(app.url("/health")).send().await.expect("health answers");
        assert_eq!(health.status(), 200);
        let ready = app.client.get(app.url("/ready")).send().await.expect("ready answers");
        assert_eq!(ready.status(), 200);
        let body: Value = ready.json().await.expect("json");
        assert_eq!(body["status"], "ready");
    }

    async fn queries_work_over_get(app) {
        let response = app
            .client
            .get(app.url("/graphql"))
            .query(&[("query", r#"{ partner(slug: "unodc") { acronym } }"#)])
            .header("accept-language", "fr")
            .send()
            .await
            .expect("the server answers");
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["data"]["partner"]["acronym"], "ONUDC");
    }

    async fn graphiql_is_served_with_its_assets_from_the_binary(app) {
        let page = app.client.get(app.url("/graphiql")).send().await.expect("page");
        assert_eq!(page.status(), 200);
        let html = page.text().await.expect("text");
        assert!(html.contains("Partnership Registry"));
        for asset in ["graphiql.min.js", "graphiql.min.css", "react.production.min.js", "react-dom.production.min.js"] {
            assert!(html.contains(&format!("/graphiql/{asset}")), "the page loads {asset}");
            let response = app.client.get(app.url(&format!("/graphiql/{asset}"))).send().await.expect("asset");
            assert_eq!(response.status(), 200, "{asset}");
            assert!(response.bytes().await.map(|b| b.len()).unwrap_or(0) > 1_000);
        }
        assert!(!html.contains("unpkg") && !html.contains("esm.sh") && !html.contains("cdn"), "nothing comes from a CDN");
        let missing = app.client.get(app.url("/graphiql/nope.js")).send().await.expect("answer");
        assert_eq!(missing.status(), 404);
    }

    async fn a_body_that_is_not_json_gets_a_coded_error(app) {
        let response = app
            .client
            .post(app.url("/graphql"))
            .header("content-type", "application/json")
            .body("{ not json")
            .send()
            .await
            .expect("the server answers");
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST");
    }

    async fn every_error_has_a_code(app) {
        let cases = [
            ("{ partners {", json!({}), "GRAPHQL_PARSE_FAILED"),
            ("{ partners { nope } }", json!({}), "GRAPHQL_VALIDATION_FAILED"),
            ("{ partners(first: \"ten\") { totalCount } }", json!({}), "GRAPHQL_VALIDATION_FAILED"),
            // A variable of the wrong type fails validation; a required one left out is refused first.
            ("query($n: Int!) { partners(first: $n) { totalCount } }", json!({ "n": "ten" }), "GRAPHQL_VALIDATION_FAILED"),
            ("query($n: Int!) { partners(first: $n) { totalCount } }", json!({}), "BAD_USER_INPUT"),
            ("{ node(id: 5) { id } }", json!({}), "BAD_USER_INPUT"),
        ];
        for (query, variables, code) in cases {
            let before = app.pool_statements.load(std::sync::atomic::Ordering::Relaxed);
            let body = app.graphql(query, variables).await;
            assert_eq!(crate::helpers::error_code(&body), code, "{query}: {body:#}");
            let after = app.pool_statements.load(std::sync::atomic::Ordering::Relaxed);
            assert_eq!(after, before, "refused before any SQL: {query}");
        }
        let body = app.graphql("{ partners { nope } }", json!({})).await;
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("nope"), "the message names the problem: {body:#}");
    }
}
