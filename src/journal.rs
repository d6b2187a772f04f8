//! A payment journal: every money-moving attempt is written down before its request leaves,
//! and its outcome after, so that nothing is lost when the process dies.
//!
//! [`Payments`](crate::Payments) with a journal ([`Payments::with_journal`]) records an
//! [`Entry::Intent`] (and waits for it to be on disk) before sending, an [`Entry::Update`] when
//! the attempt's stage changes (a 3-D Secure page, no answer), and an [`Entry::Resolved`] once it
//! is known to have paid or not. [`Payments::reconcile_journal`] resolves whatever was left
//! unresolved, and the journal's resolved receipts are never matched to another attempt.
//!
//! [`JsonlJournal`] keeps the entries in a JSON-lines file, one entry per line, each appended
//! with a single write and synced to disk; several processes may share the file.
//!
//! ```no_run
//! # async fn f(payments: tgpay::Payments) -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use tgpay::journal::JsonlJournal;
//!
//! let journal = Arc::new(JsonlJournal::open("payments.jsonl")?);
//! let payments = payments.with_journal(journal);
//! for (payment, answer) in payments.reconcile_journal().await? {
//!     println!("{payment}: {answer:?}");
//! }
//! # Ok(()) }
//! ```
//!
//! [`Payments::with_journal`]: crate::Payments::with_journal
//! [`Payments::reconcile_journal`]: crate::Payments::reconcile_journal

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::attempt::{AttemptId, Evidence, Paid, PendingPayment};

/// One line of a journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "entry")]
pub enum Entry {
    /// The attempt is about to be sent (written and synced first).
    Intent {
        /// The attempt.
        payment: PendingPayment,
    },
    /// The attempt's stage changed (a 3-D Secure page, no answer).
    Update {
        /// The attempt, as it stands now.
        payment: PendingPayment,
    },
    /// The attempt is over.
    Resolved {
        /// The attempt.
        id: AttemptId,
        /// How it ended.
        resolution: Resolution,
    },
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "resolution")]
pub enum Resolution {
    /// It paid.
    Paid(Paid),
    /// It charged nothing.
    NotPaid {
        /// Why tgpay says so.
        evidence: Evidence,
    },
}

/// Where attempts are written down. Implementations must have an [`Entry::Intent`] durably
/// stored when [`Journal::record`] returns `Ok`: the request is sent only then.
pub trait Journal: Send + Sync + fmt::Debug {
    /// Appends an entry.
    fn record(&self, entry: &Entry) -> io::Result<()>;

    /// Every entry, oldest first.
    fn entries(&self) -> io::Result<Vec<Entry>>;
}

/// The attempts of `entries` that were never resolved, each in its latest recorded state,
/// oldest first.
pub fn unresolved(entries: &[Entry]) -> Vec<PendingPayment> {
    let mut order = Vec::new();
    let mut latest: HashMap<AttemptId, PendingPayment> = HashMap::new();
    for entry in entries {
        match entry {
            Entry::Intent { payment } | Entry::Update { payment } => {
                if !latest.contains_key(&payment.id) {
                    order.push(payment.id);
                }
                latest.insert(payment.id, payment.clone());
            }
            Entry::Resolved { .. } => {}
        }
    }
    for entry in entries {
        if let Entry::Resolved { id, .. } = entry {
            latest.remove(id);
        }
    }
    order
        .into_iter()
        .filter_map(|id| latest.remove(&id))
        .collect()
}

/// The receipts that resolved attempts of `entries` paid with: `((bot id, receipt message id),
/// attempt)`.
pub fn claimed_receipts(entries: &[Entry]) -> Vec<((i64, i32), AttemptId)> {
    entries
        .iter()
        .filter_map(|entry| match entry {
            Entry::Resolved {
                id,
                resolution: Resolution::Paid(paid),
            } => paid
                .receipt
                .msg_id()
                .map(|msg| ((paid.receipt.bot_id, msg), *id)),
            _ => None,
        })
        .collect()
}

/// A journal in a JSON-lines file: one [`Entry`] per line, appended with one write and synced
/// (`fsync`) before [`Journal::record`] returns. The file and its directory are created private
/// (mode 0600 / 0700 on Unix). Lines that do not parse (a line torn by a crash: its request was
/// never sent) are skipped when reading, and counted in [`JsonlJournal::skipped_lines`].
pub struct JsonlJournal {
    path: PathBuf,
    lock: Mutex<()>,
    skipped: Mutex<usize>,
}

impl fmt::Debug for JsonlJournal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonlJournal")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl JsonlJournal {
    /// Opens (creating it if needed) the journal at `path`.
    pub fn open(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir)?;
        }
        open_append(&path)?;
        Ok(JsonlJournal {
            path,
            lock: Mutex::new(()),
            skipped: Mutex::new(0),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many lines the last read skipped because they did not parse.
    pub fn skipped_lines(&self) -> usize {
        *self.skipped.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Journal for JsonlJournal {
    fn record(&self, entry: &Entry) -> io::Result<()> {
        let mut line = serde_json::to_vec(entry).map_err(io::Error::other)?;
        line.push(b'\n');
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut file = open_append(&self.path)?;
        file.write_all(&line)?;
        file.sync_data()
    }

    fn entries(&self) -> io::Result<Vec<Entry>> {
        let text = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        let mut entries = Vec::new();
        let mut skipped = 0;
        for line in text.split(|b| *b == b'\n') {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<Entry>(line) {
                Ok(entry) => entries.push(entry),
                Err(error) => {
                    skipped += 1;
                    tracing::warn!(%error, path = %self.path.display(), "journal line skipped");
                }
            }
        }
        *self.skipped.lock().unwrap_or_else(|p| p.into_inner()) = skipped;
        Ok(entries)
    }
}

/// A journal kept in memory (for tests, and for apps that keep their own records through it).
#[derive(Debug, Default)]
pub struct MemoryJournal {
    entries: Mutex<Vec<Entry>>,
}

impl MemoryJournal {
    /// An empty journal.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Journal for MemoryJournal {
    fn record(&self, entry: &Entry) -> io::Result<()> {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(entry.clone());
        Ok(())
    }

    fn entries(&self) -> io::Result<Vec<Entry>> {
        Ok(self
            .entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone())
    }
}

fn open_append(path: &Path) -> io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}
