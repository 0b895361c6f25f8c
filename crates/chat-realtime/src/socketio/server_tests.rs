//! The server's namespace rules seen by a polling client: leaving on either side, which
//! packets close the connection (as the reference server does), and acknowledgements the
//! server awaits.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, body::MessageBody, test};
use serde_json::{Map, Value};

use super::SioSocket;
use crate::engineio::{DisconnectReason, Engine, EngineConfig, HandshakeRequest};
use crate::socketio::{
    ConnectRefusal, Data, Namespace, SocketIoConfig, SocketIoHandler, SocketIoServer,
};

/// Admits `/` and `/a`, acks with the event's arguments, leaves on `leave`, asks the
/// client on `ask` (recording the answer), and records every `on_disconnect`.
#[derive(Default)]
struct Recorder(
    Mutex<Vec<(String, DisconnectReason)>>,
    Arc<Answers>,
    tokio::sync::Notify,
);

/// The client's answers to the server's questions, as they arrive.
#[derive(Default)]
struct Answers {
    got: Mutex<Vec<Result<Vec<Data>, super::AckError>>>,
    arrived: tokio::sync::Notify,
}

impl SocketIoHandler for Recorder {
    type Session = ();

    fn accepts(&self, namespace: &Namespace) -> bool {
        matches!(namespace.as_str(), "/" | "/a")
    }

    async fn connect(
        &self,
        _: SioSocket,
        _: Option<Map<String, Value>>,
        _: Arc<HandshakeRequest>,
    ) -> Result<(), ConnectRefusal> {
        Ok(())
    }

    async fn on_event(
        &self,
        socket: &SioSocket,
        (): &(),
        name: String,
        args: Vec<Data>,
    ) -> Vec<Data> {
        if name == "leave" {
            socket.disconnect().unwrap();
            socket.disconnect().unwrap(); // a second call does nothing
        }
        if name == "ask" {
            // Not awaited here: this connection's acks come through the same worker.
            let (socket, answers) = (socket.clone(), Arc::clone(&self.1));
            tokio::spawn(async move {
                let question = vec![Data::Json(Value::from("?"))];
                let timeout = Duration::from_secs(5);
                let answer = socket.emit_with_ack("question", question, timeout).await;
                answers.got.lock().unwrap().push(answer);
                answers.arrived.notify_one();
            });
        }
        args
    }

    fn on_disconnect(&self, socket: &SioSocket, (): (), reason: DisconnectReason) {
        let mut calls = self.0.lock().unwrap();
        calls.push((socket.namespace().to_string(), reason));
        self.2.notify_one();
    }
}

/// A server with `connect_timeout`, and a polling client of it.
struct Client {
    engine: Arc<Engine<SocketIoServer<Recorder>>>,
    recorder: Arc<Recorder>,
    sid: String,
}

impl Client {
    async fn new(connect_timeout: Duration) -> Self {
        Self::with(SocketIoConfig {
            connect_timeout,
            ..SocketIoConfig::default()
        })
        .await
    }

    async fn with(config: SocketIoConfig) -> Self {
        let recorder = Arc::new(Recorder::default());
        let server = SocketIoServer::new(Arc::clone(&recorder), config);
        let engine = Arc::new(Engine::new(EngineConfig::default(), Arc::new(server)));
        let mut client = Client {
            engine,
            recorder,
            sid: String::new(),
        };
        client.sid = client.open().await;
        client
    }

    /// Opens another session on the same server.
    async fn open(&self) -> String {
        let handshake = test::TestRequest::get().uri("/socket.io/?EIO=4&transport=polling");
        let (_, open) = self.request(handshake).await;
        let open: Value = serde_json::from_str(&open[1..]).unwrap();
        open["sid"].as_str().unwrap().to_owned()
    }

