//! Checkout: from a form, a validated order, a shipping option, a tip and credentials to an
//! [`Outcome`] — with a spend guard, and without ever charging twice.
//!
//! [`Checkout`] (card forms) is a builder that ends in `send()`; its docs say what is checked
//! before sending, how the spend guard works and what `send` answers. `send.rs` sends.

use std::fmt;

use super::Payments;
use crate::attempt::Outcome;
use crate::credentials::Credentials;
use crate::currency::Amount;
use crate::error::Error;
use crate::form::CardForm;
use crate::order::{ShippingOption, ValidatedOrder};

/// Checks the spend guard: `total ≤ max`, in the same currency.
pub(super) fn check_spend_guard(total: Amount, max: Option<Amount>) -> Result<(), Error> {
    let Some(max) = max else {
        return Ok(());
    };
    if max.currency != total.currency {
        return Err(Error::SpendGuardCurrency {
            currency: total.currency,
            max,
        });
    }
    if total.minor > max.minor {
        return Err(Error::SpendGuard { total, max });
    }
    Ok(())
}

impl Payments {
    /// Starts the checkout of a card form: a [`Checkout`] builder that ends in
    /// [`Checkout::send`].
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
    /// # let payments = alice.payments();
    /// use tgpay::credentials::StripeToken;
    /// use tgpay::{Credentials, InvoiceRef, PaymentForm};
    ///
    /// let invoice = InvoiceRef::parse("t.me/$ebook")?;
    /// let PaymentForm::Card(form) = payments.get_payment_form(&invoice).await? else {
    ///     return Err("a card invoice was expected".into());
    /// };
    /// let outcome = payments
    ///     .checkout(&form)
    ///     .credentials(Credentials::Stripe(StripeToken::new("tok_sandbox_visa", "Visa *4242")))
    ///     .send()
    ///     .await?;
    /// assert_eq!(outcome.paid().map(|p| p.total.to_string()), Some("$4.99".into()));
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn checkout<'a>(&'a self, form: &'a CardForm) -> Checkout<'a> {
        Checkout {
            payments: self,
            form,
            order: None,
            shipping_option: None,
            tip: None,
            credentials: None,
            save: false,
            max_total: None,
        }
    }
}

/// The checkout of a card form. Build it with [`Payments::checkout`], end it with
/// [`Checkout::send`].
///
/// Everything that can be checked before sending is: the order info and shipping option are
/// present when the invoice needs them (and the option is one the order offers), the tip is
/// within the invoice's limits, the total is computed exactly and compared with the spend guard,
/// saving the card is refused when the form does not allow it, a saved card has a valid tmp
/// password.
///
/// # The spend guard
///
/// `max_total` is opt-in. Without it a checkout pays what [`Checkout::total`] shows: the form's
/// prices (pinned by its form id: Telegram refuses a form whose price changed), the chosen
/// shipping option and the tip — amounts the payer saw on the form. Set it whenever the amount
/// was not shown to a person before paying (automation, a bot paying invoices, an invoice link
/// from someone else): `send` then refuses, before anything leaves, a total above it or in
/// another currency ([`Error::SpendGuard`], [`Error::SpendGuardCurrency`]).
///
/// # What `send` answers
///
/// The request is sent exactly once ([`crate::payments`] explains how grammers' retries are kept
/// out of it), and its answer is classified ([`crate::error::MoneyClass`]):
///
/// - paid ([`Outcome::Paid`]) or a 3-D Secure page ([`Outcome::VerificationNeeded`]);
/// - rejected before processing ([`Error::Telegram`]): nothing was charged;
/// - refused after processing (a declined card, the merchant's refusal, too few Stars, an
///   expired form): tgpay first looks for a charge of this attempt; none found, the refusal
///   ([`Error::Refused`], [`Error::PrecheckoutRejected`], [`Error::InsufficientStars`]) carries
///   the attempt and the evidence;
/// - unknown (no answer, a broken connection, Telegram's internal error, a duplicate
///   submission): [`Error::Ambiguous`] with the attempt, unless its receipt is already there.
///   Nothing is re-sent; [`Payments::reconcile`] tells later.
#[must_use = "a checkout does nothing until send() is awaited"]
pub struct Checkout<'a> {
    payments: &'a Payments,
    form: &'a CardForm,
    order: Option<&'a ValidatedOrder>,
    shipping_option: Option<&'a ShippingOption>,
    tip: Option<Amount>,
    credentials: Option<Credentials>,
    save: bool,
    max_total: Option<Amount>,
}

