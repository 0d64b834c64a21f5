//! Change events are lossless: every committed change reaches every live
//! subscriber exactly once, in commit order, whatever happens to the
//! listening connection, and a subscriber that comes back with the cursor
//! of the last event it received gets everything that followed.
//!
//! What was committed is read from the history table itself, so each test
//! compares what subscribers received with the database's own record.

use std::time::Duration;

use entity::change_log;
use partnership_registry::auth::Role;
use partnership_registry::events::ChangeEvent;
use partnership_registry::graphql::id;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Statement, TransactionTrait};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};
use crate::mutations::{UPDATE_PARTNER, create_agreement, create_funding, create_partner, create_project};
use crate::on_both_databases;
use crate::ws_client::WsClient;

const FEED: &str = "subscription($after: String) { changes(after: $after) { cursor action recordId version } }";
const PARTNERS: &str =
    "subscription($after: String) { changes(kinds: [PARTNER], after: $after) { cursor action recordId version } }";

/// An event as the tests compare it: what changed, without its cursor.
fn change(event: &Value) -> Value {
    json!({ "action": event["action"], "recordId": event["recordId"], "version": event["version"] })
}

/// The changes the history holds after entry `after`, in id (commit) order.
async fn committed_after(app: &TestApp, after: i64) -> Vec<Value> {
    let entries = change_log::Entity::find()
        .filter(change_log::Column::Id.gt(after))
        .order_by_asc(change_log::Column::Id)
        .all(&app.db)
        .await
        .expect("the history is read");
    entries
        .iter()
        .map(|entry| {
            let event = ChangeEvent::of(entry).expect("every entry is an event");
            json!({
                "action": event.action.as_str(),
                "recordId": id::encode(event.kind.type_name(), event.id),
                "version": event.version,
            })
        })
        .collect()
}

/// The history entry an event's cursor stands for.
fn entry_of(event: &Value) -> i64 {
    id::decode("cursor", event["cursor"].as_str().expect("a cursor")).expect("a cursor decodes").1
}

async fn newest(app: &TestApp) -> i64 {
    partnership_registry::events::newest_entry(&app.db).await.expect("the newest entry")
}

/// The next `n` events of subscription `id`, whole.
async fn events(client: &mut WsClient, id: &str, n: usize) -> Vec<Value> {
    payloads(client, id, n).await.iter().map(|payload| payload["data"]["changes"].clone()).collect()
}

/// The next `n` answers of subscription `id`, with their extensions.
async fn payloads(client: &mut WsClient, id: &str, n: usize) -> Vec<Value> {
    let mut got = Vec::with_capacity(n);
    while got.len() < n {
        let message = client.message().await;
        assert_eq!((message["type"].as_str(), message["id"].as_str()), (Some("next"), Some(id)), "{message}");
        assert!(message["payload"].get("errors").is_none(), "{message}");
        got.push(message["payload"].clone());
    }
    got
}

/// Subscribes under `id` and waits until a first write's event has come
/// through, so the subscription is live; returns that write's entry id.
/// Each subscription starts after the newest entry at the call: one that
/// started "from now" could meet a write acknowledged just before, whose
/// event the server had not delivered yet. (With no history yet, there is
/// no such write, and no cursor to give.)
async fn subscribe_live(app: &TestApp, editor: &str, clients: &mut [(&mut WsClient, &str, &str)]) -> i64 {
    let base = newest(app).await;
    let variables = match base {
        0 => json!({}),
        _ => json!({ "after": id::encode(partnership_registry::graphql::subscription::CURSOR, base) }),
    };
    for (client, id, query) in clients.iter_mut() {
        client.subscribe(id, query, variables.clone()).await;
    }
    let opening = create_partner(app, editor, &format!("opening-{base}")).await;
    for (client, id, _) in clients.iter_mut() {
        let event = &events(client, id, 1).await[0];
        assert_eq!(event["recordId"], opening.as_str());
    }
    newest(app).await
}

