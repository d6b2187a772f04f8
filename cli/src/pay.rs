//! `form`, `pay`, `receipt`, `saved-info`, `stars` and `card-token`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use serde_json::json;
use tgpay::attempt::PaymentKind;
use tgpay::credentials::{SavedCard, StripeToken, WebCredentials};
use tgpay::form::{CardForm, NativeProvider, StarsForm};
use tgpay::order::{OrderInfo, ShippingAddress, ValidatedOrder};
use tgpay::payments::{ClearSaved, SaveInfo};
use tgpay::secret::SecretString;
use tgpay::stars::TransactionFilter;
use tgpay::tl;
use tgpay::{Amount, Credentials, Currency, InvoiceRef, Outcome, Paid, PaymentForm};

use crate::connect::{Connection, connect, connect_journaled};
use crate::out::{self, Out};
use crate::{CmdResult, ConnectOpts, Failure, secrets};

/// `tgpay pay`.
#[derive(Debug, Args)]
pub struct PayArgs {
    /// An invoice link, a slug, or `@bot MESSAGE_ID`.
    #[arg(required = true, num_args = 1..=2)]
    pub invoice: Vec<String>,
    #[command(flatten)]
    pub connect: ConnectOpts,

    /// Fill the order info from what Telegram has saved.
    #[arg(long)]
    pub use_saved_info: bool,
    /// Save the order info for next time.
    #[arg(long)]
    pub save_info: bool,
    /// Name for the order.
    #[arg(long)]
    pub name: Option<String>,
    /// Phone number for the order.
    #[arg(long)]
    pub phone: Option<String>,
    /// E-mail for the order.
    #[arg(long)]
    pub email: Option<String>,
    /// Shipping address, first line.
    #[arg(long)]
    pub street: Option<String>,
    /// Shipping address, second line.
    #[arg(long)]
    pub street2: Option<String>,
    /// Shipping address, city.
    #[arg(long)]
    pub city: Option<String>,
    /// Shipping address, state or region.
    #[arg(long)]
    pub state: Option<String>,
    /// Shipping address, two-letter country code.
    #[arg(long)]
    pub country: Option<String>,
    /// Shipping address, post code.
    #[arg(long)]
    pub post_code: Option<String>,
    /// The shipping option (its id; see the validation output).
    #[arg(long)]
    pub shipping: Option<String>,
    /// A tip, in the invoice's currency (e.g. 1.50).
    #[arg(long)]
    pub tip: Option<String>,

    /// Pay with a card, read from TGPAY_CARD_NUMBER / TGPAY_CARD_EXP / TGPAY_CARD_CVC or asked
    /// for, tokenized with the form's provider.
    #[arg(long, group = "how")]
    pub card: bool,
    /// Pay with a Stripe token (`tok_…`) made elsewhere, read from TGPAY_STRIPE_TOKEN or asked
    /// for (never from the command line, where other users could read it).
    #[arg(long, group = "how")]
    pub stripe_token: bool,
    /// Pay with the `payment_form_submit` data a payment page posted (a JSON file).
    #[arg(long, group = "how", value_name = "FILE")]
    pub web_credentials: Option<PathBuf>,
    /// Pay with a saved card (its id); the 2FA password is read from TGPAY_PASSWORD or asked for.
    #[arg(long, group = "how", value_name = "ID")]
    pub saved_card: Option<String>,
    /// Pay in Telegram Stars.
    #[arg(long, group = "how")]
    pub stars: bool,
    /// Pay on the provider's own payment page, in a Chromium window (3-D Secure too).
    #[arg(long, group = "how")]
    pub browser: bool,
    /// With --browser: no window (for scripts); the page is driven by whatever the page does.
    #[arg(long, requires = "browser")]
    pub headless: bool,
    /// With --browser: Chromium's own sandbox. `auto` (the default) has it on wherever it can
    /// work, and says why when it cannot; `on` refuses to run without it; `off` runs the page
    /// with tgpay's own rights.
    #[arg(
        long,
        value_name = "auto|on|off",
        default_value = "auto",
        requires = "browser"
    )]
    pub browser_sandbox: tgpay::browser::BrowserSandbox,
    /// Save the new card for later purchases (when the form allows it).
    #[arg(long)]
    pub save_card: bool,

    /// Refuse to pay more than this (e.g. 25.00, or "25.00 USD"; Stars: 100).
    #[arg(long, value_name = "AMOUNT")]
    pub max_total: Option<String>,
    /// Don't ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// How long to wait for a 3-D Secure verification, in seconds.
    #[arg(long, default_value_t = 600)]
    pub verify_timeout: u64,
}

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

