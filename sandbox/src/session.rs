//! Server-side MTProto session state: message identifiers, server salts, and per-session
//! bookkeeping of received messages (for the msg_id / seq_no rules of
//! <https://core.telegram.org/mtproto/description> and
//! <https://core.telegram.org/mtproto/service_messages_about_messages>).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

pub(crate) use crate::clock::unix_now;

/// What a client said about itself in `initConnection`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    /// The application identifier.
    pub api_id: i32,
    /// Device model.
    pub device_model: String,
    /// Operating system version.
    pub system_version: String,
    /// Application version.
    pub app_version: String,
    /// Language of the operating system (ISO 639-1).
    pub system_lang_code: String,
    /// Language pack name (empty for none).
    pub lang_pack: String,
    /// Language of the application (ISO 639-1).
    pub lang_code: String,
}

/// A client message is refused when its msg_id is more than this many seconds old...
pub(crate) const MSG_ID_MAX_AGE: i64 = 300;
/// ...or more than this many seconds in the future.
pub(crate) const MSG_ID_MAX_AHEAD: i64 = 30;

/// Generates server message identifiers: time-based (`unixtime * 2^32` plus a fraction),
/// strictly increasing across the whole server (so per session and per connection too),
/// `≡ 1 (mod 4)` for responses and `≡ 3 (mod 4)` for everything else.
#[derive(Debug, Default)]
pub(crate) struct MsgIdGen {
    last: AtomicI64,
}

impl MsgIdGen {
    pub(crate) fn next(&self, response: bool) -> i64 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let base = ((now.as_secs() as i64) << 32) | (i64::from(now.subsec_nanos()) << 2);
        let mut last = self.last.load(Ordering::Relaxed);
        loop {
            let candidate = base.max(last.saturating_add(4)) & !3;
            match self.last.compare_exchange_weak(
                last,
                candidate,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return candidate | if response { 1 } else { 3 },
                Err(actual) => last = actual,
            }
        }
    }
}

/// Length of a salt period: a new salt every 30 minutes, as the spec says.
pub(crate) const SALT_PERIOD: i64 = 1800;
/// The previous salt stays valid for this long after its period ends.
pub(crate) const SALT_GRACE: i64 = 1800;

/// A salt with its validity, as sent in `future_salts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SaltPeriod {
    pub(crate) valid_since: i64,
    pub(crate) valid_until: i64,
    pub(crate) salt: i64,
}

/// Server salts, attached to the authorization key (not the session): derived from a secret
/// of this server instance, the key id and the 30-minute period, so no state is needed.
#[derive(zeroize::ZeroizeOnDrop)]
pub(crate) struct Salts {
    secret: [u8; 32],
}

impl Salts {
    pub(crate) fn new() -> Self {
        let mut secret = [0u8; 32];
        rand::fill(&mut secret[..]);
        Self { secret }
    }

    /// Salts from a given secret (fuzzing uses a fixed one, so that its inputs stay valid).
    #[cfg(feature = "fuzzing")]
    pub(crate) fn with_secret(secret: [u8; 32]) -> Self {
        Self { secret }
    }

    fn salt(&self, key_id: i64, period: i64) -> i64 {
        let digest = Sha256::new()
            .chain_update(self.secret)
            .chain_update(key_id.to_le_bytes())
            .chain_update(period.to_le_bytes())
            .finalize();
        let mut salt = [0u8; 8];
        salt.copy_from_slice(&digest[..8]);
        match i64::from_le_bytes(salt) {
            // 0 is what clients send before they know any salt: never a valid one.
            0 => 1,
            salt => salt,
        }
    }

    /// The salt to use now.
    pub(crate) fn current(&self, key_id: i64, now: i64) -> i64 {
        self.salt(key_id, now.div_euclid(SALT_PERIOD))
    }

