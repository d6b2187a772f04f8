//! [`Payments`]: the payment flow over a grammers [`Client`]. The only place tgpay calls
//! `invoke`; every other module works on values.
//!
//! One method per user action. The only hidden state is what Telegram's own apps keep too: the
//! temporary password that unlocks saved cards (cached until shortly before it expires), the
//! last known Stars balance, and a short log of payment updates the app forwards with
//! [`Payments::handle_update`] (receipts, the merchant's pre-checkout reason).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use grammers_client::Client;
use grammers_mtsender::{InvocationError, UpdatesConfiguration};
use grammers_session::updates::UpdatesLike;
use grammers_tl_types as tl;
use tokio::sync::{Notify, mpsc};
use zeroize::Zeroizing;

use crate::checkout::{
    AmbiguityCause, AmbiguousPayment, CheckedOrder, Checkout, Outcome, Paid, PaymentKind,
    Reconciled, StarsCheckout, Verification, bot_peer, unix_now,
};
use crate::credentials::{Credentials, TmpPassword};
use crate::currency::Currency;
use crate::error::{Error, PaymentError};
use crate::form::{CardForm, PaymentForm, StarsForm};
use crate::invoice::InvoiceRef;
use crate::order::{OrderInfo, SavedInfo, ValidatedOrder};
use crate::receipt::{self, PaymentSent, Receipt, ReceiptRef};
use crate::secret::SecretString;
use crate::stars::{StarsStatus, StarsTopupOption, StarsTransaction, TransactionFilter};

/// Tunables of [`Payments`].
#[derive(Debug, Clone)]
pub struct PaymentsConfig {
    /// How long a temporary password is asked for (Telegram Desktop: 15 minutes).
    pub tmp_password_period: Duration,
    /// A cached temporary password is not used this close to its expiry.
    pub tmp_password_reserve: Duration,
    /// After a pre-checkout rejection, how long to wait for the merchant's reason to arrive as
    /// a forwarded service notification.
    pub precheckout_reason_wait: Duration,
    /// While waiting for a 3-D Secure verification, how often to look for the receipt when no
    /// forwarded update has said anything.
    pub poll_interval: Duration,
    /// How far back (seconds, by the local clock) a receipt may be dated and still count as the
    /// payment being reconciled: covers clock skew between this machine and Telegram.
    pub reconcile_skew: i64,
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        PaymentsConfig {
            tmp_password_period: Duration::from_secs(TmpPassword::DEFAULT_PERIOD_SECS as u64),
            tmp_password_reserve: Duration::from_secs(TmpPassword::RESERVE_SECS as u64),
            precheckout_reason_wait: Duration::from_secs(1),
            poll_interval: Duration::from_secs(3),
            reconcile_skew: 60,
        }
    }
}

/// A payment update the app forwarded.
#[derive(Debug, Clone)]
enum Event {
    PaymentSent(PaymentSent),
    InvoicePaid {
        chat_id: i64,
        msg_id: i32,
        receipt_msg_id: i32,
    },
    Notification {
        kind: String,
        message: String,
    },
}

const EVENT_LOG: usize = 256;

#[derive(Default)]
struct State {
    tmp_password: Option<TmpPassword>,
    stars_balance: Option<i64>,
    events: VecDeque<(Instant, Event)>,
}

struct Inner {
    client: Client,
    config: PaymentsConfig,
    state: Mutex<State>,
    notify: Notify,
}

/// The payment flow over a grammers [`Client`]. Cheap to clone; clones share the cache.
///
/// ```no_run
/// # async fn pay(client: grammers_client::Client) -> Result<(), tgpay::Error> {
/// use tgpay::{Credentials, InvoiceRef, Payments, PaymentForm};
/// use tgpay::credentials::StripeToken;
///
/// let payments = Payments::new(client);
/// let invoice: InvoiceRef = "https://t.me/$ebook".parse().expect("an invoice link");
/// let PaymentForm::Card(form) = payments.get_payment_form(&invoice).await? else {
///     panic!("a card invoice");
/// };
/// let max = form.invoice.currency.amount(1000); // never more than 10.00
/// let outcome = payments
///     .checkout(&form)
///     .credentials(Credentials::Stripe(StripeToken::new("tok_visa", "Visa *4242")))
///     .max_total(max)
///     .send()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Payments {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Payments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state();
        f.debug_struct("Payments")
            .field("config", &self.inner.config)
            .field("tmp_password_cached", &state.tmp_password.is_some())
            .field("stars_balance", &state.stars_balance)
            .finish_non_exhaustive()
    }
}

