//! Checking a run's answers against the sandbox's ledger (the charges of Alice for what the run
//! bought that appeared during the run), never against tgpay's own words. Purchases of the same
//! invoice are checked together, each invoice on its own:
//!
//! - one purchase: paid ⇒ exactly one new charge, and it is the receipt tgpay names; not
//!   charged ⇒ no new charge;
//! - several identical purchases at once: as many paid answers as new charges, each naming a
//!   different new charge;
//! - every answer final (no "unsettled" after the settle limit), and a paid answer's receipt
//!   (`payments.getPaymentReceipt`) for the charge's total;
//! - double charges: a purchase whose own forms were charged more than once, or more new
//!   charges than purchases.

use std::collections::HashMap;

use tgpay_sandbox::world::Charge;

use crate::run::{Action, Answer, Report};

/// What a run's check found.
#[derive(Debug, Default)]
pub struct Verdict {
    /// Each disagreement between an answer and the ledger.
    pub mismatches: Vec<String>,
    /// Extra charges: purchases charged more than once.
    pub double_charges: usize,
}

pub fn check(report: &Report) -> Verdict {
    let mut verdict = Verdict::default();
    let mut slugs: Vec<&str> = Vec::new();
    for action in &report.actions {
        if !slugs.contains(&action.slug.as_str()) {
            slugs.push(&action.slug);
        }
    }
    for slug in slugs {
        let actions: Vec<(usize, &Action)> = report
            .actions
            .iter()
            .enumerate()
            .filter(|(_, a)| a.slug == slug)
            .collect();
        let charges: Vec<&Charge> = report
            .new_charges
            .iter()
            .filter(|c| c.invoice_slug == slug)
            .collect();
        check_invoice(&mut verdict, slug, &actions, &charges);
    }
    if report.actions.is_empty() {
        verdict
            .mismatches
            .push("the run made no purchase".to_owned());
    }
    verdict
}

/// The purchases of one invoice against its new charges.
fn check_invoice(
    verdict: &mut Verdict,
    slug: &str,
    actions: &[(usize, &Action)],
    charges: &[&Charge],
) {
    let ledger = || {
        let list: Vec<String> = charges
            .iter()
            .map(|c| format!("receipt {} (form {})", c.receipt_msg_id, c.form_id))
            .collect();
        format!(
            "{} new charge(s) of {slug} [{}]",
            charges.len(),
            list.join(", ")
        )
    };

    // Double charges: each charge belongs to the purchase whose attempt used its form.
    let mut owned: HashMap<usize, usize> = HashMap::new();
    for charge in charges {
        if let Some((n, _)) = actions
            .iter()
            .find(|(_, a)| a.forms.contains(&charge.form_id))
        {
            *owned.entry(*n).or_default() += 1;
        }
    }
    let per_purchase: usize = owned.values().map(|n| n.saturating_sub(1)).sum();
    let excess = charges.len().saturating_sub(actions.len());
    let doubles = per_purchase.max(excess);
    if doubles > 0 {
        verdict.double_charges += doubles;
        verdict.mismatches.push(format!(
            "{} purchase(s), ledger: {} — charged twice",
            actions.len(),
            ledger()
        ));
    }

    for (n, action) in actions {
        if let Answer::Unsettled(last) = &action.answer {
            verdict.mismatches.push(format!(
                "purchase {n}: no final answer within the settle limit (last: {last}); ledger: {}",
                ledger()
            ));
        }
        if let (Answer::Paid(paid), Some(total)) = (&action.answer, action.receipt_total)
            && let Some(charge) = charges
                .iter()
                .find(|c| Some(c.receipt_msg_id) == paid.receipt.receipt_msg_id)
            && charge.total_amount != total
        {
            verdict.mismatches.push(format!(
                "purchase {n}: its receipt says {total}, the charge is {}",
                charge.total_amount
            ));
        }
    }

    if let [(n, action)] = actions {
        match &action.answer {
            Answer::Paid(paid) => {
                let receipt = paid.receipt.receipt_msg_id;
                if charges.len() != 1 {
                    verdict.mismatches.push(format!(
                        "purchase {n}: expected (tgpay: paid, receipt {receipt:?}) exactly 1 \
                         charge; ledger: {}",
                        ledger()
                    ));
                } else if receipt != Some(charges[0].receipt_msg_id) {
                    verdict.mismatches.push(format!(
                        "purchase {n}: tgpay: paid with receipt {receipt:?}; ledger: {}",
                        ledger()
                    ));
                }
            }
            Answer::NotCharged(why) => {
                if !charges.is_empty() {
                    verdict.mismatches.push(format!(
                        "purchase {n}: expected (tgpay: not charged — {why}) no charge; \
                         ledger: {}",
                        ledger()
                    ));
                }
            }
            Answer::Unsettled(_) => {}
        }
        return;
    }

    // Several identical purchases at once.
    let receipts: Vec<Option<i32>> = actions
        .iter()
        .filter_map(|(_, a)| match &a.answer {
            Answer::Paid(paid) => Some(paid.receipt.receipt_msg_id),
            _ => None,
        })
        .collect();
    if receipts.len() != charges.len() {
        verdict.mismatches.push(format!(
            "expected (tgpay: {} of {} paid) as many charges; ledger: {}",
            receipts.len(),
            actions.len(),
            ledger()
        ));
    }
    for (i, receipt) in receipts.iter().enumerate() {
        if !charges.iter().any(|c| Some(c.receipt_msg_id) == *receipt) {
            verdict.mismatches.push(format!(
                "tgpay: paid with receipt {receipt:?}, which is no new charge; ledger: {}",
                ledger()
            ));
        }
        if receipts[..i].contains(receipt) {
            verdict.mismatches.push(format!(
                "tgpay: two purchases paid with the same receipt {receipt:?}; ledger: {}",
                ledger()
            ));
        }
    }
}
