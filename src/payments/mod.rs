//! [`Payments`]: the payment flow over a grammers client. The only place tgpay talks to
//! Telegram; every other module works on values.
//!
//! One method per user action. The only hidden state is what Telegram's own apps keep too: the
//! temporary password that unlocks saved cards (cached until shortly before it expires), the
//! last known Stars balance, and a short log of payment updates the app forwards with
//! [`Payments::handle_update`] (receipts, the merchant's pre-checkout reason, a failed 3-D
//! Secure check) — plus the record of payment attempts this process made (see
//! [`crate::attempt`]).
//!
//! # Setting up grammers
//!
//! Build `Payments` from the sender pool's handle, not from a `Client`:
//!
//! ```no_run
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use grammers_mtsender::SenderPool;
//! use grammers_session::storages::MemorySession;
//!
//! let session = Arc::new(MemorySession::default());
//! let pool = SenderPool::new(Arc::clone(&session), 12345);
//! let payments = tgpay::Payments::new(&pool.handle); // keep `pool.handle` for your own Client too
//! tokio::spawn(pool.runner.run());
//! # Ok(()) }
//! ```
//!
//! grammers re-sends a request after an I/O error or a flood wait when its retry policy says
//! so (`AutoSleep`, the default, re-sends once after an I/O error). That is right for reads and
//! wrong for a payment: a re-send of a request whose reply was lost pays again, or answers for
//! the first one with an error that hides its charge. So `Payments` sends the money-moving
//! methods through the pool's raw path (`SenderPoolHandle::raw_invoke_in_dc`), which sends once
//! whatever the retry policy, and everything else through a `Client` over the same pool (with
//! the app's retry policy). Any retry policy is safe; an app must only never send
//! `payments.sendPaymentForm` / `payments.sendStarsForm` itself through `Client::invoke`.

mod reconcile;
mod registry;
mod send;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use grammers_client::Client;
use grammers_mtsender::{SenderPoolFatHandle, SenderPoolHandle, UpdatesConfiguration};
use grammers_session::storages::ErasedSession;
use grammers_session::updates::UpdatesLike;
use grammers_tl_types as tl;
use tokio::sync::{Notify, mpsc};
use zeroize::Zeroizing;

use crate::attempt::unix_now;
use crate::checkout::{Checkout, StarsCheckout};
use crate::credentials::TmpPassword;
use crate::currency::Currency;
use crate::error::{Error, PaymentError};
use crate::form::{CardForm, PaymentForm, StarsForm};
use crate::invoice::InvoiceRef;
use crate::journal::Journal;
use crate::order::{OrderInfo, SavedInfo, ValidatedOrder};
use crate::receipt::{self, PaymentSent, Receipt, ReceiptRef};
use crate::secret::SecretString;
use crate::stars::{StarsStatus, StarsTopupOption, StarsTransaction, TransactionFilter};

/// Tunables of [`Payments`]. The defaults are Telegram's own figures where it has them.
#[derive(Debug, Clone)]
pub struct PaymentsConfig {
    /// How long a temporary password is asked for (Telegram Desktop: 15 minutes).
    pub tmp_password_period: Duration,
    /// A cached temporary password is not used this close to its expiry (1 minute).
    pub tmp_password_reserve: Duration,
    /// After a pre-checkout rejection, how long to wait for the merchant's reason to arrive as
    /// a forwarded service notification (1 s).
    pub precheckout_reason_wait: Duration,
    /// While waiting for a 3-D Secure verification, how often to reconcile when no forwarded
    /// update has said anything (3 s).
    pub poll_interval: Duration,
    /// How long a money-moving request may wait for its answer before it counts as unanswered
    /// (ambiguous) (60 s).
    pub send_timeout: Duration,
    /// How long Telegram keeps a payment form valid (10 minutes): a request it never answered
    /// cannot charge after its form expired.
    pub form_lifetime: Duration,
    /// How long a 3-D Secure verification stays open (10 minutes).
    pub verification_lifetime: Duration,
    /// Added to the two lifetimes above before an unanswered attempt counts as settled (1
    /// minute): covers Telegram finishing a request it already took.
    pub settle_margin: Duration,
    /// How much earlier than the attempt (by Telegram's clock, as measured) its receipt may be
    /// dated: the error of the clock measurement (5 s).
    pub clock_tolerance: Duration,
    /// How many messages of the chat with the bot reconcile reads back at most (10 000).
    pub history_limit: usize,
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        PaymentsConfig {
            tmp_password_period: Duration::from_secs(TmpPassword::DEFAULT_PERIOD_SECS as u64),
            tmp_password_reserve: Duration::from_secs(TmpPassword::RESERVE_SECS as u64),
            precheckout_reason_wait: Duration::from_secs(1),
            poll_interval: Duration::from_secs(3),
            send_timeout: Duration::from_secs(60),
            form_lifetime: Duration::from_secs(600),
            verification_lifetime: Duration::from_secs(600),
            settle_margin: Duration::from_secs(60),
            clock_tolerance: Duration::from_secs(5),
            history_limit: 10_000,
        }
    }
}

