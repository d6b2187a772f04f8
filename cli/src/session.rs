//! A grammers session kept in a JSON file: [`FileSession`].
//!
//! The state lives in memory, like grammers' `MemorySession`, and is written to the file
//! whenever something that matters changes:
//!
//! - an auth key is bound to a DC (the first connection, or a login on a pre-shared key),
//!   or a DC's address changes;
//! - the home DC changes (a `PHONE_MIGRATE_X` / `USER_MIGRATE_X` during login);
//! - the logged-in user is cached (after `sign_in` / `check_password`), so
//!   `Client::is_authorized` and `Client::get_me` work after a restart without logging in
//!   again;
//! - the whole updates state is replaced (`UpdateState::All`: after a login, and when the
//!   client synchronizes it, e.g. grammers' `UpdatesReceiver::sync_update_state`).
//!
//! Partial updates-state changes (`pts`, `qts`, one channel's `pts`) are written along with
//! the next change above, by [`FileSession::save`], and when the session is dropped. A state
//! slightly behind on disk is harmless: the client fetches the difference from the older
//! state.
//!
//! Other peers (bots, chats, channels) are cached in memory only, as the
//! [`Session`] contract allows; the self user is always kept.
//!
//! Every write is atomic: the new content goes to a temporary file in the same directory
//! ([`tempfile`], mode `0600` on Unix), which is flushed to disk and renamed over the session
//! file, so a crash leaves either the old file or the new one, never a mix. The file holds auth
//! keys, which are as good as the account's password: a file readable by other users is
//! restricted to `0600` when opened. Keys never appear in `Debug` output, errors or logs; the
//! session's own copies (its state, the file's bytes) are zeroed when dropped.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use grammers_client::Client;
//! use grammers_mtsender::SenderPool;
//! use tgpay_cli::session::FileSession;
//!
//! // A missing file starts a fresh session on Telegram's production DCs.
//! let session = Arc::new(FileSession::open("tgpay.session")?);
//! let pool = SenderPool::new(Arc::clone(&session), 12345);
//! let client = Client::new(pool.handle);
//! tokio::spawn(pool.runner.run());
//! if !client.is_authorized().await? {
//!     // request_login_code, sign_in, check_password: the session file follows along.
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # File format
//!
//! JSON, with a format version. The DC addresses and the updates state use grammers-session's
//! own serde representation (feature `serde`); the auth keys are hex, encoded and decoded in
//! buffers that are zeroed when dropped (grammers' `serde_with` hex leaves unzeroed heap copies,
//! so it is not used for them). Of the peers, only the logged-in user is kept:
//!
//! ```json
//! {
//!   "version": 1,
//!   "home_dc": 2,
//!   "dc_options": [
//!     { "id": 2, "ipv4": "149.154.167.41:443", "ipv6": "[2001:67c:4e8:f002::a]:443",
//!       "auth_key": "…512 hex characters…" }
//!   ],
//!   "self_user": { "id": 1000002, "access_hash": 4242, "bot": false },
//!   "updates_state": { "pts": 3, "qts": 0, "date": 1700000000, "seq": 0, "channels": [] }
//! }
//! ```
//!
//! `auth_key` is `null` for DCs without a key; `self_user` is `null` before login.

use std::fmt;
use std::fs;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use grammers_session::types::{DcOption, PeerId, PeerInfo, UpdateState, UpdatesState};
use grammers_session::{BoxFuture, Session, SessionData};
use zeroize::{Zeroize, Zeroizing};

/// The version of the file format this module writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Length in bytes of an MTProto authorization key.
const AUTH_KEY_LEN: usize = 256;

/// What is wrong with a session file's content. Carries no part of the content itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CorruptReason {
    /// The file is not valid JSON (for instance, cut short).
    Syntax {
        /// Line of the first error (1-based).
        line: usize,
        /// Column of the first error (1-based).
        column: usize,
    },
    /// The JSON does not have the shape of a session (a field missing or of the wrong type,
    /// an auth key that is not 512 hex characters, an address that does not parse).
    Data {
        /// Line of the first error (1-based).
        line: usize,
        /// Column of the first error (1-based).
        column: usize,
    },
    /// The file is empty.
    Empty,
    /// The home DC has no entry in `dc_options`.
    HomeDcMissing,
    /// Two entries of `dc_options` have the same id.
    DuplicateDc,
    /// `self_user.id` is not a valid user id.
    SelfUserInvalid,
}

impl fmt::Display for CorruptReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax { line, column } => {
                write!(f, "not valid JSON at line {line}, column {column}")
            }
            Self::Data { line, column } => write!(
                f,
                "not a session at line {line}, column {column} (a field is missing or invalid)"
            ),
            Self::Empty => f.write_str("the file is empty"),
            Self::HomeDcMissing => f.write_str("the home DC is not among the DC options"),
            Self::DuplicateDc => f.write_str("a DC appears twice among the DC options"),
            Self::SelfUserInvalid => f.write_str("the self user's id is invalid"),
        }
    }
}