impl fmt::Debug for Checkout<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Checkout")
            .field("form_id", &self.form.form_id)
            .field("shipping_option", &self.shipping_option.map(|o| &o.id))
            .field("tip", &self.tip)
            .field("credentials", &self.credentials.as_ref().map(|c| c.title()))
            .field("save", &self.save)
            .field("max_total", &self.max_total)
            .finish_non_exhaustive()
    }
}

/// Everything [`Checkout::send`] sends, checked.
pub(super) struct CheckedOrder {
    pub requested_info_id: Option<String>,
    pub shipping_option_id: Option<String>,
    pub tip: Option<Amount>,
    pub total: Amount,
}

impl<'a> Checkout<'a> {
    /// The validated order info ([`Payments::validate_requested_info`]): needed when the
    /// invoice asks for any.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
    /// # let payments = alice.payments();
    /// # let tgpay::PaymentForm::Card(form) = payments.get_payment_form(&tgpay::InvoiceRef::parse("t.me/$hoodie")?).await? else { unreachable!() };
    /// use tgpay::OrderInfo;
    /// use tgpay::payments::SaveInfo;
    ///
    /// let filled = OrderInfo::autofill(&form.invoice.requested, form.saved_info.as_ref(), &OrderInfo::default());
    /// let order = payments.validate_requested_info(&form, &filled.info, SaveInfo::DontSave).await?;
    /// # let card = tgpay::Credentials::Stripe(tgpay::credentials::StripeToken::new("tok_sandbox_visa", "Visa *4242"));
    /// let checkout = payments
    ///     .checkout(&form)
    ///     .order(&order)
    ///     .shipping_option(&order.shipping_options[0])
    ///     .credentials(card);
    /// assert_eq!(checkout.total()?.to_string(), "$47.48");
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn order(mut self, order: &'a ValidatedOrder) -> Self {
        self.order = Some(order);
        self
    }

    /// The shipping option: one of the validated order's [`ValidatedOrder::shipping_options`]
    /// (needed for flexible invoices). An option the order does not offer, as it offers it, is
    /// refused by `send` ([`Error::ShippingOption`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
    /// # let payments = alice.payments();
    /// # let tgpay::PaymentForm::Card(form) = payments.get_payment_form(&tgpay::InvoiceRef::parse("t.me/$hoodie")?).await? else { unreachable!() };
    /// # let filled = tgpay::OrderInfo::autofill(&form.invoice.requested, form.saved_info.as_ref(), &tgpay::OrderInfo::default());
    /// # let order = payments.validate_requested_info(&form, &filled.info, tgpay::payments::SaveInfo::DontSave).await?;
    /// let express = order.shipping_option("express").ok_or("no express shipping")?;
    /// # let card = tgpay::Credentials::Stripe(tgpay::credentials::StripeToken::new("tok_sandbox_visa", "Visa *4242"));
    /// let checkout = payments.checkout(&form).order(&order).shipping_option(express).credentials(card);
    /// assert_eq!(checkout.total()?, form.invoice.subtotal()?.checked_add(express.total)?);
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn shipping_option(mut self, option: &'a ShippingOption) -> Self {
        self.shipping_option = Some(option);
        self
    }

