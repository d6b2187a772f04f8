//! Writing attempts down: a new attempt's record, the check against unresolved attempts
//! before it is sent, and every change of its stage and its outcome — in this process's
//! registry of attempts and in the journal, if one is set. [`send`](super::send) calls these
//! around its one send; reconcile records what it finds.

use std::time::Instant;

use grammers_tl_types as tl;

use super::Payments;
use crate::attempt::{
    AttemptId, BotRef, MoneyMethod, Paid, PaymentKind, PendingPayment, Stage, unix_now,
};
use crate::currency::Amount;
use crate::error::Error;
use crate::form::FormUser;
use crate::invoice::InvoiceRef;
use crate::journal::{self, Entry, Resolution};

impl Payments {
    /// A new attempt's record, stage [`Stage::Sending`].
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn new_attempt(
        &self,
        method: MoneyMethod,
        invoice: &InvoiceRef,
        form_id: i64,
        kind: PaymentKind,
        total: Amount,
        bot_id: i64,
        bot: Option<&FormUser>,
        fetched_at: Instant,
    ) -> PendingPayment {
        let now = unix_now();
        let age = i64::try_from(fetched_at.elapsed().as_secs()).unwrap_or(i64::MAX);
        let from_invoice = match invoice {
            InvoiceRef::Message {
                peer: tl::enums::InputPeer::User(u),
                ..
            } if u.user_id == bot_id => Some(u.access_hash),
            _ => None,
        };
        PendingPayment {
            id: AttemptId::random(),
            account: self.account_id().await,
            method,
            invoice: invoice.clone(),
            form_id,
            kind,
            total,
            bot: BotRef {
                id: bot_id,
                access_hash: bot.and_then(|b| b.access_hash).or(from_invoice),
                username: bot.and_then(|b| b.username.clone()),
            },
            form_fetched_at: now.saturating_sub(age),
            sent_at: now,
            clock_offset: self.clock_offset(),
            stage: Stage::Sending,
        }
    }

    /// Refuses to send while an attempt that could pay the same thing is unresolved, then
    /// records the attempt as in flight and writes its intent to the journal.
    pub(super) async fn begin(&self, payment: &PendingPayment) -> Result<(), Error> {
        if let Some(other) = self.inner.registry.conflicting(payment) {
            return Err(Error::Unresolved {
                payment: Box::new(other),
            });
        }
        let local = self.inner.registry.look_alikes(payment);
        if let Some(other) = local.iter().find(|o| o.stage != Stage::Sending) {
            return Err(Error::Unresolved {
                payment: Box::new(other.clone()),
            });
        }
        let journal = self.journal();
        if let Some(journal) = &journal {
            let entries = journal
                .entries()
                .map_err(|source| Error::Journal { source })?;
            // This process's own attempts were checked above (the journal may lag behind).
            let conflict = journal::unresolved(&entries).into_iter().find(|other| {
                other.id != payment.id
                    && other.account == payment.account
                    && (other.form_id == payment.form_id || other.looks_like(payment))
                    && !self.inner.registry.knows(other.id)
            });
            if let Some(other) = conflict {
                return Err(Error::Unresolved {
                    payment: Box::new(other),
                });
            }
        }
        self.inner.registry.start(payment, journal.is_some());
        if let Some(journal) = journal
            && let Err(source) = journal.record(&Entry::Intent {
                payment: payment.clone(),
            })
        {
            self.inner.registry.resolve(payment.id, None);
            return Err(Error::Journal { source });
        }
        Ok(())
    }

    /// Records a changed stage (registry and journal); `outstanding`: the request still awaits
    /// its answer.
    pub(super) fn record_stage(&self, payment: &PendingPayment, outstanding: bool) {
        self.inner.registry.update(payment, outstanding);
        if let Some(journal) = self.journal()
            && let Err(error) = journal.record(&Entry::Update {
                payment: payment.clone(),
            })
        {
            tracing::warn!(%error, attempt = %payment.id, "the journal did not take an update");
        }
    }

    /// Records how an attempt ended (registry, claimed receipt, journal).
    pub(super) fn record_resolution(&self, payment: &PendingPayment, resolution: &Resolution) {
        let receipt = match resolution {
            Resolution::Paid(paid) => paid.receipt.msg_id().map(|id| (paid.receipt.bot_id, id)),
            Resolution::NotPaid { .. } => None,
        };
        self.inner.registry.resolve(payment.id, receipt);
        self.journal_resolution(payment, resolution);
    }

    /// Records a payment reconcile found, claiming its receipt for this attempt — unless another
    /// attempt claimed that receipt since it was read: then nothing is recorded and `false`.
    pub(super) fn record_found_payment(&self, payment: &PendingPayment, paid: &Paid) -> bool {
        match paid.receipt.msg_id() {
            Some(id) => {
                let receipt = (paid.receipt.bot_id, id);
                if self
                    .inner
                    .registry
                    .resolve_paid(payment.id, receipt)
                    .is_err()
                {
                    return false;
                }
            }
            None => self.inner.registry.resolve(payment.id, None),
        }
        self.journal_resolution(payment, &Resolution::Paid(paid.clone()));
        true
    }

    fn journal_resolution(&self, payment: &PendingPayment, resolution: &Resolution) {
        if let Some(journal) = self.journal()
            && let Err(error) = journal.record(&Entry::Resolved {
                id: payment.id,
                resolution: resolution.clone(),
            })
        {
            tracing::warn!(%error, attempt = %payment.id, "the journal did not take an outcome");
        }
    }
}
