//! Processing of decrypted client messages: the msg_id / salt / session / seq_no rules, the
//! service messages of <https://core.telegram.org/mtproto/service_messages> and
//! <https://core.telegram.org/mtproto/service_messages_about_messages>, request unwrapping and
//! dispatch to the [`Handler`](super::rpc::Handler), and sealing the answers into encrypted
//! payloads (in a `msg_container` when there are several).

use std::borrow::Cow;
use std::collections::HashSet;
use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use grammers_tl_types::{self as tl, Cursor, Deserializable, Identifiable, Serializable};
use tokio::sync::mpsc;
use tracing::debug;

use super::crypto;
use super::framing::TransportKind;
use super::keys::KeyEntry;
use super::rpc::{CallContext, Reply, constructor_id};
use super::session::{Admission, ClientInfo, MSG_ID_MAX_AGE, MSG_ID_MAX_AHEAD, unix_now};
use crate::hub::Push;
use crate::state::Shared;
use tgpay::tl::nesting::{self, NestingError};

mod run;
mod wire;

pub(crate) use wire::seal;
use wire::*;

const MSG_CONTAINER: u32 = 0x73f1_f8dc;
const MSG_COPY: u32 = 0xe060_46b2;
const GZIP_PACKED: u32 = 0x3072_cfa1;
const RPC_RESULT: u32 = 0xf35c_6d01;
const VECTOR: u32 = 0x1cb5_c415;

/// At most this many messages in a container, and ids in an ack/state/resend request;
/// beyond, the transport error 429 (as Telegram does).
const MAX_CONTAINER_MESSAGES: usize = 1024;
const MAX_IDS: usize = 8192;
/// Outgoing containers stay below this size (clients read about 1 MiB at once).
const MAX_OUT_CONTAINER: usize = 1_000_000;
/// Results at least this large are sent as `gzip_packed` when that makes them smaller.
const GZIP_RESULT_THRESHOLD: usize = 16 * 1024;
/// Nesting limit of query wrappers (`invokeWithLayer(initConnection(...))` is two).
const MAX_WRAPPERS: usize = 8;
/// `get_future_salts` returns between 1 and 64 salts ("a maximum of num").
const MIN_FUTURE_SALTS: usize = 1;
const MAX_FUTURE_SALTS: usize = 64;
/// The largest `disconnect_delay` honoured by `ping_delay_disconnect`.
const MAX_DISCONNECT_DELAY: i64 = 24 * 3600;

/// Why a connection is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CloseReason {
    /// The packet was not a valid MTProto message.
    Malformed,
    /// A container or service message limit was exceeded: transport error 429.
    Flood,
}

/// What to do after processing one encrypted message.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Send these messages in the client's session.
    Send {
        session_id: i64,
        messages: Vec<OutMsg>,
    },
    /// Close the connection.
    Close(CloseReason),
    /// Close the connection without sending anything (the handler asked for it).
    Drop,
}

/// One message the server sends.
#[derive(Debug, Clone)]
pub(crate) struct OutMsg {
    pub(crate) body: Vec<u8>,
    /// Requires an acknowledgement (odd seq_no).
    pub(crate) content_related: bool,
    /// Answers a client message (msg_id ≡ 1 mod 4 rather than 3).
    pub(crate) response: bool,
}

impl OutMsg {
    fn service<T: Serializable>(value: &T, content_related: bool, response: bool) -> Self {
        Self {
            body: value.to_bytes(),
            content_related,
            response,
        }
    }

    /// A pushed `Updates`.
    pub(crate) fn update(body: Vec<u8>) -> Self {
        Self {
            body,
            content_related: true,
            response: false,
        }
    }

    /// A whole `rpc_result` sent late (a delayed answer).
    pub(crate) fn late_result(body: Vec<u8>) -> Self {
        Self {
            body,
            content_related: true,
            response: true,
        }
    }
}

/// Per-connection state the message processing reads and changes.
pub(crate) struct ConnMeta {
    pub(crate) id: u64,
    pub(crate) transport: TransportKind,
    pub(crate) obfuscated: bool,
    pub(crate) push_tx: mpsc::Sender<Push>,
    /// Sessions of this connection subscribed to updates.
    pub(crate) subscribed: HashSet<i64>,
    /// Set by `ping_delay_disconnect`.
    pub(crate) disconnect_at: Option<Instant>,
    /// Queries answered since the connection last wrote its output.
    pub(crate) pending: usize,
}

