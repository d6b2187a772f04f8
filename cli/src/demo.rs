//! `tgpay demo`: every payment flow, on the embedded sandbox, explained as it happens.
//!
//! Each step checks that the flow behaved as the demo says; any surprise makes the demo exit
//! non-zero.

use std::time::Duration;

use serde_json::{Value, json};
use tgpay::card::Card;
use tgpay::credentials::SavedCard;
use tgpay::payments::SaveInfo;
use tgpay::secret::SecretString;
use tgpay::stars::TransactionFilter;
use tgpay::tokenize::StripeTokenizer;
use tgpay::{
    CardForm, Credentials, Error, InvoiceRef, OrderInfo, Outcome, Paid, PaymentForm, Payments,
    StarsForm,
};
use tgpay_sandbox::scenario::{ALICE, ALICE_PASSWORD, BOB};
use tgpay_sandbox::{Sandbox, Scenario};

use crate::connect;
use crate::out::{self, Out};
use crate::{CmdResult, Failure};

/// One user's session in the demo (a grammers client with updates forwarded to its flow).
struct User {
    payments: Payments,
    _conn: connect::Connection,
}

fn user(sandbox: &Sandbox, id: i64) -> Result<User, Failure> {
    let session = std::sync::Arc::new(grammers_session::storages::MemorySession::from(
        sandbox
            .session_data(id)
            .map_err(|e| Failure::Failed(e.to_string()))?,
    ));
    let conn = connect::start(session, 4, Some(sandbox.connection_info()));
    Ok(User {
        payments: conn.payments.clone(),
        _conn: conn,
    })
}

/// The demo's running record: what each step showed, and whether it behaved.
struct Tour<'a> {
    out: &'a Out,
    step: usize,
    surprises: Vec<String>,
}

impl Tour<'_> {
    fn heading(&mut self, title: &str) {
        self.step += 1;
        if !self.out.is_json() {
            out::line(format!("\n━━ {}. {title} ━━", self.step));
        }
    }

    fn say(&self, text: impl Into<String>) {
        let text = text.into();
        if !self.out.is_json() {
            out::line(text);
        }
    }

    /// Ends a step: its JSON object (with `ok`), and a surprise when it misbehaved.
    fn done(&mut self, name: &str, outcome: Result<Value, String>) {
        match outcome {
            Ok(mut details) => {
                if let Value::Object(map) = &mut details {
                    map.insert("step".into(), json!(name));
                    map.insert("ok".into(), json!(true));
                }
                if self.out.is_json() {
                    out::line(details);
                }
            }
            Err(surprise) => {
                if self.out.is_json() {
                    out::line(json!({ "step": name, "ok": false, "error": surprise }));
                } else {
                    out::line(format!("  ✗ unexpected: {}", out::Escaped(&surprise)));
                }
                self.surprises.push(format!("{name}: {surprise}"));
            }
        }
    }
}

fn card_form(form: PaymentForm) -> Result<Box<CardForm>, String> {
    match form {
        PaymentForm::Card(f) => Ok(f),
        other => Err(format!("expected a card form, got {}", kind(&other))),
    }
}

fn stars_form(form: PaymentForm) -> Result<StarsForm, String> {
    match form {
        PaymentForm::Stars(f) => Ok(f),
        other => Err(format!("expected a Stars form, got {}", kind(&other))),
    }
}

fn kind(form: &PaymentForm) -> &'static str {
    match form {
        PaymentForm::Card(_) => "a card form",
        PaymentForm::Stars(_) => "a Stars form",
        _ => "another kind of form",
    }
}

fn invoice_message(sandbox: &Sandbox, user: i64, slug: &str) -> Result<InvoiceRef, String> {
    let world = sandbox.world();
    let (bot, msg_id, _) = world
        .invoice_messages(user)
        .into_iter()
        .find(|(_, _, s)| s == slug)
        .ok_or_else(|| format!("no {slug} invoice in the chat"))?;
    let access_hash = world.access_hash(bot).ok_or("no access hash for the bot")?;
    Ok(InvoiceRef::Message {
        peer: tgpay::tl::types::InputPeerUser {
            user_id: bot,
            access_hash,
        }
        .into(),
        msg_id,
    })
}

