//! Card tokens, the gateway page's view of a form and 3-D Secure verifications.

use super::*;

impl World {
    /// Registers a card token the provider issued (the sandbox's tokenizer and gateway page).
    ///
    /// A token can be charged for [`CARD_TOKEN_LIFETIME`]; at most [`MAX_CARD_TOKENS`] are
    /// kept (the oldest goes first), so a page that tokenizes forever holds bounded memory.
    pub fn register_card_token(&mut self, outcome: CardOutcome, title: &str) -> String {
        let now = self.now();
        let oldest_kept = now - CARD_TOKEN_LIFETIME.as_secs() as i64;
        while let Some((issued, old)) = self.token_order.front() {
            if *issued >= oldest_kept && self.token_order.len() < MAX_CARD_TOKENS {
                break;
            }
            self.tokens.remove(old);
            self.token_order.pop_front();
        }
        let token = format!("tok_sandbox_{}", random_hex(12));
        self.tokens
            .insert(token.clone(), (outcome, title.to_owned()));
        self.token_order.push_back((now, token.clone()));
        token
    }

    /// How many issued card tokens the world keeps.
    pub fn card_tokens(&self) -> usize {
        self.tokens.len()
    }

    /// A payment form by its id (the last part of the form's `url`), for the gateway page.
    pub fn gateway(&self, form_id: i64) -> Option<GatewayView> {
        let form = self.forms.get(&form_id)?;
        let invoice = self.invoices.get(form.key.invoice)?;
        let merchant = self.merchants.get(&invoice.spec.merchant)?;
        let expired = self.now() - form.created > self.form_lifetime;
        let state = match form.state {
            FormState::Verifying(_) => GatewayState::Verifying,
            FormState::Paid => GatewayState::Paid,
            FormState::Closed => GatewayState::Closed,
            FormState::Open if expired => GatewayState::Closed,
            FormState::Open => GatewayState::Open,
        };
        Some(GatewayView {
            merchant: merchant.spec.name.clone(),
            title: invoice.spec.title.clone(),
            description: invoice.spec.description.clone(),
            currency: invoice.spec.currency.clone(),
            total_amount: form.total,
            state,
        })
    }

    /// A 3-D Secure verification by its token (the id in the verification URL).
    pub fn verification(&self, token: &str) -> Option<VerificationView> {
        let p = self.pending.get(token)?;
        let invoice = self.invoices.get(p.order.key.invoice)?;
        let merchant = self.merchants.get(&invoice.spec.merchant)?;
        Some(VerificationView {
            merchant: merchant.spec.name.clone(),
            title: invoice.spec.title.clone(),
            currency: invoice.spec.currency.clone(),
            total_amount: p.order.total,
            credentials_title: p.order.credentials_title.clone(),
            state: match p.state {
                VerificationState::Pending
                    if self.now() - p.created > self.verification_lifetime =>
                {
                    VerificationState::Failed
                }
                state => state,
            },
        })
    }

    /// Completes a 3-D Secure verification: the payment goes through and the receipt updates
    /// are pushed to the user's sessions. Returns the charge, or `None` when the verification
    /// is unknown, expired or already finished.
    pub fn confirm_verification(&mut self, token: &str) -> Option<Charge> {
        let now = self.now();
        let pending = self.pending.get_mut(token)?;
        if pending.state != VerificationState::Pending {
            return None;
        }
        if now - pending.created > self.verification_lifetime {
            pending.state = VerificationState::Failed;
            return None;
        }
        pending.state = VerificationState::Confirmed;
        let (user, form_id, order) = (pending.user, pending.form_id, pending.order.clone());
        let (charge, updates) = self
            .complete_payment(user, form_id, order, ChargeKind::Card)
            .ok()?;
        self.outbox.push(Push { user, updates });
        self.charges.get(charge).cloned()
    }

    /// Fails a 3-D Secure verification: nothing is charged, the form can be paid again with a
    /// new one, and the user's sessions get a service notification saying so.
    pub fn fail_verification(&mut self, token: &str) -> bool {
        let now = to_i32(self.now());
        let Some(pending) = self.pending.get_mut(token) else {
            return false;
        };
        if pending.state != VerificationState::Pending {
            return false;
        }
        pending.state = VerificationState::Failed;
        let (user, form_id) = (pending.user, pending.form_id);
        if let Some(form) = self.forms.get_mut(&form_id) {
            form.state = FormState::Closed;
        }
        // The notification links the verification page it is about, so that a client waiting
        // on another payment of the same account does not take it for its own.
        let url = format!("{}/3ds/{token}", self.web_base);
        let updates = tl_make::updates(
            vec![tl_make::service_notification_linking(
                tl_make::NOTIFY_VERIFICATION_FAILED,
                "Payment failed: the bank could not verify the card (3-D Secure).",
                &url,
                now,
            )],
            Vec::new(),
            now,
        );
        self.outbox.push(Push { user, updates });
        true
    }
}
