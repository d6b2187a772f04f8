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

impl Run<'_> {
    fn top_level(&mut self, salt: i64, top: Item<'_>) -> Result<(), Stop> {
        let stats = &self.shared.stats;
        stats.message_received();
        if top.msg_id & 3 != 0 {
            self.bad_msg(top, 18);
            return Ok(());
        }
        let sent_at = top.msg_id >> 32;
        if sent_at < self.now - MSG_ID_MAX_AGE {
            self.bad_msg(top, 16);
            return Ok(());
        }
        if sent_at > self.now + MSG_ID_MAX_AHEAD {
            self.bad_msg(top, 17);
            return Ok(());
        }
        if !self.shared.salts.is_valid(self.key.key_id, salt, self.now) {
            let new_server_salt = self.shared.salts.current(self.key.key_id, self.now);
            stats.bad_msg(48);
            self.out.push(OutMsg::service(
                &tl::enums::BadMsgNotification::BadServerSalt(tl::types::BadServerSalt {
                    bad_msg_id: top.msg_id,
                    bad_msg_seqno: top.seqno,
                    error_code: 48,
                    new_server_salt,
                }),
                false,
                true,
            ));
            return Ok(());
        }

        let container = match constructor_id(top.body) {
            Some(MSG_CONTAINER) => {
                stats.container_received();
                if top.seqno & 1 == 1 {
                    self.bad_msg(top, 34);
                    return Ok(());
                }
                match parse_container(top)? {
                    Some(items) => Some(items),
                    None => {
                        self.bad_msg(top, 64);
                        return Ok(());
                    }
                }
            }
            Some(MSG_COPY) => match parse_copy(top) {
                Some(item) => Some(vec![item]),
                None => {
                    self.bad_msg(top, 64);
                    return Ok(());
                }
            },
            _ => None,
        };
        let items = container.clone().unwrap_or_else(|| vec![top]);
        let first_msg_id = items
            .iter()
            .map(|item| item.msg_id)
            .fold(top.msg_id, i64::min);

        // Session bookkeeping and admission of every message, under one lock.
        let mut accepted = Vec::with_capacity(items.len());
        {
            let mut sessions = self.shared.sessions.lock();
            let (session, created) = sessions.open(self.key.key_id, self.session_id, first_msg_id);
            if created || first_msg_id < session.first_msg_id {
                session.first_msg_id = session.first_msg_id.min(first_msg_id);
                let notice = tl::enums::NewSession::Created(tl::types::NewSessionCreated {
                    first_msg_id,
                    unique_id: session.unique_id,
                    server_salt: self.shared.salts.current(self.key.key_id, self.now),
                });
                self.out.push(OutMsg::service(&notice, true, false));
            }
            if container.is_some() {
                match session.admit(top.msg_id, top.seqno) {
                    Admission::Accept => {}
                    Admission::Duplicate => {
                        drop(sessions);
                        self.bad_msg(top, 19);
                        return Ok(());
                    }
                    Admission::Refuse(code) => {
                        drop(sessions);
                        self.bad_msg(top, code);
                        return Ok(());
                    }
                }
            }
            let mut refused = Vec::new();
            for item in items {
                if item.msg_id & 3 != 0 {
                    refused.push((item, 18));
                    continue;
                }
                match session.admit(item.msg_id, item.seqno) {
                    Admission::Accept => accepted.push(item),
                    Admission::Duplicate => {
                        if item.seqno & 1 == 1 {
                            self.acks.push(item.msg_id);
                        }
                    }
                    Admission::Refuse(code) => refused.push((item, code)),
                }
            }
            drop(sessions);
            for (item, code) in refused {
                self.bad_msg(item, code);
            }
        }

        for item in accepted {
            self.dispatch(item, 0)?;
        }
        Ok(())
    }

    fn bad_msg(&mut self, item: Item<'_>, code: i32) {
        self.shared.stats.bad_msg(code);
        self.out.push(OutMsg::service(
            &tl::enums::BadMsgNotification::Notification(tl::types::BadMsgNotification {
                bad_msg_id: item.msg_id,
                bad_msg_seqno: item.seqno,
                error_code: code,
            }),
            false,
            true,
        ));
    }

    fn ack_if_content(&mut self, item: Item<'_>) {
        if item.seqno & 1 == 1 {
            self.acks.push(item.msg_id);
        }
    }

    fn dispatch(&mut self, item: Item<'_>, depth: usize) -> Result<(), Stop> {
        use tl::functions as f;
        use tl::types as t;

        let content_related = item.seqno & 1 == 1;
        let id = constructor_id(item.body).ok_or(Stop::Close(CloseReason::Malformed))?;
        self.shared.stats.constructor_received(id);
        let fields = &item.body[4..];
        match id {
            MSG_CONTAINER | MSG_COPY => self.bad_msg(item, 64),
            GZIP_PACKED => {
                if depth > 0 {
                    return Err(Stop::Close(CloseReason::Malformed));
                }
                self.shared.stats.gzip_received();
                let unpacked = gunzip(fields, self.shared.config.max_unpacked_len)
                    .ok_or(Stop::Close(CloseReason::Malformed))?;
                return self.dispatch(
                    Item {
                        body: &unpacked,
                        ..item
                    },
                    depth + 1,
                );
            }
            t::MsgsAck::CONSTRUCTOR_ID => {
                if content_related {
                    self.bad_msg(item, 34);
                } else {
                    read_ids(fields)?;
                }
            }
            f::Ping::CONSTRUCTOR_ID => {
                let ping = parse_fields::<f::Ping>(fields)?;
                self.pong(item, ping.ping_id);
            }
            f::PingDelayDisconnect::CONSTRUCTOR_ID => {
                let ping = parse_fields::<f::PingDelayDisconnect>(fields)?;
                let delay = i64::from(ping.disconnect_delay).clamp(0, MAX_DISCONNECT_DELAY);
                self.conn.disconnect_at =
                    Some(Instant::now() + Duration::from_secs(delay.unsigned_abs()));
                self.pong(item, ping.ping_id);
            }
            f::GetFutureSalts::CONSTRUCTOR_ID => {
                let request = parse_fields::<f::GetFutureSalts>(fields)?;
                let count = usize::try_from(request.num)
                    .unwrap_or(0)
                    .clamp(MIN_FUTURE_SALTS, MAX_FUTURE_SALTS);
                let salts = self
                    .shared
                    .salts
                    .future(self.key.key_id, self.now, count)
                    .into_iter()
                    .map(|s| t::FutureSalt {
                        valid_since: clamp_i32(s.valid_since),
                        valid_until: clamp_i32(s.valid_until),
                        salt: s.salt,
                    })
                    .collect();
                // Sent bare, not in rpc_result; it acknowledges the query itself.
                let answer = tl::enums::FutureSalts::Salts(t::FutureSalts {
                    req_msg_id: item.msg_id,
                    now: clamp_i32(self.now),
                    salts: tl::RawVec(salts),
                });
                self.out.push(OutMsg::service(&answer, false, true));
            }
            f::DestroySession::CONSTRUCTOR_ID => {
                let request = parse_fields::<f::DestroySession>(fields)?;
                // Destroying the session in use is undefined by the spec: it is kept.
                let destroyed = request.session_id != self.session_id
                    && self
                        .shared
                        .sessions
                        .lock()
                        .destroy(self.key.key_id, request.session_id);
                if destroyed {
                    self.shared
                        .hub
                        .unsubscribe_session(self.key.user_id, request.session_id);
                }
                let answer = if destroyed {
                    tl::enums::DestroySessionRes::DestroySessionOk(t::DestroySessionOk {
                        session_id: request.session_id,
                    })
                } else {
                    tl::enums::DestroySessionRes::DestroySessionNone(t::DestroySessionNone {
                        session_id: request.session_id,
                    })
                };
                self.out.push(OutMsg::service(&answer, true, true));
            }
            t::MsgsStateReq::CONSTRUCTOR_ID => {
                let ids = read_ids(fields)?;
                let info = {
                    let mut sessions = self.shared.sessions.lock();
                    match sessions.get(self.key.key_id, self.session_id) {
                        Some(session) => ids
                            .iter()
                            .map(|&id| session.state_of(id, self.now))
                            .collect(),
                        None => vec![1; ids.len()],
                    }
                };
                self.state_info(item, info);
            }
            t::MsgResendReq::CONSTRUCTOR_ID | t::MsgResendAnsReq::CONSTRUCTOR_ID => {
                // Sent messages are not kept, so none can be re-sent: per the spec, answer as
                // if it were msgs_state_req, with "nothing is known about the message".
                let ids = read_ids(fields)?;
                self.state_info(item, vec![1; ids.len()]);
            }
            f::RpcDropAnswer::CONSTRUCTOR_ID => {
                parse_fields::<f::RpcDropAnswer>(fields)?;
                // Queries are answered as soon as they arrive: nothing is left to drop.
                let unknown = tl::enums::RpcDropAnswer::RpcAnswerUnknown;
                self.rpc_result(item.msg_id, unknown.to_bytes());
            }
            t::HttpWait::CONSTRUCTOR_ID
            | t::MsgsAllInfo::CONSTRUCTOR_ID
            | t::MsgsStateInfo::CONSTRUCTOR_ID
            | t::MsgDetailedInfo::CONSTRUCTOR_ID
            | t::MsgNewDetailedInfo::CONSTRUCTOR_ID => self.ack_if_content(item),
            _ => {
                if content_related {
                    self.rpc(item)?;
                } else {
                    self.bad_msg(item, 35);
                }
            }
        }
        Ok(())
    }

    fn pong(&mut self, item: Item<'_>, ping_id: i64) {
        self.ack_if_content(item);
        let pong = tl::enums::Pong::Pong(tl::types::Pong {
            msg_id: item.msg_id,
            ping_id,
        });
        self.out.push(OutMsg::service(&pong, false, true));
    }

    fn state_info(&mut self, item: Item<'_>, info: Vec<u8>) {
        self.ack_if_content(item);
        // info is a TL string of raw status bytes.
        let mut body = tl::types::MsgsStateInfo::CONSTRUCTOR_ID.to_bytes();
        item.msg_id.serialize(&mut body);
        info.serialize(&mut body);
        self.out.push(OutMsg {
            body,
            content_related: false,
            response: true,
        });
    }

    fn rpc_result(&mut self, req_msg_id: i64, result: Vec<u8>) {
        let packed = (result.len() >= GZIP_RESULT_THRESHOLD)
            .then(|| gzip(&result))
            .flatten()
            .filter(|packed| packed.len() < result.len());
        let result = match packed {
            Some(packed) => {
                self.shared.stats.gzip_sent();
                packed
            }
            None => result,
        };
        let mut body = Vec::with_capacity(12 + result.len());
        RPC_RESULT.serialize(&mut body);
        req_msg_id.serialize(&mut body);
        body.extend_from_slice(&result);
        self.out.push(OutMsg {
            body,
            content_related: true,
            response: true,
        });
    }

    /// Unwraps an RPC query, records layer and client info on the session, and calls the
    /// handler.
    fn rpc(&mut self, item: Item<'_>) -> Result<(), Stop> {
        use tl::functions as f;

        let mut query: Cow<'_, [u8]> = Cow::Borrowed(item.body);
        let mut wants_updates = true;
        let mut layer = None;
        let mut client = None;
        let mut unwrapped = false;
        for _ in 0..MAX_WRAPPERS {
            let Some(id) = constructor_id(&query) else {
                break;
            };
            // Before grammers' recursive deserializers see any of it (the wrappers' own fields,
            // such as initConnection's JSON params, or the query itself).
            if let Err(error @ NestingError::TooDeep { .. }) = nesting::check_function(&query) {
                debug!(connection = self.conn.id, %error, "query refused");
                self.shared.stats.too_deep();
                self.answer(item.msg_id, Reply::error(400, "INPUT_TOO_DEEP"));
                return Ok(());
            }
            let fields = &query[4..];
            let inner = match id {
                f::InvokeWithLayer::<Rest>::CONSTRUCTOR_ID => {
                    parse_fields::<f::InvokeWithLayer<Rest>>(fields)
                        .ok()
                        .map(|w| {
                            layer = Some(w.layer);
                            w.query.0
                        })
                }
                f::InitConnection::<Rest>::CONSTRUCTOR_ID => {
                    parse_fields::<f::InitConnection<Rest>>(fields)
                        .ok()
                        .map(|w| {
                            client = Some(ClientInfo {
                                api_id: w.api_id,
                                device_model: w.device_model,
                                system_version: w.system_version,
                                app_version: w.app_version,
                                system_lang_code: w.system_lang_code,
                                lang_pack: w.lang_pack,
                                lang_code: w.lang_code,
                            });
                            w.query.0
                        })
                }
                f::InvokeWithoutUpdates::<Rest>::CONSTRUCTOR_ID => {
                    wants_updates = false;
                    parse_fields::<f::InvokeWithoutUpdates<Rest>>(fields)
                        .ok()
                        .map(|w| w.query.0)
                }
                f::InvokeAfterMsg::<Rest>::CONSTRUCTOR_ID => {
                    parse_fields::<f::InvokeAfterMsg<Rest>>(fields)
                        .ok()
                        .map(|w| w.query.0)
                }
                f::InvokeAfterMsgs::<Rest>::CONSTRUCTOR_ID => {
                    parse_fields::<f::InvokeAfterMsgs<Rest>>(fields)
                        .ok()
                        .map(|w| w.query.0)
                }
                GZIP_PACKED => gunzip(fields, self.shared.config.max_unpacked_len),
                _ => {
                    unwrapped = true;
                    break;
                }
            };
            match inner {
                Some(inner) => query = Cow::Owned(inner),
                None => break,
            }
        }
        if !unwrapped {
            self.answer(item.msg_id, Reply::fetch_failed());
            return Ok(());
        }

        let (layer, client) = {
            let mut sessions = self.shared.sessions.lock();
            match sessions.get(self.key.key_id, self.session_id) {
                Some(session) => {
                    if layer.is_some() {
                        session.layer = layer;
                    }
                    if let Some(client) = client {
                        session.client = Some(Arc::new(client));
                    }
                    (session.layer, session.client.clone())
                }
                None => (layer, client.map(Arc::new)),
            }
        };
        if wants_updates && self.conn.subscribed.insert(self.session_id) {
            self.shared.hub.subscribe(
                self.key.user_id,
                self.conn.id,
                self.session_id,
                self.conn.push_tx.clone(),
            );
        }

        if self.conn.pending >= self.shared.config.max_pending_requests.max(1) {
            // Only a container with more queries than the limit gets here: between packets,
            // the connection waits for the client to take its answers instead.
            self.shared.stats.pending_limited();
            self.answer(item.msg_id, Reply::error(420, "FLOOD_WAIT_1"));
            return Ok(());
        }
        let ctx = CallContext {
            user_id: self.key.user_id,
            auth_key_id: self.key.key_id,
            session_id: self.session_id,
            connection_id: self.conn.id,
            msg_id: item.msg_id,
            layer,
            client,
            wants_updates,
            transport: self.conn.transport,
            obfuscated: self.conn.obfuscated,
            hub: self.shared.hub.clone(),
        };
        if let Some(id) = constructor_id(&query) {
            self.shared.stats.request_handled(id);
        }
        let reply = self.shared.handler.handle(&ctx, &query);
        if let Some(session) = self
            .shared
            .sessions
            .lock()
            .get(self.key.key_id, self.session_id)
        {
            session.mark_rpc(item.msg_id);
        }
        if reply == Reply::DropConnection {
            debug!(
                connection = self.conn.id,
                "handler dropped the connection instead of answering"
            );
            return Err(Stop::Drop);
        }
        if let Reply::Delayed { after, reply } = reply {
            let body = match *reply {
                Reply::Result(bytes) => Some(rpc_result_body(item.msg_id, bytes)),
                Reply::Error { code, message } => Some(rpc_result_body(
                    item.msg_id,
                    tl::enums::RpcError::Error(tl::types::RpcError {
                        error_code: code,
                        error_message: message,
                    })
                    .to_bytes(),
                )),
                Reply::DropConnection | Reply::Delayed { .. } => None,
            };
            if let Some(body) = body {
                let tx = self.conn.push_tx.clone();
                let push = Push::late_result(self.session_id, body);
                tokio::spawn(async move {
                    tokio::time::sleep(after).await;
                    let _ = tx.send(push).await;
                });
            }
            return Ok(());
        }
        self.answer(item.msg_id, reply);
        Ok(())
    }

    fn answer(&mut self, req_msg_id: i64, reply: Reply) {
        self.conn.pending += 1;
        match reply {
            Reply::Result(bytes) => self.rpc_result(req_msg_id, bytes),
            Reply::Error { code, message } => {
                let error = tl::enums::RpcError::Error(tl::types::RpcError {
                    error_code: code,
                    error_message: message,
                });
                self.rpc_result(req_msg_id, error.to_bytes());
            }
            Reply::DropConnection | Reply::Delayed { .. } => {}
        }
    }
}

