//! Receipts: where a payment's receipt is ([`ReceiptRef`], from the `payments.paymentResult`
//! updates or from the chat), and what it says ([`Receipt`], from `payments.getPaymentReceipt`).
//!
//! A successful payment leaves two traces in the chat with the merchant bot: a service message
//! with `messageActionPaymentSent` (the receipt message), and, for an invoice message, an edit
//! that sets the invoice's `receipt_msg_id`. Both arrive in the `Updates` of
//! `payments.paymentResult` and as updates to the user's other sessions.

use grammers_tl_types as tl;

use crate::currency::{Amount, Currency};
use crate::invoice::{FormError, Invoice, ShippingOption};
use crate::order::OrderInfo;

/// A `messageActionPaymentSent` seen in a chat: a payment the user made.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PaymentSent {
    /// The receipt message's id.
    pub msg_id: i32,
    /// The chat (the merchant bot's user id for private chats).
    pub chat_id: i64,
    /// Unix time of the payment.
    pub date: i32,
    /// The amount paid.
    pub total: Amount,
    /// The invoice link's slug, when the invoice was paid from a link.
    pub invoice_slug: Option<String>,
    /// The payment started a recurring subscription.
    pub recurring_init: bool,
}

/// Where a paid invoice's receipt is.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReceiptRef {
    /// The merchant bot (the chat the receipt is in).
    pub bot_id: i64,
    /// The chat as an input peer, when its access hash is known (serialized as TL hex).
    #[serde(with = "crate::tl_serde::hex_opt")]
    pub peer: Option<tl::enums::InputPeer>,
    /// The receipt message (`messageActionPaymentSent`), if seen.
    pub receipt_msg_id: Option<i32>,
    /// The invoice message that was paid, for invoices paid from a message.
    pub invoice_msg_id: Option<i32>,
}

impl ReceiptRef {
    /// The message id to ask `payments.getPaymentReceipt` for: the receipt message, or else the
    /// paid invoice message.
    pub fn msg_id(&self) -> Option<i32> {
        self.receipt_msg_id.or(self.invoice_msg_id)
    }
}

fn peer_user_id(peer: &tl::enums::Peer) -> Option<i64> {
    match peer {
        tl::enums::Peer::User(u) => Some(u.user_id),
        _ => None,
    }
}

/// The payment in a service message, if it is a `messageActionPaymentSent`.
pub fn payment_sent(message: &tl::enums::Message) -> Option<PaymentSent> {
    let tl::enums::Message::Service(m) = message else {
        return None;
    };
    let tl::enums::MessageAction::PaymentSent(action) = &m.action else {
        return None;
    };
    let currency = Currency::from_code_or_fallback(&action.currency).ok()?;
    Some(PaymentSent {
        msg_id: m.id,
        chat_id: peer_user_id(&m.peer_id)?,
        date: m.date,
        total: currency.amount(action.total_amount),
        invoice_slug: action.invoice_slug.clone(),
        recurring_init: action.recurring_init,
    })
}

/// If `message` is an invoice message that was already paid, the id of its receipt message
/// (`messageMediaInvoice.receipt_msg_id`). Telegram's apps show such invoices as receipts.
pub fn paid_invoice_receipt(message: &tl::enums::Message) -> Option<i32> {
    let tl::enums::Message::Message(m) = message else {
        return None;
    };
    match &m.media {
        Some(tl::enums::MessageMedia::Invoice(invoice)) => invoice.receipt_msg_id,
        _ => None,
    }
}

/// Whether `message` is an invoice message (paid or not).
pub fn is_invoice_message(message: &tl::enums::Message) -> bool {
    matches!(
        message,
        tl::enums::Message::Message(m) if matches!(m.media, Some(tl::enums::MessageMedia::Invoice(_)))
    )
}

/// The messages of a list of updates (new and edited).
pub fn messages_of(updates: &tl::enums::Updates) -> Vec<&tl::enums::Message> {
    let list: &[tl::enums::Update] = match updates {
        tl::enums::Updates::Updates(u) => &u.updates,
        tl::enums::Updates::Combined(u) => &u.updates,
        tl::enums::Updates::UpdateShort(u) => std::slice::from_ref(&u.update),
        _ => &[],
    };
    list.iter()
        .filter_map(|u| match u {
            tl::enums::Update::NewMessage(u) => Some(&u.message),
            tl::enums::Update::EditMessage(u) => Some(&u.message),
            tl::enums::Update::NewChannelMessage(u) => Some(&u.message),
            tl::enums::Update::EditChannelMessage(u) => Some(&u.message),
            _ => None,
        })
        .collect()
}

/// Finds the receipt of a payment to `bot_id` in the `Updates` of `payments.paymentResult`.
pub fn receipt_from_updates(
    updates: &tl::enums::Updates,
    bot_id: i64,
    peer: Option<tl::enums::InputPeer>,
    invoice_msg_id: Option<i32>,
) -> ReceiptRef {
    let messages = messages_of(updates);
    let sent = messages
        .iter()
        .filter_map(|m| payment_sent(m))
        .find(|p| p.chat_id == bot_id)
        .map(|p| p.msg_id);
    let edited = invoice_msg_id.and_then(|id| {
        messages.iter().find_map(|m| match m {
            tl::enums::Message::Message(msg) if msg.id == id => paid_invoice_receipt(m),
            _ => None,
        })
    });
    ReceiptRef {
        bot_id,
        peer,
        receipt_msg_id: sent.or(edited),
        invoice_msg_id,
    }
}