/// A message inside the encrypted data (top level, or in a container).
#[derive(Debug, Clone, Copy)]
struct Item<'a> {
    msg_id: i64,
    seqno: i32,
    body: &'a [u8],
}

/// Why the processing of one message stops early.
enum Stop {
    Close(CloseReason),
    Drop,
}

/// Processes one decrypted message (`salt`, `session_id`, message, padding).
pub(crate) fn process(
    shared: &Shared,
    key: &Arc<KeyEntry>,
    conn: &mut ConnMeta,
    plaintext: &[u8],
) -> Outcome {
    let Some((salt, session_id, top)) = parse_plaintext(plaintext) else {
        return Outcome::Close(CloseReason::Malformed);
    };
    let mut run = Run {
        shared,
        key,
        conn,
        session_id,
        now: shared.fixed_now.unwrap_or_else(unix_now),
        out: Vec::new(),
        acks: Vec::new(),
    };
    match run.top_level(salt, top) {
        Ok(()) => {
            let Run { mut out, acks, .. } = run;
            if !acks.is_empty() {
                out.push(OutMsg::service(
                    &tl::enums::MsgsAck::Ack(tl::types::MsgsAck { msg_ids: acks }),
                    false,
                    false,
                ));
            }
            Outcome::Send {
                session_id,
                messages: out,
            }
        }
        Err(Stop::Close(reason)) => Outcome::Close(reason),
        Err(Stop::Drop) => Outcome::Drop,
    }
}

/// Processes one decrypted message as a connection of `shared` on `key` would, and seals the
/// answers (for fuzzing, without a socket).
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz_process(shared: &Shared, key: &Arc<KeyEntry>, plaintext: &[u8]) {
    let (push_tx, _push_rx) = mpsc::channel(1);
    let mut conn = ConnMeta {
        id: 0,
        transport: TransportKind::Intermediate,
        obfuscated: false,
        push_tx,
        subscribed: HashSet::new(),
        disconnect_at: None,
        pending: 0,
    };
    if let Outcome::Send {
        session_id,
        messages,
    } = process(shared, key, &mut conn, plaintext)
    {
        let _ = seal(shared, key, session_id, messages);
    }
    for session in conn.subscribed {
        shared.hub.unsubscribe_session(key.user_id, session);
    }
}

/// Splits the plaintext into salt, session_id and the message, checking the lengths the
/// security guidelines ask for: `message_data_length` a multiple of 4 and 12..1024 bytes of
/// padding after it.
fn parse_plaintext(plaintext: &[u8]) -> Option<(i64, i64, Item<'_>)> {
    let salt = read_i64(plaintext, 0)?;
    let session_id = read_i64(plaintext, 8)?;
    let msg_id = read_i64(plaintext, 16)?;
    let seqno = read_i32(plaintext, 24)?;
    let len = usize::try_from(read_i32(plaintext, 28)?).ok()?;
    if len % 4 != 0 {
        return None;
    }
    let padding = plaintext.len().checked_sub(32)?.checked_sub(len)?;
    if !(crypto::MIN_PADDING..=crypto::MAX_PADDING).contains(&padding) {
        return None;
    }
    let body = plaintext.get(32..32 + len)?;
    Some((
        salt,
        session_id,
        Item {
            msg_id,
            seqno,
            body,
        },
    ))
}

