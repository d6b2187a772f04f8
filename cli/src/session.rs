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
//! Every write is atomic: the new content goes to a temporary file in the same directory,
//! which is flushed to disk and renamed over the session file, so a crash leaves either the
//! old file or the new one, never a mix. On Unix the file is created with mode `0600`: it holds
//! auth keys, which are as good as the account's password. They never appear in `Debug`
//! output, errors or logs, and the in-memory copies are zeroed when the session is dropped.
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

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use grammers_session::types::{
    ChannelState, DcOption, PeerAuth, PeerId, PeerInfo, UpdateState, UpdatesState,
};
use grammers_session::{BoxFuture, Session, SessionData};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::{Zeroize, Zeroizing};

/// The version of the file format this module writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Length in bytes of an MTProto authorization key.
const AUTH_KEY_LEN: usize = 256;

// -------------------------------------------------------------------------------------------------
// Errors
// -------------------------------------------------------------------------------------------------

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

// -------------------------------------------------------------------------------------------------
// Starting points
// -------------------------------------------------------------------------------------------------

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

// -------------------------------------------------------------------------------------------------
// In-memory state
// -------------------------------------------------------------------------------------------------

struct State {
    home_dc: i32,
    dc_options: BTreeMap<i32, DcOption>,
    peers: HashMap<PeerId, PeerInfo>,
    self_id: Option<PeerId>,
    updates_state: UpdatesState,
    /// Bumped on every change, written or not.
    generation: u64,
}

impl Drop for State {
    fn drop(&mut self) {
        for dc in self.dc_options.values_mut() {
            if let Some(key) = &mut dc.auth_key {
                key.zeroize();
            }
        }
    }
}

fn is_self(info: &PeerInfo) -> bool {
    matches!(
        info,
        PeerInfo::User {
            is_self: Some(true),
            ..
        }
    )
}

impl State {
    fn from_data(data: SessionData) -> Self {
        let SessionData {
            home_dc,
            dc_options,
            peer_infos,
            updates_state,
        } = data;
        let mut state = Self {
            home_dc,
            dc_options: dc_options.into_iter().collect(),
            peers: HashMap::new(),
            self_id: None,
            updates_state,
            generation: 0,
        };
        for info in peer_infos.into_values() {
            state.cache(info);
        }
        state
    }

    /// Caches a peer; returns whether what is persisted (the self user) changed.
    fn cache(&mut self, info: PeerInfo) -> bool {
        let before = self.self_record();
        let id = info.id();
        let merged = {
            let entry = self.peers.entry(id).or_insert_with(|| info.clone());
            entry.extend_info(&info);
            entry.clone()
        };
        if is_self(&merged) {
            if let Some(previous) = self.self_id.filter(|p| *p != id)
                && let Some(PeerInfo::User { is_self, .. }) = self.peers.get_mut(&previous)
            {
                *is_self = Some(false);
            }
            self.self_id = Some(id);
        } else if self.self_id == Some(id) {
            self.self_id = None;
        }
        self.generation += 1;
        before != self.self_record()
    }

    fn self_info(&self) -> Option<&PeerInfo> {
        self.self_id.and_then(|id| self.peers.get(&id))
    }

    fn self_record(&self) -> Option<SelfRecord> {
        match self.self_info()? {
            PeerInfo::User { id, auth, bot, .. } => Some(SelfRecord {
                id: *id,
                access_hash: auth.map(PeerAuth::hash),
                bot: *bot,
            }),
            _ => None,
        }
    }

    /// Applies an updates-state change; returns whether it replaced the whole state with a
    /// different one (a checkpoint worth writing at once).
    fn apply(&mut self, update: UpdateState) -> bool {
        let s = &mut self.updates_state;
        self.generation += 1;
        match update {
            UpdateState::All(all) => {
                let changed = *s != all;
                *s = all;
                return changed;
            }
            UpdateState::Primary { pts, date, seq } => {
                s.pts = pts;
                s.date = date;
                s.seq = seq;
            }
            UpdateState::Secondary { qts } => s.qts = qts,
            UpdateState::Channel { id, pts } => {
                s.channels.retain(|c| c.id != id);
                s.channels.push(ChannelState { id, pts });
            }
        }
        false
    }

    fn to_data(&self) -> SessionData {
        SessionData {
            home_dc: self.home_dc,
            dc_options: self
                .dc_options
                .iter()
                .map(|(id, dc)| (*id, dc.clone()))
                .collect(),
            peer_infos: self
                .peers
                .iter()
                .map(|(id, info)| (*id, info.clone()))
                .collect(),
            updates_state: self.updates_state.clone(),
        }
    }

