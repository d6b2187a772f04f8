//! Telegram Stars: the balance, the top-up options, and the history as a pager
//! ([`StarsTransactions`]), and paying in Stars: [`Payments::checkout_stars`], a
//! [`StarsCheckout`] builder.

use std::collections::VecDeque;

use grammers_tl_types as tl;

use super::Payments;
use super::checkout::check_spend_guard;
use crate::attempt::Outcome;
use crate::currency::{Amount, Currency};
use crate::error::Error;
use crate::form::StarsForm;
use crate::stars::{StarsStatus, StarsTopupOption, StarsTransaction, TransactionFilter};

impl Payments {
    /// Starts the checkout of a Stars form: a [`StarsCheckout`] builder that ends in
    /// [`StarsCheckout::send`]. (Star gifts, [`PaymentForm::StarGift`], have no checkout: tgpay
    /// does not pay them.)
    ///
    /// [`PaymentForm::StarGift`]: crate::PaymentForm::StarGift
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
    /// # let payments = alice.payments();
    /// use tgpay::{InvoiceRef, PaymentForm};
    ///
    /// let invoice = InvoiceRef::parse("t.me/$sticker-pack")?;
    /// let PaymentForm::Stars(form) = payments.get_payment_form(&invoice).await? else {
    ///     return Err("a Stars invoice was expected".into());
    /// };
    /// let outcome = payments.checkout_stars(&form).send().await?;
    /// assert_eq!(outcome.paid().map(|p| p.total.to_string()), Some("50 ⭐".into()));
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn checkout_stars<'a>(&'a self, form: &'a StarsForm) -> StarsCheckout<'a> {
        StarsCheckout {
            payments: self,
            form,
            max_total: None,
        }
    }

    /// `payments.getStarsStatus`: the balance and the latest transactions. Remembers the
    /// balance ([`Payments::cached_stars_balance`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
    /// # let payments = alice.payments();
    /// let status = payments.get_stars_status().await?;
    /// println!("{} ({} recent transactions)", status.balance, status.history.len());
    /// assert_eq!(status.balance.amount, 500);
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
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
    /// forwarded `updateStarsBalance`), in `XTR`, if any. No request.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
    /// # let payments = alice.payments();
    /// assert_eq!(payments.cached_stars_balance(), None); // nothing seen yet
    /// payments.get_stars_status().await?;
    /// assert_eq!(payments.cached_stars_balance().map(|b| b.to_string()), Some("500 ⭐".into()));
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn cached_stars_balance(&self) -> Option<Amount> {
        self.state().stars_balance.map(|b| Currency::XTR.amount(b))
    }

    /// `payments.getStarsTopupOptions`: the ways to buy Stars, with their prices.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
    /// # let payments = alice.payments();
    /// for option in payments.get_stars_topup_options().await? {
    ///     println!("{} for {}", option.stars, option.price);
    /// }
    /// # assert!(!payments.get_stars_topup_options().await?.is_empty());
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub async fn get_stars_topup_options(&self) -> Result<Vec<StarsTopupOption>, Error> {
        let options = self
            .invoke(&tl::functions::payments::GetStarsTopupOptions {})
            .await?;
        Ok(options.iter().map(StarsTopupOption::from_tl).collect())
    }

    /// The Stars history, newest first unless `filter.ascending`, fetched a page at a time
    /// (`payments.getStarsTransactions`) as [`StarsTransactions::next`] asks for more.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
    /// # let payments = alice.payments();
    /// # let tgpay::PaymentForm::Stars(form) = payments.get_payment_form(&tgpay::InvoiceRef::parse("t.me/$sticker-pack")?).await? else { unreachable!() };
    /// # payments.checkout_stars(&form).send().await?;
    /// use tgpay::stars::TransactionFilter;
    ///
    /// let mut history = payments.stars_transactions(TransactionFilter::default());
    /// while let Some(tx) = history.next().await? {
    ///     println!("{:>10}  {}", tx.amount.to_string(), tx.title.as_deref().unwrap_or(""));
    /// #   assert_eq!(tx.amount.amount, -50);
    /// }
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
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
}

