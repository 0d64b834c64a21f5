//! Reads on a real streaming replica (scripts/replica.sh starts one: a
//! pg_basebackup of the test cluster on a second port). The replica's
//! replay is paused to make it visibly behind: other callers then read the
//! old state from it, while the writer reads its own write, and `/ready`
//! reports the lag.

use std::time::Duration;

use partnership_registry::auth::Role;
use partnership_registry::limits::Limits;
use partnership_registry::options::ServerOptions;
use partnership_registry::startup::Application;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn_app};
use crate::mutations::UPDATE_PARTNER;
use crate::outage::Proxy;
use crate::ws_client::WsClient;

/// The test database's URL on the replica.
fn on_replica(primary_url: &str) -> String {
    let port = std::env::var("TEST_POSTGRES_REPLICA_PORT").unwrap_or_else(|_| "5433".to_owned());
    let name = primary_url.rsplit('/').next().expect("a database name");
    format!("postgres://postgres@127.0.0.1:{port}/{name}")
}

/// A connection to the test database on the replica, once replay has
/// created it and caught up with everything `primary` has written so far
/// (its migrations and dataset included).
async fn replica_connection(primary: &TestApp, url: &str) -> DatabaseConnection {
    let lsn = |db: DatabaseConnection, sql: &'static str| async move {
        let statement = sea_orm::Statement::from_string(sea_orm::DbBackend::Postgres, sql);
        let row = db.query_one_raw(statement).await.ok().flatten()?;
        row.try_get::<Option<i64>>("", "lsn").ok().flatten()
    };
    let written = lsn(primary.db.clone(), "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint AS lsn")
        .await
        .expect("the primary's WAL position");
    for _ in 0..150 {
        if let Ok(db) = Database::connect(url).await {
            let replayed = lsn(db.clone(), "SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint AS lsn").await;
            if replayed.is_some_and(|replayed| replayed >= written) {
                return db;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the replica must serve {url}, caught up with its primary (scripts/replica.sh starts one)");
}

/// The replica's replay, paused until [`Paused::resume`] (or, should the
/// test fail first, until dropped).
struct Paused {
    db: DatabaseConnection,
    url: String,
    resumed: bool,
}

impl Paused {
    async fn replay(db: &DatabaseConnection, url: &str) -> Self {
        db.execute_unprepared("SELECT pg_wal_replay_pause()").await.expect("replay pauses");
        Paused { db: db.clone(), url: url.to_owned(), resumed: false }
    }

    async fn resume(mut self) {
        self.db.execute_unprepared("SELECT pg_wal_replay_resume()").await.expect("replay resumes");
        self.resumed = true;
    }
}

impl Drop for Paused {
    fn drop(&mut self) {
        if self.resumed {
            return;
        }
        // The test's runtime is unwinding: a connection of this thread's own resumes replay.
        let url = self.url.clone();
        let _ = std::thread::spawn(move || {
            if let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                runtime.block_on(async {
                    if let Ok(db) = Database::connect(&url).await {
                        let _ = db.execute_unprepared("SELECT pg_wal_replay_resume()").await;
                    }
                });
            }
        })
        .join();
    }
}

const NAME: &str = r#"query($slug: String!) { partner(slug: $slug) { name(lang: EN) version } }"#;

async fn name_as(app: &TestApp, token: Option<&str>, slug: &str) -> Value {
    let body = match token {
        Some(token) => app.graphql_as(token, NAME, json!({ "slug": slug })).await,
        None => app.graphql(NAME, json!({ "slug": slug })).await,
    };
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["partner"]["name"].clone()
}

/// How many requests the server has read where, by `replica_read_choices_total`'s `choice`.
async fn read_choices(app: &TestApp, choice: &str) -> u64 {
    let text = app.client.get(app.metrics_url()).send().await.expect("answer").text().await.expect("text");
    let series = format!("registry_replica_read_choices_total{{choice=\"{choice}\"}} ");
    text.lines().find_map(|line| line.strip_prefix(series.as_str())).map_or(0, |n| n.parse().expect("a count"))
}

/// Every read choice the server has counted, whatever its label.
async fn all_read_choices(app: &TestApp) -> u64 {
    let text = app.client.get(app.metrics_url()).send().await.expect("answer").text().await.expect("text");
    text.lines()
        .filter(|line| line.starts_with("registry_replica_read_choices_total{"))
        .map(|line| line.rsplit(' ').next().expect("a count").parse::<u64>().expect("a count"))
        .sum()
}

async fn ready(app: &TestApp) -> Value {
    app.client.get(app.url("/ready")).send().await.expect("/ready answers").json().await.expect("JSON")
}

/// Polls `check` (every 100 ms, 15 s at most) until it holds.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..150 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never: {what}");
}

