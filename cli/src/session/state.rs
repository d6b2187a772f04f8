//! The in-memory state of a [`FileSession`](super::FileSession), its encoding as the file's
//! content, and the atomic write of that content.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Write};
use std::net::{SocketAddrV4, SocketAddrV6};
use std::path::Path;

use grammers_session::SessionData;
use grammers_session::types::{
    ChannelState, DcOption, PeerAuth, PeerId, PeerInfo, UpdateState, UpdatesState,
};
use serde::{Deserialize, Deserializer, Serialize};
use zeroize::{Zeroize, Zeroizing};

use super::{AUTH_KEY_LEN, CorruptReason, FORMAT_VERSION, SessionError};

/// The file as written: borrowed from the state.
#[derive(Serialize)]
struct FileOut<'a> {
    version: u32,
    home_dc: i32,
    dc_options: Vec<DcOut<'a>>,
    self_user: Option<SelfRecord>,
    updates_state: &'a UpdatesState,
}

/// A DC option as written; the key's hex is zeroed when dropped.
#[derive(Serialize)]
struct DcOut<'a> {
    id: i32,
    ipv4: &'a SocketAddrV4,
    ipv6: &'a SocketAddrV6,
    auth_key: Option<KeyHex>,
}

/// An auth key's hex form (zeroed when dropped).
struct KeyHex(Zeroizing<[u8; 2 * AUTH_KEY_LEN]>);

impl Serialize for KeyHex {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Hex digits are ASCII.
        serializer.serialize_str(std::str::from_utf8(&*self.0).unwrap_or_default())
    }
}

/// The file as read, once its version is known.
#[derive(Deserialize)]
struct FileIn {
    home_dc: i32,
    dc_options: Vec<DcIn>,
    #[serde(default)]
    self_user: Option<SelfRecord>,
    #[serde(default)]
    updates_state: UpdatesState,
}

/// A DC option as read.
#[derive(Deserialize)]
struct DcIn {
    id: i32,
    ipv4: SocketAddrV4,
    ipv6: SocketAddrV6,
    #[serde(default)]
    auth_key: Option<KeyBytes>,
}

/// An auth key read from the file (zeroed when dropped, as is its hex form).
struct KeyBytes(Zeroizing<[u8; AUTH_KEY_LEN]>);

impl<'de> Deserialize<'de> for KeyBytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Zeroizing::new(String::deserialize(deserializer)?);
        let mut key = Zeroizing::new([0u8; AUTH_KEY_LEN]);
        hex::decode_to_slice(text.as_bytes(), &mut *key)
            .map_err(|_| serde::de::Error::custom("auth_key must be 512 hex characters"))?;
        Ok(Self(key))
    }
}

/// The logged-in user as kept in the file.
#[derive(Serialize, Deserialize)]
struct SelfRecord {
    id: i64,
    #[serde(default)]
    access_hash: Option<i64>,
    #[serde(default)]
    bot: Option<bool>,
}

/// The in-memory state: all of [`SessionData`], and which peer is the logged-in user.
pub(super) struct State {
    pub(super) data: SessionData,
    self_id: Option<PeerId>,
    /// Bumped on every change, written or not.
    pub(super) generation: u64,
}

