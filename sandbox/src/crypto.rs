//! Server-side MTProto 2.0 encryption (msg_key, AES-256-IGE) and the transport obfuscation
//! (AES-256-CTR), following <https://core.telegram.org/mtproto/description> and
//! <https://core.telegram.org/mtproto/mtproto-transports#transport-obfuscation>.

use aes::Aes256;
use ctr::cipher::{KeyIvInit, StreamCipher};
use sha2::{Digest, Sha256};

use super::keys::{AUTH_KEY_LEN, AuthKey};

/// `x` of the key derivation for messages from client to server.
const X_CLIENT: usize = 0;
/// `x` of the key derivation for messages from server to client.
const X_SERVER: usize = 8;

/// Smallest and largest padding MTProto 2.0 allows.
pub(crate) const MIN_PADDING: usize = 12;
pub(crate) const MAX_PADDING: usize = 1024;

/// The message key did not match the decrypted data: the frame was forged, corrupted or
/// encrypted with another key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("msg_key does not match the decrypted message")]
pub(crate) struct MsgKeyMismatch;

/// `msg_key_large = SHA256(substr(auth_key, 88+x, 32) + plaintext + random_padding)`.
fn msg_key_large(auth_key: &[u8; AUTH_KEY_LEN], x: usize, plaintext: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(&auth_key[88 + x..88 + x + 32]);
    hasher.update(plaintext);
    hasher.finalize().into()
}

/// `msg_key = substr(msg_key_large, 8, 16)`.
fn middle(large: &[u8; 32]) -> [u8; 16] {
    let mut key = [0u8; 16];
    key.copy_from_slice(&large[8..24]);
    key
}

/// `aes_key` and `aes_iv` from `auth_key` and `msg_key`.
fn aes_key_iv(auth_key: &[u8; AUTH_KEY_LEN], msg_key: &[u8; 16], x: usize) -> ([u8; 32], [u8; 32]) {
    let a: [u8; 32] = Sha256::new()
        .chain_update(msg_key)
        .chain_update(&auth_key[x..x + 36])
        .finalize()
        .into();
    let b: [u8; 32] = Sha256::new()
        .chain_update(&auth_key[40 + x..40 + x + 36])
        .chain_update(msg_key)
        .finalize()
        .into();
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&a[..8]);
    key[8..24].copy_from_slice(&b[8..24]);
    key[24..].copy_from_slice(&a[24..]);
    let mut iv = [0u8; 32];
    iv[..8].copy_from_slice(&b[..8]);
    iv[8..24].copy_from_slice(&a[8..24]);
    iv[24..].copy_from_slice(&b[24..]);
    (key, iv)
}

/// Decrypts, in place, the `encrypted_data` of a message a client sent, and checks its msg_key.
///
/// `data.len()` must be a multiple of 16 (the caller checks the frame shape first). On success
/// returns the quick-ACK token of the message: the first 32 bits of `msg_key_large` with the
/// most significant bit set.
pub(crate) fn decrypt_from_client(
    key: &AuthKey,
    msg_key: &[u8; 16],
    data: &mut [u8],
) -> Result<u32, MsgKeyMismatch> {
    if data.is_empty() || data.len() % 16 != 0 {
        return Err(MsgKeyMismatch);
    }
    let auth_key = key.expose_secret();
    let (aes_key, aes_iv) = aes_key_iv(auth_key, msg_key, X_CLIENT);
    grammers_crypto::aes::ige_decrypt(data, &aes_key, &aes_iv);
    let large = msg_key_large(auth_key, X_CLIENT, data);
    // The comparison leaks nothing useful: a mismatch closes the connection.
    if middle(&large) != *msg_key {
        return Err(MsgKeyMismatch);
    }
    let token = u32::from_le_bytes([large[0], large[1], large[2], large[3]]) | (1 << 31);
    Ok(token)
}

/// How much random padding to append to a plaintext of `len` bytes: at least 12 bytes, the
/// total a multiple of 16, plus up to three random extra blocks.
fn padding_len(len: usize) -> usize {
    let base = MIN_PADDING + (16 - (len + MIN_PADDING) % 16) % 16;
    base + 16 * rand::random_range(0..4usize)
}

/// Encrypts a server message for the client: pads `plaintext` (salt, session_id and the
/// message) and returns the payload `auth_key_id + msg_key + encrypted_data`.
pub(crate) fn encrypt_for_client(key: &AuthKey, key_id: i64, mut plaintext: Vec<u8>) -> Vec<u8> {
    let pad = padding_len(plaintext.len());
    let start = plaintext.len();
    plaintext.resize(start + pad, 0);
    rand::fill(&mut plaintext[start..]);
    encrypt_padded(key, key_id, plaintext)
}

