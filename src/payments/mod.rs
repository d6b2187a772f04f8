//! [`Payments`]: the payment flow over a grammers client. The only place tgpay talks to
//! Telegram; every other module works on values.
//!
//! One method per user action, as grammers' `Client` has them, and, as in grammers, one
//! `impl Payments` block per user concern:
//!
//! | File | Methods |
//! |---|---|
//! | `mod.rs` | the handle (tunables in `config.rs`): [`Payments::new`], [`Payments::with_config`], [`Payments::with_journal`], [`Payments::invoke`], Telegram's clock |
//! | `forms.rs` | [`Payments::get_payment_form`], [`Payments::validate_requested_info`], [`Payments::get_saved_info`], [`Payments::clear_saved_info`] |
//! | `receipts.rs` | [`InvoiceMessage`] (an invoice in a grammers `Message`), [`Payments::get_payment_receipt`] |
//! | `password.rs` | the temporary password that unlocks saved cards: [`Payments::get_tmp_password`] |
//! | `checkout.rs` | [`Payments::checkout`] / [`Payments::checkout_stars`]: the [`Checkout`] and [`StarsCheckout`] builders |
//! | `send.rs` | the one place that sends money (with `record.rs`, which writes attempts down) |
//! | `verify.rs` | [`Payments::wait_for_verification`] (3-D Secure) |
//! | `reconcile.rs` | [`Payments::reconcile`], [`Payments::reconcile_journal`] (with `ledger.rs`, which reads the chat with the bot) |
//! | `stars.rs` | [`Payments::get_stars_status`], [`Payments::get_stars_topup_options`], the history pager [`StarsTransactions`] |
//! | `updates.rs` | [`Payments::handle_update`] for an app's own update loop, [`Payments::follow_updates`] |
//!
//! The only hidden state is what Telegram's own apps keep too: the temporary password that
//! unlocks saved cards (cached until shortly before it expires), the last known Stars balance,
//! and a short log of the payment updates the app forwards (receipts, the merchant's
//! pre-checkout reason, a failed 3-D Secure check) — plus the record of payment attempts this
//! process made (see [`crate::attempt`]).
//!
//! # Setting up grammers
//!
//! Build `Payments` from the sender pool's handle, not from a `Client`. tgpay re-exports the
//! grammers it is built on ([`crate::grammers_client`]), so an app uses the same version:
//!
//! ```no_run
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use tgpay::grammers_client::{Client, SenderPool, session::storages::MemorySession};
//!
//! let session = Arc::new(MemorySession::default()); // your session storage
//! let pool = SenderPool::new(Arc::clone(&session), 12345);
//! let client = Client::new(pool.handle.clone()); // your client, for everything else
//! let payments = tgpay::Payments::new(&pool.handle); // payments over the same pool
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
//!
//! # Updates
//!
//! Updates are how the merchant's reason for a pre-checkout rejection arrives (a service
//! notification), how a 3-D Secure payment's receipt and a failed bank check arrive without
//! waiting for the next poll, and how the cached Stars balance follows other devices.
//!
//! An app with its own update loop passes every update to [`Payments::handle_update`]; an app
//! that reads no updates itself spawns [`Payments::follow_updates`] instead:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
//! # let mut alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
//! # let (client, pool_updates) = (alice.client.clone(), alice.updates.take().ok_or("taken")?);
//! # let payments = alice.payments();
//! use tgpay::grammers_client::{sender::UpdatesConfiguration, update::Update};
//!
//! // `pool_updates`: the `updates` receiver of the client's `SenderPool`.
//! let mut updates = client.stream_updates(pool_updates, UpdatesConfiguration::default()).await?;
//! let app = tokio::spawn(async move {
//!     while let Ok(update) = updates.next().await {
//!         payments.handle_update(&update); // cheap; every update
//!         if let Update::NewMessage(message) = &update {
//!             println!("{}", message.text()); // the app's own work
//!         }
//!     }
//! });
//! # app.abort();
//! # sandbox.shutdown().await;
//! # Ok(()) }
//! ```

mod checkout;
mod config;
mod forms;
mod ledger;
mod password;
mod receipts;
mod reconcile;
mod record;
mod registry;
mod send;
mod stars;
mod updates;
mod verify;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use grammers_client::Client;
use grammers_mtsender::{SenderPoolFatHandle, SenderPoolHandle};
use grammers_session::storages::ErasedSession;
use grammers_tl_types as tl;
use tokio::sync::Notify;

pub use checkout::Checkout;
pub use config::PaymentsConfig;
pub use forms::{ClearSaved, SaveInfo};
pub use receipts::InvoiceMessage;
pub use stars::{StarsCheckout, StarsTransactions};

use crate::attempt::unix_now;
use crate::credentials::TmpPassword;
use crate::error::Error;
use crate::journal::Journal;

#[derive(Default)]
struct State {
    tmp_password: Option<TmpPassword>,
    stars_balance: Option<i64>,
    events: VecDeque<(std::time::Instant, updates::Event)>,
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
    /// This account's attempts and claimed receipts (see [`registry`]).
    registry: Arc<registry::Registry>,
    config: PaymentsConfig,
    state: Mutex<State>,
    journal: RwLock<Option<Arc<dyn Journal>>>,
    notify: Notify,
}