/// A payment update the app forwarded.
#[derive(Debug, Clone)]
enum Event {
    PaymentSent(PaymentSent),
    InvoicePaid,
    Notification {
        kind: String,
        message: String,
        /// How many of the account's payments were in flight when it arrived.
        in_flight: usize,
    },
}

const EVENT_LOG: usize = 256;
const FAILED_VERIFICATIONS: usize = 256;

#[derive(Default)]
struct State {
    tmp_password: Option<TmpPassword>,
    stars_balance: Option<i64>,
    events: VecDeque<(Instant, Event)>,
    /// Verification pages a service notification said failed, with its text.
    failed_verifications: HashMap<String, String>,
    failed_order: VecDeque<String>,
    /// Telegram's clock minus this machine's, in seconds, from the last server date seen.
    clock_offset: Option<i64>,
    /// The logged-in user's id, once looked up (`None` inside: the session does not know it).
    account_id: Option<Option<i64>>,
}

struct Inner {
    client: Client,
    pool: SenderPoolHandle,
    session: Arc<ErasedSession>,
    account: registry::AccountKey,
    config: PaymentsConfig,
    state: Mutex<State>,
    journal: RwLock<Option<Arc<dyn Journal>>>,
    notify: Notify,
}

/// The payment flow over a grammers sender pool. Cheap to clone; clones share the cache, the
/// journal and the record of attempts.
///
/// ```no_run
/// # async fn pay(pool: grammers_mtsender::SenderPoolFatHandle) -> Result<(), tgpay::Error> {
/// use tgpay::{Credentials, InvoiceRef, Payments, PaymentForm};
/// use tgpay::credentials::StripeToken;
///
/// let payments = Payments::new(&pool);
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
            .field("clock_offset", &state.clock_offset)
            .finish_non_exhaustive()
    }
}

/// A hash of the home DC's auth key: the same for every `Payments` over the same
/// authorization, never the key.
fn account_key(session: &Arc<ErasedSession>) -> registry::AccountKey {
    use sha2::Digest;
    let key = session
        .home_dc_id()
        .ok()
        .and_then(|dc| session.dc_option(dc).ok().flatten())
        .and_then(|option| option.auth_key);
    match key {
        Some(key) => {
            let digest = sha2::Sha256::digest(key);
            let mut first = [0u8; 8];
            first.copy_from_slice(&digest[..8]);
            u64::from_le_bytes(first)
        }
        None => rand::random(),
    }
}

impl Payments {
    /// The flow over the sender pool `pool` (its `SenderPool::handle`) with the default
    /// [`PaymentsConfig`]. See the module docs for why the pool and not a `Client`.
    pub fn new(pool: &SenderPoolFatHandle) -> Self {
        Self::with_config(pool, PaymentsConfig::default())
    }

    /// The flow over `pool` with custom tunables.
    pub fn with_config(pool: &SenderPoolFatHandle, config: PaymentsConfig) -> Self {
        Payments {
            inner: Arc::new(Inner {
                client: Client::new(pool.clone()),
                pool: pool.thin.clone(),
                session: Arc::clone(&pool.session),
                account: account_key(&pool.session),
                config,
                state: Mutex::new(State::default()),
                journal: RwLock::new(None),
                notify: Notify::new(),
            }),
        }
    }

