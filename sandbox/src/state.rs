//! What the accept loop and every connection share: the server's configuration and limits,
//! its counters, the key store, the handler, the hub, sessions and salts.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;

use crate::hub::UpdatesHub;
use crate::keys::KeyStore;
use crate::rpc::Handler;
use crate::session::{MsgIdGen, Salts, Sessions};

/// Tunables of a [`Server`](crate::transport::Server): the limits that keep one client from taking the server down.
///
/// Every limit closes only the connection that passes it (or refuses a new one), logs why at
/// `debug` level, and counts it in [`StatsSnapshot`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Largest transport packet payload accepted; a longer announced length closes the
    /// connection as soon as the length has arrived, before any of the payload is buffered.
    /// Telegram's own limit is about 1 MiB.
    pub max_payload_len: usize,
    /// Largest size a `gzip_packed` may unpack to.
    pub max_unpacked_len: usize,
    /// A connection that sends nothing for this long is closed.
    pub idle_timeout: Duration,
    /// A packet must arrive whole within this time of its first byte (and the first packet
    /// within this time of connecting): a slow sender does not hold a buffer for long.
    pub frame_timeout: Duration,
    /// A client must take what the server sends within this time, or its connection is
    /// closed: a client that sends queries but never reads the answers holds nothing for long.
    pub write_timeout: Duration,
    /// Open connections at most; one more is answered with the transport error -429
    /// ("transport flood") and closed.
    pub max_connections: usize,
    /// Open connections from one IP address at most; one more gets -429 too.
    pub max_connections_per_peer: usize,
    /// Queries of one connection whose answers are not yet written at most: past it, the
    /// connection stops reading until the client has taken the answers. Queries past it in
    /// one container are answered `420 FLOOD_WAIT_1` without being run.
    pub max_pending_requests: usize,
    /// Pushed updates queued per connection; beyond, updates for it are dropped (the client
    /// catches up with `updates.getDifference`, as with Telegram).
    pub updates_queue_len: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            max_payload_len: 2 * 1024 * 1024,
            max_unpacked_len: 8 * 1024 * 1024,
            idle_timeout: Duration::from_secs(600),
            frame_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
            max_connections: 16_384,
            max_connections_per_peer: 1024,
            max_pending_requests: 128,
            updates_queue_len: 1024,
        }
    }
}

impl ServerConfig {
    /// Sets [`max_connections`](Self::max_connections).
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n;
        self
    }

    /// Sets [`max_connections_per_peer`](Self::max_connections_per_peer).
    pub fn max_connections_per_peer(mut self, n: usize) -> Self {
        self.max_connections_per_peer = n;
        self
    }

    /// Sets [`max_payload_len`](Self::max_payload_len).
    pub fn max_payload_len(mut self, n: usize) -> Self {
        self.max_payload_len = n;
        self
    }

    /// Sets [`idle_timeout`](Self::idle_timeout).
    pub fn idle_timeout(mut self, t: Duration) -> Self {
        self.idle_timeout = t;
        self
    }

    /// Sets [`frame_timeout`](Self::frame_timeout).
    pub fn frame_timeout(mut self, t: Duration) -> Self {
        self.frame_timeout = t;
        self
    }

    /// Sets [`write_timeout`](Self::write_timeout).
    pub fn write_timeout(mut self, t: Duration) -> Self {
        self.write_timeout = t;
        self
    }

    /// Sets [`max_pending_requests`](Self::max_pending_requests).
    pub fn max_pending_requests(mut self, n: usize) -> Self {
        self.max_pending_requests = n;
        self
    }
}

/// Counters of a running server, for tests and diagnostics.
#[derive(Default)]
pub(crate) struct Stats {
    pub(crate) connections_accepted: AtomicU64,
    pub(crate) connections_open: AtomicU64,
    pub(crate) unknown_keys: AtomicU64,
    pub(crate) malformed: AtomicU64,
    pub(crate) dropped_by_handler: AtomicU64,
    pub(crate) frames: AtomicU64,
    pub(crate) messages: AtomicU64,
    pub(crate) containers: AtomicU64,
    pub(crate) gzip: AtomicU64,
    pub(crate) gzip_sent: AtomicU64,
    pub(crate) quick_acks: AtomicU64,
    pub(crate) refused: AtomicU64,
    pub(crate) oversized: AtomicU64,
    pub(crate) slow_senders: AtomicU64,
    pub(crate) slow_readers: AtomicU64,
    pub(crate) idle_closed: AtomicU64,
    pub(crate) too_deep: AtomicU64,
    pub(crate) pending_limited: AtomicU64,
    pub(crate) bad_msgs: Mutex<BTreeMap<i32, u64>>,
    pub(crate) received: Mutex<HashMap<u32, u64>>,
    pub(crate) requests: Mutex<HashMap<u32, u64>>,
}

