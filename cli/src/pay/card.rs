//! Paying a card invoice: order info, shipping, credentials (a card, a token, a payment page, a
//! saved card), the total and the checkout.

use std::time::Duration;

use serde_json::json;
use tgpay::credentials::{SavedCard, StripeToken};
use tgpay::form::{CardForm, NativeProvider};
use tgpay::order::{OrderInfo, ValidatedOrder};
use tgpay::payments::SaveInfo;
use tgpay::{Credentials, Outcome, PaymentForm};

use super::{How, PayArgs, confirm_total, finish, given_info, print_paid};
use crate::args::parse_amount;
use crate::connect::Connection;
use crate::out::{self, Out};
use crate::{CmdResult, Failure, secrets};

/// Pays a card invoice the way `how` says.
pub(super) async fn pay_card(
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
        || json!({ "step": "form", "form": out::to_json(&shown) }),
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
                    "info": out::to_json(&order.info),
                    "shipping_options": order.shipping_options.iter().map(out::to_json).collect::<Vec<_>>(),
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