struct Run<'a> {
    shared: &'a Shared,
    key: &'a Arc<KeyEntry>,
    conn: &'a mut ConnMeta,
    session_id: i64,
    now: i64,
    out: Vec<OutMsg>,
    /// Content-related client messages to acknowledge with `msgs_ack`.
    acks: Vec<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plaintext(msg_id: i64, seqno: i32, body: &[u8], padding: usize) -> Vec<u8> {
        let mut p = Vec::new();
        7i64.serialize(&mut p);
        9i64.serialize(&mut p);
        write_message(&mut p, msg_id, seqno, body);
        p.resize(p.len() + padding, 0);
        p
    }

    #[test]
    fn plaintext_lengths_are_checked() {
        let body = [1, 2, 3, 4];
        let valid = plaintext(4, 1, &body, 12);
        let (salt, session, item) = parse_plaintext(&valid).unwrap();
        assert_eq!(
            (salt, session, item.msg_id, item.seqno, item.body),
            (7, 9, 4, 1, &body[..])
        );
        assert!(
            parse_plaintext(&plaintext(4, 1, &body, 11)).is_none(),
            "padding < 12"
        );
        assert!(
            parse_plaintext(&plaintext(4, 1, &body, 1025)).is_none(),
            "padding > 1024"
        );
        let mut lying = plaintext(4, 1, &body, 16);
        lying[28..32].copy_from_slice(&1000i32.to_le_bytes());
        assert!(parse_plaintext(&lying).is_none(), "length past the end");
        lying[28..32].copy_from_slice(&(-8i32).to_le_bytes());
        assert!(parse_plaintext(&lying).is_none(), "negative length");
        lying[28..32].copy_from_slice(&2i32.to_le_bytes());
        assert!(parse_plaintext(&lying).is_none(), "unaligned length");
        assert!(parse_plaintext(&[0u8; 20]).is_none());
    }

    fn container(entries: &[(i64, i32, &[u8])]) -> Vec<u8> {
        let mut body = MSG_CONTAINER.to_bytes();
        (entries.len() as i32).serialize(&mut body);
        for (msg_id, seqno, inner) in entries {
            write_message(&mut body, *msg_id, *seqno, inner);
        }
        body
    }

    #[test]
    fn containers_are_validated() {
        let ping = tl::functions::Ping { ping_id: 1 }.to_bytes();
        let body = container(&[(8, 1, &ping), (12, 3, &ping)]);
        let top = Item {
            msg_id: 16,
            seqno: 4,
            body: &body,
        };
        let items = parse_container(top)
            .ok()
            .flatten()
            .expect("valid container");
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].msg_id, 12);

        // Inner msg_id not below the container's.
        let top_low = Item { msg_id: 12, ..top };
        assert!(matches!(parse_container(top_low), Ok(None)));
        // Nested container.
        let nested = container(&[(8, 2, &body)]);
        assert!(matches!(
            parse_container(Item {
                body: &nested,
                ..top
            }),
            Ok(None)
        ));
        // Truncated.
        assert!(matches!(
            parse_container(Item {
                body: &body[..body.len() - 4],
                ..top
            }),
            Ok(None)
        ));
        // Too many messages: flood.
        let mut flood = MSG_CONTAINER.to_bytes();
        2000i32.serialize(&mut flood);
        assert!(matches!(
            parse_container(Item {
                body: &flood,
                ..top
            }),
            Err(Stop::Close(CloseReason::Flood))
        ));
    }

    #[test]
    fn gzip_roundtrips_and_is_bounded() {
        let data: Vec<u8> = (0..40_000u32).flat_map(|i| (i % 7).to_le_bytes()).collect();
        let packed = gzip(&data).unwrap();
        assert_eq!(constructor_id(&packed), Some(GZIP_PACKED));
        assert!(packed.len() < data.len());
        assert_eq!(gunzip(&packed[4..], 1 << 20), Some(data.clone()));
        assert_eq!(gunzip(&packed[4..], 1000), None, "over the limit");
        assert_eq!(gunzip(&[4, 1, 2, 3, 4, 0, 0, 0], 1000), None, "not gzip");
    }

    #[test]
    fn id_vectors_are_bounded() {
        let ids = tl::enums::MsgsAck::Ack(tl::types::MsgsAck {
            msg_ids: vec![1, 2, 3],
        })
        .to_bytes();
        assert_eq!(read_ids(&ids[4..]).ok(), Some(vec![1, 2, 3]));
        assert!(matches!(
            read_ids(&ids[4..ids.len() - 1]),
            Err(Stop::Close(CloseReason::Malformed))
        ));
        let mut many = VECTOR.to_bytes();
        9000i32.serialize(&mut many);
        assert!(matches!(
            read_ids(&many),
            Err(Stop::Close(CloseReason::Flood))
        ));
    }
}
