//! GraphiQL in a real browser: headless Chromium, driven over the Chrome
//! DevTools Protocol, opens `/graphiql`, runs a query through the page and
//! finds the answer in it — with every request to any other host than the
//! server refused, to prove the page needs no internet.
//!
//! Needs Debian's `chromium` (`/usr/bin/chromium`, or `CHROMIUM=<path>`);
//! `scripts/test.sh` installs it. Without it this test fails: it never
//! skips. `UPDATE_SCREENSHOT=1` also writes `docs/graphiql.png`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{Backend, spawn_app};

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>;

/// A Chromium process and a DevTools session on one page of it.
struct Browser {
    process: Child,
    outbox: mpsc::UnboundedSender<Value>,
    pending: Pending,
    next_id: u64,
    session: Option<String>,
    /// Requests the page tried to make to other hosts, refused.
    blocked: Arc<Mutex<Vec<String>>>,
    _profile: TempDir,
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn chromium() -> String {
    let path = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&path).exists(),
        "Chromium is needed at {path} for the browser test: `apt-get install chromium` (scripts/test.sh does), or set CHROMIUM"
    );
    path
}

impl Browser {
    /// Starts Chromium headless, attaches to a new page, and refuses every
    /// request of that page that does not go to `allowed` (`host:port`).
    async fn launch(allowed: String) -> Self {
        let profile = TempDir(std::env::temp_dir().join(format!("pr_chromium_{}_{}", std::process::id(), rand_id())));
        let mut process = Command::new(chromium())
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--window-size=1280,800",
                "--remote-debugging-port=0",
                &format!("--user-data-dir={}", profile.0.display()),
                "about:blank",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("Chromium starts");
        let stderr = process.stderr.take().expect("stderr");
        let endpoint = tokio::task::spawn_blocking(move || {
            BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
                .find_map(|line| line.find("ws://").map(|at| line[at..].trim().to_owned()))
        })
        .await
        .expect("joined")
        .expect("Chromium prints its DevTools endpoint");
        let (socket, _) = tokio_tungstenite::connect_async(endpoint.as_str()).await.expect("DevTools answers");
        let (mut sink, mut stream) = socket.split();
        let (outbox, mut outgoing) = mpsc::unbounded_channel::<Value>();
        tokio::spawn(async move {
            while let Some(message) = outgoing.recv().await {
                if sink.send(Message::Text(message.to_string().into())).await.is_err() {
                    break;
                }
            }
        });
        let pending: Pending = Arc::default();
        let blocked: Arc<Mutex<Vec<String>>> = Arc::default();
        let (answers, refused, replies) = (pending.clone(), blocked.clone(), outbox.clone());
        tokio::spawn(async move {
            let mut own_ids = 1_000_000u64;
            while let Some(Ok(Message::Text(text))) = stream.next().await {
                let Ok(message) = serde_json::from_str::<Value>(text.as_str()) else { continue };
                if let Some(id) = message["id"].as_u64() {
                    if let Some(waiting) = answers.lock().ok().and_then(|mut p| p.remove(&id)) {
                        let _ = waiting.send(message);
                    }
                    continue;
                }
                if message["method"] == "Fetch.requestPaused" {
                    let url = message["params"]["request"]["url"].as_str().unwrap_or("").to_owned();
                    let request_id = message["params"]["requestId"].clone();
                    let local =
                        url.starts_with(&format!("http://{allowed}/")) || url.starts_with(&format!("ws://{allowed}/"));
                    own_ids += 1;
                    let command = if local {
                        json!({ "id": own_ids, "method": "Fetch.continueRequest", "params": { "requestId": request_id } })
                    } else {
                        if let Ok(mut refused) = refused.lock() {
                            refused.push(url);
                        }
                        json!({ "id": own_ids, "method": "Fetch.failRequest",
                                "params": { "requestId": request_id, "errorReason": "BlockedByClient" } })
                    };
                    let mut command = command;
                    command["sessionId"] = message["sessionId"].clone();
                    let _ = replies.send(command);
                }
            }
        });
        let mut browser = Browser { process, outbox, pending, next_id: 0, session: None, blocked, _profile: profile };
        let target = browser.call("Target.createTarget", json!({ "url": "about:blank" })).await;
        let target_id = target["targetId"].clone();
        let attached = browser.call("Target.attachToTarget", json!({ "targetId": target_id, "flatten": true })).await;
        browser.session = attached["sessionId"].as_str().map(str::to_owned);
        browser.call("Fetch.enable", json!({ "patterns": [{ "urlPattern": "*" }] })).await;
        browser.call("Page.enable", json!({})).await;
        browser.call("Runtime.enable", json!({})).await;
        browser
    }

