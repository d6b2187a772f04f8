//! `tgpay pay`: the arguments, the choice of how to pay, Stars invoices, the confirmation and the
//! outcome (3-D Secure, receipt). Card invoices are paid in [`card`].

mod card;

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use serde_json::json;
use tgpay::attempt::PaymentKind;
use tgpay::credentials::WebCredentials;
use tgpay::form::StarsForm;
use tgpay::order::{OrderInfo, ShippingAddress};
use tgpay::secret::SecretString;
use tgpay::{Amount, Currency, Outcome, Paid, PaymentForm};

use crate::args::{parse_amount, parse_invoice, resolve_invoice};
use crate::connect::{Connection, connect_journaled};
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

/// Pays the invoice named by `args`.
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
            card::pay_card(out, &conn, &form, args, how).await
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
        || json!({ "step": "form", "form": out::to_json(&PaymentForm::Stars(form.clone())) }),
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
        || json!({ "step": "total", "total": out::to_json(&total) }),
    );
    secrets::confirm(&format!("Pay {total}?"), assume_yes)
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
                "total": out::to_json(&paid.total),
                "receipt_msg_id": paid.receipt.msg_id(),
                "receipt": receipt.as_ref().map(out::to_json),
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
