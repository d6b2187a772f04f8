//! Pay a card invoice: order info autofilled from what Telegram saved, the first shipping
//! option, a tip, a spend guard, and the receipt.
//!
//! ```sh
//! # On the embedded sandbox (Alice buys the hoodie):
//! cargo run --example pay_card
//! # On Telegram, after `tgpay login`, with a card token from the provider (e.g. Stripe test mode):
//! TGPAY_SESSION=tgpay.session TGPAY_API_ID=… TGPAY_CARD_TOKEN=tok_… TGPAY_MAX_TOTAL=20.00 \
//!   cargo run --example pay_card -- 'https://t.me/$your_invoice'
//! ```

#[path = "common/mod.rs"]
mod common;

use tgpay::credentials::StripeToken;
use tgpay::payments::SaveInfo;
use tgpay::{Credentials, InvoiceRef, OrderInfo, Outcome, PaymentForm};

#[tokio::main]
async fn main() -> common::Result<()> {
    let env = common::connect().await?;
    let payments = &env.payments;
    let invoice = InvoiceRef::parse(&common::arg_or(&env, "https://t.me/$hoodie")?)?;
    let PaymentForm::Card(form) = payments.get_payment_form(&invoice).await? else {
        return Err("this invoice is not paid by card (try the pay_stars example)".into());
    };
    println!("{}: {}", form.title, form.invoice.subtotal()?);

    let filled = OrderInfo::autofill(
        &form.invoice.requested,
        form.saved_info.as_ref(),
        &OrderInfo::default(),
    );
    let order = if form.invoice.requested.any() {
        if !filled.is_complete() {
            return Err(format!("no saved order info for {:?}", filled.missing).into());
        }
        Some(
            payments
                .validate_requested_info(&form, &filled.info, SaveInfo::DontSave)
                .await?,
        )
    } else {
        None
    };

    let token = std::env::var("TGPAY_CARD_TOKEN").unwrap_or_else(|_| "tok_sandbox_visa".into());
    let currency = form.invoice.currency;
    let max = match std::env::var("TGPAY_MAX_TOTAL") {
        Ok(max) => currency.parse_amount(&max)?,
        Err(_) => currency.amount(10_000),
    };
    let mut checkout = payments
        .checkout(&form)
        .credentials(Credentials::Stripe(StripeToken::new(token, "Card")))
        .max_total(max);
    if let Some(order) = &order {
        checkout = checkout.order(order);
        if let Some(option) = order.shipping_options.first() {
            println!("Shipping: {} ({})", option.title, option.total);
            checkout = checkout.shipping_option(option);
        }
    }
    if let Some(tip) = form.invoice.tips.as_ref().and_then(|t| t.suggested.first()) {
        println!("Tip: {tip}");
        checkout = checkout.tip(*tip);
    }
    println!("Paying {}…", checkout.total()?);
    let paid = match checkout.send().await? {
        Outcome::Paid(paid) => paid,
        Outcome::VerificationNeeded(verification) => {
            println!("Confirm the payment at {}", verification.url);
            payments
                .wait_for_verification(&verification, std::time::Duration::from_secs(300))
                .await?
        }
    };
    let receipt = payments.get_payment_receipt(&paid.receipt).await?;
    println!("Paid {} with {}", receipt.total, receipt.credentials_title);
    Ok(())
}
