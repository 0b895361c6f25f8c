//! A WebSocket client written byte by byte over TCP, for what a well-behaved library will not
//! send: frame headers that declare more than the client ever sends.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::within;

/// A WebSocket connection past its HTTP upgrade, with the bytes read but not yet parsed.
pub(crate) struct RawWs {
    stream: TcpStream,
    buffer: Vec<u8>,
}

/// A frame from the server (unmasked, never fragmented by this server).
#[derive(Debug)]
pub(crate) struct ServerFrame {
    pub(crate) opcode: u8,
    pub(crate) payload: Vec<u8>,
}

impl RawWs {
    /// Opens a WebSocket-only Engine.IO session on `address` (`host:port`) at `path`.
    pub(crate) async fn connect(address: &str, path: &str) -> RawWs {
        let mut stream = within("a TCP connection", TcpStream::connect(address))
            .await
            .unwrap();
        let request = format!(
            "GET {path}?EIO=4&transport=websocket HTTP/1.1\r\nHost: {address}\r\n\
             Upgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut ws = RawWs {
            stream,
            buffer: Vec::new(),
        };
        let end = loop {
            if let Some(at) = ws.buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            assert!(ws.fill().await, "the server answers the upgrade");
        };
        let head = String::from_utf8_lossy(&ws.buffer[..end]).into_owned();
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        ws.buffer.drain(..end);
        ws
    }

    /// Reads more bytes; false at the end of the stream.
    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 4096];
        match within("bytes from the server", self.stream.read(&mut chunk)).await {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.buffer.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    /// Sends raw bytes (a frame header, some payload, ...).
    pub(crate) async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    /// The next frame from the server, or `None` once the connection ended.
    pub(crate) async fn frame(&mut self) -> Option<ServerFrame> {
        loop {
            if let Some((frame, used)) = parse(&self.buffer) {
                self.buffer.drain(..used);
                return Some(frame);
            }
            if !self.fill().await {
                return None;
            }
        }
    }

    /// Reads frames until the close frame: its status code (`None` if the connection ended
    /// without one).
    pub(crate) async fn close_code(&mut self) -> Option<u16> {
        while let Some(frame) = self.frame().await {
            if frame.opcode == 0x8 {
                return frame
                    .payload
                    .get(..2)
                    .map(|code| u16::from_be_bytes([code[0], code[1]]));
            }
        }
        None
    }
}

/// A masked client frame header: `opcode` with the FIN bit, declaring `length` bytes.
pub(crate) fn client_header(opcode: u8, length: u64) -> Vec<u8> {
    let mut header = vec![0x80 | opcode];
    match length {
        0..=125 => header.push(0x80 | u8::try_from(length).unwrap()),
        126..=0xffff => {
            header.push(0x80 | 126);
            header.extend_from_slice(&u16::try_from(length).unwrap().to_be_bytes());
        }
        _ => {
            header.push(0x80 | 127);
            header.extend_from_slice(&length.to_be_bytes());
        }
    }
    header.extend_from_slice(&[0x12, 0x34, 0x56, 0x78]);
    header
}

fn parse(buffer: &[u8]) -> Option<(ServerFrame, usize)> {
    let (&first, &second) = (buffer.first()?, buffer.get(1)?);
    let (length, start) = match second & 0x7f {
        126 => (
            usize::from(u16::from_be_bytes([*buffer.get(2)?, *buffer.get(3)?])),
            4,
        ),
        127 => {
            let wide: [u8; 8] = buffer.get(2..10)?.try_into().ok()?;
            (usize::try_from(u64::from_be_bytes(wide)).ok()?, 10)
        }
        short => (usize::from(short), 2),
    };
    let payload = buffer.get(start..start + length)?.to_vec();
    let frame = ServerFrame {
        opcode: first & 0x0f,
        payload,
    };
    Some((frame, start + length))
}
