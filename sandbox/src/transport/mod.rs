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

mod connection;

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tracing::{debug, info, warn};

use crate::crypto::Obfuscation;
pub use crate::framing::TransportKind;
use crate::framing::{self, Detected, Framing};
pub use crate::hub::UpdatesHub;
use crate::keys::KeyStore;
use crate::rpc::Handler;
use crate::session::Salts;
use crate::state::Shared;
pub use crate::state::{ServerConfig, StatsSnapshot};
#[cfg(feature = "fuzzing")]
pub(crate) use connection::feed;
use connection::{OpenConnection, serve};

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