fn test_card(number: &str) -> Result<Card, String> {
    let next_year = tgpay::card::YearMonth::current().year() + 2;
    Card::new(number, &format!("12/{}", next_year % 100), "123").map_err(|e| e.to_string())
}

async fn tokenize(sandbox: &Sandbox, form: &CardForm, number: &str) -> Result<Credentials, String> {
    let provider = form
        .native_provider
        .as_ref()
        .ok_or("the form has no native provider")?;
    let tokenizer = StripeTokenizer::from_provider(provider)
        .ok_or("the form's provider is not Stripe")?
        .base_url(sandbox.web_base_url());
    let card = test_card(number)?;
    tokenizer
        .tokenize(&card)
        .await
        .map(Credentials::Stripe)
        .map_err(|e| e.to_string())
}

async fn receipt_of(payments: &Payments, paid: &Paid) -> Result<tgpay::Receipt, String> {
    payments
        .get_payment_receipt(&paid.receipt)
        .await
        .map_err(|e| e.to_string())
}

fn paid(outcome: Outcome) -> Result<Paid, String> {
    match outcome {
        Outcome::Paid(paid) => Ok(paid),
        Outcome::VerificationNeeded(v) => Err(format!("unexpected verification at {}", v.url)),
    }
}

pub async fn run(out: &Out) -> CmdResult {
    let sandbox = Sandbox::start(Scenario::default_world())
        .await
        .map_err(|e| Failure::Failed(e.to_string()))?;
    let mut tour = Tour {
        out,
        step: 0,
        surprises: Vec::new(),
    };
    tour.say(format!(
        "tgpay demo: an offline Telegram with a card shop and a Stars shop is running at {} \
         (web pages at {}).\nAlice has a 2FA password, saved order info, a saved Visa and 500 \
         Stars; Bob has none of that.",
        sandbox.addr(),
        sandbox.web_base_url()
    ));
    let alice = user(&sandbox, ALICE)?;
    let bob = user(&sandbox, BOB)?;

    tour.heading("A card payment with shipping, a tip and autofilled order info");
    let result = card_with_shipping(&tour, &sandbox, &alice).await;
    tour.done("card_with_shipping", result);

    tour.heading("A saved card unlocked with the 2FA password");
    let result = saved_card(&tour, &sandbox, &alice).await;
    tour.done("saved_card", result);

    tour.heading("3-D Secure: the bank asks to confirm");
    let result = three_d_secure(&tour, &sandbox, &bob).await;
    tour.done("three_d_secure", result);

    tour.heading("A declined card");
    let result = declined(&tour, &sandbox, &bob).await;
    tour.done("declined_card", result);

    tour.heading("The merchant refuses the order at pre-checkout");
    let result = precheckout(&tour, &sandbox, &bob).await;
    tour.done("precheckout_rejected", result);

    tour.heading("Paying with Telegram Stars, and the Stars history");
    let result = stars(&tour, &sandbox, &alice).await;
    tour.done("stars", result);

    tour.heading("A web-only provider: its payment page and 3-D Secure in a real browser");
    let result = web(&tour, &bob).await;
    tour.done("web_payment_page", result);

    let charges = sandbox.world().charges().len();
    drop((alice, bob));
    sandbox.shutdown().await;
    if tour.surprises.is_empty() {
        tour.say(format!(
            "\nAll {} steps behaved as described; the sandbox recorded {charges} charges.",
            tour.step
        ));
        Ok(())
    } else {
        Err(Failure::Failed(format!(
            "the demo found surprises: {}",
            tour.surprises.join("; ")
        )))
    }
}

