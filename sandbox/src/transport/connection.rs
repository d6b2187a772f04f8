//! One connection: reading and framing, de-obfuscation, handing messages to MTProto, writing
//! answers and pushed updates, and the limits that close it.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use tracing::debug;

use crate::crypto::{self, Obfuscation};
use crate::framing::{self, Detected, Framing, TransportKind};
use crate::hub::Push;
use crate::keys::KeyEntry;
use crate::mtproto::{self, CloseReason, ConnMeta, OutMsg, Outcome};
use crate::state::Shared;

use super::{KEEP_BUFFER, READ_CHUNK};

/// Feeds `chunks` (as successive reads) to a fresh connection of `shared`, without a socket,
/// and returns what it would have sent (de-obfuscated). For fuzzing.
#[cfg(feature = "fuzzing")]
pub(crate) fn feed(shared: &Arc<Shared>, chunks: &[&[u8]]) -> Vec<u8> {
    let (push_tx, _push_rx) = mpsc::channel(1);
    let id = shared.next_connection.fetch_add(1, Ordering::Relaxed);
    let mut conn = Connection::new(Arc::clone(shared), id, push_tx);
    let mut sent = Vec::new();
    let mut out = Vec::new();
    for chunk in chunks {
        let start = conn.buf.len();
        conn.buf.extend_from_slice(chunk);
        let mut flow = conn.process(start, &mut out);
        while flow == Flow::Continue && conn.backlog {
            conn.meta.pending = 0;
            flow = conn.process(conn.buf.len(), &mut out);
        }
        conn.meta.pending = 0;
        sent.append(&mut out);
        if flow != Flow::Continue {
            break;
        }
    }
    if let Some(key) = &conn.key {
        shared.hub.unsubscribe_connection(key.user_id, conn.meta.id);
    }
    sent
}

/// What to do with a connection after processing received bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Continue,
    /// Send what was produced, then close.
    Close,
    /// Close without sending anything.
    Drop,
}

/// The state of one connection.
struct Connection {
    shared: Arc<Shared>,
    meta: ConnMeta,
    framing: Option<Framing>,
    obfuscation: Option<Obfuscation>,
    key: Option<Arc<KeyEntry>>,
    /// Received bytes not yet processed (already de-obfuscated).
    buf: Vec<u8>,
    /// Complete packets are waiting in `buf` for the client to take the answers so far.
    backlog: bool,
}

/// Why the connection loop woke up on a timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Deadline {
    Idle,
    Frame,
    Disconnect,
}

