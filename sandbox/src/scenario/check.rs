//! Checking a scenario: unique ids, resolving references, sane amounts and lifetimes.

use super::*;

impl Scenario {
    /// Checks that ids are unique and references resolve.
    pub fn check(&self) -> Result<(), ScenarioError> {
        let invalid = |m: String| Err(ScenarioError::Invalid(m));
        let mut ids = std::collections::HashSet::new();
        for id in self
            .users
            .iter()
            .map(|u| u.id)
            .chain(self.merchants.iter().map(|m| m.id))
        {
            if id <= 0 {
                return invalid(format!("user and bot ids must be positive, got {id}"));
            }
            if !ids.insert(id) {
                return invalid(format!("id {id} is used twice"));
            }
        }
        for user in &self.users {
            if let Some(key) = &user.auth_key
                && (key.len() != 512 || !key.bytes().all(|b| b.is_ascii_hexdigit()))
            {
                return invalid(format!(
                    "user {}: auth_key must be 512 hex characters",
                    user.id
                ));
            }
        }
        for fault in &self.faults {
            let actions = [
                fault.error.is_some(),
                fault.drop_connection,
                fault.drop_unprocessed,
                fault.delay_ms.is_some(),
                fault.flood_wait_secs.is_some(),
            ];
            if actions.iter().filter(|a| **a).count() != 1 {
                return invalid(format!(
                    "fault on {}: give exactly one of `error`, `drop_connection = true`, \
                     `drop_unprocessed = true`, `delay_ms` or `flood_wait_secs`",
                    fault.method
                ));
            }
            if fault.flood_wait_secs.is_some_and(|s| s == 0 || s > 86_400) {
                return invalid(format!(
                    "fault on {}: `flood_wait_secs` is between 1 and 86400",
                    fault.method
                ));
            }
            if fault.after_processing && fault.error.is_none() {
                return invalid(format!(
                    "fault on {}: `after_processing` goes with `error`",
                    fault.method
                ));
            }
            if fault.error.as_deref().is_some_and(|e| {
                e.is_empty()
                    || e.len() > 128
                    || !e.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            }) {
                return invalid(format!(
                    "fault on {}: `error` must be an RPC error name like FORM_EXPIRED or Timeout",
                    fault.method
                ));
            }
            if fault.delay_ms.is_some_and(|ms| ms > 3_600_000) {
                return invalid(format!(
                    "fault on {}: `delay_ms` is at most 3600000 (an hour)",
                    fault.method
                ));
            }
        }
        for (name, secs) in [
            ("form_lifetime_secs", self.form_lifetime_secs),
            (
                "verification_lifetime_secs",
                self.verification_lifetime_secs,
            ),
        ] {
            if !(1..=86_400).contains(&secs) {
                return invalid(format!("{name} must be between 1 and 86400 seconds"));
            }
        }
        if self.login_code.is_empty() || !self.login_code.bytes().all(|b| b.is_ascii_digit()) {
            return invalid(
                "login_code must be a non-empty string of digits, like \"12345\"".into(),
            );
        }
        let mut slugs = std::collections::HashSet::new();
        for invoice in &self.invoices {
            if !self.merchants.iter().any(|m| m.id == invoice.merchant) {
                return invalid(format!(
                    "invoice {:?}: merchant {} is not in `merchants`",
                    invoice.slug, invoice.merchant
                ));
            }
            if invoice.slug.is_empty()
                || !invoice
                    .slug
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return invalid(format!(
                    "invoice slug {:?} must be non-empty letters, digits, `_` or `-`",
                    invoice.slug
                ));
            }
            if !slugs.insert(invoice.slug.as_str()) {
                return invalid(format!("invoice slug {:?} is used twice", invoice.slug));
            }
            if invoice.prices.is_empty() {
                return invalid(format!("invoice {:?} has no prices", invoice.slug));
            }
            if invoice.currency == "XTR" && invoice.prices.len() != 1 {
                return invalid(format!(
                    "Stars invoice {:?} must have exactly one price",
                    invoice.slug
                ));
            }
            for user in &invoice.message_for {
                if !self.users.iter().any(|u| u.id == *user) {
                    return invalid(format!(
                        "invoice {:?}: message_for user {user} is not in `users`",
                        invoice.slug
                    ));
                }
            }
        }
        Ok(())
    }
}