impl Stats {
    pub(crate) fn message_received(&self) {
        self.messages.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn container_received(&self) {
        self.containers.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn gzip_received(&self) {
        self.gzip.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn too_deep(&self) {
        self.too_deep.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn pending_limited(&self) {
        self.pending_limited.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn gzip_sent(&self) {
        self.gzip_sent.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn bad_msg(&self, code: i32) {
        *self
            .bad_msgs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(code)
            .or_default() += 1;
    }

    pub(crate) fn constructor_received(&self, id: u32) {
        *self
            .received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(id)
            .or_default() += 1;
    }

    pub(crate) fn request_handled(&self, id: u32) {
        *self
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(id)
            .or_default() += 1;
    }

    pub(crate) fn snapshot(&self) -> StatsSnapshot {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        StatsSnapshot {
            connections_accepted: load(&self.connections_accepted),
            connections_open: load(&self.connections_open),
            unknown_keys: load(&self.unknown_keys),
            malformed: load(&self.malformed),
            dropped_by_handler: load(&self.dropped_by_handler),
            frames: load(&self.frames),
            messages: load(&self.messages),
            containers: load(&self.containers),
            gzip_packed: load(&self.gzip),
            gzip_packed_sent: load(&self.gzip_sent),
            quick_acks: load(&self.quick_acks),
            refused_connections: load(&self.refused),
            oversized_frames: load(&self.oversized),
            slow_senders: load(&self.slow_senders),
            slow_readers: load(&self.slow_readers),
            idle_closed: load(&self.idle_closed),
            too_deep: load(&self.too_deep),
            pending_limited: load(&self.pending_limited),
            bad_msg_notifications: self
                .bad_msgs
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
            received: self
                .received
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
            requests: self
                .requests
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        }
    }
}

/// A copy of a server's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// TCP connections accepted.
    pub connections_accepted: u64,
    /// TCP connections currently open.
    pub connections_open: u64,
    /// Connections refused with the transport error -404 (unknown auth key or an
    /// unencrypted message: the sandbox does no key exchange).
    pub unknown_keys: u64,
    /// Connections closed because of a malformed or hostile packet.
    pub malformed: u64,
    /// Connections closed by a handler's [`Reply::DropConnection`](super::rpc::Reply).
    pub dropped_by_handler: u64,
    /// Transport packets received.
    pub frames: u64,
    /// Encrypted messages received (a container counts once).
    pub messages: u64,
    /// `msg_container`s received.
    pub containers: u64,
    /// `gzip_packed` messages received.
    pub gzip_packed: u64,
    /// Results sent as `gzip_packed`.
    pub gzip_packed_sent: u64,
    /// Quick ACKs sent.
    pub quick_acks: u64,
    /// Connections refused with -429: too many open, in all or from one IP address.
    pub refused_connections: u64,
    /// Connections closed for announcing a packet longer than the limit.
    pub oversized_frames: u64,
    /// Connections closed because a packet did not arrive whole in time.
    pub slow_senders: u64,
    /// Connections closed because the client did not take the server's bytes in time.
    pub slow_readers: u64,
    /// Connections closed after sending nothing for the idle timeout.
    pub idle_closed: u64,
    /// Queries refused with `400 INPUT_TOO_DEEP` (TL values nested past
    /// [`MAX_DEPTH`](tgpay::tl::nesting::MAX_DEPTH)).
    pub too_deep: u64,
    /// Queries answered `420 FLOOD_WAIT_1` because their connection had too many answers
    /// waiting to be written.
    pub pending_limited: u64,
    /// `bad_msg_notification` / `bad_server_salt` sent, by error code.
    pub bad_msg_notifications: BTreeMap<i32, u64>,
    /// Messages received by constructor id (service messages and wrapped queries).
    pub received: HashMap<u32, u64>,
    /// Queries handed to the handler, by constructor id of the unwrapped function.
    pub requests: HashMap<u32, u64>,
}

impl StatsSnapshot {
    /// How many queries with this constructor id reached the handler.
    pub fn requests_of(&self, constructor_id: u32) -> u64 {
        self.requests.get(&constructor_id).copied().unwrap_or(0)
    }

    /// How many notifications with this error code were sent.
    pub fn bad_msgs_of(&self, code: i32) -> u64 {
        self.bad_msg_notifications.get(&code).copied().unwrap_or(0)
    }
}

/// State shared by the accept loop and every connection.
pub(crate) struct Shared {
    pub(crate) keys: KeyStore,
    pub(crate) handler: Box<dyn Handler>,
    pub(crate) hub: UpdatesHub,
    pub(crate) sessions: Sessions,
    pub(crate) salts: Salts,
    pub(crate) msg_ids: MsgIdGen,
    pub(crate) stats: Stats,
    pub(crate) config: ServerConfig,
    pub(crate) shutdown: watch::Receiver<bool>,
    pub(crate) next_connection: AtomicU64,
    /// Open connections by IP address.
    pub(crate) peers: Mutex<HashMap<IpAddr, usize>>,
    /// Refused connections still waiting to be told so.
    pub(crate) refusing: AtomicUsize,
    /// The unix time the message rules use, when fixed (fuzzing); the clock otherwise.
    pub(crate) fixed_now: Option<i64>,
}

impl Shared {
    pub(crate) fn new(
        keys: KeyStore,
        handler: Box<dyn Handler>,
        config: ServerConfig,
        shutdown: watch::Receiver<bool>,
        salts: Salts,
        fixed_now: Option<i64>,
    ) -> Arc<Self> {
        Arc::new(Self {
            keys,
            handler,
            hub: UpdatesHub::new(),
            sessions: Sessions::default(),
            salts,
            msg_ids: MsgIdGen::default(),
            stats: Stats::default(),
            config,
            shutdown,
            next_connection: AtomicU64::new(1),
            peers: Mutex::new(HashMap::new()),
            refusing: AtomicUsize::new(0),
            fixed_now,
        })
    }
}