pub(super) async fn serve(
    shared: Arc<Shared>,
    mut stream: TcpStream,
    id: u64,
    open: OpenConnection,
) {
    let _open = open;
    let _ = stream.set_nodelay(true);
    let mut shutdown = shared.shutdown.clone();
    if *shutdown.borrow_and_update() {
        return;
    }
    let (push_tx, mut push_rx) = mpsc::channel(shared.config.updates_queue_len.max(1));
    let mut conn = Connection::new(Arc::clone(&shared), id, push_tx);
    let config = &shared.config;
    let mut out = Vec::new();
    let mut idle_deadline = Instant::now() + config.idle_timeout;
    // The first packet must arrive in time too.
    let mut frame_deadline = Some(Instant::now() + config.frame_timeout);
    loop {
        let mut deadline = (idle_deadline, Deadline::Idle);
        if let Some(at) = frame_deadline
            && at < deadline.0
        {
            deadline = (at, Deadline::Frame);
        }
        if let Some(at) = conn.meta.disconnect_at.map(Instant::from_std)
            && at < deadline.0
        {
            deadline = (at, Deadline::Disconnect);
        }
        let flow = if conn.backlog {
            // Answers were written; go on with the packets already received.
            conn.process(conn.buf.len(), &mut out)
        } else {
            tokio::select! {
                _ = shutdown.changed() => Flow::Close,
                _ = sleep_until(deadline.0) => {
                    match deadline.1 {
                        Deadline::Idle => {
                            debug!(connection = id, "idle for too long; closing");
                            shared.stats.idle_closed.fetch_add(1, Ordering::Relaxed);
                        }
                        Deadline::Frame => {
                            debug!(
                                connection = id,
                                buffered = conn.buf.len(),
                                "a packet did not arrive whole in time; closing"
                            );
                            shared.stats.slow_senders.fetch_add(1, Ordering::Relaxed);
                        }
                        Deadline::Disconnect => debug!(connection = id, "ping_delay_disconnect"),
                    }
                    Flow::Close
                }
                ready = stream.readable() => match ready {
                    Err(_) => Flow::Drop,
                    Ok(()) => {
                        let start = conn.buf.len();
                        conn.buf.reserve(READ_CHUNK);
                        match stream.try_read_buf(&mut conn.buf) {
                            Ok(0) => Flow::Drop,
                            Ok(_) => {
                                let now = Instant::now();
                                idle_deadline = now + config.idle_timeout;
                                let before = conn.buf.len();
                                let flow = conn.process(start, &mut out);
                                // A partial packet left over starts its own clock; one still
                                // incomplete keeps the clock it had.
                                if conn.buf.is_empty() {
                                    frame_deadline = None;
                                } else if frame_deadline.is_none() || conn.buf.len() < before {
                                    frame_deadline = Some(now + config.frame_timeout);
                                }
                                flow
                            }
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Flow::Continue,
                            Err(_) => Flow::Drop,
                        }
                    }
                },
                Some(push) = push_rx.recv() => {
                    conn.on_push(push, &mut out);
                    Flow::Continue
                }
            }
        };
        if flow == Flow::Drop {
            break;
        }
        if !out.is_empty() {
            if let Some(obfuscation) = conn.obfuscation.as_mut() {
                obfuscation.encrypt(&mut out);
            }
            match tokio::time::timeout(config.write_timeout, stream.write_all(&out)).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => break,
                Err(_) => {
                    debug!(
                        connection = id,
                        "the client does not read its answers; closing"
                    );
                    shared.stats.slow_readers.fetch_add(1, Ordering::Relaxed);
                    break;
                }
            }
            out.clear();
            if out.capacity() > KEEP_BUFFER {
                out = Vec::new();
            }
        }
        conn.meta.pending = 0;
        if conn.buf.is_empty() && conn.buf.capacity() > KEEP_BUFFER {
            conn.buf = Vec::new();
        }
        if flow == Flow::Close {
            let _ = stream.shutdown().await;
            break;
        }
    }
    if let Some(key) = &conn.key {
        shared.hub.unsubscribe_connection(key.user_id, id);
    }
    debug!(connection = id, "connection closed");
}

/// Counts a connection as open, in all and for its IP address, for as long as it lives (also
/// if its task panics: a panicking handler). Its hub subscriptions go with its channel, which
/// the hub drops once closed.
pub(super) struct OpenConnection {
    shared: Arc<Shared>,
    peer: IpAddr,
}

impl OpenConnection {
    /// Counts a new connection from `peer`, or says which limit it would pass.
    pub(super) fn admit(shared: &Arc<Shared>, peer: IpAddr) -> Result<Self, &'static str> {
        let mut peers = shared.peers.lock().unwrap_or_else(PoisonError::into_inner);
        let open = shared.stats.connections_open.load(Ordering::Relaxed);
        if open >= shared.config.max_connections as u64 {
            return Err("too many connections");
        }
        let of_peer = peers.entry(peer).or_default();
        if *of_peer >= shared.config.max_connections_per_peer {
            return Err("too many connections from this address");
        }
        *of_peer += 1;
        shared
            .stats
            .connections_open
            .fetch_add(1, Ordering::Relaxed);
        Ok(Self {
            shared: Arc::clone(shared),
            peer,
        })
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        let mut peers = self
            .shared
            .peers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = peers.get_mut(&self.peer) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                peers.remove(&self.peer);
            }
        }
        self.shared
            .stats
            .connections_open
            .fetch_sub(1, Ordering::Relaxed);
    }
}

