//! The sandbox's MTProto server: loopback TCP, transport detection and framing, MTProto 2.0
//! encryption, and the updates hub that pushes `Updates` to live sessions.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use tgpay_sandbox::keys::KeyStore;
//! use tgpay_sandbox::rpc::{Basics, Reply, handler_fn};
//! use tgpay_sandbox::transport::Server;
//!
//! let keys = KeyStore::new();
//! let key = keys.generate(1000); // hand this key to the client
//! let basics = Basics::default();
//! let server = Server::bind("127.0.0.1:0", keys, handler_fn(move |_ctx, request| {
//!     basics.answer(request).unwrap_or_else(|| Reply::method_invalid(request))
//! }))
//! .await?;
//! println!("listening on {}", server.local_addr());
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use grammers_tl_types::{self as tl, Serializable};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio::sync::{mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::{Instant, sleep_until};
use tracing::{debug, info, warn};

use super::crypto::{self, Obfuscation};
pub use super::framing::TransportKind;
use super::framing::{self, Detected, Framing};
use super::keys::{KeyEntry, KeyStore};
use super::mtproto::{self, CloseReason, ConnMeta, OutMsg, Outcome};
use super::rpc::Handler;
use super::session::{MsgIdGen, Salts, Sessions};

/// Tunables of a [`Server`]: the limits that keep one client from taking the server down.
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

/// Connections being refused at once at most (each waits briefly for the client's first bytes
/// to answer -429 in its transport); past it, refused connections are closed at once.
const MAX_REFUSALS: usize = 256;
/// How long a refused connection is given to say which transport it speaks.
const REFUSAL_WAIT: Duration = Duration::from_secs(2);
/// How much is read from a socket at once.
const READ_CHUNK: usize = 16 * 1024;
/// Buffers larger than this are freed once empty, so an idle connection holds little memory.
const KEEP_BUFFER: usize = 4 * 1024;

/// The server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Binding the listening socket failed (address in use, not local, no permission…).
    #[error("cannot listen on the sandbox address: {0}")]
    Bind(#[source] std::io::Error),
}

/// A pushed `Updates` on its way to one session of a connection.
#[derive(Debug, Clone)]
pub(crate) struct Push {
    session_id: i64,
    body: Arc<Vec<u8>>,
    /// A late `rpc_result` for the session rather than updates.
    response: bool,
}

impl Push {
    /// A late `rpc_result` (its whole body) for `session_id` on this connection.
    pub(crate) fn late_result(session_id: i64, body: Vec<u8>) -> Self {
        Push {
            session_id,
            body: Arc::new(body),
            response: true,
        }
    }
}

struct Subscriber {
    connection_id: u64,
    session_id: i64,
    tx: mpsc::Sender<Push>,
}

/// Delivers `Updates` to every live session of a user, as content-related messages outside
/// `rpc_result` (the way Telegram pushes updates).
///
/// A session is live while its connection is open and after it made a query not wrapped in
/// `invokeWithoutUpdates`. Cheap to clone; usable from handlers and from any task.
#[derive(Clone, Default)]
pub struct UpdatesHub {
    users: Arc<Mutex<HashMap<i64, Vec<Subscriber>>>>,
    pushed: Arc<AtomicU64>,
}

impl UpdatesHub {
    /// A hub with no subscribers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues `updates` (a serialized `Updates`) for every live session of `user_id`; returns
    /// to how many sessions.
    pub fn push(&self, user_id: i64, updates: Vec<u8>) -> usize {
        self.deliver(user_id, None, updates)
    }

    /// Like [`push`](Self::push), but not to the session `session_id` (e.g. the one whose
    /// query produced the updates and gets them in its result).
    pub fn push_except(&self, user_id: i64, session_id: i64, updates: Vec<u8>) -> usize {
        self.deliver(user_id, Some(session_id), updates)
    }

    /// Serializes and pushes `updates`.
    pub fn push_updates(&self, user_id: i64, updates: &tl::enums::Updates) -> usize {
        self.push(user_id, updates.to_bytes())
    }

    /// How many live sessions `user_id` has.
    pub fn live_sessions(&self, user_id: i64) -> usize {
        let users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        users
            .get(&user_id)
            .map_or(0, |subs| subs.iter().filter(|s| !s.tx.is_closed()).count())
    }

    /// How many pushes were queued in total.
    pub fn pushed(&self) -> u64 {
        self.pushed.load(Ordering::Relaxed)
    }

    fn deliver(&self, user_id: i64, except: Option<i64>, updates: Vec<u8>) -> usize {
        let body = Arc::new(updates);
        let mut users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(subs) = users.get_mut(&user_id) else {
            return 0;
        };
        subs.retain(|s| !s.tx.is_closed());
        let mut delivered = 0;
        for sub in subs.iter().filter(|s| Some(s.session_id) != except) {
            let push = Push {
                session_id: sub.session_id,
                body: Arc::clone(&body),
                response: false,
            };
            match sub.tx.try_send(push) {
                Ok(()) => delivered += 1,
                Err(_) => warn!(
                    connection = sub.connection_id,
                    "updates queue full or closed; update dropped"
                ),
            }
        }
        if subs.is_empty() {
            users.remove(&user_id);
        }
        self.pushed.fetch_add(delivered as u64, Ordering::Relaxed);
        delivered
    }

    pub(crate) fn subscribe(
        &self,
        user_id: i64,
        connection_id: u64,
        session_id: i64,
        tx: mpsc::Sender<Push>,
    ) {
        let mut users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        users.entry(user_id).or_default().push(Subscriber {
            connection_id,
            session_id,
            tx,
        });
    }

    /// Moves the live sessions of a connection to `user_id`'s subscribers: after a sign-in (or
    /// sign-out) on that connection, pushed updates follow the user its key is now bound to.
    pub fn move_connection(&self, connection_id: u64, user_id: i64) {
        let mut users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        let mut moved = Vec::new();
        for subs in users.values_mut() {
            let (keep, take): (Vec<_>, Vec<_>) = std::mem::take(subs)
                .into_iter()
                .partition(|s| s.connection_id != connection_id);
            *subs = keep;
            moved.extend(take);
        }
        users.retain(|_, subs| !subs.is_empty());
        if !moved.is_empty() {
            users.entry(user_id).or_default().extend(moved);
        }
    }

    pub(crate) fn unsubscribe_session(&self, user_id: i64, session_id: i64) {
        self.remove(user_id, |s| s.session_id == session_id);
    }

    fn unsubscribe_connection(&self, user_id: i64, connection_id: u64) {
        self.remove(user_id, |s| s.connection_id == connection_id);
    }

    /// Removes matching subscribers, looking first under `user_id` and then under every user
    /// (a connection's sessions move when its key is bound to another user).
    fn remove(&self, user_id: i64, matches: impl Fn(&Subscriber) -> bool) {
        let mut users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        let found = users
            .get(&user_id)
            .is_some_and(|subs| subs.iter().any(&matches));
        for (id, subs) in users.iter_mut() {
            if !found || *id == user_id {
                subs.retain(|s| !matches(s));
            }
        }
        users.retain(|_, subs| !subs.is_empty());
    }
}

impl fmt::Debug for UpdatesHub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("UpdatesHub")
            .field("users", &users.len())
            .field("pushed", &self.pushed())
            .finish()
    }
}