fn is_server_failure(error: &PaymentError) -> bool {
    error.code().is_some_and(|code| code >= 500)
}

impl Payments {
    /// The flow over `client` with the default [`PaymentsConfig`].
    pub fn new(client: Client) -> Self {
        Self::with_config(client, PaymentsConfig::default())
    }

    /// The flow over `client` with custom tunables.
    pub fn with_config(client: Client, config: PaymentsConfig) -> Self {
        Payments {
            inner: Arc::new(Inner {
                client,
                config,
                state: Mutex::new(State::default()),
                notify: Notify::new(),
            }),
        }
    }

    /// The grammers client (raw `invoke` stays available).
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The tunables.
    pub fn config(&self) -> &PaymentsConfig {
        &self.inner.config
    }

    fn state(&self) -> MutexGuard<'_, State> {
        match self.inner.state.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Invokes any request, with tgpay's typed errors. The answer's nesting is checked before
    /// it is decoded ([`crate::tl::nesting`]).
    pub async fn invoke<R: tl::RemoteCall + tl::Identifiable>(
        &self,
        request: &R,
    ) -> Result<R::Return, Error> {
        Ok(crate::tl::nesting::invoke(&self.inner.client, request).await?)
    }

    // ----- forms and order info -----

    /// `payments.getPaymentForm`: the form of an invoice, typed and sanitized.
    pub async fn get_payment_form(&self, invoice: &InvoiceRef) -> Result<PaymentForm, Error> {
        let form = self
            .invoke(&tl::functions::payments::GetPaymentForm {
                invoice: invoice.to_input_invoice(),
                theme_params: None,
            })
            .await?;
        Ok(PaymentForm::from_tl(form, invoice.clone())?)
    }

    /// `payments.getSavedInfo`: the order info and whether a card is saved.
    pub async fn get_saved_info(&self) -> Result<SavedInfo, Error> {
        let saved = self
            .invoke(&tl::functions::payments::GetSavedInfo {})
            .await?;
        Ok(SavedInfo::from_tl(saved))
    }

    /// `payments.clearSavedInfo`: forgets the saved order info and/or saved cards. Clearing
    /// the cards also drops the cached temporary password.
    pub async fn clear_saved_info(&self, info: bool, credentials: bool) -> Result<(), Error> {
        self.invoke(&tl::functions::payments::ClearSavedInfo { credentials, info })
            .await?;
        if credentials {
            self.forget_tmp_password();
        }
        Ok(())
    }

    /// `payments.validateRequestedInfo`: checks `info` locally (the same typed errors the
    /// server uses), then with the merchant; returns the order id and the shipping options.
    /// `save` stores the info for next time.
    pub async fn validate_requested_info(
        &self,
        form: &CardForm,
        info: &OrderInfo,
        save: bool,
    ) -> Result<ValidatedOrder, Error> {
        let requested = &form.invoice.requested;
        let missing = OrderInfo::autofill(requested, None, info).missing;
        if !missing.is_empty() {
            return Err(Error::OrderIncomplete { missing });
        }
        info.check(requested)?;
        let validated = self
            .invoke(&tl::functions::payments::ValidateRequestedInfo {
                save,
                invoice: form.invoice_ref.to_input_invoice(),
                info: info.to_tl(),
            })
            .await?;
        Ok(ValidatedOrder::from_tl(
            validated,
            info.clone(),
            save,
            form.invoice.currency,
        )?)
    }

    // ----- 2FA and the temporary password -----

    /// The cached temporary password, if it is still valid with the safety reserve.
    pub fn tmp_password(&self) -> Option<TmpPassword> {
        let reserve = self.inner.config.tmp_password_reserve.as_secs() as i64;
        let now = unix_now();
        let mut state = self.state();
        match &state.tmp_password {
            Some(tmp) if tmp.is_valid_at(now, reserve) => Some(tmp.clone()),
            Some(_) => {
                state.tmp_password = None;
                None
            }
            None => None,
        }
    }

    /// Drops the cached temporary password.
    pub fn forget_tmp_password(&self) {
        self.state().tmp_password = None;
    }

