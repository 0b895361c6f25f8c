//! Fuzz-like properties of the Socket.IO codecs: every generated packet survives encoding and
//! decoding unchanged (attachments included), and no input makes a decoder panic.

use bytes::Bytes;
use serde_json::{Map, Value};

use super::*;
use crate::test_rng::TestRng;

const CHARS: &[char] = &[
    'a',
    'z',
    '0',
    '7',
    '-',
    '/',
    ',',
    '[',
    ']',
    '{',
    '}',
    '"',
    '\\',
    ' ',
    ':',
    'é',
    '\u{1f600}',
    '\x1e',
    '\0',
    '\n',
];
const NAMESPACES: &[&str] = &["/", "/admin", "/a/b", "/café", "/x_1", "/[0]"];

fn text(rng: &mut TestRng, max_len: usize) -> String {
    (0..rng.below(max_len)).map(|_| *rng.pick(CHARS)).collect()
}

fn json(rng: &mut TestRng, depth: usize) -> Value {
    match rng.below(if depth == 0 { 5 } else { 7 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 0),
        2 => Value::from(rng.next_u64() as i64 >> rng.below(64)),
        3 => Value::from(*rng.pick(&[0.5, -1.25, 1e10, 3.0e-5])),
        4 => Value::String(text(rng, 12)),
        5 => Value::Array((0..rng.below(4)).map(|_| json(rng, depth - 1)).collect()),
        _ => Value::Object(object(rng, depth - 1)),
    }
}

fn object(rng: &mut TestRng, depth: usize) -> Map<String, Value> {
    (0..rng.below(4))
        .map(|_| (text(rng, 6), json(rng, depth)))
        .collect()
}

fn data(rng: &mut TestRng, depth: usize) -> Data {
    match rng.below(if depth == 0 { 2 } else { 4 }) {
        0 => Data::Json(json(rng, depth)),
        1 => Data::Binary(Bytes::from(rng.bytes(16))),
        2 => Data::Array((0..rng.below(4)).map(|_| data(rng, depth - 1)).collect()),
        _ => Data::Object(
            (0..rng.below(4))
                .map(|_| (text(rng, 6), data(rng, depth - 1)))
                .collect(),
        ),
    }
}

fn event_name(rng: &mut TestRng) -> String {
    let name = text(rng, 10);
    if RESERVED_EVENTS.contains(&name.as_str()) {
        format!("{name}!")
    } else {
        name
    }
}

fn packet(rng: &mut TestRng) -> Packet {
    let namespace = Namespace::parse(rng.pick::<&str>(NAMESPACES)).unwrap();
    let ack = |rng: &mut TestRng| {
        let random = rng.next_u64();
        *rng.pick(&[0, 1, 42, random, u64::MAX])
    };
    let args = |rng: &mut TestRng| (0..rng.below(4)).map(|_| json(rng, 3)).collect::<Vec<_>>();
    let binary = |rng: &mut TestRng| (0..rng.below(4)).map(|_| data(rng, 3)).collect::<Vec<_>>();
    let data = match rng.below(9) {
        0 => PacketData::Connect(None),
        1 => PacketData::Connect(Some(object(rng, 3))),
        2 => PacketData::Disconnect,
        3 => {
            let ack = if rng.below(2) == 0 {
                None
            } else {
                Some(ack(rng))
            };
            PacketData::Event(Event {
                name: event_name(rng),
                args: args(rng),
                ack,
            })
        }
        4 => PacketData::Ack(Ack {
            id: ack(rng),
            args: args(rng),
        }),
        5 if rng.below(2) == 0 => PacketData::ConnectError(Value::String(text(rng, 20))),
        5 => PacketData::ConnectError(Value::Object(object(rng, 2))),
        6 => {
            let ack = if rng.below(2) == 0 {
                None
            } else {
                Some(ack(rng))
            };
            PacketData::event_with_binary(event_name(rng), binary(rng), ack)
        }
        7 => PacketData::ack_with_binary(ack(rng), binary(rng)),
        _ => PacketData::BinaryEvent(
            Event {
                name: event_name(rng),
                args: args(rng),
                ack: None,
            },
            vec![],
        ),
    };
    Packet::new(namespace, data)
}

