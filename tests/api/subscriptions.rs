//! Subscriptions over a real WebSocket, and the graphql-transport-ws
//! protocol to the letter.

use std::time::Duration;

use partnership_registry::auth::Role;
use partnership_registry::options::ServerOptions;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn_app_with};
use crate::mutations::{CREATE_PARTNER, UPDATE_PARTNER, create_agreement, create_partner, partner_input};
use crate::on_both_databases;
use crate::ws_client::{Received, WsClient};

const PARTNER_CHANGED: &str = r#"subscription($id: ID!) {
  partnerChanged(id: $id) { action recordKind recordId version actor node { ... on Partner { name(lang: EN) version } } }
}"#;

async fn rename(app: &TestApp, token: &str, partner: &str, version: i64, name: &str) {
    let input = json!({ "input": { "id": partner, "expectedVersion": version, "nameEn": name } });
    app.data_as(token, UPDATE_PARTNER, input).await;
}

/// The next message, which must be a `next` for `id`; returns its data.
async fn next_data(client: &mut WsClient, id: &str) -> Value {
    let message = client.message().await;
    assert_eq!(message["type"], "next", "{message}");
    assert_eq!(message["id"], id, "{message}");
    assert!(message["payload"].get("errors").is_none(), "{message}");
    message["payload"]["data"].clone()
}

async fn closes_with(app: &TestApp, messages: &[&str], code: u16) -> String {
    let mut client = WsClient::open(app, Some("graphql-transport-ws")).await;
    for message in messages {
        client.send_text(message).await;
    }
    loop {
        match client.receive().await {
            Received::Closed(got, reason) => {
                assert_eq!(got, code, "closed with {got} ({reason}) after {messages:?}");
                return reason;
            }
            // An ack for a first, valid init may come before the close.
            Received::Message(m) if m["type"] == "connection_ack" => continue,
            Received::Message(m) => panic!("unexpected {m} after {messages:?}"),
        }
    }
}

async fn short_init(backend: Backend) -> TestApp {
    spawn_app_with(backend, ServerOptions { ws_init_timeout: Duration::from_millis(300), ..crate::helpers::options() })
        .await
}

