//! Pre-shared authorization keys: the sandbox does no Diffie-Hellman exchange, every user gets a
//! 2048-bit key up front and a client session is populated with it.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use sha1::{Digest, Sha1};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Length in bytes of an MTProto authorization key (2048 bits).
pub const AUTH_KEY_LEN: usize = 256;

/// The user id a key is registered with while it is bound to no user: a guest key, on which a
/// client can only log in (`auth.sendCode`, `auth.signIn`, `auth.checkPassword`).
pub const UNBOUND_USER: i64 = 0;

/// An MTProto [authorization key](https://core.telegram.org/mtproto/description#authorization-key-auth-key).
///
/// A secret: `Debug` shows only its public `auth_key_id`, and the bytes are zeroed on drop.
///
/// The sandbox's one key type. `grammers_crypto::AuthKey` (the client's) neither zeroes its
/// bytes on drop nor exposes its id; [`expose_secret`](Self::expose_secret) hands the bytes to
/// it.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct AuthKey {
    bytes: [u8; AUTH_KEY_LEN],
}

impl AuthKey {
    /// Wraps the 256 bytes of a key.
    pub fn from_bytes(bytes: [u8; AUTH_KEY_LEN]) -> Self {
        Self { bytes }
    }

    /// A fresh key from the operating system's random source.
    pub fn generate() -> Self {
        let mut bytes = [0u8; AUTH_KEY_LEN];
        rand::fill(&mut bytes[..]);
        let key = Self { bytes };
        bytes.zeroize();
        key
    }

    /// The key identifier, as it appears on the wire (a TL `long`): the 64 lower-order bits of
    /// the SHA-1 of the key (bytes 12..20 of the digest, little-endian).
    pub fn key_id(&self) -> i64 {
        let digest = Sha1::digest(self.bytes);
        let mut id = [0u8; 8];
        id.copy_from_slice(&digest[12..20]);
        i64::from_le_bytes(id)
    }

    /// The key bytes, for handing the key to a client (e.g. a grammers session). Keep them secret.
    pub fn expose_secret(&self) -> &[u8; AUTH_KEY_LEN] {
        &self.bytes
    }
}

impl fmt::Debug for AuthKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthKey")
            .field("key_id", &self.key_id())
            .finish_non_exhaustive()
    }
}

/// Why a key could not be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Another user already holds a key with this identifier; generate a different key.
    #[error("auth_key_id {key_id} is already registered for another user; generate a new key")]
    KeyIdInUse {
        /// The identifier that is taken.
        key_id: i64,
    },
}

/// A registered key and the user it authenticates.
pub(crate) struct KeyEntry {
    pub(crate) key_id: i64,
    pub(crate) user_id: i64,
    pub(crate) key: AuthKey,
}

/// The table of pre-shared keys the server looks `auth_key_id`s up in.
///
/// Cheap to clone (shared); keys may be registered or removed at any time, also while the server
/// runs. A connection keeps the key it started with until it closes.
#[derive(Clone, Default)]
pub struct KeyStore {
    inner: Arc<RwLock<HashMap<i64, Arc<KeyEntry>>>>,
}

impl KeyStore {
    /// An empty key store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `key` as belonging to `user_id` and returns its `auth_key_id`.
    ///
    /// Registering the same key for the same user again is a no-op.
    pub fn register(&self, user_id: i64, key: AuthKey) -> Result<i64, KeyError> {
        let key_id = key.key_id();
        let mut map = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(existing) = map.get(&key_id)
            && (existing.user_id != user_id || existing.key != key)
        {
            return Err(KeyError::KeyIdInUse { key_id });
        }
        map.insert(
            key_id,
            Arc::new(KeyEntry {
                key_id,
                user_id,
                key,
            }),
        );
        Ok(key_id)
    }

    /// Generates a fresh key for `user_id`, registers it and returns it.
    pub fn generate(&self, user_id: i64) -> AuthKey {
        loop {
            let key = AuthKey::generate();
            if self.register(user_id, key.clone()).is_ok() {
                return key;
            }
        }
    }

    /// Forgets a key; new connections using it get the transport error -404.
    /// Returns whether the key was known.
    pub fn remove(&self, key_id: i64) -> bool {
        self.inner
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&key_id)
            .is_some()
    }

    /// Binds a registered key to another user (or to [`UNBOUND_USER`]), for connections opened
    /// from now on; connections already open keep the user they started with. Returns whether
    /// the key was known.
    pub fn rebind(&self, key_id: i64, user_id: i64) -> bool {
        let mut map = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        let Some(entry) = map.get(&key_id) else {
            return false;
        };
        if entry.user_id != user_id {
            let key = entry.key.clone();
            map.insert(
                key_id,
                Arc::new(KeyEntry {
                    key_id,
                    user_id,
                    key,
                }),
            );
        }
        true
    }

    /// The user a key belongs to, if the key is registered.
    pub fn user_id(&self, key_id: i64) -> Option<i64> {
        self.get(key_id).map(|entry| entry.user_id)
    }

    /// How many keys are registered.
    pub fn len(&self) -> usize {
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no key is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn get(&self, key_id: i64) -> Option<Arc<KeyEntry>> {
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key_id)
            .cloned()
    }
}

impl fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyStore")
            .field("keys", &self.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_id_is_lower_64_bits_of_sha1() {
        // SHA-1 of 256 zero bytes is b376885ac8452b6cbf9ced81b1080bfd570d9b91; bytes 12..20 are
        // b1 08 0b fd 57 0d 9b 91, read little-endian.
        let key = AuthKey::from_bytes([0u8; AUTH_KEY_LEN]);
        assert_eq!(
            key.key_id(),
            i64::from_le_bytes([0xb1, 0x08, 0x0b, 0xfd, 0x57, 0x0d, 0x9b, 0x91])
        );
    }

    #[test]
    fn debug_never_shows_key_bytes() {
        let key = AuthKey::from_bytes([0xab; AUTH_KEY_LEN]);
        let shown = format!("{key:?}");
        assert!(shown.contains("key_id"));
        assert!(!shown.contains("171"), "{shown}");
        assert!(!shown.to_lowercase().contains("ab, ab"), "{shown}");
    }

    #[test]
    fn register_lookup_remove() {
        let store = KeyStore::new();
        let key = store.generate(7);
        let id = key.key_id();
        assert_eq!(store.user_id(id), Some(7));
        assert_eq!(store.register(7, key.clone()), Ok(id));
        assert_eq!(
            store.register(8, key.clone()),
            Err(KeyError::KeyIdInUse { key_id: id })
        );
        assert_eq!(store.len(), 1);
        assert!(store.rebind(id, UNBOUND_USER));
        assert_eq!(store.user_id(id), Some(UNBOUND_USER));
        assert!(store.rebind(id, 7));
        assert_eq!(store.user_id(id), Some(7));
        assert!(store.remove(id));
        assert!(!store.remove(id));
        assert!(!store.rebind(id, 7));
        assert_eq!(store.user_id(id), None);
        assert!(store.is_empty());
    }
}
