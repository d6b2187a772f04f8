//! `tgpay reconcile`: resolves every unresolved payment of the journal and prints each answer.

use std::time::Duration;

use serde_json::json;
use tgpay::{PendingPayment, Reconciled};

use crate::connect::connect_journaled;
use crate::out::Out;
use crate::{CmdResult, ConnectOpts, Failure};

/// `tgpay reconcile`.
#[derive(Debug, clap::Args)]
pub struct ReconcileArgs {
    #[command(flatten)]
    pub connect: ConnectOpts,
    /// Keep reconciling the payments that cannot be told yet, for up to this many seconds,
    /// until each is paid or known not to be.
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub wait: u64,
}

pub async fn reconcile(out: &Out, args: &ReconcileArgs) -> CmdResult {
    let conn = connect_journaled(&args.connect).await?;
    let journal = conn
        .journal
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let deadline = tokio::time::Instant::now()
        .checked_add(Duration::from_secs(args.wait))
        .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(86_400 * 365));
    let mut total = 0usize;
    let (unsettled, failed) = loop {
        let results = conn.payments.reconcile_journal().await?;
        let last_round =
            tokio::time::Instant::now() >= deadline || results.iter().all(|(_, r)| settled(r));
        let mut next_check: Option<i64> = None;
        let mut unsettled = 0usize;
        let mut failed = 0usize;
        for (payment, result) in &results {
            match result {
                Ok(Reconciled::Unsettled { settles_at, .. }) => {
                    unsettled += 1;
                    next_check = match (next_check, settles_at) {
                        (Some(a), Some(b)) => Some(a.min(*b)),
                        (a, b) => a.or(*b),
                    };
                    if !last_round {
                        continue;
                    }
                }
                Err(_) => {
                    failed += 1;
                    if !last_round {
                        continue;
                    }
                }
                Ok(_) => {}
            }
            total += 1;
            print_one(out, payment, result);
        }
        if last_round {
            break (unsettled, failed);
        }
        // Wait for the earliest settle time (Telegram's clock), checking at least every 30 s.
        let now = conn.payments.server_time().await.ok();
        let wait = match (next_check, now) {
            (Some(at), Some(now)) => at.saturating_sub(now).clamp(1, 30),
            _ => 5,
        };
        let wake = tokio::time::Instant::now() + Duration::from_secs(wait.unsigned_abs());
        tokio::time::sleep_until(wake.min(deadline)).await;
    };
    out.emit(
        || {
            if total == 0 {
                format!("No unresolved payments in {journal}.")
            } else if unsettled + failed == 0 {
                format!("\nEvery payment of {journal} is resolved.")
            } else {
                format!(
                    "\n{} payment(s) of {journal} cannot be told yet: do not pay them again; run \
                     `tgpay reconcile` later (or with --wait SECONDS).",
                    unsettled + failed
                )
            }
        },
        || {
            json!({
                "ok": unsettled + failed == 0,
                "journal": journal,
                "reconciled": total,
                "unsettled": unsettled + failed,
            })
        },
    );
    if unsettled + failed > 0 {
        return Err(Failure::AmbiguousText(format!(
            "{} payment(s) may still go through",
            unsettled + failed
        )));
    }
    Ok(())
}

fn settled(result: &Result<Reconciled, tgpay::Error>) -> bool {
    matches!(result, Ok(r) if r.is_settled())
}

fn print_one(out: &Out, payment: &PendingPayment, result: &Result<Reconciled, tgpay::Error>) {
    out.emit(
        || {
            let head = format!(
                "Attempt {}: {} for {} (form {})",
                payment.id, payment.total, payment.invoice, payment.form_id
            );
            let answer = match result {
                Ok(Reconciled::Paid(paid)) => format!(
                    "  ✓ Paid{}",
                    paid.receipt
                        .msg_id()
                        .map(|id| format!(" — receipt message {id}"))
                        .unwrap_or_default()
                ),
                Ok(Reconciled::NotPaid { evidence }) => format!("  ✗ Not charged: {evidence}"),
                Ok(Reconciled::Unsettled { reason, settles_at }) => format!(
                    "  ? Not known yet: {reason}{}",
                    settles_at
                        .map(|at| format!("; settled by Unix time {at} (Telegram's clock)"))
                        .unwrap_or_default()
                ),
                Err(e) => format!("  ? Could not check: {e}"),
            };
            format!("{head}\n{answer}")
        },
        || {
            let (status, detail) = match result {
                Ok(r @ Reconciled::Paid(_)) => ("paid", serde_json::to_value(r)),
                Ok(r @ Reconciled::NotPaid { .. }) => ("not_paid", serde_json::to_value(r)),
                Ok(r @ Reconciled::Unsettled { .. }) => ("unsettled", serde_json::to_value(r)),
                Err(e) => ("unchecked", Ok(json!({ "error": e.to_string() }))),
            };
            json!({
                "attempt": payment.id,
                "status": status,
                "result": detail.unwrap_or(serde_json::Value::Null),
                "payment": serde_json::to_value(payment).unwrap_or(serde_json::Value::Null),
            })
        },
    );
}