pub async fn form(out: &Out, invoice: &[String], opts: &ConnectOpts) -> CmdResult {
    if let [one] = invoice {
        parse_invoice(one)?;
    }
    let conn = connect(opts).await?;
    let invoice = resolve_invoice(&conn, invoice).await?;
    let form = conn.payments.get_payment_form(&invoice).await?;
    out.emit(|| out::form_text(&form), || out::form_json(&form));
    Ok(())
}

/// How the user chose to pay.
enum How {
    Browser,
    Card,
    StripeToken(String),
    Web(WebCredentials),
    Saved(String, SecretString),
    Stars,
}

fn how(args: &PayArgs) -> Result<Option<How>, Failure> {
    Ok(if args.browser {
        tgpay::browser::find_chromium().map_err(|e| Failure::BadInput(e.to_string()))?;
        Some(How::Browser)
    } else if args.card {
        Some(How::Card)
    } else if args.stripe_token {
        let token = secrets::read("TGPAY_STRIPE_TOKEN", "Stripe token")?;
        Some(How::StripeToken(token.trim().to_owned()))
    } else if let Some(path) = &args.web_credentials {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::BadInput(format!("cannot read {}: {e}", path.display())))?;
        Some(How::Web(
            WebCredentials::from_event(&text).map_err(|e| Failure::BadInput(e.to_string()))?,
        ))
    } else if let Some(id) = &args.saved_card {
        let password = secrets::read("TGPAY_PASSWORD", "2FA password")?;
        Some(How::Saved(
            id.clone(),
            SecretString::new(password.to_string()),
        ))
    } else if args.stars {
        Some(How::Stars)
    } else {
        None
    })
}

fn given_info(args: &PayArgs) -> OrderInfo {
    let address = [&args.street, &args.city, &args.country, &args.post_code]
        .iter()
        .any(|f| f.is_some())
        .then(|| ShippingAddress {
            street_line1: args.street.clone().unwrap_or_default(),
            street_line2: args.street2.clone().unwrap_or_default(),
            city: args.city.clone().unwrap_or_default(),
            state: args.state.clone().unwrap_or_default(),
            country_iso2: args
                .country
                .clone()
                .unwrap_or_default()
                .to_ascii_uppercase(),
            post_code: args.post_code.clone().unwrap_or_default(),
        });
    OrderInfo {
        name: args.name.clone(),
        phone: args.phone.clone(),
        email: args.email.clone(),
        shipping_address: address,
    }
}

pub async fn pay(out: &Out, args: &PayArgs) -> CmdResult {
    // What can be wrong with the arguments is found before connecting.
    if let [one] = args.invoice.as_slice() {
        parse_invoice(one)?;
    }
    let how = how(args)?;
    let conn = connect_journaled(&args.connect).await?;
    let invoice = resolve_invoice(&conn, &args.invoice).await?;
    let form = conn.payments.get_payment_form(&invoice).await?;
    match form {
        PaymentForm::Stars(form) => {
            if !matches!(how, None | Some(How::Stars)) {
                return Err(Failure::BadInput(
                    "this invoice is paid in Telegram Stars: use --stars".to_owned(),
                ));
            }
            pay_stars(out, &conn, &form, args).await
        }
        PaymentForm::Card(form) => {
            let how = match how {
                Some(How::Stars) => {
                    return Err(Failure::BadInput(format!(
                        "this invoice is paid in {}, not Stars: choose --card, --stripe-token, \
                         --web-credentials or --saved-card",
                        form.invoice.currency.code()
                    )));
                }
                Some(how) => how,
                None => {
                    return Err(Failure::BadInput(
                        "choose how to pay: --card, --browser, --stripe-token, \
                         --web-credentials or --saved-card"
                            .to_owned(),
                    ));
                }
            };
            pay_card(out, &conn, &form, args, how).await
        }
        _ => Err(Failure::BadInput(
            "this kind of invoice (a star gift) is not payable from the command line".to_owned(),
        )),
    }
}

