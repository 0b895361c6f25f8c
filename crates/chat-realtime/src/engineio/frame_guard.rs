//! A guard on the bytes of a WebSocket connection before the WebSocket codec sees them: it reads
//! each client frame's header as the bytes pass and refuses a data frame, or a fragmented
//! message, whose declared length exceeds `max_payload`, before any of its payload is buffered.
//!
//! actix-http's codec buffers a frame's whole declared payload before it checks its size limit,
//! so without this a client that declares 2^40 bytes and streams them slowly costs memory for as
//! long as it likes, and one that declares just over the limit waits for a timeout instead of
//! being refused. The guard copies nothing: it passes the chunks through and only counts.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::error::PayloadError;
use bytes::Bytes;
use futures_util::Stream;

/// The longest frame header: 2 bytes, 8 of extended length, 4 of mask (RFC 6455, 5.2).
const MAX_HEADER: usize = 14;

/// Frame opcodes that matter here (RFC 6455, 5.2).
const CONTINUATION: u8 = 0x0;
const TEXT: u8 = 0x1;
const BINARY: u8 = 0x2;

/// Where the parser stands in the client's byte stream.
#[derive(Debug, Clone, Copy)]
enum Position {
    /// Reading a frame header: `have` of its bytes are in the buffer.
    Header { have: usize },
    /// Skipping this many payload bytes of the current frame.
    Payload { remaining: u64 },
}

/// Frame headers read incrementally, and the running size of a fragmented message.
#[derive(Debug, Clone)]
pub(super) struct FrameSizes {
    max_payload: u64,
    header: [u8; MAX_HEADER],
    position: Position,
    /// The payload declared so far by the frames of the message being received.
    message: u64,
}

/// A client frame or message declared larger than `max_payload`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Oversize;

impl FrameSizes {
    /// A parser at the start of a connection's client frames.
    pub(super) fn new(max_payload: usize) -> Self {
        Self {
            max_payload: u64::try_from(max_payload).unwrap_or(u64::MAX),
            header: [0; MAX_HEADER],
            position: Position::Header { have: 0 },
            message: 0,
        }
    }

    /// Reads the next bytes of the stream; `Err` as soon as a header declares too much.
    pub(super) fn feed(&mut self, mut bytes: &[u8]) -> Result<(), Oversize> {
        while !bytes.is_empty() {
            match self.position {
                Position::Payload { remaining } => {
                    let skipped = remaining.min(bytes.len() as u64);
                    // `skipped` is at most `bytes.len()`, so it fits in a usize.
                    bytes = &bytes[usize::try_from(skipped).unwrap_or(bytes.len())..];
                    self.position = next_after_payload(remaining - skipped);
                }
                Position::Header { have } => {
                    let wanted = self.header_len(have);
                    let taken = (wanted - have).min(bytes.len());
                    self.header[have..have + taken].copy_from_slice(&bytes[..taken]);
                    bytes = &bytes[taken..];
                    let have = have + taken;
                    // The length bytes may have told us that the header is longer.
                    if have < self.header_len(have) {
                        self.position = Position::Header { have };
                    } else {
                        self.position = next_after_payload(self.end_header()?);
                    }
                }
            }
        }
        Ok(())
    }

