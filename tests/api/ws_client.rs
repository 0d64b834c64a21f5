//! A graphql-transport-ws client over a real WebSocket, for the tests.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::TestApp;

/// How long a test waits for a message that must come.
const PATIENCE: Duration = Duration::from_secs(15);

pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>,
}

/// What the server sent next.
#[derive(Debug)]
pub enum Received {
    Message(Value),
    Closed(u16, String),
}

impl WsClient {
    /// Opens `/graphql/ws`, offering `protocol` (none when `None`).
    pub async fn open(app: &TestApp, protocol: Option<&str>) -> Self {
        let url = format!("ws://{}/graphql/ws", app.address);
        let mut request = url.into_client_request().expect("a WebSocket request");
        if let Some(protocol) = protocol {
            request
                .headers_mut()
                .insert("sec-websocket-protocol", HeaderValue::from_str(protocol).expect("a header value"));
        }
        let (socket, _) = tokio_tungstenite::connect_async(request).await.expect("the WebSocket opens");
        WsClient { socket }
    }

    /// Opens a connection and completes the handshake, with an optional token.
    pub async fn connect(app: &TestApp, token: Option<&str>) -> Self {
        let mut client = Self::open(app, Some("graphql-transport-ws")).await;
        let payload = match token {
            Some(token) => json!({ "Authorization": format!("Bearer {token}") }),
            None => json!({}),
        };
        client.send(json!({ "type": "connection_init", "payload": payload })).await;
        let ack = client.message().await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        client
    }

    pub async fn send(&mut self, message: Value) {
        self.send_text(&message.to_string()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.socket.send(Message::Text(text.into())).await.expect("the message is sent");
    }

    /// Sends a message the server may refuse mid-way; whether it got out is not the point.
    pub async fn send_text_unchecked(&mut self, text: &str) {
        let _ = self.socket.send(Message::Text(text.into())).await;
    }

    /// The close code that comes next, or 1006 when the connection is reset
    /// instead (as it may be when the server closes while data is unread).
    pub async fn closed_or_reset(&mut self) -> u16 {
        loop {
            match tokio::time::timeout(PATIENCE, self.socket.next()).await.expect("the server answers in time") {
                Some(Ok(Message::Close(frame))) => return frame.map_or(1005, |f| f.code.into()),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return 1006,
            }
        }
    }

    /// The next message or the close, whichever comes.
    pub async fn receive(&mut self) -> Received {
        loop {
            let next = tokio::time::timeout(PATIENCE, self.socket.next()).await.expect("the server answers in time");
            match next {
                Some(Ok(Message::Text(text))) => {
                    return Received::Message(serde_json::from_str(text.as_str()).expect("JSON from the server"));
                }
                Some(Ok(Message::Close(frame))) => {
                    return match frame {
                        Some(frame) => Received::Closed(frame.code.into(), frame.reason.to_string()),
                        None => Received::Closed(1005, String::new()),
                    };
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => panic!("the WebSocket failed: {e}"),
                None => return Received::Closed(1006, String::new()),
            }
        }
    }

    /// The next message, which must not be a close.
    pub async fn message(&mut self) -> Value {
        match self.receive().await {
            Received::Message(m) => m,
            Received::Closed(code, reason) => panic!("closed ({code} {reason}) where a message was expected"),
        }
    }

    /// The close that must come next.
    pub async fn closed(&mut self) -> (u16, String) {
        match self.receive().await {
            Received::Closed(code, reason) => (code, reason),
            Received::Message(m) => panic!("got {m} where a close was expected"),
        }
    }

    /// Subscribes under `id`.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } }))
            .await;
    }

    /// Waits until every change committed so far has been delivered to this
    /// server's subscribers: events travel after their commit (on
    /// PostgreSQL, through LISTEN), so a subscription opened right after a
    /// write could otherwise still see it. A marker write's event, seen on a
    /// subscription of this connection, comes after all of them.
    pub async fn settle(&mut self, app: &TestApp, token: &str) {
        // The server reads on only once the subscription listens: the marker's event will reach it.
        self.subscribe("settle", "subscription { changes(kinds: [PARTNER]) { recordId } }", json!({})).await;
        let marker = crate::mutations::create_partner(app, token, &format!("marker-{}", marker_id())).await;
        loop {
            let message = self.message().await;
            if message["id"] == "settle" && message["payload"]["data"]["changes"]["recordId"] == marker.as_str() {
                break;
            }
        }
        self.send(json!({ "id": "settle", "type": "complete" })).await;
        self.nothing_pending().await;
    }

    /// Proves nothing else is queued: a ping's pong is the very next message.
    pub async fn nothing_pending(&mut self) {
        self.send(json!({ "type": "ping", "payload": { "probe": true } })).await;
        let next = self.message().await;
        assert_eq!(next, json!({ "type": "pong", "payload": { "probe": true } }), "a message was pending");
    }
}

fn marker_id() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}
