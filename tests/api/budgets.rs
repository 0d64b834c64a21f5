//! Per-client budgets: every operation spends its document cost from its
//! client's budget (a token's, or an address's without one); over it, 429
//! `RATE_LIMITED` with `Retry-After`; every answer reports the budget in
//! the `RateLimit` headers and, when it ran, in `extensions.rateLimit`.

use std::time::{Duration, Instant};

use partnership_registry::auth::Role;
use partnership_registry::persisted::sha256_hex;
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

/// The `r` and `t` of a `RateLimit` header.
fn remaining_and_reset(header: Option<&str>) -> (u64, u64) {
    let field =
        |name: &str| -> Option<u64> { header?.split(';').find_map(|part| part.strip_prefix(name))?.parse().ok() };
    let (Some(remaining), Some(reset)) = (field("r="), field("t=")) else {
        panic!("a RateLimit header with r and t: {header:?}");
    };
    (remaining, reset)
}

/// Points a budget of `per_minute` gives back in `elapsed`, rounded up:
/// what a budget read later may hold above what was spent.
fn refilled(per_minute: u64, elapsed: Duration) -> u64 {
    (elapsed.as_millis() as u64 * per_minute).div_ceil(60_000)
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
    // A budget is whole until first spent: the first answer is exact. The
    // points come back from when it spent, before it answered.
    let first = Instant::now();
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
    // A document refused before it runs costs a point, and says so too;
    // the budget has had a point back every 60 ms since.
    let (status, [_, remaining, _], body) = send(&app, "{ nope }", &[]).await;
    assert_eq!((status, error_code(&body)), (200, "GRAPHQL_VALIDATION_FAILED"));
    let (now, _) = remaining_and_reset(remaining.as_deref());
    let most = (left - 1 + refilled(1_000, first.elapsed())).min(999);
    assert!((left - 1..=most).contains(&now), "{now} points left, expected {} to {most}", left - 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_budget_is_429_rate_limited_with_retry_after() {
    let app = app_with(1_000, 15).await;
    let spent = Instant::now();
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
        // What is left (a point every 4 s), fewer than the cost, and the
        // time until the budget is whole: no sooner than the retry.
        let (left, whole) = remaining_and_reset(remaining.as_deref());
        let most = 15 - cost + refilled(15, spent.elapsed());
        assert!((15 - cost..=most).contains(&left) && left < cost, "{left} points left of 15 after spending {cost}");
        assert!((retry..=60).contains(&whole), "whole in {whole} s, retry in {retry} s");
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
    let first = Instant::now();
    let (_, _, body) = send(&app, PAGE, &[]).await;
    let cost = body["extensions"]["cost"].as_u64().expect("a cost");
    let batch = json!([{ "query": PAGE }, { "query": PAGE }]);
    let response = app.client.post(app.url("/graphql")).json(&batch).send().await.expect("the server answers");
    let header = response.headers().get("ratelimit").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (left, _) = remaining_and_reset(header.as_deref());
    let most = 1_000 - 3 * cost + refilled(1_000, first.elapsed());
    assert!((1_000 - 3 * cost..=most).contains(&left), "{left} points left after three pages of {cost}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persisted_query_over_budget_is_not_kept() {
    let app = app_with(0, 15).await;
    let (_, _, body) = send(&app, PAGE, &[]).await;
    assert!(body["extensions"]["cost"].as_u64().is_some_and(|cost| cost > 8), "{body}");
    let hash = sha256_hex(PAGE);
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    let post = |body: Value, from: &'static str| {
        app.client.post(app.url("/graphql")).header("x-forwarded-for", from).json(&body).send()
    };
    // The first page spent the loopback address's budget, not this one's.
    let registered = post(json!({ "query": PAGE, "extensions": extensions }), "192.0.2.1").await.expect("an answer");
    assert_eq!(registered.status().as_u16(), 200, "a fresh address registers");
    let again = json!({ "query": PAGE, "extensions": extensions });
    let refused = post(again, "192.0.2.1").await.expect("an answer");
    assert_eq!(refused.status().as_u16(), 429);
    // Registered by the request that was paid for; now one that is not.
    let other = "{ partners(first: 9) { nodes { slug } } }";
    let other_extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(other) } });
    let refused =
        post(json!({ "query": other, "extensions": other_extensions }), "192.0.2.1").await.expect("an answer");
    assert_eq!(refused.status().as_u16(), 429);
    let by_hash = post(json!({ "extensions": other_extensions }), "198.51.100.1").await.expect("an answer");
    let body: Value = by_hash.json().await.expect("JSON");
    assert_eq!(error_code(&body), "PERSISTED_QUERY_NOT_FOUND", "a refused registration keeps nothing: {body}");
    let by_hash = post(json!({ "extensions": extensions }), "198.51.100.2").await.expect("an answer");
    let body: Value = by_hash.json().await.expect("JSON");
    assert!(body["data"]["partners"]["nodes"].is_array(), "a paid registration is kept: {body}");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_that_is_not_known_costs_its_address_a_point() {
    let app = app_with(1_000, 3).await;
    let bad = [("authorization", "Bearer prt_not-a-token-anyone-was-given")];
    let mut answers = Vec::new();
    for _ in 0..4 {
        let (status, [policy, remaining, retry], body) = send(&app, PAGE, &bad).await;
        answers.push((
            status,
            error_code(&body).to_owned(),
            policy,
            remaining.map(|r| r[..r.find(";t=").unwrap_or(0)].to_owned()),
            retry.is_some(),
        ));
    }
    let policy = Some("\"address\";q=3;w=60".to_owned());
    let expected = |status, code: &str, left: Option<&str>, retry| {
        (status, code.to_owned(), policy.clone(), left.map(str::to_owned), retry)
    };
    assert_eq!(
        answers,
        [
            expected(401, "UNAUTHENTICATED", Some("\"address\";r=2"), false),
            expected(401, "UNAUTHENTICATED", Some("\"address\";r=1"), false),
            expected(401, "UNAUTHENTICATED", Some("\"address\";r=0"), false),
            expected(429, "RATE_LIMITED", Some("\"address\";r=0"), true),
        ]
    );
    // Spent: the next guesses are refused before any lookup.
    let before = app.pool_statements.load(std::sync::atomic::Ordering::Relaxed);
    for _ in 0..3 {
        let (status, [_, _, retry], body) = send(&app, PAGE, &bad).await;
        assert_eq!((status, error_code(&body)), (429, "RATE_LIMITED"), "{body}");
        assert!(retry.is_some_and(|r| r.parse::<u64>().is_ok_and(|s| (1..=20).contains(&s))));
    }
    // Over a WebSocket too: the connection closes, and nothing is looked up.
    let mut ws = WsClient::open(&app, Some("graphql-transport-ws")).await;
    ws.send(json!({ "type": "connection_init", "payload": { "Authorization": bad[0].1 } })).await;
    assert_eq!(ws.closed().await.0, 4403);
    assert_eq!(app.pool_statements.load(std::sync::atomic::Ordering::Relaxed), before, "no token was looked up");
    // The address's reads without a token wait as well.
    let (status, _, _) = send(&app, "{ __typename }", &[]).await;
    assert_eq!(status, 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_address_header_is_believed_only_from_a_trusted_proxy() {
    let mut options = options();
    options.budget_per_address = 15;
    options.client_address_header = Some(axum::http::HeaderName::from_static("x-forwarded-for"));
    options.trusted_proxies = vec!["192.0.2.0/24".parse().expect("a network")];
    let app = spawn_app_with(Backend::Sqlite, options).await;
    let (status, _, _) = send(&app, PAGE, &[("x-forwarded-for", "198.51.100.7")]).await;
    assert_eq!(status, 200);
    // The test's connection comes from loopback, no proxy of this server's:
    // another address in the header is still the same client.
    let (status, _, body) = send(&app, PAGE, &[("x-forwarded-for", "198.51.100.8")]).await;
    assert_eq!((status, error_code(&body)), (429, "RATE_LIMITED"));
}
