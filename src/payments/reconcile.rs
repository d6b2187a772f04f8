//! Finding out what an attempt did: [`Payments::reconcile`] (one look at the ledger, read by
//! `ledger.rs`) and [`Payments::reconcile_journal`] (every unresolved attempt of a journal).
//! [`Payments::wait_for_verification`] (`verify.rs`) reconciles until a 3-D Secure check ends.

use std::collections::HashMap;
use std::time::Duration;

use grammers_tl_types as tl;

use super::Payments;
use crate::attempt::{
    AttemptId, Evidence, Paid, PaymentKind, PendingPayment, Reconciled, Stage, UnsettledReason,
};
use crate::error::Error;
use crate::invoice::InvoiceRef;
use crate::journal::{self, Resolution};
use crate::receipt::{self, ReceiptRef};
use crate::stars::TransactionFilter;

/// A receipt that may be the attempt's: its message id and date (Telegram's clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Candidate {
    date: i64,
    msg_id: i32,
}

/// What the journal knows, read once per reconcile.
#[derive(Default)]
struct JournalView {
    claimed: HashMap<(i64, i32), AttemptId>,
    unresolved: Vec<PendingPayment>,
}

/// How often one reconcile looks again after look-alikes claimed the receipts it found.
const CLAIM_RETRIES: usize = 16;

pub(super) fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

impl Payments {
    /// Finds out whether an attempt charged, and records the answer (the attempt's receipt is
    /// claimed; the journal gets the outcome). Never sends anything that moves money; safe to
    /// call any number of times. See [what it can tell apart](#what-reconcile-can-tell-apart).
    ///
    ///  # What reconcile can tell apart
    ///
    ///  For an invoice message, the receipt is the one the message names (`receipt_msg_id`): an
    /// invoice message is paid once, and receipts of other invoice messages of the same bot and
    /// price  are never taken for it. For an invoice link (or an invoice message that can no longer
    /// be  read), a receipt counts for an attempt when it is a `messageActionPaymentSent` in the
    /// chat with  the attempt's bot, is for the same total and currency, is for the same invoice
    /// (the same slug  for link invoices; no slug for invoice messages), is dated no earlier than
    /// the attempt was sent  (Telegram's clock, within [`PaymentsConfig::clock_tolerance`]), and is
    /// not already claimed by  another attempt (in this process, or resolved in the journal). The
    /// Stars history, which names  no invoice, is read only when the chat cannot be.
    ///
    ///  Two unresolved attempts that pay the same invoice for the same total from the same account
    /// ([`PendingPayment::looks_like`]) leave receipts that cannot be told apart: as long as fewer
    /// such receipts than such attempts are found — or another such attempt still waits for its
    /// answer, which will name its own receipt — reconcile says
    /// [`UnsettledReason::Indistinguishable`] instead of guessing. A receipt goes to one attempt
    /// only: reconciles running at the same time (in clones of `Payments`, or over other
    /// connections of the same account) claim receipts one at a time, and one that finds its
    /// receipt claimed by another looks again. A receipt made by another device of  the account for
    /// the same invoice and total, after this attempt was sent, cannot be told from  this
    /// attempt's.
    ///
    ///  "Not paid" needs evidence ([`Evidence`]): Telegram refused the attempt, or the attempt can
    /// no  longer go through (its form expired, [`PaymentsConfig::form_lifetime`], or its 3-D
    /// Secure  verification, [`PaymentsConfig::verification_lifetime`], plus
    /// [`PaymentsConfig::settle_margin`]), or the bank's check failed for its page. Before then the
    /// answer is [`Reconciled::Unsettled`].
    ///
    /// [`PaymentsConfig::clock_tolerance`]: crate::PaymentsConfig::clock_tolerance
    /// [`PaymentsConfig::form_lifetime`]: crate::PaymentsConfig::form_lifetime
    /// [`PaymentsConfig::verification_lifetime`]: crate::PaymentsConfig::verification_lifetime
    /// [`PaymentsConfig::settle_margin`]: crate::PaymentsConfig::settle_margin
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let bob = sandbox.client(tgpay_sandbox::scenario::BOB)?;
    /// # let payments = bob.payments();
    /// # let tgpay::PaymentForm::Card(form) = payments.get_payment_form(&tgpay::InvoiceRef::parse("t.me/$ebook")?).await? else { unreachable!() };
    /// use tgpay::credentials::StripeToken;
    /// use tgpay::{Credentials, Outcome, Reconciled};
    ///
    /// let card = Credentials::Stripe(StripeToken::new("tok_sandbox_3ds", "Visa *3184"));
    /// let Outcome::VerificationNeeded(verification) =
    ///     payments.checkout(&form).credentials(card).send().await?
    /// else {
    ///     return Err("3-D Secure was expected".into());
    /// };
    /// // Later, perhaps in another process (a `PendingPayment` is serializable):
    /// match payments.reconcile(&verification.payment).await? {
    ///     Reconciled::Paid(paid) => println!("paid: {:?}", paid.receipt),
    ///     Reconciled::NotPaid { evidence } => println!("not charged: {evidence}"),
    ///     Reconciled::Unsettled { reason, settles_at } => {
    ///         println!("not known yet ({reason}); ask again at {settles_at:?}")
    ///     }
    /// }
    /// # assert!(!payments.reconcile(&verification.payment).await?.is_settled());
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub async fn reconcile(&self, payment: &PendingPayment) -> Result<Reconciled, Error> {
        // A look-alike reconciled at the same time may claim the receipt this look found
        // between the look and its record: then look again (that receipt is now out). Each
        // retry follows another attempt's claim of a receipt this one saw.
        let mut taken = 0;
        loop {
            let answer = self.look(payment).await?;
            match &answer {
                Reconciled::Paid(paid) => {
                    if !self.record_found_payment(payment, paid) {
                        taken += 1;
                        if taken < CLAIM_RETRIES {
                            continue;
                        }
                        return Ok(Reconciled::Unsettled {
                            reason: UnsettledReason::Indistinguishable {
                                attempts: taken + 1,
                                receipts: taken,
                            },
                            settles_at: None,
                        });
                    }
                }
                Reconciled::NotPaid { evidence } => self.record_resolution(
                    payment,
                    &Resolution::NotPaid {
                        evidence: evidence.clone(),
                    },
                ),
                Reconciled::Unsettled { .. } => {}
            }
            return Ok(answer);
        }
    }

