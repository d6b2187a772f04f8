//! The sandbox's state: users, merchants, invoices, forms, messages, charges and the Stars
//! ledger, and the semantics of every payments RPC over them.
//!
//! Every method here is synchronous and pure over the state: it takes a decoded TL request and
//! returns a TL answer or an [`RpcFail`]. The transport decodes and encodes; the world never
//! sees bytes. Updates for other sessions are queued in an outbox that the server drains after
//! each call.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use grammers_tl_types as tl;
use zeroize::Zeroizing;

use super::keys::UNBOUND_USER;
use super::merchant::{self, Credentials};
use super::scenario::{
    AddressSpec, CardOutcome, InvoiceSpec, MerchantSpec, OrderInfoSpec, PriceSpec, SavedCardSpec,
    Scenario, ShippingOptionSpec, TopupOptionSpec,
};
use super::tl_make::{self, MessageView, UserView};
use crate::clock::unix_now;
use crate::srp;

/// How long a payment form stays valid by default (Telegram: 10 minutes); a scenario's
/// `form_lifetime_secs` changes it.
pub const FORM_LIFETIME: Duration = Duration::from_secs(600);
/// How long an unconfirmed 3-D Secure verification stays open by default; a scenario's
/// `verification_lifetime_secs` changes it.
pub const VERIFICATION_LIFETIME: Duration = Duration::from_secs(600);
/// Shortest and longest tmp password validity `account.getTmpPassword` accepts, in seconds.
pub const TMP_PASSWORD_PERIOD: std::ops::RangeInclusive<i32> = 60..=86_400;
/// Largest amount (in absolute value) a price may have, as in Telegram's clients.
pub const MAX_AMOUNT: i64 = 999_999_999_999;
/// Wrong 2FA passwords in a row an account takes before checks are refused with
/// `FLOOD_WAIT_X` for [`WRONG_PASSWORD_WAIT`], as Telegram refuses them.
pub const WRONG_PASSWORDS_BEFORE_WAIT: u32 = 5;
/// How long password checks are refused after [`WRONG_PASSWORDS_BEFORE_WAIT`] wrong ones.
pub const WRONG_PASSWORD_WAIT: Duration = Duration::from_secs(300);
/// How long an issued card token can be charged.
pub const CARD_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);
/// Card tokens kept at most; issuing one more forgets the oldest.
pub const MAX_CARD_TOKENS: usize = 10_000;

mod chats;
mod faults;
mod forms;
mod gateway;
mod login;
mod password;
mod render;
mod send;
mod stars;
mod types;

pub use faults::{Fault, FaultAction};
pub use login::LOGIN_CODE_LIFETIME;
pub use types::{
    Charge, ChargeKind, GatewayState, GatewayView, Push, RpcFail, RpcResult, StarsEntry,
    VerificationState, VerificationView,
};

use login::Logins;
use render::*;

struct PasswordState {
    record: srp::PasswordRecord,
    challenge: Option<srp::ServerChallenge>,
    /// A challenge computed outside the world's lock for the next `account.getPassword`.
    prepared: Option<srp::ServerChallenge>,
    /// Wrong passwords in a row.
    wrong: u32,
    /// Checks are refused with `FLOOD_WAIT_X` until then (world clock).
    blocked_until: i64,
}

struct TmpPassword {
    secret: Zeroizing<Vec<u8>>,
    valid_until: i64,
}

#[derive(Clone)]
enum Stored {
    Invoice {
        bot: i64,
        invoice: usize,
        date: i32,
        receipt_msg_id: Option<i32>,
        edit_date: Option<i32>,
    },
    PaymentSent {
        bot: i64,
        charge: usize,
        date: i32,
    },
}

struct Account {
    id: i64,
    access_hash: i64,
    first_name: String,
    last_name: Option<String>,
    username: Option<String>,
    phone: Option<String>,
    password: Option<PasswordState>,
    tmp_passwords: Vec<TmpPassword>,
    saved_info: Option<OrderInfoSpec>,
    saved_cards: Vec<SavedCardSpec>,
    stars: i64,
    ledger: Vec<StarsEntry>,
    chat: BTreeMap<i32, Stored>,
    next_msg_id: i32,
    pts: i32,
    log: Vec<(i32, tl::enums::Update)>,
}

struct Merchant {
    spec: MerchantSpec,
    access_hash: i64,
}

struct InvoiceState {
    spec: InvoiceSpec,
}

impl InvoiceState {
    fn total(&self) -> RpcResult<i64> {
        sum_prices(&self.spec.prices)
    }

    fn is_stars(&self) -> bool {
        self.spec.currency == "XTR"
    }

    fn requests_info(&self) -> bool {
        let s = &self.spec;
        s.name_requested
            || s.phone_requested
            || s.email_requested
            || s.shipping_address_requested
            || s.flexible
    }
}

