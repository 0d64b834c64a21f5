//! GraphQL over HTTP: every check of the `graphql-http` audit suite (13
//! MUST, 23 SHOULD, 25 MAY), each sent as the suite sends it and judged as
//! the suite judges it, plus the rules the suite leaves out (406, 405 with
//! `Allow`, 415, 413, batches).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_databases;

const GRJ: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// What one audit expects.
enum Expect {
    /// This status exactly.
    Status(u16),
    /// A status in 400..=499.
    ClientError,
    /// A status in 400..=599.
    Error,
    /// 200, and a content type containing this.
    OkAs(&'static str),
    /// 200 and no `errors` key.
    OkClean,
    /// No `data` key (and not 2xx).
    NoData,
}

struct Audit {
    id: &'static str,
    get: bool,
    accept: Option<&'static str>,
    content_type: Option<&'static str>,
    /// The body (POST) or the query string (GET).
    payload: &'static str,
    expect: Expect,
}

const fn post(id: &'static str, accept: Option<&'static str>, payload: &'static str, expect: Expect) -> Audit {
    Audit { id, get: false, accept, content_type: Some(JSON), payload, expect }
}

fn audits() -> Vec<Audit> {
    use Expect::*;
    let typename = r#"{"query":"{ __typename }"}"#;
    let coerce = r#"{"query":"query CoerceFailure($id: ID!){ __typename }","variables":{"id":null}}"#;
    let type_query =
        r#"{"query":"query Type($name: String!) { __type(name: $name) { name } }","variables":{"name":"sometype"}}"#;
    let get_type = "query=query+Type%28%24name%3A+String%21%29+%7B+__type%28name%3A+%24name%29+%7B+name+%7D+%7D&variables=%7B%22name%22%3A%22sometype%22%7D";
    vec![
        post("22EB", Some(GRJ), typename, OkAs(GRJ)),
        post("4655", Some(JSON), typename, OkAs(JSON)),
        post("47DE", Some("*/*"), typename, OkAs(JSON)),
        post("80D8", None, typename, OkAs(JSON)),
        post("82A3", None, typename, Status(200)),
        Audit {
            id: "BF61",
            get: false,
            accept: None,
            content_type: Some("application/json; charset=utf-8"),
            payload: r#"{"query":"{ __type(name: \"Run🏃Swim🏊\") { name } }"}"#,
            expect: Status(200),
        },
        post("78D5", None, typename, Status(200)),
        post("2C94", None, typename, Status(200)),
        Audit {
            id: "5A70",
            get: true,
            accept: None,
            content_type: None,
            payload: "query=%7B+__typename+%7D",
            expect: Status(200),
        },
        Audit {
            id: "9C48",
            get: true,
            accept: Some(GRJ),
            content_type: None,
            payload: "query=mutation+%7B+__typename+%7D",
            expect: ClientError,
        },
        Audit {
            id: "9ABE",
            get: false,
            accept: None,
            content_type: Some("text/plain;charset=UTF-8"),
            payload: typename,
            expect: ClientError,
        },
        Audit { id: "9ABE'", get: false, accept: None, content_type: None, payload: typename, expect: ClientError },
        post("03D4", None, typename, Status(200)),
        post("A5BF", None, "", Status(400)),
        post("423L", Some(GRJ), r#"{"notquery":"{ __typename }"}"#, Status(400)),
        post("LKJ0", None, r#"{"query":{"obj":"ect"}}"#, Status(400)),
        post("LKJ1", None, r#"{"query":0}"#, Status(400)),
        post("LKJ2", None, r#"{"query":false}"#, Status(400)),
        post("LKJ3", None, r#"{"query":["array"]}"#, Status(400)),
        post("34A2", Some(GRJ), typename, Status(200)),
        post("13EE", Some(JSON), typename, OkClean),
        post("6C00", None, r#"{"operationName":{"obj":"ect"},"query":"{ __typename }"}"#, Status(400)),
        post("6C01", None, r#"{"operationName":0,"query":"{ __typename }"}"#, Status(400)),
        post("6C02", None, r#"{"operationName":false,"query":"{ __typename }"}"#, Status(400)),
        post("6C03", None, r#"{"operationName":["array"],"query":"{ __typename }"}"#, Status(400)),
        post("8161", Some(GRJ), r#"{"operationName":"Query","query":"query Query { __typename }"}"#, Status(200)),
        post("B8B3", Some(JSON), r#"{"operationName":"Query","query":"query Query { __typename }"}"#, OkClean),
        post("94B0", Some(GRJ), r#"{"query":"{ __typename }","variables":null}"#, OkClean),
        post("0220", Some(JSON), r#"{"query":"{ __typename }","variables":null}"#, OkClean),
        post("94B1", Some(GRJ), r#"{"query":"{ __typename }","operationName":null}"#, OkClean),
        post("0221", Some(JSON), r#"{"query":"{ __typename }","operationName":null}"#, OkClean),
        post("94B2", Some(GRJ), r#"{"query":"{ __typename }","extensions":null}"#, OkClean),
        post("0222", Some(JSON), r#"{"query":"{ __typename }","extensions":null}"#, OkClean),
        post("4760", None, r#"{"query":"{ __typename }","variables":"string"}"#, Status(400)),
        post("4761", None, r#"{"query":"{ __typename }","variables":0}"#, Status(400)),
        post("4762", None, r#"{"query":"{ __typename }","variables":false}"#, Status(400)),
        post("4763", None, r#"{"query":"{ __typename }","variables":["array"]}"#, Status(400)),
        post("2EA1", Some(GRJ), type_query, Status(200)),
        post("28B9", Some(JSON), type_query, OkClean),
        Audit { id: "D6D5", get: true, accept: Some(GRJ), content_type: None, payload: get_type, expect: OkClean },
        Audit { id: "6A70", get: true, accept: Some(JSON), content_type: None, payload: get_type, expect: OkClean },
        post("58B0", None, r#"{"query":"{ __typename }","extensions":"string"}"#, Status(400)),
        post("58B1", None, r#"{"query":"{ __typename }","extensions":0}"#, Status(400)),
        post("58B2", None, r#"{"query":"{ __typename }","extensions":false}"#, Status(400)),
        post("58B3", None, r#"{"query":"{ __typename }","extensions":["array"]}"#, Status(400)),
        post("428F", Some(GRJ), r#"{"query":"{ __typename }","extensions":{"some":"value"}}"#, Status(200)),
        post("1B7A", Some(JSON), r#"{"query":"{ __typename }","extensions":{"some":"value"}}"#, OkClean),
        post("BCF8", Some(JSON), r#"{ "not a JSON"#, Status(400)),
        post("B7N8", Some(GRJ), r#"{ "not a JSON"#, Status(400)),
        post("8764", None, r#"{"qeury":"{ __typename }"}"#, Error),
        post("3E3A", None, r#"{"qeury":"{ __typename }"}"#, Status(400)),
        post("572B", Some(JSON), r#"{"query":"{"}"#, Status(200)),
        post("FDE2", Some(JSON), r#"{"query":"{ 8f31403dfe404bccbb0e835f2629c6a7 }"}"#, Status(200)),
        post("7B9B", Some(JSON), coerce, Status(200)),
        post("865D", Some(GRJ), r#"{"query":"{"}"#, Error),
        post("556A", Some(GRJ), r#"{"query":"{"}"#, Status(400)),
        post("D586", Some(GRJ), r#"{"query":"{"}"#, NoData),
        post("51FE", Some(GRJ), r#"{"query":"{ 8f31403dfe404bccbb0e835f2629c6a7 }"}"#, Error),
        post("74FF", Some(GRJ), r#"{"query":"{ 8f31403dfe404bccbb0e835f2629c6a7 }"}"#, Status(400)),
        post("5E5B", Some(GRJ), r#"{"query":"{ 8f31403dfe404bccbb0e835f2629c6a7 }"}"#, NoData),
        post("86EE", Some(GRJ), coerce, Status(400)),
        // The suite's "validation" documents fail to parse (a name may not
        // start with a digit); these fail validation proper.
        post("validation/GRJ", Some(GRJ), r#"{"query":"{ noSuchField }"}"#, Status(400)),
        post("validation/GRJ/data", Some(GRJ), r#"{"query":"{ noSuchField }"}"#, NoData),
        post("validation/JSON", Some(JSON), r#"{"query":"{ noSuchField }"}"#, Status(200)),
        post("no-operation/GRJ", Some(GRJ), r#"{"query":"query A { __typename } query B { __typename }"}"#, NoData),
        post("unknown-operation/GRJ", Some(GRJ), r#"{"query":"query A { __typename }","operationName":"B"}"#, NoData),
    ]
}

async fn send(app: &TestApp, audit: &Audit) -> reqwest::Response {
    let mut request = if audit.get {
        app.client.get(format!("{}?{}", app.url("/graphql"), audit.payload))
    } else {
        app.client.post(app.url("/graphql")).body(audit.payload)
    };
    if let Some(accept) = audit.accept {
        request = request.header("accept", accept);
    }
    if let Some(content_type) = audit.content_type {
        request = request.header("content-type", content_type);
    }
    request.send().await.expect("the server answers")
}

on_both_databases! {
    async fn every_check_of_the_graphql_http_audit_suite_passes(app) {
        for audit in audits() {
            let response = send(&app, &audit).await;
            let status = response.status().as_u16();
            let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            let text = response.text().await.expect("a body");
            let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let id = audit.id;
            match audit.expect {
                Expect::Status(expected) => assert_eq!(status, expected, "{id}: {text}"),
                Expect::ClientError => assert!((400..500).contains(&status), "{id}: {status} {text}"),
                Expect::Error => assert!((400..600).contains(&status), "{id}: {status} {text}"),
                Expect::OkAs(media) => {
                    assert_eq!(status, 200, "{id}: {text}");
                    assert!(content_type.contains(media), "{id}: {content_type}");
                }
                Expect::OkClean => {
                    assert_eq!(status, 200, "{id}: {text}");
                    assert!(body.get("errors").is_none(), "{id}: {text}");
                }
                Expect::NoData => {
                    assert!(status >= 400, "{id}: {status}");
                    assert!(body.is_object() && body.get("data").is_none(), "{id}: {text}");
                }
            }
        }
    }

    async fn a_mutation_over_get_is_405_and_never_runs(app) {
        let query = r#"mutation { deletePartner(id: "UGFydG5lcjox", expectedVersion: 1) { id } }"#;
        let response = app.client.get(app.url("/graphql")).query(&[("query", query)]).send().await.expect("answer");
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers()["allow"], "POST");
        let still = app.data(r#"{ partner(slug: "united-nations") { version } }"#, json!({})).await;
        assert_eq!(still["partner"]["version"], 1);
    }

    async fn an_accept_it_cannot_serve_is_406(app) {
        let response = app
            .client
            .post(app.url("/graphql"))
            .header("accept", "text/html")
            .json(&json!({ "query": "{ __typename }" }))
            .send()
            .await
            .expect("answer");
        assert_eq!(response.status(), StatusCode::NOT_ACCEPTABLE);
    }

    async fn a_cross_site_form_cannot_post(app) {
        for content_type in ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain"] {
            let response = app
                .client
                .post(app.url("/graphql"))
                .header("content-type", content_type)
                .body(r#"{"query":"mutation { deletePartner(id: \"UGFydG5lcjox\", expectedVersion: 1) { id } }"}"#)
                .send()
                .await
                .expect("answer");
            assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type}");
        }
    }

    async fn a_batch_runs_each_operation_and_answers_in_order(app) {
        let batch = json!([
            { "query": r#"{ partner(slug: "unodc") { acronym } }"# },
            { "query": "{ nope }" },
            { "query": r#"{ partner(slug: "who") { acronym } }"# },
        ]);
        let response = app.client.post(app.url("/graphql")).json(&batch).send().await.expect("answer");
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.expect("json");
        assert_eq!(body[0]["data"]["partner"]["acronym"], "UNODC");
        assert_eq!(body[1]["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED");
        assert!(body[1].get("data").is_none(), "a request that never ran has no data: {body}");
        assert_eq!(body[2]["data"]["partner"]["acronym"], "WHO");
    }

    async fn the_cost_of_a_document_is_reported(app) {
        let body = app.graphql("{ partners(first: 5) { nodes { agreements(first: 3) { totalCount } } } }", json!({})).await;
        assert_eq!(body["extensions"]["cost"], 1 + 5 + 15);
    }
}
