//! The invoice, peer and amount arguments: what names an invoice, a merchant bot or an amount on
//! the command line.

use tgpay::tl;
use tgpay::{Amount, Currency, InvoiceRef};

use crate::Failure;
use crate::connect::Connection;

/// The invoice named on the command line: a link, a slug, or `@bot MESSAGE_ID`.
pub async fn resolve_invoice(conn: &Connection, words: &[String]) -> Result<InvoiceRef, Failure> {
    match words {
        [one] => parse_invoice(one),
        [peer, msg_id] => {
            let msg_id: i32 = msg_id.parse().map_err(|_| {
                Failure::BadInput(format!("{msg_id:?} is not a message id (a number)"))
            })?;
            Ok(InvoiceRef::Message {
                peer: resolve_peer(conn, peer).await?,
                msg_id,
            })
        }
        _ => Err(Failure::BadInput(
            "give an invoice link, a slug, or @bot MESSAGE_ID".to_owned(),
        )),
    }
}

/// A link, or a bare slug.
pub fn parse_invoice(text: &str) -> Result<InvoiceRef, Failure> {
    match InvoiceRef::parse(text) {
        Ok(invoice) => Ok(invoice),
        Err(e) => {
            let slug = text.trim().trim_start_matches('$');
            let plausible = !slug.is_empty()
                && slug
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if plausible {
                Ok(InvoiceRef::Slug(slug.to_owned()))
            } else {
                Err(Failure::BadInput(e.to_string()))
            }
        }
    }
}

/// A chat by `@username`.
pub async fn resolve_peer(conn: &Connection, peer: &str) -> Result<tl::enums::InputPeer, Failure> {
    let username = peer.trim().trim_start_matches('@');
    if username.is_empty()
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(Failure::BadInput(format!(
            "{peer:?} is not a @username; name the merchant bot by its username"
        )));
    }
    let resolved = conn
        .payments
        .invoke(&tl::functions::contacts::ResolveUsername {
            username: username.to_owned(),
            referer: None,
        })
        .await
        .map_err(Failure::from)?;
    let tl::enums::contacts::ResolvedPeer::Peer(resolved) = resolved;
    resolved
        .users
        .iter()
        .find_map(|u| match u {
            tl::enums::User::User(u)
                if u.username
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(username)) =>
            {
                u.access_hash.map(|access_hash| {
                    tl::types::InputPeerUser {
                        user_id: u.id,
                        access_hash,
                    }
                    .into()
                })
            }
            _ => None,
        })
        .ok_or_else(|| Failure::BadInput(format!("@{username} is not a user or bot")))
}

/// Parses an amount given on the command line, in `currency` unless it names its own.
pub fn parse_amount(text: &str, currency: Currency, what: &str) -> Result<Amount, Failure> {
    let amount = if text.trim().contains(' ') {
        Amount::parse_plain(text)
    } else {
        Amount::parse(text, currency)
    }
    .map_err(|e| Failure::BadInput(format!("{what}: {e}")))?;
    if amount.currency != currency {
        return Err(Failure::BadInput(format!(
            "{what} is in {}, but the invoice is in {}",
            amount.currency.code(),
            currency.code()
        )));
    }
    Ok(amount)
}
