//! A run's plan: what is bought, how, by how many sessions at once, and which faults the
//! sandbox scripts. Everything is drawn from the run's own generator (seeded from the campaign's
//! seed and the run's number), so a seed and a run number always give the same plan, whichever
//! worker runs it.

use std::fmt;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use tgpay::error::{CatalogEntry, MoneyClass};
use tgpay_sandbox::scenario::ALICE;
use tgpay_sandbox::world::{Fault, FaultAction, RpcFail};

pub const SEND_CARD: &str = "payments.sendPaymentForm";
pub const SEND_STARS: &str = "payments.sendStarsForm";

/// How long the campaign's sandboxes keep forms and 3-D Secure verifications open: short, so
/// that an unanswered payment settles in seconds.
pub const LIFETIME_SECS: u64 = 4;
/// The payments' send timeout: a money-moving answer slower than this is unanswered.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(1);

/// Telegram's internal errors: they may come before or after the request was processed.
const SERVER_ERRORS: &[(i32, &str)] = &[
    (-503, "Timeout"),
    (-500, "INTERNAL"),
    (500, "INTERNAL_SERVER_ERROR"),
    (500, "RPC_CALL_FAIL"),
    (503, "SERVICE_UNAVAILABLE"),
];

/// A card the campaign pays with by token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    /// Charged.
    Visa,
    /// Declined by the bank (`PAYMENT_FAILED`).
    Declined,
}

/// What the payer does on the bank's 3-D Secure page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bank {
    /// Confirms `after` the page was handed out.
    Confirm(Duration),
    /// Fails it `after` the page was handed out.
    Fail(Duration),
    /// Never comes back: the verification expires.
    Abandon,
}

/// How a purchase pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purchase {
    /// A new card, by token.
    Card(Token),
    /// Alice's saved card, unlocked with her 2FA password (`forget_tmp`: ask for a new
    /// temporary password instead of the cached one).
    SavedCard { forget_tmp: bool },
    /// A card that needs 3-D Secure; `wait` is how long `wait_for_verification` waits.
    ThreeDs { bank: Bank, wait: Duration },
    /// Telegram Stars.
    Stars,
}

/// What is bought.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// An invoice link.
    Slug(&'static str),
    /// An unpaid invoice message in the chat with the bot (card: `$4.99` like `ebook`; Stars:
    /// `50` like `sticker-pack`), each used once.
    Message,
    /// Several purchases at once, each of its own invoice message — all of the same price from
    /// the same bot, so their receipts look alike.
    Messages,
    /// Several purchases at once: the link (`ebook` / `sticker-pack`), and invoice messages of
    /// the same price from the same bot.
    LinkAndMessages,
}

/// What a pending payment reconciled after an ambiguous answer knows of the merchant bot — as
/// when it comes from a journal written by an app that did not keep everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BotHint {
    /// Everything the form gave (its access hash).
    Full,
    /// Only its username: reconcile resolves it (`contacts.resolveUsername`).
    Username,
    /// Neither: for a link, reconcile cannot open the chat and reads the Stars history.
    Nothing,
}

/// One run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub purchase: Purchase,
    pub target: Target,
    /// How many sessions of the account buy the same thing at once.
    pub copies: usize,
    /// Which of the worker's sessions buys (a single purchase).
    pub session: usize,
    /// What a reconciled pending payment knows of the bot.
    pub bot: BotHint,
    pub faults: Vec<Fault>,
}

impl Plan {
    pub fn is_stars(&self) -> bool {
        self.purchase == Purchase::Stars
    }

    /// The money-moving method of this plan.
    pub fn money_method(&self) -> &'static str {
        if self.is_stars() {
            SEND_STARS
        } else {
            SEND_CARD
        }
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.purchase {
            Purchase::Card(Token::Visa) => "card by token".to_owned(),
            Purchase::Card(Token::Declined) => "declined card by token".to_owned(),
            Purchase::SavedCard { forget_tmp } => format!(
                "saved card with 2FA ({} tmp password)",
                if forget_tmp { "new" } else { "cached" }
            ),
            Purchase::ThreeDs { bank, wait } => {
                let bank = match bank {
                    Bank::Confirm(after) => format!("confirmed after {after:?}"),
                    Bank::Fail(after) => format!("failed after {after:?}"),
                    Bank::Abandon => "abandoned".to_owned(),
                };
                format!("3-D Secure {bank}, waited {wait:?}")
            }
            Purchase::Stars => "Stars".to_owned(),
        };
        let target = match self.target {
            Target::Slug(slug) => slug.to_owned(),
            Target::Message => "an invoice message".to_owned(),
            Target::Messages => "invoice messages of the same price".to_owned(),
            Target::LinkAndMessages => "a link and invoice messages of its price".to_owned(),
        };
        write!(f, "{what} for {target}")?;
        match self.bot {
            BotHint::Full => {}
            BotHint::Username => f.write_str(", reconciled knowing the bot's username only")?,
            BotHint::Nothing => f.write_str(", reconciled knowing nothing of the bot")?,
        }
        if self.copies > 1 {
            write!(f, ", {} at once", self.copies)?;
        } else {
            write!(f, " (session {})", self.session)?;
        }
        if self.faults.is_empty() {
            return f.write_str("; no faults");
        }
        f.write_str("; faults:")?;
        for (i, fault) in self.faults.iter().enumerate() {
            let action = match &fault.action {
                FaultAction::Error(e) => format!("error {e}"),
                FaultAction::ErrorAfter(e) => format!("processed, then error {e}"),
                FaultAction::DropAfter => "processed, reply lost".to_owned(),
                FaultAction::DropBefore => "request lost".to_owned(),
                FaultAction::Delay(d) => format!("reply delayed {d:?}"),
                FaultAction::Flood(s) => format!("flood wait {s} s"),
            };
            let sep = if i == 0 { " " } else { ", " };
            write!(f, "{sep}{} {action} ×{}", fault.method, fault.times)?;
        }
        Ok(())
    }
}

