//! Events refused for their content rather than their framing (a lone UTF-16 surrogate, as
//! JavaScript clients send when they cut a string inside an emoji), and the bounds on the
//! binary attachments a packet may keep waiting.

use bytes::Bytes;
use serde_json::json;

use super::*;

fn refused_event(progress: Progress) -> RefusedEvent {
    match progress {
        Progress::Refused(event) => *event,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn an_event_with_a_lone_surrogate_is_refused_for_its_content_with_its_ack_id() {
    let cut = r#"21["send_message",{"receiverId":2,"content":"Let's meet \ud83d"}]"#;
    let Err(ParseError::InvalidContent { event, attachments }) = Packet::decode(cut) else {
        panic!("expected a content refusal")
    };
    assert!(
        !ParseError::InvalidContent {
            event: event.clone(),
            attachments
        }
        .is_fatal()
    );
    assert_eq!(attachments, 0);
    assert_eq!(
        (event.namespace.as_str(), event.name.as_str(), event.ack),
        ("/", "send_message", Some(1))
    );
    assert!(event.reason.contains("surrogate"), "{}", event.reason);
    let mut decoder = Decoder::default();
    let event = refused_event(decoder.decode_text(cut).unwrap());
    assert_eq!(event.ack, Some(1));
    // The connection's decoder goes on as before.
    assert!(matches!(
        decoder.decode_text(r#"2["next"]"#),
        Ok(Progress::Packet(_))
    ));
}

#[test]
fn lone_surrogates_are_found_wherever_they_are_and_pairs_are_text() {
    for cut in [
        r#"2["e","\udc00"]"#,
        r#"2/chat,["e",{"a":["x\ud83d"]}]"#,
        r#"2["e","\ud83d\ud83d\ude00"]"#,
        r#"2["e","\\\ud83d"]"#,
    ] {
        assert!(
            matches!(Packet::decode(cut), Err(ParseError::InvalidContent { .. })),
            "{cut}"
        );
    }
    let whole = r#"2["e","Let's meet \ud83d\ude00","\\ud83d"]"#;
    let Ok(Decoded::Complete(packet)) = Packet::decode(whole) else {
        panic!("a surrogate pair and an escaped backslash are text")
    };
    let PacketData::Event(event) = packet.data else {
        panic!("an event")
    };
    assert_eq!(event.args, [json!("Let's meet 😀"), json!("\\ud83d")]);
}

#[test]
fn broken_json_and_other_packet_types_stay_fatal() {
    for bad in [
        r#"2["e","\ud83d"#,
        r#"2["e","\ud83d",]"#,
        r#"0{"token":"\ud83d"}"#,
        r#"31["\ud83d"]"#,
    ] {
        let error = match Packet::decode(bad) {
            Err(error) => error,
            Ok(_) => panic!("{bad} decoded"),
        };
        assert!(error.is_fatal(), "{bad}: {error}");
    }
}

#[test]
fn a_refused_binary_event_still_takes_its_attachments_off_the_stream() {
    let mut decoder = Decoder::default();
    let cut = r#"52-3["send_message",{"content":"\ud83d","a":{"_placeholder":true,"num":0},"b":{"_placeholder":true,"num":1}}]"#;
    assert_eq!(
        decoder.decode_text(cut).unwrap(),
        Progress::AwaitingAttachments(2)
    );
    assert_eq!(
        decoder.decode_binary(Bytes::from_static(b"one")).unwrap(),
        Progress::AwaitingAttachments(1)
    );
    let event = refused_event(decoder.decode_binary(Bytes::from_static(b"two")).unwrap());
    assert_eq!((event.name.as_str(), event.ack), ("send_message", Some(3)));
    assert!(!decoder.is_awaiting_attachments());
}

#[test]
fn attachments_over_the_byte_limit_of_a_packet_are_refused() {
    let mut decoder = Decoder::with_limits(10, 1000);
    let announce = r#"52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#;
    decoder.decode_text(announce).unwrap();
    let half = Bytes::from(vec![0u8; 600]);
    assert_eq!(
        decoder.decode_binary(half.clone()).unwrap(),
        Progress::AwaitingAttachments(1)
    );
    assert!(matches!(
        decoder.decode_binary(half),
        Err(ParseError::AttachmentsTooLarge { max: 1000 })
    ));
}

#[test]
fn each_binary_packet_awaiting_attachments_has_a_serial_of_its_own() {
    let mut decoder = Decoder::default();
    assert_eq!(decoder.awaiting_serial(), None);
    let announce = r#"51-["a",{"_placeholder":true,"num":0}]"#;
    decoder.decode_text(announce).unwrap();
    let first = decoder.awaiting_serial().unwrap();
    decoder.decode_binary(Bytes::new()).unwrap();
    assert_eq!(decoder.awaiting_serial(), None);
    decoder.decode_text(announce).unwrap();
    assert_ne!(decoder.awaiting_serial(), Some(first));
}
