//! Serde helpers for the TL values tgpay keeps in its journal: a TL object is written as the
//! hex of its serialized bytes (exact, whatever the constructor), and read back with grammers'
//! deserializer. A value that does not decode is a serde error naming the type.

use grammers_tl_types::{Deserializable, Serializable};
use serde::{Deserialize, Deserializer, Serializer};

/// Hex of serialized TL values.
pub(crate) mod hex {
    use super::*;

    /// Decodes the hex of a serialized TL value.
    pub fn decode<T: Deserializable>(text: &str) -> Result<T, String> {
        let bytes = ::hex::decode(text).map_err(|e| format!("not TL hex: {e}"))?;
        T::from_bytes(&bytes).map_err(|e| {
            format!(
                "not a serialized {}: {e}",
                std::any::type_name::<T>()
                    .rsplit("::")
                    .next()
                    .unwrap_or("TL value")
            )
        })
    }
}

/// `#[serde(with = "crate::tl_serde::hex_opt")]` for an optional TL value.
pub(crate) mod hex_opt {
    use super::*;

    pub fn serialize<T: Serializable, S: Serializer>(
        value: &Option<T>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(value) => s.serialize_some(&::hex::encode(value.to_bytes())),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, T: Deserializable, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<T>, D::Error> {
        match <Option<String> as Deserialize>::deserialize(d)? {
            Some(text) => super::hex::decode(&text)
                .map(Some)
                .map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

/// `#[serde(with = "crate::tl_serde::peer")]` for a `Peer`, written for people:
/// `{"user": 42}`, `{"chat": 7}` or `{"channel": 9}`.
#[cfg(feature = "serde")]
pub(crate) mod peer {
    use grammers_tl_types::{enums, types};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Written {
        User(i64),
        Chat(i64),
        Channel(i64),
    }

    pub fn serialize<S: Serializer>(peer: &enums::Peer, s: S) -> Result<S::Ok, S::Error> {
        match peer {
            enums::Peer::User(p) => Written::User(p.user_id),
            enums::Peer::Chat(p) => Written::Chat(p.chat_id),
            enums::Peer::Channel(p) => Written::Channel(p.channel_id),
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<enums::Peer, D::Error> {
        Ok(match Written::deserialize(d)? {
            Written::User(user_id) => types::PeerUser { user_id }.into(),
            Written::Chat(chat_id) => types::PeerChat { chat_id }.into(),
            Written::Channel(channel_id) => types::PeerChannel { channel_id }.into(),
        })
    }
}
