//! Running a plan: a worker owns one sandbox and three sessions of its user Alice (grammers'
//! default connection parameters, its default retry policy included; one payment journal),
//! buys through tgpay, and
//! follows every answer to a final word — reconciling ambiguous ones until they settle — before
//! the ledger is read.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use grammers_mtsender::ConnectionParams;
use tgpay::credentials::StripeToken;
use tgpay::journal::{Journal, MemoryJournal};
use tgpay::secret::SecretString;
use tgpay::tl;
use tgpay::{
    CardForm, Credentials, Error, InvoiceRef, Outcome, Paid, PaymentForm, Payments, PaymentsConfig,
    PendingPayment, Reconciled, StarsForm, Verification,
};
use tgpay_sandbox::scenario::{ALICE, ALICE_PASSWORD};
use tgpay_sandbox::world::Charge;
use tgpay_sandbox::{Sandbox, SandboxClient, Scenario};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinHandle;

use crate::plan::{Bank, BotHint, LIFETIME_SECS, Plan, Purchase, SEND_TIMEOUT, Target, Token};

/// How long an answer may take to settle (reconciling) before the run counts as a mismatch.
/// An unanswered payment settles `LIFETIME_SECS` + the settle margin after it was sent.
const SETTLE_LIMIT: Duration = Duration::from_secs(40);
/// How long one reconcile may take.
const RECONCILE_LIMIT: Duration = Duration::from_secs(10);
/// Between two reconciles of an unsettled payment.
const RECONCILE_EVERY: Duration = Duration::from_millis(300);
/// Prefixes of the invoice messages' slugs.
const CARD_MESSAGE: &str = "ebook-message-";
const STARS_MESSAGE: &str = "sticker-message-";

/// The payments' tunables: Telegram's, with the sandbox's short lifetimes.
fn config() -> PaymentsConfig {
    PaymentsConfig {
        precheckout_reason_wait: Duration::from_millis(100),
        poll_interval: Duration::from_millis(200),
        send_timeout: SEND_TIMEOUT,
        form_lifetime: Duration::from_secs(LIFETIME_SECS),
        verification_lifetime: Duration::from_secs(LIFETIME_SECS),
        settle_margin: Duration::from_secs(2),
        ..PaymentsConfig::default()
    }
}

/// The default world with short lifetimes, Stars enough for any campaign, and `messages` invoice
/// messages of each kind that cost what `ebook` and `sticker-pack` cost, from the same bots.
fn scenario(messages: usize) -> Scenario {
    let mut scenario = Scenario::default_world();
    scenario.form_lifetime_secs = LIFETIME_SECS;
    scenario.verification_lifetime_secs = LIFETIME_SECS;
    for user in &mut scenario.users {
        if user.id == ALICE {
            user.stars = 1_000_000_000;
        }
    }
    let mut extra = Vec::new();
    for (slug, prefix) in [("ebook", CARD_MESSAGE), ("sticker-pack", STARS_MESSAGE)] {
        if let Some(base) = scenario.invoices.iter().find(|i| i.slug == slug) {
            for n in 0..messages {
                let mut invoice = base.clone();
                invoice.slug = format!("{prefix}{n}");
                invoice.message_for = vec![ALICE];
                extra.push(invoice);
            }
        }
    }
    scenario.invoices.extend(extra);
    scenario
}

/// One of Alice's sessions, its updates forwarded to its `Payments`.
struct Session {
    payments: Payments,
    _client: SandboxClient,
    forwarder: JoinHandle<()>,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.forwarder.abort();
    }
}

/// What tgpay finally said about one purchase.
#[derive(Debug, Clone)]
pub enum Answer {
    /// Paid, with this receipt.
    Paid(Paid),
    /// Not charged, and why tgpay says so.
    NotCharged(String),
    /// No final answer within [`SETTLE_LIMIT`]; the last thing reconcile said.
    Unsettled(String),
}

/// One purchase: tgpay's final answer, the forms its attempts used, and how it got there.
#[derive(Debug)]
pub struct Action {
    /// What it bought (the invoice's slug, which the ledger records).
    pub slug: String,
    pub answer: Answer,
    /// Forms this purchase's own attempts submitted (or fetched).
    pub forms: Vec<i64>,
    /// The total of the receipt `payments.getPaymentReceipt` returned for a paid answer
    /// (`None`: not read, after retries).
    pub receipt_total: Option<i64>,
    /// Each step's answer, for the report.
    pub trail: Vec<String>,
    /// Whether the answer was ambiguous and reconcile gave the final one.
    pub reconciled: bool,
}