    /// Sends a DevTools command (to the page once attached) and returns its result.
    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let (answer, answered) = oneshot::channel();
        if let Ok(mut pending) = self.pending.lock() {
            pending.insert(id, answer);
        }
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = &self.session {
            message["sessionId"] = json!(session);
        }
        let _ = self.outbox.send(message);
        let reply = tokio::time::timeout(Duration::from_secs(30), answered)
            .await
            .unwrap_or_else(|_| panic!("{method}: no answer from Chromium"))
            .unwrap_or_else(|_| panic!("{method}: the DevTools connection closed"));
        assert!(reply.get("error").is_none(), "{method} failed: {reply}");
        reply["result"].clone()
    }

    /// Evaluates JavaScript in the page and returns its value.
    async fn eval(&mut self, expression: &str) -> Value {
        let result = self
            .call("Runtime.evaluate", json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }))
            .await;
        result["result"]["value"].clone()
    }

    /// Evaluates `expression` until it is truthy, for at most `within`.
    async fn until(&mut self, expression: &str, within: Duration) -> Value {
        let deadline = std::time::Instant::now() + within;
        loop {
            let value = self.eval(expression).await;
            if !(value.is_null() || value == json!(false) || value == json!("")) {
                return value;
            }
            assert!(std::time::Instant::now() < deadline, "never became true in the page: {expression}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn rand_id() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_runs_a_query_in_a_real_browser_with_no_internet() {
    let app = spawn_app(Backend::Sqlite).await;
    let mut browser = Browser::launch(app.address.to_string()).await;
    let query = r#"{ partner(slug: "unodc") { name(lang: FR) acronym(lang: FR) parent { name(lang: FR) } } }"#;
    let url = reqwest::Url::parse_with_params(&app.url("/graphiql"), &[("query", query)]).expect("a URL");
    browser.call("Page.navigate", json!({ "url": url.as_str() })).await;
    browser
        .until("!!document.querySelector('.graphiql-container .graphiql-execute-button')", Duration::from_secs(30))
        .await;
    browser
        .until("document.querySelector('.graphiql-query-editor')?.innerText.includes('unodc')", Duration::from_secs(10))
        .await;
    browser.eval("document.querySelector('.graphiql-execute-button').click(); true").await;
    let shown = browser
        .until(
            "(() => { const r = document.querySelector('.graphiql-response'); return r && r.innerText.includes('ONUDC') ? r.innerText : ''; })()",
            Duration::from_secs(30),
        )
        .await;
    let shown = shown.as_str().unwrap_or_default();
    assert!(shown.contains("Office des Nations Unies contre la drogue et le crime"), "{shown}");
    assert!(shown.contains("Organisation des Nations Unies") || shown.contains("Nations Unies"), "{shown}");
    let blocked = browser.blocked.lock().map(|b| b.clone()).unwrap_or_default();
    assert!(blocked.is_empty(), "the page tried to reach other hosts: {blocked:?}");

    let shot = browser.call("Page.captureScreenshot", json!({ "format": "png" })).await;
    let png = base64::engine::general_purpose::STANDARD.decode(shot["data"].as_str().unwrap_or("")).expect("a PNG");
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    if std::env::var_os("UPDATE_SCREENSHOT").is_some() {
        std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/graphiql.png"), &png)
            .expect("the screenshot is saved");
    }
}
