//! Global ids: `node`/`nodes` round trips, and bad ids.

use serde_json::json;

use crate::helpers::error_code;
use crate::on_both_databases;

on_both_databases! {
    async fn every_type_round_trips_through_node(app) {
        let data = app
            .data(
                r#"{
                  partners(first: 1) { nodes { id __typename } }
                  agreements(first: 1) { nodes { id __typename } }
                  projects(first: 1) { nodes { id __typename } }
                  fundings(first: 1) { nodes { id __typename } }
                  crimeAreas(first: 1) { nodes { id __typename } }
                  policingGoals { id __typename }
                }"#,
                json!({}),
            )
            .await;
        let mut ids = Vec::new();
        for list in ["partners", "agreements", "projects", "fundings", "crimeAreas"] {
            let node = &data[list]["nodes"][0];
            ids.push((node["id"].as_str().unwrap_or_default().to_owned(), node["__typename"].as_str().unwrap_or_default().to_owned()));
        }
        let goal = &data["policingGoals"][0];
        ids.push((goal["id"].as_str().unwrap_or_default().to_owned(), goal["__typename"].as_str().unwrap_or_default().to_owned()));
        assert_eq!(ids.len(), 6);
        for (id, type_name) in &ids {
            let found = app.data("query($id: ID!) { node(id: $id) { id __typename } }", json!({ "id": id })).await;
            assert_eq!(found["node"]["id"], id.as_str());
            assert_eq!(found["node"]["__typename"], type_name.as_str());
        }
        let all: Vec<&str> = ids.iter().map(|(id, _)| id.as_str()).collect();
        let body = app.graphql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", json!({ "ids": all })).await;
        let back: Vec<&str> = body["data"]["nodes"].as_array().into_iter().flatten().filter_map(|n| n["id"].as_str()).collect();
        assert_eq!(back, all, "nodes come back in the order asked");
        assert_eq!(crate::helpers::statements(&body), 6, "one statement per type");
    }

    async fn ids_are_opaque_and_type_specific(app) {
        let unodc = app.partner_id("unodc").await;
        assert!(!unodc.contains("Partner"), "the id does not show its insides: {unodc}");
        let body = app.graphql("query($id: ID!) { agreement(id: $id) { reference } }", json!({ "id": unodc })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
        let data = app.data("query($id: ID!) { partner(id: $id) { slug databaseId } }", json!({ "id": unodc })).await;
        assert_eq!(data["partner"]["slug"], "unodc");
        assert!(data["partner"]["databaseId"].as_i64() > Some(0));
    }

    async fn an_unknown_id_finds_nothing(app) {
        // A well-formed id of a row that does not exist.
        let unknown = partnership_registry::graphql::id::encode("Partner", 987_654_321);
        let data = app.data("query($id: ID!) { node(id: $id) { id } partner(id: $id) { slug } }", json!({ "id": unknown })).await;
        assert!(data["node"].is_null());
        assert!(data["partner"].is_null());
        let data = app.data(r#"{ partner(slug: "no-such-partner") { slug } project(code: "NOPE") { code } }"#, json!({})).await;
        assert!(data["partner"].is_null());
        assert!(data["project"].is_null());
    }

    async fn malformed_ids_are_clear_errors(app) {
        let other_type = partnership_registry::graphql::id::encode("Spaceship", 1);
        for id in ["", "42", "!!!", "UGFydG5lcjp4", "UGFydG5lcjotMQ", other_type.as_str()] {
            let body = app.graphql("query($id: ID!) { node(id: $id) { id } }", json!({ "id": id })).await;
            assert_eq!(error_code(&body), "BAD_USER_INPUT", "id {id:?}: {body:#}");
        }
    }

    async fn a_lookup_needs_exactly_one_key(app) {
        let unodc = app.partner_id("unodc").await;
        let body = app.graphql("{ partner { slug } }", json!({})).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
        let body = app.graphql(r#"query($id: ID!) { partner(id: $id, slug: "unodc") { slug } }"#, json!({ "id": unodc })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
    }

    async fn nodes_takes_at_most_a_hundred_ids(app) {
        let unodc = app.partner_id("unodc").await;
        let ids = vec![unodc; 101];
        let body = app.graphql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", json!({ "ids": ids })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
    }
}