impl Action {
    fn new(slug: &str) -> Self {
        Action {
            slug: slug.to_owned(),
            answer: Answer::Unsettled("nothing yet".to_owned()),
            forms: Vec::new(),
            receipt_total: None,
            trail: Vec::new(),
            reconciled: false,
        }
    }

    fn note(&mut self, step: String) {
        if self.trail.last() != Some(&step) {
            self.trail.push(step);
        }
    }

    fn form(&mut self, id: i64) {
        if !self.forms.contains(&id) {
            self.forms.push(id);
        }
    }
}

/// A run's purchases and the charges the ledger gained meanwhile (of what they bought).
#[derive(Debug)]
pub struct Report {
    pub actions: Vec<Action>,
    pub new_charges: Vec<Charge>,
}

/// Invoice messages, each as (invoice, slug).
type Messages = VecDeque<(InvoiceRef, String)>;

/// A sandbox and three sessions of Alice, running plans one after another.
pub struct Worker {
    sandbox: Sandbox,
    sessions: Vec<Session>,
    /// Unused invoice messages: (card, Stars).
    messages: Mutex<(Messages, Messages)>,
}

impl Worker {
    /// A worker whose sandbox has `messages` unpaid invoice messages of each kind (each is
    /// paid at most once; slugs stand in once they run out).
    pub async fn start(messages: usize) -> Result<Self, String> {
        let sandbox = Sandbox::start(scenario(messages))
            .await
            .map_err(|e| format!("the sandbox did not start: {e}"))?;
        // One journal for the three sessions, as apps (and the CLI) keep one per account.
        let journal: Arc<dyn Journal> = Arc::new(MemoryJournal::new());
        let mut sessions = Vec::new();
        for _ in 0..3 {
            let mut client = sandbox
                .client_with(ALICE, ConnectionParams::default())
                .map_err(|e| e.to_string())?;
            let payments = client
                .payments_with(config())
                .with_journal(Arc::clone(&journal));
            let updates = client.updates.take().ok_or("no updates receiver")?;
            let follower = payments.clone();
            let forwarder = tokio::spawn(async move { follower.follow_updates(updates).await });
            sessions.push(Session {
                payments,
                _client: client,
                forwarder,
            });
        }
        let (mut card, mut stars) = (VecDeque::new(), VecDeque::new());
        {
            let world = sandbox.world();
            for (bot, msg_id, slug) in world.invoice_messages(ALICE) {
                let Some(access_hash) = world.access_hash(bot) else {
                    continue;
                };
                let invoice = InvoiceRef::Message {
                    peer: tl::types::InputPeerUser {
                        user_id: bot,
                        access_hash,
                    }
                    .into(),
                    msg_id,
                };
                if slug.starts_with(CARD_MESSAGE) {
                    card.push_back((invoice, slug));
                } else if slug.starts_with(STARS_MESSAGE) {
                    stars.push_back((invoice, slug));
                }
            }
        }
        Ok(Worker {
            sandbox,
            sessions,
            messages: Mutex::new((card, stars)),
        })
    }

    pub async fn shutdown(self) {
        drop(self.sessions);
        self.sandbox.shutdown().await;
    }

    /// What a plan buys first: an invoice link, or the next unused invoice message.
    fn target(&self, plan: &Plan) -> (InvoiceRef, String) {
        match plan.target {
            Target::Slug(slug) => (InvoiceRef::Slug(slug.to_owned()), slug.to_owned()),
            Target::LinkAndMessages => {
                let slug = Self::link(plan);
                (InvoiceRef::Slug(slug.to_owned()), slug.to_owned())
            }
            Target::Message | Target::Messages => self.target_message(plan),
        }
    }