    /// A temporary password for paying with saved cards: the cached one while it is valid,
    /// otherwise `account.getPassword` → SRP with `password` → `account.getTmpPassword`, then
    /// cached. A wrong password is [`Error::WrongPassword`] with the account's hint.
    pub async fn get_tmp_password(&self, password: &SecretString) -> Result<TmpPassword, Error> {
        if let Some(tmp) = self.tmp_password() {
            return Ok(tmp);
        }
        let period = i32::try_from(self.inner.config.tmp_password_period.as_secs())
            .unwrap_or(TmpPassword::DEFAULT_PERIOD_SECS);
        let mut attempts = 0;
        loop {
            attempts += 1;
            let tl::enums::account::Password::Password(params) =
                self.invoke(&tl::functions::account::GetPassword {}).await?;
            let hint = params.hint.clone();
            let secret = Zeroizing::new(password.expose().as_bytes().to_vec());
            let check = tokio::task::spawn_blocking(move || {
                crate::srp::check_password(&params, secret.as_slice())
            })
            .await
            .map_err(|_| Error::UnexpectedAnswer {
                what: "nothing (the SRP computation was cancelled)",
            })??;
            match self
                .inner
                .client
                .invoke(&tl::functions::account::GetTmpPassword {
                    password: check,
                    period,
                })
                .await
            {
                Ok(tmp) => {
                    let tmp = TmpPassword::from_tl(tmp);
                    self.state().tmp_password = Some(tmp.clone());
                    return Ok(tmp);
                }
                Err(e) => match PaymentError::from(e) {
                    PaymentError::PasswordHashInvalid => {
                        return Err(Error::WrongPassword { hint });
                    }
                    // The srp_id went stale between the two calls: fetch fresh parameters once.
                    PaymentError::SrpIdInvalid if attempts < 2 => continue,
                    other => return Err(Error::Telegram(other)),
                },
            }
        }
    }

    // ----- checkout -----

    /// Starts the checkout of a card form.
    pub fn checkout<'a>(&'a self, form: &'a CardForm) -> Checkout<'a> {
        Checkout::new(self, form)
    }

    /// Starts the checkout of a Stars form.
    pub fn checkout_stars<'a>(&'a self, form: &'a StarsForm) -> StarsCheckout<'a> {
        StarsCheckout::new(self, form)
    }

    /// A successful `payments.paymentResult`: its updates are fed to the flow and its receipt
    /// is found among them.
    fn paid(
        &self,
        updates: &tl::enums::Updates,
        (bot_id, bot): (i64, Option<&crate::form::FormUser>),
        invoice_ref: &InvoiceRef,
        total: crate::currency::Amount,
        kind: PaymentKind,
    ) -> Paid {
        self.handle_updates(updates);
        Paid {
            receipt: receipt::receipt_from_updates(
                updates,
                bot_id,
                bot_peer(bot),
                invoice_msg_id(invoice_ref),
            ),
            total,
            kind,
        }
    }

    pub(crate) async fn send_card_payment(
        &self,
        form: &CardForm,
        checked: CheckedOrder,
        credentials: Credentials,
        save: bool,
    ) -> Result<Outcome, Error> {
        let tmp = match credentials {
            Credentials::Saved(_) => self.tmp_password(),
            _ => None,
        };
        let input = credentials.to_tl(save, tmp.as_ref())?;
        let started_at = unix_now();
        let sent = Instant::now();
        let request = tl::functions::payments::SendPaymentForm {
            form_id: form.form_id,
            invoice: form.invoice_ref.to_input_invoice(),
            requested_info_id: checked.requested_info_id,
            shipping_option_id: checked.shipping_option_id,
            credentials: input,
            tip_amount: checked.tip.map(|t| t.minor),
        };
        let pending = |cause| AmbiguousPayment {
            invoice_ref: form.invoice_ref.clone(),
            form_id: form.form_id,
            kind: PaymentKind::Card,
            total: checked.total,
            bot: form.bot.clone(),
            bot_id: form.bot_id,
            started_at,
            cause,
        };
        tracing::info!(form_id = form.form_id, total = %checked.total, "sending card payment");
        match crate::tl::nesting::invoke(&self.inner.client, &request).await {
            Ok(tl::enums::payments::PaymentResult::Result(result)) => Ok(Outcome::Paid(self.paid(
                &result.updates,
                (form.bot_id, form.bot.as_ref()),
                &form.invoice_ref,
                checked.total,
                PaymentKind::Card,
            ))),
            Ok(tl::enums::payments::PaymentResult::PaymentVerificationNeeded(v)) => {
                Ok(Outcome::VerificationNeeded(Verification {
                    url: v.url.clone(),
                    pending: pending(AmbiguityCause::VerificationPending { url: v.url }),
                    sent,
                }))
            }
            Err(InvocationError::Rpc(rpc)) => {
                let error = PaymentError::from(rpc);
                match error {
                    PaymentError::FormSubmitDuplicate => Err(Error::Ambiguous(Box::new(pending(
                        AmbiguityCause::DuplicateSubmit,
                    )))),
                    e if is_server_failure(&e) => Err(Error::Ambiguous(Box::new(pending(
                        AmbiguityCause::ServerError(e),
                    )))),
                    PaymentError::BotPrecheckoutFailed | PaymentError::PrecheckoutFailed => {
                        Err(Error::PrecheckoutRejected {
                            reason: self.precheckout_reason(sent).await,
                        })
                    }
                    PaymentError::TmpPasswordInvalid => {
                        self.forget_tmp_password();
                        Err(Error::Telegram(error))
                    }
                    e => Err(Error::Telegram(e)),
                }
            }
            Err(e) => Err(Error::Ambiguous(Box::new(pending(
                AmbiguityCause::Transport(e),
            )))),
        }
    }