/// Held by the tests that pause the replica's replay or need it to replay
/// as they direct: pausing replay pauses it for every database of the
/// cluster.
static REPLAY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_go_to_the_replica_and_a_writer_reads_its_own_writes() {
    let _replay = REPLAY.lock().await;
    let primary = spawn_app(Backend::Postgres).await;
    let replica_url = on_replica(&primary.database_url);
    let replica = replica_connection(&primary, &replica_url).await;
    let reading_replica = || ServerOptions {
        database_replica_urls: vec![replica_url.clone()],
        replica_wait: Duration::from_millis(300),
        ..crate::helpers::options()
    };
    let app = primary.replica_with(reading_replica()).await;
    let other = primary.replica_with(reading_replica()).await;
    let editor = app.token(Role::Editor).await;
    let viewer = app.token(Role::Viewer).await;
    let slug = "unodc";
    let before = name_as(&primary, None, slug).await;
    eventually("the replica has the seeded registry", || async { name_as(&app, None, slug).await == before }).await;
    let status = ready(&app).await;
    assert_eq!(
        (status["status"].as_str(), status["replicas"][0]["up"].as_bool()),
        (Some("ready"), Some(true)),
        "{status}"
    );

    let paused = Paused::replay(&replica, &replica_url).await;
    let id = primary.partner_id(slug).await;
    let mut watcher = WsClient::connect(&app, None).await;
    watcher
        .subscribe(
            "w",
            "subscription($id: ID!) { partnerChanged(id: $id) { node { ... on Partner { name(lang: EN) } } } }",
            json!({ "id": id }),
        )
        .await;
    watcher.nothing_pending().await;
    let input = json!({ "input": { "id": id, "expectedVersion": 1, "nameEn": "Renamed on the primary" } });
    let chosen_before = all_read_choices(&app).await;
    let written = app.data_as(&editor, UPDATE_PARTNER, input).await;
    assert_eq!(all_read_choices(&app).await, chosen_before, "a mutation reads only the primary");
    assert_eq!(written["updatePartner"]["name"], "Renamed on the primary", "a mutation reads back from the primary");

    // Other callers read the replica, which has not replayed the write.
    assert_eq!(name_as(&app, None, slug).await, before, "an anonymous read is served by the replica");
    assert_eq!(name_as(&app, Some(&viewer), slug).await, before, "so is another token's");
    // The writer waits for the replica, gives up after 300 ms, and reads the primary.
    assert_eq!(read_choices(&app, "primary_replicas_behind").await, 0);
    assert_eq!(name_as(&app, Some(&editor), slug).await, "Renamed on the primary", "the writer reads its write");
    assert_eq!(read_choices(&app, "primary_replicas_behind").await, 1, "after waiting for the replica");
    assert_eq!(name_as(&other, Some(&editor), slug).await, "Renamed on the primary", "through any server");
    assert_eq!(name_as(&other, None, slug).await, before, "where others still read the replica");
    // In a batch the token's row is read once, before the write: the query
    // after it still reads it. A second editor, whose first write this is.
    let second = app.token(Role::Editor).await;
    let batch = json!([
        { "query": UPDATE_PARTNER, "variables": { "input": { "id": id, "expectedVersion": 2, "nameEn": "Renamed in a batch" } } },
        { "query": NAME, "variables": { "slug": slug } },
    ]);
    let response = app.client.post(app.url("/graphql")).bearer_auth(&second).json(&batch).send().await.expect("sent");
    let answers: Value = response.json().await.expect("JSON");
    assert_eq!(answers[1]["data"]["partner"]["name"], "Renamed in a batch", "{answers}");
    assert_eq!(name_as(&app, None, slug).await, before, "still not on the replica");
    // A subscriber reads the record as committed, from the primary.
    let message = watcher.message().await;
    assert_eq!(message["payload"]["data"]["partnerChanged"]["node"]["name"], "Renamed on the primary", "{message}");
    eventually("/ready reports the replica behind", || async {
        ready(&app).await["replicas"][0]["lagBytes"].as_i64().is_some_and(|lag| lag > 0)
    })
    .await;

    let lag = ready(&app).await["replicas"][0]["lagBytes"].as_i64().expect("a lag");

    // A wait longer than the request may take: the writer waits half its
    // time, then reads the primary in time instead of timing out.
    let hurried = primary
        .replica_with(ServerOptions {
            replica_wait: Duration::from_secs(60),
            limits: Limits { timeout: Duration::from_secs(2), ..crate::helpers::options().limits },
            ..reading_replica()
        })
        .await;
    let started = std::time::Instant::now();
    assert_eq!(name_as(&hurried, Some(&second), slug).await, "Renamed in a batch", "within the request's time");
    assert_eq!(read_choices(&hurried, "primary_replicas_behind").await, 1, "after waiting for the replica");
    assert!(started.elapsed() >= Duration::from_millis(900), "it waited about half its time first");

    // A server that waits long enough: replay resumes while the batch's
    // author waits for it, and the replica, not the primary, answers.
    let patient =
        primary.replica_with(ServerOptions { replica_wait: Duration::from_secs(60), ..reading_replica() }).await;
    let resuming = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        paused.resume().await;
    });
    assert_eq!(name_as(&patient, Some(&second), slug).await, "Renamed in a batch");
    resuming.await.expect("replay resumed");
    assert_eq!(
        (read_choices(&patient, "replica_after_wait").await, read_choices(&patient, "primary_replicas_behind").await),
        (1, 0),
        "the replica answered once it had the write"
    );
    eventually("the replica catches up", || async { name_as(&app, None, slug).await == "Renamed in a batch" }).await;
    // Other tests write to the cluster meanwhile: the backlog shrinks, if not to nothing.
    eventually("/ready reports the lag shrinking", || async {
        ready(&app).await["replicas"][0]["lagBytes"].as_i64().is_some_and(|now| now < lag)
    })
    .await;
    // With replay running, the writer's next write is read back at once.
    let input = json!({ "input": { "id": id, "expectedVersion": 3, "nameEn": "Renamed again" } });
    app.data_as(&editor, UPDATE_PARTNER, input).await;
    assert_eq!(name_as(&app, Some(&editor), slug).await, "Renamed again");
}