impl Connection {
    /// A connection that has received nothing yet: transport not detected (`Full` until it
    /// is), no key, nothing pending.
    fn new(shared: Arc<Shared>, id: u64, push_tx: mpsc::Sender<Push>) -> Self {
        Connection {
            shared,
            meta: ConnMeta {
                id,
                transport: TransportKind::Full,
                obfuscated: false,
                push_tx,
                subscribed: HashSet::new(),
                disconnect_at: None,
                pending: 0,
            },
            framing: None,
            obfuscation: None,
            key: None,
            buf: Vec::new(),
            backlog: false,
        }
    }

    /// Handles the bytes received from `buf[new..]` on: de-obfuscation, transport detection,
    /// framing, and every complete packet, until the connection has as many answers waiting
    /// as it may (then `backlog` is set and the rest waits in `buf`). Output (already framed,
    /// not yet obfuscated) goes to `out`.
    fn process(&mut self, new: usize, out: &mut Vec<u8>) -> Flow {
        if let Some(obfuscation) = self.obfuscation.as_mut()
            && let Some(fresh) = self.buf.get_mut(new..)
        {
            obfuscation.decrypt(fresh);
        }
        self.backlog = false;
        if self.framing.is_none() {
            match self.detect() {
                Some(Flow::Continue) => {}
                Some(flow) => return flow,
                None => return Flow::Continue,
            }
        }
        let mut buf = std::mem::take(&mut self.buf);
        let mut at = 0;
        let max_pending = self.shared.config.max_pending_requests.max(1);
        let flow = loop {
            let Some(framing) = self.framing.as_mut() else {
                break Flow::Close;
            };
            if self.meta.pending >= max_pending {
                self.backlog = true;
                break Flow::Continue;
            }
            match framing.decode(&buf[at..], self.shared.config.max_payload_len) {
                Ok(None) => break Flow::Continue,
                Ok(Some(frame)) => {
                    let (start, end) = (at + frame.start, at + frame.end);
                    at += frame.consumed;
                    let flow = self.on_frame(&mut buf[start..end], frame.quick_ack, out);
                    if flow != Flow::Continue {
                        break flow;
                    }
                }
                Err(error) => {
                    debug!(connection = self.meta.id, %error, "malformed packet");
                    if matches!(error, framing::FrameError::TooLong { .. }) {
                        self.shared.stats.oversized.fetch_add(1, Ordering::Relaxed);
                    }
                    self.shared.stats.malformed.fetch_add(1, Ordering::Relaxed);
                    break Flow::Close;
                }
            }
        };
        buf.drain(..at);
        self.buf = buf;
        flow
    }

    /// Detects the transport once enough bytes arrived. `None`: need more bytes.
    fn detect(&mut self) -> Option<Flow> {
        match framing::detect(&self.buf) {
            Detected::NeedMore => None,
            Detected::Plain { kind, tag_len } => {
                self.buf.drain(..tag_len);
                self.start(kind, false);
                Some(Flow::Continue)
            }
            Detected::Obfuscated => {
                let init: [u8; 64] = self.buf.get(..64)?.try_into().ok()?;
                let (mut obfuscation, tag) = Obfuscation::from_init(&init);
                let Some(kind) = framing::kind_from_obfuscated_tag(tag) else {
                    debug!(connection = self.meta.id, "unknown transport");
                    self.shared.stats.malformed.fetch_add(1, Ordering::Relaxed);
                    return Some(Flow::Drop);
                };
                self.buf.drain(..64);
                obfuscation.decrypt(&mut self.buf);
                self.obfuscation = Some(obfuscation);
                self.start(kind, true);
                Some(Flow::Continue)
            }
        }
    }

    fn start(&mut self, kind: TransportKind, obfuscated: bool) {
        debug!(connection = self.meta.id, %kind, obfuscated, "transport detected");
        self.framing = Some(Framing::new(kind));
        self.meta.transport = kind;
        self.meta.obfuscated = obfuscated;
    }