    pub(crate) async fn send_stars_payment(&self, form: &StarsForm) -> Result<Outcome, Error> {
        let price = form.price;
        if let Some(balance) = self.state().stars_balance
            && balance < price.minor
        {
            return Err(insufficient(balance, price));
        }
        let mut form_id = form.form_id;
        let mut refetched = false;
        loop {
            let started_at = unix_now();
            let sent = Instant::now();
            let pending = |cause| AmbiguousPayment {
                invoice_ref: form.invoice_ref.clone(),
                form_id,
                kind: PaymentKind::Stars,
                total: price,
                bot: form.bot.clone(),
                bot_id: form.bot_id,
                started_at,
                cause,
            };
            tracing::info!(form_id, %price, "sending Stars payment");
            let result = crate::tl::nesting::invoke(
                &self.inner.client,
                &tl::functions::payments::SendStarsForm {
                    form_id,
                    invoice: form.invoice_ref.to_input_invoice(),
                },
            )
            .await;
            let error = match result {
                Ok(tl::enums::payments::PaymentResult::Result(result)) => {
                    return Ok(Outcome::Paid(self.paid(
                        &result.updates,
                        (form.bot_id, form.bot.as_ref()),
                        &form.invoice_ref,
                        price,
                        PaymentKind::Stars,
                    )));
                }
                Ok(tl::enums::payments::PaymentResult::PaymentVerificationNeeded(_)) => {
                    return Err(Error::UnexpectedAnswer {
                        what: "a verification page for a Stars payment",
                    });
                }
                Err(InvocationError::Rpc(rpc)) => PaymentError::from(rpc),
                Err(e) => {
                    return Err(Error::Ambiguous(Box::new(pending(
                        AmbiguityCause::Transport(e),
                    ))));
                }
            };
            match error {
                PaymentError::BalanceTooLow => {
                    let status = self.get_stars_status().await?;
                    return Err(insufficient(status.balance.amount, price));
                }
                PaymentError::FormExpired if !refetched => {
                    refetched = true;
                    match self.get_payment_form(&form.invoice_ref).await? {
                        PaymentForm::Stars(fresh) if fresh.price == price => {
                            form_id = fresh.form_id;
                            continue;
                        }
                        fresh => return Err(price_changed(price, fresh)),
                    }
                }
                PaymentError::StarsFormAmountMismatch => {
                    let fresh = self.get_payment_form(&form.invoice_ref).await?;
                    return Err(price_changed(price, fresh));
                }
                PaymentError::BotPrecheckoutFailed | PaymentError::PrecheckoutFailed => {
                    return Err(Error::PrecheckoutRejected {
                        reason: self.precheckout_reason(sent).await,
                    });
                }
                PaymentError::FormSubmitDuplicate => {
                    return Err(Error::Ambiguous(Box::new(pending(
                        AmbiguityCause::DuplicateSubmit,
                    ))));
                }
                e if is_server_failure(&e) => {
                    return Err(Error::Ambiguous(Box::new(pending(
                        AmbiguityCause::ServerError(e),
                    ))));
                }
                e => return Err(Error::Telegram(e)),
            }
        }
    }

