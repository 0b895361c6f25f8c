//! Fuzz-like properties of the Engine.IO codecs: every generated packet survives encoding and
//! decoding unchanged, and no input, however broken, makes a decoder panic.

use std::time::Duration;

use bytes::Bytes;
use bytestring::ByteString;

use super::*;
use crate::test_rng::TestRng;

const CHARS: &[char] = &[
    'a',
    'z',
    '0',
    '4',
    '9',
    'b',
    '=',
    '+',
    '/',
    '{',
    '}',
    '"',
    ',',
    ' ',
    'é',
    '€',
    '\u{1f600}',
    '\x1e',
    '\0',
    '\n',
];

fn text(rng: &mut TestRng, max_len: usize) -> String {
    (0..rng.below(max_len)).map(|_| *rng.pick(CHARS)).collect()
}

fn packet(rng: &mut TestRng, in_payload: bool) -> Packet {
    match rng.below(11) {
        0 => Packet::Open(OpenPacket {
            sid: text(rng, 24),
            upgrades: if rng.below(2) == 0 {
                vec![]
            } else {
                vec![TransportKind::Websocket]
            },
            ping_interval: Duration::from_millis(rng.next_u64() >> 24),
            ping_timeout: Duration::from_millis(rng.next_u64() >> 24),
            max_payload: rng.next_u64(),
        }),
        1 => Packet::Close,
        2 => Packet::Ping,
        3 => Packet::Pong,
        4 => Packet::PingProbe,
        5 => Packet::PongProbe,
        6 => Packet::Upgrade,
        7 => Packet::Noop,
        8 => Packet::Binary(Bytes::from(rng.bytes(40))),
        // A payload cannot frame a message holding the separator (the specification says so).
        _ if in_payload => Packet::Message(ByteString::from(text(rng, 40).replace('\x1e', ""))),
        _ => Packet::Message(ByteString::from(text(rng, 40))),
    }
}

fn round_trip_text(packet: &Packet) -> Packet {
    let mut out = String::new();
    packet.encode_text_into(&mut out);
    Packet::decode(&ByteString::from(out)).unwrap()
}

#[test]
fn every_generated_packet_round_trips_in_text_form_and_over_websocket() {
    let mut rng = TestRng::new(0x05EE_DE10);
    for _ in 0..5_000 {
        let packet = packet(&mut rng, false);
        assert_eq!(round_trip_text(&packet), packet);
        let over_websocket = match packet.encode() {
            Frame::Text(text) => Packet::decode(&text).unwrap(),
            Frame::Binary(bytes) => Packet::Binary(bytes),
        };
        assert_eq!(over_websocket, packet);
    }
}

#[test]
fn every_generated_payload_round_trips() {
    let mut rng = TestRng::new(0xBA5E_0064);
    for _ in 0..2_000 {
        let packets: Vec<Packet> = (0..1 + rng.below(6))
            .map(|_| packet(&mut rng, true))
            .collect();
        let frames: Vec<Frame> = packets.iter().map(Packet::encode).collect();
        let body = encode_payload(&frames);
        let decoded: Vec<Packet> = PayloadPackets::new(body).collect::<Result<_, _>>().unwrap();
        assert_eq!(decoded, packets);
    }
}

#[test]
fn no_prefix_of_a_valid_payload_makes_the_decoder_panic() {
    let mut rng = TestRng::new(7);
    for _ in 0..300 {
        let frames: Vec<Frame> = (0..1 + rng.below(4))
            .map(|_| packet(&mut rng, true).encode())
            .collect();
        let body = encode_payload(&frames).into_bytes();
        for end in 0..=body.len() {
            if let Ok(packets) = decode_payload(body.slice(..end)) {
                packets.for_each(drop);
            }
        }
    }
}

#[test]
fn arbitrary_input_never_makes_a_decoder_panic() {
    let mut rng = TestRng::new(0xf022);
    for _ in 0..20_000 {
        let bytes = Bytes::from(rng.bytes(64));
        if let Ok(packets) = decode_payload(bytes) {
            packets.for_each(drop);
        }
        let chars = ByteString::from(text(&mut rng, 64));
        let _ = Packet::decode(&chars);
        PayloadPackets::new(chars).for_each(drop);
    }
}
