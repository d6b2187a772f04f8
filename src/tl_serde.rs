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