    /// The file content, in a buffer that is zeroed when dropped.
    fn encode(&self) -> Zeroizing<Vec<u8>> {
        let file = FileView {
            version: FORMAT_VERSION,
            home_dc: self.home_dc,
            dc_options: self.dc_options.values().map(DcView).collect(),
            self_user: self.self_record(),
            updates_state: StateRecord::from(&self.updates_state),
        };
        let mut out = Zeroizing::new(Vec::with_capacity(
            1024 + self.dc_options.len() * (2 * AUTH_KEY_LEN + 128),
        ));
        // Writing into a Vec cannot fail, and every field serializes.
        if serde_json::to_writer_pretty(&mut *out, &file).is_err() {
            out.clear();
        }
        out.push(b'\n');
        out
    }

    fn decode(path: &Path, bytes: &[u8]) -> Result<Self, SessionError> {
        let corrupt = |reason| SessionError::Corrupt {
            path: path.to_owned(),
            reason,
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(corrupt(CorruptReason::Empty));
        }
        #[derive(Deserialize)]
        struct VersionOnly {
            version: u32,
        }
        let json_error = |e: serde_json::Error| {
            let (line, column) = (e.line(), e.column());
            corrupt(if e.is_data() {
                CorruptReason::Data { line, column }
            } else {
                CorruptReason::Syntax { line, column }
            })
        };
        let version: VersionOnly = serde_json::from_slice(bytes).map_err(json_error)?;
        if version.version != FORMAT_VERSION {
            return Err(SessionError::UnsupportedVersion {
                path: path.to_owned(),
                found: version.version,
                supported: FORMAT_VERSION,
            });
        }
        let file: FileRecord = serde_json::from_slice(bytes).map_err(json_error)?;
        let mut dc_options = BTreeMap::new();
        for dc in file.dc_options {
            let option = DcOption {
                id: dc.id,
                ipv4: dc.ipv4,
                ipv6: dc.ipv6,
                auth_key: dc.auth_key.as_ref().map(|k| *k.0),
            };
            if dc_options.insert(dc.id, option).is_some() {
                return Err(corrupt(CorruptReason::DuplicateDc));
            }
        }
        if !dc_options.contains_key(&file.home_dc) {
            return Err(corrupt(CorruptReason::HomeDcMissing));
        }
        let mut state = Self {
            home_dc: file.home_dc,
            dc_options,
            peers: HashMap::new(),
            self_id: None,
            updates_state: file.updates_state.into(),
            generation: 0,
        };
        if let Some(me) = file.self_user {
            if PeerId::user(me.id).is_none() {
                return Err(corrupt(CorruptReason::SelfUserInvalid));
            }
            state.cache(PeerInfo::User {
                id: me.id,
                auth: me.access_hash.map(PeerAuth::from_hash),
                bot: me.bot,
                is_self: Some(true),
            });
            state.generation = 0;
        }
        Ok(state)
    }
}

// -------------------------------------------------------------------------------------------------
// File records
// -------------------------------------------------------------------------------------------------

#[derive(Serialize)]
struct FileView<'a> {
    version: u32,
    home_dc: i32,
    dc_options: Vec<DcView<'a>>,
    self_user: Option<SelfRecord>,
    updates_state: StateRecord,
}

struct DcView<'a>(&'a DcOption);

impl Serialize for DcView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Dc<'a> {
            id: i32,
            ipv4: &'a SocketAddrV4,
            ipv6: &'a SocketAddrV6,
            auth_key: Option<&'a str>,
        }
        let hex = self.0.auth_key.as_ref().map(|key| {
            let mut hex = Zeroizing::new(String::with_capacity(2 * AUTH_KEY_LEN));
            for byte in key {
                const DIGITS: &[u8; 16] = b"0123456789abcdef";
                hex.push(char::from(DIGITS[usize::from(byte >> 4)]));
                hex.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
            }
            hex
        });
        Dc {
            id: self.0.id,
            ipv4: &self.0.ipv4,
            ipv6: &self.0.ipv6,
            auth_key: hex.as_ref().map(|h| h.as_str()),
        }
        .serialize(serializer)
    }
}

#[derive(Deserialize)]
struct FileRecord {
    home_dc: i32,
    dc_options: Vec<DcRecord>,
    #[serde(default)]
    self_user: Option<SelfRecord>,
    #[serde(default)]
    updates_state: StateRecord,
}