async fn card_with_shipping(
    tour: &Tour<'_>,
    sandbox: &Sandbox,
    alice: &User,
) -> Result<Value, String> {
    let p = &alice.payments;
    let invoice = invoice_message(sandbox, ALICE, "hoodie")?;
    let form = card_form(
        p.get_payment_form(&invoice)
            .await
            .map_err(|e| e.to_string())?,
    )?;
    tour.say(format!(
        "Alice taps Pay on an invoice message from @SandboxShopBot.\n\n{}",
        out::form_text(&PaymentForm::Card(form.clone()))
    ));
    let filled = OrderInfo::autofill(
        &form.invoice.requested,
        form.saved_info.as_ref(),
        &OrderInfo::default(),
    );
    if !filled.is_complete() {
        return Err(format!("saved info lacks {:?}", filled.missing));
    }
    tour.say(format!(
        "\nThe order info is filled in from what Telegram saved:\n{}",
        out::order_text(&filled.info)
    ));
    let order = p
        .validate_requested_info(&form, &filled.info, SaveInfo::DontSave)
        .await
        .map_err(|e| e.to_string())?;
    let express = order
        .shipping_option("express")
        .ok_or("no express shipping offered")?
        .clone();
    tour.say(format!(
        "\nThe merchant offers these shipping options for a US address; Alice picks express:\n{}",
        out::shipping_text(&order.shipping_options, Some("express"))
    ));
    let tip = form
        .invoice
        .tips
        .as_ref()
        .and_then(|t| t.suggested.get(1).copied())
        .ok_or("no suggested tips")?;
    let credentials = tokenize(sandbox, &form, "4242 4242 4242 4242").await?;
    tour.say(format!(
        "She tips {tip} and pays with a card tokenized by the provider (Stripe-style): {}.",
        credentials.title()
    ));
    let checkout = p
        .checkout(&form)
        .order(&order)
        .shipping_option(&express)
        .tip(tip)
        .credentials(credentials)
        .max_total(form.invoice.currency.amount(10_000));
    let total = checkout.total().map_err(|e| e.to_string())?;
    tour.say(format!("Total: {total} (spend guard: at most $100.00)"));
    let paid = paid(checkout.send().await.map_err(|e| e.to_string())?)?;
    let receipt = receipt_of(p, &paid).await?;
    tour.say(format!(
        "\n✓ Paid {}.\n\n{}",
        paid.total,
        out::receipt_text(&receipt)
    ));
    if receipt.total != total {
        return Err(format!(
            "receipt says {}, checkout said {total}",
            receipt.total
        ));
    }
    Ok(json!({
        "form": out::to_json(&PaymentForm::Card(form.clone())),
        "order_info": out::to_json(&filled.info),
        "shipping_options": order.shipping_options.iter().map(out::to_json).collect::<Vec<_>>(),
        "shipping": out::to_json(&express),
        "tip": out::to_json(&tip),
        "total": out::to_json(&total),
        "receipt": out::to_json(&receipt),
    }))
}

async fn saved_card(tour: &Tour<'_>, sandbox: &Sandbox, alice: &User) -> Result<Value, String> {
    let p = &alice.payments;
    let password = SecretString::new(ALICE_PASSWORD.to_owned());
    let mut totals = Vec::new();
    for slug in ["ebook", "club"] {
        let form = card_form(
            p.get_payment_form(&InvoiceRef::Slug(slug.to_owned()))
                .await
                .map_err(|e| e.to_string())?,
        )?;
        let card: SavedCard = form
            .saved_credentials
            .first()
            .cloned()
            .ok_or("no saved card in the form")?;
        let had_tmp = p.has_tmp_password();
        let tmp = p
            .get_tmp_password(&password)
            .await
            .map_err(|e| e.to_string())?;
        tour.say(format!(
            "{}: pays with the saved {} — {}",
            form.title,
            card.title,
            if had_tmp {
                "the temporary password from before is still valid, no password asked".to_owned()
            } else {
                format!(
                    "the 2FA password is checked with SRP (never sent) for a temporary password \
                     valid until unix time {}",
                    tmp.valid_until
                )
            }
        ));
        let paid = paid(
            p.checkout(&form)
                .credentials(Credentials::Saved(card))
                .send()
                .await
                .map_err(|e| e.to_string())?,
        )?;
        tour.say(format!("  ✓ Paid {}", paid.total));
        totals.push(out::to_json(&paid.total));
    }
    let tmp_calls = sandbox.world().call_count(ALICE, "account.getTmpPassword");
    tour.say(format!(
        "Two purchases, {tmp_calls} call to account.getTmpPassword: the temporary password is \
         cached until shortly before it expires."
    ));
    if tmp_calls != 1 {
        return Err(format!("{tmp_calls} getTmpPassword calls instead of 1"));
    }
    Ok(json!({ "paid": totals, "get_tmp_password_calls": tmp_calls }))
}