    /// The merchant's reason for a pre-checkout rejection: a service notification forwarded
    /// after `since`, waited for up to [`PaymentsConfig::precheckout_reason_wait`].
    async fn precheckout_reason(&self, since: Instant) -> Option<String> {
        let deadline = tokio::time::Instant::now() + self.inner.config.precheckout_reason_wait;
        loop {
            let notified = self.inner.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let found = self.state().events.iter().find_map(|(at, e)| match e {
                Event::Notification { message, .. } if *at >= since => Some(message.clone()),
                _ => None,
            });
            if found.is_some() {
                return found;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return None;
            }
        }
    }

    // ----- outcome -----

    /// Waits until a 3-D Secure verification ends: paid (the receipt arrived as a forwarded
    /// update, or was found by polling every [`PaymentsConfig::poll_interval`]), failed (a
    /// forwarded payment notification said so), or `timeout` passed
    /// ([`Error::VerificationTimeout`], with what to [`Payments::reconcile`] later).
    pub async fn wait_for_verification(
        &self,
        verification: Verification,
        timeout: Duration,
    ) -> Result<Paid, Error> {
        let deadline = tokio::time::Instant::now() + timeout;
        let pending = verification.pending;
        let since = verification.sent;
        let mut next_poll = tokio::time::Instant::now() + self.inner.config.poll_interval;
        loop {
            let notified = self.inner.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(paid) = self.paid_event(&pending, since) {
                return Ok(paid);
            }
            if let Some(message) = self.failure_event(since) {
                return Err(Error::VerificationFailed {
                    message: Some(message),
                });
            }
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep_until(next_poll) => {
                    next_poll = tokio::time::Instant::now() + self.inner.config.poll_interval;
                    if let Reconciled::Paid(paid) = self.reconcile(&pending).await? {
                        return Ok(paid);
                    }
                }
                _ = tokio::time::sleep_until(deadline) => {
                    return Err(Error::VerificationTimeout {
                        pending: Box::new(pending),
                    });
                }
            }
        }
    }

    fn paid_event(&self, p: &AmbiguousPayment, since: Instant) -> Option<Paid> {
        let invoice_msg = invoice_msg_id(&p.invoice_ref);
        let slug = match &p.invoice_ref {
            InvoiceRef::Slug(slug) => Some(slug.as_str()),
            _ => None,
        };
        let state = self.state();
        let receipt_msg_id = state.events.iter().find_map(|(at, e)| {
            if *at < since {
                return None;
            }
            match e {
                Event::PaymentSent(sent)
                    if sent.chat_id == p.bot_id
                        && sent.total == p.total
                        && (slug.is_none() || sent.invoice_slug.as_deref() == slug) =>
                {
                    Some(sent.msg_id)
                }
                Event::InvoicePaid {
                    chat_id,
                    msg_id,
                    receipt_msg_id,
                } if *chat_id == p.bot_id && Some(*msg_id) == invoice_msg => Some(*receipt_msg_id),
                _ => None,
            }
        })?;
        Some(Paid {
            receipt: ReceiptRef {
                bot_id: p.bot_id,
                peer: bot_peer(p.bot.as_ref()),
                receipt_msg_id: Some(receipt_msg_id),
                invoice_msg_id: invoice_msg,
            },
            total: p.total,
            kind: p.kind,
        })
    }

    fn failure_event(&self, since: Instant) -> Option<String> {
        self.state().events.iter().find_map(|(at, e)| match e {
            Event::Notification { kind, message }
                if *at >= since && kind.to_ascii_uppercase().contains("PAYMENT") =>
            {
                Some(message.clone())
            }
            _ => None,
        })
    }

    /// Finds out whether an ambiguous payment went through: the invoice message's receipt (for
    /// invoices paid from a message), a `messageActionPaymentSent` for this amount in the chat
    /// with the bot dated after the payment was sent, and, for Stars, a matching entry in the
    /// Stars ledger. Never pays anything.
    pub async fn reconcile(&self, payment: &AmbiguousPayment) -> Result<Reconciled, Error> {
        let invoice_msg = invoice_msg_id(&payment.invoice_ref);
        let peer = bot_peer(payment.bot.as_ref());
        let paid = |receipt_msg_id: Option<i32>| {
            Reconciled::Paid(Paid {
                receipt: ReceiptRef {
                    bot_id: payment.bot_id,
                    peer: peer.clone(),
                    receipt_msg_id,
                    invoice_msg_id: invoice_msg,
                },
                total: payment.total,
                kind: payment.kind,
            })
        };

        // 1. An invoice message knows its receipt.
        if let InvoiceRef::Message { peer: chat, msg_id } = &payment.invoice_ref {
            let messages = self.get_messages(chat, *msg_id).await?;
            if let Some(receipt) = messages.iter().find_map(receipt::paid_invoice_receipt) {
                return Ok(paid(Some(receipt)));
            }
            if payment.kind == PaymentKind::Card {
                return Ok(Reconciled::NotPaid);
            }
        }

        let since = payment.started_at - self.inner.config.reconcile_skew;
        // 2. A receipt message from the bot, for this amount, after the payment was sent.
        if let Some(chat) = &peer {
            let slug = match &payment.invoice_ref {
                InvoiceRef::Slug(slug) => Some(slug.as_str()),
                _ => None,
            };
            let history = self
                .invoke(&tl::functions::messages::GetHistory {
                    peer: chat.clone(),
                    offset_id: 0,
                    offset_date: 0,
                    add_offset: 0,
                    limit: 30,
                    max_id: 0,
                    min_id: 0,
                    hash: 0,
                })
                .await?;
            let found = messages_of(&history)
                .iter()
                .filter_map(receipt::payment_sent)
                .find(|sent| {
                    sent.chat_id == payment.bot_id
                        && sent.total == payment.total
                        && i64::from(sent.date) >= since
                        && (slug.is_none() || sent.invoice_slug.as_deref() == slug)
                });
            if let Some(sent) = found {
                return Ok(paid(Some(sent.msg_id)));
            }
        }

        // 3. The Stars ledger.
        if payment.kind == PaymentKind::Stars {
            let mut pager = self.stars_transactions(TransactionFilter {
                outbound: true,
                ..TransactionFilter::default()
            });
            pager.page_size = 30;
            let mut seen = 0;
            while let Some(tx) = pager.next().await? {
                seen += 1;
                if i64::from(tx.date) < since || seen > 30 {
                    break;
                }
                if tx.peer.user_id() == Some(payment.bot_id)
                    && tx.amount.amount == -payment.total.minor
                    && !tx.refund
                    && !tx.failed
                {
                    return Ok(paid(tx.msg_id));
                }
            }
        }
        Ok(Reconciled::NotPaid)
    }

    async fn get_messages(
        &self,
        chat: &tl::enums::InputPeer,
        msg_id: i32,
    ) -> Result<Vec<tl::enums::Message>, Error> {
        let ids = vec![tl::types::InputMessageId { id: msg_id }.into()];
        let messages = match chat {
            tl::enums::InputPeer::Channel(c) => {
                self.invoke(&tl::functions::channels::GetMessages {
                    channel: tl::types::InputChannel {
                        channel_id: c.channel_id,
                        access_hash: c.access_hash,
                    }
                    .into(),
                    id: ids,
                })
                .await?
            }
            _ => {
                self.invoke(&tl::functions::messages::GetMessages { id: ids })
                    .await?
            }
        };
        Ok(messages_of(&messages).to_vec())
    }

    // ----- receipts -----

    /// `payments.getPaymentReceipt` for a paid invoice.
    pub async fn get_payment_receipt(&self, receipt: &ReceiptRef) -> Result<Receipt, Error> {
        let peer = receipt.peer.clone().ok_or(Error::UnexpectedAnswer {
            what: "no access hash for the merchant bot",
        })?;
        let msg_id = receipt.msg_id().ok_or(Error::UnexpectedAnswer {
            what: "no receipt message for the payment",
        })?;
        self.get_payment_receipt_at(peer, msg_id).await
    }

    /// `payments.getPaymentReceipt` for the receipt message (or paid invoice message) `msg_id`
    /// in the chat `peer`.
    pub async fn get_payment_receipt_at(
        &self,
        peer: tl::enums::InputPeer,
        msg_id: i32,
    ) -> Result<Receipt, Error> {
        let receipt = self
            .invoke(&tl::functions::payments::GetPaymentReceipt { peer, msg_id })
            .await?;
        Ok(Receipt::from_tl(receipt)?)
    }

    // ----- Stars -----

    /// `payments.getStarsStatus`: the balance and the latest transactions.
    pub async fn get_stars_status(&self) -> Result<StarsStatus, Error> {
        let status = self
            .invoke(&tl::functions::payments::GetStarsStatus {
                ton: false,
                peer: tl::enums::InputPeer::PeerSelf,
            })
            .await?;
        self.stars_status(&status)
    }

    /// Reads a `payments.starsStatus` and remembers its balance.
    fn stars_status(
        &self,
        status: &tl::enums::payments::StarsStatus,
    ) -> Result<StarsStatus, Error> {
        let status = StarsStatus::from_tl(status).ok_or(Error::UnexpectedAnswer {
            what: "a TON balance for a Stars request",
        })?;
        self.state().stars_balance = Some(status.balance.amount);
        Ok(status)
    }

    /// The last Stars balance seen (from [`Payments::get_stars_status`], a Stars payment, or a
    /// forwarded `updateStarsBalance`), if any.
    pub fn cached_stars_balance(&self) -> Option<crate::currency::Amount> {
        self.state().stars_balance.map(|b| Currency::XTR.amount(b))
    }

    /// `payments.getStarsTopupOptions`.
    pub async fn get_stars_topup_options(&self) -> Result<Vec<StarsTopupOption>, Error> {
        let options = self
            .invoke(&tl::functions::payments::GetStarsTopupOptions {})
            .await?;
        Ok(options.iter().map(StarsTopupOption::from_tl).collect())
    }

    /// The Stars history, newest first unless `filter.ascending`, fetched a page at a time.
    pub fn stars_transactions(&self, filter: TransactionFilter) -> StarsTransactions {
        StarsTransactions {
            payments: self.clone(),
            filter,
            offset: Some(String::new()),
            buffer: VecDeque::new(),
            page_size: 50,
        }
    }

    async fn stars_page(
        &self,
        filter: TransactionFilter,
        offset: &str,
        limit: i32,
    ) -> Result<StarsStatus, Error> {
        let status = self
            .invoke(&tl::functions::payments::GetStarsTransactions {
                inbound: filter.inbound,
                outbound: filter.outbound,
                ascending: filter.ascending,
                ton: false,
                subscription_id: None,
                peer: tl::enums::InputPeer::PeerSelf,
                offset: offset.to_owned(),
                limit,
            })
            .await?;
        self.stars_status(&status)
    }

    // ----- forwarded updates -----

    /// Feeds an update the app received (grammers' `UpdateStream`) to the flow: receipts,
    /// edited invoices, service notifications (the merchant's pre-checkout reason) and Stars
    /// balance changes. Other updates are ignored. Cheap; call it for every update.
    pub fn handle_update(&self, update: &grammers_client::update::Update) {
        use grammers_client::update::Update;
        match update {
            Update::NewMessage(m) | Update::MessageEdited(m) => self.handle_raw_update(&m.raw),
            Update::Raw(raw) => self.handle_raw_update(&raw.raw),
            _ => {}
        }
    }

    /// [`Payments::handle_update`] for a raw TL update.
    pub fn handle_raw_update(&self, update: &tl::enums::Update) {
        let event = match update {
            tl::enums::Update::NewMessage(u) => {
                receipt::payment_sent(&u.message).map(Event::PaymentSent)
            }
            tl::enums::Update::NewChannelMessage(u) => {
                receipt::payment_sent(&u.message).map(Event::PaymentSent)
            }
            tl::enums::Update::EditMessage(u) => invoice_paid(&u.message),
            tl::enums::Update::EditChannelMessage(u) => invoice_paid(&u.message),
            tl::enums::Update::ServiceNotification(n) => Some(Event::Notification {
                kind: n.r#type.clone(),
                message: n.message.clone(),
            }),
            tl::enums::Update::StarsBalance(b) => {
                if let Some(balance) = crate::stars::StarsAmount::from_tl(&b.balance) {
                    self.state().stars_balance = Some(balance.amount);
                }
                None
            }
            _ => None,
        };
        if let Some(event) = event {
            {
                let mut state = self.state();
                if state.events.len() >= EVENT_LOG {
                    state.events.pop_front();
                }
                state.events.push_back((Instant::now(), event));
            }
            self.inner.notify.notify_waiters();
        }
    }

    /// Feeds the flow every update of a client whose updates nobody else reads: runs grammers'
    /// update stream over `updates` (the `updates` receiver of the client's `SenderPool`) and
    /// passes each update to [`Payments::handle_update`], until the client is dropped. Spawn it.
    /// Apps that read updates themselves call `handle_update` from their own loop instead.
    pub async fn follow_updates(&self, updates: mpsc::Receiver<UpdatesLike>) {
        let Ok(mut stream) = self
            .inner
            .client
            .stream_updates(updates, UpdatesConfiguration::default())
            .await
        else {
            tracing::warn!("cannot follow updates: the update stream did not start");
            return;
        };
        while let Ok(update) = stream.next().await {
            self.handle_update(&update);
        }
    }

    /// [`Payments::handle_raw_update`] for every update in an `Updates`.
    pub fn handle_updates(&self, updates: &tl::enums::Updates) {
        match updates {
            tl::enums::Updates::Updates(u) => {
                u.updates.iter().for_each(|u| self.handle_raw_update(u))
            }
            tl::enums::Updates::Combined(u) => {
                u.updates.iter().for_each(|u| self.handle_raw_update(u))
            }
            tl::enums::Updates::UpdateShort(u) => self.handle_raw_update(&u.update),
            _ => {}
        }
    }
}