async fn pay_stars(out: &Out, conn: &Connection, form: &StarsForm, args: &PayArgs) -> CmdResult {
    let max = args
        .max_total
        .as_deref()
        .map(|m| parse_amount(m, Currency::XTR, "--max-total"))
        .transpose()?;
    out.emit(
        || out::invoice_text(&form.title, &form.description, "", &form.invoice),
        || json!({ "step": "form", "form": out::form_json(&PaymentForm::Stars(form.clone())) }),
    );
    if let Some(max) = max {
        conn.payments.checkout_stars(form).max_total(max).total()?;
    }
    if !confirm_total(out, form.price, None, args.yes)? {
        return Err(Failure::BadInput(
            "not confirmed: nothing was paid".to_owned(),
        ));
    }
    let mut checkout = conn.payments.checkout_stars(form);
    if let Some(max) = max {
        checkout = checkout.max_total(max);
    }
    let _in_flight = crate::interrupt::InFlight::start();
    let outcome = checkout.send().await?;
    finish(out, conn, outcome, args).await
}

async fn pay_card(
    out: &Out,
    conn: &Connection,
    form: &CardForm,
    args: &PayArgs,
    how: How,
) -> CmdResult {
    let currency = form.invoice.currency;
    let tip = args
        .tip
        .as_deref()
        .map(|t| parse_amount(t, currency, "--tip"))
        .transpose()?;
    let max = args
        .max_total
        .as_deref()
        .map(|m| parse_amount(m, currency, "--max-total"))
        .transpose()?;
    let shown = PaymentForm::Card(Box::new(form.clone()));
    out.emit(
        || out::form_text(&shown),
        || json!({ "step": "form", "form": out::form_json(&shown) }),
    );

    // Order info.
    let order: Option<ValidatedOrder> = if form.invoice.requested.any() {
        let saved = if args.use_saved_info {
            form.saved_info.clone()
        } else {
            None
        };
        let filled =
            OrderInfo::autofill(&form.invoice.requested, saved.as_ref(), &given_info(args));
        if !filled.is_complete() {
            let missing: Vec<&str> = filled.missing.iter().map(|f| f.token()).collect();
            return Err(Failure::BadInput(format!(
                "the order info lacks {}: give them as flags (--name, --phone, --email, \
                 --street, --city, --country, --post-code) or use --use-saved-info",
                missing.join(", ")
            )));
        }
        let order = conn
            .payments
            .validate_requested_info(
                form,
                &filled.info,
                if args.save_info {
                    SaveInfo::Save
                } else {
                    SaveInfo::DontSave
                },
            )
            .await?;
        out.emit(
            || format!("\nOrder info\n{}", out::order_text(&order.info)),
            || {
                json!({
                    "step": "order",
                    "info": out::order_json(&order.info),
                    "shipping_options": order.shipping_options.iter().map(out::shipping_json).collect::<Vec<_>>(),
                })
            },
        );
        Some(order)
    } else {
        None
    };
    let shipping = match (&args.shipping, &order) {
        (Some(id), _) => Some(id.clone()),
        (None, Some(order)) if form.invoice.flexible && order.shipping_options.len() == 1 => {
            order.shipping_options.first().map(|o| o.id.clone())
        }
        (None, Some(order)) if form.invoice.flexible => {
            let ids: Vec<&str> = order
                .shipping_options
                .iter()
                .map(|o| o.id.as_str())
                .collect();
            return Err(Failure::BadInput(format!(
                "choose a shipping option with --shipping ({})",
                ids.join(", ")
            )));
        }
        _ => None,
    };
    if let (Some(order), Some(id)) = (&order, &shipping) {
        out.emit(
            || {
                format!(
                    "\nShipping\n{}",
                    out::shipping_text(&order.shipping_options, Some(id))
                )
            },
            || json!({ "step": "shipping", "chosen": id }),
        );
    }

    // Credentials.
    let mut browser = None;
    let credentials = match how {
        How::Browser => {
            let options = if args.headless {
                tgpay::browser::BrowserOptions::headless()
            } else {
                tgpay::browser::BrowserOptions::visible()
            }
            .sandbox(args.browser_sandbox);
            out.emit(
                || {
                    format!(
                        "\nOpening the payment page in Chromium:\n  {}",
                        out::shown(&form.url)
                    )
                },
                || json!({ "step": "payment_page", "url": form.url }),
            );
            let opened = tgpay::browser::WebBrowser::launch(&options)
                .await
                .map_err(|e| Failure::BadInput(e.to_string()))?;
            if let tgpay::browser::SandboxState::Off(why) = opened.sandbox() {
                eprintln!("tgpay: warning: Chromium runs without its sandbox: {why}");
            }
            let card = opened
                .collect_credentials(&form.url, Duration::from_secs(args.verify_timeout))
                .await;
            let card = match card {
                Ok(card) => card,
                Err(e) => {
                    opened.close().await;
                    return Err(Failure::Failed(format!("{e}; nothing was paid")));
                }
            };
            browser = Some(opened);
            Credentials::Web(card)
        }
        How::Card => {
            let requirements = form
                .native_provider
                .as_ref()
                .map(tgpay::card::CardRequirements::of)
                .unwrap_or_default();
            let card = secrets::card(requirements)?;
            tokenize(conn, form, &card).await?
        }
        How::StripeToken(token) => Credentials::Stripe(StripeToken::new(token, "Card")),
        How::Web(web) => Credentials::Web(web),
        How::Saved(id, password) => {
            let card = saved_card(form, &id)?;
            conn.payments.get_tmp_password(&password).await?;
            Credentials::Saved(card)
        }
        How::Stars => {
            return Err(Failure::BadInput(
                "--stars pays Stars invoices only".to_owned(),
            ));
        }
    };

    let mut checkout = conn.payments.checkout(form).credentials(credentials);
    if let Some(order) = &order {
        checkout = checkout.order(order);
    }
    if let Some(id) = &shipping {
        let option = order
            .as_ref()
            .and_then(|o| o.shipping_option(id))
            .ok_or_else(|| tgpay::Error::ShippingOption {
                id: Some(id.clone()),
            })?;
        checkout = checkout.shipping_option(option);
    }
    if let Some(tip) = tip {
        checkout = checkout.tip(tip);
    }
    if let Some(max) = max {
        checkout = checkout.max_total(max);
    }
    if args.save_card {
        checkout = checkout.save_credentials();
    }
    let total = checkout.total()?;
    if !confirm_total(out, total, tip, args.yes)? {
        if let Some(browser) = browser {
            browser.close().await;
        }
        return Err(Failure::BadInput(
            "not confirmed: nothing was paid".to_owned(),
        ));
    }
    let _in_flight = crate::interrupt::InFlight::start();
    let outcome = checkout.send().await;
    match (outcome, browser) {
        (Ok(Outcome::VerificationNeeded(verification)), Some(browser)) => {
            let url = verification.url.clone();
            out.emit(
                || format!("\nThe bank asks to confirm the payment (3-D Secure), in the browser:\n  {}", out::shown(&url)),
                || json!({ "step": "verification", "url": url }),
            );
            let paid = browser
                .verify(
                    &conn.payments,
                    verification,
                    Duration::from_secs(args.verify_timeout),
                )
                .await;
            browser.close().await;
            print_paid(out, conn, &paid.map_err(browser_failure)?).await
        }
        (outcome, browser) => {
            if let Some(browser) = browser {
                browser.close().await;
            }
            finish(out, conn, outcome?, args).await
        }
    }
}

