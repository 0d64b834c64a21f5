//! The database going away under a running server, and the server going
//! away under its clients.
//!
//! PostgreSQL cannot be stopped under a test without stopping it for every
//! other test running beside it, so the server reaches it through a TCP
//! proxy the test controls: cutting the proxy is, for the server, exactly
//! the database going down (connections reset, new ones refused);
//! stalling it is a database that keeps its connections and answers
//! nothing (a hung host, a network that drops without resetting);
//! restoring it is the database coming back.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use partnership_registry::auth::Role;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

use crate::helpers::{Backend, TestApp, error_code, spawn_app, spawn_app_at};
use crate::mutations::{UPDATE_PARTNER, create_partner};
use crate::ws_client::WsClient;

/// A TCP proxy to PostgreSQL that can be cut, stalled and restored.
pub struct Proxy {
    pub port: u16,
    open: Arc<AtomicBool>,
    /// Whether bytes go through; while not, they are held, connections kept.
    flowing: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<AbortHandle>>>,
    accepting: AbortHandle,
}

/// Copies one direction of a link, holding the bytes while the proxy stalls.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    flowing: Arc<AtomicBool>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        while !flowing.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if to.write_all(&buffer[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

impl Proxy {
    pub async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("the proxy binds");
        let port = listener.local_addr().expect("an address").port();
        let open = Arc::new(AtomicBool::new(true));
        let flowing = Arc::new(AtomicBool::new(true));
        let links: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (accepting, linked, flows) = (open.clone(), links.clone(), flowing.clone());
        let accepting = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if !accepting.load(Ordering::SeqCst) {
                    continue; // dropped: refused, as by a database that is down
                }
                let upstream = upstream.clone();
                let flowing = flows.clone();
                let task = tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(&upstream).await {
                        let (from_client, to_client) = client.into_split();
                        let (from_server, to_server) = server.into_split();
                        tokio::join!(
                            pump(from_client, to_server, flowing.clone()),
                            pump(from_server, to_client, flowing)
                        );
                    }
                });
                if let Ok(mut links) = linked.lock() {
                    links.push(task.abort_handle());
                }
            }
        });
        Proxy { port, open, flowing, links, accepting: accepting.abort_handle() }
    }

    /// The database hangs: connections stay open, nothing comes back.
    pub fn stall(&self) {
        self.flowing.store(false, Ordering::SeqCst);
    }

    /// The database is down: every connection reset, new ones dropped.
    pub fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        if let Ok(mut links) = self.links.lock() {
            for link in links.drain(..) {
                link.abort();
            }
        }
    }

    /// The database is gone for good: every connection reset, the port
    /// closed, so new connections are refused, as by a stopped server.
    pub fn close(&self) {
        self.accepting.abort();
        self.cut();
    }

    /// The database is back.
    pub fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
        self.flowing.store(true, Ordering::SeqCst);
    }
}

/// Waits for `/ready` to answer `status`, at most 15 s; returns how long it took.
async fn ready_becomes(app: &TestApp, status: u16) -> Duration {
    let started = std::time::Instant::now();
    tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            let response = app.client.get(app.url("/ready")).send().await;
            if response.is_ok_and(|r| r.status().as_u16() == status) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("/ready did not become {status} within 15 s"));
    started.elapsed()
}

/// A server on `database`'s PostgreSQL database, reached through `proxy`.
async fn behind(proxy: &Proxy, direct: &TestApp) -> TestApp {
    behind_with(proxy, direct, crate::helpers::options()).await
}

async fn behind_with(
    proxy: &Proxy,
    direct: &TestApp,
    options: partnership_registry::options::ServerOptions,
) -> TestApp {
    let (_, name) = direct.database_url.rsplit_once('/').expect("a database name");
    let url = format!("postgres://postgres@127.0.0.1:{}/{name}", proxy.port);
    spawn_app_at(Backend::Postgres, &url, options).await
}

