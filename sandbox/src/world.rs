//! The sandbox's state: users, merchants, invoices, forms, messages, charges and the Stars
//! ledger, and the semantics of every payments RPC over them.
//!
//! Every method here is synchronous and pure over the state: it takes a decoded TL request and
//! returns a TL answer or an [`RpcFail`]. The transport decodes and encodes; the world never
//! sees bytes. Updates for other sessions are queued in an outbox that the server drains after
//! each call.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use grammers_tl_types as tl;
use zeroize::Zeroizing;

use super::keys::UNBOUND_USER;
use super::merchant::{self, Credentials};
use super::scenario::{
    AddressSpec, CardOutcome, InvoiceSpec, MerchantSpec, OrderInfoSpec, PriceSpec, SavedCardSpec,
    Scenario, ShippingOptionSpec, TopupOptionSpec,
};
use super::tl_make::{self, MessageView, UserView};
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

/// An RPC error as the server sends it (`rpc_error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcFail {
    /// HTTP-like error code (400, 403, 406, 420, …).
    pub code: i32,
    /// The error message, e.g. `FORM_EXPIRED` or `FLOOD_WAIT_3`.
    pub message: String,
}

impl RpcFail {
    /// A 400 error with this name.
    pub fn bad(message: &str) -> Self {
        Self::new(400, message)
    }

    /// An error with any code.
    pub fn new(code: i32, message: &str) -> Self {
        Self {
            code,
            message: message.to_owned(),
        }
    }
}

impl std::fmt::Display for RpcFail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code, self.message)
    }
}

/// What a world method returns.
pub type RpcResult<T> = Result<T, RpcFail>;

/// Updates the server must deliver to a user's live sessions.
#[derive(Debug, Clone)]
pub struct Push {
    /// The user whose sessions get the updates.
    pub user: i64,
    /// The updates.
    pub updates: tl::enums::Updates,
}

/// How a charge was paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChargeKind {
    /// A card or wallet payment through the merchant's provider.
    Card,
    /// Telegram Stars from the user's balance.
    Stars,
}

/// One successful payment, as the world recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    /// Telegram's charge id.
    pub id: String,
    /// The provider's charge id.
    pub provider_charge_id: String,
    /// Card or Stars.
    pub kind: ChargeKind,
    /// The paying user.
    pub user: i64,
    /// The merchant bot.
    pub merchant: i64,
    /// The invoice's slug.
    pub invoice_slug: String,
    /// The message id of the invoice in the user's chat, if paid from a message.
    pub invoice_msg_id: Option<i32>,
    /// The form that was submitted.
    pub form_id: i64,
    /// Currency (`XTR` for Stars).
    pub currency: String,
    /// Total charged, in the currency's smallest unit (prices + shipping + tip).
    pub total_amount: i64,
    /// The tip included in the total.
    pub tip_amount: i64,
    /// The chosen shipping option.
    pub shipping_option_id: Option<String>,
    /// Order info sent to the merchant.
    pub info: Option<OrderInfoSpec>,
    /// What the user paid with (`Visa *4242`, `Apple Pay`, `Stars`).
    pub credentials_title: String,
    /// Unix time of the payment.
    pub date: i32,
    /// The id of the `messageActionPaymentSent` service message in the user's chat.
    pub receipt_msg_id: i32,
}

/// One Telegram Stars ledger entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StarsEntry {
    /// Transaction id.
    pub id: String,
    /// Signed amount: negative for spending.
    pub amount: i64,
    /// Unix time.
    pub date: i32,
    /// The other side (a bot), or none for top-ups.
    pub peer: Option<i64>,
    /// Title shown in the history.
    pub title: String,
    /// The receipt message, for purchases.
    pub msg_id: Option<i32>,
}

/// A scripted failure: the next calls of a method fail the way a test wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// TL name of the method, e.g. `payments.sendPaymentForm`.
    pub method: String,
    /// Only for this user; every user when `None`.
    pub user: Option<i64>,
    /// What happens.
    pub action: FaultAction,
    /// How many calls it affects.
    pub times: u32,
}

/// What a [`Fault`] does to a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultAction {
    /// Answer with this RPC error without running the method.
    Error(RpcFail),
    /// Run the method (e.g. charge), then answer with this RPC error instead of its result
    /// (Telegram's `-503 Timeout` after the work was done, or what a re-sent request gets).
    ErrorAfter(RpcFail),
    /// Run the method (e.g. charge), then close the connection without answering.
    DropAfter,
    /// Close the connection without running the method (the request is lost).
    DropBefore,
    /// Run the method, and send its answer only after this long, on the same connection (a
    /// client that gave up in the meantime never sees it).
    Delay(Duration),
    /// A flood wait of this many seconds, held for real: this call and every call of the
    /// method by the user until then get `FLOOD_WAIT_<seconds left>` (code 420), unprocessed.
    Flood(u32),
}

/// The state of a 3-D Secure verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerificationState {
    /// Waiting for the user on the verification page.
    Pending,
    /// Confirmed: the payment went through.
    Confirmed,
    /// Failed or abandoned: nothing was charged.
    Failed,
}

/// A 3-D Secure verification, as the web page sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationView {
    /// Merchant name.
    pub merchant: String,
    /// Invoice title.
    pub title: String,
    /// Currency.
    pub currency: String,
    /// Total to be charged.
    pub total_amount: i64,
    /// The card.
    pub credentials_title: String,
    /// Where it stands.
    pub state: VerificationState,
}

/// Where a payment form stands, as the gateway page sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayState {
    /// The form can still be paid.
    Open,
    /// A payment with this form waits for 3-D Secure.
    Verifying,
    /// The form was paid.
    Paid,
    /// The form was closed (a failed verification) or expired.
    Closed,
}

/// A payment form, as the provider's gateway page (the form's `url`) shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayView {
    /// Merchant name.
    pub merchant: String,
    /// Invoice title.
    pub title: String,
    /// Invoice description.
    pub description: String,
    /// Currency.
    pub currency: String,
    /// The invoice's total, before shipping and tip.
    pub total_amount: i64,
    /// Whether the form can still be paid.
    pub state: GatewayState,
}

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