    /// Reconciles every unresolved attempt of the journal that belongs to this account (all of
    /// them when the session does not know its user), oldest first: each with its answer, or
    /// the error that stopped its check. Without a journal, nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let bob = sandbox.client(tgpay_sandbox::scenario::BOB)?;
    /// # let journal = std::sync::Arc::new(tgpay::journal::MemoryJournal::new());
    /// # let payments = bob.payments().with_journal(journal);
    /// # let tgpay::PaymentForm::Card(form) = payments.get_payment_form(&tgpay::InvoiceRef::parse("t.me/$ebook")?).await? else { unreachable!() };
    /// # let card = tgpay::Credentials::Stripe(tgpay::credentials::StripeToken::new("tok_sandbox_3ds", "Visa *3184"));
    /// # payments.checkout(&form).credentials(card).send().await?; // left waiting for 3-D Secure
    /// // At start-up, before paying anything: what did the last run leave unresolved?
    /// for (payment, answer) in payments.reconcile_journal().await? {
    ///     println!("{payment}: {:?}", answer?);
    /// }
    /// # assert_eq!(payments.reconcile_journal().await?.len(), 1);
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub async fn reconcile_journal(
        &self,
    ) -> Result<Vec<(PendingPayment, Result<Reconciled, Error>)>, Error> {
        let Some(journal) = self.journal() else {
            return Ok(Vec::new());
        };
        let entries = journal
            .entries()
            .map_err(|source| Error::Journal { source })?;
        let account = self.account_id().await;
        let mut results = Vec::new();
        for payment in journal::unresolved(&entries) {
            if account.is_some() && payment.account.is_some() && payment.account != account {
                continue;
            }
            let answer = self.reconcile(&payment).await;
            results.push((payment, answer));
        }
        Ok(results)
    }

    fn journal_view(&self) -> Result<JournalView, Error> {
        let Some(journal) = self.journal() else {
            return Ok(JournalView::default());
        };
        let entries = journal
            .entries()
            .map_err(|source| Error::Journal { source })?;
        Ok(JournalView {
            claimed: journal::claimed_receipts(&entries).into_iter().collect(),
            unresolved: journal::unresolved(&entries),
        })
    }

    /// Who claimed a receipt, if anyone: this process's record, then the journal.
    fn owner(&self, view: &JournalView, receipt: (i64, i32)) -> Option<AttemptId> {
        self.inner
            .registry
            .claimed_by(receipt)
            .or_else(|| view.claimed.get(&receipt).copied())
    }

