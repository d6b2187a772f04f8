//! Checking a run's answers against the sandbox's ledger (the charges of Alice for the run's
//! invoice that appeared during the run), never against tgpay's own words.
//!
//! - One purchase: paid ⇒ exactly one new charge, and it is the receipt tgpay names (whose
//!   `payments.getPaymentReceipt` total is the charge's); not charged ⇒ no new charge; no final
//!   answer ⇒ a mismatch.
//! - Several identical purchases at once: as many paid answers as new charges, each naming a
//!   different new charge; every answer final.
//! - Double charges: a purchase whose own forms were charged more than once, or more new charges
//!   than purchases.

use std::collections::HashMap;

use crate::plan::Plan;
use crate::run::{Answer, Report};

/// What a run's check found.
#[derive(Debug, Default)]
pub struct Verdict {
    /// Each disagreement between an answer and the ledger.
    pub mismatches: Vec<String>,
    /// Extra charges: purchases charged more than once.
    pub double_charges: usize,
}

fn receipt_of(answer: &Answer) -> Option<Option<i32>> {
    match answer {
        Answer::Paid(paid) => Some(paid.receipt.receipt_msg_id),
        _ => None,
    }
}

pub fn check(plan: &Plan, report: &Report) -> Verdict {
    let mut verdict = Verdict::default();
    let charges = &report.new_charges;
    let ledger = || {
        let list: Vec<String> = charges
            .iter()
            .map(|c| format!("receipt {} (form {})", c.receipt_msg_id, c.form_id))
            .collect();
        format!("{} new charge(s) [{}]", charges.len(), list.join(", "))
    };

    // Double charges: each charge belongs to the purchase whose attempt used its form.
    let mut owned: HashMap<usize, usize> = HashMap::new();
    for charge in charges {
        if let Some(owner) = report
            .actions
            .iter()
            .position(|a| a.forms.contains(&charge.form_id))
        {
            *owned.entry(owner).or_default() += 1;
        }
    }
    let per_purchase: usize = owned.values().map(|n| n.saturating_sub(1)).sum();
    let excess = charges.len().saturating_sub(report.actions.len());
    verdict.double_charges = per_purchase.max(excess);
    if verdict.double_charges > 0 {
        verdict.mismatches.push(format!(
            "{} purchase(s) of {}, ledger: {} — charged twice",
            report.actions.len(),
            report.slug,
            ledger()
        ));
    }

    for (i, action) in report.actions.iter().enumerate() {
        if let Answer::Unsettled(last) = &action.answer {
            verdict.mismatches.push(format!(
                "purchase {i}: no final answer within the settle limit (last: {last}); \
                 ledger: {}",
                ledger()
            ));
        }
        if let (Answer::Paid(paid), Some(total)) = (&action.answer, action.receipt_total) {
            let charge = charges
                .iter()
                .find(|c| Some(c.receipt_msg_id) == paid.receipt.receipt_msg_id);
            if let Some(charge) = charge
                && charge.total_amount != total
            {
                verdict.mismatches.push(format!(
                    "purchase {i}: its receipt says {total}, the charge is {}",
                    charge.total_amount
                ));
            }
        }
    }

    if plan.copies == 1 {
        let Some(action) = report.actions.first() else {
            verdict
                .mismatches
                .push("the purchase did not run".to_owned());
            return verdict;
        };
        match &action.answer {
            Answer::Paid(paid) => {
                let receipt = paid.receipt.receipt_msg_id;
                if charges.len() != 1 {
                    verdict.mismatches.push(format!(
                        "expected (tgpay: paid, receipt {receipt:?}) exactly 1 charge; ledger: {}",
                        ledger()
                    ));
                } else if receipt != Some(charges[0].receipt_msg_id) {
                    verdict.mismatches.push(format!(
                        "tgpay: paid with receipt {receipt:?}; ledger: {}",
                        ledger()
                    ));
                }
            }
            Answer::NotCharged(why) => {
                if !charges.is_empty() {
                    verdict.mismatches.push(format!(
                        "expected (tgpay: not charged — {why}) no charge; ledger: {}",
                        ledger()
                    ));
                }
            }
            Answer::Unsettled(_) => {}
        }
        return verdict;
    }

    // Several identical purchases at once.
    let receipts: Vec<Option<i32>> = report
        .actions
        .iter()
        .filter_map(|a| receipt_of(&a.answer))
        .collect();
    if receipts.len() != charges.len() {
        verdict.mismatches.push(format!(
            "expected (tgpay: {} of {} paid) as many charges; ledger: {}",
            receipts.len(),
            report.actions.len(),
            ledger()
        ));
    }
    for (n, receipt) in receipts.iter().enumerate() {
        let known = charges.iter().any(|c| Some(c.receipt_msg_id) == *receipt);
        if !known {
            verdict.mismatches.push(format!(
                "tgpay: paid with receipt {receipt:?}, which is no new charge; ledger: {}",
                ledger()
            ));
        }
        if receipts[..n].contains(receipt) {
            verdict.mismatches.push(format!(
                "tgpay: two purchases paid with the same receipt {receipt:?}; ledger: {}",
                ledger()
            ));
        }
    }
    verdict
}
