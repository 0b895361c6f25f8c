//! Loopback helpers shared by the commands that start servers: free ports and an HTTP probe.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use anyhow::{Context, Result};

/// Ports never handed out: the machine's own PostgreSQL and Redis may listen there, and a
/// throwaway server must never be mistaken for them (or they for it).
const RESERVED: [u16; 2] = [5432, 6379];

/// A 127.0.0.1 port that is free right now (the kernel chooses); never a reserved one.
pub(crate) fn free_port() -> Result<u16> {
    free_ports(1)?.pop().context("no free port")
}

/// `n` distinct 127.0.0.1 ports that are free right now: each stays bound until all are
/// chosen, so the kernel cannot hand out the same one twice.
pub(crate) fn free_ports(n: usize) -> Result<Vec<u16>> {
    let mut held = Vec::with_capacity(n);
    while held.len() < n {
        let listener = TcpListener::bind(("127.0.0.1", 0)).context("binding 127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        if !RESERVED.contains(&port) {
            held.push((port, listener));
        }
    }
    Ok(held.into_iter().map(|(port, _)| port).collect())
}

/// The status code `GET path` gets from 127.0.0.1:`port` right now, or `None` when nothing
/// answers (refused, timed out, not HTTP).
pub(crate) fn http_status(port: u16, path: &str) -> Option<u16> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream
        .set_write_timeout(Some(Duration::from_secs(2)))
        .ok()?;
    // HTTP/1.0: the server closes after answering, so reading to the end is the whole answer.
    // One write: a server that answers after its first read and closes must not find the rest
    // of the request unread (its kernel would reset the connection under our read).
    let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).ok()?;
    let text = String::from_utf8_lossy(&answer);
    text.lines().next()?.split(' ').nth(1)?.parse().ok()
}

/// Whether `GET /readyz` answers 200 right now.
pub(crate) fn ready(port: u16) -> bool {
    http_status(port, "/readyz") == Some(200)
}

#[cfg(test)]
mod tests {
    use super::{free_ports, http_status};
    use std::io::{Read, Write};
    use std::net::TcpListener;

    #[test]
    fn free_ports_are_distinct_and_never_reserved() -> anyhow::Result<()> {
        let ports = free_ports(8)?;
        for (i, port) in ports.iter().enumerate() {
            assert!(![5432, 6379, 0].contains(port));
            assert!(!ports[i + 1..].contains(port));
        }
        Ok(())
    }

    #[test]
    fn http_status_reads_the_status_line() -> anyhow::Result<()> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let port = listener.local_addr()?.port();
        let server = std::thread::spawn(move || -> std::io::Result<()> {
            let (mut conn, _) = listener.accept()?;
            let (mut request, mut chunk) = (Vec::new(), [0u8; 256]);
            while !request.ends_with(b"\r\n\r\n") {
                let read = conn.read(&mut chunk)?;
                if read == 0 {
                    break;
                }
                request.extend_from_slice(&chunk[..read]);
            }
            conn.write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
        });
        assert_eq!(http_status(port, "/readyz"), Some(503));
        assert!(server.join().is_ok_and(|r| r.is_ok()));
        Ok(())
    }
}