    async fn look(&self, payment: &PendingPayment) -> Result<Reconciled, Error> {
        let config = &self.inner.config;
        let server_now = self.server_time().await?;
        let offset = payment
            .clock_offset
            .or_else(|| self.clock_offset())
            .unwrap_or(0);
        let since = payment.sent_at + offset - secs(config.clock_tolerance);
        let view = self.journal_view()?;
        let bot = payment.bot.id;
        let mine = |owner: Option<AttemptId>| owner.is_none() || owner == Some(payment.id);
        let mut candidates: Vec<Candidate> = Vec::new();

        // 1. An invoice message knows its receipt; it is paid once. Read, it names the only
        // receipt that can be this attempt's: receipts of other invoice messages look the same
        // in the chat (no slug) and in the Stars history.
        let mut invoice_read = false;
        if let InvoiceRef::Message { peer, msg_id } = &payment.invoice {
            let messages = self.get_messages(peer, *msg_id).await?;
            let invoice = messages.iter().find_map(|m| match m {
                tl::enums::Message::Message(m) if m.id == *msg_id => Some(m),
                _ => None,
            });
            invoice_read = invoice.is_some();
            if let Some(invoice) = invoice
                && let Some(receipt_id) =
                    receipt::paid_invoice_receipt(&tl::enums::Message::Message(invoice.clone()))
            {
                let owner = self.owner(&view, (bot, receipt_id));
                if owner == Some(payment.id) {
                    return Ok(Reconciled::Paid(self.paid(payment, receipt_id)));
                }
                let date = match invoice.edit_date {
                    Some(date) => i64::from(date),
                    None => self
                        .message_date(peer, receipt_id)
                        .await?
                        .unwrap_or(server_now),
                };
                if owner.is_some() || date < since {
                    return Ok(Reconciled::NotPaid {
                        evidence: Evidence::PaidOtherwise {
                            receipt_msg_id: receipt_id,
                        },
                    });
                }
                candidates.push(Candidate {
                    date,
                    msg_id: receipt_id,
                });
            }
        }

        // 2. The receipts in the chat with the bot since the attempt was sent (for an invoice
        // message that could not be read: any receipt without a slug).
        let chat = if invoice_read {
            None
        } else {
            self.bot_peer(payment).await
        };
        let mut complete = true;
        match &chat {
            Some(chat) => {
                let (found, whole) = self.chat_receipts(chat, payment, since).await?;
                complete = whole;
                for sent in found {
                    if mine(self.owner(&view, (bot, sent.msg_id)))
                        && !candidates.iter().any(|c| c.msg_id == sent.msg_id)
                    {
                        candidates.push(Candidate {
                            date: i64::from(sent.date),
                            msg_id: sent.msg_id,
                        });
                    }
                }
            }
            None if payment.kind == PaymentKind::Card
                && !matches!(payment.invoice, InvoiceRef::Message { .. }) =>
            {
                return Ok(Reconciled::Unsettled {
                    reason: UnsettledReason::ChatUnreachable,
                    settles_at: None,
                });
            }
            None => {}
        }

        // 3. The Stars history names the receipt message but not the invoice: read only when
        // neither the invoice message nor the chat could be.
        if payment.kind == PaymentKind::Stars && !invoice_read && chat.is_none() {
            let mut pager = self.stars_transactions(TransactionFilter {
                outbound: true,
                ..TransactionFilter::default()
            });
            pager.page_size = 100;
            let mut read = 0usize;
            while let Some(tx) = pager.next().await? {
                read += 1;
                if i64::from(tx.date) < since {
                    break;
                }
                if read > config.history_limit {
                    complete = false;
                    break;
                }
                let Some(msg_id) = tx.msg_id else { continue };
                if tx.peer.user_id() == Some(bot)
                    && tx.amount.amount == -payment.total.minor
                    && !tx.refund
                    && !tx.failed
                    && mine(self.owner(&view, (bot, msg_id)))
                    && !candidates.iter().any(|c| c.msg_id == msg_id)
                {
                    candidates.push(Candidate {
                        date: i64::from(tx.date),
                        msg_id,
                    });
                }
            }
        }
        candidates.sort();

        // What this process knows, read at once now that the ledger was read: the look-alikes
        // still unresolved, and the receipts claimed meanwhile (an attempt that resolved while
        // the ledger was read took its receipt with it).
        let receipts: Vec<(i64, i32)> = candidates.iter().map(|c| (bot, c.msg_id)).collect();
        let (others, claimed) =
            self.inner
                .registry
                .look_alikes_and_claims(payment, &receipts, view.unresolved);
        candidates.retain(|c| !claimed.contains(&(bot, c.msg_id)));

        if let Some(first) = candidates.first() {
            // Look-alike attempts that are unresolved and could own one of these receipts, and
            // whether each one's answer is still on its way.
            let others: Vec<(PendingPayment, bool)> = others
                .into_iter()
                .map(|(o, outstanding)| {
                    let awaited = outstanding && self.answer_may_come(&o);
                    (o, awaited)
                })
                .collect();
            let competing: Vec<&(PendingPayment, bool)> = others
                .iter()
                .filter(|(o, _)| {
                    let o_since =
                        o.sent_at + o.clock_offset.unwrap_or(offset) - secs(config.clock_tolerance);
                    candidates.iter().any(|c| c.date >= o_since)
                })
                .collect();
            // More receipts than other attempts that could own them: one is this attempt's. Not
            // while another one's answer is on its way, though: that answer names its own
            // receipt, which could be the one taken here.
            let awaited = competing.iter().any(|(_, awaited)| *awaited);
            if competing.is_empty() || (candidates.len() > competing.len() && !awaited) {
                return Ok(Reconciled::Paid(self.paid(payment, first.msg_id)));
            }
            let competing = competing.len();
            // Fewer receipts than look-alikes (or an answer on its way). Once none of them can
            // go through any more, the receipts go to the earliest sent (they cannot be told
            // apart, so any pairing is as true as another, and the answers add up to the
            // ledger); until then, say so.
            let mut group: Vec<&PendingPayment> = others.iter().map(|(o, _)| o).collect();
            group.push(payment);
            let all_settled = !awaited
                && !others.iter().any(|(_, awaited)| *awaited)
                && group
                    .iter()
                    .all(|p| self.expiry(p, offset).is_none_or(|at| server_now >= at));
            if all_settled {
                group.sort_by_key(|p| (p.sent_at, p.id));
                let rank = group.iter().position(|p| p.id == payment.id).unwrap_or(0);
                return Ok(match candidates.get(rank) {
                    Some(receipt) => Reconciled::Paid(self.paid(payment, receipt.msg_id)),
                    None => Reconciled::NotPaid {
                        evidence: Evidence::Expired {
                            expired_at: self.expiry(payment, offset).unwrap_or(server_now),
                        },
                    },
                });
            }
            return Ok(Reconciled::Unsettled {
                reason: UnsettledReason::Indistinguishable {
                    attempts: competing + 1,
                    receipts: candidates.len(),
                },
                settles_at: group.iter().filter_map(|p| self.expiry(p, offset)).max(),
            });
        }
        if !complete {
            return Ok(Reconciled::Unsettled {
                reason: UnsettledReason::HistoryTooLong,
                settles_at: None,
            });
        }

        // Nothing found: settled only with evidence.
        if let Stage::Refused { error } = &payment.stage {
            return Ok(Reconciled::NotPaid {
                evidence: Evidence::Refused {
                    error: error.clone(),
                },
            });
        }
        if let Some(url) = payment.verification_url()
            && let Some(message) = self.state().failed_verifications.get(url).cloned()
        {
            return Ok(Reconciled::NotPaid {
                evidence: Evidence::VerificationFailed { message },
            });
        }
        let expires = self.expiry(payment, offset).unwrap_or(server_now);
        if server_now >= expires {
            return Ok(Reconciled::NotPaid {
                evidence: Evidence::Expired {
                    expired_at: expires,
                },
            });
        }
        Ok(Reconciled::Unsettled {
            reason: match payment.verification_url() {
                Some(url) => UnsettledReason::VerificationOpen {
                    url: url.to_owned(),
                },
                None => UnsettledReason::MayStillBeProcessed,
            },
            settles_at: Some(expires),
        })
    }