impl PasswordState {
    /// Spends the open challenge on one check of `input` (right or wrong, a challenge serves
    /// once), refusing checks while the account waits after too many wrong passwords.
    fn check(&mut self, now: i64, input: &tl::enums::InputCheckPasswordSrp) -> RpcResult<()> {
        if now < self.blocked_until {
            return Err(RpcFail::new(
                420,
                &format!("FLOOD_WAIT_{}", self.blocked_until - now),
            ));
        }
        let Some(challenge) = self.challenge.take() else {
            return Err(RpcFail::bad("SRP_ID_INVALID"));
        };
        match challenge.verify(&self.record, input) {
            Ok(()) => {
                self.wrong = 0;
                Ok(())
            }
            Err(e) => {
                let name = e.rpc_error_name().unwrap_or("SRP_A_INVALID");
                if name == "PASSWORD_HASH_INVALID" {
                    self.wrong += 1;
                    if self.wrong >= WRONG_PASSWORDS_BEFORE_WAIT {
                        self.wrong = 0;
                        self.blocked_until = now + WRONG_PASSWORD_WAIT.as_secs() as i64;
                    }
                }
                Err(RpcFail::bad(name))
            }
        }
    }
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

struct Form {
    user: i64,
    key: InvoiceKey,
    created: i64,
    total: i64,
    state: FormState,
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

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
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
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

fn prices_tl(prices: &[PriceSpec]) -> Vec<tl::enums::LabeledPrice> {
    prices
        .iter()
        .map(|p| {
            tl::types::LabeledPrice {
                label: p.label.clone(),
                amount: p.amount,
            }
            .into()
        })
        .collect()
}

fn shipping_option_tl(o: &ShippingOptionSpec) -> tl::enums::ShippingOption {
    tl::types::ShippingOption {
        id: o.id.clone(),
        title: o.title.clone(),
        prices: prices_tl(&o.prices),
    }
    .into()
}

fn info_tl(info: &OrderInfoSpec) -> tl::enums::PaymentRequestedInfo {
    tl::types::PaymentRequestedInfo {
        name: info.name.clone(),
        phone: info.phone.clone(),
        email: info.email.clone(),
        shipping_address: info.shipping_address.as_ref().map(|a| {
            tl::types::PostAddress {
                street_line1: a.street_line1.clone(),
                street_line2: a.street_line2.clone(),
                city: a.city.clone(),
                state: a.state.clone(),
                country_iso2: a.country_iso2.clone(),
                post_code: a.post_code.clone(),
            }
            .into()
        }),
    }
    .into()
}

fn info_from_tl(info: tl::enums::PaymentRequestedInfo) -> OrderInfoSpec {
    let tl::enums::PaymentRequestedInfo::Info(info) = info;
    OrderInfoSpec {
        name: info.name,
        phone: info.phone,
        email: info.email,
        shipping_address: info.shipping_address.map(|a| {
            let tl::enums::PostAddress::Address(a) = a;
            AddressSpec {
                street_line1: a.street_line1,
                street_line2: a.street_line2,
                city: a.city,
                state: a.state,
                country_iso2: a.country_iso2,
                post_code: a.post_code,
            }
        }),
    }
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

    // ----- observation and control (tests, the CLI and the web pages) -----

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

    /// A user's Stars balance.
    pub fn stars_balance(&self, user: i64) -> Option<i64> {
        self.users.get(&user).map(|a| a.stars)
    }

    /// A user's Stars ledger, oldest first.
    pub fn stars_ledger(&self, user: i64) -> &[StarsEntry] {
        self.users.get(&user).map_or(&[], |a| &a.ledger)
    }

    /// Adds Stars to a user's balance (a top-up), recorded in the ledger.
    pub fn top_up_stars(&mut self, user: i64, stars: i64) -> bool {
        let now = to_i32(self.now());
        let id = self.next_serial();
        let Some(account) = self.users.get_mut(&user) else {
            return false;
        };
        let Some(balance) = account.stars.checked_add(stars) else {
            return false;
        };
        account.stars = balance;
        account.ledger.push(StarsEntry {
            id: format!("topup_{id}"),
            amount: stars,
            date: now,
            peer: None,
            title: format!("{stars} Stars"),
            msg_id: None,
        });
        true
    }

    /// The saved order info of a user.
    pub fn saved_info(&self, user: i64) -> Option<&OrderInfoSpec> {
        self.users.get(&user).and_then(|a| a.saved_info.as_ref())
    }

    /// The saved cards of a user.
    pub fn saved_cards(&self, user: i64) -> &[SavedCardSpec] {
        self.users.get(&user).map_or(&[], |a| &a.saved_cards)
    }

    /// The invoice messages in a user's chat: `(merchant bot id, message id, slug)`.
    pub fn invoice_messages(&self, user: i64) -> Vec<(i64, i32, String)> {
        let Some(account) = self.users.get(&user) else {
            return Vec::new();
        };
        account
            .chat
            .iter()
            .filter_map(|(id, m)| match m {
                Stored::Invoice { bot, invoice, .. } => self
                    .invoices
                    .get(*invoice)
                    .map(|i| (*bot, *id, i.spec.slug.clone())),
                Stored::PaymentSent { .. } => None,
            })
            .collect()
    }

    /// The access hash a user sees for a peer (a merchant bot or another user).
    pub fn access_hash(&self, peer: i64) -> Option<i64> {
        self.merchants
            .get(&peer)
            .map(|m| m.access_hash)
            .or_else(|| self.users.get(&peer).map(|a| a.access_hash))
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

    /// Schedules a [`Fault`].
    pub fn inject(&mut self, fault: Fault) {
        self.faults.push(fault);
    }

    /// Forgets every scripted fault and flood wait.
    pub fn clear_faults(&mut self) {
        self.faults.clear();
        self.floods.clear();
    }

    /// Takes the fault that applies to this call, if any (the dispatcher asks before each call).
    /// A [`FaultAction::Flood`] holds for real seconds: every call of the method by the user
    /// until then gets `FLOOD_WAIT_<seconds left>`, as Telegram does.
    pub fn take_fault(&mut self, user: i64, method: &str) -> Option<FaultAction> {
        let now = self.now();
        let key = (user, method.to_owned());
        match self.floods.get(&key) {
            Some(until) if *until > now => {
                return Some(FaultAction::Error(RpcFail::new(
                    420,
                    &format!("FLOOD_WAIT_{}", until - now),
                )));
            }
            Some(_) => {
                self.floods.remove(&key);
            }
            None => {}
        }
        match self.take_scripted(user, method)? {
            FaultAction::Flood(secs) => {
                self.floods
                    .insert(key, now.saturating_add(i64::from(secs.max(1))));
                Some(FaultAction::Error(RpcFail::new(
                    420,
                    &format!("FLOOD_WAIT_{}", secs.max(1)),
                )))
            }
            action => Some(action),
        }
    }

    fn take_scripted(&mut self, user: i64, method: &str) -> Option<FaultAction> {
        let index = self
            .faults
            .iter()
            .position(|f| f.times > 0 && f.method == method && f.user.is_none_or(|u| u == user))?;
        let fault = self.faults.get_mut(index)?;
        fault.times -= 1;
        let action = fault.action.clone();
        if fault.times == 0 {
            self.faults.remove(index);
        }
        Some(action)
    }

    /// Updates waiting to be pushed to sessions.
    pub fn take_pushes(&mut self) -> Vec<Push> {
        std::mem::take(&mut self.outbox)
    }

    /// Registers a card token the provider issued (the sandbox's tokenizer and gateway page).
    ///
    /// A token can be charged for [`CARD_TOKEN_LIFETIME`]; at most [`MAX_CARD_TOKENS`] are
    /// kept (the oldest goes first), so a page that tokenizes forever holds bounded memory.
    pub fn register_card_token(&mut self, outcome: CardOutcome, title: &str) -> String {
        let now = self.now();
        let oldest_kept = now - CARD_TOKEN_LIFETIME.as_secs() as i64;
        while let Some((issued, old)) = self.token_order.front() {
            if *issued >= oldest_kept && self.token_order.len() < MAX_CARD_TOKENS {
                break;
            }
            self.tokens.remove(old);
            self.token_order.pop_front();
        }
        let token = format!("tok_sandbox_{}", random_hex(12));
        self.tokens
            .insert(token.clone(), (outcome, title.to_owned()));
        self.token_order.push_back((now, token.clone()));
        token
    }

    /// How many issued card tokens the world keeps.
    pub fn card_tokens(&self) -> usize {
        self.tokens.len()
    }

    /// The 2FA record of the account `user`, if it has a password: for computing an
    /// `account.getPassword` challenge outside the world's lock (see
    /// [`offer_password_challenge`](Self::offer_password_challenge)).
    pub fn password_record(&self, user: i64) -> Option<srp::PasswordRecord> {
        let state = self.users.get(&user)?.password.as_ref()?;
        Some(state.record.clone())
    }

    /// Keeps a challenge issued from `record` (outside the lock) for the next
    /// `account.getPassword` of `user`, unless the account's password changed meanwhile.
    pub fn offer_password_challenge(
        &mut self,
        user: i64,
        record: &srp::PasswordRecord,
        challenge: srp::ServerChallenge,
    ) {
        if let Some(state) = self.users.get_mut(&user).and_then(|a| a.password.as_mut())
            && state.record.algo() == record.algo()
        {
            state.prepared = Some(challenge);
        }
    }

    /// A payment form by its id (the last part of the form's `url`), for the gateway page.
    pub fn gateway(&self, form_id: i64) -> Option<GatewayView> {
        let form = self.forms.get(&form_id)?;
        let invoice = self.invoices.get(form.key.invoice)?;
        let merchant = self.merchants.get(&invoice.spec.merchant)?;
        let expired = self.now() - form.created > self.form_lifetime;
        let state = match form.state {
            FormState::Verifying(_) => GatewayState::Verifying,
            FormState::Paid => GatewayState::Paid,
            FormState::Closed => GatewayState::Closed,
            FormState::Open if expired => GatewayState::Closed,
            FormState::Open => GatewayState::Open,
        };
        Some(GatewayView {
            merchant: merchant.spec.name.clone(),
            title: invoice.spec.title.clone(),
            description: invoice.spec.description.clone(),
            currency: invoice.spec.currency.clone(),
            total_amount: form.total,
            state,
        })
    }

    /// A 3-D Secure verification by its token (the id in the verification URL).
    pub fn verification(&self, token: &str) -> Option<VerificationView> {
        let p = self.pending.get(token)?;
        let invoice = self.invoices.get(p.order.key.invoice)?;
        let merchant = self.merchants.get(&invoice.spec.merchant)?;
        Some(VerificationView {
            merchant: merchant.spec.name.clone(),
            title: invoice.spec.title.clone(),
            currency: invoice.spec.currency.clone(),
            total_amount: p.order.total,
            credentials_title: p.order.credentials_title.clone(),
            state: match p.state {
                VerificationState::Pending
                    if self.now() - p.created > self.verification_lifetime =>
                {
                    VerificationState::Failed
                }
                state => state,
            },
        })
    }

    /// Completes a 3-D Secure verification: the payment goes through and the receipt updates
    /// are pushed to the user's sessions. Returns the charge, or `None` when the verification
    /// is unknown, expired or already finished.
    pub fn confirm_verification(&mut self, token: &str) -> Option<Charge> {
        let now = self.now();
        let pending = self.pending.get_mut(token)?;
        if pending.state != VerificationState::Pending {
            return None;
        }
        if now - pending.created > self.verification_lifetime {
            pending.state = VerificationState::Failed;
            return None;
        }
        pending.state = VerificationState::Confirmed;
        let (user, form_id, order) = (pending.user, pending.form_id, pending.order.clone());
        let (charge, updates) = self
            .complete_payment(user, form_id, order, ChargeKind::Card)
            .ok()?;
        self.outbox.push(Push { user, updates });
        self.charges.get(charge).cloned()
    }

    /// Fails a 3-D Secure verification: nothing is charged, the form can be paid again with a
    /// new one, and the user's sessions get a service notification saying so.
    pub fn fail_verification(&mut self, token: &str) -> bool {
        let now = to_i32(self.now());
        let Some(pending) = self.pending.get_mut(token) else {
            return false;
        };
        if pending.state != VerificationState::Pending {
            return false;
        }
        pending.state = VerificationState::Failed;
        let (user, form_id) = (pending.user, pending.form_id);
        if let Some(form) = self.forms.get_mut(&form_id) {
            form.state = FormState::Closed;
        }
        // The notification links the verification page it is about, so that a client waiting
        // on another payment of the same account does not take it for its own.
        let url = format!("{}/3ds/{token}", self.web_base);
        let updates = tl_make::updates(
            vec![tl_make::service_notification_linking(
                tl_make::NOTIFY_VERIFICATION_FAILED,
                "Payment failed: the bank could not verify the card (3-D Secure).",
                &url,
                now,
            )],
            Vec::new(),
            now,
        );
        self.outbox.push(Push { user, updates });
        true
    }

    /// Forgets expired forms and validated order infos once they pile up, so a long-running
    /// sandbox keeps a bounded state. Forms waiting for 3-D Secure stay.
    fn prune(&mut self) {
        const EVERY: usize = 1024;
        if (self.forms.len() + 1) % EVERY != 0 && (self.validated.len() + 1) % EVERY != 0 {
            return;
        }
        let now = self.now();
        let lifetime = self.form_lifetime;
        let fresh = |created: i64| now - created <= lifetime;
        self.forms
            .retain(|_, f| fresh(f.created) || matches!(f.state, FormState::Verifying(_)));
        self.validated.retain(|_, v| fresh(v.created));
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

    // ----- TL views -----

    /// The TL user object of `id` as `viewer` sees it.
    pub fn user_tl(&self, viewer: i64, id: i64) -> Option<tl::enums::User> {
        if let Some(m) = self.merchants.get(&id) {
            return Some(tl_make::user(UserView {
                id,
                access_hash: m.access_hash,
                first_name: &m.spec.name,
                last_name: None,
                username: Some(&m.spec.username),
                phone: None,
                is_self: false,
                bot: true,
            }));
        }
        let a = self.users.get(&id)?;
        Some(tl_make::user(UserView {
            id,
            access_hash: a.access_hash,
            first_name: &a.first_name,
            last_name: a.last_name.as_deref(),
            username: a.username.as_deref(),
            phone: a.phone.as_deref(),
            is_self: id == viewer,
            bot: false,
        }))
    }

    fn users_tl(&self, viewer: i64, ids: impl IntoIterator<Item = i64>) -> Vec<tl::enums::User> {
        let mut seen = Vec::new();
        ids.into_iter()
            .filter(|id| {
                let new = !seen.contains(id);
                seen.push(*id);
                new
            })
            .filter_map(|id| self.user_tl(viewer, id))
            .collect()
    }

    fn invoice_tl(&self, invoice: &InvoiceState) -> tl::enums::Invoice {
        let s = &invoice.spec;
        let tips = s.max_tip_amount.is_some();
        tl::types::Invoice {
            test: s.test,
            name_requested: s.name_requested,
            phone_requested: s.phone_requested,
            email_requested: s.email_requested,
            shipping_address_requested: s.shipping_address_requested,
            flexible: s.flexible,
            phone_to_provider: s.phone_to_provider,
            email_to_provider: s.email_to_provider,
            recurring: s.recurring,
            currency: s.currency.clone(),
            prices: prices_tl(&s.prices),
            max_tip_amount: s.max_tip_amount,
            suggested_tip_amounts: tips.then(|| s.suggested_tip_amounts.clone()),
            terms_url: s.terms_url.clone(),
            subscription_period: None,
        }
        .into()
    }

    fn message_tl(&self, user: i64, id: i32, stored: &Stored) -> Option<tl::enums::Message> {
        match stored {
            Stored::Invoice {
                bot,
                invoice,
                date,
                receipt_msg_id,
                edit_date,
            } => {
                let inv = self.invoices.get(*invoice)?;
                let total = inv.total().ok()?;
                let media = tl::types::MessageMediaInvoice {
                    shipping_address_requested: inv.spec.shipping_address_requested,
                    test: inv.spec.test,
                    title: inv.spec.title.clone(),
                    description: inv.spec.description.clone(),
                    photo: inv.spec.photo_url.as_deref().map(tl_make::web_photo),
                    receipt_msg_id: *receipt_msg_id,
                    currency: inv.spec.currency.clone(),
                    total_amount: total,
                    start_param: inv.spec.slug.clone(),
                    extended_media: None,
                };
                let button = if inv.is_stars() {
                    format!("Pay ⭐{total}")
                } else {
                    "Pay".to_owned()
                };
                Some(tl_make::message(MessageView {
                    id,
                    peer: *bot,
                    from: *bot,
                    out: false,
                    date: *date,
                    text: String::new(),
                    media: Some(media.into()),
                    reply_markup: Some(tl_make::buy_keyboard(button)),
                    edit_date: *edit_date,
                }))
            }
            Stored::PaymentSent { bot, charge, date } => {
                let c = self.charges.get(*charge)?;
                let from_message = c.invoice_msg_id.is_some();
                let action = tl::types::MessageActionPaymentSent {
                    recurring_init: self
                        .slugs
                        .get(&c.invoice_slug)
                        .and_then(|i| self.invoices.get(*i))
                        .is_some_and(|i| i.spec.recurring),
                    recurring_used: false,
                    currency: c.currency.clone(),
                    total_amount: c.total_amount,
                    invoice_slug: (!from_message).then(|| c.invoice_slug.clone()),
                    subscription_until_date: None,
                };
                Some(tl_make::message_service(
                    id,
                    *bot,
                    user,
                    true,
                    *date,
                    action.into(),
                ))
            }
        }
    }

    // ----- invoices and forms -----

    fn resolve_invoice(&self, user: i64, input: &tl::enums::InputInvoice) -> RpcResult<InvoiceKey> {
        match input {
            tl::enums::InputInvoice::Slug(s) => self
                .slugs
                .get(&s.slug)
                .map(|&invoice| InvoiceKey {
                    invoice,
                    message: None,
                })
                .ok_or_else(|| RpcFail::bad("SLUG_INVALID")),
            tl::enums::InputInvoice::Message(m) => {
                let bot = self.resolve_bot_peer(&m.peer)?;
                let account = self.account(user)?;
                match account.chat.get(&m.msg_id) {
                    Some(Stored::Invoice {
                        bot: owner,
                        invoice,
                        ..
                    }) if *owner == bot => Ok(InvoiceKey {
                        invoice: *invoice,
                        message: Some((bot, m.msg_id)),
                    }),
                    _ => Err(RpcFail::bad("MESSAGE_ID_INVALID")),
                }
            }
            _ => Err(RpcFail::bad("INVOICE_INVALID")),
        }
    }

    fn resolve_bot_peer(&self, peer: &tl::enums::InputPeer) -> RpcResult<i64> {
        match peer {
            tl::enums::InputPeer::User(u) => match self.merchants.get(&u.user_id) {
                Some(m) if m.access_hash == u.access_hash => Ok(u.user_id),
                _ => Err(RpcFail::bad("PEER_ID_INVALID")),
            },
            _ => Err(RpcFail::bad("PEER_ID_INVALID")),
        }
    }

    fn receipt_of(&self, user: i64, key: InvoiceKey) -> Option<i32> {
        let (_, msg_id) = key.message?;
        match self.users.get(&user)?.chat.get(&msg_id)? {
            Stored::Invoice { receipt_msg_id, .. } => *receipt_msg_id,
            Stored::PaymentSent { .. } => None,
        }
    }

    /// `payments.getPaymentForm`.
    pub fn get_payment_form(
        &mut self,
        user: i64,
        req: &tl::functions::payments::GetPaymentForm,
    ) -> RpcResult<tl::enums::payments::PaymentForm> {
        let key = self.resolve_invoice(user, &req.invoice)?;
        if self.receipt_of(user, key).is_some() {
            return Err(RpcFail::bad("INVOICE_ALREADY_PAID"));
        }
        let invoice = self
            .invoices
            .get(key.invoice)
            .ok_or_else(|| RpcFail::bad("INVOICE_INVALID"))?;
        let total = invoice.total()?;
        let merchant = self
            .merchants
            .get(&invoice.spec.merchant)
            .ok_or_else(|| RpcFail::bad("BOT_INVOICE_INVALID"))?;
        let account = self.account(user)?;
        let form_id = loop {
            let id = rand::random::<i64>() & i64::MAX;
            if id != 0 && !self.forms.contains_key(&id) {
                break id;
            }
        };
        let users = self.users_tl(user, [merchant.spec.id]);
        let photo = invoice.spec.photo_url.as_deref().map(tl_make::web_photo);
        let form: tl::enums::payments::PaymentForm = if invoice.is_stars() {
            tl::types::payments::PaymentFormStars {
                form_id,
                bot_id: merchant.spec.id,
                title: invoice.spec.title.clone(),
                description: invoice.spec.description.clone(),
                photo,
                invoice: self.invoice_tl(invoice),
                users,
            }
            .into()
        } else {
            let has_password = account.password.is_some();
            let can_save = merchant.spec.can_save_credentials;
            let saved_credentials = (!account.saved_cards.is_empty()).then(|| {
                account
                    .saved_cards
                    .iter()
                    .map(|c| {
                        tl::types::PaymentSavedCredentialsCard {
                            id: c.id.clone(),
                            title: c.title.clone(),
                        }
                        .into()
                    })
                    .collect()
            });
            tl::types::payments::PaymentForm {
                can_save_credentials: can_save && has_password,
                password_missing: can_save && !has_password,
                form_id,
                bot_id: merchant.spec.id,
                title: invoice.spec.title.clone(),
                description: invoice.spec.description.clone(),
                photo,
                invoice: self.invoice_tl(invoice),
                provider_id: merchant.spec.provider_id,
                url: format!("{}/pay/{form_id}", self.web_base),
                native_provider: merchant.spec.native_provider.clone(),
                native_params: merchant.spec.native_provider.as_ref().map(|_| {
                    tl::types::DataJson {
                        data: merchant
                            .spec
                            .native_params
                            .as_ref()
                            .map_or_else(|| "{}".to_owned(), |v| v.to_string()),
                    }
                    .into()
                }),
                additional_methods: None,
                saved_info: account.saved_info.as_ref().map(info_tl),
                saved_credentials,
                users,
            }
            .into()
        };
        let created = self.now();
        self.prune();
        self.forms.insert(
            form_id,
            Form {
                user,
                key,
                created,
                total,
                state: FormState::Open,
            },
        );
        Ok(form)
    }

    /// `payments.validateRequestedInfo`.
    pub fn validate_requested_info(
        &mut self,
        user: i64,
        req: &tl::functions::payments::ValidateRequestedInfo,
    ) -> RpcResult<tl::enums::payments::ValidatedRequestedInfo> {
        let key = self.resolve_invoice(user, &req.invoice)?;
        let invoice = self
            .invoices
            .get(key.invoice)
            .ok_or_else(|| RpcFail::bad("INVOICE_INVALID"))?;
        let info = info_from_tl(req.info.clone());
        merchant::check_order_info(&invoice.spec, &info).map_err(RpcFail::bad)?;
        let options = if invoice.spec.flexible {
            let merchant = self
                .merchants
                .get(&invoice.spec.merchant)
                .ok_or_else(|| RpcFail::bad("BOT_INVOICE_INVALID"))?;
            let country = info
                .shipping_address
                .as_ref()
                .map(|a| a.country_iso2.as_str())
                .unwrap_or_default();
            let options = merchant::shipping_options(&merchant.spec, country);
            if options.is_empty() {
                return Err(RpcFail::bad("SHIPPING_NOT_AVAILABLE"));
            }
            options
        } else {
            Vec::new()
        };
        if req.save {
            self.account_mut(user)?.saved_info = Some(info.clone());
        }
        let id = random_hex(16);
        let answer = tl::types::payments::ValidatedRequestedInfo {
            id: Some(id.clone()),
            shipping_options: (!options.is_empty())
                .then(|| options.iter().map(shipping_option_tl).collect()),
        };
        let created = self.now();
        self.prune();
        self.validated.insert(
            id,
            Validated {
                created,
                user,
                key,
                info,
                options,
            },
        );
        Ok(answer.into())
    }

    /// Looks up a form for submission: it must be the user's, for this invoice, open and fresh.
    fn open_form(&self, user: i64, form_id: i64, key: InvoiceKey) -> RpcResult<&Form> {
        if form_id == 0 {
            return Err(RpcFail::bad("FORM_ID_EMPTY"));
        }
        let form = self
            .forms
            .get(&form_id)
            .filter(|f| f.user == user)
            .ok_or_else(|| RpcFail::bad("FORM_EXPIRED"))?;
        if form.key != key {
            return Err(RpcFail::bad("INVOICE_INVALID"));
        }
        if self.now() - form.created > self.form_lifetime {
            return Err(RpcFail::bad("FORM_EXPIRED"));
        }
        if form.state != FormState::Open {
            return Err(RpcFail::bad("FORM_SUBMIT_DUPLICATE"));
        }
        if self.receipt_of(user, key).is_some() {
            return Err(RpcFail::bad("INVOICE_ALREADY_PAID"));
        }
        Ok(form)
    }

    /// `payments.sendPaymentForm`.
    pub fn send_payment_form(
        &mut self,
        user: i64,
        req: &tl::functions::payments::SendPaymentForm,
    ) -> RpcResult<tl::enums::payments::PaymentResult> {
        let key = self.resolve_invoice(user, &req.invoice)?;
        let form_total = self.open_form(user, req.form_id, key)?.total;
        let invoice = self
            .invoices
            .get(key.invoice)
            .ok_or_else(|| RpcFail::bad("INVOICE_INVALID"))?;
        if invoice.is_stars() {
            return Err(RpcFail::bad("FORM_UNSUPPORTED"));
        }
        let merchant = self
            .merchants
            .get(&invoice.spec.merchant)
            .ok_or_else(|| RpcFail::bad("BOT_INVOICE_INVALID"))?;

        // Order info and shipping.
        let validated = match &req.requested_info_id {
            Some(id) => Some(
                self.validated
                    .get(id)
                    .filter(|v| v.user == user && v.key == key)
                    .ok_or_else(|| RpcFail::bad("REQUESTED_INFO_INVALID"))?,
            ),
            None if invoice.requests_info() => {
                return Err(RpcFail::bad("REQUESTED_INFO_INVALID"));
            }
            None => None,
        };
        let shipping = match (&req.shipping_option_id, invoice.spec.flexible) {
            (Some(id), true) => Some(
                validated
                    .and_then(|v| v.options.iter().find(|o| &o.id == id))
                    .ok_or_else(|| RpcFail::bad("SHIPPING_OPTION_INVALID"))?,
            ),
            (None, true) | (Some(_), false) => {
                return Err(RpcFail::bad("SHIPPING_OPTION_INVALID"));
            }
            (None, false) => None,
        };
        let shipping_total = match shipping {
            Some(o) => sum_prices(&o.prices)?,
            None => 0,
        };

        // Tip.
        let tip = req.tip_amount.unwrap_or(0);
        let max_tip = invoice.spec.max_tip_amount.unwrap_or(0);
        if tip < 0 || tip > max_tip {
            return Err(RpcFail::bad("TIP_AMOUNT_INVALID"));
        }
        let total = form_total
            .checked_add(shipping_total)
            .and_then(|t| t.checked_add(tip))
            .filter(|t| *t <= MAX_AMOUNT)
            .ok_or_else(|| RpcFail::bad("INVOICE_INVALID"))?;

        // Credentials.
        let account = self.account(user)?;
        let now = self.now();
        let credentials =
            merchant::parse_credentials(&req.credentials, &self.tokens).map_err(RpcFail::bad)?;
        let (outcome, credentials_title, save_card) = match credentials {
            Credentials::Saved { id, tmp_password } => {
                let valid = account.tmp_passwords.iter().any(|t| {
                    t.valid_until > now
                        && t.secret.len() == tmp_password.len()
                        && merchant::constant_time_eq(&t.secret, &tmp_password)
                });
                if !valid {
                    return Err(RpcFail::bad("TMP_PASSWORD_INVALID"));
                }
                let card = account
                    .saved_cards
                    .iter()
                    .find(|c| c.id == id)
                    .ok_or_else(|| RpcFail::bad("PAYMENT_CREDENTIALS_ID_INVALID"))?;
                (card.outcome, card.title.clone(), None)
            }
            Credentials::New {
                outcome,
                title,
                save,
            } => {
                let save_card =
                    (save && merchant.spec.can_save_credentials && account.password.is_some())
                        .then(|| SavedCardSpec {
                            id: format!("card_{}", random_hex(8)),
                            title: title.clone(),
                            outcome,
                        });
                (outcome, title, save_card)
            }
        };

        let info = validated.map(|v| v.info.clone());
        let order = Order {
            key,
            total,
            tip,
            shipping: shipping.map(|o| o.id.clone()),
            info,
            credentials_title,
            save_card,
        };

        // The merchant's pre-checkout decision.
        if let Some(reason) = merchant::precheckout(&merchant.spec, &invoice.spec, &order.info) {
            self.notify_precheckout_failure(user, reason);
            return Err(RpcFail::bad("BOT_PRECHECKOUT_FAILED"));
        }

        match outcome {
            CardOutcome::Decline => Err(RpcFail::bad("PAYMENT_FAILED")),
            CardOutcome::ThreeDSecure => {
                let token = random_hex(16);
                let url = format!("{}/3ds/{token}", self.web_base);
                if let Some(form) = self.forms.get_mut(&req.form_id) {
                    form.state = FormState::Verifying(token.clone());
                }
                self.pending.insert(
                    token,
                    Pending {
                        user,
                        form_id: req.form_id,
                        order,
                        created: now,
                        state: VerificationState::Pending,
                    },
                );
                Ok(tl::types::payments::PaymentVerificationNeeded { url }.into())
            }
            CardOutcome::Success => {
                let (_, updates) =
                    self.complete_payment(user, req.form_id, order, ChargeKind::Card)?;
                Ok(tl::types::payments::PaymentResult { updates }.into())
            }
        }
    }

    fn notify_precheckout_failure(&mut self, user: i64, reason: String) {
        let now = to_i32(self.now());
        let updates = tl_make::updates(
            vec![tl_make::service_notification(
                tl_make::NOTIFY_PRECHECKOUT_FAILED,
                reason,
                now,
            )],
            Vec::new(),
            now,
        );
        self.outbox.push(Push { user, updates });
    }

    /// `payments.sendStarsForm`.
    pub fn send_stars_form(
        &mut self,
        user: i64,
        req: &tl::functions::payments::SendStarsForm,
    ) -> RpcResult<tl::enums::payments::PaymentResult> {
        let key = self.resolve_invoice(user, &req.invoice)?;
        let form_total = self.open_form(user, req.form_id, key)?.total;
        let invoice = self
            .invoices
            .get(key.invoice)
            .ok_or_else(|| RpcFail::bad("INVOICE_INVALID"))?;
        if !invoice.is_stars() {
            return Err(RpcFail::bad("FORM_UNSUPPORTED"));
        }
        if invoice.total()? != form_total {
            return Err(RpcFail::new(406, "STARS_FORM_AMOUNT_MISMATCH"));
        }
        let merchant = self
            .merchants
            .get(&invoice.spec.merchant)
            .ok_or_else(|| RpcFail::bad("BOT_INVOICE_INVALID"))?;
        if self.account(user)?.stars < form_total {
            return Err(RpcFail::bad("BALANCE_TOO_LOW"));
        }
        if let Some(reason) = merchant::precheckout(&merchant.spec, &invoice.spec, &None) {
            self.notify_precheckout_failure(user, reason);
            return Err(RpcFail::new(406, "PRECHECKOUT_FAILED"));
        }
        let order = Order {
            key,
            total: form_total,
            tip: 0,
            shipping: None,
            info: None,
            credentials_title: "Telegram Stars".to_owned(),
            save_card: None,
        };
        let (_, updates) = self.complete_payment(user, req.form_id, order, ChargeKind::Stars)?;
        Ok(tl::types::payments::PaymentResult { updates }.into())
    }

    /// Records a charge and its receipt messages; returns the charge index and the updates
    /// (`updateEditMessage` for a message invoice, `updateNewMessage` with
    /// `messageActionPaymentSent`, and `updateStarsBalance` for Stars).
    fn complete_payment(
        &mut self,
        user: i64,
        form_id: i64,
        order: Order,
        kind: ChargeKind,
    ) -> RpcResult<(usize, tl::enums::Updates)> {
        let now = self.now();
        let date = to_i32(now);
        let serial = self.next_serial();
        let invoice = self
            .invoices
            .get(order.key.invoice)
            .ok_or_else(|| RpcFail::bad("INVOICE_INVALID"))?;
        let bot = invoice.spec.merchant;
        let slug = invoice.spec.slug.clone();
        let currency = invoice.spec.currency.clone();
        let title = invoice.spec.title.clone();
        let charge_index = self.charges.len();

        let account = self.account_mut(user)?;
        if kind == ChargeKind::Stars {
            account.stars = account
                .stars
                .checked_sub(order.total)
                .filter(|b| *b >= 0)
                .ok_or_else(|| RpcFail::bad("BALANCE_TOO_LOW"))?;
        }
        let receipt_msg_id = account.next_msg_id;
        account.next_msg_id += 1;
        account.chat.insert(
            receipt_msg_id,
            Stored::PaymentSent {
                bot,
                charge: charge_index,
                date,
            },
        );
        if let Some((_, msg_id)) = order.key.message
            && let Some(Stored::Invoice {
                receipt_msg_id: r,
                edit_date,
                ..
            }) = account.chat.get_mut(&msg_id)
        {
            *r = Some(receipt_msg_id);
            *edit_date = Some(date);
        }
        if let Some(card) = order.save_card.clone() {
            account.saved_cards.push(card);
        }
        let stars_tx = (kind == ChargeKind::Stars).then(|| format!("stars_{serial}"));
        if let Some(id) = &stars_tx {
            account.ledger.push(StarsEntry {
                id: id.clone(),
                amount: -order.total,
                date,
                peer: Some(bot),
                title: title.clone(),
                msg_id: Some(receipt_msg_id),
            });
        }
        let balance = account.stars;

        self.charges.push(Charge {
            id: stars_tx.unwrap_or_else(|| format!("tg_charge_{serial}")),
            provider_charge_id: match kind {
                ChargeKind::Card => format!("ch_sandbox_{}", random_hex(8)),
                ChargeKind::Stars => String::new(),
            },
            kind,
            user,
            merchant: bot,
            invoice_slug: slug,
            invoice_msg_id: order.key.message.map(|(_, id)| id),
            form_id,
            currency,
            total_amount: order.total,
            tip_amount: order.tip,
            shipping_option_id: order.shipping.clone(),
            info: order.info.clone(),
            credentials_title: order.credentials_title.clone(),
            date,
            receipt_msg_id,
        });
        if let Some(form) = self.forms.get_mut(&form_id) {
            form.state = FormState::Paid;
        }
        tracing::info!(
            user,
            bot,
            total = order.total,
            ?kind,
            "sandbox charge recorded"
        );

        let mut updates = Vec::new();
        if let Some((_, msg_id)) = order.key.message
            && let Some(message) = self.stored_message_tl(user, msg_id)
        {
            let pts = self.bump_pts(user)?;
            let update: tl::enums::Update = tl::types::UpdateEditMessage {
                message,
                pts,
                pts_count: 1,
            }
            .into();
            self.log_update(user, pts, update.clone());
            updates.push(update);
        }
        if let Some(message) = self.stored_message_tl(user, receipt_msg_id) {
            let pts = self.bump_pts(user)?;
            let update: tl::enums::Update = tl::types::UpdateNewMessage {
                message,
                pts,
                pts_count: 1,
            }
            .into();
            self.log_update(user, pts, update.clone());
            updates.push(update);
        }
        if kind == ChargeKind::Stars {
            updates.push(
                tl::types::UpdateStarsBalance {
                    balance: tl::types::StarsAmount {
                        amount: balance,
                        nanos: 0,
                    }
                    .into(),
                }
                .into(),
            );
        }
        let users = self.users_tl(user, [bot, user]);
        Ok((charge_index, tl_make::updates(updates, users, date)))
    }

    fn stored_message_tl(&self, user: i64, msg_id: i32) -> Option<tl::enums::Message> {
        let stored = self.users.get(&user)?.chat.get(&msg_id)?;
        self.message_tl(user, msg_id, stored)
    }

    fn bump_pts(&mut self, user: i64) -> RpcResult<i32> {
        let account = self.account_mut(user)?;
        account.pts += 1;
        Ok(account.pts)
    }

    fn log_update(&mut self, user: i64, pts: i32, update: tl::enums::Update) {
        if let Some(account) = self.users.get_mut(&user) {
            account.log.push((pts, update));
        }
    }

    /// `payments.getPaymentReceipt`.
    pub fn get_payment_receipt(
        &self,
        user: i64,
        req: &tl::functions::payments::GetPaymentReceipt,
    ) -> RpcResult<tl::enums::payments::PaymentReceipt> {
        let bot = self.resolve_bot_peer(&req.peer)?;
        let account = self.account(user)?;
        let charge_index = match account.chat.get(&req.msg_id) {
            Some(Stored::PaymentSent {
                bot: owner, charge, ..
            }) if *owner == bot => *charge,
            Some(Stored::Invoice {
                bot: owner,
                receipt_msg_id: Some(receipt),
                ..
            }) if *owner == bot => match account.chat.get(receipt) {
                Some(Stored::PaymentSent { charge, .. }) => *charge,
                _ => return Err(RpcFail::bad("MESSAGE_ID_INVALID")),
            },
            _ => return Err(RpcFail::bad("MESSAGE_ID_INVALID")),
        };
        let charge = self
            .charges
            .get(charge_index)
            .ok_or_else(|| RpcFail::bad("MESSAGE_ID_INVALID"))?;
        let invoice = self
            .slugs
            .get(&charge.invoice_slug)
            .and_then(|i| self.invoices.get(*i))
            .ok_or_else(|| RpcFail::bad("MESSAGE_ID_INVALID"))?;
        let merchant = self
            .merchants
            .get(&charge.merchant)
            .ok_or_else(|| RpcFail::bad("MESSAGE_ID_INVALID"))?;
        let users = self.users_tl(user, [charge.merchant]);
        let photo = invoice.spec.photo_url.as_deref().map(tl_make::web_photo);
        Ok(match charge.kind {
            ChargeKind::Stars => tl::types::payments::PaymentReceiptStars {
                date: charge.date,
                bot_id: charge.merchant,
                title: invoice.spec.title.clone(),
                description: invoice.spec.description.clone(),
                photo,
                invoice: self.invoice_tl(invoice),
                currency: charge.currency.clone(),
                total_amount: charge.total_amount,
                transaction_id: charge.id.clone(),
                users,
            }
            .into(),
            ChargeKind::Card => {
                let validated_options = merchant::shipping_options(
                    &merchant.spec,
                    charge
                        .info
                        .as_ref()
                        .and_then(|i| i.shipping_address.as_ref())
                        .map(|a| a.country_iso2.as_str())
                        .unwrap_or_default(),
                );
                tl::types::payments::PaymentReceipt {
                    date: charge.date,
                    bot_id: charge.merchant,
                    provider_id: merchant.spec.provider_id,
                    title: invoice.spec.title.clone(),
                    description: invoice.spec.description.clone(),
                    photo,
                    invoice: self.invoice_tl(invoice),
                    info: charge.info.as_ref().map(info_tl),
                    shipping: charge.shipping_option_id.as_ref().and_then(|id| {
                        validated_options
                            .iter()
                            .find(|o| &o.id == id)
                            .map(shipping_option_tl)
                    }),
                    tip_amount: (charge.tip_amount != 0).then_some(charge.tip_amount),
                    currency: charge.currency.clone(),
                    total_amount: charge.total_amount,
                    credentials_title: charge.credentials_title.clone(),
                    users,
                }
                .into()
            }
        })
    }

    /// `payments.getSavedInfo`.
    pub fn get_saved_info(&self, user: i64) -> RpcResult<tl::enums::payments::SavedInfo> {
        let account = self.account(user)?;
        Ok(tl::types::payments::SavedInfo {
            has_saved_credentials: !account.saved_cards.is_empty(),
            saved_info: account.saved_info.as_ref().map(info_tl),
        }
        .into())
    }

    /// `payments.clearSavedInfo`.
    pub fn clear_saved_info(
        &mut self,
        user: i64,
        req: &tl::functions::payments::ClearSavedInfo,
    ) -> RpcResult<bool> {
        let account = self.account_mut(user)?;
        if req.info {
            account.saved_info = None;
        }
        if req.credentials {
            account.saved_cards.clear();
            account.tmp_passwords.clear();
        }
        Ok(true)
    }

    // ----- 2FA -----

    /// `account.getPassword`: a fresh SRP challenge (new `srp_id`) on every call; the previous
    /// one stops being accepted.
    pub fn get_password(&mut self, user: i64) -> RpcResult<tl::enums::account::Password> {
        let account = self.account_mut(user)?;
        let mut secure_random = vec![0u8; 32];
        rand::fill(&mut secure_random[..]);
        let mut secure_salt = vec![0u8; 8];
        rand::fill(&mut secure_salt[..]);
        let new_secure_algo: tl::enums::SecurePasswordKdfAlgo =
            tl::types::SecurePasswordKdfAlgoPbkdf2Hmacsha512iter100000 { salt: secure_salt }.into();
        let password = match &mut account.password {
            Some(state) => {
                let challenge = match state.prepared.take() {
                    Some(challenge) => challenge,
                    None => state
                        .record
                        .issue_random(rand::random::<i64>(), &mut rand::rng())
                        .map_err(|_| RpcFail::new(500, "INTERNAL_SERVER_ERROR"))?,
                };
                let mut view = state.record.account_password(&challenge);
                view.new_secure_algo = new_secure_algo;
                view.secure_random = secure_random;
                state.challenge = Some(challenge);
                view
            }
            None => tl::types::account::Password {
                has_recovery: false,
                has_secure_values: false,
                has_password: false,
                current_algo: None,
                srp_b: None,
                srp_id: None,
                hint: None,
                email_unconfirmed_pattern: None,
                // Only the parameters: no key derivation (100 000 rounds of PBKDF2) for an
                // account that has no password, and none under the world's lock.
                new_algo:
                    tl::types::PasswordKdfAlgoSha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow {
                        salt1: Vec::new(),
                        salt2: Vec::new(),
                        g: tgpay::srp::TELEGRAM_G,
                        p: tgpay::srp::TELEGRAM_P.to_vec(),
                    }
                    .into(),
                new_secure_algo,
                secure_random,
                pending_reset_date: None,
                login_email_pattern: None,
            },
        };
        Ok(password.into())
    }

    /// `account.getTmpPassword`.
    pub fn get_tmp_password(
        &mut self,
        user: i64,
        req: &tl::functions::account::GetTmpPassword,
    ) -> RpcResult<tl::enums::account::TmpPassword> {
        let now = self.now();
        let account = self.account_mut(user)?;
        let Some(state) = &mut account.password else {
            return Err(RpcFail::bad("PASSWORD_MISSING"));
        };
        if !TMP_PASSWORD_PERIOD.contains(&req.period) {
            return Err(RpcFail::bad("TMP_PASSWORD_INVALID"));
        }
        state.check(now, &req.password)?;
        let mut secret = Zeroizing::new(vec![0u8; 32]);
        rand::fill(&mut secret[..]);
        let valid_until = now + i64::from(req.period);
        let answer = tl::types::account::TmpPassword {
            tmp_password: secret.to_vec(),
            valid_until: to_i32(valid_until),
        };
        account.tmp_passwords.retain(|t| t.valid_until > now);
        account.tmp_passwords.push(TmpPassword {
            secret,
            valid_until,
        });
        Ok(answer.into())
    }

    // ----- Stars -----

    fn check_self_peer(&self, user: i64, peer: &tl::enums::InputPeer) -> RpcResult<()> {
        match peer {
            tl::enums::InputPeer::PeerSelf => Ok(()),
            tl::enums::InputPeer::User(u) if u.user_id == user => Ok(()),
            _ => Err(RpcFail::bad("PEER_ID_INVALID")),
        }
    }

    fn stars_entry_tl(&self, e: &StarsEntry) -> tl::enums::StarsTransaction {
        tl::types::StarsTransaction {
            refund: false,
            pending: false,
            failed: false,
            gift: false,
            reaction: false,
            stargift_upgrade: false,
            business_transfer: false,
            stargift_resale: false,
            posts_search: false,
            stargift_prepaid_upgrade: false,
            stargift_drop_original_details: false,
            phonegroup_message: false,
            stargift_auction_bid: false,
            offer: false,
            id: e.id.clone(),
            amount: tl::types::StarsAmount {
                amount: e.amount,
                nanos: 0,
            }
            .into(),
            date: e.date,
            peer: match e.peer {
                Some(bot) => tl::types::StarsTransactionPeer {
                    peer: tl_make::peer_user(bot),
                }
                .into(),
                None => tl::enums::StarsTransactionPeer::AppStore,
            },
            title: Some(e.title.clone()),
            description: None,
            photo: None,
            transaction_date: None,
            transaction_url: None,
            bot_payload: None,
            msg_id: e.msg_id,
            extended_media: None,
            subscription_period: None,
            giveaway_post_id: None,
            stargift: None,
            floodskip_number: None,
            starref_commission_permille: None,
            starref_peer: None,
            starref_amount: None,
            paid_messages: None,
            premium_gift_months: None,
            ads_proceeds_from_date: None,
            ads_proceeds_to_date: None,
        }
        .into()
    }

    /// `payments.getStarsStatus` (the user's own balance and latest history).
    pub fn get_stars_status(
        &self,
        user: i64,
        req: &tl::functions::payments::GetStarsStatus,
    ) -> RpcResult<tl::enums::payments::StarsStatus> {
        if req.ton {
            return Err(RpcFail::bad("PEER_ID_INVALID"));
        }
        self.check_self_peer(user, &req.peer)?;
        self.stars_page(user, false, false, false, "", 5)
    }

    /// `payments.getStarsTransactions` (newest first unless `ascending`; `offset` is opaque).
    pub fn get_stars_transactions(
        &self,
        user: i64,
        req: &tl::functions::payments::GetStarsTransactions,
    ) -> RpcResult<tl::enums::payments::StarsStatus> {
        if req.ton || req.subscription_id.is_some() {
            return Err(RpcFail::bad("SUBSCRIPTION_ID_INVALID"));
        }
        self.check_self_peer(user, &req.peer)?;
        if req.limit <= 0 {
            return Err(RpcFail::bad("LIMIT_INVALID"));
        }
        self.stars_page(
            user,
            req.inbound,
            req.outbound,
            req.ascending,
            &req.offset,
            req.limit.min(100),
        )
    }

    fn stars_page(
        &self,
        user: i64,
        inbound: bool,
        outbound: bool,
        ascending: bool,
        offset: &str,
        limit: i32,
    ) -> RpcResult<tl::enums::payments::StarsStatus> {
        let account = self.account(user)?;
        let start: usize = if offset.is_empty() {
            0
        } else {
            offset
                .strip_prefix("o")
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| RpcFail::bad("OFFSET_INVALID"))?
        };
        let mut entries: Vec<&StarsEntry> = account
            .ledger
            .iter()
            .filter(|e| (!inbound || e.amount > 0) && (!outbound || e.amount < 0))
            .collect();
        if !ascending {
            entries.reverse();
        }
        let limit = usize::try_from(limit).unwrap_or(0);
        let page: Vec<_> = entries.iter().skip(start).take(limit).collect();
        let next = start + page.len();
        let bots: Vec<i64> = page.iter().filter_map(|e| e.peer).collect();
        Ok(tl::types::payments::StarsStatus {
            balance: tl::types::StarsAmount {
                amount: account.stars,
                nanos: 0,
            }
            .into(),
            subscriptions: None,
            subscriptions_next_offset: None,
            subscriptions_missing_balance: None,
            history: Some(page.iter().map(|e| self.stars_entry_tl(e)).collect()),
            next_offset: (next < entries.len()).then(|| format!("o{next}")),
            chats: Vec::new(),
            users: self.users_tl(user, bots),
        }
        .into())
    }

    /// `payments.getStarsTopupOptions`.
    pub fn get_stars_topup_options(&self) -> Vec<tl::enums::StarsTopupOption> {
        self.topup_options
            .iter()
            .map(|o| {
                tl::types::StarsTopupOption {
                    extended: false,
                    stars: o.stars,
                    store_product: None,
                    currency: o.currency.clone(),
                    amount: o.amount,
                }
                .into()
            })
            .collect()
    }

    // ----- users, messages and updates -----

    /// `users.getUsers`.
    pub fn get_users(&self, user: i64, ids: &[tl::enums::InputUser]) -> Vec<tl::enums::User> {
        ids.iter()
            .map(|input| {
                let id = match input {
                    tl::enums::InputUser::UserSelf => Some(user),
                    tl::enums::InputUser::User(u)
                        if self.access_hash(u.user_id) == Some(u.access_hash) =>
                    {
                        Some(u.user_id)
                    }
                    _ => None,
                };
                id.and_then(|id| self.user_tl(user, id)).unwrap_or_else(|| {
                    tl::types::UserEmpty {
                        id: match input {
                            tl::enums::InputUser::User(u) => u.user_id,
                            _ => 0,
                        },
                    }
                    .into()
                })
            })
            .collect()
    }

    /// `contacts.resolveUsername`.
    pub fn resolve_username(
        &self,
        user: i64,
        username: &str,
    ) -> RpcResult<tl::enums::contacts::ResolvedPeer> {
        let wanted = username.trim_start_matches('@');
        let id = self
            .merchants
            .values()
            .find(|m| m.spec.username.eq_ignore_ascii_case(wanted))
            .map(|m| m.spec.id)
            .or_else(|| {
                self.users
                    .values()
                    .find(|a| {
                        a.username
                            .as_deref()
                            .is_some_and(|u| u.eq_ignore_ascii_case(wanted))
                    })
                    .map(|a| a.id)
            })
            .ok_or_else(|| RpcFail::bad("USERNAME_NOT_OCCUPIED"))?;
        Ok(tl::types::contacts::ResolvedPeer {
            peer: tl_make::peer_user(id),
            chats: Vec::new(),
            users: self.users_tl(user, [id]),
        }
        .into())
    }

    /// `messages.getMessages` (the user's private chats).
    pub fn get_messages(
        &self,
        user: i64,
        ids: &[tl::enums::InputMessage],
    ) -> RpcResult<tl::enums::messages::Messages> {
        let account = self.account(user)?;
        let mut bots = Vec::new();
        let messages = ids
            .iter()
            .map(|input| {
                let id = match input {
                    tl::enums::InputMessage::Id(m) => m.id,
                    _ => 0,
                };
                match account.chat.get(&id).and_then(|s| {
                    let (Stored::Invoice { bot, .. } | Stored::PaymentSent { bot, .. }) = s;
                    bots.push(*bot);
                    self.message_tl(user, id, s)
                }) {
                    Some(m) => m,
                    None => tl::types::MessageEmpty { id, peer_id: None }.into(),
                }
            })
            .collect();
        Ok(tl::types::messages::Messages {
            messages,
            topics: Vec::new(),
            chats: Vec::new(),
            users: self.users_tl(user, bots),
        }
        .into())
    }

    /// `messages.getHistory` with a merchant bot (newest first).
    pub fn get_history(
        &self,
        user: i64,
        req: &tl::functions::messages::GetHistory,
    ) -> RpcResult<tl::enums::messages::Messages> {
        let bot = self.resolve_bot_peer(&req.peer)?;
        let account = self.account(user)?;
        let limit = usize::try_from(req.limit.clamp(1, 100)).unwrap_or(100);
        let messages: Vec<_> = account
            .chat
            .iter()
            .rev()
            .filter(|(id, s)| {
                let owner = match s {
                    Stored::Invoice { bot, .. } | Stored::PaymentSent { bot, .. } => *bot,
                };
                owner == bot && (req.offset_id == 0 || **id < req.offset_id)
            })
            .take(limit)
            .filter_map(|(id, s)| self.message_tl(user, *id, s))
            .collect();
        Ok(tl::types::messages::Messages {
            messages,
            topics: Vec::new(),
            chats: Vec::new(),
            users: self.users_tl(user, [bot, user]),
        }
        .into())
    }

    /// `updates.getState`.
    pub fn get_state(&self, user: i64) -> RpcResult<tl::enums::updates::State> {
        let account = self.account(user)?;
        Ok(tl::types::updates::State {
            pts: account.pts,
            qts: 0,
            date: to_i32(self.now()),
            seq: 0,
            unread_count: 0,
        }
        .into())
    }

    /// `updates.getDifference`: every logged update after the client's `pts`.
    pub fn get_difference(
        &self,
        user: i64,
        req: &tl::functions::updates::GetDifference,
    ) -> RpcResult<tl::enums::updates::Difference> {
        let account = self.account(user)?;
        let date = to_i32(self.now());
        if req.pts >= account.pts {
            return Ok(tl::types::updates::DifferenceEmpty { date, seq: 0 }.into());
        }
        let mut new_messages = Vec::new();
        let mut other_updates = Vec::new();
        for (pts, update) in &account.log {
            if *pts <= req.pts {
                continue;
            }
            match update {
                tl::enums::Update::NewMessage(u) => new_messages.push(u.message.clone()),
                other => other_updates.push(other.clone()),
            }
        }
        let bots: Vec<i64> = account
            .chat
            .values()
            .map(|s| match s {
                Stored::Invoice { bot, .. } | Stored::PaymentSent { bot, .. } => *bot,
            })
            .collect();
        Ok(tl::types::updates::Difference {
            new_messages,
            new_encrypted_messages: Vec::new(),
            other_updates,
            chats: Vec::new(),
            users: self.users_tl(user, bots.into_iter().chain([user])),
            state: tl::types::updates::State {
                pts: account.pts,
                qts: 0,
                date,
                seq: 0,
                unread_count: 0,
            }
            .into(),
        }
        .into())
    }
}

// ----- login: guest keys, auth.sendCode / auth.signIn / auth.checkPassword / auth.logOut -----

/// How long a login code stays valid after `auth.sendCode`.
pub const LOGIN_CODE_LIFETIME: Duration = Duration::from_secs(300);

/// Logins in progress and the users auth keys were bound to by logging in or out.
struct Logins {
    code: String,
    /// auth_key_id → the user the key acts as since it logged in ([`UNBOUND_USER`] after
    /// logging out); keys not listed act as the user they were registered with.
    bindings: HashMap<i64, i64>,
    /// auth_key_id → the login in progress on that key.
    pending: HashMap<i64, PendingLogin>,
}

enum PendingLogin {
    /// `auth.sendCode` issued a code; `auth.signIn` must bring it.
    Code {
        phone: String,
        user: i64,
        phone_code_hash: String,
        sent_at: i64,
    },
    /// The code was right and the account has a 2FA password: `auth.checkPassword` is next.
    Password { user: i64 },
}

impl Logins {
    fn new(code: &str) -> Self {
        Self {
            code: code.to_owned(),
            bindings: HashMap::new(),
            pending: HashMap::new(),
        }
    }
}

/// The digits of a phone number written with or without `+`, spaces, dashes, dots or
/// parentheses; `None` unless 5 to 15 digits remain (E.164 numbers have at most 15).
fn phone_digits(phone: &str) -> Option<String> {
    let digits: String = phone
        .chars()
        .filter(|c| !matches!(c, '+' | ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let valid = (5..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
    valid.then_some(digits)
}

fn unregistered() -> RpcFail {
    RpcFail::new(401, "AUTH_KEY_UNREGISTERED")
}

impl World {
    /// The user an auth key acts as: the user it logged in as with `auth.signIn` /
    /// `auth.checkPassword`, [`UNBOUND_USER`] after `auth.logOut`, otherwise `registered` (the
    /// user the key was registered with in the [`KeyStore`](super::KeyStore)).
    pub fn key_user(&self, auth_key_id: i64, registered: i64) -> i64 {
        self.login
            .bindings
            .get(&auth_key_id)
            .copied()
            .unwrap_or(registered)
    }

    /// The code `auth.signIn` accepts (the scenario's `login_code`).
    pub fn login_code(&self) -> &str {
        &self.login.code
    }

    /// The user whose 2FA password the login on `auth_key_id` waits for, if it does.
    pub fn login_password_user(&self, auth_key_id: i64) -> Option<i64> {
        match self.login.pending.get(&auth_key_id) {
            Some(PendingLogin::Password { user }) => Some(*user),
            _ => None,
        }
    }

    fn phone_owner(&self, digits: &str) -> Option<i64> {
        self.users
            .values()
            .find(|a| a.phone.as_deref().and_then(phone_digits).as_deref() == Some(digits))
            .map(|a| a.id)
    }

    fn authorization(&self, user: i64) -> RpcResult<tl::enums::auth::Authorization> {
        let user = self.user_tl(user, user).ok_or_else(unregistered)?;
        Ok(tl::types::auth::Authorization {
            setup_password_required: false,
            otherwise_relogin_days: None,
            tmp_sessions: None,
            future_auth_token: None,
            user,
        }
        .into())
    }

    fn bind_key(&mut self, auth_key_id: i64, user: i64) {
        self.login.pending.remove(&auth_key_id);
        self.login.bindings.insert(auth_key_id, user);
    }

    /// `auth.sendCode` on the key `auth_key_id`: the phone must belong to a user of the
    /// scenario (the sandbox cannot sign up new accounts). The "sent" code is the scenario's
    /// `login_code`; a new `auth.sendCode` replaces the key's previous login.
    pub fn send_code(
        &mut self,
        auth_key_id: i64,
        req: &tl::functions::auth::SendCode,
    ) -> RpcResult<tl::enums::auth::SentCode> {
        if req.api_id <= 0 || req.api_hash.trim().is_empty() {
            return Err(RpcFail::bad("API_ID_INVALID"));
        }
        let phone_invalid = || RpcFail::new(406, "PHONE_NUMBER_INVALID");
        let phone = phone_digits(&req.phone_number).ok_or_else(phone_invalid)?;
        let user = self.phone_owner(&phone).ok_or_else(phone_invalid)?;
        let phone_code_hash = random_hex(9);
        let sent_at = self.now();
        self.login.pending.insert(
            auth_key_id,
            PendingLogin::Code {
                phone,
                user,
                phone_code_hash: phone_code_hash.clone(),
                sent_at,
            },
        );
        Ok(tl::types::auth::SentCode {
            r#type: tl::types::auth::SentCodeTypeApp {
                length: i32::try_from(self.login.code.len()).unwrap_or(i32::MAX),
            }
            .into(),
            phone_code_hash,
            next_type: Some(tl::enums::auth::CodeType::Sms),
            timeout: Some(to_i32(LOGIN_CODE_LIFETIME.as_secs() as i64)),
        }
        .into())
    }

    /// `auth.signIn` on the key `auth_key_id`. The right code binds the key to the user and
    /// returns `auth.authorization`, unless the account has a 2FA password: then
    /// `401 SESSION_PASSWORD_NEEDED`, and `account.getPassword` / `auth.checkPassword` finish
    /// the login.
    pub fn sign_in(
        &mut self,
        auth_key_id: i64,
        req: &tl::functions::auth::SignIn,
    ) -> RpcResult<tl::enums::auth::Authorization> {
        if req.phone_code_hash.is_empty() {
            return Err(RpcFail::bad("PHONE_CODE_HASH_EMPTY"));
        }
        let now = self.now();
        let (phone, user, sent_at) = match self.login.pending.get(&auth_key_id) {
            Some(PendingLogin::Code {
                phone,
                user,
                phone_code_hash,
                sent_at,
            }) if *phone_code_hash == req.phone_code_hash => (phone.clone(), *user, *sent_at),
            _ => return Err(RpcFail::bad("PHONE_CODE_EXPIRED")),
        };
        if now - sent_at > LOGIN_CODE_LIFETIME.as_secs() as i64 {
            self.login.pending.remove(&auth_key_id);
            return Err(RpcFail::bad("PHONE_CODE_EXPIRED"));
        }
        if phone_digits(&req.phone_number).as_deref() != Some(phone.as_str()) {
            return Err(RpcFail::new(406, "PHONE_NUMBER_INVALID"));
        }
        let code = req.phone_code.as_deref().unwrap_or_default();
        if code.is_empty() {
            return Err(RpcFail::bad("PHONE_CODE_EMPTY"));
        }
        if code != self.login.code {
            return Err(RpcFail::bad("PHONE_CODE_INVALID"));
        }
        if self.account(user)?.password.is_some() {
            self.login
                .pending
                .insert(auth_key_id, PendingLogin::Password { user });
            return Err(RpcFail::new(401, "SESSION_PASSWORD_NEEDED"));
        }
        let authorization = self.authorization(user)?;
        self.bind_key(auth_key_id, user);
        Ok(authorization)
    }

    /// `auth.checkPassword` on the key `auth_key_id`, after `auth.signIn` answered
    /// `SESSION_PASSWORD_NEEDED`: verifies the SRP proof against the challenge of the last
    /// `account.getPassword` (server-side SRP) and binds the key to the user.
    ///
    /// Every check spends the challenge, right or wrong: after a wrong password
    /// (`PASSWORD_HASH_INVALID`) the client fetches a new one with `account.getPassword`. After
    /// [`WRONG_PASSWORDS_BEFORE_WAIT`] wrong passwords in a row, checks are refused with
    /// `FLOOD_WAIT_X` for [`WRONG_PASSWORD_WAIT`] (also `account.getTmpPassword`'s).
    pub fn check_password(
        &mut self,
        auth_key_id: i64,
        req: &tl::functions::auth::CheckPassword,
    ) -> RpcResult<tl::enums::auth::Authorization> {
        let user = self
            .login_password_user(auth_key_id)
            .ok_or_else(unregistered)?;
        let now = self.now();
        let account = self.account_mut(user)?;
        let Some(state) = &mut account.password else {
            return Err(RpcFail::bad("PASSWORD_HASH_INVALID"));
        };
        state.check(now, &req.password)?;
        let authorization = self.authorization(user)?;
        self.bind_key(auth_key_id, user);
        Ok(authorization)
    }

    /// `auth.logOut` on the key `auth_key_id`, which acts as `user`: the key is bound to no
    /// user any more (it stays registered, as a guest key).
    pub fn log_out(
        &mut self,
        auth_key_id: i64,
        user: i64,
    ) -> RpcResult<tl::enums::auth::LoggedOut> {
        if user == UNBOUND_USER {
            return Err(unregistered());
        }
        self.bind_key(auth_key_id, UNBOUND_USER);
        Ok(tl::types::auth::LoggedOut {
            future_auth_token: None,
        }
        .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::ALICE;

    #[test]
    fn expired_forms_are_forgotten_once_they_pile_up() {
        let mut world = World::new(&Scenario::default_world(), "http://127.0.0.1:1").unwrap();
        let request = tl::functions::payments::GetPaymentForm {
            invoice: tl::types::InputInvoiceSlug {
                slug: "ebook".into(),
            }
            .into(),
            theme_params: None,
        };
        for _ in 0..1000 {
            world.get_payment_form(ALICE, &request).unwrap();
        }
        assert_eq!(world.forms.len(), 1000);
        world.advance_clock(FORM_LIFETIME + Duration::from_secs(1));
        for _ in 0..100 {
            world.get_payment_form(ALICE, &request).unwrap();
        }
        assert_eq!(world.forms.len(), 100, "only the fresh forms are kept");
        assert!(world.forms.values().all(|f| world.now() - f.created <= 600));
    }
}
