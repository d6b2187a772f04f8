//! Telegram Stars: the balance (`starsAmount`, with nanostars), top-up options and the
//! transaction history, as typed values.

use grammers_tl_types as tl;

use crate::currency::{Amount, Currency};

/// A Stars amount: whole Stars and nanostars (10⁻⁹), as `starsAmount` carries it.
///
/// Only balances and transactions carry nanostars (fractions of a Star come from revenue
/// shares such as affiliate programs); prices and everything tgpay computes with are whole
/// Stars, an [`Amount`] in [`Currency::XTR`]: [`cached_stars_balance`](crate::Payments::cached_stars_balance),
/// [`Error::InsufficientStars`](crate::Error::InsufficientStars), form prices. [`StarsAmount::whole`]
/// turns one into the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct StarsAmount {
    /// Whole Stars.
    pub amount: i64,
    /// Nanostars, in `-999_999_999..=999_999_999` with the sign of `amount`.
    pub nanos: i32,
}

impl StarsAmount {
    /// Reads a `starsAmount`; `None` for TON amounts (`starsTonAmount`).
    pub fn from_tl(amount: &tl::enums::StarsAmount) -> Option<Self> {
        match amount {
            tl::enums::StarsAmount::Amount(a) => Some(StarsAmount {
                amount: a.amount,
                nanos: a.nanos,
            }),
            _ => None,
        }
    }

    /// The whole Stars as an [`Amount`] in `XTR` (nanostars dropped toward zero).
    pub fn whole(&self) -> Amount {
        Currency::XTR.amount(self.amount)
    }
}

impl std::fmt::Display for StarsAmount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.nanos == 0 {
            write!(f, "{}", self.whole())
        } else {
            let sign = if self.amount < 0 || self.nanos < 0 {
                "\u{2212}"
            } else {
                ""
            };
            let digits = format!("{:09}", self.nanos.unsigned_abs());
            let fraction = digits.trim_end_matches('0');
            write!(f, "{sign}{}.{fraction} ⭐", self.amount.unsigned_abs())
        }
    }
}

/// Who a Stars transaction was with.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum StarsPeer {
    /// A user or bot (by user id), or a chat; serialized as `{"user": id}`, `{"chat": id}` or
    /// `{"channel": id}`.
    Peer(#[cfg_attr(feature = "serde", serde(with = "crate::tl_serde::peer"))] tl::enums::Peer),
    /// Bought in the App Store.
    AppStore,
    /// Bought in Google Play.
    PlayMarket,
    /// Bought through @PremiumBot.
    PremiumBot,
    /// Fragment.
    Fragment,
    /// Telegram Ads.
    Ads,
    /// The Telegram API (e.g. paid broadcasts).
    Api,
    /// Something newer than this library.
    Unsupported,
}

impl StarsPeer {
    fn from_tl(peer: &tl::enums::StarsTransactionPeer) -> Self {
        use tl::enums::StarsTransactionPeer as P;
        match peer {
            P::Peer(p) => StarsPeer::Peer(p.peer.clone()),
            P::AppStore => StarsPeer::AppStore,
            P::PlayMarket => StarsPeer::PlayMarket,
            P::PremiumBot => StarsPeer::PremiumBot,
            P::Fragment => StarsPeer::Fragment,
            P::Ads => StarsPeer::Ads,
            P::Api => StarsPeer::Api,
            P::Unsupported => StarsPeer::Unsupported,
        }
    }

    /// The user id, for transactions with a user or bot.
    pub fn user_id(&self) -> Option<i64> {
        match self {
            StarsPeer::Peer(tl::enums::Peer::User(u)) => Some(u.user_id),
            _ => None,
        }
    }
}

/// One entry of the Stars history.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct StarsTransaction {
    /// Transaction id.
    pub id: String,
    /// Signed amount: negative when Stars were spent.
    pub amount: StarsAmount,
    /// Unix time.
    pub date: i32,
    /// The other side.
    pub peer: StarsPeer,
    /// Title (e.g. the product).
    pub title: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// The receipt or related message in the chat with the peer.
    pub msg_id: Option<i32>,
    /// A refund.
    pub refund: bool,
    /// Still pending.
    pub pending: bool,
    /// Failed.
    pub failed: bool,
}

impl StarsTransaction {
    /// Reads a `starsTransaction`; `None` for TON transactions.
    pub fn from_tl(tx: &tl::enums::StarsTransaction) -> Option<Self> {
        let tl::enums::StarsTransaction::Transaction(tx) = tx;
        Some(StarsTransaction {
            id: tx.id.clone(),
            amount: StarsAmount::from_tl(&tx.amount)?,
            date: tx.date,
            peer: StarsPeer::from_tl(&tx.peer),
            title: tx.title.clone(),
            description: tx.description.clone(),
            msg_id: tx.msg_id,
            refund: tx.refund,
            pending: tx.pending,
            failed: tx.failed,
        })
    }
}

/// The balance and the first page of history (`payments.starsStatus`).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct StarsStatus {
    /// The balance.
    pub balance: StarsAmount,
    /// The latest transactions.
    pub history: Vec<StarsTransaction>,
    /// Where the next page starts, if there is one.
    pub next_offset: Option<String>,
}

impl StarsStatus {
    /// Reads `payments.starsStatus`.
    pub fn from_tl(status: &tl::enums::payments::StarsStatus) -> Option<Self> {
        let tl::enums::payments::StarsStatus::Status(s) = status;
        Some(StarsStatus {
            balance: StarsAmount::from_tl(&s.balance)?,
            history: s
                .history
                .iter()
                .flatten()
                .filter_map(StarsTransaction::from_tl)
                .collect(),
            next_offset: s.next_offset.clone().filter(|o| !o.is_empty()),
        })
    }
}

/// A way to buy Stars (`starsTopupOption`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct StarsTopupOption {
    /// Stars bought.
    pub stars: Amount,
    /// What they cost.
    pub price: Amount,
    /// The app store product id, if any.
    pub store_product: Option<String>,
    /// Shown only in the extended list.
    pub extended: bool,
}

impl StarsTopupOption {
    /// Reads a `starsTopupOption`.
    pub fn from_tl(option: &tl::enums::StarsTopupOption) -> Self {
        let tl::enums::StarsTopupOption::Option(o) = option;
        let currency = Currency::from_code_or_fallback(&o.currency).unwrap_or(Currency::XTR);
        StarsTopupOption {
            stars: Currency::XTR.amount(o.stars),
            price: currency.amount(o.amount),
            store_product: o.store_product.clone(),
            extended: o.extended,
        }
    }
}

/// Which transactions to list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TransactionFilter {
    /// Only incoming.
    pub inbound: bool,
    /// Only outgoing.
    pub outbound: bool,
    /// Oldest first.
    pub ascending: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_amounts_show_nanostars_only_when_present() {
        let whole = StarsAmount {
            amount: 1500,
            nanos: 0,
        };
        assert_eq!(whole.to_string(), "1,500 ⭐");
        let fractional = StarsAmount {
            amount: 2,
            nanos: 500_000_000,
        };
        assert_eq!(fractional.to_string(), "2.5 ⭐");
        let negative = StarsAmount {
            amount: 0,
            nanos: -250_000_000,
        };
        assert_eq!(negative.to_string(), "\u{2212}0.25 ⭐");
    }
}