on_both_databases! {
    async fn a_subscriber_sees_each_change_to_its_partner_live(app) {
        let editor = app.token(Role::Editor).await;
        let partner = create_partner(&app, &editor, "watched").await;
        let other = create_partner(&app, &editor, "not-watched").await;
        let mut client = WsClient::connect(&app, None).await;
        client.settle(&app, &editor).await;
        client.subscribe("1", PARTNER_CHANGED, json!({ "id": partner })).await;
        client.nothing_pending().await;

        rename(&app, &editor, &other, 1, "Ignored").await;
        rename(&app, &editor, &partner, 1, "Renamed once").await;
        let event = next_data(&mut client, "1").await["partnerChanged"].clone();
        assert_eq!(event["action"], "UPDATE");
        assert_eq!(event["recordKind"], "PARTNER");
        assert_eq!(event["recordId"], json!(partner));
        assert_eq!(event["version"], 2);
        assert_eq!(event["node"], json!({ "name": "Renamed once", "version": 2 }));
        assert!(event["actor"].as_str().is_some_and(|a| a.starts_with("editor")));

        rename(&app, &editor, &partner, 2, "Renamed twice").await;
        let event = next_data(&mut client, "1").await["partnerChanged"].clone();
        assert_eq!(event["version"], 3, "each change arrives once, in order");
        client.nothing_pending().await;

        // Completed by the client: no `complete` echoed back, and no more
        // events; the next one is a later change seen by another subscription.
        client.send(json!({ "id": "1", "type": "complete" })).await;
        client.subscribe("2", PARTNER_CHANGED, json!({ "id": other })).await;
        client.nothing_pending().await;
        rename(&app, &editor, &partner, 3, "Unseen").await;
        rename(&app, &editor, &other, 2, "Seen").await;
        let event = next_data(&mut client, "2").await["partnerChanged"].clone();
        assert_eq!(event["node"]["name"], "Seen");
        client.nothing_pending().await;
    }

    async fn filtered_and_firehose_subscriptions_see_what_they_ask_for(app) {
        let editor = app.token(Role::Editor).await;
        let partner = create_partner(&app, &editor, "agreement-owner").await;
        let mut client = WsClient::connect(&app, None).await;
        client.settle(&app, &editor).await;
        client.subscribe("mine", "subscription($p: ID) { agreementChanged(partnerId: $p) { action recordKind change { after } } }", json!({ "p": partner })).await;
        client.subscribe("all", "subscription { changes { action recordKind change { after } } }", json!({})).await;
        client.nothing_pending().await;
        let other = app.partner_id("europol").await;
        create_agreement(&app, &editor, &other, "ELSEWHERE-1").await;
        let firehose = next_data(&mut client, "all").await;
        assert_eq!(firehose["changes"]["recordKind"], "AGREEMENT");
        assert_eq!(firehose["changes"]["change"]["after"]["reference"], "ELSEWHERE-1");
        create_agreement(&app, &editor, &partner, "MINE-1").await;
        let mut seen = [client.message().await, client.message().await];
        seen.sort_by_key(|m| m["id"].as_str().unwrap_or("").to_owned());
        assert_eq!(seen[0]["id"], "all");
        assert_eq!(seen[1]["id"], "mine");
        let mine = &seen[1]["payload"]["data"]["agreementChanged"];
        assert_eq!((mine["action"].as_str(), mine["recordKind"].as_str()), (Some("CREATE"), Some("AGREEMENT")));
        assert_eq!(mine["change"]["after"]["reference"], "MINE-1", "only the partner's own agreements");
        client.nothing_pending().await;
    }

    async fn a_query_over_the_socket_gets_one_result_then_complete(app) {
        let mut client = WsClient::connect(&app, None).await;
        client.subscribe("q", r#"{ partner(slug: "unodc") { acronym } }"#, json!({})).await;
        assert_eq!(next_data(&mut client, "q").await, json!({ "partner": { "acronym": "UNODC" } }));
        assert_eq!(client.message().await, json!({ "id": "q", "type": "complete" }));
        // The id is free again once completed.
        client.subscribe("q", "{ policingGoals { number } }", json!({})).await;
        assert_eq!(next_data(&mut client, "q").await["policingGoals"].as_array().map(Vec::len), Some(7));
    }

    async fn an_invalid_operation_gets_an_error_message_and_no_complete(app) {
        let mut client = WsClient::connect(&app, None).await;
        client.subscribe("bad", "subscription { noSuchField }", json!({})).await;
        let error = client.message().await;
        assert_eq!(error["type"], "error", "{error}");
        assert_eq!(error["id"], "bad");
        assert_eq!(error["payload"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED");
        client.subscribe("bad-id", "subscription { partnerChanged(id: \"garbage\") { action } }", json!({})).await;
        let error = client.message().await;
        assert_eq!(error["type"], "error", "{error}");
        assert_eq!(error["payload"][0]["extensions"]["code"], "BAD_USER_INPUT");
        client.nothing_pending().await;
    }

    async fn a_mutation_over_the_socket_obeys_the_token_rules(app) {
        let mut anonymous = WsClient::connect(&app, None).await;
        anonymous.subscribe("m", CREATE_PARTNER, json!({ "input": partner_input("over-ws") })).await;
        let result = anonymous.message().await;
        assert_eq!(result["type"], "next");
        assert_eq!(result["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
        let editor = app.token(Role::Editor).await;
        let mut client = WsClient::connect(&app, Some(&editor)).await;
        client.subscribe("m", CREATE_PARTNER, json!({ "input": partner_input("over-ws") })).await;
        assert_eq!(next_data(&mut client, "m").await["createPartner"]["slug"], "over-ws");
    }

    async fn ping_is_answered_with_pong_even_before_init(app) {
        let mut client = WsClient::open(&app, Some("graphql-transport-ws")).await;
        client.send(json!({ "type": "ping", "payload": { "n": 1 } })).await;
        assert_eq!(client.message().await, json!({ "type": "pong", "payload": { "n": 1 } }));
        client.send(json!({ "type": "ping" })).await;
        assert_eq!(client.message().await, json!({ "type": "pong" }));
    }

    async fn the_protocol_close_codes_are_those_of_graphql_transport_ws(app) {
        let init = r#"{"type":"connection_init"}"#;
        let subscribe = r#"{"id":"1","type":"subscribe","payload":{"query":"subscription { changes { action } }"}}"#;
        assert_eq!(closes_with(&app, &[init, init], 4429).await, "Too many initialisation requests");
        assert_eq!(closes_with(&app, &[subscribe], 4401).await, "Unauthorized");
        assert_eq!(closes_with(&app, &[init, subscribe, subscribe], 4409).await, "Subscriber for 1 already exists");
        for invalid in [
            "not json",
            "[]",
            r#"{"payload":{}}"#,
            r#"{"type":"no_such_type"}"#,
            r#"{"type":"connection_init","payload":"text"}"#,
            r#"{"id":"1","type":"subscribe","payload":{"query":"{ partners { totalCount } }"}}"#.replace("\"id\":\"1\",", "").as_str(),
            r#"{"type":"next","id":"1","payload":{}}"#,
        ] {
            closes_with(&app, &[init, invalid], 4400).await;
        }
        closes_with(&app, &[init, r#"{"id":"1","type":"subscribe","payload":{"query":42}}"#], 4400).await;
        closes_with(&app, &[init, r#"{"id":"","type":"subscribe","payload":{"query":"{ __typename }"}}"#], 4400).await;
        closes_with(&app, &[init, r#"{"id":"1","type":"subscribe","payload":{"query":"{ __typename }","variables":[1]}}"#], 4400).await;
        closes_with(&app, &[r#"{"type":"connection_init","payload":{"Authorization":"Bearer prt_unknown"}}"#], 4403).await;
    }

    async fn a_message_larger_than_a_request_body_closes_the_socket(app) {
        let mut client = WsClient::open(&app, Some("graphql-transport-ws")).await;
        let huge = format!(r#"{{"type":"ping","payload":{{"x":"{}"}}}}"#, "x".repeat(2 * 1024 * 1024));
        client.send_text_unchecked(&huge).await;
        let code = client.closed_or_reset().await;
        assert!(code == 1009 || code == 1006, "closed with {code}: Message Too Big (or reset before the client read it)");
        // The server is none the worse.
        let mut next = WsClient::connect(&app, None).await;
        next.nothing_pending().await;
    }

    async fn a_socket_without_the_subprotocol_is_closed_4406(app) {
        let mut client = WsClient::open(&app, None).await;
        assert_eq!(client.closed().await.0, 4406);
    }

    async fn an_id_is_free_again_once_its_operation_ended(app) {
        let mut client = WsClient::connect(&app, None).await;
        client.subscribe("x", "subscription { noSuchField }", json!({})).await;
        assert_eq!(client.message().await["type"], "error");
        client.subscribe("x", r#"{ partner(slug: "who") { acronym } }"#, json!({})).await;
        assert_eq!(next_data(&mut client, "x").await, json!({ "partner": { "acronym": "WHO" } }));
        assert_eq!(client.message().await, json!({ "id": "x", "type": "complete" }));
        client.subscribe("x", "subscription { changes { action } }", json!({})).await;
        client.send(json!({ "id": "x", "type": "complete" })).await;
        client.subscribe("x", "{ policingGoals { number } }", json!({})).await;
        assert_eq!(next_data(&mut client, "x").await["policingGoals"].as_array().map(Vec::len), Some(7));
        assert_eq!(client.message().await, json!({ "id": "x", "type": "complete" }));
    }

    async fn a_token_revoked_while_its_socket_is_open_stops_working(app) {
        let editor = app.token(Role::Editor).await;
        let mut client = WsClient::connect(&app, Some(&editor)).await;
        client.subscribe("a", "{ partners { totalCount } }", json!({})).await;
        assert!(next_data(&mut client, "a").await["partners"]["totalCount"].is_number());
        assert_eq!(client.message().await["type"], "complete");
        let name = partnership_registry::auth::list(&app.db).await.expect("tokens")[0].name.clone();
        partnership_registry::auth::revoke(&app.db, &name).await.expect("revoked");
        client.subscribe("b", CREATE_PARTNER, json!({ "input": partner_input("after-revocation") })).await;
        assert_eq!(client.closed().await.0, 4403);
        let read = app.data(r#"{ partner(slug: "after-revocation") { id } }"#, json!({})).await;
        assert_eq!(read["partner"], Value::Null);
    }
}

mod timing {
    use super::*;

    async fn no_init_in_time_closes_4408(backend: Backend) {
        let app = short_init(backend).await;
        let mut client = WsClient::open(&app, Some("graphql-transport-ws")).await;
        let (code, reason) = client.closed().await;
        assert_eq!((code, reason.as_str()), (4408, "Connection initialisation timeout"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_sqlite_no_init_in_time_closes_4408() {
        no_init_in_time_closes_4408(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres_no_init_in_time_closes_4408() {
        no_init_in_time_closes_4408(Backend::Postgres).await;
    }

    async fn reads_behind_tokens_refuse_an_anonymous_socket(backend: Backend) {
        let app =
            spawn_app_with(backend, ServerOptions { require_auth_for_reads: true, ..crate::helpers::options() }).await;
        assert_eq!(closes_with(&app, &[r#"{"type":"connection_init"}"#], 4403).await, "Forbidden");
        let viewer = app.token(Role::Viewer).await;
        let mut client = WsClient::connect(&app, Some(&viewer)).await;
        client.nothing_pending().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_sqlite_reads_behind_tokens_refuse_an_anonymous_socket() {
        reads_behind_tokens_refuse_an_anonymous_socket(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres_reads_behind_tokens_refuse_an_anonymous_socket() {
        reads_behind_tokens_refuse_an_anonymous_socket(Backend::Postgres).await;
    }
}

mod replicas {
    use super::*;

    /// Two servers on one PostgreSQL database: a change written through one
    /// reaches a subscriber of the other, exactly once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_change_through_one_replica_reaches_the_other_exactly_once() {
        let a = crate::helpers::spawn_app(Backend::Postgres).await;
        let b = a.replica().await;
        let editor = a.token(Role::Editor).await;
        // Subscribed before anything is written, so every event is one of these writes.
        let firehose =
            "subscription { changes(kinds: [PARTNER]) { action version node { ... on Partner { name(lang: EN) } } } }";
        let mut on_a = WsClient::connect(&a, None).await;
        on_a.subscribe("r", firehose, json!({})).await;
        let mut on_b = WsClient::connect(&b, None).await;
        on_b.subscribe("r", firehose, json!({})).await;
        on_a.nothing_pending().await;
        on_b.nothing_pending().await;

        let partner = create_partner(&b, &editor, "replicated").await;
        for client in [&mut on_a, &mut on_b] {
            let event = next_data(client, "r").await["changes"].clone();
            assert_eq!((event["action"].as_str(), event["version"].as_i64()), (Some("CREATE"), Some(1)));
        }
        rename(&b, &editor, &partner, 1, "Through B").await;
        let event = next_data(&mut on_a, "r").await["changes"].clone();
        assert_eq!((event["version"].clone(), event["node"]["name"].clone()), (json!(2), json!("Through B")));
        assert_eq!(next_data(&mut on_b, "r").await["changes"]["version"], 2);
        // A change through the other: the next event on each is that one, not a repeat.
        rename(&a, &editor, &partner, 2, "Through A").await;
        assert_eq!(next_data(&mut on_a, "r").await["changes"]["version"], 3);
        assert_eq!(next_data(&mut on_b, "r").await["changes"]["version"], 3);
        on_a.nothing_pending().await;
        on_b.nothing_pending().await;
    }

    /// A write that is rolled back sends nothing; the next committed one does.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_rolled_back_write_sends_no_event() {
        let app = crate::helpers::spawn_app(Backend::Postgres).await;
        let editor = app.token(Role::Editor).await;
        let mut client = WsClient::connect(&app, None).await;
        client.subscribe("all", "subscription { changes { recordKind action } }", json!({})).await;
        client.nothing_pending().await;
        let body = app.graphql_as(&editor, CREATE_PARTNER, json!({ "input": partner_input("unodc") })).await;
        assert_eq!(crate::helpers::error_code(&body), "CONFLICT");
        create_partner(&app, &editor, "committed").await;
        let event = next_data(&mut client, "all").await;
        assert_eq!(
            event["changes"],
            json!({ "recordKind": "PARTNER", "action": "CREATE" }),
            "only the committed write"
        );
        client.nothing_pending().await;
    }
}
