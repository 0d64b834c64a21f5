//! The change history: per record and registry-wide, batched like every
//! other relation.

use partnership_registry::auth::Role;
use serde_json::{Value, json};

use crate::helpers::statements;
use crate::mutations::{UPDATE_PARTNER, create_partner};
use crate::on_both_databases;

on_both_databases! {
    async fn each_change_keeps_the_record_before_and_after(app) {
        let editor = app.token(Role::Editor).await;
        let partner = create_partner(&app, &editor, "with-history").await;
        let update = json!({ "input": { "id": partner, "expectedVersion": 1, "nameEn": "New name", "countryCode": "fr" } });
        app.data_as(&editor, UPDATE_PARTNER, update).await;
        let data = app.data(
            r#"{ partner(slug: "with-history") { history { totalCount nodes { action recordKind recordId before after } } } }"#,
            json!({}),
        )
        .await;
        let history = &data["partner"]["history"];
        assert_eq!(history["totalCount"], 2);
        let (created, updated) = (&history["nodes"][0], &history["nodes"][1]);
        assert_eq!(created["action"], "CREATE");
        assert_eq!(created["before"], Value::Null);
        assert_eq!(created["after"]["name_en"], "Test Partner");
        assert_eq!(updated["action"], "UPDATE");
        assert_eq!(updated["recordKind"], "PARTNER");
        assert_eq!(updated["recordId"], json!(partner));
        assert_eq!(updated["before"]["name_en"], "Test Partner");
        assert_eq!(updated["before"]["version"], 1);
        assert_eq!(updated["after"]["name_en"], "New name");
        assert_eq!(updated["after"]["country_code"], "FR");
        assert_eq!(updated["after"]["version"], 2);
        assert!(updated["after"].get("search_text").is_none(), "internal keys are not recorded");
    }

    async fn changes_can_be_read_since_an_instant_and_by_kind(app) {
        let editor = app.token(Role::Editor).await;
        create_partner(&app, &editor, "early").await;
        create_partner(&app, &editor, "late").await;
        let since = |at: &str| json!({ "since": at });
        let query = "query($since: DateTime!) { changes(since: $since, kinds: [PARTNER]) { totalCount } }";
        let all = app.data(query, since("2000-01-01T00:00:00Z")).await;
        assert_eq!(all["changes"]["totalCount"], 2);
        let future = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
        let none = app.data(query, since(&future)).await;
        assert_eq!(none["changes"]["totalCount"], 0);
        let fundings = app.data(r#"{ changes(kinds: [FUNDING]) { totalCount } }"#, json!({})).await;
        assert_eq!(fundings["changes"]["totalCount"], 0);
        let body = app.graphql(query, since("yesterday")).await;
        assert_eq!(crate::helpers::error_code(&body), "BAD_USER_INPUT");
    }

    async fn the_history_of_a_whole_page_costs_two_statements(app) {
        let editor = app.token(Role::Editor).await;
        for i in 0..5 {
            create_partner(&app, &editor, &format!("paged-{i}")).await;
        }
        let body = app
            .graphql("{ partners(first: 100) { nodes { slug history(last: 1) { totalCount nodes { action } } } } }", json!({}))
            .await;
        assert!(body.get("errors").is_none(), "{body:#}");
        // The partners, one windowed history statement, one grouped count.
        assert_eq!(statements(&body), 3);
        let with_history: Vec<&Value> = body["data"]["partners"]["nodes"]
            .as_array()
            .expect("list")
            .iter()
            .filter(|p| p["history"]["totalCount"] == 1)
            .collect();
        assert_eq!(with_history.len(), 5);
    }
}
