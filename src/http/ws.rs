//! `/graphql/ws`: GraphQL over WebSocket, by the graphql-transport-ws
//! protocol (the `graphql-ws` library's), followed to the letter:
//!
//! - no `connection_init` within the init timeout: close 4408;
//! - a second `connection_init`: 4429; a refused token: 4403;
//! - `subscribe` before `connection_ack`: 4401; an id already running: 4409;
//! - anything that is not a valid message of the protocol: 4400;
//! - `ping` is answered with `pong` (echoing its payload), at any time;
//! - an operation that fails to parse or validate, or a subscription that
//!   cannot start, gets an `error` message (and no `complete`); every other
//!   result is a `next`, and `complete` follows unless the client completed
//!   the operation first.
//!
//! Each connection has a bounded outbox: a client that stops reading stalls
//! only its own operations; the change broadcast drops what they leave
//! unread, and they read it back from the history when the client reads
//! again. Writers and other subscribers never wait for it.

use std::collections::HashMap;

use async_graphql::parser::types::OperationType;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response as HttpResponse;
use futures_util::stream::BoxStream;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Map, json};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;

use super::{AppState, RequestId};
use crate::auth::{self, AuthError, Caller, Role};
use crate::budget::Client;
use crate::error::ApiError;
use crate::gate::Params;
use crate::graphql::lang::Lang;
use crate::graphql::{Asker, Executed, ReadFrom, TimedOut};

/// The subprotocol spoken here.
pub const PROTOCOL: &str = "graphql-transport-ws";
/// Messages queued for a client before its operations wait.
const OUTBOX: usize = 256;
/// Operations one connection may run at once.
const MAX_OPERATIONS: usize = 100;

pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    request_id: Option<axum::Extension<RequestId>>,
    peer: Option<axum::Extension<axum::extract::connect_info::ConnectInfo<std::net::SocketAddr>>>,
    ws: WebSocketUpgrade,
) -> HttpResponse {
    let address = state.client_address(&headers, peer.map(|p| p.0.0));
    let lang = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Lang::from_accept_language)
        .unwrap_or_default();
    let authorization = headers.get(header::AUTHORIZATION).cloned();
    let request_id = request_id.map(|r| r.0.0.clone()).unwrap_or_default();
    // A message is held to the same bound as an HTTP body, before it is read.
    let most = state.gate.limits.max_body_bytes;
    let ws = ws.protocols([PROTOCOL]).max_message_size(most).max_frame_size(most);
    let speaks_protocol = ws.selected_protocol().is_some();
    ws.on_upgrade(move |socket| async move {
        let connection = Connection {
            state,
            address,
            lang,
            authorization,
            request_id,
            operations: HashMap::new(),
            generations: 0,
            accepted: None,
        };
        connection.run(socket, speaks_protocol).await;
    })
}

/// A close frame; reasons stay within the 123 bytes a close frame allows.
fn close(code: u16, reason: &str) -> Message {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    Message::Close(Some(CloseFrame { code, reason: Utf8Bytes::from(&reason[..end]) }))
}

fn json_message(value: serde_json::Value) -> Message {
    Message::Text(Utf8Bytes::from(value.to_string()))
}