/// The payment flow over a grammers sender pool. Cheap to clone; clones share the cache, the
/// journal and the record of attempts. See the [module docs](self) for how to set it up and
/// which file holds which methods.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
/// # let alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
/// # let pool = &alice.handle;
/// use tgpay::credentials::StripeToken;
/// use tgpay::{Credentials, InvoiceRef, Outcome, PaymentForm, Payments};
///
/// let payments = Payments::new(pool);
/// let invoice = InvoiceRef::parse("https://t.me/$ebook")?;
/// let PaymentForm::Card(form) = payments.get_payment_form(&invoice).await? else {
///     return Err("a card invoice was expected".into());
/// };
/// let max = form.invoice.currency.amount(1000); // never more than 10.00
/// let outcome = payments
///     .checkout(&form)
///     .credentials(Credentials::Stripe(StripeToken::new("tok_sandbox_visa", "Visa *4242")))
///     .max_total(max)
///     .send()
///     .await?;
/// assert!(matches!(outcome, Outcome::Paid(_)));
/// # sandbox.shutdown().await;
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
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
    /// # let pool = &alice.handle; // a grammers `SenderPool`'s `handle`
    /// let payments = tgpay::Payments::new(pool);
    /// assert!(payments.get_saved_info().await?.has_saved_credentials);
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn new(pool: &SenderPoolFatHandle) -> Self {
        Self::with_config(pool, PaymentsConfig::default())
    }

    /// The flow over `pool` with custom tunables.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
    /// # let pool = &alice.handle;
    /// use std::time::Duration;
    /// use tgpay::{Payments, PaymentsConfig};
    ///
    /// let config = PaymentsConfig {
    ///     send_timeout: Duration::from_secs(30),
    ///     ..PaymentsConfig::default()
    /// };
    /// let payments = Payments::with_config(pool, config);
    /// assert_eq!(payments.config().send_timeout, Duration::from_secs(30));
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn with_config(pool: &SenderPoolFatHandle, config: PaymentsConfig) -> Self {
        Payments {
            inner: Arc::new(Inner {
                client: Client::new(pool.clone()),
                pool: pool.thin.clone(),
                session: Arc::clone(&pool.session),
                registry: registry::of(account_key(&pool.session)),
                config,
                state: Mutex::new(State::default()),
                journal: RwLock::new(None),
                notify: Notify::new(),
            }),
        }
    }

    /// Records every payment attempt in `journal` from now on (this handle and its clones): an
    /// intent before the request leaves, the outcome after. See [`crate::journal`].
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
    /// # let payments = alice.payments();
    /// use std::sync::Arc;
    /// use tgpay::journal::{Journal, MemoryJournal};
    ///
    /// let journal = Arc::new(MemoryJournal::new()); // or a JsonlJournal, on disk
    /// let payments = payments.with_journal(journal.clone());
    /// # let tgpay::PaymentForm::Stars(form) = payments.get_payment_form(&tgpay::InvoiceRef::parse("t.me/$sticker-pack")?).await? else { unreachable!() };
    /// payments.checkout_stars(&form).send().await?;
    /// assert_eq!(journal.entries()?.len(), 2); // the intent, then the outcome
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn with_journal(self, journal: Arc<dyn Journal>) -> Self {
        *self
            .inner
            .journal
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Some(journal);
        self
    }

    /// The journal, if one was set.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
    /// # let payments = alice.payments();
    /// assert!(payments.journal().is_none());
    /// let journal = std::sync::Arc::new(tgpay::journal::MemoryJournal::new());
    /// let payments = payments.with_journal(journal);
    /// assert!(payments.journal().is_some());
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn journal(&self) -> Option<Arc<dyn Journal>> {
        self.inner
            .journal
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// A grammers client over the same pool, with the pool's retry policy: for anything that
    /// moves no money.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
    /// # let payments = alice.payments();
    /// let me = payments.client().get_me().await?;
    /// assert_eq!(me.id().bare_id(), Some(tgpay_sandbox::scenario::ALICE));
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The tunables.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
    /// # let payments = alice.payments();
    /// assert_eq!(payments.config().poll_interval, std::time::Duration::from_secs(3));
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
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

    /// Telegram's clock minus this machine's, in seconds, as last measured (by
    /// [`Payments::server_time`], or the date of a payment's answer).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
    /// # let payments = alice.payments();
    /// assert_eq!(payments.clock_offset(), None);
    /// payments.server_time().await?;
    /// assert!(payments.clock_offset().is_some_and(|offset| offset.abs() < 60));
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn clock_offset(&self) -> Option<i64> {
        self.state().clock_offset
    }

    /// Telegram's current time (`updates.getState`), which also measures the clock offset.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
    /// # let payments = alice.payments();
    /// let now = payments.server_time().await?; // Unix time, Telegram's clock
    /// assert!(now > 1_700_000_000);
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub async fn server_time(&self) -> Result<i64, Error> {
        let tl::enums::updates::State::State(state) =
            self.invoke(&tl::functions::updates::GetState {}).await?;
        self.observe_server_time(state.date);
        Ok(i64::from(state.date))
    }

    /// Invokes any request that moves no money, with tgpay's typed errors. The answer's
    /// nesting is checked before it is decoded ([`crate::tl::nesting`]). Never send
    /// `payments.sendPaymentForm` / `payments.sendStarsForm` with it: use a checkout.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
    /// # let payments = alice.payments();
    /// use tgpay::tl;
    ///
    /// let options = payments.invoke(&tl::functions::payments::GetStarsTopupOptions {}).await?;
    /// assert!(!options.is_empty());
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub async fn invoke<R: tl::RemoteCall + tl::Identifiable>(
        &self,
        request: &R,
    ) -> Result<R::Return, Error> {
        Ok(crate::tl::nesting::invoke(&self.inner.client, request).await?)
    }
}

/// `now + after`; a duration too long for the clock (`Duration::MAX`) means "never": a
/// century from now.
pub(crate) fn deadline_after(after: Duration) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    now.checked_add(after)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 86_400))
}
