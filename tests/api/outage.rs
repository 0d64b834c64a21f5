//! The database going away under a running server, and the server going
//! away under its clients.
//!
//! PostgreSQL cannot be stopped under a test without stopping it for every
//! other test running beside it, so the server reaches it through a TCP
//! proxy the test controls: cutting the proxy is, for the server, exactly
//! the database going down (connections reset, new ones refused);
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

/// A TCP proxy to PostgreSQL that can be cut and restored.
struct Proxy {
    port: u16,
    open: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Proxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("the proxy binds");
        let port = listener.local_addr().expect("an address").port();
        let open = Arc::new(AtomicBool::new(true));
        let links: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (accepting, linked) = (open.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !accepting.load(Ordering::SeqCst) {
                    continue; // dropped: refused, as by a database that is down
                }
                let upstream = upstream.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                if let Ok(mut links) = linked.lock() {
                    links.push(task.abort_handle());
                }
            }
        });
        Proxy { port, open, links }
    }

    /// The database is down: every connection reset, new ones dropped.
    fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        if let Ok(mut links) = self.links.lock() {
            for link in links.drain(..) {
                link.abort();
            }
        }
    }

    /// The database is back.
    fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
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
    let (_, name) = direct.database_url.rsplit_once('/').expect("a database name");
    let url = format!("postgres://postgres@127.0.0.1:{}/{name}", proxy.port);
    spawn_app_at(Backend::Postgres, &url, crate::helpers::options()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_survives_its_database_going_away_and_coming_back() {
    let direct = spawn_app(Backend::Postgres).await;
    let upstream = crate::helpers::postgres_base_url();
    let host = upstream.split('@').nth(1).and_then(|rest| rest.split('/').next()).unwrap_or("127.0.0.1:5432");
    let proxy = Proxy::start(host.to_owned()).await;
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