#[derive(Deserialize)]
struct DcRecord {
    id: i32,
    ipv4: SocketAddrV4,
    ipv6: SocketAddrV6,
    #[serde(default)]
    auth_key: Option<KeyBytes>,
}

/// An auth key read from the file; zeroed on drop.
struct KeyBytes(Zeroizing<[u8; AUTH_KEY_LEN]>);

impl<'de> Deserialize<'de> for KeyBytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let hex = Zeroizing::new(String::deserialize(deserializer)?);
        let mut key = Zeroizing::new([0u8; AUTH_KEY_LEN]);
        let invalid = || serde::de::Error::custom("auth_key must be 512 hex characters");
        if hex.len() != 2 * AUTH_KEY_LEN {
            return Err(invalid());
        }
        for (byte, pair) in key.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
            let digit = |c: u8| char::from(c).to_digit(16);
            match (
                pair.first().copied().and_then(digit),
                pair.get(1).copied().and_then(digit),
            ) {
                (Some(hi), Some(lo)) => *byte = (hi * 16 + lo) as u8,
                _ => return Err(invalid()),
            }
        }
        Ok(Self(key))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct SelfRecord {
    id: i64,
    #[serde(default)]
    access_hash: Option<i64>,
    #[serde(default)]
    bot: Option<bool>,
}

#[derive(Default, Serialize, Deserialize)]
struct StateRecord {
    pts: i32,
    qts: i32,
    date: i32,
    seq: i32,
    #[serde(default)]
    channels: Vec<ChannelRecord>,
}

#[derive(Serialize, Deserialize)]
struct ChannelRecord {
    id: i64,
    pts: i32,
}

impl From<&UpdatesState> for StateRecord {
    fn from(s: &UpdatesState) -> Self {
        Self {
            pts: s.pts,
            qts: s.qts,
            date: s.date,
            seq: s.seq,
            channels: s
                .channels
                .iter()
                .map(|c| ChannelRecord {
                    id: c.id,
                    pts: c.pts,
                })
                .collect(),
        }
    }
}

impl From<StateRecord> for UpdatesState {
    fn from(s: StateRecord) -> Self {
        Self {
            pts: s.pts,
            qts: s.qts,
            date: s.date,
            seq: s.seq,
            channels: s
                .channels
                .into_iter()
                .map(|c| ChannelState {
                    id: c.id,
                    pts: c.pts,
                })
                .collect(),
        }
    }
}

// -------------------------------------------------------------------------------------------------
// Atomic writes
// -------------------------------------------------------------------------------------------------