/// A paged listing of Stars transactions ([`Payments::stars_transactions`]).
pub struct StarsTransactions {
    payments: Payments,
    filter: TransactionFilter,
    /// `None` once the last page was fetched.
    offset: Option<String>,
    buffer: VecDeque<StarsTransaction>,
    /// Transactions per request (1..=100).
    pub page_size: i32,
}

impl std::fmt::Debug for StarsTransactions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StarsTransactions")
            .field("filter", &self.filter)
            .field("buffered", &self.buffer.len())
            .field("done", &self.offset.is_none())
            .finish_non_exhaustive()
    }
}

impl StarsTransactions {
    /// The next transaction, fetching the next page when needed; `None` at the end.
    pub async fn next(&mut self) -> Result<Option<StarsTransaction>, Error> {
        loop {
            if let Some(tx) = self.buffer.pop_front() {
                return Ok(Some(tx));
            }
            let Some(offset) = self.offset.take() else {
                return Ok(None);
            };
            let page = self
                .payments
                .stars_page(self.filter, &offset, self.page_size.clamp(1, 100))
                .await?;
            self.offset = page.next_offset.filter(|next| *next != offset);
            if page.history.is_empty() {
                self.offset = None;
            }
            self.buffer.extend(page.history);
        }
    }

    /// The listing as a `Stream`.
    pub fn into_stream(self) -> impl futures_util::Stream<Item = Result<StarsTransaction, Error>> {
        futures_util::stream::unfold(Some(self), |pager| async move {
            let mut pager = pager?;
            match pager.next().await {
                Ok(Some(tx)) => Some((Ok(tx), Some(pager))),
                Ok(None) => None,
                Err(e) => Some((Err(e), None)),
            }
        })
    }
}

