//! The signature on every webhook request: `X-Chat-Signature: t=<unix seconds>,v1=<hex>`,
//! where `v1` is the HMAC-SHA256, keyed with `CHAT_WEBHOOK_SECRET`, of `<t>.<body>`. The
//! scheme is Stripe's: the timestamp is signed with the body, so that a receiver that refuses
//! old timestamps (5 minutes, say) cannot be replayed a captured request later. Each attempt
//! is signed anew, with its own timestamp; the body stays the same.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "X-Chat-Signature";

/// The value of [`SIGNATURE_HEADER`] for `body` sent at `timestamp` (Unix seconds).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mac = signed(secret, timestamp, body).finalize().into_bytes();
    format!("t={timestamp},v1={}", base16ct::lower::encode_string(&mac))
}

/// Whether `header` is a valid signature of `body` with `secret`, whatever its timestamp (a
/// receiver also compares the timestamp with its clock). Compared in constant time.
pub fn verify(secret: &[u8], header: &str, body: &[u8]) -> bool {
    let mut timestamp = None;
    let mut signature = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => signature = base16ct::lower::decode_vec(v).ok(),
            _ => {}
        }
    }
    let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
        return false;
    };
    signed(secret, timestamp, body)
        .verify_slice(&signature)
        .is_ok()
}

/// The HMAC of `<timestamp>.<body>` keyed with `secret`, before its output is taken.
fn signed(secret: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length: this never fails.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_is_the_hmac_of_timestamp_dot_body() {
        let header = sign(b"key", 1_700_000_000, b"{}");
        // Computed independently: printf '1700000000.{}' | openssl dgst -sha256 -hmac key
        assert_eq!(
            header,
            "t=1700000000,v1=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"
        );
        assert!(verify(b"key", &header, b"{}"));
    }

    #[test]
    fn a_changed_body_secret_or_timestamp_fails() {
        let header = sign(b"key", 1_700_000_000, b"{\"a\":1}");
        assert!(verify(b"key", &header, b"{\"a\":1}"));
        assert!(!verify(b"key", &header, b"{\"a\":2}"));
        assert!(!verify(b"other", &header, b"{\"a\":1}"));
        let moved = header.replace("t=1700000000", "t=1700000001");
        assert!(!verify(b"key", &moved, b"{\"a\":1}"));
        assert!(!verify(b"key", "v1=zz", b"{\"a\":1}"));
        assert!(!verify(b"key", "", b"{\"a\":1}"));
    }
}
