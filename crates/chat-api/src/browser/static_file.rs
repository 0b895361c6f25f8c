//! One file served to browsers from memory: its bytes, a gzip copy made on first demand, and
//! a strong ETag (the start of its SHA-256), so that a browser revalidates it with
//! `If-None-Match` and gets an empty 304 while the file is unchanged.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::OnceLock;

use actix_web::http::header::{
    self, AcceptEncoding, ContentEncoding, Encoding, EntityTag, Header as _, IfNoneMatch,
};
use actix_web::{HttpRequest, HttpResponse};
use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

/// A file kept in memory with what its answers need.
#[derive(Debug)]
pub(crate) struct StaticFile {
    /// The `Content-Type` header value.
    content_type: &'static str,
    /// The file as stored.
    bytes: Bytes,
    /// The gzip copy, made the first time a client that accepts gzip asks (so that start-up
    /// stays fast and a file nobody asks for costs nothing). `None` inside when gzip would not
    /// make it smaller.
    gzip: OnceLock<Option<Bytes>>,
    /// `"<first 12 bytes of the SHA-256, hex>"`: changes whenever the content does.
    etag: EntityTag,
}

impl StaticFile {
    /// Keeps `bytes`, served as `content_type`.
    pub(crate) fn new(content_type: &'static str, bytes: Bytes) -> StaticFile {
        let digest = Sha256::digest(&bytes);
        let tag = digest.iter().take(12).fold(String::new(), |mut tag, byte| {
            let _ = write!(tag, "{byte:02x}");
            tag
        });
        StaticFile {
            content_type,
            bytes,
            gzip: OnceLock::new(),
            etag: EntityTag::new_strong(tag),
        }
    }

    /// The file as stored.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The answer to `request`: 304 when its `If-None-Match` names this file's ETag (weak
    /// comparison, as RFC 9110 says for that header, so `W/"..."` matches too) or is `*`;
    /// otherwise 200 with the file, gzip-encoded when the client accepts gzip. Both carry the
    /// ETag and `cache_control`; `Vary: Accept-Encoding` tells caches the body depends on it.
    pub(crate) fn respond(
        &self,
        request: &HttpRequest,
        cache_control: &'static str,
    ) -> HttpResponse {
        let fresh = match IfNoneMatch::parse(request) {
            Ok(IfNoneMatch::Any) => true,
            Ok(IfNoneMatch::Items(tags)) => tags.iter().any(|tag| tag.weak_eq(&self.etag)),
            Err(_) => false,
        };
        let mut answer = if fresh {
            HttpResponse::NotModified()
        } else {
            HttpResponse::Ok()
        };
        answer
            .insert_header((header::ETAG, header::ETag(self.etag.clone())))
            .insert_header((header::CACHE_CONTROL, cache_control))
            .insert_header((header::VARY, "Accept-Encoding"));
        if fresh {
            return answer.finish();
        }
        answer.content_type(self.content_type);
        match self.gzip_for(request) {
            Some(gzip) => answer
                .insert_header(ContentEncoding::Gzip)
                .body(gzip.clone()),
            None => answer.body(self.bytes.clone()),
        }
    }

    /// The gzip copy, when the request accepts gzip (by its `Accept-Encoding`, quality values
    /// included) and gzip makes the file smaller.
    fn gzip_for(&self, request: &HttpRequest) -> Option<&Bytes> {
        let accepted = AcceptEncoding::parse(request).ok()?;
        let chosen = accepted.negotiate([Encoding::gzip(), Encoding::identity()].iter())?;
        if chosen != Encoding::gzip() {
            return None;
        }
        self.gzip.get_or_init(|| gzip(&self.bytes)).as_ref()
    }
}

/// `bytes` gzip-compressed, when that makes them smaller.
fn gzip(bytes: &[u8]) -> Option<Bytes> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(bytes.len() / 3), Compression::best());
    encoder.write_all(bytes).ok()?;
    let compressed = encoder.finish().ok()?;
    (compressed.len() < bytes.len()).then(|| Bytes::from(compressed))
}
