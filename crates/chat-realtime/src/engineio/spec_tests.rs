//! The Engine.IO v4 specification's examples and test suite, packet by packet, plus the
//! malformed inputs a server must refuse.

use std::time::Duration;

use bytes::Bytes;
use bytestring::ByteString;

use super::*;

fn decode(text: &'static str) -> Result<Packet, ParseError> {
    Packet::decode(&ByteString::from_static(text))
}

fn text_form(packet: &Packet) -> String {
    let mut out = String::new();
    packet.encode_text_into(&mut out);
    out
}

fn payload(body: &'static str) -> Vec<Result<Packet, ParseError>> {
    decode_payload(Bytes::from_static(body.as_bytes()))
        .unwrap()
        .collect()
}

fn message(text: &'static str) -> Packet {
    Packet::Message(ByteString::from_static(text))
}

#[test]
fn every_packet_type_decodes_and_encodes_as_in_the_specification() {
    let cases = [
        ("1", Packet::Close),
        ("2", Packet::Ping),
        ("3", Packet::Pong),
        ("2probe", Packet::PingProbe),
        ("3probe", Packet::PongProbe),
        ("4hello", message("hello")),
        ("4", message("")),
        ("4€ and \u{1f600}", message("€ and \u{1f600}")),
        ("5", Packet::Upgrade),
        ("6", Packet::Noop),
        (
            "bAQIDBA==",
            Packet::Binary(Bytes::from_static(&[1, 2, 3, 4])),
        ),
        ("b", Packet::Binary(Bytes::new())),
    ];
    for (wire, packet) in cases {
        assert_eq!(decode(wire).unwrap(), packet, "decoding {wire:?}");
        assert_eq!(text_form(&packet), wire, "encoding {packet:?}");
    }
}

#[test]
fn packet_types_have_their_wire_digit_and_name() {
    let types = [
        (PacketType::Open, '0', "open"),
        (PacketType::Close, '1', "close"),
        (PacketType::Ping, '2', "ping"),
        (PacketType::Pong, '3', "pong"),
        (PacketType::Message, '4', "message"),
        (PacketType::Upgrade, '5', "upgrade"),
        (PacketType::Noop, '6', "noop"),
    ];
    for (kind, digit, name) in types {
        assert_eq!(kind.as_char(), digit);
        assert_eq!(PacketType::from_digit(digit as u8), Some(kind));
        assert_eq!(kind.to_string(), name);
    }
    assert_eq!(PacketType::from_digit(b'7'), None);
    assert_eq!(
        Packet::Binary(Bytes::new()).packet_type(),
        PacketType::Message
    );
    assert_eq!(Packet::PongProbe.packet_type(), PacketType::Pong);
}

#[test]
fn the_handshake_example_round_trips() {
    let wire = r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000,"maxPayload":1000000}"#;
    let open = OpenPacket {
        sid: "lv_VI97HAXpY6yYWAAAC".to_owned(),
        upgrades: vec![TransportKind::Websocket],
        ping_interval: Duration::from_millis(25_000),
        ping_timeout: Duration::from_millis(5_000),
        max_payload: 1_000_000,
    };
    assert_eq!(decode(wire).unwrap(), Packet::Open(open.clone()));
    assert_eq!(
        Packet::Open(open).encode(),
        Frame::Text(ByteString::from_static(wire))
    );
}

#[test]
fn a_websocket_only_handshake_offers_no_upgrade() {
    let open = OpenPacket {
        sid: "a\"b\\c".to_owned(),
        upgrades: vec![],
        ping_interval: Duration::from_millis(300),
        ping_timeout: Duration::from_millis(200),
        max_payload: 1_000_000,
    };
    let wire = text_form(&Packet::Open(open.clone()));
    assert_eq!(
        wire,
        r#"0{"sid":"a\"b\\c","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}"#
    );
    let json: serde_json::Value = serde_json::from_str(&wire[1..]).unwrap();
    assert_eq!(json.as_object().unwrap().len(), 5);
    assert_eq!(
        Packet::decode(&ByteString::from(wire)).unwrap(),
        Packet::Open(open)
    );
}

#[test]
fn transports_are_named_as_on_the_wire() {
    assert_eq!(
        "polling".parse::<TransportKind>().unwrap(),
        TransportKind::Polling
    );
    assert_eq!(
        "websocket".parse::<TransportKind>().unwrap(),
        TransportKind::Websocket
    );
    assert_eq!(TransportKind::Websocket.to_string(), "websocket");
    assert_eq!(TransportKind::Polling.as_str(), "polling");
    assert!(matches!(
        "abc".parse::<TransportKind>(),
        Err(ParseError::UnknownTransport(name)) if name == "abc"
    ));
}

#[test]
fn a_text_message_shares_the_frame_buffer() {
    let frame = ByteString::from(String::from("4a fairly long message"));
    let Packet::Message(text) = Packet::decode(&frame).unwrap() else {
        panic!("not a message")
    };
    assert_eq!(text, "a fairly long message");
    assert_eq!(text.as_ptr(), frame[1..].as_ptr());
}

#[test]
fn websocket_frames_keep_binary_as_is() {
    let bytes = Bytes::from_static(&[0, 1, 2, 0xff]);
    assert_eq!(
        Packet::Binary(bytes.clone()).encode(),
        Frame::Binary(bytes.clone())
    );
    assert_eq!(Frame::binary(bytes.clone()).len(), 4);
    assert_eq!(
        Packet::Ping.encode(),
        Frame::Text(ByteString::from_static("2"))
    );
    assert_eq!(
        Packet::PongProbe.encode(),
        Frame::Text(ByteString::from_static("3probe"))
    );
    assert_eq!(
        message("hi").encode(),
        Frame::Text(ByteString::from_static("4hi"))
    );
}

