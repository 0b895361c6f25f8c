//! Standard base64 (RFC 4648, `+/` alphabet, `=` padding), which HTTP long-polling uses for
//! binary packets. Small enough to write here rather than take a dependency for.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Appends the padded base64 form of `input` to `out`.
pub(super) fn encode_into(input: &[u8], out: &mut String) {
    out.reserve(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let byte = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let group = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        let sextet = |shift: u32| char::from(ALPHABET[((group >> shift) & 0x3f) as usize]);
        out.push(sextet(18));
        out.push(sextet(12));
        out.push(if chunk.len() > 1 { sextet(6) } else { '=' });
        out.push(if chunk.len() > 2 { sextet(0) } else { '=' });
    }
}

/// Decodes base64 text. Padding is optional (the reference client pads; being lenient about it
/// costs nothing); any other character outside the alphabet, or a length that no byte string
/// encodes to, is refused.
pub(super) fn decode(input: &str) -> Option<Vec<u8>> {
    let mut data = input.as_bytes();
    if data.len().is_multiple_of(4) {
        for _ in 0..2 {
            if let Some(rest) = data.strip_suffix(b"=") {
                data = rest;
            }
        }
    }
    if data.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(data.len() / 4 * 3 + 2);
    for chunk in data.chunks(4) {
        let mut group = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            group |= u32::from(sextet(c)?) << (18 - 6 * i);
        }
        out.push((group >> 16) as u8);
        if chunk.len() > 2 {
            out.push((group >> 8) as u8);
        }
        if chunk.len() > 3 {
            out.push(group as u8);
        }
    }
    Some(out)
}

fn sextet(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
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