/// Where an invoice was opened from: its definition and, for message invoices, the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct InvoiceKey {
    invoice: usize,
    message: Option<(i64, i32)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum FormState {
    Open,
    Verifying(String),
    Paid,
    Closed,
}

/// How many forms and validated order infos the world holds before it forgets expired ones.
const PRUNE_ABOVE: usize = 1024;

struct Form {
    user: i64,
    key: InvoiceKey,
    created: i64,
    total: i64,
    state: FormState,
}

/// What [`World::prune`] may forget once it expires.
enum Expiring {
    Form(i64),
    Validated(String),
}

struct Validated {
    created: i64,
    user: i64,
    key: InvoiceKey,
    info: OrderInfoSpec,
    options: Vec<ShippingOptionSpec>,
}

struct Pending {
    user: i64,
    form_id: i64,
    order: Order,
    created: i64,
    state: VerificationState,
}

/// Everything needed to record a charge once the provider accepted it.
#[derive(Clone)]
struct Order {
    key: InvoiceKey,
    total: i64,
    tip: i64,
    shipping: Option<String>,
    info: Option<OrderInfoSpec>,
    credentials_title: String,
    save_card: Option<SavedCardSpec>,
}

/// The sandbox's whole state. Share it as `Arc<Mutex<World>>`.
pub struct World {
    users: BTreeMap<i64, Account>,
    merchants: BTreeMap<i64, Merchant>,
    invoices: Vec<InvoiceState>,
    slugs: HashMap<String, usize>,
    topup_options: Vec<TopupOptionSpec>,
    forms: HashMap<i64, Form>,
    validated: HashMap<String, Validated>,
    /// Forms and validated order infos by creation (world clock), oldest first, for pruning.
    expiry: std::collections::VecDeque<(i64, Expiring)>,
    charges: Vec<Charge>,
    pending: HashMap<String, Pending>,
    tokens: HashMap<String, (CardOutcome, String)>,
    /// When each card token was issued (world clock), oldest first, for pruning.
    token_order: std::collections::VecDeque<(i64, String)>,
    faults: Vec<Fault>,
    /// Flood waits in force: `(user, method)` → until (world clock).
    floods: HashMap<(i64, String), i64>,
    calls: HashMap<(i64, String), u64>,
    clock_offset: i64,
    form_lifetime: i64,
    verification_lifetime: i64,
    web_base: String,
    outbox: Vec<Push>,
    serial: u64,
    login: Logins,
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World")
            .field("users", &self.users.len())
            .field("merchants", &self.merchants.len())
            .field("invoices", &self.invoices.len())
            .field("forms", &self.forms.len())
            .field("charges", &self.charges.len())
            .finish_non_exhaustive()
    }
}

fn sum_prices(prices: &[PriceSpec]) -> RpcResult<i64> {
    prices
        .iter()
        .try_fold(0i64, |acc, p| acc.checked_add(p.amount))
        .filter(|t| t.abs() <= MAX_AMOUNT)
        .ok_or_else(|| RpcFail::bad("INVOICE_INVALID"))
}

fn to_i32(t: i64) -> i32 {
    i32::try_from(t).unwrap_or(i32::MAX)
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::fill(&mut buf[..]);
    hex::encode(buf)
}