async fn three_d_secure(tour: &Tour<'_>, sandbox: &Sandbox, bob: &User) -> Result<Value, String> {
    let p = &bob.payments;
    let form = card_form(
        p.get_payment_form(&invoice_message(sandbox, BOB, "ebook")?)
            .await
            .map_err(|e| e.to_string())?,
    )?;
    let credentials = tokenize(sandbox, &form, "4000 0027 6000 3184").await?;
    let outcome = p
        .checkout(&form)
        .credentials(credentials)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let Outcome::VerificationNeeded(verification) = outcome else {
        return Err("the payment went through without 3-D Secure".to_owned());
    };
    let url = verification.url.clone();
    tour.say(format!(
        "Bob pays {} with a card whose bank wants 3-D Secure. Telegram answers with a page to \
         open:\n  {url}\nThe demo presses Confirm on that page (an HTTP POST) and waits for the \
         receipt to arrive as an update.",
        form.title
    ));
    let client = reqwest::Client::new();
    let confirm = client
        .post(format!("{url}/confirm"))
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|e| format!("cannot reach the verification page: {e}"))?;
    if !confirm.status().is_success() {
        return Err(format!(
            "the verification page answered {}",
            confirm.status()
        ));
    }
    let paid = p
        .wait_for_verification(&verification, Duration::from_secs(30))
        .await
        .map_err(|e| e.to_string())?;
    let receipt = receipt_of(p, &paid).await?;
    tour.say(format!(
        "✓ Confirmed and paid {} with {}.",
        paid.total, receipt.credentials_title
    ));
    Ok(
        json!({ "verification_url": url, "total": out::to_json(&paid.total), "receipt": out::to_json(&receipt) }),
    )
}

async fn declined(tour: &Tour<'_>, sandbox: &Sandbox, bob: &User) -> Result<Value, String> {
    let p = &bob.payments;
    let form = card_form(
        p.get_payment_form(&InvoiceRef::Slug("club".to_owned()))
            .await
            .map_err(|e| e.to_string())?,
    )?;
    let credentials = tokenize(sandbox, &form, "4000 0000 0000 0002").await?;
    let charges = sandbox.world().charges().len();
    match p.checkout(&form).credentials(credentials).send().await {
        Err(Error::Refused(refusal))
            if matches!(refusal.error, tgpay::PaymentError::PaymentFailed) =>
        {
            let e = Error::Refused(refusal);
            tour.say(format!(
                "Bob tries {} with a card the bank declines.\n✓ Refused: {e}\nNothing was charged \
                 (still {charges} charges in the sandbox).",
                form.title
            ));
            if sandbox.world().charges().len() != charges {
                return Err("a declined card was charged".to_owned());
            }
            Ok(json!({ "error": e.to_string(), "recovery": format!("{:?}", e.recovery()) }))
        }
        Err(e) => Err(format!("expected a decline, got: {e}")),
        Ok(_) => Err("a declined card went through".to_owned()),
    }
}

