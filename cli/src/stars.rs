//! `tgpay stars`: the Stars balance, top-up options and history.

use clap::Subcommand;
use serde_json::json;
use tgpay::stars::TransactionFilter;

use crate::connect::connect;
use crate::out::{self, Out};
use crate::{CmdResult, ConnectOpts};

/// `tgpay stars` subcommands.
#[derive(Debug, Subcommand)]
pub enum StarsAction {
    /// The Stars balance.
    Balance,
    /// Ways to buy Stars.
    TopupOptions,
    /// The Stars transactions, newest first.
    History {
        /// At most this many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
}

/// Runs `tgpay stars ACTION`.
pub async fn run(out: &Out, action: StarsAction, opts: &ConnectOpts) -> CmdResult {
    match action {
        StarsAction::Balance => stars_balance(out, opts).await,
        StarsAction::TopupOptions => stars_topup(out, opts).await,
        StarsAction::History { limit } => stars_history(out, limit, opts).await,
    }
}

/// The Stars balance.
async fn stars_balance(out: &Out, opts: &ConnectOpts) -> CmdResult {
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

/// Ways to buy Stars.
async fn stars_topup(out: &Out, opts: &ConnectOpts) -> CmdResult {
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
        || json!({ "options": options.iter().map(out::to_json).collect::<Vec<_>>() }),
    );
    Ok(())
}

/// The newest `limit` Stars transactions.
async fn stars_history(out: &Out, limit: usize, opts: &ConnectOpts) -> CmdResult {
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
        || json!({ "transactions": transactions.iter().map(out::to_json).collect::<Vec<_>>() }),
    );
    Ok(())
}
