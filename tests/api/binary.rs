//! The real binary, as an operator runs it: first start on an empty SQLite
//! file (created, migrated, seeded), JSON logs, and SIGTERM.

use std::process::Command;

use serde_json::{Value, json};

use crate::process::Process;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_starts_seeded_logs_json_and_stops_on_sigterm() {
    let file = std::env::temp_dir().join(format!("pr_binary_{}.db", std::process::id()));
    let database_url = format!("sqlite://{}", file.display());
    let mut server = Process::start(
        &["--log-format", "json", "serve", "--listen-addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0"],
        &[("DATABASE_URL", database_url.as_str()), ("RUST_LOG", "info")],
    );
    let address = server.after("listening on http://").await;
    let metrics = server.after("metrics on http://").await;

    let client = reqwest::Client::new();
    let body: Value = client
        .post(format!("http://{address}/graphql"))
        .json(&json!({ "query": r#"{ partner(slug: "unodc") { acronym parent { slug } } }"# }))
        .send()
        .await
        .expect("the server answers")
        .json()
        .await
        .expect("json");
    assert_eq!(body["data"]["partner"], json!({ "acronym": "UNODC", "parent": { "slug": "united-nations" } }));
    let status = |url: String| {
        let client = client.clone();
        async move { client.get(url).send().await.expect("the server answers").status() }
    };
    assert_eq!(status(format!("http://{address}/metrics")).await, 404, "metrics are not on the public address");
    assert_eq!(status(format!("http://{metrics}/metrics")).await, 200);

    let term = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().expect("kill runs");
    assert!(term.success());
    let (status, mut server) = server.wait().await;
    assert!(status.success(), "SIGTERM is a clean stop: {status:?}");
    server.drain();
    let seen = server.seen;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
    assert!(seen.iter().any(|l| l.contains("seeded with the real dataset")), "first start seeds: {seen:#?}");
    for line in &seen {
        assert!(serde_json::from_str::<Value>(line).is_ok(), "every log line is JSON: {line}");
    }
}