async fn precheckout(tour: &Tour<'_>, _sandbox: &Sandbox, bob: &User) -> Result<Value, String> {
    let p = &bob.payments;
    let form = card_form(
        p.get_payment_form(&InvoiceRef::Slug("hoodie".to_owned()))
            .await
            .map_err(|e| e.to_string())?,
    )?;
    let info = OrderInfo {
        name: Some("Bob Sandbox".into()),
        phone: Some("+33 1 00 00 00 00".into()),
        email: Some("bob@example.com".into()),
        shipping_address: Some(tgpay::order::ShippingAddress {
            street_line1: "1 Rue de Rivoli".into(),
            street_line2: String::new(),
            city: "Paris".into(),
            state: String::new(),
            country_iso2: "FR".into(),
            post_code: "75001".into(),
        }),
    };
    let order = p
        .validate_requested_info(&form, &info, SaveInfo::DontSave)
        .await
        .map_err(|e| e.to_string())?;
    let option = order
        .shipping_options
        .first()
        .ok_or("no shipping to France")?;
    tour.say(format!(
        "Bob orders the {} to Paris. The shop offers shipping there, but its bot checks every \
         order just before the charge (pre-checkout).",
        form.title
    ));
    match p
        .checkout(&form)
        .order(&order)
        .shipping_option(option)
        .credentials(Credentials::Stripe(tgpay::credentials::StripeToken::new(
            "tok_sandbox_visa",
            "Visa *4242",
        )))
        .send()
        .await
    {
        Err(Error::PrecheckoutRejected {
            reason: Some(reason),
            evidence,
            ..
        }) => {
            tour.say(format!(
                "✓ The merchant said no, with a reason: “{reason}” Nothing was charged: \
                 {evidence}."
            ));
            Ok(json!({ "reason": reason }))
        }
        Err(e) => Err(format!(
            "expected a pre-checkout rejection with a reason, got: {e}"
        )),
        Ok(_) => Err("the order went through".to_owned()),
    }
}

async fn stars(tour: &Tour<'_>, _sandbox: &Sandbox, alice: &User) -> Result<Value, String> {
    let p = &alice.payments;
    let before = p
        .get_stars_status()
        .await
        .map_err(|e| e.to_string())?
        .balance;
    let form = stars_form(
        p.get_payment_form(&InvoiceRef::parse("t.me/$sticker-pack").map_err(|e| e.to_string())?)
            .await
            .map_err(|e| e.to_string())?,
    )?;
    tour.say(format!(
        "Alice has {before}. She buys {} for {} from a t.me/$sticker-pack link.",
        form.title, form.price
    ));
    let paid = paid(
        p.checkout_stars(&form)
            .max_total(tgpay::Currency::XTR.amount(100))
            .send()
            .await
            .map_err(|e| e.to_string())?,
    )?;
    let after = p.cached_stars_balance().ok_or("no balance after paying")?;
    let receipt = receipt_of(p, &paid).await?;
    tour.say(format!(
        "✓ Paid {}; the balance is now {after}.\n\n{}",
        paid.total,
        out::receipt_text(&receipt)
    ));
    let mut history = Vec::new();
    let mut pager = p.stars_transactions(TransactionFilter::default());
    while let Some(tx) = pager.next().await.map_err(|e| e.to_string())? {
        history.push(tx);
    }
    tour.say(format!(
        "Stars history:\n{}",
        history
            .iter()
            .map(out::transaction_text)
            .collect::<Vec<_>>()
            .join("\n")
    ));
    if after.minor != before.amount - form.price.minor {
        return Err(format!("balance went from {before} to {after}"));
    }
    Ok(json!({
        "balance_before": before.amount,
        "price": out::to_json(&form.price),
        "balance_after": after.minor,
        "receipt": out::to_json(&receipt),
        "history": history.iter().map(out::to_json).collect::<Vec<_>>(),
    }))
}

/// Types into a field of a page as a person does (click, then key by key).
async fn type_into(page: &tgpay::browser::Page, selector: &str, text: &str) -> Result<(), String> {
    click(page, selector).await?;
    page.type_str(text).await.map_err(|e| e.to_string())
}

