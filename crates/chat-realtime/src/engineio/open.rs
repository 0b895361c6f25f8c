//! The handshake: the JSON object of the `open` packet, and the transport names that it and
//! the `transport` query parameter use.

use std::{fmt, str::FromStr, time::Duration};

use serde::{Deserialize, Deserializer};

use super::error::ParseError;

/// The transports of Engine.IO v4, by the names used on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    /// HTTP long-polling (`polling`): the default first transport.
    Polling,
    /// WebSocket (`websocket`): the upgrade target, or the only transport.
    Websocket,
}

impl TransportKind {
    /// The transport's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Polling => "polling",
            Self::Websocket => "websocket",
        }
    }
}

impl FromStr for TransportKind {
    type Err = ParseError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "polling" => Ok(Self::Polling),
            "websocket" => Ok(Self::Websocket),
            other => Err(ParseError::UnknownTransport(other.to_owned())),
        }
    }
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The data of the `open` packet: what the client needs to keep the session alive.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenPacket {
    /// The session id, sent back by the client in the `sid` query parameter.
    pub sid: String,
    /// Transports the client may upgrade to: `["websocket"]` over polling, `[]` over WebSocket.
    pub upgrades: Vec<TransportKind>,
    /// How often the server pings (`pingInterval`, milliseconds on the wire).
    #[serde(deserialize_with = "millis")]
    pub ping_interval: Duration,
    /// How long the server waits for a pong (`pingTimeout`, milliseconds on the wire).
    #[serde(deserialize_with = "millis")]
    pub ping_timeout: Duration,
    /// The largest polling payload the client may send, in bytes (`maxPayload`).
    pub max_payload: u64,
}

impl OpenPacket {
    /// Parses the JSON that follows the `0` of an `open` packet.
    pub fn decode(json: &str) -> Result<Self, ParseError> {
        serde_json::from_str(json).map_err(ParseError::InvalidOpenPacket)
    }
}

/// Writes the handshake JSON, keys in the specification's order.
impl fmt::Display for OpenPacket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The sid is escaped as a JSON string; every other field needs no escaping.
        write!(
            f,
            "{{\"sid\":{},\"upgrades\":[",
            serde_json::Value::from(self.sid.as_str())
        )?;
        for (i, upgrade) in self.upgrades.iter().enumerate() {
            let comma = if i == 0 { "" } else { "," };
            write!(f, "{comma}\"{upgrade}\"")?;
        }
        write!(
            f,
            "],\"pingInterval\":{},\"pingTimeout\":{},\"maxPayload\":{}}}",
            self.ping_interval.as_millis(),
            self.ping_timeout.as_millis(),
            self.max_payload
        )
    }
}

fn millis<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    u64::deserialize(deserializer).map(Duration::from_millis)
}