    async fn request(&self, request: test::TestRequest) -> (u16, String) {
        let engine = Arc::clone(&self.engine);
        let app = App::new().configure(move |cfg| engine.configure(cfg, "/socket.io"));
        let app = test::init_service(app).await;
        let response = test::call_service(&app, request.to_request()).await;
        let status = response.status().as_u16();
        let body = response.into_body().try_into_bytes().unwrap_or_default();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    async fn post(&self, packet: &str) {
        let uri = format!("/socket.io/?EIO=4&transport=polling&sid={}", self.sid);
        let post = test::TestRequest::post()
            .uri(&uri)
            .set_payload(packet.to_owned());
        let (status, body) = self.request(post).await;
        assert_eq!(status, 200, "{body}");
    }

    /// The Engine.IO packets of the next poll of `sid`.
    async fn poll(&self, sid: &str) -> Vec<String> {
        let uri = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
        let (status, body) = self.request(test::TestRequest::get().uri(&uri)).await;
        assert_eq!(status, 200, "{body}");
        body.split('\x1e').map(str::to_owned).collect()
    }

    fn calls(&self) -> Vec<(String, DisconnectReason)> {
        self.recorder.0.lock().unwrap().clone()
    }
}

#[actix_web::test]
async fn the_server_leaves_a_namespace_and_a_later_packet_to_it_closes_the_connection() {
    let client = Client::new(Duration::from_secs(45)).await;
    client.post("40").await;
    client.post("40/a,").await;
    assert_eq!(client.poll(&client.sid).await.len(), 2);
    client.post(r#"42/a,["leave"]"#).await;
    assert_eq!(client.poll(&client.sid).await, ["41/a,"]);
    assert_eq!(
        client.calls(),
        [("/a".to_owned(), DisconnectReason::ServerClose)]
    );
    // `/` still answers, and a plain EVENT's placeholder-shaped object is mere data.
    client
        .post(r#"421["echo",{"_placeholder":true,"num":0}]"#)
        .await;
    let ack = r#"431[{"_placeholder":true,"num":0}]"#;
    assert_eq!(client.poll(&client.sid).await, [ack]);
    client.post(r#"42/a,["late"]"#).await;
    assert_eq!(client.poll(&client.sid).await, ["1"]);
    let closed = ("/".to_owned(), DisconnectReason::ProtocolError);
    assert_eq!(client.calls()[1..], [closed]);
}

#[actix_web::test]
async fn packets_in_an_invalid_state_close_the_connection() {
    for packets in [
        &["40", "40"][..],
        &[r#"42["x"]"#],
        &["40", "41/a,"],
        &["40", "44{}"],
    ] {
        let client = Client::new(Duration::from_secs(45)).await;
        for packet in packets {
            client.post(packet).await;
        }
        let polled = client.poll(&client.sid).await;
        assert_eq!(
            polled.last().map(String::as_str),
            Some("1"),
            "{packets:?}: {polled:?}"
        );
    }
}

#[actix_web::test]
async fn the_connect_timeout_spares_a_client_that_joined_then_left() {
    let client = Client::new(Duration::from_millis(50)).await;
    let idle = client.open().await;
    client.post("40").await;
    client.post("41").await;
    assert_eq!(client.poll(&client.sid).await.len(), 1);
    tokio::time::sleep(Duration::from_millis(150)).await;
    let open = |sid: &str| client.engine.socket(sid).is_some_and(|s| !s.is_closed());
    assert!(!open(&idle), "a client that joined no namespace is closed");
    assert!(open(&client.sid));
    assert_eq!(
        client.calls(),
        [("/".to_owned(), DisconnectReason::ClientClose)]
    );
}

#[actix_web::test]
async fn the_server_awaits_the_clients_acknowledgement() {
    let client = Client::new(Duration::from_secs(45)).await;
    client.post("40").await;
    assert_eq!(client.poll(&client.sid).await.len(), 1);
    client.post(r#"42["ask"]"#).await;
    assert_eq!(client.poll(&client.sid).await, [r#"421["question","?"]"#]);
    let answers = Arc::clone(&client.recorder.1);
    let arrived = answers.arrived.notified();
    client.post(r#"431["yes"]"#).await;
    tokio::time::timeout(Duration::from_secs(5), arrived)
        .await
        .unwrap();
    let got = answers.got.lock().unwrap().clone();
    assert_eq!(got, [Ok(vec![Data::Json(Value::from("yes"))])]);
    // An ack nobody waits for is ignored; the connection stays open.
    client.post(r#"439["late"]"#).await;
    client.post(r#"421["echo","still here"]"#).await;
    assert_eq!(client.poll(&client.sid).await, [r#"431["still here"]"#]);
}

#[actix_web::test]
async fn an_event_refused_for_its_content_is_answered_and_the_connection_stays() {
    let client = Client::new(Duration::from_secs(45)).await;
    client.post("40").await;
    assert_eq!(client.poll(&client.sid).await.len(), 1);
    client.post(r#"427["send",{"content":"cut \ud83d"}]"#).await;
    assert_eq!(client.poll(&client.sid).await, ["437[]"]);
    client.post(r#"428["echo","still here"]"#).await;
    assert_eq!(client.poll(&client.sid).await, [r#"438["still here"]"#]);
    assert!(client.calls().is_empty(), "nobody left");
}

#[actix_web::test]
async fn attachments_that_do_not_all_arrive_in_time_close_the_connection() {
    let client = Client::with(SocketIoConfig {
        attachment_timeout: Duration::from_millis(50),
        ..SocketIoConfig::default()
    })
    .await;
    client.post("40").await;
    assert_eq!(client.poll(&client.sid).await.len(), 1);
    client
        .post(r#"451-["x",{"_placeholder":true,"num":0}]"#)
        .await;
    tokio::time::timeout(Duration::from_secs(5), client.recorder.2.notified())
        .await
        .expect("the connection is closed");
    assert_eq!(
        client.calls(),
        [("/".to_owned(), DisconnectReason::AttachmentTimeout)]
    );
}

#[actix_web::test]
async fn attachments_over_the_byte_bound_of_a_packet_close_the_connection_as_too_large() {
    let client = Client::with(SocketIoConfig {
        max_attachment_bytes: 10,
        ..SocketIoConfig::default()
    })
    .await;
    client.post("40").await;
    assert_eq!(client.poll(&client.sid).await.len(), 1);
    let two = r#"452-["x",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#;
    client.post(two).await;
    // Two attachments of 8 bytes each, in base64 as polling carries them.
    client.post("bAAAAAAAAAAA=\u{1e}bAAAAAAAAAAA=").await;
    tokio::time::timeout(Duration::from_secs(5), client.recorder.2.notified())
        .await
        .expect("the connection is closed");
    assert_eq!(
        client.calls(),
        [("/".to_owned(), DisconnectReason::PayloadTooLarge)]
    );
}
