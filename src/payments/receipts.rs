//! Invoices and receipts in the chat: an invoice message as a grammers `Message` shows it
//! ([`InvoiceMessage`]), and `payments.getPaymentReceipt`.

use grammers_client::message::Message;
use grammers_tl_types as tl;

use super::Payments;
use crate::currency::{Amount, Currency};
use crate::error::Error;
use crate::invoice::InvoiceRef;
use crate::receipt::{Receipt, ReceiptRef};

/// An invoice message (`messageMediaInvoice`), read from a grammers [`Message`]: what to pay
/// ([`InvoiceMessage::invoice`], for [`Payments::get_payment_form`]) and what the message shows.
/// Title and description are sanitized ([`crate::text::sanitize`]); the form fetched for the
/// invoice is what counts.
#[derive(Debug, Clone, PartialEq)]
pub struct InvoiceMessage {
    /// The invoice, for [`Payments::get_payment_form`].
    pub invoice: InvoiceRef,
    /// The product's title.
    pub title: String,
    /// The product's description.
    pub description: String,
    /// The total the message shows.
    pub total: Amount,
    /// The bot's start parameter for this invoice. Invoice messages carry no link slug; bots
    /// often put theirs here (the sandbox's bots do).
    pub start_param: String,
    /// The receipt message, once the invoice was paid (Telegram's apps then show the invoice
    /// as a receipt): for [`Payments::get_payment_receipt_at`].
    pub receipt_msg_id: Option<i32>,
    /// A test invoice: no real money moves.
    pub test: bool,
}

impl InvoiceMessage {
    /// The invoice in `message`, if it is an invoice message whose chat grammers can address
    /// (its peer is in grammers' cache, as it is for messages from updates and from
    /// `Client::iter_messages`) and whose currency is well-formed; `None` otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
    /// # let payments = alice.payments();
    /// # let client = payments.client();
    /// use tgpay::InvoiceMessage;
    ///
    /// let bot = client.resolve_username("SandboxShopBot").await?.ok_or("no such bot")?;
    /// let mut messages = client.iter_messages(bot.to_ref().await?.ok_or("no access hash")?);
    /// let mut unpaid = Vec::new();
    /// while let Some(message) = messages.next().await? {
    ///     if let Some(invoice) = InvoiceMessage::from_message(&message).await {
    ///         println!("{}: {}", invoice.title, invoice.total);
    ///         if invoice.receipt_msg_id.is_none() {
    ///             unpaid.push(invoice);
    ///         }
    ///     }
    /// }
    /// let hoodie = unpaid.iter().find(|i| i.title == "Sandbox Hoodie").ok_or("no hoodie")?;
    /// assert_eq!(hoodie.total.to_string(), "$42.49");
    /// let form = payments.get_payment_form(&hoodie.invoice).await?;
    /// # assert!(matches!(form, tgpay::PaymentForm::Card(_)));
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub async fn from_message(message: &Message) -> Option<InvoiceMessage> {
        let tl::enums::Message::Message(raw) = &message.raw else {
            return None;
        };
        let Some(tl::enums::MessageMedia::Invoice(media)) = &raw.media else {
            return None;
        };
        let currency = Currency::from_code_or_fallback(&media.currency).ok()?;
        let peer = match message.peer_ref().await {
            Ok(Some(peer)) => peer,
            Ok(None) => return None,
            Err(error) => {
                tracing::debug!(%error, "the invoice message's chat is not in the session cache");
                return None;
            }
        };
        Some(InvoiceMessage {
            invoice: InvoiceRef::Message {
                peer: peer.into(),
                msg_id: raw.id,
            },
            title: crate::text::sanitize(&media.title).into_owned(),
            description: crate::text::sanitize(&media.description).into_owned(),
            total: currency.amount(media.total_amount),
            start_param: media.start_param.clone(),
            receipt_msg_id: media.receipt_msg_id,
            test: media.test,
        })
    }
}

impl Payments {
    /// `payments.getPaymentReceipt` for a paid invoice: where [`Outcome::Paid`],
    /// [`Payments::reconcile`] and [`Payments::wait_for_verification`] say its receipt is.
    ///
    /// [`Outcome::Paid`]: crate::Outcome::Paid
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
    /// let outcome = payments.checkout_stars(&form).send().await?;
    /// let paid = outcome.paid().ok_or("not paid")?;
    /// let receipt = payments.get_payment_receipt(&paid.receipt).await?;
    /// assert_eq!(receipt.total.to_string(), "50 ⭐");
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
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
    /// in the chat `peer` (a grammers `PeerRef`, or a raw `InputPeer`).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
    /// # let payments = alice.payments();
    /// # let tgpay::PaymentForm::Stars(form) = payments.get_payment_form(&tgpay::InvoiceRef::parse("t.me/$sticker-pack")?).await? else { unreachable!() };
    /// # let paid = payments.checkout_stars(&form).send().await?.paid().cloned().ok_or("not paid")?;
    /// # let msg_id = paid.receipt.msg_id().ok_or("no receipt")?;
    /// let bot = payments.client().resolve_username("SandboxStarsBot").await?.ok_or("no bot")?;
    /// let bot = bot.to_ref().await?.ok_or("no access hash")?;
    /// let receipt = payments.get_payment_receipt_at(bot, msg_id).await?;
    /// assert!(receipt.is_stars());
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub async fn get_payment_receipt_at(
        &self,
        peer: impl Into<tl::enums::InputPeer>,
        msg_id: i32,
    ) -> Result<Receipt, Error> {
        let receipt = self
            .invoke(&tl::functions::payments::GetPaymentReceipt {
                peer: peer.into(),
                msg_id,
            })
            .await?;
        Ok(Receipt::from_tl(receipt)?)
    }
}