    /// The link whose price the worker's invoice messages have.
    fn link(plan: &Plan) -> &'static str {
        if plan.is_stars() {
            "sticker-pack"
        } else {
            "ebook"
        }
    }

    /// The next unused invoice message of the plan's kind (its link once they run out).
    fn target_message(&self, plan: &Plan) -> (InvoiceRef, String) {
        let mut messages = self.messages.lock().unwrap_or_else(|p| p.into_inner());
        let queue = if plan.is_stars() {
            &mut messages.1
        } else {
            &mut messages.0
        };
        queue.pop_front().unwrap_or_else(|| {
            let slug = Self::link(plan);
            (InvoiceRef::Slug(slug.to_owned()), slug.to_owned())
        })
    }

    /// Runs a plan: scripts its faults, makes its purchases, follows each answer to a final
    /// word, clears the faults, and reads the ledger.
    pub async fn run(&self, plan: &Plan) -> Report {
        let mut targets = vec![self.target(plan)];
        for _ in 1..plan.copies {
            let next = match plan.target {
                Target::Messages | Target::LinkAndMessages => self.target_message(plan),
                _ => targets[0].clone(),
            };
            targets.push(next);
        }
        let slugs: Vec<String> = targets.iter().map(|(_, slug)| slug.clone()).collect();
        let ledger = |sandbox: &Sandbox| -> Vec<Charge> {
            sandbox
                .world()
                .charges()
                .iter()
                .filter(|c| c.user == ALICE && slugs.contains(&c.invoice_slug))
                .cloned()
                .collect()
        };
        let before: HashSet<String> = ledger(&self.sandbox).into_iter().map(|c| c.id).collect();
        {
            let mut world = self.sandbox.world();
            for fault in &plan.faults {
                world.inject(fault.clone());
            }
        }
        let actions = if plan.copies == 1 {
            let session = &self.sessions[plan.session % self.sessions.len()];
            vec![buy(&session.payments, plan, &targets[0]).await]
        } else {
            let buys = self
                .sessions
                .iter()
                .zip(&targets)
                .map(|(s, target)| buy(&s.payments, plan, target));
            futures_util::future::join_all(buys).await
        };
        self.sandbox.world().clear_faults();
        let new_charges = ledger(&self.sandbox)
            .into_iter()
            .filter(|c| !before.contains(&c.id))
            .collect();
        Report {
            actions,
            new_charges,
        }
    }
}

/// One purchase, followed to tgpay's final answer; a paid answer's receipt is read back.
async fn buy(payments: &Payments, plan: &Plan, (invoice, slug): &(InvoiceRef, String)) -> Action {
    let mut action = Action::new(slug);
    let sent = send(payments, plan, invoice, &mut action).await;
    let answer = match sent {
        Ok(Outcome::Paid(paid)) => {
            action.note("paid".to_owned());
            Answer::Paid(paid)
        }
        Ok(Outcome::VerificationNeeded(v)) => verify(payments, plan, v, &mut action).await,
        Err(error) => settle(payments, plan, error, &mut action).await,
    };
    // (A payment reconciled without the bot's access hash names no chat to ask.)
    if let Answer::Paid(paid) = &answer
        && paid.receipt.peer.is_some()
    {
        action.receipt_total = read_receipt(payments, paid, &mut action).await;
    }
    action.answer = answer;
    action
}

fn card_token(token: &str, title: &str) -> Credentials {
    Credentials::Stripe(StripeToken::new(token, title))
}

async fn card_form(payments: &Payments, invoice: &InvoiceRef) -> Result<Box<CardForm>, Error> {
    match payments.get_payment_form(invoice).await? {
        PaymentForm::Card(form) => Ok(form),
        // The plan picks the invoice: another kind of form is a bug in the campaign itself.
        other => panic!("{invoice:?} is a {} form, not a card form", kind(&other)),
    }
}

async fn stars_form(payments: &Payments, invoice: &InvoiceRef) -> Result<StarsForm, Error> {
    match payments.get_payment_form(invoice).await? {
        PaymentForm::Stars(form) => Ok(form),
        // The plan picks the invoice: another kind of form is a bug in the campaign itself.
        other => panic!("{invoice:?} is a {} form, not a Stars form", kind(&other)),
    }
}

fn kind(form: &PaymentForm) -> &'static str {
    match form {
        PaymentForm::Card(_) => "card",
        PaymentForm::Stars(_) => "Stars",
        _ => "another kind of",
    }
}

/// Fetches the form and sends the payment.
async fn send(
    payments: &Payments,
    plan: &Plan,
    invoice: &InvoiceRef,
    action: &mut Action,
) -> Result<Outcome, Error> {
    let credentials = match plan.purchase {
        Purchase::Stars => {
            let form = stars_form(payments, invoice).await?;
            action.form(form.form_id);
            return payments.checkout_stars(&form).send().await;
        }
        Purchase::Card(Token::Visa) => card_token("tok_sandbox_visa", "Visa *4242"),
        Purchase::Card(Token::Declined) => card_token("tok_sandbox_declined", "Visa *0002"),
        Purchase::ThreeDs { .. } => card_token("tok_sandbox_3ds", "Visa *3184"),
        Purchase::SavedCard { forget_tmp } => {
            if forget_tmp {
                payments.forget_tmp_password();
            }
            payments
                .get_tmp_password(&SecretString::new(ALICE_PASSWORD.to_owned()))
                .await?;
            let form = card_form(payments, invoice).await?;
            action.form(form.form_id);
            let card = form
                .saved_credentials
                .iter()
                .find(|c| c.id == "card_alice_visa")
                .cloned()
                .ok_or(Error::CredentialsRequired)?;
            return payments
                .checkout(&form)
                .credentials(Credentials::Saved(card))
                .send()
                .await;
        }
    };
    let form = card_form(payments, invoice).await?;
    action.form(form.form_id);
    payments
        .checkout(&form)
        .credentials(credentials)
        .send()
        .await
}

