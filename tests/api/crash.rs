//! The server killed (SIGKILL) while writers run, then started again on the
//! same database: every write it acknowledged is there, and no write is
//! there by halves (each record's history and row agree).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Backend, TestDatabase};
use crate::mutations::{CREATE_PARTNER, UPDATE_PARTNER, partner_input};
use crate::process::Process;

const WRITERS: usize = 8;

/// Every partner, a page at a time, with its history.
const FOUND: &str = r#"query($after: String) { partners(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { slug name(lang: EN) version history(last: 100) { totalCount nodes { after } } } } }"#;

/// Starts the binary on `url` and returns it with its address.
async fn serve(url: &str) -> (Process, String) {
    let mut server = Process::start(
        &["serve", "--listen-addr", "127.0.0.1:0", "--metrics-addr", "off"],
        &[("DATABASE_URL", url), ("RUST_LOG", "info")],
    );
    let address = server.after("listening on http://").await;
    (server, address)
}

/// What one writer was told: for each slug, the last version acknowledged.
type Acknowledged = Arc<Mutex<HashMap<String, i64>>>;

/// Creates partners and updates each twice, until the server stops answering.
async fn writer(client: reqwest::Client, endpoint: String, token: String, n: usize, acked: Acknowledged) -> usize {
    let mut attempted = 0;
    for i in 0.. {
        let slug = format!("crash-{n}-{i}");
        attempted += 1;
        let created = post(&client, &endpoint, &token, CREATE_PARTNER, json!({ "input": partner_input(&slug) })).await;
        let Some(id) = created.as_ref().and_then(|d| d["createPartner"]["id"].as_str().map(str::to_owned)) else {
            return attempted;
        };
        acked.lock().expect("not poisoned").insert(slug.clone(), 1);
        for version in 1..=2 {
            attempted += 1;
            let input = json!({ "input": { "id": id, "expectedVersion": version, "nameEn": format!("{slug} v{}", version + 1) } });
            let updated = post(&client, &endpoint, &token, UPDATE_PARTNER, input).await;
            let Some(now) = updated.as_ref().and_then(|d| d["updatePartner"]["version"].as_i64()) else {
                return attempted;
            };
            acked.lock().expect("not poisoned").insert(slug.clone(), now);
        }
    }
    attempted
}

/// A write's `data`, or `None` when it was not acknowledged (no answer, or an error).
async fn post(client: &reqwest::Client, endpoint: &str, token: &str, query: &str, variables: Value) -> Option<Value> {
    let response = client
        .post(endpoint)
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .ok()?;
    let body: Value = response.json().await.ok()?;
    body.get("errors").is_none().then(|| body["data"].clone())
}

async fn acknowledged_writes_survive_a_kill(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let url = database.url.clone();
    let token = Process::output(&["token", "create", "--name", "crash", "--role", "EDITOR"], &[("DATABASE_URL", &url)]);
    let (mut server, address) = serve(&url).await;
    let endpoint = format!("http://{address}/graphql");
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("a client");
    let acked: Acknowledged = Arc::default();
    let writers: Vec<_> = (0..WRITERS)
        .map(|n| tokio::spawn(writer(client.clone(), endpoint.clone(), token.clone(), n, acked.clone())))
        .collect();
    // Once every writer has had a write acknowledged, and a little more,
    // kill the server where it stands.
    let answered = |acked: &Acknowledged| {
        let acked = acked.lock().expect("not poisoned");
        (0..WRITERS).filter(|n| acked.keys().any(|slug| slug.starts_with(&format!("crash-{n}-")))).count()
    };
    tokio::time::timeout(Duration::from_secs(60), async {
        while answered(&acked) < WRITERS {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("every writer is answered within a minute");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    // A writer stops only when a write is not acknowledged: all still
    // running means the kill lands on writes in flight, not an idle server.
    let stopped = writers.iter().filter(|writer| writer.is_finished()).count();
    assert_eq!(stopped, 0, "{stopped} writers had stopped before the kill");
    server.kill();
    let _ = server.wait().await;
    let mut attempted = 0;
    for writer in writers {
        attempted += writer.await.expect("a writer ends");
    }
    let acked = acked.lock().expect("not poisoned").clone();
    let acknowledged: i64 = acked.values().sum();

    let (mut server, address) = serve(&url).await;
    let endpoint = format!("http://{address}/graphql");
    let mut found: HashMap<String, Value> = HashMap::new();
    let mut cursor = Value::Null;
    loop {
        let page = post(&client, &endpoint, &token, FOUND, json!({ "after": cursor }))
            .await
            .expect("the restarted server answers");
        for partner in page["partners"]["nodes"].as_array().into_iter().flatten() {
            if let Some(slug) = partner["slug"].as_str().filter(|s| s.starts_with("crash-")) {
                found.insert(slug.to_owned(), partner.clone());
            }
        }
        if page["partners"]["pageInfo"]["hasNextPage"] != true {
            break;
        }
        cursor = page["partners"]["pageInfo"]["endCursor"].clone();
    }
    // Every acknowledged write is there.
    for (slug, version) in &acked {
        let partner = found.get(slug).unwrap_or_else(|| panic!("{slug} was acknowledged and is gone"));
        assert!(
            partner["version"].as_i64() >= Some(*version),
            "{slug}: acknowledged version {version}, found {partner}"
        );
    }
    // And nothing is there by halves: one history entry per version, the last one the row as it stands.
    for (slug, partner) in &found {
        let version = partner["version"].as_i64().unwrap_or_default();
        assert_eq!(partner["history"]["totalCount"].as_i64(), Some(version), "{slug}: {partner}");
        let last = &partner["history"]["nodes"].as_array().and_then(|h| h.last()).cloned().unwrap_or_default();
        assert_eq!(last["after"]["version"].as_i64(), Some(version), "{slug}: {partner}");
        assert_eq!(last["after"]["name_en"], partner["name"], "{slug}: {partner}");
    }
    let committed: i64 = found.values().filter_map(|p| p["version"].as_i64()).sum();
    println!(
        "kill -9 on {backend:?} under {WRITERS} writers: {attempted} writes attempted, {acknowledged} acknowledged, \
         all {acknowledged} found; {} committed in all ({} committed but not acknowledged before the kill)",
        committed,
        committed - acknowledged
    );
    server.kill();
    let _ = server.wait().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_acknowledged_writes_survive_a_kill() {
    acknowledged_writes_survive_a_kill(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_acknowledged_writes_survive_a_kill() {
    acknowledged_writes_survive_a_kill(Backend::Postgres).await;
}