async fn click(page: &tgpay::browser::Page, selector: &str) -> Result<(), String> {
    page.click(selector).await.map_err(|e| e.to_string())
}

/// Fills in the sandbox's gateway page with a card and submits it; returns the credentials the
/// page posted through the webview bridge.
async fn card_on_page(
    browser: &tgpay::browser::WebBrowser,
    url: &str,
    number: &str,
) -> Result<tgpay::credentials::WebCredentials, String> {
    let page = browser
        .open_payment_form(url)
        .await
        .map_err(|e| e.to_string())?;
    let next_year = tgpay::card::YearMonth::current().year() + 2;
    type_into(page.page(), "#name", "Bob Sandbox").await?;
    type_into(page.page(), "#number", number).await?;
    type_into(page.page(), "#expiry", &format!("12/{}", next_year % 100)).await?;
    type_into(page.page(), "#cvc", "123").await?;
    click(page.page(), "#pay").await?;
    let submission = page
        .wait(Duration::from_secs(30))
        .await
        .map_err(|e| e.to_string())?;
    Ok(submission.credentials)
}

async fn web(tour: &Tour<'_>, bob: &User) -> Result<Value, String> {
    use tgpay::browser::{BrowserOptions, WebBrowser, find_chromium};
    if let Err(e) = find_chromium() {
        tour.say(format!("Skipped: {e}"));
        return Ok(json!({ "skipped": e.to_string() }));
    }
    let p = &bob.payments;
    let browser = WebBrowser::launch(&BrowserOptions::headless())
        .await
        .map_err(|e| e.to_string())?;
    let result = web_steps(tour, p, &browser).await;
    browser.close().await;
    result
}

async fn web_steps(
    tour: &Tour<'_>,
    p: &Payments,
    browser: &tgpay::browser::WebBrowser,
) -> Result<Value, String> {
    let form = card_form(
        p.get_payment_form(&InvoiceRef::Slug("club".to_owned()))
            .await
            .map_err(|e| e.to_string())?,
    )?;
    tour.say(format!(
        "Many providers take cards only on their own page: the form's url ({}). tgpay opens it in \
         headless Chromium with Telegram's webview bridge injected; the demo types a card into \
         the page and presses Pay; the page posts payment_form_submit back.",
        form.url
    ));
    let card = card_on_page(browser, &form.url, "4242 4242 4242 4242").await?;
    tour.say(format!(
        "The page sent back credentials for {}.",
        card.title()
    ));
    let paid = paid(
        p.checkout(&form)
            .credentials(Credentials::Web(card))
            .send()
            .await
            .map_err(|e| e.to_string())?,
    )?;
    tour.say(format!(
        "✓ Paid {} through the provider's page.",
        paid.total
    ));

    let form = card_form(
        p.get_payment_form(&InvoiceRef::Slug("ebook".to_owned()))
            .await
            .map_err(|e| e.to_string())?,
    )?;
    let card = card_on_page(browser, &form.url, "4000 0027 6000 3184").await?;
    let Outcome::VerificationNeeded(verification) = p
        .checkout(&form)
        .credentials(Credentials::Web(card))
        .send()
        .await
        .map_err(|e| e.to_string())?
    else {
        return Err("the 3-D Secure card went through without verification".to_owned());
    };
    let url = verification.url.clone();
    tour.say(format!(
        "Another card on the same page needs 3-D Secure: the bank's page ({url}) opens in the \
         browser and the demo presses Confirm there."
    ));
    let page = browser
        .open_verification(&url)
        .await
        .map_err(|e| e.to_string())?;
    click(page.page(), "#confirm").await?;
    let verified = page
        .wait(p, verification, Duration::from_secs(30))
        .await
        .map_err(|e| e.to_string())?;
    tour.say(format!(
        "✓ Confirmed in the browser and paid {}.",
        verified.total
    ));
    Ok(json!({
        "payment_page": form.url,
        "paid": out::to_json(&paid.total),
        "verification_url": url,
        "verified": out::to_json(&verified.total),
    }))
}