/// Why a session file could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The file exists but could not be read.
    #[error(
        "cannot read the session file {}: {source}; check its permissions, or delete it and \
         log in again",
        path.display()
    )]
    Read {
        /// The session file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The file's content is not a session.
    #[error(
        "the session file {} is corrupt ({reason}); delete it and log in again",
        path.display()
    )]
    Corrupt {
        /// The session file.
        path: PathBuf,
        /// What is wrong with it.
        reason: CorruptReason,
    },
    /// The file was written by a newer version of tgpay.
    #[error(
        "the session file {} has format version {found}, but this tgpay reads version \
         {supported}; upgrade tgpay, or delete the file and log in again",
        path.display()
    )]
    UnsupportedVersion {
        /// The session file.
        path: PathBuf,
        /// The version in the file.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },
    /// The file could not be written (the in-memory session is up to date).
    #[error(
        "cannot write the session file {}: {source}; check that its directory exists and is \
         writable",
        path.display()
    )]
    Write {
        /// The session file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
}

/// A fresh session on Telegram's production DCs (grammers' built-in DC list, home DC 2), with
/// no auth key: the first connection runs the key exchange.
pub fn production() -> SessionData {
    SessionData::default()
}

/// The addresses of Telegram's test DCs (1 to 3), port 443, as TDLib and Telethon list them.
pub fn test_dc_options() -> [DcOption; 3] {
    let dc = |id, v4: [u8; 4], v6: [u16; 8]| DcOption {
        id,
        ipv4: SocketAddrV4::new(Ipv4Addr::from(v4), 443),
        ipv6: SocketAddrV6::new(Ipv6Addr::from(v6), 443, 0, 0),
        auth_key: None,
    };
    [
        dc(
            1,
            [149, 154, 175, 10],
            [0x2001, 0xb28, 0xf23d, 0xf001, 0, 0, 0, 0xe],
        ),
        dc(
            2,
            [149, 154, 167, 40],
            [0x2001, 0x67c, 0x4e8, 0xf002, 0, 0, 0, 0xe],
        ),
        dc(
            3,
            [149, 154, 175, 117],
            [0x2001, 0xb28, 0xf23d, 0xf003, 0, 0, 0, 0xe],
        ),
    ]
}

/// A fresh session on Telegram's test DCs ([`test_dc_options`], home DC 2), for accounts of
/// the test environment (`--test-dc`). Test accounts are separate from production ones.
pub fn test_dcs() -> SessionData {
    SessionData {
        home_dc: 2,
        dc_options: test_dc_options()
            .into_iter()
            .map(|dc| (dc.id, dc))
            .collect(),
        ..SessionData::default()
    }
}

mod state;

use state::{State, write_atomically};

/// A grammers [`Session`] kept in memory and persisted to a JSON file; see the
/// [module docs](self).
///
/// Share it as `Arc<FileSession>` with `SenderPool::new`. Two `FileSession`s (or two
/// processes) must not use the same file at the same time: the last writer wins.
pub struct FileSession {
    path: PathBuf,
    state: Mutex<State>,
    /// The generation last written to the file.
    written: Mutex<u64>,
}

impl fmt::Debug for FileSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        let mut keyed: Vec<i32> = state
            .data
            .dc_options
            .values()
            .filter(|dc| dc.auth_key.is_some())
            .map(|dc| dc.id)
            .collect();
        keyed.sort_unstable();
        f.debug_struct("FileSession")
            .field("path", &self.path)
            .field("home_dc", &state.data.home_dc)
            .field("dcs_with_auth_key", &keyed)
            .field("self_user", &state.self_user_id())
            .finish_non_exhaustive()
    }
}

/// Reads `bytes` as a session file would be read (for fuzzing, without a file).
#[cfg(feature = "fuzzing")]
pub(crate) fn decode(bytes: &[u8]) -> Result<SessionData, SessionError> {
    State::decode(Path::new("session.json"), bytes).map(|state| state.to_data())
}