/// The generator of run `run` under `seed`.
fn generator(seed: u64, run: u64) -> StdRng {
    // SplitMix64 of the pair, so that neighbouring runs get unrelated streams.
    let mut z = seed ^ run.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    StdRng::seed_from_u64(z ^ (z >> 31))
}

/// The plan of run `run` under `seed`.
pub fn plan(seed: u64, run: u64) -> Plan {
    let mut rng = generator(seed, run);
    let roll = rng.random_range(0..100);
    let mut copies = 1;
    let (purchase, target) = match roll {
        0..20 => {
            let token = if rng.random_bool(0.15) {
                Token::Declined
            } else {
                Token::Visa
            };
            let target = match rng.random_range(0..20) {
                0..5 => Target::Message,
                5..7 => Target::Slug("sold-out"),
                7..9 => Target::Slug("club"),
                _ => Target::Slug("ebook"),
            };
            (Purchase::Card(token), target)
        }
        20..32 => {
            let target = if rng.random_bool(0.2) {
                Target::Slug("club")
            } else {
                Target::Slug("ebook")
            };
            let forget_tmp = rng.random_bool(0.5);
            (Purchase::SavedCard { forget_tmp }, target)
        }
        32..50 => {
            let lifetime = Duration::from_secs(LIFETIME_SECS);
            let bank = match rng.random_range(0..9) {
                0..4 => Bank::Confirm(after(&mut rng, lifetime)),
                4..7 => Bank::Fail(after(&mut rng, lifetime)),
                _ => Bank::Abandon,
            };
            let wait = match bank {
                Bank::Abandon => Duration::from_millis(rng.random_range(100..600)),
                _ if rng.random_bool(0.25) => Duration::from_millis(rng.random_range(100..800)),
                _ => Duration::from_secs(3),
            };
            (Purchase::ThreeDs { bank, wait }, Target::Slug("ebook"))
        }
        50..75 => {
            let target = match rng.random_range(0..20) {
                0..5 => Target::Message,
                5..8 => Target::Slug("golden-frame"),
                _ => Target::Slug("sticker-pack"),
            };
            (Purchase::Stars, target)
        }
        _ => {
            copies = rng.random_range(2..=3);
            let stars = rng.random_bool(0.5);
            let target = match (rng.random_range(0..4), stars) {
                (0, _) => Target::Messages,
                (1, _) => Target::LinkAndMessages,
                (_, true) => Target::Slug("sticker-pack"),
                (_, false) => Target::Slug("ebook"),
            };
            if stars {
                (Purchase::Stars, target)
            } else {
                (Purchase::Card(Token::Visa), target)
            }
        }
    };
    let session = rng.random_range(0..3);
    // Without the bot, only Stars payments can be checked (their history names the bot); and
    // only one at a time: the history cannot tell look-alike invoices apart.
    let bot = match rng.random_range(0..10) {
        0..2 => BotHint::Username,
        2..4 if purchase == Purchase::Stars && copies == 1 => BotHint::Nothing,
        _ => BotHint::Full,
    };
    let mut plan = Plan {
        purchase,
        target,
        copies,
        session,
        bot,
        faults: Vec::new(),
    };
    let count = match rng.random_range(0..100) {
        0..15 => 0,
        15..55 => 1,
        55..85 => 2,
        _ => 3,
    };
    for _ in 0..count {
        let fault = fault(&mut rng, &plan);
        plan.faults.push(fault);
    }
    plan
}

/// When the payer acts on the bank's page: at once, within the wait, or late — up to just past
/// the verification's end, where a confirmation no longer charges.
fn after(rng: &mut StdRng, lifetime: Duration) -> Duration {
    let ms = match rng.random_range(0..10) {
        0..5 => 0,
        5..8 => rng.random_range(0..1_500),
        _ => rng.random_range(1_500..lifetime.as_millis() as u64 + 1_500),
    };
    Duration::from_millis(ms)
}

