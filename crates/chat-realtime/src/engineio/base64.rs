//! Standard base64 (RFC 4648, `+/` alphabet, `=` padding), which HTTP long-polling uses for
//! binary packets, on the `base64` crate: padded on the way out, padding optional on the way in
//! (the reference client pads; being lenient about it costs nothing).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// Decodes with or without padding, and ignores the unused low bits of the last character,
/// as every decoder before this one did.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Appends the padded base64 form of `input` to `out`.
pub(super) fn encode_into(input: &[u8], out: &mut String) {
    STANDARD.encode_string(input, out);
}

/// Decodes base64 text; any character outside the alphabet, misplaced padding, or a length
/// that no byte string encodes to, is refused.
pub(super) fn decode(input: &str) -> Option<Vec<u8>> {
    // Padding, when present, completes the last group of four: the crate would also take a
    // partial one (`AQ=`), which no encoder writes.
    if input.ends_with('=') && !input.len().is_multiple_of(4) {
        return None;
    }
    LENIENT.decode(input).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(input: &[u8]) -> String {
        let mut out = String::new();
        encode_into(input, &mut out);
        out
    }

    #[test]
    fn rfc4648_test_vectors_round_trip() {
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(encode(plain.as_bytes()), encoded);
            assert_eq!(decode(encoded).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn engine_io_spec_example_decodes() {
        assert_eq!(decode("AQIDBA==").unwrap(), [1, 2, 3, 4]);
        assert_eq!(encode(&[1, 2, 3, 4]), "AQIDBA==");
    }

    #[test]
    fn every_byte_value_round_trips() {
        let all: Vec<u8> = (0..=255).collect();
        for len in 0..all.len() {
            assert_eq!(decode(&encode(&all[..len])).unwrap(), &all[..len]);
        }
        assert_eq!(encode(&[0xfb, 0xff]), "+/8=");
    }

    #[test]
    fn unpadded_input_is_accepted() {
        assert_eq!(decode("AQIDBA").unwrap(), [1, 2, 3, 4]);
        assert_eq!(decode("Zm8").unwrap(), b"fo");
    }

    #[test]
    fn malformed_input_is_refused() {
        for bad in [
            "A", "AQIDB", "A===", "AQ=", "AQ=A", "====", "AQ-_", "AQID\n", "é",
        ] {
            assert!(decode(bad).is_none(), "{bad:?} should be refused");
        }
    }
}