impl Drop for State {
    fn drop(&mut self) {
        for dc in self.data.dc_options.values_mut() {
            dc.auth_key.zeroize();
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
    pub(super) fn from_data(data: SessionData) -> Self {
        let SessionData {
            home_dc,
            dc_options,
            peer_infos,
            updates_state,
        } = data;
        let mut state = Self {
            data: SessionData {
                home_dc,
                dc_options,
                peer_infos: HashMap::new(),
                updates_state,
            },
            self_id: None,
            generation: 0,
        };
        for info in peer_infos.into_values() {
            state.cache(info);
        }
        state
    }

    /// Caches a peer; returns whether what is persisted (the self user) changed.
    pub(super) fn cache(&mut self, info: PeerInfo) -> bool {
        let before = self.self_info().cloned();
        let id = info.id();
        let merged = {
            let entry = self
                .data
                .peer_infos
                .entry(id)
                .or_insert_with(|| info.clone());
            entry.extend_info(&info);
            entry.clone()
        };
        if is_self(&merged) {
            if let Some(previous) = self.self_id.filter(|p| *p != id)
                && let Some(PeerInfo::User { is_self, .. }) =
                    self.data.peer_infos.get_mut(&previous)
            {
                *is_self = Some(false);
            }
            self.self_id = Some(id);
        } else if self.self_id == Some(id) {
            self.self_id = None;
        }
        self.generation += 1;
        before.as_ref() != self.self_info()
    }

    pub(super) fn self_info(&self) -> Option<&PeerInfo> {
        self.self_id.and_then(|id| self.data.peer_infos.get(&id))
    }

    pub(super) fn self_user_id(&self) -> Option<i64> {
        match self.self_info()? {
            PeerInfo::User { id, .. } => Some(*id),
            _ => None,
        }
    }

    /// Applies an updates-state change; returns whether it replaced the whole state with a
    /// different one (a checkpoint worth writing at once).
    pub(super) fn apply(&mut self, update: UpdateState) -> bool {
        let s = &mut self.data.updates_state;
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

    pub(super) fn to_data(&self) -> SessionData {
        SessionData {
            home_dc: self.data.home_dc,
            dc_options: self.data.dc_options.clone(),
            peer_infos: self.data.peer_infos.clone(),
            updates_state: self.data.updates_state.clone(),
        }
    }

    /// The file content, in a buffer that is zeroed when dropped.
    pub(super) fn encode(&self) -> Zeroizing<Vec<u8>> {
        let mut dc_options: Vec<DcOut<'_>> = self
            .data
            .dc_options
            .values()
            .map(|dc| DcOut {
                id: dc.id,
                ipv4: &dc.ipv4,
                ipv6: &dc.ipv6,
                auth_key: dc.auth_key.as_ref().map(|key| {
                    let mut text = Zeroizing::new([0u8; 2 * AUTH_KEY_LEN]);
                    // The buffer is exactly twice the key's length.
                    let _ = hex::encode_to_slice(key, &mut *text);
                    KeyHex(text)
                }),
            })
            .collect();
        dc_options.sort_by_key(|dc| dc.id);
        let self_user = match self.self_info() {
            Some(PeerInfo::User { id, auth, bot, .. }) => Some(SelfRecord {
                id: *id,
                access_hash: auth.map(PeerAuth::hash),
                bot: *bot,
            }),
            _ => None,
        };
        let file = FileOut {
            version: FORMAT_VERSION,
            home_dc: self.data.home_dc,
            dc_options,
            self_user,
            updates_state: &self.data.updates_state,
        };
        let mut out = Zeroizing::new(Vec::with_capacity(
            1024 + self.data.dc_options.len() * (2 * AUTH_KEY_LEN + 128),
        ));
        // Writing into a Vec cannot fail, and every field serializes.
        if serde_json::to_writer_pretty(&mut *out, &file).is_err() {
            out.clear();
        }
        out.push(b'\n');
        out
    }

    pub(super) fn decode(path: &Path, bytes: &[u8]) -> Result<Self, SessionError> {
        let corrupt = |reason| SessionError::Corrupt {
            path: path.to_owned(),
            reason,
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(corrupt(CorruptReason::Empty));
        }
        let json_error = |e: serde_json::Error| {
            let (line, column) = (e.line(), e.column());
            corrupt(if e.is_data() {
                CorruptReason::Data { line, column }
            } else {
                CorruptReason::Syntax { line, column }
            })
        };
        #[derive(Deserialize)]
        struct VersionOnly {
            version: u32,
        }
        let VersionOnly { version } = serde_json::from_slice(bytes).map_err(json_error)?;
        if version != FORMAT_VERSION {
            return Err(SessionError::UnsupportedVersion {
                path: path.to_owned(),
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let file: FileIn = serde_json::from_slice(bytes).map_err(json_error)?;
        let mut state = Self::from_data(SessionData {
            home_dc: file.home_dc,
            dc_options: HashMap::new(),
            peer_infos: HashMap::new(),
            updates_state: file.updates_state,
        });
        for dc in file.dc_options {
            let option = DcOption {
                id: dc.id,
                ipv4: dc.ipv4,
                ipv6: dc.ipv6,
                auth_key: dc.auth_key.as_ref().map(|key| *key.0),
            };
            if state.data.dc_options.insert(dc.id, option).is_some() {
                return Err(corrupt(CorruptReason::DuplicateDc));
            }
        }
        if !state.data.dc_options.contains_key(&file.home_dc) {
            return Err(corrupt(CorruptReason::HomeDcMissing));
        }
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
        }
        state.generation = 0;
        Ok(state)
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory (mode `0600` on
/// Unix): write, flush to disk, rename over `path`, flush the directory. The temporary file is
/// removed on failure.
pub(super) fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
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
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(name);
    prefix.push(".");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    builder.permissions(<fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o600));
    let mut file = builder.tempfile_in(dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    // Make the rename itself durable; not every platform can open a directory for this.
    #[cfg(unix)]
    if let Ok(dir) = fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::{production, test_dcs};

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
        let mut key = [0u8; 256];
        for (i, b) in key.iter_mut().enumerate() {
            *b = i as u8;
        }
        let mut state = State::from_data(production());
        if let Some(dc) = state.data.dc_options.get_mut(&2) {
            dc.auth_key = Some(key);
        }
        let bytes = state.encode();
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(text.contains("\"auth_key\": \"000102030405"), "{text}");
        let back = State::decode(Path::new("x"), &bytes).unwrap();
        assert_eq!(back.data.dc_options[&2].auth_key, Some(key));

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
