//! Per-client budgets: every operation spends its document cost from its
//! client's budget (a token's, or an address's without one); over it, 429
//! `RATE_LIMITED` with `Retry-After`; every answer reports the budget in
//! the `RateLimit` headers and, when it ran, in `extensions.rateLimit`.

use partnership_registry::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, error_code, options, spawn_app_with};
use crate::ws_client::WsClient;

/// A page of ten partners: 11 points (the answer says so in `extensions.cost`).
const PAGE: &str = "{ partners(first: 10) { nodes { slug } } }";

async fn app_with(per_token: u32, per_address: u32) -> TestApp {
    let mut options = options();
    options.budget_per_token = per_token;
    options.budget_per_address = per_address;
    options.client_address_header = Some(axum::http::HeaderName::from_static("x-forwarded-for"));
    spawn_app_with(Backend::Sqlite, options).await
}

/// Sends `query` with these headers; returns the status, the budget headers and the body.
async fn send(app: &TestApp, query: &str, headers: &[(&str, &str)]) -> (u16, [Option<String>; 3], Value) {
    let mut request = app.client.post(app.url("/graphql")).json(&json!({ "query": query }));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("the server answers");
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let found = [header("ratelimit-policy"), header("ratelimit"), header("retry-after")];
    (response.status().as_u16(), found, response.json().await.expect("JSON"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_answer_reports_what_it_spent_and_what_is_left() {
    let app = app_with(1_000, 1_000).await;
    let (status, [policy, remaining, retry], body) = send(&app, PAGE, &[]).await;
    assert_eq!(status, 200);
    let cost = body["extensions"]["cost"].as_u64().expect("a cost");
    assert_eq!(policy.as_deref(), Some("\"address\";q=1000;w=60"));
    let left = 1_000 - cost;
    let reset = (cost * 60).div_ceil(1_000);
    assert_eq!(remaining, Some(format!("\"address\";r={left};t={reset}")));
    assert_eq!(retry, None);
    assert_eq!(
        body["extensions"]["rateLimit"],
        json!({ "policy": "address", "limit": 1_000, "remaining": left, "resetSeconds": reset, "cost": cost })
    );
    // A document refused before it runs costs a point, and says so too.
    let (status, [_, remaining, _], body) = send(&app, "{ nope }", &[]).await;
    assert_eq!((status, error_code(&body)), (200, "GRAPHQL_VALIDATION_FAILED"));
    assert!(remaining.is_some_and(|r| r.starts_with(&format!("\"address\";r={};", left - 1))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_budget_is_429_rate_limited_with_retry_after() {
    let app = app_with(1_000, 15).await;
    let (_, _, body) = send(&app, PAGE, &[]).await;
    let cost = body["extensions"]["cost"].as_u64().expect("a cost");
    assert!(cost > 8 && cost <= 15, "the page costs between half and all of the budget: {cost}");
    for accept in ["application/json", "application/graphql-response+json"] {
        let (status, [policy, remaining, retry], body) = send(&app, PAGE, &[("accept", accept)]).await;
        assert_eq!(status, 429, "{accept}: {body}");
        assert_eq!(error_code(&body), "RATE_LIMITED");
        assert!(body["data"].is_null(), "nothing ran: {body}");
        let retry: u64 = retry.expect("Retry-After").parse().expect("seconds");
        assert!((1..=60).contains(&retry), "{retry}");
        assert_eq!(body["errors"][0]["extensions"]["retryAfterSeconds"], retry);
        assert_eq!(policy.as_deref(), Some("\"address\";q=15;w=60"));
        assert_eq!(remaining, Some(format!("\"address\";r=0;t={retry}")));
    }
    // Another address behind the same proxy has a budget of its own.
    let (status, _, _) = send(&app, PAGE, &[("x-forwarded-for", "198.51.100.7, 203.0.113.9")]).await;
    assert_eq!(status, 200);
    // A token's budget is the token's, not the address's.
    let token = app.token(Role::Viewer).await;
    let bearer = format!("Bearer {token}");
    let (status, [policy, ..], body) = send(&app, PAGE, &[("authorization", bearer.as_str())]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(policy.as_deref(), Some("\"token\";q=1000;w=60"));
    assert_eq!(body["extensions"]["rateLimit"]["policy"], "token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_costlier_than_the_whole_budget_never_runs() {
    let app = app_with(0, 5).await;
    let (status, [_, _, retry], body) = send(&app, PAGE, &[]).await;
    assert_eq!((status, error_code(&body)), (429, "RATE_LIMITED"));
    assert_eq!(retry, None, "waiting would not help");
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("more than your whole address budget")));
    // With token budgets off, a token spends nothing and is told nothing.
    let token = app.token(Role::Viewer).await;
    let bearer = format!("Bearer {token}");
    let (status, [policy, remaining, _], body) = send(&app, PAGE, &[("authorization", bearer.as_str())]).await;
    assert_eq!((status, policy, remaining), (200, None, None));
    assert!(body["extensions"]["rateLimit"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_spends_for_each_operation() {
    let app = app_with(1_000, 1_000).await;
    let (_, _, body) = send(&app, PAGE, &[]).await;
    let cost = body["extensions"]["cost"].as_u64().expect("a cost");
    let batch = json!([{ "query": PAGE }, { "query": PAGE }]);
    let response = app.client.post(app.url("/graphql")).json(&batch).send().await.expect("the server answers");
    let remaining = response.headers().get("ratelimit").and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert_eq!(
        remaining.and_then(|r| r.split(";r=").nth(1)?.split(';').next()?.parse::<u64>().ok()),
        Some(1_000 - 3 * cost)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operation_over_a_websocket_spends_the_same_budget() {
    let app = app_with(1_000, 15).await;
    let (status, _, _) = send(&app, PAGE, &[]).await;
    assert_eq!(status, 200);
    let mut ws = WsClient::connect(&app, None).await;
    ws.send(json!({ "id": "1", "type": "subscribe", "payload": { "query": PAGE } })).await;
    let message = ws.message().await;
    assert_eq!(message["type"], "error", "{message}");
    assert_eq!(message["payload"][0]["extensions"]["code"], "RATE_LIMITED");
}