fn encrypt_padded(key: &AuthKey, key_id: i64, mut padded: Vec<u8>) -> Vec<u8> {
    let auth_key = key.expose_secret();
    let msg_key = middle(&msg_key_large(auth_key, X_SERVER, &padded));
    let (aes_key, aes_iv) = aes_key_iv(auth_key, &msg_key, X_SERVER);
    grammers_crypto::aes::ige_encrypt(&mut padded, &aes_key, &aes_iv);
    let mut payload = Vec::with_capacity(24 + padded.len());
    payload.extend_from_slice(&key_id.to_le_bytes());
    payload.extend_from_slice(&msg_key);
    payload.extend_from_slice(&padded);
    payload
}

type Ctr = ctr::Ctr128BE<Aes256>;

/// The two AES-256-CTR streams of an obfuscated connection, seen from the server.
pub(crate) struct Obfuscation {
    /// Decrypts what the client sends (the client's encryption stream).
    incoming: Ctr,
    /// Encrypts what the server sends (the client's decryption stream).
    outgoing: Ctr,
}

impl Obfuscation {
    /// Sets up the streams from the 64-byte initialization payload the client sent and returns
    /// them with the decrypted protocol tag (bytes 56..60).
    ///
    /// The client derives its encryption key/IV from bytes 8..40/40..56 of the payload and its
    /// decryption key/IV from the same offsets of the reversed payload; the server uses them the
    /// other way round. The client encrypted the whole payload with its stream before sending
    /// it, so the incoming stream is advanced over all 64 bytes.
    pub(crate) fn from_init(init: &[u8; 64]) -> (Self, [u8; 4]) {
        let mut reversed = *init;
        reversed.reverse();
        let mut incoming = ctr_from(init);
        let outgoing = ctr_from(&reversed);
        let mut decrypted = *init;
        incoming.apply_keystream(&mut decrypted);
        let tag = [decrypted[56], decrypted[57], decrypted[58], decrypted[59]];
        (Self { incoming, outgoing }, tag)
    }

    /// Decrypts bytes received from the client, in place.
    pub(crate) fn decrypt(&mut self, data: &mut [u8]) {
        self.incoming.apply_keystream(data);
    }

    /// Encrypts bytes to be sent to the client, in place.
    pub(crate) fn encrypt(&mut self, data: &mut [u8]) {
        self.outgoing.apply_keystream(data);
    }
}