    /// When an attempt can no longer charge (Telegram's clock, with the settle margin), given
    /// Telegram's clock offset: its 3-D Secure verification's end, or, unanswered, the later of
    /// its form's end and the end of a verification it may have started. `None`: already
    /// settled (refused).
    fn expiry(&self, payment: &PendingPayment, offset: i64) -> Option<i64> {
        let config = &self.inner.config;
        let offset = payment.clock_offset.unwrap_or(offset);
        let margin = secs(config.settle_margin);
        match &payment.stage {
            Stage::Refused { .. } => None,
            Stage::Verifying { since, .. } => {
                Some(since + offset + secs(config.verification_lifetime) + margin)
            }
            Stage::Sending | Stage::Unanswered => {
                let form_expiry = payment.form_fetched_at + secs(config.form_lifetime);
                let verification_expiry = match payment.kind {
                    // A lost answer may have been a 3-D Secure page nobody will confirm.
                    PaymentKind::Card => payment.sent_at + secs(config.verification_lifetime),
                    PaymentKind::Stars => i64::MIN,
                };
                Some(form_expiry.max(verification_expiry) + offset + margin)
            }
        }
    }

    /// Whether the answer to an attempt's request may still come (and name its receipt): the
    /// request leaves no earlier than `sent_at`, and its answer is not waited for longer than
    /// the send timeout.
    fn answer_may_come(&self, payment: &PendingPayment) -> bool {
        crate::attempt::unix_now() <= payment.sent_at + secs(self.inner.config.send_timeout) + 1
    }

    fn paid(&self, payment: &PendingPayment, receipt_msg_id: i32) -> Paid {
        Paid {
            receipt: ReceiptRef {
                bot_id: payment.bot.id,
                peer: payment.bot.input_peer(),
                receipt_msg_id: Some(receipt_msg_id),
                invoice_msg_id: payment.invoice_msg_id(),
            },
            total: payment.total,
            kind: payment.kind,
            attempt: payment.id,
        }
    }
}
