//! The attempts of an account that this process knows about, shared by every [`Payments`]
//! over the same authorization (same auth key), and the receipts already matched to an attempt.
//!
//! Reconcile reads it to tell an attempt's receipt from a look-alike's: a receipt already
//! claimed by another attempt is never matched again, and while look-alike attempts are
//! unresolved their receipts cannot be told apart. For the attempts this process started or
//! resolved it is the truth; a journal speaks only for the others (another process's).
//!
//! [`Payments`]: super::Payments

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use crate::attempt::{AttemptId, PendingPayment};

/// Identifies an authorization: a hash of the home DC's auth key (never the key itself).
pub(crate) type AccountKey = u64;

/// How many claimed receipts an account remembers (the oldest are forgotten first).
const CLAIMED_LIMIT: usize = 65_536;

/// An unresolved attempt of this process.
struct Tracked {
    payment: PendingPayment,
    /// Its request is outstanding right now.
    outstanding: bool,
    /// It is (or may be) in a journal.
    journaled: bool,
}

#[derive(Default)]
struct Book {
    attempts: HashMap<AttemptId, Tracked>,
    claimed: HashMap<(i64, i32), AttemptId>,
    claimed_order: VecDeque<(i64, i32)>,
    /// Journaled attempts this process started or resolved: for them this book, not a journal
    /// read a moment ago, says whether they are unresolved. An attempt no journal holds needs
    /// no entry: no journal can speak for it.
    known: HashSet<AttemptId>,
    known_order: VecDeque<AttemptId>,
}

impl Book {
    /// Forgets an unresolved attempt, remembering it as known if a journal may hold it (an
    /// attempt this book did not track came from a journal).
    fn settle(&mut self, id: AttemptId) {
        let journaled = self.attempts.remove(&id).is_none_or(|t| t.journaled);
        if journaled {
            self.remember(id);
        }
    }

    /// Claims `receipt` (bot id, receipt message) for the attempt `id`.
    fn claim(&mut self, receipt: (i64, i32), id: AttemptId) {
        if self.claimed.insert(receipt, id).is_none() {
            self.claimed_order.push_back(receipt);
            if self.claimed_order.len() > CLAIMED_LIMIT
                && let Some(old) = self.claimed_order.pop_front()
            {
                self.claimed.remove(&old);
            }
        }
    }

    fn remember(&mut self, id: AttemptId) {
        if self.known.insert(id) {
            self.known_order.push_back(id);
            if self.known_order.len() > CLAIMED_LIMIT
                && let Some(old) = self.known_order.pop_front()
            {
                self.known.remove(&old);
            }
        }
    }
}

/// An unresolved attempt, and whether its request still awaits its answer.
pub(crate) type Unresolved = (PendingPayment, bool);

/// One account's book. Every [`Payments`](super::Payments) over the account holds it, so that
/// its operations lock this account's book only, without a process-wide look-up.
#[derive(Default)]
pub(crate) struct Registry(Mutex<Book>);

static BOOKS: LazyLock<Mutex<HashMap<AccountKey, Arc<Registry>>>> = LazyLock::new(Default::default);

/// The account's registry, shared by every `Payments` over it for the life of the process.
pub(crate) fn of(account: AccountKey) -> Arc<Registry> {
    let mut books = BOOKS.lock().unwrap_or_else(|p| p.into_inner());
    Arc::clone(books.entry(account).or_default())
}

impl Registry {
    fn book(&self) -> MutexGuard<'_, Book> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An unresolved attempt with the same form, or the same invoice message, if any: sending
    /// another one could pay twice.
    pub(crate) fn conflicting(&self, payment: &PendingPayment) -> Option<PendingPayment> {
        let book = self.book();
        book.attempts
            .values()
            .map(|t| &t.payment)
            .find(|other| {
                other.id != payment.id
                    && (other.form_id == payment.form_id
                        || (payment.invoice_msg_id().is_some()
                            && other.invoice_msg_id() == payment.invoice_msg_id()
                            && other.bot.id == payment.bot.id))
            })
            .cloned()
    }

    /// Records an attempt as in flight (its request about to leave); `journaled`: its intent goes
    /// to a journal.
    pub(crate) fn start(&self, payment: &PendingPayment, journaled: bool) {
        let mut book = self.book();
        if journaled {
            book.remember(payment.id);
        }
        book.attempts.insert(
            payment.id,
            Tracked {
                payment: payment.clone(),
                outstanding: true,
                journaled,
            },
        );
    }