impl FileSession {
    /// Opens the session stored at `path`. A missing file gives a fresh session on Telegram's
    /// production DCs ([`production`]); the file is created at the first change (usually the
    /// first connection, which binds an auth key).
    ///
    /// On Unix, a file readable by other users is restricted to `0600`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, SessionError> {
        let path = path.as_ref().to_owned();
        let bytes = match fs::read(&path) {
            Ok(bytes) => Zeroizing::new(bytes),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(Self::new(path, State::from_data(production())));
            }
            Err(source) => return Err(SessionError::Read { path, source }),
        };
        let state = State::decode(&path, &bytes)?;
        restrict_permissions(&path);
        Ok(Self::new(path, state))
    }

    /// Starts a session file at `path` from `data` (for instance [`test_dcs`], or a
    /// pre-shared-key session of the sandbox), replacing any file already there, and writes it
    /// at once.
    pub fn create(path: impl AsRef<Path>, data: SessionData) -> Result<Self, SessionError> {
        let mut state = State::from_data(data);
        state.generation = 1;
        let session = Self::new(path.as_ref().to_owned(), state);
        if let Err(e) = session.persist() {
            // Nothing to retry when the session is dropped: the caller has the error.
            *session
                .written
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = u64::MAX;
            return Err(e);
        }
        Ok(session)
    }

    fn new(path: PathBuf, state: State) -> Self {
        Self {
            path,
            state: Mutex::new(state),
            written: Mutex::new(0),
        }
    }

    /// The session file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A copy of the whole state (DC options with their auth keys: keep it secret).
    pub fn session_data(&self) -> SessionData {
        self.lock().to_data()
    }

    /// The logged-in user's id, if the session knows it.
    pub fn self_user_id(&self) -> Option<i64> {
        self.lock().self_user_id()
    }

    /// Writes every pending change (the updates state) to the file now.
    pub fn save(&self) -> Result<(), SessionError> {
        self.persist()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes the state with `change`, which says whether the file must be written at once.
    fn change(&self, change: impl FnOnce(&mut State) -> bool) -> Result<(), SessionError> {
        let write_now = change(&mut self.lock());
        if write_now { self.persist() } else { Ok(()) }
    }

    /// Writes the current state unless the file already has it.
    fn persist(&self) -> Result<(), SessionError> {
        let (generation, bytes) = {
            let state = self.lock();
            (state.generation, state.encode())
        };
        let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        if *written >= generation {
            return Ok(());
        }
        write_atomically(&self.path, &bytes).map_err(|source| SessionError::Write {
            path: self.path.clone(),
            source,
        })?;
        *written = generation;
        Ok(())
    }
}

impl Drop for FileSession {
    fn drop(&mut self) {
        if let Err(e) = self.persist() {
            tracing::warn!(error = %e, "the session's last changes were not saved");
        }
    }
}

#[cfg(unix)]
fn restrict_permissions(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        match fs::set_permissions(path, fs::Permissions::from_mode(0o600)) {
            Ok(()) => tracing::warn!(
                path = %path.display(),
                "the session file was readable by other users; restricted it to 0600"
            ),
            Err(e) => tracing::warn!(
                path = %path.display(),
                error = %e,
                "the session file is readable by other users and could not be restricted"
            ),
        }
    }
}

#[cfg(not(unix))]
fn restrict_permissions(_path: &Path) {}

impl Session for FileSession {
    type Error = SessionError;

    fn home_dc_id(&self) -> Result<i32, SessionError> {
        Ok(self.lock().data.home_dc)
    }

    fn set_home_dc_id(&self, dc_id: i32) -> BoxFuture<'_, Result<(), SessionError>> {
        Box::pin(async move {
            self.change(|state| {
                let changed = state.data.home_dc != dc_id;
                if changed {
                    state.data.home_dc = dc_id;
                    state.generation += 1;
                }
                changed
            })
        })
    }

    fn dc_option(&self, dc_id: i32) -> Result<Option<DcOption>, SessionError> {
        Ok(self.lock().data.dc_options.get(&dc_id).cloned())
    }

    fn set_dc_option(&self, dc_option: &DcOption) -> BoxFuture<'_, Result<(), SessionError>> {
        let mut dc_option = dc_option.clone();
        Box::pin(async move {
            let result = self.change(|state| {
                let changed = state.data.dc_options.get(&dc_option.id) != Some(&dc_option);
                if changed {
                    if let Some(mut old) = state
                        .data
                        .dc_options
                        .insert(dc_option.id, dc_option.clone())
                    {
                        old.auth_key.zeroize();
                    }
                    state.generation += 1;
                }
                changed
            });
            dc_option.auth_key.zeroize();
            result
        })
    }

    fn peer(&self, peer: PeerId) -> BoxFuture<'_, Result<Option<PeerInfo>, SessionError>> {
        Box::pin(async move {
            let state = self.lock();
            Ok(if peer == PeerId::self_user() {
                state.self_info().cloned()
            } else {
                state.data.peer_infos.get(&peer).cloned()
            })
        })
    }

    fn cache_peer(&self, peer: PeerInfo) -> BoxFuture<'_, Result<(), SessionError>> {
        Box::pin(async move { self.change(|state| state.cache(peer)) })
    }

    fn cache_peers(&self, peers: Vec<PeerInfo>) -> BoxFuture<'_, Result<(), SessionError>> {
        Box::pin(async move {
            self.change(|state| {
                let mut self_changed = false;
                for peer in peers {
                    self_changed |= state.cache(peer);
                }
                self_changed
            })
        })
    }

    fn updates_state(&self) -> BoxFuture<'_, Result<UpdatesState, SessionError>> {
        Box::pin(async move { Ok(self.lock().data.updates_state.clone()) })
    }

    fn set_update_state(&self, update: UpdateState) -> BoxFuture<'_, Result<(), SessionError>> {
        Box::pin(async move { self.change(|state| state.apply(update)) })
    }
}