/// Counters of a running server, for tests and diagnostics.
#[derive(Default)]
pub(crate) struct Stats {
    connections_accepted: AtomicU64,
    connections_open: AtomicU64,
    unknown_keys: AtomicU64,
    malformed: AtomicU64,
    dropped_by_handler: AtomicU64,
    frames: AtomicU64,
    messages: AtomicU64,
    containers: AtomicU64,
    gzip: AtomicU64,
    gzip_sent: AtomicU64,
    quick_acks: AtomicU64,
    refused: AtomicU64,
    oversized: AtomicU64,
    slow_senders: AtomicU64,
    slow_readers: AtomicU64,
    idle_closed: AtomicU64,
    too_deep: AtomicU64,
    pending_limited: AtomicU64,
    bad_msgs: Mutex<BTreeMap<i32, u64>>,
    received: Mutex<HashMap<u32, u64>>,
    requests: Mutex<HashMap<u32, u64>>,
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

    fn snapshot(&self) -> StatsSnapshot {
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
    shutdown: watch::Receiver<bool>,
    next_connection: AtomicU64,
    /// Open connections by IP address.
    peers: Mutex<HashMap<IpAddr, usize>>,
    /// Refused connections still waiting to be told so.
    refusing: AtomicUsize,
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

/// Feeds `chunks` (as successive reads) to a fresh connection of `shared`, without a socket,
/// and returns what it would have sent (de-obfuscated). For fuzzing.
#[cfg(feature = "fuzzing")]
pub(crate) fn feed(shared: &Arc<Shared>, chunks: &[&[u8]]) -> Vec<u8> {
    let (push_tx, _push_rx) = mpsc::channel(1);
    let mut conn = Connection {
        shared: Arc::clone(shared),
        meta: ConnMeta {
            id: shared.next_connection.fetch_add(1, Ordering::Relaxed),
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
    };
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

/// The sandbox's MTProto server.
#[derive(Debug)]
pub struct Server;

impl Server {
    /// Listens on `addr` (use a loopback address, port 0 for any) and serves MTProto clients
    /// whose keys are in `keys`, answering their queries with `handler`.
    pub async fn bind<H: Handler>(
        addr: impl ToSocketAddrs,
        keys: KeyStore,
        handler: H,
    ) -> Result<ServerHandle, ServerError> {
        Self::bind_with_config(addr, keys, handler, ServerConfig::default()).await
    }

    /// [`bind`](Self::bind) with non-default tunables.
    pub async fn bind_with_config<H: Handler>(
        addr: impl ToSocketAddrs,
        keys: KeyStore,
        handler: H,
        config: ServerConfig,
    ) -> Result<ServerHandle, ServerError> {
        let listener = TcpListener::bind(addr).await.map_err(ServerError::Bind)?;
        let local_addr = listener.local_addr().map_err(ServerError::Bind)?;
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let shared = Shared::new(
            keys,
            Box::new(handler),
            config,
            shutdown_rx,
            Salts::new(),
            None,
        );
        let hub = shared.hub.clone();
        info!(%local_addr, "sandbox MTProto server listening");
        if !local_addr.ip().is_loopback() {
            warn!(
                %local_addr,
                "the sandbox MTProto server listens on a non-loopback address: anyone who can \
                 reach it and has one of its auth keys (the connection line prints them all, \
                 guest keys included) has full access to that sandbox account"
            );
        }
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
        Ok(ServerHandle {
            local_addr,
            hub,
            shared,
            shutdown_tx,
            task: Some(task),
        })
    }
}

/// A running [`Server`]. Dropping it stops the server without waiting;
/// [`shutdown`](Self::shutdown) waits until every connection is closed.
pub struct ServerHandle {
    local_addr: SocketAddr,
    hub: UpdatesHub,
    shared: Arc<Shared>,
    shutdown_tx: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl ServerHandle {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The hub that pushes updates to live sessions.
    pub fn hub(&self) -> &UpdatesHub {
        &self.hub
    }

    /// The key store the server looks keys up in.
    pub fn keys(&self) -> &KeyStore {
        &self.shared.keys
    }

    /// The server's counters now.
    pub fn stats(&self) -> StatsSnapshot {
        self.shared.stats.snapshot()
    }

    /// Stops accepting, closes every connection and waits for them.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown_tx.send(true);
        if let Some(task) = self.task.take()
            && let Err(error) = task.await
        {
            warn!(%error, "sandbox accept loop ended abnormally");
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        let _ = self.shutdown_tx.send(true);
    }
}

impl fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerHandle")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut shutdown = shared.shutdown.clone();
    let mut connections = JoinSet::new();
    loop {
        if *shutdown.borrow_and_update() {
            break;
        }
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let id = shared.next_connection.fetch_add(1, Ordering::Relaxed);
                    shared.stats.connections_accepted.fetch_add(1, Ordering::Relaxed);
                    match OpenConnection::admit(&shared, peer.ip()) {
                        Ok(open) => {
                            debug!(connection = id, %peer, "connection accepted");
                            connections.spawn(serve(Arc::clone(&shared), stream, id, open));
                        }
                        Err(why) => {
                            debug!(connection = id, %peer, why, "connection refused (-429)");
                            shared.stats.refused.fetch_add(1, Ordering::Relaxed);
                            refuse(&shared, stream, &mut connections);
                        }
                    }
                }
                Err(error) => {
                    // Out of file descriptors and the like: back off a little.
                    warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}

/// Tells a connection over the limits that it is refused: the transport error -429 in the
/// transport it speaks (read from its first bytes, for a moment), then closes it. When many
/// are being refused at once, it is closed without a word.
fn refuse(shared: &Arc<Shared>, mut stream: TcpStream, tasks: &mut JoinSet<()>) {
    if shared.refusing.fetch_add(1, Ordering::Relaxed) >= MAX_REFUSALS {
        shared.refusing.fetch_sub(1, Ordering::Relaxed);
        return;
    }
    let shared = Arc::clone(shared);
    tasks.spawn(async move {
        let mut first = Vec::new();
        let refused = tokio::time::timeout(REFUSAL_WAIT, async {
            loop {
                match framing::detect(&first) {
                    Detected::Plain { kind, .. } => return Some((kind, None)),
                    Detected::Obfuscated if first.len() >= 64 => {
                        let init: [u8; 64] = first.get(..64)?.try_into().ok()?;
                        let (obfuscation, tag) = Obfuscation::from_init(&init);
                        let kind = framing::kind_from_obfuscated_tag(tag)?;
                        return Some((kind, Some(obfuscation)));
                    }
                    Detected::Obfuscated | Detected::NeedMore => {}
                }
                let mut chunk = [0u8; 64];
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => return None,
                    Ok(n) => first.extend_from_slice(&chunk[..n]),
                }
            }
        })
        .await;
        if let Ok(Some((kind, obfuscation))) = refused {
            let mut out = Vec::new();
            Framing::new(kind).encode_error(429, &mut out);
            if let Some(mut obfuscation) = obfuscation {
                // The client's own bytes after the 64-byte header went through the stream
                // too; the server's direction starts fresh.
                obfuscation.encrypt(&mut out);
            }
            let _ = tokio::time::timeout(REFUSAL_WAIT, stream.write_all(&out)).await;
            let _ = stream.shutdown().await;
        }
        shared.refusing.fetch_sub(1, Ordering::Relaxed);
    });
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

async fn serve(shared: Arc<Shared>, mut stream: TcpStream, id: u64, open: OpenConnection) {
    let _open = open;
    let _ = stream.set_nodelay(true);
    let mut shutdown = shared.shutdown.clone();
    if *shutdown.borrow_and_update() {
        return;
    }
    let (push_tx, mut push_rx) = mpsc::channel(shared.config.updates_queue_len.max(1));
    let mut conn = Connection {
        shared: Arc::clone(&shared),
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
    };
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
struct OpenConnection {
    shared: Arc<Shared>,
    peer: IpAddr,
}

impl OpenConnection {
    /// Counts a new connection from `peer`, or says which limit it would pass.
    fn admit(shared: &Arc<Shared>, peer: IpAddr) -> Result<Self, &'static str> {
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