/// A `next` message carrying a result, its objects possibly already
/// written as text ([`crate::graphql::render`]).
fn next_message(id: &str, executed: &Executed) -> Message {
    let written = executed.to_json().and_then(|payload| {
        let mut text = br#"{"type":"next","id":"#.to_vec();
        serde_json::to_writer(&mut text, id)?;
        text.extend_from_slice(br#","payload":"#);
        text.extend_from_slice(&payload);
        text.push(b'}');
        Ok(text)
    });
    let text = written
        .map_err(|e| e.to_string())
        .and_then(|text| String::from_utf8(text).map_err(|e| e.utf8_error().to_string()));
    match text {
        Ok(text) => Message::Text(Utf8Bytes::from(text)),
        Err(error) => {
            tracing::error!(%error, "a result could not be written");
            json_message(json!({ "id": id, "type": "next", "payload": { "data": null } }))
        }
    }
}

/// What the reader decided after a message.
enum Next {
    Continue,
    Close(u16, String),
}

fn invalid(why: impl Into<String>) -> Next {
    Next::Close(4400, why.into())
}

/// How an operation ended.
enum Outcome {
    /// Its results are all sent: `complete` is due.
    Completed,
    /// It never ran: this `error` payload is due, and no `complete`.
    Refused(serde_json::Value),
    /// The client stopped reading; the connection is to be closed.
    Stalled,
}

/// An operation that ended, told to the connection, which alone decides
/// what is sent about it: the client may have completed it meanwhile, or
/// reused its id for a new one (hence the generation).
struct Finished {
    id: String,
    generation: u64,
    outcome: Outcome,
}

/// An operation running on a connection.
struct Running {
    generation: u64,
    task: AbortHandle,
}

struct Connection {
    state: AppState,
    /// The client's address, for the budget of operations sent without a token.
    address: std::net::IpAddr,
    lang: Lang,
    /// The upgrade request's own `Authorization` header, if any.
    authorization: Option<HeaderValue>,
    /// The upgrade request's id, named by the connection's internal errors.
    request_id: String,
    operations: HashMap<String, Running>,
    generations: u64,
    /// Set once `connection_init` is accepted: the credentials it brought.
    accepted: Option<Credentials>,
}

/// What a connection was accepted with.
#[derive(Clone)]
struct Credentials {
    /// The bearer token, checked again for every operation so a revoked one
    /// stops working on sockets already open.
    token: Option<String>,
}

impl Connection {
    async fn run(mut self, socket: WebSocket, speaks_protocol: bool) {
        let (mut sink, mut incoming) = socket.split();
        let (outbox, mut outgoing) = mpsc::channel::<Message>(OUTBOX);
        let mut writer = tokio::spawn(async move {
            while let Some(message) = outgoing.recv().await {
                let last = matches!(message, Message::Close(_));
                if sink.send(message).await.is_err() || last {
                    break;
                }
            }
        });
        if !speaks_protocol {
            let _ = outbox.try_send(close(4406, "Subprotocol not acceptable"));
            drop(outbox);
            let _ = writer.await;
            return;
        }
        let (finished_tx, mut finished) = mpsc::unbounded_channel::<Finished>();
        let init_deadline = tokio::time::sleep(self.state.options.ws_init_timeout);
        tokio::pin!(init_deadline);
        let mut shutdown = self.state.shutdown.clone();
        let end = loop {
            tokio::select! {
                () = &mut init_deadline, if self.accepted.is_none() => {
                    break close(4408, "Connection initialisation timeout");
                }
                changed = shutdown.changed() => {
                    if changed.is_err() || *shutdown.borrow() {
                        break close(1001, "Server shutting down");
                    }
                }
                Some(done) = finished.recv() => {
                    let current = self.operations.get(&done.id).is_some_and(|r| r.generation == done.generation);
                    if !current {
                        continue;
                    }
                    self.operations.remove(&done.id);
                    let message = match done.outcome {
                        Outcome::Completed => json!({ "id": done.id, "type": "complete" }),
                        Outcome::Refused(errors) => json!({ "id": done.id, "type": "error", "payload": errors }),
                        Outcome::Stalled => break close(1008, "Too slow: messages were not read"),
                    };
                    if let Next::Close(code, reason) = post(&outbox, json_message(message)) {
                        break close(code, &reason);
                    }
                }
                message = incoming.next() => {
                    let text = match message {
                        None | Some(Ok(Message::Close(_))) => break close(1000, "Normal Closure"),
                        // The socket refuses a message over the size bound (tungstenite's
                        // capacity error says "too long"); anything else it fails on is
                        // a protocol violation.
                        Some(Err(e)) if e.to_string().contains("too long") => break close(1009, "Message Too Big"),
                        Some(Err(_)) => break close(1002, "Protocol Error"),
                        Some(Ok(Message::Text(t))) => t.as_str().to_owned(),
                        Some(Ok(Message::Binary(b))) => match String::from_utf8(b.to_vec()) {
                            Ok(t) => t,
                            Err(_) => break close(4400, "Invalid message received"),
                        },
                        // WebSocket-level pings are answered by the socket itself.
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    };
                    if let Next::Close(code, reason) = self.handle(&text, &outbox, &finished_tx).await {
                        break close(code, &reason);
                    }
                }
            }
        };
        for (_, running) in self.operations.drain() {
            running.task.abort();
        }
        let _ = outbox.try_send(end);
        drop(outbox);
        // A client that does not read cannot hold the connection open for long.
        if tokio::time::timeout(Duration::from_secs(5), &mut writer).await.is_err() {
            writer.abort();
        }
    }

    async fn handle(
        &mut self,
        text: &str,
        outbox: &mpsc::Sender<Message>,
        finished: &mpsc::UnboundedSender<Finished>,
    ) -> Next {
        let Ok(serde_json::Value::Object(message)) = serde_json::from_str::<serde_json::Value>(text) else {
            return invalid("Invalid message received: not a JSON object");
        };
        let Some(kind) = message.get("type").and_then(|t| t.as_str()) else {
            return invalid("Invalid message received: no string 'type'");
        };
        let payload_object = |required: bool| match message.get("payload") {
            None | Some(serde_json::Value::Null) if !required => Ok(None),
            Some(serde_json::Value::Object(p)) => Ok(Some(p.clone())),
            _ => Err(invalid(format!("Invalid message received: '{kind}' payload must be an object"))),
        };
        let id = || match message.get("id").and_then(|i| i.as_str()) {
            Some(id) if !id.is_empty() => Ok(id.to_owned()),
            _ => Err(invalid(format!("Invalid message received: '{kind}' needs a non-empty string 'id'"))),
        };
        match kind {
            "connection_init" => {
                let payload = match payload_object(false) {
                    Ok(p) => p,
                    Err(next) => return next,
                };
                if self.accepted.is_some() {
                    return Next::Close(4429, "Too many initialisation requests".into());
                }
                let token = self.token(payload.as_ref());
                match self.authenticate(token.as_deref()).await {
                    Ok(_) => {
                        self.accepted = Some(Credentials { token });
                        post(outbox, json_message(json!({ "type": "connection_ack" })))
                    }
                    Err(next) => next,
                }
            }
            "ping" => match payload_object(false) {
                Ok(payload) => {
                    let pong = match payload {
                        Some(p) => json!({ "type": "pong", "payload": p }),
                        None => json!({ "type": "pong" }),
                    };
                    post(outbox, json_message(pong))
                }
                Err(next) => next,
            },
            "pong" => match payload_object(false) {
                Ok(_) => Next::Continue,
                Err(next) => next,
            },
            "subscribe" => {
                let id = match id() {
                    Ok(id) => id,
                    Err(next) => return next,
                };
                let payload = match payload_object(true) {
                    Ok(Some(p)) => p,
                    Ok(None) => return invalid("Invalid message received: 'subscribe' needs a payload"),
                    Err(next) => return next,
                };
                if let Err(why) = check_operation(&payload) {
                    return invalid(format!("Invalid message received: {why}"));
                }
                let Some(credentials) = self.accepted.clone() else {
                    return Next::Close(4401, "Unauthorized".into());
                };
                if self.operations.contains_key(&id) {
                    return Next::Close(4409, format!("Subscriber for {id} already exists"));
                }
                let params = operation_params(payload);
                if self.operations.len() >= MAX_OPERATIONS {
                    let errors = json!([{
                        "message": format!("at most {MAX_OPERATIONS} operations may run on one connection"),
                        "extensions": { "code": "TOO_MANY_OPERATIONS" }
                    }]);
                    return post(outbox, json_message(json!({ "id": id, "type": "error", "payload": errors })));
                }
                let caller = match self.authenticate(credentials.token.as_deref()).await {
                    Ok(caller) => caller,
                    Err(next) => return next,
                };
                self.generations += 1;
                let generation = self.generations;
                let (started, running) = oneshot::channel();
                let operation = Operation {
                    request_id: self.request_id.clone(),
                    state: self.state.clone(),
                    client: Client::of(&caller, self.address),
                    asker: Asker { caller, lang: self.lang, read_from: ReadFrom::Primary },
                    id: id.clone(),
                    generation,
                    outbox: outbox.clone(),
                    finished: finished.clone(),
                };
                let task = tokio::spawn(operation.run(params, started));
                self.operations.insert(id, Running { generation, task: task.abort_handle() });
                // Read on once the operation is under way (a subscription is
                // listening), so a client's next message can rely on it.
                let _ = tokio::time::timeout(Duration::from_secs(5), running).await;
                Next::Continue
            }
            "complete" => match id() {
                Ok(id) => {
                    if let Some(running) = self.operations.remove(&id) {
                        running.task.abort();
                    }
                    Next::Continue
                }
                Err(next) => next,
            },
            "connection_ack" | "next" | "error" => {
                invalid(format!("Invalid message received: '{kind}' is sent by servers, not clients"))
            }
            other => invalid(format!(
                "Invalid message received: unknown type '{}'",
                other.chars().take(32).collect::<String>()
            )),
        }
    }

    /// The token in `connection_init`'s payload (`Authorization`,
    /// `authorization` or `token`), else in the upgrade request's header.
    fn token(&self, payload: Option<&Map<String, serde_json::Value>>) -> Option<String> {
        let from_payload = payload.and_then(|p| {
            ["Authorization", "authorization"]
                .iter()
                .find_map(|k| p.get(*k).and_then(|v| v.as_str()).map(str::to_owned))
                .or_else(|| p.get("token").and_then(|v| v.as_str()).map(|t| format!("Bearer {t}")))
        });
        from_payload.or_else(|| self.authorization.as_ref().and_then(|h| h.to_str().ok()).map(str::to_owned))
    }

    /// Who the credentials stand for now: a refused token (or none where
    /// reads need one) closes with 4403; a database that cannot be asked, 1011.
    async fn authenticate(&self, authorization: Option<&str>) -> Result<Caller, Next> {
        let forbidden = || Next::Close(4403, "Forbidden".into());
        let caller = match authorization {
            None => Caller::Anonymous,
            Some(_) if !self.state.health.is_up() => return Err(Next::Close(1011, "Database unavailable".into())),
            Some(_) if self.state.budgets.may_look_up(self.address).is_err() => return Err(forbidden()),
            Some(header) => {
                let token = auth::bearer(header).map_err(|_| forbidden())?;
                let deadline = tokio::time::Instant::now() + self.state.gate.limits.timeout;
                match super::authenticate(&self.state, token, deadline).await {
                    Ok(caller) => caller,
                    Err(AuthError::Database(_) | AuthError::TimedOut) => {
                        return Err(Next::Close(1011, "Database unavailable".into()));
                    }
                    Err(_) => {
                        // A lookup for nothing costs the address a point, as over HTTP;
                        // the connection closes whether or not it could pay.
                        let _ = self.state.budgets.refused_token(self.address);
                        return Err(forbidden());
                    }
                }
            }
        };
        if self.state.options.require_auth_for_reads && !caller.has(Role::Viewer) {
            return Err(forbidden());
        }
        Ok(caller)
    }
}

/// Queues a message without waiting: a client whose outbox is full is not
/// reading, and is closed rather than allowed to stall the connection.
fn post(outbox: &mpsc::Sender<Message>, message: Message) -> Next {
    match outbox.try_send(message) {
        Ok(()) => Next::Continue,
        Err(_) => Next::Close(1008, "Too slow: messages were not read".into()),
    }
}

/// The shape a `subscribe` payload must have.
fn check_operation(payload: &Map<String, serde_json::Value>) -> Result<(), &'static str> {
    use serde_json::Value as J;
    if !matches!(payload.get("query"), Some(J::String(_))) {
        return Err("the payload's 'query' must be a string");
    }
    if !matches!(payload.get("variables"), None | Some(J::Null | J::Object(_))) {
        return Err("the payload's 'variables' must be an object or null");
    }
    if !matches!(payload.get("extensions"), None | Some(J::Null | J::Object(_))) {
        return Err("the payload's 'extensions' must be an object or null");
    }
    if !matches!(payload.get("operationName"), None | Some(J::Null | J::String(_))) {
        return Err("the payload's 'operationName' must be a string or null");
    }
    Ok(())
}