/// A read of the registry, which must succeed whatever the replicas do.
async fn read_works(app: &TestApp) {
    let body = app.graphql(NAME, json!({ "slug": "unodc" })).await;
    assert!(body.get("errors").is_none() && body["data"]["partner"]["name"].is_string(), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_out_of_reach_is_skipped_and_its_reads_go_to_the_primary() {
    // It needs the replica caught up, which a paused replay would prevent.
    let _replay = REPLAY.lock().await;
    let primary = spawn_app(Backend::Postgres).await;
    let replica_url = on_replica(&primary.database_url);
    replica_connection(&primary, &replica_url).await;

    // Unreachable when the server starts: it starts, with the replica down.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a port").local_addr().expect("an address").port();
    let options = ServerOptions {
        database_replica_urls: vec![format!("postgres://postgres@127.0.0.1:{closed}/nowhere")],
        ..crate::helpers::options()
    };
    let app = primary.replica_with(options).await;
    let status = ready(&app).await;
    assert_eq!(
        (status["status"].as_str(), status["replicas"][0]["up"].as_bool()),
        (Some("ready"), Some(false)),
        "{status}"
    );
    read_works(&app).await;
    assert_eq!(read_choices(&app, "primary_no_replica_up").await, 1);

    // Lost while the server runs: the read it fails is run on the primary.
    let replica_port = std::env::var("TEST_POSTGRES_REPLICA_PORT").unwrap_or_else(|_| "5433".to_owned());
    let proxy = Proxy::start(format!("127.0.0.1:{replica_port}")).await;
    let name = primary.database_url.rsplit('/').next().expect("a database name");
    let options = ServerOptions {
        database_replica_urls: vec![format!("postgres://postgres@127.0.0.1:{}/{name}", proxy.port)],
        ..crate::helpers::options()
    };
    let app = primary.replica_with(options).await;
    read_works(&app).await;
    assert_eq!(read_choices(&app, "replica").await, 1, "read from the replica while it answers");
    proxy.cut();
    read_works(&app).await;
    // The monitor, checking each second, may find the replica gone first.
    let lost = read_choices(&app, "primary_replica_lost").await;
    let skipped = read_choices(&app, "primary_no_replica_up").await;
    assert_eq!(lost + skipped, 1, "the read went to the primary, after failing on the replica or skipping it");
    assert_eq!(ready(&app).await["replicas"][0]["up"], false, "and the replica is down");
    read_works(&app).await;
    assert_eq!(read_choices(&app, "primary_no_replica_up").await, skipped + 1, "later reads skip it");

    // Back: the monitor finds it answering, and reads go to it again.
    proxy.restore();
    eventually("the replica is up again", || async { ready(&app).await["replicas"][0]["up"] == true }).await;
    read_works(&app).await;
    // The read that found the replica gone had chosen it too.
    assert_eq!(read_choices(&app, "replica").await, 2 + lost);

    // Hung, then stopped: a read waits 2 s for a connection that answers (a
    // stopped server's refusals sqlx tries again until then), finds its pool
    // with room for more, so the replica is out of reach, not busy: the read
    // goes to the primary and the replica is marked down.
    for (how, stop) in [("hung", Proxy::stall as fn(&Proxy)), ("stopped", Proxy::close)] {
        let lost_before = read_choices(&app, "primary_replica_lost").await;
        let skipped_before = read_choices(&app, "primary_no_replica_up").await;
        stop(&proxy);
        read_works(&app).await;
        let lost_now = read_choices(&app, "primary_replica_lost").await - lost_before;
        let skipped_now = read_choices(&app, "primary_no_replica_up").await - skipped_before;
        assert_eq!(lost_now + skipped_now, 1, "{how}: the read went to the primary");
        assert_eq!(read_choices(&app, "primary_replica_busy").await, 0, "{how}: a replica out of reach is not busy");
        assert_eq!(ready(&app).await["replicas"][0]["up"], false, "{how}: the replica is down");
        proxy.restore();
        if how == "hung" {
            eventually("the replica is up again", || async { ready(&app).await["replicas"][0]["up"] == true }).await;
        }
    }
}

/// A replica that holds a read past half the request's time is busy, not
/// gone: the read runs again on the primary, in time, and the replica
/// stays up. The replica is made to hold it the way a standby does when
/// it replays a lock the primary took: its reads of that table wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_holds_a_read_too_long_is_busy_and_the_primary_answers() {
    use sea_orm::{EntityName, TransactionTrait};
    let _replay = REPLAY.lock().await;
    let primary = spawn_app(Backend::Postgres).await;
    let replica_url = on_replica(&primary.database_url);
    let replica = replica_connection(&primary, &replica_url).await;
    let limit = Duration::from_secs(6);
    let options = ServerOptions {
        database_replica_urls: vec![replica_url.clone()],
        limits: Limits { timeout: limit, ..Limits::default() },
        ..crate::helpers::options()
    };
    let app = primary.replica_with(options).await;
    // The replica may still be replaying the dataset the test database was seeded with.
    eventually("the replica serves the dataset", || async {
        app.graphql(NAME, json!({ "slug": "unodc" })).await["data"]["partner"]["name"].is_string()
    })
    .await;
    assert!(read_choices(&app, "replica").await >= 1, "reads go to the replica");

    let table = entity::partner::Entity.table_name();
    let lock = primary.db.begin().await.expect("a transaction");
    lock.execute_unprepared(&format!("LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")).await.expect("the lock");
    // The standby holds the lock once it has replayed it; another
    // transaction's commit flushes the lock's record to it at once.
    primary.db.execute_unprepared("SELECT pg_current_xact_id()").await.expect("a commit");
    let held = format!("SELECT 1 FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND relation = '{table}'::regclass");
    eventually("the replica replays the lock", || async {
        replica
            .query_all_raw(sea_orm::Statement::from_string(sea_orm::DbBackend::Postgres, held.as_str()))
            .await
            .is_ok_and(|rows| !rows.is_empty())
    })
    .await;
    let started = std::time::Instant::now();
    let read = tokio::spawn({
        let (client, url) = (app.client.clone(), app.url("/graphql"));
        async move {
            let request = json!({ "query": NAME, "variables": { "slug": "unodc" } });
            let response = client.post(url).json(&request).send().await.expect("an answer");
            response.json::<Value>().await.expect("JSON")
        }
    });
    // Past the replica's half of the time, the primary's lock goes: the
    // read, run again there, answers in the other half.
    tokio::time::sleep(limit / 2 + Duration::from_millis(800)).await;
    lock.commit().await.expect("the lock is released");
    let body = read.await.expect("the read ends");
    let took = started.elapsed();
    assert!(body.get("errors").is_none() && body["data"]["partner"]["name"].is_string(), "{body}");
    assert!(
        took >= limit / 2 && took < limit,
        "the read waited for the replica half its time, then answered: {took:?}"
    );
    assert_eq!(read_choices(&app, "primary_replica_busy").await, 1, "the replica was busy");
    assert_eq!(read_choices(&app, "primary_replica_lost").await, 0, "not lost");
    assert_eq!(ready(&app).await["replicas"][0]["up"], true, "and it stays up");
    eventually("reads go to the replica again", || async {
        let before = read_choices(&app, "replica").await;
        read_works(&app).await;
        read_choices(&app, "replica").await > before
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_is_not_a_standby_is_refused_at_start() {
    let primary = spawn_app(Backend::Postgres).await;
    let options =
        ServerOptions { database_replica_urls: vec![primary.database_url.clone()], ..crate::helpers::options() };
    let refused = Application::with_connection(primary.db.clone(), "127.0.0.1:0", &options).await;
    let error = format!("{:#}", refused.err().expect("the server refuses to start"));
    assert!(error.contains("replica 1 is not a standby"), "{error}");
    let options = ServerOptions { database_replica_urls: vec!["sqlite::memory:".into()], ..crate::helpers::options() };
    let refused = Application::with_connection(primary.db.clone(), "127.0.0.1:0", &options).await;
    let error = format!("{:#}", refused.err().expect("the server refuses to start"));
    assert!(error.contains("replica 1 is not a PostgreSQL URL"), "{error}");

    let sqlite = spawn_app(Backend::Sqlite).await;
    let options =
        ServerOptions { database_replica_urls: vec![on_replica(&primary.database_url)], ..crate::helpers::options() };
    let refused = Application::with_connection(sqlite.db.clone(), "127.0.0.1:0", &options).await;
    let error = format!("{:#}", refused.err().expect("the server refuses to start"));
    assert!(error.contains("need PostgreSQL"), "{error}");
}
