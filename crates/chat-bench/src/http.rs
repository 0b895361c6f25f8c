//! A minimal HTTP/1.1 keep-alive client: one request at a time on one connection, bodies with
//! `Content-Length`. Far lighter than a general client, which matters because the tool shares
//! the machine's cores with the server and PostgreSQL.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::route::Route;

/// How long one request may take before it counts as failed.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest response head we accept.
const MAX_HEAD: usize = 16 * 1024;

/// An answer: status code and body.
#[derive(Debug)]
pub(crate) struct Response {
    /// The status code.
    pub(crate) status: u16,
    /// The body bytes.
    pub(crate) body: Vec<u8>,
}

impl Response {
    /// The body as JSON.
    pub(crate) fn json(&self) -> Result<serde_json::Value> {
        serde_json::from_slice(&self.body).context("response body is not JSON")
    }
}

/// One keep-alive connection to the server; reconnects after a failure or a `Connection: close`.
#[derive(Debug)]
pub(crate) struct HttpConn {
    /// Where to connect.
    addr: SocketAddr,
    /// The open connection, if any.
    stream: Option<TcpStream>,
    /// Bytes read and not yet consumed.
    buf: Vec<u8>,
    /// The request being written (reused).
    out: Vec<u8>,
    /// A `Cookie` header for every request (the balancer's node cookie), if any.
    cookie: Option<String>,
}

impl HttpConn {
    /// A client for `addr`; connects on the first request.
    pub(crate) fn new(addr: SocketAddr) -> Self {
        Self::via(&Route::direct(addr))
    }

    /// A client along `route` (to a chosen node through a balancer); connects on the first
    /// request.
    pub(crate) fn via(route: &Route) -> Self {
        Self {
            addr: route.addr,
            stream: None,
            buf: Vec::with_capacity(4096),
            out: Vec::with_capacity(1024),
            cookie: route.cookie.clone(),
        }
    }

    /// Sends one request and reads its answer, within [`REQUEST_TIMEOUT`].
    pub(crate) async fn request(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&[u8]>,
    ) -> Result<Response> {
        match tokio::time::timeout(REQUEST_TIMEOUT, self.exchange(method, path, token, body)).await
        {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(e)) => {
                self.stream = None;
                Err(e)
            }
            Err(_) => {
                self.stream = None;
                bail!("timeout after {REQUEST_TIMEOUT:?}")
            }
        }
    }

    /// `GET path` as `token`; an answer other than 200 is an error naming the path.
    pub(crate) async fn get_ok(&mut self, path: &str, token: &str) -> Result<Response> {
        let response = self.request("GET", path, Some(token), None).await?;
        if response.status != 200 {
            bail!(
                "GET {path} answered {}: {}",
                response.status,
                String::from_utf8_lossy(&response.body)
            );
        }
        Ok(response)
    }

    /// Writes the request and reads the response (no timeout).
    async fn exchange(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&[u8]>,
    ) -> Result<Response> {
        self.out.clear();
        self.out.extend_from_slice(method.as_bytes());
        self.out.push(b' ');
        self.out.extend_from_slice(path.as_bytes());
        self.out.extend_from_slice(b" HTTP/1.1\r\nHost: ");
        self.out.extend_from_slice(self.addr.to_string().as_bytes());
        self.out.extend_from_slice(b"\r\n");
        if let Some(cookie) = &self.cookie {
            self.out.extend_from_slice(b"Cookie: ");
            self.out.extend_from_slice(cookie.as_bytes());
            self.out.extend_from_slice(b"\r\n");
        }
        if let Some(token) = token {
            self.out.extend_from_slice(b"Authorization: Bearer ");
            self.out.extend_from_slice(token.as_bytes());
            self.out.extend_from_slice(b"\r\n");
        }
        if let Some(body) = body {
            self.out
                .extend_from_slice(b"Content-Type: application/json\r\n");
            self.out
                .extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
        }
        self.out.extend_from_slice(b"\r\n");
        if let Some(body) = body {
            self.out.extend_from_slice(body);
        }
        if self.stream.is_none() {
            let stream = TcpStream::connect(self.addr)
                .await
                .with_context(|| format!("connecting to {}", self.addr))?;
            stream.set_nodelay(true)?;
            self.stream = Some(stream);
            self.buf.clear();
        }
        let Some(stream) = self.stream.as_mut() else {
            bail!("not connected");
        };
        stream
            .write_all(&self.out)
            .await
            .context("writing request")?;
        let head_len = loop {
            if let Some(at) = find(&self.buf, b"\r\n\r\n") {
                break at + 4;
            }
            if self.buf.len() > MAX_HEAD {
                bail!("response head too large");
            }
            if stream.read_buf(&mut self.buf).await? == 0 {
                bail!("connection closed by the server");
            }
        };
        let head = Head::parse(&self.buf[..head_len])?;
        while self.buf.len() < head_len + head.content_length {
            if stream.read_buf(&mut self.buf).await? == 0 {
                bail!("connection closed in the middle of a body");
            }
        }
        let body = self.buf[head_len..head_len + head.content_length].to_vec();
        self.buf.drain(..head_len + head.content_length);
        if head.close {
            self.stream = None;
        }
        Ok(Response {
            status: head.status,
            body,
        })
    }
}

/// What we need from a response head.
#[derive(Debug)]
struct Head {
    /// The status code.
    status: u16,
    /// The body's length.
    content_length: usize,
    /// Whether the server closes the connection after this response.
    close: bool,
}

impl Head {
    /// Parses the status line and the headers we care about.
    fn parse(head: &[u8]) -> Result<Self> {
        let text = std::str::from_utf8(head).context("response head is not UTF-8")?;
        let mut lines = text.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .with_context(|| format!("bad status line {status_line:?}"))?;
        let (mut content_length, mut close) = (0, false);
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                content_length = value.parse().context("bad Content-Length")?;
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                bail!("chunked responses are not supported (Transfer-Encoding: {value})");
            } else if name.eq_ignore_ascii_case("connection") {
                close = value.eq_ignore_ascii_case("close");
            }
        }
        Ok(Self {
            status,
            content_length,
            close,
        })
    }
}

/// The position of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::Head;

    #[test]
    fn parses_a_head() {
        let head =
            Head::parse(b"HTTP/1.1 201 Created\r\ncontent-length: 12\r\nConnection: close\r\n\r\n")
                .unwrap();
        assert_eq!(
            (head.status, head.content_length, head.close),
            (201, 12, true)
        );
        assert!(Head::parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").is_err());
    }
}
