//! Pay twice with a saved card. The 2FA password unlocks a temporary password (SRP, then
//! `account.getTmpPassword`), which is cached: the second purchase does not ask again.
//!
//! ```sh
//! # On the embedded sandbox (Alice's saved Visa):
//! cargo run --example pay_saved_card
//! # On Telegram, after `tgpay login`:
//! TGPAY_SESSION=tgpay.session TGPAY_API_ID=… TGPAY_PASSWORD=… \
//!   cargo run --example pay_saved_card -- 'https://t.me/$your_invoice'
//! ```

#[path = "common/mod.rs"]
mod common;

use tgpay::secret::SecretString;
use tgpay::{Credentials, InvoiceRef, PaymentForm};

#[tokio::main]
async fn main() -> common::Result<()> {
    let env = common::connect().await?;
    let payments = &env.payments;
    let password = match std::env::var("TGPAY_PASSWORD") {
        Ok(p) => p,
        Err(_) if env.on_sandbox() => tgpay_sandbox::scenario::ALICE_PASSWORD.to_owned(),
        Err(_) => return Err("set TGPAY_PASSWORD to the account's 2FA password".into()),
    };
    let password = SecretString::new(password);
    let invoice = InvoiceRef::parse(&common::arg_or(&env, "t.me/$ebook")?)?;

    for round in 1..=2 {
        let PaymentForm::Card(form) = payments.get_payment_form(&invoice).await? else {
            return Err("this invoice is not paid by card".into());
        };
        let card = form
            .saved_credentials
            .first()
            .cloned()
            .ok_or("no saved card: pay once with --save-card first")?;
        let cached = payments.has_tmp_password();
        payments.get_tmp_password(&password).await?;
        let outcome = payments
            .checkout(&form)
            .credentials(Credentials::Saved(card.clone()))
            .send()
            .await?;
        println!(
            "Purchase {round}: {} with {} ({})",
            outcome
                .paid()
                .map(|p| p.total.to_string())
                .unwrap_or_else(|| "needs 3-D Secure".into()),
            card.title,
            if cached {
                "temporary password reused"
            } else {
                "2FA password checked"
            }
        );
    }
    Ok(())
}
