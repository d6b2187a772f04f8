//! Forms and order info: `payments.getPaymentForm`, `payments.validateRequestedInfo`, and the
//! info and cards Telegram saved for the account.

use grammers_tl_types as tl;

use super::Payments;
use crate::error::Error;
use crate::form::{CardForm, PaymentForm};
use crate::invoice::InvoiceRef;
use crate::order::{OrderInfo, SavedInfo, ValidatedOrder};

/// Whether Telegram keeps validated order info for the account's next purchases
/// ([`Payments::validate_requested_info`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum SaveInfo {
    /// Use it for this order only.
    #[default]
    DontSave,
    /// Save it; later forms carry it as [`CardForm::saved_info`], for
    /// [`OrderInfo::autofill`].
    Save,
}

/// What [`Payments::clear_saved_info`] forgets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClearSaved {
    /// The saved cards (and the cached temporary password that unlocks them).
    Credentials,
    /// The saved order info (name, phone, e-mail, shipping address).
    OrderInfo,
    /// Both.
    All,
}

impl ClearSaved {
    /// `(credentials, info)`, the flags of `payments.clearSavedInfo` in its order.
    fn flags(self) -> (bool, bool) {
        match self {
            ClearSaved::Credentials => (true, false),
            ClearSaved::OrderInfo => (false, true),
            ClearSaved::All => (true, true),
        }
    }
}

impl Payments {
    /// `payments.getPaymentForm`: the form of an invoice, typed and sanitized. A card form is
    /// paid with [`Payments::checkout`], a Stars form with [`Payments::checkout_stars`]. A star
    /// gift's form ([`PaymentForm::StarGift`]) can be read but tgpay does not pay star gifts:
    /// no checkout takes one.
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
    /// let invoice = InvoiceRef::parse("https://t.me/$hoodie")?;
    /// match payments.get_payment_form(&invoice).await? {
    ///     PaymentForm::Card(form) => println!("{}: {}", form.title, form.invoice.subtotal()?),
    ///     PaymentForm::Stars(form) => println!("{}: {}", form.title, form.price),
    ///     other => println!("not payable with tgpay: {other:?}"),
    /// }
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub async fn get_payment_form(&self, invoice: &InvoiceRef) -> Result<PaymentForm, Error> {
        let form = self
            .invoke(&tl::functions::payments::GetPaymentForm {
                invoice: invoice.to_input_invoice(),
                theme_params: None,
            })
            .await?;
        Ok(PaymentForm::from_tl(form, invoice.clone())?)
    }

    /// `payments.validateRequestedInfo`: checks `info` locally (the same typed errors the
    /// server uses), then with the merchant; returns the order id and, for flexible invoices,
    /// the shipping options to choose from ([`Checkout::shipping_option`]).
    ///
    /// [`Checkout::shipping_option`]: super::Checkout::shipping_option
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
    /// // What Telegram saved, completed by what the user typed.
    /// let typed = OrderInfo { email: Some("alice@work.example".into()), ..OrderInfo::default() };
    /// let filled = OrderInfo::autofill(&form.invoice.requested, form.saved_info.as_ref(), &typed);
    /// let order = payments.validate_requested_info(&form, &filled.info, SaveInfo::Save).await?;
    /// for option in &order.shipping_options {
    ///     println!("{}: {}", option.title, option.total);
    /// }
    /// # assert_eq!(order.shipping_options.len(), 2);
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub async fn validate_requested_info(
        &self,
        form: &CardForm,
        info: &OrderInfo,
        save: SaveInfo,
    ) -> Result<ValidatedOrder, Error> {
        let requested = &form.invoice.requested;
        let missing = OrderInfo::autofill(requested, None, info).missing;
        if !missing.is_empty() {
            return Err(Error::OrderIncomplete { missing });
        }
        info.check(requested)?;
        let save = save == SaveInfo::Save;
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

    /// `payments.getSavedInfo`: the order info Telegram saved for the account, and whether a
    /// card is saved.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
    /// # let payments = alice.payments();
    /// let saved = payments.get_saved_info().await?;
    /// if let Some(info) = &saved.info {
    ///     println!("ship to {:?}", info.shipping_address);
    /// }
    /// assert!(saved.has_saved_credentials);
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub async fn get_saved_info(&self) -> Result<SavedInfo, Error> {
        let saved = self
            .invoke(&tl::functions::payments::GetSavedInfo {})
            .await?;
        Ok(SavedInfo::from_tl(saved))
    }

    /// `payments.clearSavedInfo`: forgets the saved order info, the saved cards, or both.
    /// Clearing the cards also drops the cached temporary password.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
    /// # let payments = alice.payments();
    /// use tgpay::payments::ClearSaved;
    ///
    /// payments.clear_saved_info(ClearSaved::Credentials).await?;
    /// let saved = payments.get_saved_info().await?;
    /// assert!(!saved.has_saved_credentials && saved.info.is_some());
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub async fn clear_saved_info(&self, what: ClearSaved) -> Result<(), Error> {
        let (credentials, info) = what.flags();
        self.invoke(&tl::functions::payments::ClearSavedInfo { credentials, info })
            .await?;
        if credentials {
            self.forget_tmp_password();
        }
        Ok(())
    }
}