    /// Whether a client may use `salt` now: the current salt, the previous one (within its
    /// 1800-second grace) and the next one (handed out by `get_future_salts`).
    pub(crate) fn is_valid(&self, key_id: i64, salt: i64, now: i64) -> bool {
        let period = now.div_euclid(SALT_PERIOD);
        (period - 1..=period + 1).any(|p| self.salt(key_id, p) == salt)
    }

    /// `count` consecutive salts starting with the current one.
    pub(crate) fn future(&self, key_id: i64, now: i64, count: usize) -> Vec<SaltPeriod> {
        let first = now.div_euclid(SALT_PERIOD);
        (first..first + count as i64)
            .map(|p| SaltPeriod {
                valid_since: p * SALT_PERIOD,
                valid_until: (p + 1) * SALT_PERIOD + SALT_GRACE,
                salt: self.salt(key_id, p),
            })
            .collect()
    }
}

/// How many received msg_ids a session remembers.
pub(crate) const RECEIVED_WINDOW: usize = 1024;
/// How many sessions one auth key may have before the least recently used is forgotten.
pub(crate) const SESSIONS_PER_KEY: usize = 64;

/// What was remembered of a received message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Received {
    pub(crate) seqno: i32,
    /// It carried an RPC query that was processed.
    pub(crate) rpc: bool,
}

/// The verdict of the msg_id / seq_no rules on a client message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    /// New and consistent: process it.
    Accept,
    /// Already received: ignore it.
    Duplicate,
    /// Refuse it with a `bad_msg_notification` of this code.
    Refuse(i32),
}

/// The server's state of one session (auth key + client-chosen session_id).
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) unique_id: i64,
    pub(crate) first_msg_id: i64,
    received: BTreeMap<i64, Received>,
    /// Number of content-related messages the server sent in this session.
    sent_content: i32,
    pub(crate) layer: Option<i32>,
    pub(crate) client: Option<Arc<ClientInfo>>,
    last_used: Instant,
}

impl Session {
    fn new(first_msg_id: i64) -> Self {
        Self {
            unique_id: rand::random(),
            first_msg_id,
            received: BTreeMap::new(),
            sent_content: 0,
            layer: None,
            client: None,
            last_used: Instant::now(),
        }
    }

    /// Applies the msg_id rules (duplicates, "too old" once the window is full) and the seq_no
    /// consistency rules (codes 32 and 33) to a message, and remembers it if accepted.
    pub(crate) fn admit(&mut self, msg_id: i64, seqno: i32) -> Admission {
        if self.received.contains_key(&msg_id) {
            return Admission::Duplicate;
        }
        if self.received.len() >= RECEIVED_WINDOW
            && self
                .received
                .first_key_value()
                .is_some_and(|(&lowest, _)| msg_id < lowest)
        {
            return Admission::Refuse(20);
        }
        // 32: a message with a lower msg_id has a higher seqno, or the same odd one.
        if let Some((_, before)) = self.received.range(..msg_id).next_back()
            && (before.seqno > seqno || (before.seqno == seqno && seqno & 1 == 1))
        {
            return Admission::Refuse(32);
        }
        // 33: a message with a higher msg_id has a lower seqno, or the same odd one.
        if let Some((_, after)) = self.received.range(msg_id + 1..).next()
            && (after.seqno < seqno || (after.seqno == seqno && seqno & 1 == 1))
        {
            return Admission::Refuse(33);
        }
        self.received.insert(msg_id, Received { seqno, rpc: false });
        while self.received.len() > RECEIVED_WINDOW {
            self.received.pop_first();
        }
        Admission::Accept
    }

    /// Marks an accepted message as an RPC query whose processing is complete.
    pub(crate) fn mark_rpc(&mut self, msg_id: i64) {
        if let Some(received) = self.received.get_mut(&msg_id) {
            received.rpc = true;
        }
    }