#[test]
fn a_message_frame_is_written_once_from_its_content() {
    let frame = Frame::message(format_args!("2[{:?}]", "foo"));
    assert_eq!(frame, Frame::Text(ByteString::from_static("42[\"foo\"]")));
    assert_eq!(frame.len(), 9);
    assert!(!frame.is_empty());
}

#[test]
fn polling_payloads_from_the_specification_decode() {
    assert_eq!(
        payload("4hello\x1e2\x1e4world")
            .into_iter()
            .map(Result::unwrap)
            .collect::<Vec<_>>(),
        [message("hello"), Packet::Ping, message("world")]
    );
    assert_eq!(
        payload("4hello\x1ebAQIDBA==")
            .into_iter()
            .map(Result::unwrap)
            .collect::<Vec<_>>(),
        [
            message("hello"),
            Packet::Binary(Bytes::from_static(&[1, 2, 3, 4]))
        ]
    );
    assert_eq!(
        payload("4test1\x1e4test2\x1e4test3")
            .into_iter()
            .map(Result::unwrap)
            .collect::<Vec<_>>(),
        [message("test1"), message("test2"), message("test3")]
    );
    let sample = "42[\"hello\"]\x1e42[\"world\"]";
    assert_eq!(
        payload(sample)
            .into_iter()
            .map(Result::unwrap)
            .collect::<Vec<_>>(),
        [message("2[\"hello\"]"), message("2[\"world\"]")]
    );
}

#[test]
fn polling_payloads_encode_mixed_text_and_binary() {
    let frames = [
        message("hello").encode(),
        Frame::Binary(Bytes::from_static(&[1, 2, 3, 4])),
        Packet::Ping.encode(),
    ];
    assert_eq!(encode_payload(&frames), "4hello\x1ebAQIDBA==\x1e2");
    assert_eq!(encode_payload(&frames[..1]), "4hello");
    assert_eq!(encode_payload(&[]), "");
}

#[test]
fn the_payload_writer_predicts_its_length() {
    let mut writer = PayloadWriter::new();
    assert!(writer.is_empty());
    let frames = [
        message("x").encode(),
        Frame::Binary(Bytes::from_static(&[9; 7])),
        Frame::Binary(Bytes::new()),
    ];
    for frame in &frames {
        let predicted = writer.len_with(frame);
        writer.push(frame);
        assert_eq!(writer.len(), predicted);
    }
    writer.push_packet(&Packet::Noop);
    assert_eq!(writer.packets(), 4);
    assert_eq!(writer.finish(), "4x\x1ebCQkJCQkJCQ==\x1eb\x1e6");
}

#[test]
fn malformed_packets_are_refused_in_protocol_words() {
    assert!(matches!(decode(""), Err(ParseError::EmptyPacket)));
    assert!(matches!(
        decode("abc"),
        Err(ParseError::UnknownPacketType('a'))
    ));
    assert!(matches!(
        decode("7"),
        Err(ParseError::UnknownPacketType('7'))
    ));
    assert!(matches!(
        decode("é4"),
        Err(ParseError::UnknownPacketType('é'))
    ));
    assert!(matches!(
        decode("\x1e"),
        Err(ParseError::UnknownPacketType('\x1e'))
    ));
    assert!(matches!(
        decode("1x"),
        Err(ParseError::UnexpectedData(PacketType::Close))
    ));
    assert!(matches!(
        decode("2hello"),
        Err(ParseError::UnexpectedData(PacketType::Ping))
    ));
    assert!(matches!(
        decode("3probes"),
        Err(ParseError::UnexpectedData(PacketType::Pong))
    ));
    assert!(matches!(
        decode("5 "),
        Err(ParseError::UnexpectedData(PacketType::Upgrade))
    ));
    assert!(matches!(
        decode("6x"),
        Err(ParseError::UnexpectedData(PacketType::Noop))
    ));
    assert!(matches!(decode("bA"), Err(ParseError::InvalidBase64)));
    assert!(matches!(decode("b!!!!"), Err(ParseError::InvalidBase64)));
    assert!(matches!(decode("0"), Err(ParseError::InvalidOpenPacket(_))));
    assert!(matches!(
        decode("0{}"),
        Err(ParseError::InvalidOpenPacket(_))
    ));
    assert!(matches!(
        decode(
            r#"0{"sid":"x","upgrades":["carrier-pigeon"],"pingInterval":1,"pingTimeout":1,"maxPayload":1}"#
        ),
        Err(ParseError::InvalidOpenPacket(_))
    ));
}

#[test]
fn malformed_payloads_end_at_the_first_bad_record() {
    let decoded = payload("4a\x1e\x1e4b");
    assert_eq!(decoded.len(), 2);
    assert_eq!(decoded[0].as_ref().unwrap(), &message("a"));
    assert!(matches!(decoded[1], Err(ParseError::EmptyPacket)));

    let decoded = payload("abc\x1e4b");
    assert_eq!(decoded.len(), 1);
    assert!(matches!(
        decoded[0],
        Err(ParseError::UnknownPacketType('a'))
    ));

    assert!(matches!(payload("4a\x1e")[1], Err(ParseError::EmptyPacket)));
    assert!(matches!(payload("")[..], [Err(ParseError::EmptyPacket)]));
    assert!(matches!(
        decode_payload(Bytes::from_static(b"4\xff\xfe")),
        Err(ParseError::InvalidUtf8)
    ));
}