/// The payer on the bank's page (as the plan says) while tgpay waits for the verification.
async fn verify(
    payments: &Payments,
    plan: &Plan,
    verification: Verification,
    action: &mut Action,
) -> Answer {
    action.form(verification.payment.form_id);
    action.note("3-D Secure page".to_owned());
    let (bank, wait) = match plan.purchase {
        Purchase::ThreeDs { bank, wait } => (bank, wait),
        _ => (Bank::Abandon, Duration::from_millis(100)),
    };
    let visit = match bank {
        Bank::Confirm(after) => Some(("confirm", after)),
        Bank::Fail(after) => Some(("fail", after)),
        Bank::Abandon => None,
    };
    let payer = visit.map(|(what, after)| {
        let url = format!("{}/{what}", verification.url);
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            (what, post(&url).await)
        })
    });
    let answer = match payments.wait_for_verification(&verification, wait).await {
        Ok(paid) => {
            action.note("verified: paid".to_owned());
            Answer::Paid(paid)
        }
        Err(error) => settle(payments, plan, error, action).await,
    };
    // The ledger is read after the payer is done.
    if let Some(payer) = payer {
        match payer.await {
            Ok((what, Ok(status))) => action.note(format!("bank page: {what} → HTTP {status}")),
            Ok((what, Err(e))) => action.note(format!("bank page: {what} failed: {e}")),
            Err(e) => action.note(format!("bank page: {e}")),
        }
    }
    answer
}

/// An error's final word: not charged, or (ambiguous) whatever reconcile settles on.
async fn settle(payments: &Payments, plan: &Plan, error: Error, action: &mut Action) -> Answer {
    action.note(format!("error: {error}"));
    // `Unresolved` names another attempt: this purchase sent nothing.
    if !matches!(error, Error::Unresolved { .. })
        && let Some(payment) = error.payment()
    {
        action.form(payment.form_id);
    }
    if !error.is_ambiguous() {
        return Answer::NotCharged(error.to_string());
    }
    let Some(payment) = error.payment() else {
        return Answer::Unsettled("an ambiguous error without its payment".to_owned());
    };
    let mut payment = payment.clone();
    match plan.bot {
        BotHint::Full => {}
        BotHint::Username => payment.bot.access_hash = None,
        BotHint::Nothing => {
            payment.bot.access_hash = None;
            payment.bot.username = None;
        }
    }
    reconcile(payments, payment, action).await
}

/// Reconciles until the answer is final, or [`SETTLE_LIMIT`] passed.
async fn reconcile(payments: &Payments, payment: PendingPayment, action: &mut Action) -> Answer {
    action.reconciled = true;
    let start = Instant::now();
    loop {
        let last = match tokio::time::timeout(RECONCILE_LIMIT, payments.reconcile(&payment)).await {
            Ok(Ok(Reconciled::Paid(paid))) => {
                action.note("reconcile: paid".to_owned());
                return Answer::Paid(paid);
            }
            Ok(Ok(Reconciled::NotPaid { evidence })) => {
                action.note(format!("reconcile: not paid ({evidence})"));
                return Answer::NotCharged(evidence.to_string());
            }
            Ok(Ok(Reconciled::Unsettled { reason, .. })) => format!("unsettled: {reason}"),
            Ok(Err(e)) => format!("reconcile failed: {e}"),
            Err(_) => format!("reconcile took more than {RECONCILE_LIMIT:?}"),
        };
        action.note(format!("reconcile: {last}"));
        if start.elapsed() > SETTLE_LIMIT {
            return Answer::Unsettled(last);
        }
        tokio::time::sleep(RECONCILE_EVERY).await;
    }
}

/// The receipt's total, read with `payments.getPaymentReceipt` (a few tries: faults apply).
async fn read_receipt(payments: &Payments, paid: &Paid, action: &mut Action) -> Option<i64> {
    for _ in 0..6 {
        match payments.get_payment_receipt(&paid.receipt).await {
            Ok(receipt) => return Some(receipt.total.minor),
            Err(e) => action.note(format!("receipt: {e}")),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    None
}

/// A POST on the sandbox's web pages (the bank's 3-D Secure page); the HTTP status.
async fn post(url: &str) -> Result<u16, String> {
    let rest = url.strip_prefix("http://").ok_or("not an http URL")?;
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(host).await?;
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n\
             Content-Length: 0\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        Ok::<_, std::io::Error>(response)
    };
    let response = tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .map_err(|_| "no answer within 10 s".to_owned())?
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&response);
    text.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| "no status line".to_owned())
}