    /// Whether this process started or resolved the attempt (then the journal does not speak for
    /// it: see [`Registry::look_alikes_and_claims`]).
    pub(crate) fn knows(&self, id: AttemptId) -> bool {
        self.book().known.contains(&id)
    }

    /// Records the attempt's latest state; `outstanding`: its request still awaits an answer. An
    /// attempt not tracked yet came from a journal.
    pub(crate) fn update(&self, payment: &PendingPayment, outstanding: bool) {
        let mut book = self.book();
        match book.attempts.get_mut(&payment.id) {
            Some(tracked) => {
                tracked.payment = payment.clone();
                tracked.outstanding = outstanding;
            }
            None => {
                let tracked = Tracked {
                    payment: payment.clone(),
                    outstanding,
                    journaled: true,
                };
                book.attempts.insert(payment.id, tracked);
            }
        }
    }

    /// Forgets a resolved attempt; `receipt` (bot id, receipt message) is claimed by it.
    pub(crate) fn resolve(&self, id: AttemptId, receipt: Option<(i64, i32)>) {
        let mut book = self.book();
        book.settle(id);
        if let Some(receipt) = receipt {
            book.claim(receipt, id);
        }
    }

    /// Resolves an attempt as paid with `receipt` (bot id, receipt message), unless another attempt
    /// claimed that receipt first: then nothing changes, and that attempt is returned.
    pub(crate) fn resolve_paid(&self, id: AttemptId, receipt: (i64, i32)) -> Result<(), AttemptId> {
        let mut book = self.book();
        if let Some(owner) = book.claimed.get(&receipt).copied()
            && owner != id
        {
            return Err(owner);
        }
        book.settle(id);
        book.claim(receipt, id);
        Ok(())
    }

    /// Unresolved attempts that look like `payment` (other than itself), each with whether its
    /// request still awaits its answer, and which of `receipts` another attempt claimed — this
    /// process's attempts from the book, and the `journal`'s unresolved attempts that this process
    /// does not know (another process's). Read together: an attempt that resolves while a reconcile
    /// reads the ledger is either still unresolved here or has its receipt claimed here, never
    /// neither and never both (a journal read earlier would still list it as unresolved).
    pub(crate) fn look_alikes_and_claims(
        &self,
        payment: &PendingPayment,
        receipts: &[(i64, i32)],
        journal: Vec<PendingPayment>,
    ) -> (Vec<Unresolved>, Vec<(i64, i32)>) {
        let book = self.book();
        let mut others: Vec<Unresolved> = book
            .attempts
            .values()
            .filter(|t| t.payment.id != payment.id && t.payment.looks_like(payment))
            .map(|t| (t.payment.clone(), t.outstanding))
            .collect();
        for other in journal {
            if other.id != payment.id
                && other.looks_like(payment)
                && !book.known.contains(&other.id)
                && !others.iter().any(|(o, _)| o.id == other.id)
            {
                others.push((other, false));
            }
        }
        let claimed = receipts
            .iter()
            .filter(|r| {
                book.claimed
                    .get(r)
                    .is_some_and(|owner| *owner != payment.id)
            })
            .copied()
            .collect();
        (others, claimed)
    }

    /// The attempt a receipt already belongs to, if any.
    pub(crate) fn claimed_by(&self, receipt: (i64, i32)) -> Option<AttemptId> {
        self.book().claimed.get(&receipt).copied()
    }

    /// Unresolved attempts that look like `payment` (see [`PendingPayment::looks_like`]), other
    /// than itself.
    pub(crate) fn look_alikes(&self, payment: &PendingPayment) -> Vec<PendingPayment> {
        self.book()
            .attempts
            .values()
            .map(|t| &t.payment)
            .filter(|other| other.id != payment.id && other.looks_like(payment))
            .cloned()
            .collect()
    }

    /// How many of the account's attempts await an answer or a 3-D Secure confirmation.
    pub(crate) fn in_flight(&self) -> usize {
        self.book()
            .attempts
            .values()
            .filter(|t| t.outstanding || t.payment.verification_url().is_some())
            .count()
    }
}