/// `writers` writers at once, each creating a partner and renaming it
/// `renames` times, through the servers given in turn; every write must
/// be acknowledged.
async fn write_load(apps: &[&TestApp], editor: &str, tag: &str, writers: usize, renames: i64) {
    let tasks = (0..writers).map(|w| {
        let app = apps[w % apps.len()];
        async move {
            let slug = format!("{tag}-{w}");
            let partner = create_partner(app, editor, &slug).await;
            for version in 1..=renames {
                let input = json!({ "input": { "id": partner, "expectedVersion": version, "nameEn": format!("{slug} v{version}") } });
                app.data_as(editor, UPDATE_PARTNER, input).await;
            }
        }
    });
    futures_util::future::join_all(tasks).await;
}

/// Records one history entry, holds its transaction open for `hold`, then commits.
async fn record_slowly(db: &sea_orm::DatabaseConnection, n: i64, hold: Duration) {
    use sea_orm::{ActiveModelTrait, Set};
    let txn = db.begin().await.expect("a transaction");
    let now = chrono::Utc::now();
    change_log::ActiveModel {
        entity: Set("partner".into()),
        entity_id: Set(n),
        action: Set("UPDATE".into()),
        actor: Set("ordering test".into()),
        at: Set(now),
        batch: Set(Some(format!("ordering-{n}"))),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .expect("the entry is recorded");
    tokio::time::sleep(hold).await;
    txn.commit().await.expect("committed");
}

on_both_databases! {
    async fn history_ids_follow_commit_order(app) {
        // The contract the event reader stands on, checked on the database
        // alone: entries are numbered in commit order, so whoever sees entry
        // `n` already sees every entry below it that will ever be committed.
        // Writers hold their transactions open for a while after recording;
        // a reader polls all along and each snapshot is held to the history.
        let start = newest(&app).await;
        let writing = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let poller = tokio::spawn({
            let (db, writing) = (sea_orm::Database::connect(&app.database_url).await.expect("connects"), writing.clone());
            async move {
                let mut snapshots = Vec::new();
                while writing.load(std::sync::atomic::Ordering::SeqCst) {
                    let ids: Vec<i64> = change_log::Entity::find()
                        .filter(change_log::Column::Id.gt(start))
                        .all(&db)
                        .await
                        .expect("the history is read")
                        .iter()
                        .map(|e| e.id)
                        .collect();
                    snapshots.push(ids);
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                snapshots
            }
        });
        let writers = (0..8).map(|w| {
            let db = app.db.clone();
            async move {
                for i in 0..8 {
                    record_slowly(&db, w * 100 + i, Duration::from_millis(((w + i) % 4) as u64 * 5)).await;
                }
            }
        });
        futures_util::future::join_all(writers).await;
        writing.store(false, std::sync::atomic::Ordering::SeqCst);
        let snapshots = poller.await.expect("the poller ends");
        let committed: Vec<i64> = change_log::Entity::find()
            .filter(change_log::Column::Id.gt(start))
            .order_by_asc(change_log::Column::Id)
            .all(&app.db)
            .await
            .expect("the history is read")
            .iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(committed.len(), 64);
        assert!(snapshots.len() > 10, "the reader polled during the writes");
        for seen in &snapshots {
            let Some(&highest) = seen.iter().max() else { continue };
            let below: Vec<i64> = committed.iter().copied().filter(|&id| id <= highest).collect();
            let mut seen = seen.clone();
            seen.sort_unstable();
            assert_eq!(seen, below, "a reader that saw entry {highest} saw every committed entry below it");
        }
    }

    async fn concurrent_writes_reach_every_subscriber_once_in_commit_order(app) {
        let editor = app.token(Role::Editor).await;
        let mut everything = WsClient::connect(&app, None).await;
        let mut partners = WsClient::connect(&app, None).await;
        let start =
            subscribe_live(&app, &editor, &mut [(&mut everything, "all", FEED), (&mut partners, "p", PARTNERS)]).await;

        write_load(&[&app], &editor, "load", 6, 4).await;
        let partner = create_partner(&app, &editor, "with-agreement").await;
        create_agreement(&app, &editor, &partner, "EVT-1").await;

        let committed = committed_after(&app, start).await;
        assert_eq!(committed.len(), 6 * 5 + 2);
        let received: Vec<Value> = events(&mut everything, "all", committed.len()).await.iter().map(change).collect();
        assert_eq!(received, committed, "every change, once, in commit order");
        let of_partners: Vec<Value> = committed
            .iter()
            .filter(|c| c["recordId"].as_str().and_then(|g| id::decode("id", g).ok()).is_some_and(|(kind, _)| kind == "Partner"))
            .cloned()
            .collect();
        assert_eq!(of_partners.len(), 6 * 5 + 1);
        let received: Vec<Value> = events(&mut partners, "p", of_partners.len()).await.iter().map(change).collect();
        assert_eq!(received, of_partners, "the filtered subscription gets the partners' changes, in order");
        everything.nothing_pending().await;
        partners.nothing_pending().await;
    }

    async fn a_subscriber_resumes_after_its_last_cursor(app) {
        let editor = app.token(Role::Editor).await;
        let mut first = WsClient::connect(&app, None).await;
        subscribe_live(&app, &editor, &mut [(&mut first, "all", FEED)]).await;
        for slug in ["resume-1", "resume-2", "resume-3"] {
            create_partner(&app, &editor, slug).await;
        }
        let seen = events(&mut first, "all", 3).await;
        drop(first);
        // Gone after the first of three; four more are written meanwhile.
        let since = entry_of(&seen[0]);
        for slug in ["missed-1", "missed-2", "missed-3", "missed-4"] {
            create_partner(&app, &editor, slug).await;
        }

        let mut again = WsClient::connect(&app, None).await;
        again.subscribe("all", FEED, json!({ "after": seen[0]["cursor"] })).await;
        let committed = committed_after(&app, since).await;
        assert_eq!(committed.len(), 6);
        let answers = payloads(&mut again, "all", 6).await;
        // The cursor's check and one page of the history, counted with the subscription.
        assert_eq!(answers.iter().map(crate::helpers::statements).collect::<Vec<_>>(), [2; 6]);
        let replayed: Vec<Value> = answers.iter().map(|payload| payload["data"]["changes"].clone()).collect();
        assert_eq!(replayed.iter().map(change).collect::<Vec<_>>(), committed);
        assert_eq!(replayed[..2].iter().map(|e| &e["cursor"]).collect::<Vec<_>>(),
                   seen[1..].iter().map(|e| &e["cursor"]).collect::<Vec<_>>(), "a change keeps its cursor");
        // Then live, with nothing repeated.
        let live_id = create_partner(&app, &editor, "after-resume").await;
        let live = events(&mut again, "all", 1).await.remove(0);
        assert_eq!(live["recordId"], json!(live_id));
        again.nothing_pending().await;

        // The newest cursor resumes with nothing to replay.
        let mut latest = WsClient::connect(&app, None).await;
        latest.subscribe("all", FEED, json!({ "after": live["cursor"] })).await;
        let next = create_partner(&app, &editor, "after-latest").await;
        assert_eq!(events(&mut latest, "all", 1).await[0]["recordId"], next.as_str());
        latest.nothing_pending().await;
    }

    async fn a_write_of_thousands_of_changes_is_recorded_and_delivered_whole(app) {
        use sea_orm::{ActiveValue::NotSet, IntoActiveModel};
        let editor = app.token(Role::Editor).await;
        let partner = create_partner(&app, &editor, "many-fundings").await;
        let agreement = create_agreement(&app, &editor, &partner, "MANY-1").await;
        let project = create_project(&app, &editor, &agreement, "MANY-P").await;
        create_funding(&app, &editor, &project, &partner, "1").await;
        // More fundings than one statement could bind the history rows of,
        // on either database, and than the reader reads in one page.
        let model = entity::funding::Entity::find().order_by_desc(entity::funding::Column::Id).one(&app.db).await
            .expect("read").expect("the funding just made");
        for _ in 0..7 {
            let copies = (0..1_000).map(|_| entity::funding::ActiveModel { id: NotSet, ..model.clone().into_active_model() });
            entity::funding::Entity::insert_many(copies).exec_without_returning(&app.db).await.expect("copies inserted");
        }
        let mut client = WsClient::connect(&app, None).await;
        let start = subscribe_live(&app, &editor, &mut [(&mut client, "all", FEED)]).await;

        let delete = r#"mutation($id: ID!) { deleteProject(id: $id, expectedVersion: 1, cascade: true) { deleted } }"#;
        let data = app.data_as(&editor, delete, json!({ "id": project })).await;
        assert_eq!(data["deleteProject"]["deleted"].as_array().map(Vec::len), Some(7_002));
        let committed = committed_after(&app, start).await;
        assert_eq!(committed.len(), 7_002, "one history entry per record deleted");
        let received: Vec<Value> = events(&mut client, "all", committed.len()).await.iter().map(change).collect();
        assert_eq!(received, committed, "every change of the write, in order");
        client.nothing_pending().await;
    }

    async fn a_cursor_that_is_not_one_is_refused(app) {
        let editor = app.token(Role::Editor).await;
        let partner = create_partner(&app, &editor, "not-a-cursor").await;
        let beyond = id::encode(partnership_registry::graphql::subscription::CURSOR, newest(&app).await + 1_000);
        for cursor in ["nope", partner.as_str(), beyond.as_str()] {
            let mut client = WsClient::connect(&app, None).await;
            client.subscribe("bad", FEED, json!({ "after": cursor })).await;
            let message = client.message().await;
            // A subscription that cannot start gets the protocol's `error` message, and no `complete`.
            assert_eq!(message["type"], "error", "{message}");
            let error = &message["payload"][0];
            assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{cursor}: {message}");
            assert_eq!(error["extensions"]["field"], "after");
            client.nothing_pending().await;
        }
    }
}

mod replicas {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

    use entity::partner;
    use partnership_registry::limits::Limits;
    use partnership_registry::options::ServerOptions;
    use sea_orm::QuerySelect;

    use super::*;

    /// Ends every listening connection of this database; returns how many.
    async fn kill_listeners(db: &sea_orm::DatabaseConnection) -> u64 {
        let sql = "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
                   WHERE datname = current_database() AND pid <> pg_backend_pid() AND query ILIKE 'LISTEN%'";
        let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await;
        row.ok().flatten().and_then(|row| row.try_get::<i64>("", "n").ok()).map_or(0, |n| n as u64)
    }

    /// Two servers on one database, writers on both, every listening
    /// connection killed every 100 ms during the load, and one write held
    /// on a row lock from before the first kill until the load is half done:
    /// each subscriber of either server receives the history exactly, and a
    /// subscriber that leaves one server resumes on the other. Neither
    /// server reads the history unwoken during the test, so only the
    /// listeners' reconnections can bring what they missed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_change_is_lost_when_listeners_die_under_load_on_two_replicas() {
        // The slow write waits behind the test's row lock for the whole first
        // load: a minute, not the default ten seconds, before it times out.
        let woken_only = || ServerOptions {
            event_poll: Duration::from_secs(3_600),
            limits: Limits { timeout: Duration::from_secs(60), ..Limits::default() },
            ..crate::helpers::options()
        };
        let a = crate::helpers::spawn_app_with(Backend::Postgres, woken_only()).await;
        let b = a.replica_with(woken_only()).await;
        let editor = a.token(Role::Editor).await;
        let slow = create_partner(&a, &editor, "slow").await;
        let mut on_a = WsClient::connect(&a, None).await;
        let mut on_b = WsClient::connect(&b, None).await;
        let mut leaving = WsClient::connect(&a, None).await;
        let start = subscribe_live(
            &a,
            &editor,
            &mut [(&mut on_a, "all", FEED), (&mut on_b, "all", FEED), (&mut leaving, "all", FEED)],
        )
        .await;

        // The slow write: its claim waits for the test's lock on the row.
        let holder = a.db.begin().await.expect("a transaction");
        partner::Entity::find()
            .filter(partner::Column::Id.eq(id::decode("id", &slow).expect("an id").1))
            .lock_exclusive()
            .one(&holder)
            .await
            .expect("the row is locked");
        let slow_write = tokio::spawn({
            let (b_url, editor, slow) = (b.url("/graphql"), editor.clone(), slow.clone());
            async move {
                let input = json!({ "input": { "id": slow, "expectedVersion": 1, "nameEn": "Slow" } });
                let body: Value = reqwest::Client::new()
                    .post(b_url)
                    .bearer_auth(editor)
                    .json(&json!({ "query": UPDATE_PARTNER, "variables": input }))
                    .send()
                    .await
                    .expect("the server answers")
                    .json()
                    .await
                    .expect("JSON");
                assert!(body.get("errors").is_none(), "{body}");
            }
        });

        let stop = Arc::new(AtomicBool::new(false));
        let kills = Arc::new(AtomicU64::new(0));
        let killer = tokio::spawn({
            let (stop, kills) = (stop.clone(), kills.clone());
            let db = sea_orm::Database::connect(&a.database_url).await.expect("the test connects");
            async move {
                while !stop.load(Ordering::SeqCst) {
                    kills.fetch_add(kill_listeners(&db).await, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        });
        // Load until listeners have died a few times under it, however fast the build.
        let mut rounds = 0;
        while rounds == 0 || (kills.load(Ordering::SeqCst) < 4 && rounds < 50) {
            write_load(&[&a, &b], &editor, &format!("first-{rounds}"), 8, 5).await;
            rounds += 1;
        }
        assert!(kills.load(Ordering::SeqCst) >= 4, "listeners died under the load ({rounds} rounds)");
        holder.commit().await.expect("the lock is released");
        slow_write.await.expect("the slow write is acknowledged");
        write_load(&[&b, &a], &editor, "second", 4, 2).await;
        stop.store(true, Ordering::SeqCst);
        killer.await.expect("the killer stops");

        let committed = committed_after(&a, start).await;
        assert_eq!(committed.len(), rounds * 8 * 6 + 1 + 4 * 3, "every acknowledged write is in the history");
        let slow_at = committed.iter().position(|c| c["recordId"] == slow.as_str()).expect("the slow write");
        assert_eq!(slow_at, rounds * 8 * 6, "the slow write committed after the whole first load");
        let mut delivered = Vec::new();
        for (client, server) in [(&mut on_a, "a"), (&mut on_b, "b")] {
            let received: Vec<Value> = events(client, "all", committed.len()).await.iter().map(change).collect();
            assert_eq!(received, committed, "server {server}: every change, once, in commit order");
            client.nothing_pending().await;
            delivered.push(received.len());
        }
        println!(
            "events: {} committed; delivered in commit order, none twice, to a subscriber on each server: {delivered:?}; \
             {} listening connections killed",
            committed.len(),
            kills.load(Ordering::SeqCst)
        );

        // Leaves server a after 20 events; resumes on b from the last it got.
        let first = events(&mut leaving, "all", 20).await;
        drop(leaving);
        let mut resumed = WsClient::connect(&b, None).await;
        resumed.subscribe("all", FEED, json!({ "after": first[19]["cursor"] })).await;
        let rest: Vec<Value> = events(&mut resumed, "all", committed.len() - 20).await.iter().map(change).collect();
        assert_eq!(rest, committed[20..], "the rest, once, in commit order");
        resumed.nothing_pending().await;
    }
}
