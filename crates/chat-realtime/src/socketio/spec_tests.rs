//! The Socket.IO v5 specification's examples, its test suite's packets and sample session:
//! each decodes to the packet it describes and encodes back to the same text.

use bytes::Bytes;
use serde_json::{Value, json};

use super::*;

pub(super) fn ns(name: &str) -> Namespace {
    Namespace::parse(name).unwrap()
}

pub(super) fn complete(text: &str) -> Packet {
    match Packet::decode(text) {
        Ok(Decoded::Complete(packet)) => packet,
        other => panic!("{text:?} decoded as {other:?}"),
    }
}

pub(super) fn refused(text: &str) -> ParseError {
    match Packet::decode(text) {
        Err(error) => error,
        Ok(decoded) => panic!("{text:?} should be refused, decoded as {decoded:?}"),
    }
}

pub(super) fn args(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        other => panic!("not an array: {other}"),
    }
}

pub(super) fn event(namespace: &str, name: &str, rest: Value, ack: Option<AckId>) -> Packet {
    let event = Event {
        name: name.to_owned(),
        args: args(rest),
        ack,
    };
    Packet::new(ns(namespace), PacketData::Event(event))
}

/// Decodes a binary packet's text, then feeds it its attachments one by one.
pub(super) fn with_attachments(text: &str, attachments: &[&'static [u8]]) -> Packet {
    let mut decoder = Decoder::default();
    let mut progress = decoder.decode_text(text).unwrap();
    for (i, attachment) in attachments.iter().enumerate() {
        assert_eq!(
            progress,
            Progress::AwaitingAttachments(attachments.len() - i)
        );
        progress = decoder
            .decode_binary(Bytes::from_static(attachment))
            .unwrap();
    }
    assert!(!decoder.is_awaiting_attachments());
    match progress {
        Progress::Packet(packet) => packet,
        other => panic!("still {other:?}"),
    }
}

/// The specification's packets with their encodings: decoding gives the packet, and encoding
/// the packet gives the same text back.
#[test]
fn the_specification_examples_decode_and_encode() {
    let mut sid = serde_json::Map::new();
    sid.insert("sid".to_owned(), json!("oSO0OpakMV_3jnilAAAA"));
    let cases = [
        ("0", Packet::new(Namespace::MAIN, PacketData::Connect(None))),
        (
            r#"0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}"#,
            Packet::connect(ns("/admin"), "oSO0OpakMV_3jnilAAAA"),
        ),
        (
            r#"4{"message":"Not authorized"}"#,
            Packet::connect_error(Namespace::MAIN, "Not authorized"),
        ),
        (r#"2["foo"]"#, Packet::event(Namespace::MAIN, "foo", vec![])),
        (
            r#"2/admin,["bar"]"#,
            Packet::event(ns("/admin"), "bar", vec![]),
        ),
        (r#"212["foo"]"#, event("/", "foo", json!([]), Some(12))),
        (
            r#"3/admin,13["bar"]"#,
            Packet::ack(ns("/admin"), 13, vec![json!("bar")]),
        ),
        ("312[]", Packet::ack(Namespace::MAIN, 12, vec![])),
        ("1", Packet::disconnect(Namespace::MAIN)),
        ("1/admin,", Packet::disconnect(ns("/admin"))),
        (
            r#"4"Not authorized""#,
            Packet::new(
                Namespace::MAIN,
                PacketData::ConnectError(json!("Not authorized")),
            ),
        ),
    ];
    for (wire, packet) in cases {
        assert_eq!(complete(wire), packet, "decoding {wire:?}");
        assert_eq!(packet.to_string(), wire, "encoding {packet:?}");
    }
    assert_eq!(
        complete(r#"0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}"#).data,
        PacketData::Connect(Some(sid))
    );
}

#[test]
fn the_specification_binary_examples_decode_and_encode() {
    let cases: [(&str, &[&'static [u8]], Packet); 3] = [
        (
            r#"51-["baz",{"_placeholder":true,"num":0}]"#,
            &[&[1, 2, 3, 4]],
            Packet::new(
                Namespace::MAIN,
                PacketData::event_with_binary(
                    "baz",
                    vec![Data::Binary(Bytes::from_static(&[1, 2, 3, 4]))],
                    None,
                ),
            ),
        ),
        (
            r#"52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
            &[&[1, 2], &[3, 4]],
            Packet::new(
                ns("/admin"),
                PacketData::event_with_binary(
                    "baz",
                    vec![
                        Data::Binary(Bytes::from_static(&[1, 2])),
                        Data::Binary(Bytes::from_static(&[3, 4])),
                    ],
                    None,
                ),
            ),
        ),
        (
            r#"61-15["bar",{"_placeholder":true,"num":0}]"#,
            &[&[1, 2, 3, 4]],
            Packet::new(
                Namespace::MAIN,
                PacketData::ack_with_binary(
                    15,
                    vec![
                        Data::Json(json!("bar")),
                        Data::Binary(Bytes::from_static(&[1, 2, 3, 4])),
                    ],
                ),
            ),
        ),
    ];
    for (wire, attachments, packet) in cases {
        assert_eq!(
            with_attachments(wire, attachments),
            packet,
            "decoding {wire:?}"
        );
        assert_eq!(packet.to_string(), wire, "encoding {packet:?}");
        let sent: Vec<&[u8]> = packet.attachments().iter().map(|a| &a[..]).collect();
        assert_eq!(sent, attachments);
    }
}

#[test]
fn packet_types_have_their_wire_digit_and_name() {
    let names = [
        "CONNECT",
        "DISCONNECT",
        "EVENT",
        "ACK",
        "CONNECT_ERROR",
        "BINARY_EVENT",
        "BINARY_ACK",
    ];
    for (digit, name) in (b'0'..).zip(names) {
        let kind = PacketType::from_digit(digit).unwrap();
        assert_eq!(kind.as_char(), char::from(digit));
        assert_eq!(kind.to_string(), name);
        assert_eq!(kind.is_binary(), digit >= b'5');
    }
    assert_eq!(PacketType::from_digit(b'7'), None);
}

/// The packets of the official test suite and sample session, Engine.IO `4` prefix removed.
#[test]
fn the_test_suite_packets_decode() {
    assert_eq!(
        complete("0/custom,"),
        Packet::new(ns("/custom"), PacketData::Connect(None))
    );
    assert_eq!(
        complete("0/random"),
        Packet::new(ns("/random"), PacketData::Connect(None))
    );
    let auth = complete(r#"0/custom,{"token":"abc"}"#);
    assert_eq!(auth.namespace, ns("/custom"));
    assert_eq!(
        auth.data,
        PacketData::Connect(json!({"token": "abc"}).as_object().cloned())
    );
    assert_eq!(complete(r#"0{"token":"123"}"#).namespace, Namespace::MAIN);
    assert_eq!(
        complete(r#"4/random,{"message":"Invalid namespace"}"#),
        Packet::connect_error(ns("/random"), "Invalid namespace")
    );
    assert_eq!(complete("1/custom"), Packet::disconnect(ns("/custom")));
    assert_eq!(
        complete(r#"2["message",1,"2",{"3":[true]}]"#),
        event("/", "message", json!([1, "2", {"3": [true]}]), None)
    );
    assert_eq!(
        complete(r#"2456["message-with-ack",1,"2",{"3":[false]}]"#),
        event(
            "/",
            "message-with-ack",
            json!([1, "2", {"3": [false]}]),
            Some(456)
        )
    );
    assert_eq!(
        complete(r#"3456[1,"2",{"3":[false]}]"#),
        Packet::ack(Namespace::MAIN, 456, args(json!([1, "2", {"3": [false]}])))
    );
    assert_eq!(
        complete("2/admin,1[\"tellme\"]"),
        event("/admin", "tellme", json!([]), Some(1))
    );
    let placeholders = json!([{"_placeholder": true, "num": 0}, {"_placeholder": true, "num": 1}]);
    let two: &[&'static [u8]] = &[&[1, 2, 3], &[4, 5, 6]];
    let attachments = vec![
        Bytes::from_static(&[1, 2, 3]),
        Bytes::from_static(&[4, 5, 6]),
    ];
    let text = r#"2-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#;
    let packet = with_attachments(&format!("5{text}"), two);
    let sent = Event {
        name: "message".to_owned(),
        args: args(placeholders.clone()),
        ack: None,
    };
    assert_eq!(
        packet.data,
        PacketData::BinaryEvent(sent, attachments.clone())
    );
    let packet = with_attachments(&format!("52-789{}", &text[2..]), two);
    let sent = Event {
        name: "message".to_owned(),
        args: args(placeholders.clone()),
        ack: Some(789),
    };
    assert_eq!(
        packet.data,
        PacketData::BinaryEvent(sent, attachments.clone())
    );
    let answer = Packet::new(
        Namespace::MAIN,
        PacketData::BinaryAck(
            Ack {
                id: 789,
                args: args(placeholders),
            },
            attachments,
        ),
    );
    assert_eq!(
        answer.to_string(),
        r#"62-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
    );
    let sample = with_attachments(r#"61-/admin,1[{"_placeholder":true,"num":0}]"#, &[b"bin"]);
    assert_eq!(sample.namespace, ns("/admin"));
    assert_eq!(sample.attachments(), [Bytes::from_static(b"bin")]);
}

#[test]
fn equivalent_spellings_decode_to_the_same_packet() {
    assert_eq!(complete("0/,"), complete("0"));
    assert_eq!(complete(r#"2012["a"]"#), complete(r#"212["a"]"#));
    assert_eq!(complete(r#"2 [ "a" ] "#), complete(r#"2["a"]"#));
    assert_eq!(
        complete(r#"50-["a"]"#).data,
        PacketData::BinaryEvent(
            Event {
                name: "a".into(),
                args: vec![],
                ack: None
            },
            vec![]
        )
    );
}

#[test]
fn event_names_and_namespaces_are_escaped_and_framed() {
    let name = "quote\" back\\slash\nnewline \u{1} é \u{1f600}";
    let packet = Packet::event(ns("/a/b"), name, vec![json!({"k": "v"})]);
    let wire = packet.to_string();
    assert!(wire.starts_with("2/a/b,[\"quote\\\" back\\\\slash\\nnewline \\u0001 é"));
    assert_eq!(complete(&wire), packet);
    let mut out = String::from("4");
    packet.encode_into(&mut out);
    assert_eq!(out, format!("4{wire}"));
    // The record separator of polling payloads never appears raw in a packet.
    let separated = Packet::event(Namespace::MAIN, "a\x1eb", vec![json!("c\x1ed")]);
    assert_eq!(separated.to_string(), r#"2["a\u001eb","c\u001ed"]"#);
}

#[test]
fn placeholders_in_a_plain_event_stay_json() {
    let packet = complete(r#"2["a",{"_placeholder":true,"num":5}]"#);
    assert_eq!(
        packet,
        event("/", "a", json!([{"_placeholder": true, "num": 5}]), None)
    );
    assert!(packet.attachments().is_empty());
}

#[test]
fn a_packet_is_written_straight_into_an_engine_io_frame() {
    let packet = Packet::new(
        Namespace::MAIN,
        PacketData::event_with_binary("up", vec![Data::Binary(Bytes::from_static(&[7]))], Some(3)),
    );
    let text = crate::engineio::Frame::message(&packet);
    assert_eq!(
        text,
        crate::engineio::Frame::Text(r#"451-3["up",{"_placeholder":true,"num":0}]"#.into())
    );
    let binaries: Vec<_> = packet
        .attachments()
        .iter()
        .cloned()
        .map(crate::engineio::Frame::binary)
        .collect();
    assert_eq!(
        binaries,
        [crate::engineio::Frame::Binary(Bytes::from_static(&[7]))]
    );
}