    /// A tip: one of the invoice's suggested tips ([`crate::form::Tips`]) or any amount up to
    /// its maximum.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
    /// # let payments = alice.payments();
    /// # let tgpay::PaymentForm::Card(form) = payments.get_payment_form(&tgpay::InvoiceRef::parse("t.me/$hoodie")?).await? else { unreachable!() };
    /// # let filled = tgpay::OrderInfo::autofill(&form.invoice.requested, form.saved_info.as_ref(), &tgpay::OrderInfo::default());
    /// # let order = payments.validate_requested_info(&form, &filled.info, tgpay::payments::SaveInfo::DontSave).await?;
    /// # let card = tgpay::Credentials::Stripe(tgpay::credentials::StripeToken::new("tok_sandbox_visa", "Visa *4242"));
    /// let tips = form.invoice.tips.as_ref().ok_or("no tips")?;
    /// let checkout = payments
    ///     .checkout(&form)
    ///     .order(&order)
    ///     .shipping_option(&order.shipping_options[0])
    ///     .tip(tips.suggested[0])
    ///     .credentials(card);
    /// assert_eq!(checkout.total()?.to_string(), "$48.48");
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn tip(mut self, tip: Amount) -> Self {
        self.tip = Some(tip);
        self
    }

    /// How to pay: a provider's token, a web page's credentials, a wallet, or a saved card
    /// (which needs [`Payments::get_tmp_password`] first).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
    /// # let payments = alice.payments();
    /// # let tgpay::PaymentForm::Card(form) = payments.get_payment_form(&tgpay::InvoiceRef::parse("t.me/$ebook")?).await? else { unreachable!() };
    /// # let password = tgpay::secret::SecretString::new(tgpay_sandbox::scenario::ALICE_PASSWORD.to_owned());
    /// use tgpay::Credentials;
    ///
    /// let card = form.saved_credentials.first().ok_or("no saved card")?;
    /// payments.get_tmp_password(&password).await?;
    /// let outcome = payments
    ///     .checkout(&form)
    ///     .credentials(Credentials::Saved(card.clone()))
    ///     .send()
    ///     .await?;
    /// assert!(outcome.paid().is_some());
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Asks Telegram to save the new card for later purchases. Only when the form allows it
    /// ([`CardForm::can_save_credentials`]); otherwise `send` refuses
    /// ([`Error::SaveNotAllowed`]). Wallets and saved cards are never saved.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
    /// # let payments = alice.payments();
    /// # let tgpay::PaymentForm::Card(form) = payments.get_payment_form(&tgpay::InvoiceRef::parse("t.me/$ebook")?).await? else { unreachable!() };
    /// use tgpay::Credentials;
    /// use tgpay::credentials::StripeToken;
    ///
    /// let card = Credentials::Stripe(StripeToken::new("tok_sandbox_visa", "Visa *4242"));
    /// let mut checkout = payments.checkout(&form).credentials(card);
    /// if form.can_save_credentials {
    ///     checkout = checkout.save_credentials();
    /// }
    /// assert!(checkout.send().await?.paid().is_some());
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn save_credentials(mut self) -> Self {
        self.save = true;
        self
    }

    /// The spend guard: `send` refuses, before sending anything, a total above `max` or in
    /// another currency. Opt-in: see [the spend guard](Checkout#the-spend-guard) for when to set
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
    /// # let tgpay::PaymentForm::Card(form) = payments.get_payment_form(&tgpay::InvoiceRef::parse("t.me/$ebook")?).await? else { unreachable!() };
    /// use tgpay::credentials::StripeToken;
    /// use tgpay::{Credentials, Error};
    ///
    /// let card = Credentials::Stripe(StripeToken::new("tok_sandbox_visa", "Visa *4242"));
    /// let usd = form.invoice.currency;
    /// let err = payments.checkout(&form).credentials(card).max_total(usd.amount(100)).send().await;
    /// assert!(matches!(err, Err(Error::SpendGuard { .. }))); // $4.99 > $1.00: nothing sent
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn max_total(mut self, max: Amount) -> Self {
        self.max_total = Some(max);
        self
    }

