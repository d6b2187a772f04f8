//! Entry points of the sandbox's cargo-fuzz targets in `fuzz/` (feature `fuzzing`): scenario
//! files, and the server's real code without sockets: the transport's byte handling
//! ([`sandbox_stream`]), the message rules and the world's request handling
//! ([`sandbox_message`]), and the web pages ([`sandbox_http`]). They share one sandbox state
//! with fixed keys, a fixed salt secret and a fixed clock ([`NOW`]), so that a seed made once
//! stays valid. Each must return without panicking, whatever the bytes.

use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use crate::keys::{AuthKey, KeyEntry, KeyStore};
use crate::scenario::{ALICE, Scenario};
use crate::state::{ServerConfig, Shared};
use crate::world::World;

/// The unix time the sandbox's message rules see in the sandbox entry points.
pub const NOW: i64 = 1_800_000_000;

/// A scenario file: TOML, or JSON when it starts with `{`. One that parses is checked, and a
/// world is made from it (without 2FA passwords, whose key derivation is slow on purpose).
pub fn scenario_file(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let parsed = if text.trim_start().starts_with('{') {
        Scenario::from_json(&text)
    } else {
        Scenario::from_toml(&text)
    };
    let Ok(mut scenario) = parsed else {
        return;
    };
    if scenario.check().is_err() {
        return;
    }
    for user in &mut scenario.users {
        user.password = None;
    }
    let _ = World::new(&scenario, "http://127.0.0.1:1");
}

/// The auth key the sandbox entry points know for Alice: fixed, so seeds can be encrypted.
pub fn fuzz_key() -> AuthKey {
    let mut bytes = [0u8; 256];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(151).wrapping_add(7);
    }
    AuthKey::from_bytes(bytes)
}

/// The server salt valid at [`NOW`] for [`fuzz_key`].
pub fn fuzz_salt() -> i64 {
    let sandbox = sandbox();
    sandbox.shared.salts.current(sandbox.key.key_id, NOW)
}

/// How many times Alice called `method` in the sandbox entry points' world since it was last
/// made anew (for checking that seeds reach the world).
pub fn world_calls(method: &str) -> u64 {
    let world = Arc::clone(&sandbox().world);
    world
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .call_count(ALICE, method)
}

struct FuzzSandbox {
    world: Arc<Mutex<World>>,
    shared: Arc<Shared>,
    key: Arc<KeyEntry>,
    runs: u64,
    _shutdown: tokio::sync::watch::Sender<bool>,
}

/// Runs before a world's state grows large: the world is made anew every so many inputs.
const RUNS_PER_WORLD: u64 = 20_000;

fn sandbox() -> MutexGuard<'static, FuzzSandbox> {
    static SANDBOX: OnceLock<Mutex<FuzzSandbox>> = OnceLock::new();
    let mut guard = SANDBOX
        .get_or_init(|| {
            let world = Arc::new(Mutex::new(new_world()));
            let keys = KeyStore::new();
            let key = fuzz_key();
            let _ = keys.register(ALICE, key.clone());
            let entry = keys.get(key.key_id()).unwrap_or_else(|| {
                Arc::new(KeyEntry {
                    key_id: key.key_id(),
                    user_id: ALICE,
                    key,
                })
            });
            let (shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
            let handler = crate::handle::world_handler(Arc::clone(&world), keys.clone());
            let shared = Shared::new(
                keys,
                Box::new(handler),
                ServerConfig::default(),
                shutdown_rx,
                crate::session::Salts::with_secret([42; 32]),
                Some(NOW),
            );
            Mutex::new(FuzzSandbox {
                world,
                shared,
                key: entry,
                runs: 0,
                _shutdown: shutdown,
            })
        })
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    guard.runs += 1;
    if guard.runs % RUNS_PER_WORLD == 0 {
        let fresh = new_world();
        *guard.world.lock().unwrap_or_else(PoisonError::into_inner) = fresh;
    }
    guard
}

fn new_world() -> World {
    let mut scenario = Scenario::default_world();
    // Alice keeps a password (so 2FA requests reach the SRP code) with a cheap record.
    for user in &mut scenario.users {
        if user.id != ALICE {
            user.password = None;
        }
    }
    match World::new(&scenario, "http://127.0.0.1:1") {
        Ok(world) => world,
        Err(_) => World::new(&Scenario::default_world(), "http://127.0.0.1:1")
            .unwrap_or_else(|_| unreachable_world()),
    }
}

#[cold]
fn unreachable_world() -> World {
    // The default world is checked by the sandbox's own tests; an empty scenario cannot fail.
    match World::new(&Scenario::default(), "http://127.0.0.1:1") {
        Ok(world) => world,
        Err(error) => panic!("the empty world cannot be made: {error}"),
    }
}

/// Raw bytes a client sends on a new connection to the sandbox's MTProto server (any
/// transport, plain or obfuscated). The first byte sets how the rest is cut into reads.
pub fn sandbox_stream(data: &[u8]) {
    let Some((&cut, rest)) = data.split_first() else {
        return;
    };
    let size = usize::from(cut) * 16 + 1;
    let chunks: Vec<&[u8]> = rest.chunks(size).collect();
    let shared = Arc::clone(&sandbox().shared);
    let _ = crate::transport::feed(&shared, &chunks);
}

/// A decrypted MTProto message from Alice's key, after its salt: `session_id`, `msg_id`,
/// `seqno`, length, the message (a query, a container, a service message…) and padding. The
/// server salt valid at [`NOW`] is put in front.
pub fn sandbox_message(data: &[u8]) {
    let guard = sandbox();
    let shared = Arc::clone(&guard.shared);
    let key = Arc::clone(&guard.key);
    drop(guard);
    let mut plaintext = shared.salts.current(key.key_id, NOW).to_le_bytes().to_vec();
    plaintext.extend_from_slice(data);
    crate::mtproto::fuzz_process(&shared, &key, &plaintext);
}

/// An HTTP/1.1 request (or several) to the sandbox's web pages.
pub fn sandbox_http(data: &[u8]) {
    static RUNTIME: OnceLock<Option<tokio::runtime::Runtime>> = OnceLock::new();
    let Some(runtime) = RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()
        })
        .as_ref()
    else {
        return;
    };
    let world = Arc::clone(&sandbox().world);
    let config = crate::web::WebConfig::default();
    let app = crate::web::router(world, Arc::new(|_| {}), &config);
    runtime.block_on(async move {
        use hyper_util::rt::{TokioIo, TokioTimer};
        use hyper_util::service::TowerToHyperService;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let (mut client, server) = tokio::io::duplex(256 * 1024);
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .serve_connection(TokioIo::new(server), TowerToHyperService::new(app));
        let served = tokio::spawn(connection);
        let talk = async {
            let _ = client.write_all(data).await;
            let _ = client.shutdown().await;
            let mut answer = Vec::new();
            let _ = client.read_to_end(&mut answer).await;
        };
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), talk).await;
        served.abort();
    });
}