/// Shows the total as the last line before the question, then asks `Pay TOTAL? [y/N]` (yes
/// without asking with `--yes`). Everything printed before comes from [`out`], where every
/// bot-written string is sanitized, so nothing can hide or overwrite these two lines.
fn confirm_total(
    out: &Out,
    total: Amount,
    tip: Option<Amount>,
    assume_yes: bool,
) -> Result<bool, Failure> {
    out.emit(
        || {
            let tip = tip.map(|t| format!(" (tip {t})")).unwrap_or_default();
            format!("\nTotal: {total}{tip}")
        },
        || json!({ "step": "total", "total": out::amount_json(&total) }),
    );
    secrets::confirm(&format!("Pay {total}?"), assume_yes)
}

/// A browser failure: a payment error keeps its meaning (refused, ambiguous); an abandoned or
/// timed-out verification may still complete, so it is ambiguous.
fn browser_failure(error: tgpay::browser::BrowserError) -> Failure {
    use tgpay::browser::BrowserError as B;
    match error {
        B::Payment(e) => Failure::from(e),
        e @ (B::Abandoned { .. } | B::VerificationNotShown { .. }) => {
            Failure::AmbiguousText(e.to_string())
        }
        e => Failure::Failed(e.to_string()),
    }
}

fn saved_card(form: &CardForm, id: &str) -> Result<SavedCard, Failure> {
    form.saved_credentials
        .iter()
        .find(|c| c.id == id)
        .cloned()
        .ok_or_else(|| {
            let known = if form.saved_credentials.is_empty() {
                "none".to_owned()
            } else {
                form.saved_credentials
                    .iter()
                    .map(|c| format!("{} ({})", c.id, c.title))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            Failure::BadInput(format!("no saved card {id:?}; saved cards: {known}"))
        })
}

/// Tokenizes a card with the form's provider (the sandbox's own Stripe-compatible endpoint when
/// connected to a sandbox).
pub async fn tokenize(
    conn: &Connection,
    form: &CardForm,
    card: &tgpay::card::Card,
) -> Result<Credentials, Failure> {
    use tgpay::tokenize::{SmartGlocalTokenizer, StripeTokenizer};
    match &form.native_provider {
        Some(provider @ NativeProvider::Stripe { .. }) => {
            let mut tokenizer = StripeTokenizer::from_provider(provider).ok_or_else(|| {
                Failure::BadInput("the form's Stripe parameters are incomplete".to_owned())
            })?;
            if let Some(info) = &conn.sandbox {
                tokenizer = tokenizer.base_url(info.web_base_url.clone());
            }
            let token = tokenizer
                .tokenize(card)
                .await
                .map_err(|e| Failure::BadInput(e.to_string()))?;
            Ok(Credentials::Stripe(token))
        }
        Some(provider @ NativeProvider::SmartGlocal { .. }) => {
            let tokenizer = SmartGlocalTokenizer::from_provider(provider).ok_or_else(|| {
                Failure::BadInput("the form's SmartGlocal parameters are incomplete".to_owned())
            })?;
            let token = tokenizer
                .tokenize(card)
                .await
                .map_err(|e| Failure::BadInput(e.to_string()))?;
            Ok(Credentials::SmartGlocal(token))
        }
        _ => Err(Failure::BadInput(format!(
            "this merchant takes cards only on its payment page ({}): pay there, then use \
             --web-credentials",
            form.url
        ))),
    }
}

async fn finish(out: &Out, conn: &Connection, outcome: Outcome, args: &PayArgs) -> CmdResult {
    let paid = match outcome {
        Outcome::Paid(paid) => paid,
        Outcome::VerificationNeeded(verification) => {
            let url = verification.url.clone();
            out.emit(
                || {
                    format!(
                        "\nThe bank asks to confirm the payment (3-D Secure). Open:\n  {}",
                        out::shown(&url)
                    )
                },
                || json!({ "step": "verification", "url": url }),
            );
            let spinner = Spinner::start(out, "waiting for the confirmation");
            let result = conn
                .payments
                .wait_for_verification(&verification, Duration::from_secs(args.verify_timeout))
                .await;
            spinner.stop();
            result?
        }
    };
    print_paid(out, conn, &paid).await
}

pub async fn print_paid(out: &Out, conn: &Connection, paid: &Paid) -> CmdResult {
    let receipt = match conn.payments.get_payment_receipt(&paid.receipt).await {
        Ok(receipt) => Some(receipt),
        Err(e) => {
            out.note(&format!(
                "(paid, but the receipt could not be fetched: {e})"
            ));
            None
        }
    };
    out.emit(
        || {
            let mut text = format!("\nPaid {}.", paid.total);
            if let Some(r) = &receipt {
                text.push_str(&format!("\n\n{}", out::receipt_text(r)));
            }
            if let Some(id) = paid.receipt.msg_id() {
                text.push_str(&format!("\nReceipt message: {id}"));
            }
            text
        },
        || {
            json!({
                "step": "paid",
                "ok": true,
                "kind": match paid.kind { PaymentKind::Card => "card", PaymentKind::Stars => "stars" },
                "total": out::amount_json(&paid.total),
                "receipt_msg_id": paid.receipt.msg_id(),
                "receipt": receipt.as_ref().map(out::receipt_json),
            })
        },
    );
    Ok(())
}

/// A spinner on stderr while waiting (only on a terminal, never in JSON mode).
struct Spinner {
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Spinner {
    fn start(out: &Out, what: &'static str) -> Spinner {
        use std::io::{IsTerminal, Write};
        if out.is_json() || !std::io::stderr().is_terminal() {
            return Spinner { task: None };
        }
        let task = tokio::spawn(async move {
            let frames = ['|', '/', '-', '\\'];
            let mut i = 0;
            loop {
                eprint!("\r{} {what}... ", frames[i % frames.len()]);
                let _ = std::io::stderr().flush();
                i += 1;
                tokio::time::sleep(Duration::from_millis(120)).await;
            }
        });
        Spinner { task: Some(task) }
    }

    fn stop(self) {
        if let Some(task) = self.task {
            task.abort();
            eprint!("\r\x1b[K");
        }
    }
}

pub async fn receipt(out: &Out, peer: &str, msg_id: i32, opts: &ConnectOpts) -> CmdResult {
    let conn = connect(opts).await?;
    let peer = resolve_peer(&conn, peer).await?;
    let receipt = conn.payments.get_payment_receipt_at(peer, msg_id).await?;
    out.emit(
        || out::receipt_text(&receipt),
        || out::receipt_json(&receipt),
    );
    Ok(())
}

pub async fn saved_info_show(out: &Out, opts: &ConnectOpts) -> CmdResult {
    let conn = connect(opts).await?;
    let saved = conn.payments.get_saved_info().await?;
    out.emit(
        || {
            let info = saved
                .info
                .as_ref()
                .map(out::order_text)
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| "  (none)".to_owned());
            format!(
                "Saved order info\n{info}\nSaved card: {}",
                if saved.has_saved_credentials {
                    "yes"
                } else {
                    "no"
                }
            )
        },
        || {
            json!({
                "info": saved.info.as_ref().map(out::order_json),
                "has_saved_credentials": saved.has_saved_credentials,
            })
        },
    );
    Ok(())
}

pub async fn saved_info_clear(
    out: &Out,
    info: bool,
    credentials: bool,
    opts: &ConnectOpts,
) -> CmdResult {
    let conn = connect(opts).await?;
    let what = match (info, credentials) {
        (true, true) => ClearSaved::All,
        (true, false) => ClearSaved::OrderInfo,
        _ => ClearSaved::Credentials,
    };
    conn.payments.clear_saved_info(what).await?;
    out.emit(
        || {
            let what = match (info, credentials) {
                (true, true) => "order info and saved cards",
                (true, false) => "order info",
                _ => "saved cards",
            };
            format!("Cleared the saved {what}.")
        },
        || json!({ "ok": true, "cleared": { "info": info, "credentials": credentials } }),
    );
    Ok(())
}

pub async fn stars_balance(out: &Out, opts: &ConnectOpts) -> CmdResult {
    let conn = connect(opts).await?;
    let status = conn.payments.get_stars_status().await?;
    out.emit(
        || format!("Balance: {}", status.balance),
        || {
            json!({
                "balance": status.balance.amount,
                "nanos": status.balance.nanos,
                "formatted": status.balance.to_string(),
            })
        },
    );
    Ok(())
}

pub async fn stars_topup(out: &Out, opts: &ConnectOpts) -> CmdResult {
    let conn = connect(opts).await?;
    let options = conn.payments.get_stars_topup_options().await?;
    out.emit(
        || {
            options
                .iter()
                .map(|o| format!("  {:>10}  for {}", o.stars.to_string(), o.price))
                .collect::<Vec<_>>()
                .join("\n")
        },
        || json!({ "options": options.iter().map(out::topup_json).collect::<Vec<_>>() }),
    );
    Ok(())
}

pub async fn stars_history(out: &Out, limit: usize, opts: &ConnectOpts) -> CmdResult {
    let conn = connect(opts).await?;
    let mut pager = conn
        .payments
        .stars_transactions(TransactionFilter::default());
    pager.page_size = i32::try_from(limit.clamp(1, 100)).unwrap_or(100);
    let mut transactions = Vec::new();
    while transactions.len() < limit {
        match pager.next().await? {
            Some(tx) => transactions.push(tx),
            None => break,
        }
    }
    out.emit(
        || {
            if transactions.is_empty() {
                "No Stars transactions.".to_owned()
            } else {
                transactions
                    .iter()
                    .map(out::transaction_text)
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        },
        || json!({ "transactions": transactions.iter().map(out::transaction_json).collect::<Vec<_>>() }),
    );
    Ok(())
}

pub async fn card_token(
    out: &Out,
    provider: &str,
    key: &str,
    base_url: Option<&str>,
    test: bool,
) -> CmdResult {
    use tgpay::tokenize::{SmartGlocalTokenizer, StripeTokenizer};
    let card = secrets::card(tgpay::card::CardRequirements::default())?;
    let credentials = if provider == "stripe" {
        let mut tokenizer = StripeTokenizer::new(key);
        if let Some(url) = base_url {
            tokenizer = tokenizer.base_url(url);
        }
        Credentials::Stripe(
            tokenizer
                .tokenize(&card)
                .await
                .map_err(|e| Failure::BadInput(e.to_string()))?,
        )
    } else {
        let mut tokenizer = SmartGlocalTokenizer::new(key).test(test);
        if let Some(url) = base_url {
            tokenizer = tokenizer.tokenize_url(url);
        }
        Credentials::SmartGlocal(
            tokenizer
                .tokenize(&card)
                .await
                .map_err(|e| Failure::BadInput(e.to_string()))?,
        )
    };
    let data = match credentials
        .to_tl(false, None)
        .map_err(|e| Failure::BadInput(e.to_string()))?
    {
        tl::enums::InputPaymentCredentials::Credentials(c) => {
            let tl::enums::DataJson::Json(d) = c.data;
            d.data
        }
        _ => String::new(),
    };
    let title = credentials.title().to_owned();
    out.emit(
        || out::shown(&data).into_owned(),
        || {
            let credentials: serde_json::Value =
                serde_json::from_str(&data).unwrap_or(serde_json::Value::Null);
            json!({ "credentials": credentials, "title": title })
        },
    );
    Ok(())
}
