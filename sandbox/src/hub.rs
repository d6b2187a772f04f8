//! The updates hub: `Updates` (and late results) pushed to the live sessions of a user.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use grammers_tl_types::{self as tl, Serializable};
use tokio::sync::mpsc;
use tracing::warn;

/// A pushed `Updates` on its way to one session of a connection.
#[derive(Debug, Clone)]
pub(crate) struct Push {
    pub(crate) session_id: i64,
    pub(crate) body: Arc<Vec<u8>>,
    /// A late `rpc_result` for the session rather than updates.
    pub(crate) response: bool,
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

    pub(crate) fn unsubscribe_connection(&self, user_id: i64, connection_id: u64) {
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