/// A proxy in front of the test's PostgreSQL.
async fn proxy_to_postgres() -> Proxy {
    let upstream = crate::helpers::postgres_base_url();
    let host = upstream.split('@').nth(1).and_then(|rest| rest.split('/').next()).unwrap_or("127.0.0.1:5432");
    Proxy::start(host.to_owned()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_survives_its_database_going_away_and_coming_back() {
    let direct = spawn_app(Backend::Postgres).await;
    let proxy = proxy_to_postgres().await;
    let app = behind(&proxy, &direct).await;
    let editor = direct.token(Role::Editor).await;
    let partner = create_partner(&direct, &editor, "outlives-outages").await;
    let mut watcher = WsClient::connect(&app, None).await;
    watcher.settle(&app, &editor).await;
    watcher
        .subscribe("w", "subscription($id: ID!) { partnerChanged(id: $id) { version } }", json!({ "id": partner }))
        .await;
    watcher.nothing_pending().await;
    assert_eq!(app.data(r#"{ partner(slug: "unodc") { acronym } }"#, json!({})).await["partner"]["acronym"], "UNODC");

    proxy.cut();
    let noticed = ready_becomes(&app, 503).await;
    assert!(noticed < Duration::from_secs(10), "/ready took {noticed:?} to notice");
    let started = std::time::Instant::now();
    let body = app.graphql(r#"{ partner(slug: "unodc") { acronym } }"#, json!({})).await;
    assert_eq!(error_code(&body), "UNAVAILABLE", "{body:#}");
    // With a token too: no token lookup waits on the pool first.
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("authorization", format!("Bearer {editor}"))
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .expect("answer");
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(error_code(&body), "UNAVAILABLE", "{body:#}");
    assert!(started.elapsed() < Duration::from_secs(3), "failing took {:?}: it must fail fast", started.elapsed());
    // Meanwhile another replica, which can still reach the database, writes.
    let input = json!({ "input": { "id": partner, "expectedVersion": 1, "nameEn": "Changed during the outage" } });
    direct.data_as(&editor, UPDATE_PARTNER, input).await;

    proxy.restore();
    ready_becomes(&app, 200).await;
    let data = app.data(r#"{ partner(slug: "outlives-outages") { name(lang: EN) version } }"#, json!({})).await;
    assert_eq!(data["partner"]["version"], 2, "queries work again, with no restart");
    // The change committed while this server was cut off reaches its subscriber.
    let event = watcher.message().await;
    assert_eq!(event["payload"]["data"]["partnerChanged"]["version"], 2, "{event}");
    // And writes through it are announced again.
    let input = json!({ "input": { "id": partner, "expectedVersion": 2, "nameEn": "After" } });
    app.data_as(&editor, UPDATE_PARTNER, input).await;
    let event = watcher.message().await;
    assert_eq!(event["payload"]["data"]["partnerChanged"]["version"], 3, "{event}");
}

/// What became of one write sent through a server while its database went
/// away and came back.
#[derive(Debug)]
enum Write {
    Acknowledged(String),
    /// Refused with this code; the slug it tried to create.
    Refused(String, String),
}

/// Creates partners through `endpoint` until `stop`, recording each answer.
async fn cut_writer(
    client: reqwest::Client,
    endpoint: String,
    token: String,
    n: usize,
    stop: Arc<AtomicBool>,
) -> Vec<Write> {
    let mut writes = Vec::new();
    for i in 0.. {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let slug = format!("cut-{n}-{i}");
        let request = json!({ "query": crate::mutations::CREATE_PARTNER, "variables": { "input": crate::mutations::partner_input(&slug) } });
        let response = client.post(&endpoint).bearer_auth(&token).json(&request).send().await;
        let body: serde_json::Value = match response {
            Ok(response) => response.json().await.expect("every answer is JSON"),
            Err(e) => panic!("the server answers every request, its database down or not: {e}"),
        };
        if body["data"]["createPartner"]["slug"] == slug.as_str() {
            writes.push(Write::Acknowledged(slug));
        } else {
            assert!(body["data"]["createPartner"].is_null(), "no write is half reported: {body}");
            writes.push(Write::Refused(error_code(&body).to_owned(), slug));
            // A refused client waits a little before trying again, as clients do.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    writes
}

/// Writes in flight when the database goes away: each is acknowledged and
/// kept, or refused with `UNAVAILABLE` (or `TIMEOUT`); none acknowledged
/// is lost, none refused is reported done, and writes work again after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_in_flight_when_the_database_goes_away_are_kept_or_refused() {
    const WRITERS: usize = 4;
    let direct = spawn_app(Backend::Postgres).await;
    let proxy = proxy_to_postgres().await;
    let app = behind(&proxy, &direct).await;
    let editor = direct.token(Role::Editor).await;
    // The writers create NGOs: counted by kind, apart from the dataset's.
    let ngos = || async {
        let data = direct.data("{ partners(filter: { kindIn: [NGO] }) { totalCount } }", json!({})).await;
        data["partners"]["totalCount"].as_i64().unwrap_or_default()
    };
    let before = ngos().await;
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|n| tokio::spawn(cut_writer(app.client.clone(), app.url("/graphql"), editor.clone(), n, stop.clone())))
        .collect();
    // Writes flow, then the database goes away under them.
    tokio::time::timeout(Duration::from_secs(30), async {
        while ngos().await < before + 20 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("writes flow through the server");
    proxy.cut();
    ready_becomes(&app, 503).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    proxy.restore();
    ready_becomes(&app, 200).await;
    let after_restore = ngos().await;
    tokio::time::timeout(Duration::from_secs(30), async {
        while ngos().await < after_restore + 20 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("writes flow again, with no restart");
    stop.store(true, Ordering::SeqCst);
    let mut writes = Vec::new();
    for writer in writers {
        writes.extend(writer.await.expect("a writer ends"));
    }

    let mut found = std::collections::HashSet::new();
    let mut cursor = serde_json::Value::Null;
    loop {
        let page = direct
            .data(
                r#"query($after: String) { partners(first: 100, after: $after, filter: { kindIn: [NGO] }) {
                    pageInfo { hasNextPage endCursor } nodes { slug } } }"#,
                json!({ "after": cursor }),
            )
            .await;
        for node in page["partners"]["nodes"].as_array().into_iter().flatten() {
            if let Some(slug) = node["slug"].as_str().filter(|slug| slug.starts_with("cut-")) {
                found.insert(slug.to_owned());
            }
        }
        if page["partners"]["pageInfo"]["hasNextPage"] != true {
            break;
        }
        cursor = page["partners"]["pageInfo"]["endCursor"].clone();
    }
    let mut refused: std::collections::BTreeMap<&str, usize> = Default::default();
    let (mut acknowledged, mut refused_but_kept) = (0, 0);
    for write in &writes {
        match write {
            Write::Acknowledged(slug) => {
                acknowledged += 1;
                assert!(found.contains(slug), "{slug} was acknowledged and is not in the database");
            }
            Write::Refused(code, slug) => {
                assert!(code == "UNAVAILABLE" || code == "TIMEOUT", "{slug} was refused with {code}");
                *refused.entry(code.as_str()).or_default() += 1;
                refused_but_kept += usize::from(found.contains(slug));
            }
        }
    }
    assert!(refused.get("UNAVAILABLE").is_some_and(|&n| n > 0), "writes ran into the outage: {refused:?}");
    assert_eq!(found.len(), acknowledged + refused_but_kept, "nothing is in the database that no writer sent");
    println!(
        "database cut under {WRITERS} writers: {} writes attempted, {acknowledged} acknowledged, all found; \
         refused {refused:?}, of which {refused_but_kept} committed before the answer was lost",
        writes.len()
    );
}

/// A database that accepts and answers nothing: requests end with
/// `TIMEOUT` within the limit, never hang; `/ready` tells; requests then
/// fail at once with `UNAVAILABLE`; and when the database answers again the
/// server serves again, with no restart, its pool's held connections
/// included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_survives_a_hung_database() {
    let direct = spawn_app(Backend::Postgres).await;
    let proxy = proxy_to_postgres().await;
    let limit = Duration::from_secs(2);
    let mut options = crate::helpers::options();
    options.limits.timeout = limit;
    let app = behind_with(&proxy, &direct, options).await;
    let editor = direct.token(Role::Editor).await;
    let partner = create_partner(&direct, &editor, "outlives-a-hang").await;
    const READ: &str = r#"{ partner(slug: "outlives-a-hang") { version } }"#;
    assert_eq!(app.data(READ, json!({})).await["partner"]["version"], 1);

    proxy.stall();
    // Reads and a write, at once, each on a connection that will never answer.
    let started = std::time::Instant::now();
    let update = json!({ "input": { "id": partner, "expectedVersion": 1, "nameEn": "Written into a hang" } });
    let reads = futures_util::future::join_all((0..4).map(|_| app.graphql(READ, json!({}))));
    let write = app.graphql_as(&editor, UPDATE_PARTNER, update);
    let (reads, write) = tokio::time::timeout(limit * 5, async { tokio::join!(reads, write) })
        .await
        .expect("no request hangs on a hung database");
    let took = started.elapsed();
    let answers: Vec<(String, serde_json::Value)> =
        reads.into_iter().chain([write]).map(|body| (error_code(&body).to_owned(), body)).collect();
    for (code, body) in &answers {
        assert!(
            code == "TIMEOUT" || code == "UNAVAILABLE",
            "a hung database is a TIMEOUT (or, once noticed, UNAVAILABLE): {body:#}"
        );
    }
    assert!(answers.iter().any(|(code, _)| code == "TIMEOUT"), "{answers:?}");
    // The token lookup included: the limit counts from each request's arrival.
    assert!(took < limit + Duration::from_millis(500), "every request ended within the limit: {took:?}");
    let noticed = ready_becomes(&app, 503).await;
    assert!(noticed < Duration::from_secs(10), "/ready took {noticed:?} to notice");
    let started = std::time::Instant::now();
    assert_eq!(error_code(&app.graphql(READ, json!({})).await), "UNAVAILABLE");
    assert!(started.elapsed() < Duration::from_secs(1), "once noticed, requests fail at once: {:?}", started.elapsed());

    proxy.restore();
    let recovered = ready_becomes(&app, 200).await;
    let timed_out = answers.iter().filter(|(code, _)| code == "TIMEOUT").count();
    println!(
        "hung database: {} requests ended in {took:.2?} ({timed_out} TIMEOUT, the rest UNAVAILABLE; limit {limit:?}); \
         /ready said 503 {noticed:.2?} later; ready again {recovered:.2?} after the database answered",
        answers.len()
    );
    // Every request works again, on every connection of the pool: the ones
    // held through the hang are either healthy again or replaced.
    for _ in 0..12 {
        let version = app.data(READ, json!({})).await["partner"]["version"].as_i64();
        assert!(matches!(version, Some(1 | 2)), "{version:?}");
    }
    // The write timed out, so it either committed or not; the record says which, and a new write works.
    let version = direct.data(READ, json!({})).await["partner"]["version"].as_i64().expect("a version");
    let input = json!({ "input": { "id": partner, "expectedVersion": version, "nameEn": "After the hang" } });
    let after = app.data_as(&editor, UPDATE_PARTNER, input).await;
    assert_eq!(after["updatePartner"]["version"].as_i64(), Some(version + 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_closes_websockets_and_stops_accepting() {
    let mut app = spawn_app(Backend::Sqlite).await;
    let mut client = WsClient::connect(&app, None).await;
    client.subscribe("s", "subscription { changes { action } }", json!({})).await;
    client.nothing_pending().await;
    let stopped = tokio::spawn(async move {
        let result = app.stop().await;
        (app, result)
    });
    let (code, reason) = client.closed().await;
    assert_eq!((code, reason.as_str()), (1001, "Server shutting down"));
    let (app, result) = tokio::time::timeout(Duration::from_secs(30), stopped)
        .await
        .expect("the server stops within its grace period")
        .expect("the server task ends");
    assert!(result.is_ok(), "{result:?}");
    assert!(app.client.get(app.url("/health")).send().await.is_err(), "no longer accepting");
}