    /// The total this checkout would pay (prices + shipping + tip), checked as `send` checks it
    /// (order, shipping option, tip, spend guard, credentials).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
    /// # let payments = alice.payments();
    /// # let tgpay::PaymentForm::Card(form) = payments.get_payment_form(&tgpay::InvoiceRef::parse("t.me/$ebook")?).await? else { unreachable!() };
    /// use tgpay::Credentials;
    /// use tgpay::credentials::StripeToken;
    ///
    /// let card = Credentials::Stripe(StripeToken::new("tok_sandbox_visa", "Visa *4242"));
    /// let checkout = payments.checkout(&form).credentials(card);
    /// println!("Pay {}?", checkout.total()?); // ask the payer, then:
    /// # assert_eq!(checkout.total()?.to_string(), "$4.99");
    /// checkout.send().await?;
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn total(&self) -> Result<Amount, Error> {
        Ok(self.check()?.total)
    }

    /// The chosen shipping option, checked against the validated order: the order's own option
    /// (its prices count), and only if it is the one the caller holds.
    fn chosen_shipping(&self) -> Result<Option<&'a ShippingOption>, Error> {
        match (self.shipping_option, self.form.invoice.flexible) {
            (None, false) => Ok(None),
            (None, true) => Err(Error::ShippingOption { id: None }),
            (Some(chosen), _) => self
                .order
                .and_then(|o| o.shipping_option(&chosen.id))
                .filter(|offered| *offered == chosen)
                .map(Some)
                .ok_or_else(|| Error::ShippingOption {
                    id: Some(chosen.id.clone()),
                }),
        }
    }

    fn check(&self) -> Result<CheckedOrder, Error> {
        let requested = &self.form.invoice.requested;
        let requested_info_id = if requested.any() {
            let order = self.order.ok_or(Error::OrderInfoRequired)?;
            let missing = order.info.missing(requested);
            if !missing.is_empty() {
                return Err(Error::OrderIncomplete { missing });
            }
            Some(order.id.clone().ok_or(Error::OrderInfoRequired)?)
        } else {
            self.order.and_then(|o| o.id.clone())
        };
        let shipping = self.chosen_shipping()?;
        let total = self.form.invoice.total(shipping, self.tip)?;
        check_spend_guard(total, self.max_total)?;
        if self.save && !self.form.can_save_credentials {
            return Err(Error::SaveNotAllowed {
                password_missing: self.form.password_missing,
            });
        }
        if self.credentials.is_none() {
            return Err(Error::CredentialsRequired);
        }
        Ok(CheckedOrder {
            requested_info_id,
            shipping_option_id: shipping.map(|o| o.id.clone()),
            tip: self.tip.filter(|t| !t.is_zero()),
            total,
        })
    }

    /// Sends the payment, once. Checks everything it can first; see
    /// [what `send` answers](Checkout#what-send-answers) for what an error means and which ones are [ambiguous](Error::is_ambiguous). An expired
    /// form is refused ([`Error::Refused`] with `FORM_EXPIRED`, recovery
    /// [`Recovery::RefetchForm`](crate::Recovery::RefetchForm)): a card form is not fetched
    /// again behind the caller's back, since its shipping options and order need validating
    /// again.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
    /// # let payments = alice.payments();
    /// # let tgpay::PaymentForm::Card(form) = payments.get_payment_form(&tgpay::InvoiceRef::parse("t.me/$ebook")?).await? else { unreachable!() };
    /// use std::time::Duration;
    /// use tgpay::credentials::StripeToken;
    /// use tgpay::{Credentials, Outcome};
    ///
    /// let card = Credentials::Stripe(StripeToken::new("tok_sandbox_visa", "Visa *4242"));
    /// let paid = match payments.checkout(&form).credentials(card).send().await? {
    ///     Outcome::Paid(paid) => paid,
    ///     Outcome::VerificationNeeded(verification) => {
    ///         println!("confirm the payment at {}", verification.url);
    ///         payments.wait_for_verification(&verification, Duration::from_secs(600)).await?
    ///     }
    /// };
    /// println!("paid {}", paid.total);
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub async fn send(self) -> Result<Outcome, Error> {
        let checked = self.check()?;
        let credentials = self.credentials.ok_or(Error::CredentialsRequired)?;
        self.payments
            .send_card_payment(self.form, checked, credentials, self.save)
            .await
    }
}