    /// Records every payment attempt in `journal` from now on (this handle and its clones): an
    /// intent before the request leaves, the outcome after. See [`crate::journal`].
    pub fn with_journal(self, journal: Arc<dyn Journal>) -> Self {
        *self
            .inner
            .journal
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Some(journal);
        self
    }

    /// The journal, if one was set.
    pub fn journal(&self) -> Option<Arc<dyn Journal>> {
        self.inner
            .journal
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// A grammers client over the same pool (raw `invoke` stays available for anything that
    /// moves no money).
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

    /// The logged-in user's id, when the session knows it (cached).
    async fn account_id(&self) -> Option<i64> {
        if let Some(known) = self.state().account_id {
            return known;
        }
        let id = match self
            .inner
            .session
            .peer(grammers_session::types::PeerId::self_user())
            .await
        {
            Ok(Some(grammers_session::types::PeerInfo::User { id, .. })) => Some(id),
            _ => None,
        };
        self.state().account_id = Some(id);
        id
    }

    /// Notes a date Telegram sent as "now": the offset of its clock from this machine's.
    fn observe_server_time(&self, date: i32) {
        self.state().clock_offset = Some(i64::from(date) - unix_now());
    }

    /// Telegram's clock minus this machine's, in seconds, as last measured.
    pub fn clock_offset(&self) -> Option<i64> {
        self.state().clock_offset
    }

    /// Telegram's current time (`updates.getState`), which also measures the clock offset.
    pub async fn server_time(&self) -> Result<i64, Error> {
        let tl::enums::updates::State::State(state) =
            self.invoke(&tl::functions::updates::GetState {}).await?;
        self.observe_server_time(state.date);
        Ok(i64::from(state.date))
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
            tl::enums::Update::ServiceNotification(n) => {
                self.note_failed_verifications(n);
                Some(Event::Notification {
                    kind: n.r#type.clone(),
                    message: n.message.clone(),
                    in_flight: registry::in_flight(self.inner.account),
                })
            }
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

    /// A service notification about a failed payment counts for the 3-D Secure pages it links
    /// (in its text or as link entities), and for no other payment.
    fn note_failed_verifications(&self, n: &tl::types::UpdateServiceNotification) {
        if !n.r#type.to_ascii_uppercase().contains("PAYMENT") {
            return;
        }
        let mut urls: Vec<String> = n
            .entities
            .iter()
            .filter_map(|e| match e {
                tl::enums::MessageEntity::TextUrl(t) => Some(t.url.clone()),
                _ => None,
            })
            .collect();
        urls.extend(
            n.message
                .split_whitespace()
                .filter(|w| w.starts_with("https://") || w.starts_with("http://"))
                .map(|w| w.trim_end_matches(['.', ',', ')', ';']).to_owned()),
        );
        let mut state = self.state();
        for url in urls {
            if state.failed_verifications.len() >= FAILED_VERIFICATIONS
                && let Some(old) = state.failed_order.pop_front()
            {
                state.failed_verifications.remove(&old);
            }
            state.failed_order.push_back(url.clone());
            state.failed_verifications.insert(url, n.message.clone());
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

    /// [`Payments::handle_raw_update`] for every update in an `Updates` (raw TL), whose date
    /// also measures Telegram's clock.
    pub fn handle_updates(&self, updates: &tl::enums::Updates) {
        match updates {
            tl::enums::Updates::Updates(u) => self.observe_server_time(u.date),
            tl::enums::Updates::Combined(u) => self.observe_server_time(u.date),
            tl::enums::Updates::UpdateShort(u) => self.observe_server_time(u.date),
            _ => {}
        }
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

/// `now + after`; a duration too long for the clock (`Duration::MAX`) means "never": a
/// century from now.
pub(crate) fn deadline_after(after: Duration) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    now.checked_add(after)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 86_400))
}

fn invoice_paid(message: &tl::enums::Message) -> Option<Event> {
    receipt::paid_invoice_receipt(message).map(|_| Event::InvoicePaid)
}

fn messages_of(messages: &tl::enums::messages::Messages) -> &[tl::enums::Message] {
    match messages {
        tl::enums::messages::Messages::Messages(m) => &m.messages,
        tl::enums::messages::Messages::Slice(m) => &m.messages,
        tl::enums::messages::Messages::ChannelMessages(m) => &m.messages,
        tl::enums::messages::Messages::NotModified(_) => &[],
    }
}