/// Sends a packet as the wire would carry it (text, then one binary frame per attachment)
/// through a connection's decoder.
fn send_and_receive(decoder: &mut Decoder, packet: &Packet) -> Packet {
    let mut progress = decoder.decode_text(&packet.to_string()).unwrap();
    for attachment in packet.attachments() {
        assert!(matches!(progress, Progress::AwaitingAttachments(_)));
        progress = decoder.decode_binary(attachment.clone()).unwrap();
    }
    match progress {
        Progress::Packet(received) => received,
        other => panic!("{other:?} after every attachment"),
    }
}

#[test]
fn every_generated_packet_round_trips() {
    let mut rng = TestRng::new(0x50c4e7);
    let mut decoder = Decoder::new(usize::MAX);
    for _ in 0..5_000 {
        let packet = packet(&mut rng);
        assert_eq!(
            send_and_receive(&mut decoder, &packet),
            packet,
            "wire: {packet}"
        );
    }
}

/// The JSON with each placeholder replaced by its attachment's bytes, for comparison.
fn resolve(values: Vec<Value>, attachments: &[Bytes]) -> Vec<Value> {
    fn walk(value: Value, attachments: &[Bytes]) -> Value {
        match value {
            Value::Object(map) if map.get("_placeholder") == Some(&Value::Bool(true)) => {
                let num = map["num"].as_u64().unwrap() as usize;
                Value::from(attachments[num].to_vec())
            }
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| (k, walk(v, attachments)))
                    .collect(),
            ),
            Value::Array(items) => {
                Value::Array(items.into_iter().map(|v| walk(v, attachments)).collect())
            }
            other => other,
        }
    }
    values
        .into_iter()
        .map(|value| walk(value, attachments))
        .collect()
}

#[test]
fn binary_data_survives_deconstruction_and_reconstruction() {
    let mut rng = TestRng::new(0x000B_14A2);
    for _ in 0..2_000 {
        let args: Vec<Data> = (0..rng.below(5)).map(|_| data(&mut rng, 4)).collect();
        let (values, attachments) = deconstruct(args);
        let rebuilt = reconstruct(values.clone(), &attachments).unwrap();
        // Placeholder numbers may differ (object keys come back in map order); what each
        // placeholder stands for may not.
        let (again, again_attachments) = deconstruct(rebuilt);
        assert_eq!(
            resolve(again, &again_attachments),
            resolve(values, &attachments)
        );
    }
}

#[test]
fn no_prefix_of_a_valid_packet_makes_the_decoder_panic() {
    let mut rng = TestRng::new(11);
    for _ in 0..500 {
        let wire = packet(&mut rng).to_string();
        for (end, _) in wire.char_indices() {
            let _ = Packet::decode(&wire[..end]);
            let _ = Decoder::default().decode_text(&wire[..end]);
        }
    }
}

#[test]
fn arbitrary_input_never_makes_a_decoder_panic() {
    let mut rng = TestRng::new(0xdead_beef);
    let mut decoder = Decoder::default();
    for _ in 0..20_000 {
        let input = match rng.below(3) {
            0 => String::from_utf8_lossy(&rng.bytes(48)).into_owned(),
            1 => text(&mut rng, 48),
            // Mostly valid prefixes with noise after them reach the deeper branches.
            _ => format!(
                "{}{}{}",
                rng.pick(&["5", "51-", "2/a,", "61-7", "0"]),
                rng.pick(&["", "1", "[", "{"]),
                text(&mut rng, 24)
            ),
        };
        let _ = Packet::decode(&input);
        let _ = if rng.below(4) == 0 {
            decoder.decode_binary(Bytes::from(rng.bytes(8)))
        } else {
            decoder.decode_text(&input)
        };
    }
}