/// A payment receipt (`payments.paymentReceipt` / `payments.paymentReceiptStars`), with amounts
/// in the invoice's currency.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Receipt {
    /// Unix time of the payment.
    pub date: i32,
    /// The merchant bot.
    pub bot_id: i64,
    /// The payment provider (card receipts).
    pub provider_id: Option<i64>,
    /// The product's title.
    pub title: String,
    /// The product's description.
    pub description: String,
    /// The product photo's URL.
    pub photo_url: Option<String>,
    /// The invoice as it was paid (sanitized).
    pub invoice: Invoice,
    /// Order info sent to the merchant.
    pub info: Option<OrderInfo>,
    /// The shipping option chosen.
    pub shipping: Option<ShippingOption>,
    /// The tip.
    pub tip: Option<Amount>,
    /// The total paid.
    pub total: Amount,
    /// What paid: the card title (`Visa *4242`), or `Telegram Stars`.
    pub credentials_title: String,
    /// The Stars transaction (Stars receipts).
    pub transaction_id: Option<String>,
}

impl Receipt {
    /// Converts `payments.getPaymentReceipt`'s answer.
    pub fn from_tl(receipt: tl::enums::payments::PaymentReceipt) -> Result<Receipt, FormError> {
        let photo_url = |photo: Option<tl::enums::WebDocument>| {
            photo.map(|p| match p {
                tl::enums::WebDocument::Document(d) => d.url,
                tl::enums::WebDocument::NoProxy(d) => d.url,
            })
        };
        match receipt {
            tl::enums::payments::PaymentReceipt::Receipt(r) => {
                let invoice = Invoice::from_tl(r.invoice)?;
                let currency = Currency::from_code_or_fallback(&r.currency).map_err(|_| {
                    FormError::InvalidCurrency {
                        code: r.currency.clone(),
                    }
                })?;
                let shipping = match r.shipping {
                    Some(option) => Some(ShippingOption::from_tl(option, currency)?),
                    None => None,
                };
                Ok(Receipt {
                    date: r.date,
                    bot_id: r.bot_id,
                    provider_id: Some(r.provider_id),
                    title: r.title,
                    description: r.description,
                    photo_url: photo_url(r.photo),
                    invoice,
                    info: r.info.map(OrderInfo::from_tl),
                    shipping,
                    tip: r.tip_amount.map(|t| currency.amount(t)),
                    total: currency.amount(r.total_amount),
                    credentials_title: r.credentials_title,
                    transaction_id: None,
                })
            }
            tl::enums::payments::PaymentReceipt::Stars(r) => {
                let invoice = Invoice::from_tl(r.invoice)?;
                let currency = Currency::from_code_or_fallback(&r.currency).map_err(|_| {
                    FormError::InvalidCurrency {
                        code: r.currency.clone(),
                    }
                })?;
                Ok(Receipt {
                    date: r.date,
                    bot_id: r.bot_id,
                    provider_id: None,
                    title: r.title,
                    description: r.description,
                    photo_url: photo_url(r.photo),
                    invoice,
                    info: None,
                    shipping: None,
                    tip: None,
                    total: currency.amount(r.total_amount),
                    credentials_title: "Telegram Stars".to_owned(),
                    transaction_id: Some(r.transaction_id),
                })
            }
        }
    }

    /// Whether this is a Telegram Stars receipt.
    pub fn is_stars(&self) -> bool {
        self.total.currency.is_stars()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(id: i32, bot: i64, slug: Option<&str>) -> tl::enums::Message {
        tl::types::MessageService {
            out: true,
            mentioned: false,
            media_unread: false,
            reactions_are_possible: false,
            silent: false,
            post: false,
            legacy: false,
            id,
            from_id: None,
            peer_id: tl::types::PeerUser { user_id: bot }.into(),
            saved_peer_id: None,
            reply_to: None,
            date: 1_700_000_000,
            action: tl::types::MessageActionPaymentSent {
                recurring_init: false,
                recurring_used: false,
                currency: "EUR".into(),
                total_amount: 1234,
                invoice_slug: slug.map(str::to_owned),
                subscription_until_date: None,
            }
            .into(),
            reactions: None,
            ttl_period: None,
        }
        .into()
    }

    #[test]
    fn payment_sent_reads_the_action() {
        let sent = payment_sent(&service(7, 42, Some("shoes"))).unwrap();
        assert_eq!(sent.msg_id, 7);
        assert_eq!(sent.chat_id, 42);
        assert_eq!(sent.total.to_string(), "12,34 €");
        assert_eq!(sent.invoice_slug.as_deref(), Some("shoes"));
        assert!(
            payment_sent(
                &tl::types::MessageEmpty {
                    id: 1,
                    peer_id: None
                }
                .into()
            )
            .is_none()
        );
    }

    #[test]
    fn the_receipt_is_found_among_the_updates_of_its_bot() {
        let updates: tl::enums::Updates = tl::types::Updates {
            updates: vec![
                tl::types::UpdateNewMessage {
                    message: service(5, 1, None),
                    pts: 2,
                    pts_count: 1,
                }
                .into(),
                tl::types::UpdateNewMessage {
                    message: service(9, 42, None),
                    pts: 3,
                    pts_count: 1,
                }
                .into(),
            ],
            users: Vec::new(),
            chats: Vec::new(),
            date: 0,
            seq: 0,
        }
        .into();
        let found = receipt_from_updates(&updates, 42, None, Some(3));
        assert_eq!(found.receipt_msg_id, Some(9));
        assert_eq!(found.msg_id(), Some(9));
        let none = receipt_from_updates(&updates, 77, None, Some(3));
        assert_eq!((none.receipt_msg_id, none.msg_id()), (None, Some(3)));
    }
}