/// The body of an `rpc_result` for `req_msg_id` (not gzip-packed).
fn rpc_result_body(req_msg_id: i64, result: Vec<u8>) -> Vec<u8> {
    let mut body = Vec::with_capacity(12 + result.len());
    RPC_RESULT.serialize(&mut body);
    req_msg_id.serialize(&mut body);
    body.extend_from_slice(&result);
    body
}

/// The rest of a buffer, unparsed: the `query:!X` of the `invoke*` wrappers.
struct Rest(Vec<u8>);

impl Deserializable for Rest {
    fn deserialize(buf: &mut Cursor<'_>) -> tl::deserialize::Result<Self> {
        let mut rest = Vec::new();
        buf.read_to_end(&mut rest)?;
        Ok(Self(rest))
    }
}

/// Deserializes the fields of `T` (after its constructor id). Truncated or inconsistent
/// fields close the connection.
fn parse_fields<T: Deserializable>(fields: &[u8]) -> Result<T, Stop> {
    T::deserialize(&mut Cursor::from_slice(fields)).map_err(|_| Stop::Close(CloseReason::Malformed))
}

/// Reads a boxed `Vector<long>` of message ids, enforcing the 8192-id limit.
fn read_ids(fields: &[u8]) -> Result<Vec<i64>, Stop> {
    let malformed = Stop::Close(CloseReason::Malformed);
    if read_i32(fields, 0).map(|id| id as u32) != Some(VECTOR) {
        return Err(malformed);
    }
    let count = read_i32(fields, 4)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or(Stop::Close(CloseReason::Malformed))?;
    if count > MAX_IDS {
        return Err(Stop::Close(CloseReason::Flood));
    }
    (0..count)
        .map(|i| read_i64(fields, 8 + 8 * i).ok_or(Stop::Close(CloseReason::Malformed)))
        .collect()
}

