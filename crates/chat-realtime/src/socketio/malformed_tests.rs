//! Malformed Socket.IO packets, each refused with the error that names what is wrong, and the
//! per-connection decoder's handling of out-of-order frames.

use bytes::Bytes;
use serde_json::json;

use super::spec_tests::{complete, event, refused};
use super::*;

#[test]
fn malformed_packets_are_refused_in_protocol_words() {
    use PacketType as T;
    use ParseError as E;
    assert!(matches!(refused(""), E::EmptyPacket));
    assert!(matches!(refused("abc"), E::UnknownPacketType('a')));
    assert!(matches!(refused("7[]"), E::UnknownPacketType('7')));
    assert!(matches!(refused("€"), E::UnknownPacketType('€')));
    assert!(matches!(refused("2{}"), E::InvalidEventPayload));
    assert!(matches!(
        refused(r#"2abc["message-with-ack",1]"#),
        E::InvalidJson(_)
    ));
    assert!(matches!(refused(r#"2-1["a"]"#), E::InvalidJson(_)));
    assert!(matches!(refused(r#"2["a""#), E::InvalidJson(_)));
    assert!(matches!(refused(r#"2["a"]x"#), E::InvalidJson(_)));
    assert!(matches!(refused("0,"), E::InvalidJson(_)));
    assert!(matches!(refused("0[]"), E::InvalidConnectPayload));
    assert!(matches!(refused(r#"0"token""#), E::InvalidConnectPayload));
    assert!(matches!(refused("0null"), E::InvalidConnectPayload));
    assert!(matches!(refused("01{}"), E::UnexpectedAckId(T::Connect)));
    assert!(matches!(refused("11"), E::UnexpectedAckId(T::Disconnect)));
    assert!(matches!(
        refused("41{}"),
        E::UnexpectedAckId(T::ConnectError)
    ));
    assert!(matches!(
        refused("1{}"),
        E::UnexpectedPayload(T::Disconnect)
    ));
    assert!(matches!(refused("4"), E::MissingPayload(T::ConnectError)));
    assert!(matches!(refused("4[1]"), E::InvalidConnectErrorPayload));
    assert!(matches!(refused("2"), E::MissingPayload(T::Event)));
    assert!(matches!(refused("2/admin,"), E::MissingPayload(T::Event)));
    assert!(matches!(refused("21"), E::MissingPayload(T::Event)));
    assert!(matches!(refused("2[]"), E::InvalidEventPayload));
    assert!(matches!(refused("2[1]"), E::InvalidEventPayload));
    assert!(matches!(refused("2[null,1]"), E::InvalidEventPayload));
    assert!(matches!(refused(r#"2"a""#), E::InvalidEventPayload));
    assert!(
        matches!(refused(r#"2["disconnect"]"#), E::ReservedEventName(name) if name == "disconnect")
    );
    assert!(matches!(
        refused(r#"21["connect"]"#),
        E::ReservedEventName(_)
    ));
    assert!(matches!(refused("3[]"), E::MissingAckId(T::Ack)));
    assert!(matches!(refused("312"), E::MissingPayload(T::Ack)));
    assert!(matches!(refused("312{}"), E::InvalidAckPayload));
    assert!(matches!(refused(r#"2/admin["x"]"#), E::InvalidNamespace(_)));
    assert!(matches!(refused("0/a b,"), E::InvalidNamespace(_)));
    assert!(matches!(
        refused(r#"2/admin{"a":1}"#),
        E::InvalidNamespace(_)
    ));
    assert!(matches!(
        refused(r#"218446744073709551616["a"]"#),
        E::InvalidAckId
    ));
    assert_eq!(
        complete(r#"218446744073709551615["a"]"#),
        event("/", "a", json!([]), Some(u64::MAX))
    );
    assert!(matches!(refused(r#"5["a"]"#), E::InvalidAttachmentCount));
    assert!(matches!(refused(r#"5-["a"]"#), E::InvalidAttachmentCount));
    assert!(matches!(refused(r#"5x-["a"]"#), E::InvalidAttachmentCount));
    assert!(matches!(refused("51"), E::InvalidAttachmentCount));
    assert!(matches!(
        refused(r#"5999999999999999999999-["a"]"#),
        E::InvalidAttachmentCount
    ));
    assert!(matches!(refused("51-"), E::MissingPayload(T::BinaryEvent)));
    assert!(matches!(refused("61-[]"), E::MissingAckId(T::BinaryAck)));
    for bad in [
        r#"{"_placeholder":true,"num":1}"#,
        r#"{"_placeholder":true,"num":-1}"#,
        r#"{"_placeholder":true,"num":"0"}"#,
        r#"{"_placeholder":true}"#,
        r#"[{"_placeholder":true,"num":0.5}]"#,
    ] {
        assert!(
            matches!(
                refused(&format!(r#"51-["a",{bad}]"#)),
                E::InvalidPlaceholder
            ),
            "{bad}"
        );
    }
}

#[test]
fn the_decoder_keeps_binary_frames_in_order() {
    let mut decoder = Decoder::default();
    assert!(matches!(
        decoder.decode_binary(Bytes::new()),
        Err(ParseError::UnexpectedAttachment)
    ));
    let announce = r#"51-["a",{"_placeholder":true,"num":0}]"#;
    assert_eq!(
        decoder.decode_text(announce).unwrap(),
        Progress::AwaitingAttachments(1)
    );
    assert!(matches!(
        decoder.decode_text(r#"2["b"]"#),
        Err(ParseError::UnexpectedTextPacket { missing: 1 })
    ));
    assert!(!decoder.is_awaiting_attachments());
    let packet = Packet::event(Namespace::MAIN, "b", vec![]);
    assert_eq!(
        decoder.decode_text(r#"2["b"]"#).unwrap(),
        Progress::Packet(packet)
    );
    let too_many = r#"511-["a"]"#;
    assert!(matches!(
        decoder.decode_text(too_many),
        Err(ParseError::TooManyAttachments { count: 11, max: 10 })
    ));
    assert!(matches!(
        Decoder::new(11).decode_text(too_many),
        Ok(Progress::AwaitingAttachments(11))
    ));
    let Ok(Decoded::Incomplete(partial)) = Packet::decode(announce) else {
        panic!("not incomplete")
    };
    assert_eq!(partial.missing(), 1);
    assert!(matches!(
        partial.add_attachment(Bytes::new()),
        Decoded::Complete(_)
    ));
}
