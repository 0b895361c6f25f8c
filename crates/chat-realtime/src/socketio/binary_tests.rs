//! Replacing buffers by placeholders and back, as the specification describes binary packets.

use bytes::Bytes;
use serde_json::{Value, json};

use super::spec_tests::args;
use super::*;

#[test]
fn reconstruct_puts_buffers_back_in_place_of_placeholders() {
    let attachments = [Bytes::from_static(b"x"), Bytes::from_static(b"y")];
    let values = args(
        json!([{"file": {"_placeholder": true, "num": 1}, "n": 1}, [{"_placeholder": true, "num": 0}], {"plain": [1]}, 3]),
    );
    let data = reconstruct(values.clone(), &attachments).unwrap();
    assert_eq!(
        data,
        [
            Data::Object(vec![
                ("file".into(), Data::Binary(attachments[1].clone())),
                ("n".into(), Data::Json(json!(1)))
            ]),
            Data::Array(vec![Data::Binary(attachments[0].clone())]),
            Data::Json(json!({"plain": [1]})),
            Data::Json(json!(3)),
        ]
    );
    let bad = args(json!([{"_placeholder": true, "num": 2}]));
    assert!(matches!(
        reconstruct(bad, &attachments),
        Err(ParseError::InvalidPlaceholder)
    ));
    assert_eq!(placeholder(3), json!({"_placeholder": true, "num": 3}));
}

#[test]
fn deconstruct_numbers_buffers_depth_first() {
    let (values, attachments) = deconstruct(vec![
        Data::Object(vec![
            ("a".into(), Data::Binary(Bytes::from_static(b"0"))),
            ("b".into(), Data::Json(json!(null))),
        ]),
        Data::Array(vec![
            Data::Json(json!(1)),
            Data::Binary(Bytes::from_static(b"1")),
        ]),
    ]);
    assert_eq!(
        Value::Array(values),
        json!([{"a": placeholder(0), "b": null}, [1, placeholder(1)]])
    );
    assert_eq!(
        attachments,
        [Bytes::from_static(b"0"), Bytes::from_static(b"1")]
    );
    let plain = PacketData::event_with_binary("e", vec![Data::Json(json!(1))], Some(2));
    assert_eq!(
        plain,
        PacketData::Event(Event {
            name: "e".into(),
            args: vec![json!(1)],
            ack: Some(2)
        })
    );
    assert_eq!(
        PacketData::ack_with_binary(2, vec![]),
        PacketData::Ack(Ack {
            id: 2,
            args: vec![]
        })
    );
}
