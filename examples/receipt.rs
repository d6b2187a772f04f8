//! Show the receipt of a payment, by its chat and message: the receipt message, or the paid
//! invoice message (which Telegram's apps show as a receipt).
//!
//! ```sh
//! # On the embedded sandbox: Alice buys a sticker pack, then reads its receipt.
//! cargo run --example receipt
//! # On Telegram, after `tgpay login`:
//! TGPAY_SESSION=tgpay.session TGPAY_API_ID=… \
//!   cargo run --example receipt -- @merchant_bot 1234
//! ```

#[path = "common/mod.rs"]
mod common;

use tgpay::{InvoiceRef, PaymentForm, tl};

#[tokio::main]
async fn main() -> common::Result<()> {
    let env = common::connect().await?;
    let payments = &env.payments;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (peer, msg_id) = match args.as_slice() {
        [bot, msg_id] => {
            let resolved = payments
                .invoke(&tl::functions::contacts::ResolveUsername {
                    username: bot.trim_start_matches('@').to_owned(),
                    referer: None,
                })
                .await?;
            let tl::enums::contacts::ResolvedPeer::Peer(resolved) = resolved;
            let Some(tl::enums::User::User(user)) = resolved.users.first() else {
                return Err(format!("{bot} is not a bot").into());
            };
            let peer: tl::enums::InputPeer = tl::types::InputPeerUser {
                user_id: user.id,
                access_hash: user.access_hash.ok_or("no access hash")?,
            }
            .into();
            (peer, msg_id.parse::<i32>()?)
        }
        [] if env.on_sandbox() => {
            let invoice = InvoiceRef::parse("t.me/$sticker-pack")?;
            let PaymentForm::Stars(form) = payments.get_payment_form(&invoice).await? else {
                return Err("the sandbox's sticker pack is sold for Stars".into());
            };
            let outcome = payments.checkout_stars(&form).send().await?;
            let paid = outcome.paid().ok_or("not paid")?;
            let peer = paid.receipt.peer.clone().ok_or("no bot peer")?;
            (peer, paid.receipt.msg_id().ok_or("no receipt message")?)
        }
        _ => return Err("usage: receipt @bot MESSAGE_ID".into()),
    };
    let receipt = payments.get_payment_receipt_at(peer, msg_id).await?;
    println!(
        "{}: {} paid with {}",
        receipt.title, receipt.total, receipt.credentials_title
    );
    for price in &receipt.invoice.prices {
        println!("  {:<24} {}", price.label, price.amount);
    }
    Ok(())
}