/// The methods a plan's purchase calls, weighted: where its faults go.
fn methods(plan: &Plan) -> Vec<(&'static str, u32)> {
    let mut methods = vec![
        (plan.money_method(), 12),
        ("payments.getPaymentForm", 2),
        ("messages.getHistory", 4),
        ("updates.getState", 2),
        ("payments.getPaymentReceipt", 1),
    ];
    match plan.bot {
        BotHint::Full => {}
        BotHint::Username => methods.push(("contacts.resolveUsername", 2)),
        BotHint::Nothing => methods.push(("payments.getStarsTransactions", 3)),
    }
    if plan.is_stars() {
        methods.push(("payments.getStarsTransactions", 1));
        methods.push(("payments.getStarsStatus", 1));
    }
    if !matches!(plan.target, Target::Slug(_)) {
        methods.push(("messages.getMessages", 2));
    }
    if let Purchase::SavedCard { forget_tmp: true } = plan.purchase {
        methods.push(("account.getPassword", 1));
        methods.push(("account.getTmpPassword", 2));
    }
    methods
}

/// Every error the catalog lists for `method` (numbered ones with 1), and Telegram's internal
/// errors: what Telegram may answer instead of processing a request.
fn errors_without_processing(method: &str) -> Vec<RpcFail> {
    let mut errors: Vec<RpcFail> = CatalogEntry::all()
        .iter()
        .filter(|e| e.any_method() || e.methods().contains(&method))
        .map(|e| RpcFail::new(e.code(), &e.wire_message(1)))
        .collect();
    errors.extend(SERVER_ERRORS.iter().map(|(c, m)| RpcFail::new(*c, m)));
    errors
}

/// What Telegram may answer after processing a money-moving request: its internal errors, and
/// the refusals a re-sent or concurrent request would hear (every catalogued error of the
/// method that is not a rejection before processing, and the form's own `FORM_EXPIRED` /
/// `FORM_SUBMIT_DUPLICATE`).
fn errors_after_processing(method: &str) -> Vec<RpcFail> {
    let mut errors: Vec<RpcFail> = CatalogEntry::all()
        .iter()
        .filter(|e| e.methods().contains(&method))
        .filter(|e| e.error(1).money_class() != MoneyClass::Rejected)
        .map(|e| RpcFail::new(e.code(), &e.wire_message(1)))
        .collect();
    for name in ["FORM_EXPIRED", "FORM_SUBMIT_DUPLICATE"] {
        if !errors.iter().any(|e| e.message == name) {
            errors.push(RpcFail::bad(name));
        }
    }
    errors.extend(SERVER_ERRORS.iter().map(|(c, m)| RpcFail::new(*c, m)));
    errors
}

fn fault(rng: &mut StdRng, plan: &Plan) -> Fault {
    let methods = methods(plan);
    let total: u32 = methods.iter().map(|(_, w)| w).sum();
    let mut pick = rng.random_range(0..total);
    let method = methods
        .iter()
        .find(|(_, w)| {
            if pick < *w {
                true
            } else {
                pick -= w;
                false
            }
        })
        .map_or(plan.money_method(), |(m, _)| m);
    let money = method == SEND_CARD || method == SEND_STARS;
    let any = |rng: &mut StdRng, list: Vec<RpcFail>| {
        list.choose(rng)
            .cloned()
            .unwrap_or_else(|| RpcFail::new(-503, "Timeout"))
    };
    let server = SERVER_ERRORS
        .iter()
        .map(|(c, m)| RpcFail::new(*c, m))
        .collect();
    let roll = rng.random_range(0..100);
    let action = if roll < 25 {
        if money {
            FaultAction::ErrorAfter(any(rng, errors_after_processing(method)))
        } else if roll < 10 {
            // A read moves no money: processed, then Telegram's internal error.
            FaultAction::ErrorAfter(any(rng, server))
        } else {
            FaultAction::Error(any(rng, errors_without_processing(method)))
        }
    } else if roll < 45 {
        FaultAction::Error(any(rng, errors_without_processing(method)))
    } else if roll < 63 {
        FaultAction::DropAfter
    } else if roll < 80 {
        FaultAction::DropBefore
    } else if roll < 97 {
        // Money-moving replies come after the send timeout; reads are just slow.
        FaultAction::Delay(if money {
            SEND_TIMEOUT + Duration::from_millis(rng.random_range(100..800))
        } else {
            Duration::from_millis(rng.random_range(50..1_500))
        })
    } else {
        FaultAction::Flood(1)
    };
    let times = match rng.random_range(0..100) {
        0..80 => 1,
        80..95 => 2,
        _ => 3,
    };
    Fault {
        method: method.to_owned(),
        user: Some(ALICE),
        action,
        times,
    }
}
