//! Scripted faults (errors, answers lost after the work, flood waits) and the outbox of updates.

use super::*;

/// A scripted failure: the next calls of a method fail the way a test wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// TL name of the method, e.g. `payments.sendPaymentForm`.
    pub method: String,
    /// Only for this user; every user when `None`.
    pub user: Option<i64>,
    /// What happens.
    pub action: FaultAction,
    /// How many calls it affects.
    pub times: u32,
}

/// What a [`Fault`] does to a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultAction {
    /// Answer with this RPC error without running the method.
    Error(RpcFail),
    /// Run the method (e.g. charge), then answer with this RPC error instead of its result
    /// (Telegram's `-503 Timeout` after the work was done, or what a re-sent request gets).
    ErrorAfter(RpcFail),
    /// Run the method (e.g. charge), then close the connection without answering.
    DropAfter,
    /// Close the connection without running the method (the request is lost).
    DropBefore,
    /// Run the method, and send its answer only after this long, on the same connection (a
    /// client that gave up in the meantime never sees it).
    Delay(Duration),
    /// A flood wait of this many seconds, held for real: this call and every call of the
    /// method by the user until then get `FLOOD_WAIT_<seconds left>` (code 420), unprocessed.
    Flood(u32),
}

impl World {
    /// Schedules a [`Fault`].
    pub fn inject(&mut self, fault: Fault) {
        self.faults.push(fault);
    }

    /// Forgets every scripted fault and flood wait.
    pub fn clear_faults(&mut self) {
        self.faults.clear();
        self.floods.clear();
    }

    /// Takes the fault that applies to this call, if any (the dispatcher asks before each call).
    /// A [`FaultAction::Flood`] holds for real seconds: every call of the method by the user
    /// until then gets `FLOOD_WAIT_<seconds left>`, as Telegram does.
    pub fn take_fault(&mut self, user: i64, method: &str) -> Option<FaultAction> {
        let now = self.now();
        let key = (user, method.to_owned());
        match self.floods.get(&key) {
            Some(until) if *until > now => {
                return Some(FaultAction::Error(RpcFail::new(
                    420,
                    &format!("FLOOD_WAIT_{}", until - now),
                )));
            }
            Some(_) => {
                self.floods.remove(&key);
            }
            None => {}
        }
        match self.take_scripted(user, method)? {
            FaultAction::Flood(secs) => {
                self.floods
                    .insert(key, now.saturating_add(i64::from(secs.max(1))));
                Some(FaultAction::Error(RpcFail::new(
                    420,
                    &format!("FLOOD_WAIT_{}", secs.max(1)),
                )))
            }
            action => Some(action),
        }
    }

    pub(super) fn take_scripted(&mut self, user: i64, method: &str) -> Option<FaultAction> {
        let index = self
            .faults
            .iter()
            .position(|f| f.times > 0 && f.method == method && f.user.is_none_or(|u| u == user))?;
        let fault = self.faults.get_mut(index)?;
        fault.times -= 1;
        let action = fault.action.clone();
        if fault.times == 0 {
            self.faults.remove(index);
        }
        Some(action)
    }

    /// Updates waiting to be pushed to sessions.
    pub fn take_pushes(&mut self) -> Vec<Push> {
        std::mem::take(&mut self.outbox)
    }
}