impl World {
    /// Builds the world a scenario describes. `web_base` is the URL prefix of the sandbox's
    /// web pages (gateway and 3-D Secure), e.g. `http://127.0.0.1:8081`.
    pub fn new(scenario: &Scenario, web_base: &str) -> Result<Self, super::ScenarioError> {
        scenario.check()?;
        let now = unix_now();
        let mut users = BTreeMap::new();
        for spec in &scenario.users {
            let password = spec.password.as_ref().map(|p| {
                let record = srp::PasswordRecord::new(p.as_bytes(), &mut rand::rng());
                PasswordState {
                    record: match &spec.password_hint {
                        Some(hint) => record.with_hint(hint.clone()),
                        None => record,
                    },
                    challenge: None,
                    prepared: None,
                    wrong: 0,
                    blocked_until: 0,
                }
            });
            users.insert(
                spec.id,
                Account {
                    id: spec.id,
                    access_hash: rand::random::<i64>() & i64::MAX,
                    first_name: spec.first_name.clone(),
                    last_name: spec.last_name.clone(),
                    username: spec.username.clone(),
                    phone: spec.phone.clone(),
                    password,
                    tmp_passwords: Vec::new(),
                    saved_info: spec.saved_info.clone(),
                    saved_cards: spec.saved_cards.clone(),
                    stars: spec.stars,
                    ledger: Vec::new(),
                    chat: BTreeMap::new(),
                    next_msg_id: 1,
                    pts: 1,
                    log: Vec::new(),
                },
            );
        }
        let merchants = scenario
            .merchants
            .iter()
            .map(|m| {
                (
                    m.id,
                    Merchant {
                        spec: m.clone(),
                        access_hash: rand::random::<i64>() & i64::MAX,
                    },
                )
            })
            .collect();
        let mut world = World {
            users,
            merchants,
            invoices: Vec::new(),
            slugs: HashMap::new(),
            topup_options: scenario.stars_topup_options.clone(),
            forms: HashMap::new(),
            validated: HashMap::new(),
            expiry: std::collections::VecDeque::new(),
            charges: Vec::new(),
            pending: HashMap::new(),
            tokens: HashMap::new(),
            token_order: std::collections::VecDeque::new(),
            faults: scenario
                .faults
                .iter()
                .map(|f| Fault {
                    method: f.method.clone(),
                    user: f.user,
                    action: match (&f.error, f.delay_ms) {
                        _ if f.flood_wait_secs.is_some() => {
                            FaultAction::Flood(f.flood_wait_secs.unwrap_or(1))
                        }
                        (Some(e), _) if f.after_processing => {
                            FaultAction::ErrorAfter(RpcFail::new(f.code.unwrap_or(400), e))
                        }
                        (Some(e), _) => FaultAction::Error(RpcFail::new(f.code.unwrap_or(400), e)),
                        (None, Some(ms)) => FaultAction::Delay(Duration::from_millis(ms)),
                        (None, None) if f.drop_unprocessed => FaultAction::DropBefore,
                        (None, None) => FaultAction::DropAfter,
                    },
                    times: f.times,
                })
                .collect(),
            floods: HashMap::new(),
            calls: HashMap::new(),
            clock_offset: 0,
            form_lifetime: i64::try_from(scenario.form_lifetime_secs).unwrap_or(i64::MAX),
            verification_lifetime: i64::try_from(scenario.verification_lifetime_secs)
                .unwrap_or(i64::MAX),
            web_base: web_base.trim_end_matches('/').to_owned(),
            outbox: Vec::new(),
            serial: 0,
            login: Logins::new(&scenario.login_code),
        };
        for spec in &scenario.invoices {
            let index = world.invoices.len();
            world.slugs.insert(spec.slug.clone(), index);
            world.invoices.push(InvoiceState { spec: spec.clone() });
            for user in &spec.message_for {
                let date = to_i32(now);
                if let Some(account) = world.users.get_mut(user) {
                    let id = account.next_msg_id;
                    account.next_msg_id += 1;
                    account.chat.insert(
                        id,
                        Stored::Invoice {
                            bot: spec.merchant,
                            invoice: index,
                            date,
                            receipt_msg_id: None,
                            edit_date: None,
                        },
                    );
                }
            }
        }
        Ok(world)
    }

    /// The world's clock, in Unix seconds (real time plus [`World::advance_clock`]).
    pub fn now(&self) -> i64 {
        unix_now() + self.clock_offset
    }

    /// Moves the world's clock forward (form expiry, tmp password validity).
    pub fn advance_clock(&mut self, by: Duration) {
        self.clock_offset += by.as_secs() as i64;
    }

    /// Moves the world's clock by `secs`, backwards too (a server clock behind the client's).
    pub fn shift_clock(&mut self, secs: i64) {
        self.clock_offset = self.clock_offset.saturating_add(secs);
    }

    /// How long payment forms stay valid, in seconds.
    pub fn form_lifetime_secs(&self) -> i64 {
        self.form_lifetime
    }

    /// How long 3-D Secure verifications stay open, in seconds.
    pub fn verification_lifetime_secs(&self) -> i64 {
        self.verification_lifetime
    }

    /// Every successful charge, in order.
    pub fn charges(&self) -> &[Charge] {
        &self.charges
    }

    /// The charges of `user` for the invoice `slug`, in order: the ledger a money test checks.
    pub fn charges_of(&self, user: i64, slug: &str) -> Vec<Charge> {
        self.charges
            .iter()
            .filter(|c| c.user == user && c.invoice_slug == slug)
            .cloned()
            .collect()
    }

    /// How many times `user` called `method` (TL name, e.g. `account.getTmpPassword`).
    pub fn call_count(&self, user: i64, method: &str) -> u64 {
        self.calls
            .get(&(user, method.to_owned()))
            .copied()
            .unwrap_or(0)
    }

    /// Records a call (done by the dispatcher for every request).
    pub fn record_call(&mut self, user: i64, method: &str) {
        *self.calls.entry((user, method.to_owned())).or_insert(0) += 1;
    }