fn ctr_from(payload: &[u8; 64]) -> Ctr {
    let mut key = [0u8; 32];
    key.copy_from_slice(&payload[8..40]);
    let mut iv = [0u8; 16];
    iv.copy_from_slice(&payload[40..56]);
    Ctr::new(&key.into(), &iv.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counting_key() -> AuthKey {
        let mut bytes = [0u8; AUTH_KEY_LEN];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = i as u8;
        }
        AuthKey::from_bytes(bytes)
    }

    // Expected values computed independently (Python hashlib / cryptography) from the formulas
    // of core.telegram.org/mtproto/description, auth_key = 00 01 .. ff, msg_key = 00 01 .. 0f.
    #[test]
    fn key_derivation_known_answers() {
        let key = counting_key();
        let mut msg_key = [0u8; 16];
        for (i, b) in msg_key.iter_mut().enumerate() {
            *b = i as u8;
        }
        let (k0, iv0) = aes_key_iv(key.expose_secret(), &msg_key, X_CLIENT);
        assert_eq!(
            hex::encode(k0),
            "704ed09c8b41668ae8f99d244738f71dbddc44469b6bbd4aa8573dd042bd059e"
        );
        assert_eq!(
            hex::encode(iv0),
            "4d266000a550edabbf4c7ce40fd0043cc92230184cd317a5cc9c2482fd3b9318"
        );
        let (k8, iv8) = aes_key_iv(key.expose_secret(), &msg_key, X_SERVER);
        assert_eq!(
            hex::encode(k8),
            "217725799b245806458174a1fcfbc883906807b15033fdd0ea2b4d69cf9c364e"
        );
        assert_eq!(
            hex::encode(iv8),
            "669a6538917a4fa56ca32360a431c9160be4ad887140980dab91ce7bdc47ffbc"
        );
        let plaintext: Vec<u8> = (0..48).collect();
        assert_eq!(
            hex::encode(middle(&msg_key_large(
                key.expose_secret(),
                X_CLIENT,
                &plaintext
            ))),
            "886619acb4a7a08a0335e91bbc20970a"
        );
        assert_eq!(
            hex::encode(middle(&msg_key_large(
                key.expose_secret(),
                X_SERVER,
                &plaintext
            ))),
            "847acf67423986be7ee65a04f3e44c81"
        );
    }

    // AES-256-IGE of 48 counting bytes under the server-direction key and msg_key above
    // (computed with Python's `cryptography` AES-ECB and the IGE chaining rule).
    #[test]
    fn server_encryption_known_answer() {
        let key = counting_key();
        let plaintext: Vec<u8> = (0..48).collect();
        let payload = encrypt_padded(&key, 0x0102_0304_0506_0708, plaintext);
        assert_eq!(hex::encode(&payload[..8]), "0807060504030201");
        assert_eq!(
            hex::encode(&payload[8..24]),
            "847acf67423986be7ee65a04f3e44c81"
        );
        assert_eq!(hex::encode(&payload[24..]), IGE_KNOWN_ANSWER);
    }

    const IGE_KNOWN_ANSWER: &str = "8b3ea23b5b88051aa69a3e1e89efd690\
                                    ddc960458841267afe9b675ac430d0cd\
                                    c716b2ce2996c8f4e017f12e569e37e3";

    #[test]
    fn client_encryption_from_grammers_decrypts() {
        let key = counting_key();
        let grammers_key = grammers_crypto::AuthKey::from_bytes(*key.expose_secret());
        let mut buffer = grammers_crypto::DequeBuffer::with_capacity(64, 64);
        buffer.extend(b"0123456789abcdef0123456789abcdef message body 48");
        grammers_crypto::encrypt_data_v2(&mut buffer, &grammers_key);
        let mut payload = buffer.as_ref().to_vec();
        assert_eq!(payload[..8], key.key_id().to_le_bytes());
        let mut msg_key = [0u8; 16];
        msg_key.copy_from_slice(&payload[8..24]);
        let token = decrypt_from_client(&key, &msg_key, &mut payload[24..]).expect("valid");
        assert!(payload[24..].starts_with(b"0123456789abcdef0123456789abcdef message body 48"));
        assert_eq!(token >> 31, 1);

        // One flipped bit anywhere is detected.
        let mut forged = buffer.as_ref().to_vec();
        forged[40] ^= 1;
        assert_eq!(
            decrypt_from_client(&key, &msg_key, &mut forged[24..]),
            Err(MsgKeyMismatch)
        );
    }

    #[test]
    fn server_encryption_decrypts_with_grammers() {
        let key = counting_key();
        let grammers_key = grammers_crypto::AuthKey::from_bytes(*key.expose_secret());
        for len in [16usize, 20, 32, 100, 1000] {
            let plaintext: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let mut payload = encrypt_for_client(&key, key.key_id(), plaintext.clone());
            let padding = payload.len() - 24 - len;
            assert!((MIN_PADDING..=MAX_PADDING).contains(&padding), "{padding}");
            assert_eq!((payload.len() - 24) % 16, 0);
            let decrypted =
                grammers_crypto::decrypt_data_v2(&mut payload, &grammers_key).expect("decrypts");
            assert_eq!(&decrypted[..len], &plaintext[..]);
        }
    }

    #[test]
    fn obfuscation_matches_grammers_client_streams() {
        let mut init = [0u8; 64];
        for (i, b) in init.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37).wrapping_add(11);
        }
        // What a client does: encrypt the init, replace bytes 56..64 with the encrypted ones.
        let mut client = grammers_crypto::ObfuscatedCipher::new(&init);
        init[56..60].copy_from_slice(&[0xee; 4]);
        let mut encrypted = init;
        client.encrypt(&mut encrypted);
        let mut sent = init;
        sent[56..64].copy_from_slice(&encrypted[56..64]);

        let (mut server, tag) = Obfuscation::from_init(&sent);
        assert_eq!(tag, [0xee; 4]);

        let mut upstream = *b"client to server";
        client.encrypt(&mut upstream);
        server.decrypt(&mut upstream);
        assert_eq!(&upstream, b"client to server");

        let mut downstream = *b"server to client, longer than one block";
        server.encrypt(&mut downstream);
        client.decrypt(&mut downstream);
        assert_eq!(&downstream, b"server to client, longer than one block");
    }

    #[test]
    fn padding_is_within_spec() {
        for len in 0..200 {
            let pad = padding_len(len);
            assert!((MIN_PADDING..=MAX_PADDING).contains(&pad));
            assert_eq!((len + pad) % 16, 0);
        }
    }
}