    /// The status byte of `msgs_state_info` for one of the client's msg_ids.
    pub(crate) fn state_of(&self, msg_id: i64, now: i64) -> u8 {
        match self.received.get(&msg_id) {
            Some(received) => {
                let mut status = 4u8;
                if received.seqno & 1 == 0 {
                    status |= 16;
                }
                if received.rpc {
                    status |= 32;
                }
                status
            }
            None => {
                let lowest = self.received.first_key_value().map(|(&id, _)| id);
                let full = self.received.len() >= RECEIVED_WINDOW;
                if (msg_id >> 32) > now + MSG_ID_MAX_AHEAD {
                    3
                } else if full && lowest.is_some_and(|lowest| msg_id < lowest) {
                    1
                } else {
                    2
                }
            }
        }
    }

    /// The seq_no of the next server message in this session.
    pub(crate) fn next_seqno(&mut self, content_related: bool) -> i32 {
        let seqno = self.sent_content.wrapping_mul(2);
        if content_related {
            self.sent_content = self.sent_content.wrapping_add(1);
            seqno | 1
        } else {
            seqno
        }
    }
}

/// All sessions of the server, keyed by (auth_key_id, session_id). Sessions outlive
/// connections: a client may reconnect and keep its session.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    map: Mutex<HashMap<(i64, i64), Session>>,
}

impl Sessions {
    pub(crate) fn lock(&self) -> SessionsGuard<'_> {
        SessionsGuard {
            map: self.map.lock().unwrap_or_else(PoisonError::into_inner),
        }
    }
}

/// Exclusive access to the session table.
pub(crate) struct SessionsGuard<'a> {
    map: MutexGuard<'a, HashMap<(i64, i64), Session>>,
}