/// A paged listing of Stars transactions ([`Payments::stars_transactions`]), like grammers'
/// `MessageIter`: [`StarsTransactions::next`] until `None`, or [`StarsTransactions::into_stream`].
pub struct StarsTransactions {
    payments: Payments,
    filter: TransactionFilter,
    /// `None` once the last page was fetched.
    offset: Option<String>,
    buffer: VecDeque<StarsTransaction>,
    /// Transactions per request (1..=100; 50 unless set).
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
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
    /// # let payments = alice.payments();
    /// use tgpay::stars::TransactionFilter;
    ///
    /// let outbound = TransactionFilter { outbound: true, ..TransactionFilter::default() };
    /// let mut history = payments.stars_transactions(outbound);
    /// history.page_size = 100;
    /// let mut spent = 0;
    /// while let Some(tx) = history.next().await? {
    ///     spent -= tx.amount.amount;
    /// }
    /// assert_eq!(spent, 0); // nothing bought yet
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
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

    /// The listing as a `Stream`; it ends after the first error.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
    /// # let payments = alice.payments();
    /// use futures_util::TryStreamExt;
    /// use tgpay::stars::TransactionFilter;
    ///
    /// let history: Vec<_> = payments
    ///     .stars_transactions(TransactionFilter::default())
    ///     .into_stream()
    ///     .try_collect()
    ///     .await?;
    /// assert!(history.is_empty());
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
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

/// The checkout of a Stars form. Build it with [`Payments::checkout_stars`], end it with
/// [`StarsCheckout::send`]. The [spend guard](super::Checkout#the-spend-guard) and
/// [what `send` answers](super::Checkout#what-send-answers) are the card checkout's.
#[must_use = "a checkout does nothing until send() is awaited"]
#[derive(Debug)]
pub struct StarsCheckout<'a> {
    payments: &'a Payments,
    form: &'a StarsForm,
    max_total: Option<Amount>,
}

impl StarsCheckout<'_> {
    /// The spend guard: `send` refuses, before sending anything, a price above `max` Stars (or
    /// `max` in another currency). Opt-in: see [`Checkout::max_total`](super::Checkout::max_total).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
    /// # let payments = alice.payments();
    /// # let tgpay::PaymentForm::Stars(form) = payments.get_payment_form(&tgpay::InvoiceRef::parse("t.me/$sticker-pack")?).await? else { unreachable!() };
    /// use tgpay::{Currency, Error};
    ///
    /// let too_little = payments.checkout_stars(&form).max_total(Currency::XTR.amount(10));
    /// assert!(matches!(too_little.send().await, Err(Error::SpendGuard { .. })));
    /// let enough = payments.checkout_stars(&form).max_total(Currency::XTR.amount(100));
    /// assert!(enough.send().await?.paid().is_some());
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn max_total(mut self, max: Amount) -> Self {
        self.max_total = Some(max);
        self
    }

    /// The price this checkout would pay, checked against the spend guard as `send` checks
    /// it.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
    /// # let payments = alice.payments();
    /// # let tgpay::PaymentForm::Stars(form) = payments.get_payment_form(&tgpay::InvoiceRef::parse("t.me/$sticker-pack")?).await? else { unreachable!() };
    /// let checkout = payments.checkout_stars(&form).max_total(tgpay::Currency::XTR.amount(100));
    /// assert_eq!(checkout.total()?.to_string(), "50 ⭐");
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn total(&self) -> Result<Amount, Error> {
        check_spend_guard(self.form.price, self.max_total)?;
        Ok(self.form.price)
    }

    /// Pays, once. A known balance below the price fails before sending
    /// ([`Error::InsufficientStars`]); an expired form is fetched again and paid once more only
    /// if its price is unchanged (the expired one provably charged nothing); a changed price is
    /// [`Error::PriceChanged`] with the new form.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let bob = sandbox.client(tgpay_sandbox::scenario::BOB)?; // 10 Stars
    /// # let payments = bob.payments();
    /// # let tgpay::PaymentForm::Stars(form) = payments.get_payment_form(&tgpay::InvoiceRef::parse("t.me/$sticker-pack")?).await? else { unreachable!() };
    /// use tgpay::Error;
    ///
    /// match payments.checkout_stars(&form).send().await {
    ///     Ok(outcome) => println!("paid: {:?}", outcome.paid()),
    ///     Err(Error::InsufficientStars { shortfall, .. }) => println!("top up {shortfall} first"),
    ///     Err(other) => return Err(other.into()),
    /// }
    /// # assert_eq!(payments.cached_stars_balance().map(|b| b.minor), Some(10));
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub async fn send(self) -> Result<Outcome, Error> {
        check_spend_guard(self.form.price, self.max_total)?;
        self.payments.send_stars_payment(self.form).await
    }
}