    /// Handles one packet payload.
    fn on_frame(&mut self, payload: &mut [u8], quick_ack: bool, out: &mut Vec<u8>) -> Flow {
        let shared = Arc::clone(&self.shared);
        shared.stats.frames.fetch_add(1, Ordering::Relaxed);
        let Some(key_id) = payload
            .get(..8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(i64::from_le_bytes)
        else {
            return self.malformed("packet shorter than an auth_key_id");
        };
        let key = match &self.key {
            Some(key) if key.key_id == key_id => Arc::clone(key),
            Some(_) => return self.malformed("auth_key_id changed within a connection"),
            None => match shared.keys.get(key_id).filter(|_| key_id != 0) {
                Some(key) => {
                    self.key = Some(Arc::clone(&key));
                    key
                }
                None => {
                    // Unknown key, or an unencrypted message (no key exchange here).
                    debug!(connection = self.meta.id, key_id, "unknown auth key");
                    shared.stats.unknown_keys.fetch_add(1, Ordering::Relaxed);
                    self.transport_error(404, out);
                    return Flow::Close;
                }
            },
        };

        // auth_key_id (8) + msg_key (16) + encrypted data (a multiple of 16; the padded
        // intermediate transport may add up to 15 bytes of its own padding after it).
        let mut encrypted_len = payload.len().saturating_sub(24);
        if self.meta.transport == TransportKind::PaddedIntermediate {
            encrypted_len -= encrypted_len % 16;
        }
        if encrypted_len < 48 || encrypted_len % 16 != 0 || 24 + encrypted_len > payload.len() {
            return self.malformed("encrypted data has an impossible length");
        }
        let mut msg_key = [0u8; 16];
        msg_key.copy_from_slice(&payload[8..24]);
        let data = &mut payload[24..24 + encrypted_len];
        let token = match crypto::decrypt_from_client(&key.key, &msg_key, data) {
            Ok(token) => token,
            Err(error) => return self.malformed(&error.to_string()),
        };
        if quick_ack {
            if let Some(framing) = self.framing.as_mut() {
                framing.encode_quick_ack(token, out);
            }
            shared.stats.quick_acks.fetch_add(1, Ordering::Relaxed);
        }

        match mtproto::process(&shared, &key, &mut self.meta, data) {
            Outcome::Send {
                session_id,
                messages,
            } => {
                self.send(&key, session_id, messages, out);
                Flow::Continue
            }
            Outcome::Close(CloseReason::Malformed) => self.malformed("invalid message"),
            Outcome::Close(CloseReason::Flood) => {
                debug!(
                    connection = self.meta.id,
                    "container or service message limit exceeded"
                );
                shared.stats.malformed.fetch_add(1, Ordering::Relaxed);
                self.transport_error(429, out);
                Flow::Close
            }
            Outcome::Drop => {
                shared
                    .stats
                    .dropped_by_handler
                    .fetch_add(1, Ordering::Relaxed);
                Flow::Drop
            }
        }
    }

    fn malformed(&self, what: &str) -> Flow {
        debug!(connection = self.meta.id, what, "closing connection");
        self.shared.stats.malformed.fetch_add(1, Ordering::Relaxed);
        Flow::Close
    }

    fn transport_error(&mut self, code: i32, out: &mut Vec<u8>) {
        if let Some(framing) = self.framing.as_mut() {
            framing.encode_error(code, out);
        }
    }

    fn send(&mut self, key: &KeyEntry, session_id: i64, messages: Vec<OutMsg>, out: &mut Vec<u8>) {
        let payloads = mtproto::seal(&self.shared, key, session_id, messages);
        if let Some(framing) = self.framing.as_mut() {
            for payload in payloads {
                framing.encode(&payload, out);
            }
        }
    }

    fn on_push(&mut self, push: Push, out: &mut Vec<u8>) {
        let Some(key) = self.key.clone() else {
            return;
        };
        let body = Arc::try_unwrap(push.body).unwrap_or_else(|shared| (*shared).clone());
        if push.response {
            self.send(&key, push.session_id, vec![OutMsg::late_result(body)], out);
            return;
        }
        if !self.meta.subscribed.contains(&push.session_id) {
            return;
        }
        self.send(&key, push.session_id, vec![OutMsg::update(body)], out);
    }
}