fn insufficient(balance: i64, price: crate::currency::Amount) -> Error {
    let balance = Currency::XTR.amount(balance);
    Error::InsufficientStars {
        balance,
        price,
        shortfall: Currency::XTR.amount(price.minor.saturating_sub(balance.minor)),
    }
}

fn price_changed(old: crate::currency::Amount, fresh: PaymentForm) -> Error {
    let new = match &fresh {
        PaymentForm::Stars(f) => f.price,
        PaymentForm::StarGift(f) => f.price,
        PaymentForm::Card(f) => f.invoice.subtotal().unwrap_or(old),
    };
    Error::PriceChanged {
        old,
        new,
        form: Box::new(fresh),
    }
}

fn invoice_msg_id(invoice: &InvoiceRef) -> Option<i32> {
    match invoice {
        InvoiceRef::Message { msg_id, .. } => Some(*msg_id),
        _ => None,
    }
}

fn invoice_paid(message: &tl::enums::Message) -> Option<Event> {
    let receipt_msg_id = receipt::paid_invoice_receipt(message)?;
    let tl::enums::Message::Message(m) = message else {
        return None;
    };
    let tl::enums::Peer::User(chat) = &m.peer_id else {
        return None;
    };
    Some(Event::InvoicePaid {
        chat_id: chat.user_id,
        msg_id: m.id,
        receipt_msg_id,
    })
}

fn messages_of(messages: &tl::enums::messages::Messages) -> &[tl::enums::Message] {
    match messages {
        tl::enums::messages::Messages::Messages(m) => &m.messages,
        tl::enums::messages::Messages::Slice(m) => &m.messages,
        tl::enums::messages::Messages::ChannelMessages(m) => &m.messages,
        tl::enums::messages::Messages::NotModified(_) => &[],
    }
}