    /// The header's length as far as its first `have` bytes tell: at least 2.
    fn header_len(&self, have: usize) -> usize {
        if have < 2 {
            return 2;
        }
        let masked = if self.header[1] & 0x80 != 0 { 4 } else { 0 };
        let extended = match self.header[1] & 0x7f {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        2 + extended + masked
    }

    /// Checks a complete header; returns the payload length to skip.
    fn end_header(&mut self) -> Result<u64, Oversize> {
        let fin = self.header[0] & 0x80 != 0;
        let opcode = self.header[0] & 0x0f;
        let length = match self.header[1] & 0x7f {
            126 => u64::from(u16::from_be_bytes([self.header[2], self.header[3]])),
            127 => {
                let mut wide = [0; 8];
                wide.copy_from_slice(&self.header[2..10]);
                u64::from_be_bytes(wide)
            }
            short => u64::from(short),
        };
        match opcode {
            TEXT | BINARY => self.message = length,
            CONTINUATION => self.message = self.message.saturating_add(length),
            // Control frames (close, ping, pong) come between fragments and count apart; the
            // codec refuses one over 125 bytes, and those over `max_payload` are refused here.
            _ if length > self.max_payload => return Err(Oversize),
            _ => return Ok(length),
        }
        if self.message > self.max_payload {
            return Err(Oversize);
        }
        if fin {
            self.message = 0;
        }
        Ok(length)
    }
}

fn next_after_payload(remaining: u64) -> Position {
    if remaining == 0 {
        Position::Header { have: 0 }
    } else {
        Position::Payload { remaining }
    }
}

/// The request body of a WebSocket connection with its frame sizes checked as they pass. An
/// oversize frame ends the stream with [`PayloadError::Overflow`].
pub(super) struct GuardedPayload<S> {
    inner: S,
    sizes: FrameSizes,
    failed: bool,
}

impl<S> GuardedPayload<S> {
    /// Guards `inner`, the connection's bytes from the client.
    pub(super) fn new(inner: S, max_payload: usize) -> Self {
        Self {
            inner,
            sizes: FrameSizes::new(max_payload),
            failed: false,
        }
    }
}

impl<S> Stream for GuardedPayload<S>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.failed {
            return Poll::Ready(None);
        }
        let polled = Pin::new(&mut self.inner).poll_next(cx);
        if let Poll::Ready(Some(Ok(chunk))) = &polled
            && self.sizes.feed(chunk).is_err()
        {
            self.failed = true;
            return Poll::Ready(Some(Err(PayloadError::Overflow)));
        }
        polled
    }
}

/// Whether a WebSocket read error is this guard's refusal.
pub(super) fn is_oversize(error: &std::io::Error) -> bool {
    error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<PayloadError>())
        .is_some_and(|error| matches!(error, PayloadError::Overflow))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A masked client frame header declaring `length` bytes.
    fn header(fin: bool, opcode: u8, length: u64) -> Vec<u8> {
        let mut out = vec![if fin { 0x80 } else { 0 } | opcode];
        match length {
            0..=125 => out.push(0x80 | u8::try_from(length).unwrap()),
            126..=0xffff => {
                out.push(0x80 | 126);
                out.extend_from_slice(&u16::try_from(length).unwrap().to_be_bytes());
            }
            _ => {
                out.push(0x80 | 127);
                out.extend_from_slice(&length.to_be_bytes());
            }
        }
        out.extend_from_slice(&[1, 2, 3, 4]);
        out
    }

    fn frame(fin: bool, opcode: u8, length: usize) -> Vec<u8> {
        let mut out = header(fin, opcode, length as u64);
        out.resize(out.len() + length, b'x');
        out
    }

    #[test]
    fn frames_within_the_limit_pass_in_any_chunking() {
        let mut stream = frame(true, TEXT, 100);
        stream.extend(frame(true, BINARY, 1000));
        stream.extend(frame(false, TEXT, 400));
        stream.extend(frame(true, 0x9, 4)); // a ping between fragments
        stream.extend(frame(true, CONTINUATION, 600));
        stream.extend(frame(true, TEXT, 1000));
        for chunk in [1, 2, 3, 7, 13, 1000, stream.len()] {
            let mut sizes = FrameSizes::new(1000);
            for part in stream.chunks(chunk) {
                assert_eq!(sizes.feed(part), Ok(()), "chunks of {chunk}");
            }
        }
    }

    #[test]
    fn a_huge_declared_frame_is_refused_from_its_header_split_anywhere() {
        let bad = header(true, TEXT, 1 << 40);
        for split in 1..bad.len() {
            let mut sizes = FrameSizes::new(1000);
            assert_eq!(sizes.feed(&bad[..split]), Ok(()), "split at {split}");
            assert_eq!(sizes.feed(&bad[split..]), Err(Oversize), "split at {split}");
        }
    }

    #[test]
    fn one_byte_over_the_limit_is_refused() {
        let mut sizes = FrameSizes::new(1000);
        assert_eq!(sizes.feed(&header(true, BINARY, 1001)), Err(Oversize));
        let mut sizes = FrameSizes::new(1000);
        assert_eq!(sizes.feed(&frame(true, BINARY, 1000)), Ok(()));
    }

    #[test]
    fn a_fragmented_message_over_the_limit_is_refused_at_the_fragment_that_crosses_it() {
        let mut sizes = FrameSizes::new(1000);
        assert_eq!(sizes.feed(&frame(false, TEXT, 600)), Ok(()));
        assert_eq!(sizes.feed(&frame(false, CONTINUATION, 400)), Ok(()));
        assert_eq!(sizes.feed(&header(true, CONTINUATION, 1)), Err(Oversize));
    }
}