impl SessionsGuard<'_> {
    pub(crate) fn get(&mut self, key_id: i64, session_id: i64) -> Option<&mut Session> {
        let session = self.map.get_mut(&(key_id, session_id))?;
        session.last_used = Instant::now();
        Some(session)
    }

    /// The session, created (with `first_msg_id`) if the server does not know it; the flag
    /// says whether it was created.
    pub(crate) fn open(
        &mut self,
        key_id: i64,
        session_id: i64,
        first_msg_id: i64,
    ) -> (&mut Session, bool) {
        let created = !self.map.contains_key(&(key_id, session_id));
        if created {
            self.evict_for(key_id);
        }
        let session = self
            .map
            .entry((key_id, session_id))
            .or_insert_with(|| Session::new(first_msg_id));
        session.last_used = Instant::now();
        (session, created)
    }

    /// Forgets a session; returns whether it existed.
    pub(crate) fn destroy(&mut self, key_id: i64, session_id: i64) -> bool {
        self.map.remove(&(key_id, session_id)).is_some()
    }

    /// Keeps at most `SESSIONS_PER_KEY - 1` sessions of `key_id`, dropping the least recently
    /// used ("the server may unilaterally forget any client sessions").
    fn evict_for(&mut self, key_id: i64) {
        let mut of_key: Vec<(i64, Instant)> = self
            .map
            .iter()
            .filter(|((k, _), _)| *k == key_id)
            .map(|((_, s), session)| (*s, session.last_used))
            .collect();
        if of_key.len() < SESSIONS_PER_KEY {
            return;
        }
        of_key.sort_by_key(|(_, used)| *used);
        let excess = of_key.len() + 1 - SESSIONS_PER_KEY;
        for (session_id, _) in of_key.into_iter().take(excess) {
            self.map.remove(&(key_id, session_id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg_id(secs: i64, n: i64) -> i64 {
        (secs << 32) | (n << 2)
    }

    #[test]
    fn server_msg_ids_increase_and_have_the_right_parity() {
        let ids = MsgIdGen::default();
        let mut last = 0;
        for i in 0..10_000 {
            let response = i % 3 == 0;
            let id = ids.next(response);
            assert!(id > last);
            assert_eq!(id & 3, if response { 1 } else { 3 });
            last = id;
        }
        assert!(((last >> 32) - unix_now()).abs() <= 1);
    }

    #[test]
    fn salts_rotate_with_grace() {
        let salts = Salts::new();
        let now = 1_700_000_000;
        let current = salts.current(7, now);
        assert!(salts.is_valid(7, current, now));
        assert!(!salts.is_valid(8, current, now), "salts belong to a key");
        assert!(!salts.is_valid(7, 0, now));
        // Still accepted during the next period, refused two periods later.
        assert!(salts.is_valid(7, current, now + SALT_PERIOD));
        assert!(!salts.is_valid(7, current, now + 3 * SALT_PERIOD));
        let future = salts.future(7, now, 4);
        assert_eq!(future.len(), 4);
        assert_eq!(future[0].salt, current);
        assert!(future[0].valid_since <= now && now < future[0].valid_until);
        assert!(
            salts.is_valid(7, future[1].salt, now),
            "the next salt is usable early"
        );
        assert!(
            future
                .windows(2)
                .all(|w| w[0].valid_since < w[1].valid_since)
        );
    }

    #[test]
    fn duplicates_and_seqno_rules() {
        let mut session = Session::new(0);
        let t = 1_700_000_000;
        assert_eq!(session.admit(msg_id(t, 10), 1), Admission::Accept);
        assert_eq!(session.admit(msg_id(t, 10), 1), Admission::Duplicate);
        assert_eq!(session.admit(msg_id(t, 20), 3), Admission::Accept);
        // Even (non-content) seqno equal to the previous odd plus one is fine.
        assert_eq!(session.admit(msg_id(t, 21), 4), Admission::Accept);
        // Same odd seqno as an earlier message: too low.
        assert_eq!(session.admit(msg_id(t, 30), 3), Admission::Refuse(32));
        // Lower seqno than an earlier message: too low.
        assert_eq!(session.admit(msg_id(t, 31), 2), Admission::Refuse(32));
        // Between two messages but with a seqno above the later one: too high.
        assert_eq!(session.admit(msg_id(t, 15), 5), Admission::Refuse(33));
        assert_eq!(session.admit(msg_id(t, 15), 2), Admission::Accept);
    }

    #[test]
    fn window_refuses_messages_older_than_everything_remembered() {
        let mut session = Session::new(0);
        let t = 1_700_000_000;
        for i in 0..RECEIVED_WINDOW as i64 + 10 {
            assert_eq!(
                session.admit(msg_id(t, 100 + i), (2 * i + 1) as i32),
                Admission::Accept
            );
        }
        assert_eq!(session.admit(msg_id(t, 1), 0), Admission::Refuse(20));
        assert_eq!(session.state_of(msg_id(t, 1), t), 1);
        assert_eq!(session.state_of(msg_id(t, 200), t), 4);
        assert_eq!(session.state_of(msg_id(t, 100_000), t), 2);
        assert_eq!(session.state_of(msg_id(t + 3600, 0), t), 3);
    }

    #[test]
    fn server_seqnos() {
        let mut session = Session::new(0);
        assert_eq!(session.next_seqno(true), 1);
        assert_eq!(session.next_seqno(false), 2);
        assert_eq!(session.next_seqno(true), 3);
        assert_eq!(session.next_seqno(true), 5);
        assert_eq!(session.next_seqno(false), 6);
    }

    #[test]
    fn sessions_per_key_are_bounded() {
        let sessions = Sessions::default();
        let mut guard = sessions.lock();
        for s in 0..(SESSIONS_PER_KEY as i64 * 2) {
            assert!(guard.open(1, s, 0).1);
        }
        assert!(!guard.open(1, 127, 0).1);
        assert!(
            guard.get(1, 0).is_none(),
            "the oldest session was forgotten"
        );
        assert!(guard.destroy(1, 127));
        assert!(!guard.destroy(1, 127));
    }
}