/// The messages of a `msg_container`; `None` if the container is invalid (code 64).
fn parse_container(top: Item<'_>) -> Result<Option<Vec<Item<'_>>>, Stop> {
    let body = top.body;
    let Some(count) = read_i32(body, 4).and_then(|n| usize::try_from(n).ok()) else {
        return Ok(None);
    };
    if count > MAX_CONTAINER_MESSAGES {
        return Err(Stop::Close(CloseReason::Flood));
    }
    let mut items = Vec::with_capacity(count);
    let mut at = 8;
    for _ in 0..count {
        let Some((item, next)) = read_message(body, at) else {
            return Ok(None);
        };
        let nested = matches!(constructor_id(item.body), Some(MSG_CONTAINER | MSG_COPY));
        if item.msg_id >= top.msg_id || nested {
            return Ok(None);
        }
        items.push(item);
        at = next;
    }
    if at != body.len() {
        return Ok(None);
    }
    Ok(Some(items))
}

/// The original message of a `msg_copy`, processed as if the wrapper were not there.
fn parse_copy(top: Item<'_>) -> Option<Item<'_>> {
    let (item, next) = read_message(top.body, 4)?;
    let valid = next == top.body.len()
        && item.msg_id < top.msg_id
        && !matches!(constructor_id(item.body), Some(MSG_CONTAINER | MSG_COPY));
    valid.then_some(item)
}

/// `message msg_id:long seqno:int bytes:int body:Object` at `at`; returns it and the offset
/// after it.
fn read_message(buf: &[u8], at: usize) -> Option<(Item<'_>, usize)> {
    let msg_id = read_i64(buf, at)?;
    let seqno = read_i32(buf, at + 8)?;
    let len = usize::try_from(read_i32(buf, at + 12)?).ok()?;
    if len % 4 != 0 || len < 4 {
        return None;
    }
    let start = at + 16;
    let body = buf.get(start..start.checked_add(len)?)?;
    Some((
        Item {
            msg_id,
            seqno,
            body,
        },
        start + len,
    ))
}

/// Unpacks the `packed_data` of a `gzip_packed`, refusing more than `limit` bytes.
fn gunzip(fields: &[u8], limit: usize) -> Option<Vec<u8>> {
    let packed = Vec::<u8>::deserialize(&mut Cursor::from_slice(fields)).ok()?;
    let mut unpacked = Vec::new();
    GzDecoder::new(&packed[..])
        .take(limit as u64 + 1)
        .read_to_end(&mut unpacked)
        .ok()?;
    (unpacked.len() <= limit && unpacked.len() % 4 == 0 && !unpacked.is_empty()).then_some(unpacked)
}

/// `gzip_packed` of `data`.
fn gzip(data: &[u8]) -> Option<Vec<u8>> {
    use std::io::Write;
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(data).ok()?;
    let packed = encoder.finish().ok()?;
    let mut body = GZIP_PACKED.to_bytes();
    packed.serialize(&mut body);
    Some(body)
}

/// Encrypts `messages` for the client's session: one message alone, several in containers of
/// at most 1024 messages and about 1 MB. Returns the payloads to frame.
pub(crate) fn seal(
    shared: &Shared,
    key: &KeyEntry,
    session_id: i64,
    messages: Vec<OutMsg>,
) -> Vec<Vec<u8>> {
    if messages.is_empty() {
        return Vec::new();
    }
    let now = unix_now();
    let salt = shared.salts.current(key.key_id, now);
    let mut payloads = Vec::new();
    let mut sessions = shared.sessions.lock();
    // A session the server forgot (or never created, e.g. a refused first message) still gets
    // well-formed seq_nos from a counter of this batch.
    let mut fallback_content = 0i32;
    let mut next_seqno = |content_related: bool| match sessions.get(key.key_id, session_id) {
        Some(session) => session.next_seqno(content_related),
        None => {
            let seqno = fallback_content * 2 + i32::from(content_related);
            fallback_content += i32::from(content_related);
            seqno
        }
    };

    let mut batch: Vec<OutMsg> = Vec::new();
    let mut batch_len = 0usize;
    let mut batches = Vec::new();
    for message in messages {
        let len = message.body.len() + 16;
        if !batch.is_empty()
            && (batch.len() == MAX_CONTAINER_MESSAGES || batch_len + len > MAX_OUT_CONTAINER)
        {
            batches.push(std::mem::take(&mut batch));
            batch_len = 0;
        }
        batch_len += len;
        batch.push(message);
    }
    batches.push(batch);

    for batch in batches {
        let mut plaintext = Vec::with_capacity(16 + 24 + batch_len_of(&batch));
        salt.serialize(&mut plaintext);
        session_id.serialize(&mut plaintext);
        if let [single] = &batch[..] {
            let msg_id = shared.msg_ids.next(single.response);
            write_message(
                &mut plaintext,
                msg_id,
                next_seqno(single.content_related),
                &single.body,
            );
        } else {
            let mut container = Vec::with_capacity(8 + batch_len_of(&batch));
            MSG_CONTAINER.serialize(&mut container);
            (batch.len() as i32).serialize(&mut container);
            for message in &batch {
                let msg_id = shared.msg_ids.next(message.response);
                write_message(
                    &mut container,
                    msg_id,
                    next_seqno(message.content_related),
                    &message.body,
                );
            }
            let msg_id = shared.msg_ids.next(false);
            write_message(&mut plaintext, msg_id, next_seqno(false), &container);
        }
        payloads.push(plaintext);
    }
    drop(sessions);
    payloads
        .into_iter()
        .map(|plaintext| crypto::encrypt_for_client(&key.key, key.key_id, plaintext))
        .collect()
}

fn batch_len_of(batch: &[OutMsg]) -> usize {
    batch.iter().map(|m| m.body.len() + 16).sum()
}

fn write_message(out: &mut Vec<u8>, msg_id: i64, seqno: i32, body: &[u8]) {
    msg_id.serialize(out);
    seqno.serialize(out);
    (body.len() as i32).serialize(out);
    out.extend_from_slice(body);
}

fn read_i64(buf: &[u8], at: usize) -> Option<i64> {
    let bytes = buf.get(at..at.checked_add(8)?)?;
    let mut array = [0u8; 8];
    array.copy_from_slice(bytes);
    Some(i64::from_le_bytes(array))
}

fn read_i32(buf: &[u8], at: usize) -> Option<i32> {
    let bytes = buf.get(at..at.checked_add(4)?)?;
    Some(i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

fn clamp_i32(value: i64) -> i32 {
    value.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
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
