//! Pay an invoice in Telegram Stars, with a spend guard, and show the balance and history.
//!
//! ```sh
//! # On the embedded sandbox (Alice buys a sticker pack):
//! cargo run --example pay_stars
//! # On Telegram, after `tgpay login`:
//! TGPAY_SESSION=tgpay.session TGPAY_API_ID=… \
//!   cargo run --example pay_stars -- 'https://t.me/$your_invoice'
//! ```

#[path = "common/mod.rs"]
mod common;

use tgpay::stars::TransactionFilter;
use tgpay::{Currency, Error, InvoiceRef, PaymentForm};

#[tokio::main]
async fn main() -> common::Result<()> {
    let env = common::connect().await?;
    let payments = &env.payments;
    let invoice = InvoiceRef::parse(&common::arg_or(&env, "t.me/$sticker-pack")?)?;
    let PaymentForm::Stars(form) = payments.get_payment_form(&invoice).await? else {
        return Err("this invoice is not paid in Stars (try the pay_card example)".into());
    };
    let status = payments.get_stars_status().await?;
    println!(
        "{} costs {}; the balance is {}",
        form.title, form.price, status.balance
    );
    match payments
        .checkout_stars(&form)
        .max_total(Currency::XTR.amount(1_000))
        .send()
        .await
    {
        Ok(outcome) => println!(
            "Paid {}",
            outcome
                .paid()
                .map(|p| p.total.to_string())
                .unwrap_or_default()
        ),
        Err(Error::InsufficientStars { shortfall, .. }) => {
            println!("Not enough Stars: top up at least {shortfall}");
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    }
    let mut history = payments.stars_transactions(TransactionFilter::default());
    while let Some(tx) = history.next().await? {
        println!(
            "  {:>10}  {}",
            tx.amount.to_string(),
            tx.title.unwrap_or_default()
        );
    }
    Ok(())
}