    /// Changes an invoice's prices (a merchant changing its price list).
    pub fn set_prices(&mut self, slug: &str, prices: Vec<PriceSpec>) -> bool {
        match self.slugs.get(slug).and_then(|i| self.invoices.get_mut(*i)) {
            Some(invoice) => {
                invoice.spec.prices = prices;
                true
            }
            None => false,
        }
    }

    /// Forgets expired forms and validated order infos once more than [`PRUNE_ABOVE`] of them
    /// pile up, oldest first, so a long-running sandbox keeps a bounded state without scanning
    /// it. Forms waiting for 3-D Secure stay (looked at again a lifetime later). Below the
    /// threshold nothing is forgotten: an expired form still answers `FORM_EXPIRED`.
    fn prune(&mut self) {
        if self.forms.len() + self.validated.len() < PRUNE_ABOVE {
            return;
        }
        let now = self.now();
        while let Some((created, _)) = self.expiry.front() {
            if now - created <= self.form_lifetime {
                break;
            }
            let Some((_, item)) = self.expiry.pop_front() else {
                break;
            };
            match item {
                Expiring::Form(id) => {
                    let verifying = self
                        .forms
                        .get(&id)
                        .is_some_and(|f| matches!(f.state, FormState::Verifying(_)));
                    if verifying {
                        self.expiry.push_back((now, Expiring::Form(id)));
                    } else {
                        self.forms.remove(&id);
                    }
                }
                Expiring::Validated(id) => {
                    self.validated.remove(&id);
                }
            }
        }
    }

    /// Records a new form (see [`World::prune`]).
    fn add_form(&mut self, id: i64, form: Form) {
        self.prune();
        self.expiry.push_back((form.created, Expiring::Form(id)));
        self.forms.insert(id, form);
    }

    /// Records a new validated order info (see [`World::prune`]).
    fn add_validated(&mut self, id: String, validated: Validated) {
        self.prune();
        self.expiry
            .push_back((validated.created, Expiring::Validated(id.clone())));
        self.validated.insert(id, validated);
    }

    fn next_serial(&mut self) -> u64 {
        self.serial += 1;
        self.serial
    }

    fn account(&self, user: i64) -> RpcResult<&Account> {
        self.users
            .get(&user)
            .ok_or_else(|| RpcFail::new(401, "AUTH_KEY_UNREGISTERED"))
    }

    fn account_mut(&mut self, user: i64) -> RpcResult<&mut Account> {
        self.users
            .get_mut(&user)
            .ok_or_else(|| RpcFail::new(401, "AUTH_KEY_UNREGISTERED"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::ALICE;

    /// The default world, and a request for the e-book's form.
    fn ebook_world() -> (World, tl::functions::payments::GetPaymentForm) {
        let world = World::new(&Scenario::default_world(), "http://127.0.0.1:1").unwrap();
        let request = tl::functions::payments::GetPaymentForm {
            invoice: tl::types::InputInvoiceSlug {
                slug: "ebook".into(),
            }
            .into(),
            theme_params: None,
        };
        (world, request)
    }

    #[test]
    fn expired_forms_are_forgotten_once_they_pile_up() {
        let (mut world, request) = ebook_world();
        for _ in 0..1000 {
            world.get_payment_form(ALICE, &request).unwrap();
        }
        assert_eq!(world.forms.len(), 1000);
        // One of them waits for 3-D Secure: it stays however old it gets.
        let waiting = *world.forms.keys().next().unwrap();
        world.forms.get_mut(&waiting).unwrap().state = FormState::Verifying("url".into());
        world.advance_clock(FORM_LIFETIME + Duration::from_secs(1));
        for _ in 0..100 {
            world.get_payment_form(ALICE, &request).unwrap();
        }
        assert_eq!(
            world.forms.len(),
            101,
            "only the fresh forms and the waiting one are kept"
        );
        assert!(world.forms.contains_key(&waiting));
        assert_eq!(
            world.expiry.len(),
            101,
            "the pruning queue shrinks with them"
        );
        // Once it is no longer waiting, a later pass forgets it too.
        world.forms.get_mut(&waiting).unwrap().state = FormState::Closed;
        for _ in 0..1000 {
            world.get_payment_form(ALICE, &request).unwrap();
        }
        world.advance_clock(FORM_LIFETIME + Duration::from_secs(1));
        world.get_payment_form(ALICE, &request).unwrap();
        assert_eq!(world.forms.len(), 1);
        assert!(!world.forms.contains_key(&waiting));
    }

    #[test]
    fn expired_forms_stay_while_few() {
        let (mut world, request) = ebook_world();
        world.get_payment_form(ALICE, &request).unwrap();
        world.advance_clock(FORM_LIFETIME + Duration::from_secs(1));
        world.get_payment_form(ALICE, &request).unwrap();
        assert_eq!(
            world.forms.len(),
            2,
            "an expired form still answers FORM_EXPIRED"
        );
    }
}