/// A `subscribe` payload (its shape already checked) as request parameters.
fn operation_params(mut payload: Map<String, serde_json::Value>) -> Params {
    let mut take_map = |key: &str| match payload.remove(key) {
        Some(serde_json::Value::Object(map)) => map,
        _ => Map::new(),
    };
    let variables = take_map("variables");
    let extensions = take_map("extensions");
    Params {
        query: payload.remove("query").and_then(|q| q.as_str().map(str::to_owned)),
        operation_name: payload.remove("operationName").and_then(|n| n.as_str().map(str::to_owned)),
        variables,
        extensions,
    }
}

/// One operation of a connection.
struct Operation {
    request_id: String,
    state: AppState,
    asker: Asker,
    /// Whose budget the operation spends.
    client: Client,
    id: String,
    generation: u64,
    outbox: mpsc::Sender<Message>,
    finished: mpsc::UnboundedSender<Finished>,
}

/// How long an operation may wait for room in a client's outbox.
const STALL: Duration = Duration::from_secs(30);

impl Operation {
    /// Runs the operation and sends its results; `started` fires once it is
    /// under way. Queries and mutations take an execution permit, like over HTTP.
    async fn run(self, params: Params, started: oneshot::Sender<()>) {
        let mut started = Some(started);
        // The same checks as over HTTP: persisted documents, limits, required variables.
        let admitted = self.state.gate.admit(params);
        // Each operation spends its cost, as over HTTP; a refused document a point.
        let cost = admitted.as_ref().map_or(1, |admitted| admitted.analysis.measure.cost);
        if let Err(over) = self.state.budgets.spend(&self.client, cost) {
            if let Some(started) = started.take() {
                let _ = started.send(());
            }
            let errors = json!([{ "message": over.message(), "extensions": {
                "code": "RATE_LIMITED", "cost": over.cost, "limit": over.limit, "retryAfterSeconds": over.retry_after_seconds()
            } }]);
            return self.finish(Outcome::Refused(errors));
        }
        let admitted = match admitted {
            Ok(admitted) => admitted,
            Err(refused) => {
                if let Some(started) = started.take() {
                    let _ = started.send(());
                }
                let errors = serde_json::to_value(&refused.errors).unwrap_or_else(|_| json!([]));
                return self.finish(Outcome::Refused(errors));
            }
        };
        if !self.state.health.is_up() {
            if let Some(started) = started.take() {
                let _ = started.send(());
            }
            let errors =
                json!([{ "message": ApiError::Unavailable.to_string(), "extensions": { "code": "UNAVAILABLE" } }]);
            return self.finish(Outcome::Refused(errors));
        }
        let operation = admitted.operation_type;
        let subscription = operation == OperationType::Subscription;
        let metrics = self.state.metrics.clone();
        let label = metrics.operation_label(admitted.operation_name.as_deref());
        let request = admitted.into_request(&self.state.gate);
        let mut results: BoxStream<'static, Result<Executed, TimedOut>> = if subscription {
            self.state.executor.execute_stream(self.asker.clone(), request).map(Ok).boxed()
        } else {
            // Queries and mutations are held to the same time limit as over
            // HTTP, their wait for an execution permit included.
            let deadline = tokio::time::Instant::now() + self.state.gate.limits.timeout;
            let (executor, executions, asker) =
                (self.state.executor.clone(), self.state.executions.clone(), self.asker.clone());
            futures_util::stream::once(async move {
                let _permit =
                    tokio::time::timeout_at(deadline, executions.acquire_owned()).await.map_err(|_| TimedOut)?;
                executor.execute_by(asker, request, operation, deadline).await
            })
            .boxed()
        };
        let mut first = true;
        loop {
            // The first poll starts the operation (a subscription begins listening).
            let next = futures_util::future::poll_fn(|cx| {
                let polled = results.poll_next_unpin(cx);
                if let Some(started) = started.take() {
                    let _ = started.send(());
                }
                polled
            })
            .await;
            let next = match next {
                Some(Err(TimedOut)) => {
                    metrics.operations.with_label_values(&[label.as_str(), "TIMEOUT"]).inc();
                    let message = format!(
                        "the operation took longer than {} ms and was cancelled",
                        self.state.gate.limits.timeout.as_millis()
                    );
                    let payload = json!({ "errors": [{ "message": message, "extensions": { "code": "TIMEOUT" } }] });
                    let _ = self
                        .outbox
                        .send_timeout(json_message(json!({ "id": self.id, "type": "next", "payload": payload })), STALL)
                        .await;
                    break;
                }
                Some(Ok(executed)) => Some(executed),
                None => None,
            };
            let Some(mut executed) = next else { break };
            if first {
                let outcome = executed.first_code().unwrap_or("ok");
                metrics.operations.with_label_values(&[label.as_str(), outcome]).inc();
            }
            if first && refused(&executed, subscription) {
                let errors = serde_json::to_value(executed.errors()).unwrap_or_else(|_| json!([]));
                return self.finish(Outcome::Refused(errors));
            }
            first = false;
            executed.mask_internal(&self.request_id);
            let message = next_message(&self.id, &executed);
            match self.outbox.send_timeout(message, STALL).await {
                Ok(()) => {}
                Err(mpsc::error::SendTimeoutError::Timeout(_)) => return self.finish(Outcome::Stalled),
                Err(mpsc::error::SendTimeoutError::Closed(_)) => return,
            }
        }
        self.finish(Outcome::Completed);
    }

    fn finish(self, outcome: Outcome) {
        let _ = self.finished.send(Finished { id: self.id, generation: self.generation, outcome });
    }
}

/// Whether a first result means the operation never ran: it failed
/// validation, or a subscription could not start.
fn refused(executed: &Executed, subscription: bool) -> bool {
    executed.never_ran() || (subscription && executed.has_no_data())
}
