//! Every request body has a deadline: a client that announces a body and stalls gets 408 and
//! loses the connection, instead of holding it for as long as it likes.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stalls_gets_408_and_the_connection_is_closed() {
    let app = TestApp::spawn_with(&[("CHAT_BODY_TIMEOUT_SECS", "1")]).await;
    let address = app.address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream
        .write_all(
            b"POST /api/auth/login HTTP/1.1\r\nHost: chat\r\nContent-Type: application/json\r\n\
              Content-Length: 1000\r\n\r\n{\"username\": \"st",
        )
        .await
        .unwrap();
    let mut received = Vec::new();
    let read_all = stream.read_to_end(&mut received);
    tokio::time::timeout(Duration::from_secs(15), read_all)
        .await
        .expect("the server answers and closes within the deadline")
        .unwrap();
    let answer = String::from_utf8_lossy(&received);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");
}