/// Writes `bytes` to `path` through a temporary file in the same directory: write, flush to
/// disk, rename over `path`, flush the directory. The temporary file is removed on failure.
fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let Some(name) = path.file_name() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the session path does not name a file",
        ));
    };
    let tmp = dir.join(format!(
        ".{}.{:016x}.tmp",
        name.to_string_lossy(),
        rand::random::<u64>()
    ));
    let written = (|| {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    // Make the rename itself durable; not every platform can open a directory for this.
    #[cfg(unix)]
    if let Ok(dir) = fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

// -------------------------------------------------------------------------------------------------
// FileSession
// -------------------------------------------------------------------------------------------------

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
        f.debug_struct("FileSession")
            .field("path", &self.path)
            .field("home_dc", &state.home_dc)
            .field(
                "dcs_with_auth_key",
                &state
                    .dc_options
                    .values()
                    .filter(|dc| dc.auth_key.is_some())
                    .map(|dc| dc.id)
                    .collect::<Vec<_>>(),
            )
            .field("self_user", &state.self_record().map(|me| me.id))
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
                return Ok(Self::new(path, State::from_data(production()), 0));
            }
            Err(source) => return Err(SessionError::Read { path, source }),
        };
        let state = State::decode(&path, &bytes)?;
        restrict_permissions(&path);
        Ok(Self::new(path, state, 0))
    }

    /// Starts a session file at `path` from `data` (for instance [`test_dcs`], or a
    /// pre-shared-key session of the sandbox), replacing any file already there, and writes it
    /// at once.
    pub fn create(path: impl AsRef<Path>, data: SessionData) -> Result<Self, SessionError> {
        let mut state = State::from_data(data);
        state.generation = 1;
        let session = Self::new(path.as_ref().to_owned(), state, 0);
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

    fn new(path: PathBuf, state: State, written: u64) -> Self {
        Self {
            path,
            state: Mutex::new(state),
            written: Mutex::new(written),
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
        self.lock().self_record().map(|me| me.id)
    }

    /// Writes every pending change (the updates state) to the file now.
    pub fn save(&self) -> Result<(), SessionError> {
        self.persist()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
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
        Ok(self.lock().home_dc)
    }

    fn set_home_dc_id(&self, dc_id: i32) -> BoxFuture<'_, Result<(), SessionError>> {
        Box::pin(async move {
            let changed = {
                let mut state = self.lock();
                let changed = state.home_dc != dc_id;
                if changed {
                    state.home_dc = dc_id;
                    state.generation += 1;
                }
                changed
            };
            if changed { self.persist() } else { Ok(()) }
        })
    }

    fn dc_option(&self, dc_id: i32) -> Result<Option<DcOption>, SessionError> {
        Ok(self.lock().dc_options.get(&dc_id).cloned())
    }

    fn set_dc_option(&self, dc_option: &DcOption) -> BoxFuture<'_, Result<(), SessionError>> {
        let mut dc_option = dc_option.clone();
        Box::pin(async move {
            let changed = {
                let mut state = self.lock();
                let changed = state.dc_options.get(&dc_option.id) != Some(&dc_option);
                if changed {
                    if let Some(mut old) = state.dc_options.insert(dc_option.id, dc_option.clone())
                        && let Some(key) = &mut old.auth_key
                    {
                        key.zeroize();
                    }
                    state.generation += 1;
                }
                changed
            };
            if let Some(key) = &mut dc_option.auth_key {
                key.zeroize();
            }
            if changed { self.persist() } else { Ok(()) }
        })
    }

    fn peer(&self, peer: PeerId) -> BoxFuture<'_, Result<Option<PeerInfo>, SessionError>> {
        Box::pin(async move {
            let state = self.lock();
            Ok(if peer == PeerId::self_user() {
                state.self_info().cloned()
            } else {
                state.peers.get(&peer).cloned()
            })
        })
    }

    fn cache_peer(&self, peer: PeerInfo) -> BoxFuture<'_, Result<(), SessionError>> {
        Box::pin(async move {
            let self_changed = self.lock().cache(peer);
            if self_changed { self.persist() } else { Ok(()) }
        })
    }

    fn cache_peers(&self, peers: Vec<PeerInfo>) -> BoxFuture<'_, Result<(), SessionError>> {
        Box::pin(async move {
            let self_changed = {
                let mut state = self.lock();
                let mut changed = false;
                for peer in peers {
                    changed |= state.cache(peer);
                }
                changed
            };
            if self_changed { self.persist() } else { Ok(()) }
        })
    }

    fn updates_state(&self) -> BoxFuture<'_, Result<UpdatesState, SessionError>> {
        Box::pin(async move { Ok(self.lock().updates_state.clone()) })
    }

    fn set_update_state(&self, update: UpdateState) -> BoxFuture<'_, Result<(), SessionError>> {
        Box::pin(async move {
            let checkpoint = self.lock().apply(update);
            if checkpoint { self.persist() } else { Ok(()) }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_dcs_match_telegram_test_addresses() {
        let data = test_dcs();
        assert_eq!(data.home_dc, 2);
        assert_eq!(data.dc_options.len(), 3);
        let dc2 = &data.dc_options[&2];
        assert_eq!(dc2.ipv4.to_string(), "149.154.167.40:443");
        assert_eq!(dc2.ipv6.to_string(), "[2001:67c:4e8:f002::e]:443");
        assert_eq!(data.dc_options[&1].ipv4.to_string(), "149.154.175.10:443");
        assert_eq!(data.dc_options[&3].ipv4.to_string(), "149.154.175.117:443");
        assert!(data.dc_options.values().all(|dc| dc.auth_key.is_none()));
    }

    #[test]
    fn key_hex_round_trips_and_rejects_bad_digits() {
        let mut key = [0u8; AUTH_KEY_LEN];
        for (i, b) in key.iter_mut().enumerate() {
            *b = i as u8;
        }
        let mut state = State::from_data(production());
        if let Some(dc) = state.dc_options.get_mut(&2) {
            dc.auth_key = Some(key);
        }
        let bytes = state.encode();
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(text.contains("000102030405"), "{text}");
        let back = State::decode(Path::new("x"), &bytes).unwrap();
        assert_eq!(back.dc_options[&2].auth_key, Some(key));

        let bad = text.replacen("000102", "00zz02", 1);
        let err = State::decode(Path::new("x"), bad.as_bytes()).err().unwrap();
        assert!(
            matches!(
                err,
                SessionError::Corrupt {
                    reason: CorruptReason::Data { .. },
                    ..
                }
            ),
            "{err}"
        );
        assert!(!err.to_string().contains("00zz02"), "{err}");
    }
}
