//! The real binary, as an operator runs it: first start on an empty SQLite
//! file (created, migrated, seeded), JSON logs, and SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_starts_seeded_logs_json_and_stops_on_sigterm() {
    let file = std::env::temp_dir().join(format!("pr_binary_{}.db", std::process::id()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_partnership-registry"))
        .args(["--log-format", "json", "serve", "--listen-addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0"])
        .env("DATABASE_URL", format!("sqlite://{}", file.display()))
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let stderr = child.stderr.take().expect("stderr");
    let (lines_tx, mut lines) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let (address, metrics) = tokio::time::timeout(Duration::from_secs(60), async {
        let after = |line: &str, prefix: &str| {
            line.find(prefix).and_then(|at| line[at + prefix.len()..].split([' ', '"', '/']).next().map(str::to_owned))
        };
        let (mut address, mut metrics) = (None, None);
        while let Some(line) = lines.recv().await {
            seen.push(line.clone());
            address = address.or(after(&line, "listening on http://"));
            metrics = metrics.or(after(&line, "metrics on http://"));
            if let (Some(address), Some(metrics)) = (&address, &metrics) {
                return Some((address.clone(), metrics.clone()));
            }
        }
        None
    })
    .await
    .expect("the server says where it listens within a minute")
    .expect("an address for the API and one for metrics");

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

    let term = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill runs");
    assert!(term.success());
    let status = tokio::task::spawn_blocking(move || child.wait()).await.expect("joined").expect("the binary exits");
    assert!(status.success(), "SIGTERM is a clean stop: {status:?}");
    while let Ok(line) = lines.try_recv() {
        seen.push(line);
    }
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
    assert!(seen.iter().any(|l| l.contains("seeded with the real dataset")), "first start seeds: {seen:#?}");
    for line in &seen {
        assert!(serde_json::from_str::<Value>(line).is_ok(), "every log line is JSON: {line}");
    }
}
