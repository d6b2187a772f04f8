//! Paying: `payments.sendPaymentForm` for cards and Stars, pre-checkout, and completing a
//! payment into a charge, a receipt message and updates.

use super::*;

impl World {
    /// What a send pays: the invoice reference resolved, the total of the user's open form for
    /// it, and the invoice, which must be paid in Stars (`stars`) or not.
    fn form_invoice(
        &self,
        user: i64,
        input: &tl::enums::InputInvoice,
        form_id: i64,
        stars: bool,
    ) -> RpcResult<(InvoiceKey, i64, &InvoiceState)> {
        let key = self.resolve_invoice(user, input)?;
        let form_total = self.open_form(user, form_id, key)?.total;
        let invoice = self.invoice(key)?;
        if invoice.is_stars() != stars {
            return Err(RpcFail::bad("FORM_UNSUPPORTED"));
        }
        Ok((key, form_total, invoice))
    }

    /// `payments.sendPaymentForm`.
    pub fn send_payment_form(
        &mut self,
        user: i64,
        req: &tl::functions::payments::SendPaymentForm,
    ) -> RpcResult<tl::enums::payments::PaymentResult> {
        let (key, form_total, invoice) =
            self.form_invoice(user, &req.invoice, req.form_id, false)?;
        let merchant = self.merchant_of(invoice)?;

        // Order info and shipping.
        let validated = match &req.requested_info_id {
            Some(id) => Some(
                self.validated
                    .get(id)
                    .filter(|v| v.user == user && v.key == key)
                    .ok_or_else(|| RpcFail::bad("REQUESTED_INFO_INVALID"))?,
            ),
            None if invoice.requests_info() => {
                return Err(RpcFail::bad("REQUESTED_INFO_INVALID"));
            }
            None => None,
        };
        let shipping = match (&req.shipping_option_id, invoice.spec.flexible) {
            (Some(id), true) => Some(
                validated
                    .and_then(|v| v.options.iter().find(|o| &o.id == id))
                    .ok_or_else(|| RpcFail::bad("SHIPPING_OPTION_INVALID"))?,
            ),
            (None, true) | (Some(_), false) => {
                return Err(RpcFail::bad("SHIPPING_OPTION_INVALID"));
            }
            (None, false) => None,
        };
        let shipping_total = match shipping {
            Some(o) => sum_prices(&o.prices)?,
            None => 0,
        };

        // Tip.
        let tip = req.tip_amount.unwrap_or(0);
        let max_tip = invoice.spec.max_tip_amount.unwrap_or(0);
        if tip < 0 || tip > max_tip {
            return Err(RpcFail::bad("TIP_AMOUNT_INVALID"));
        }
        let total = form_total
            .checked_add(shipping_total)
            .and_then(|t| t.checked_add(tip))
            .filter(|t| *t <= MAX_AMOUNT)
            .ok_or_else(|| RpcFail::bad("INVOICE_INVALID"))?;

        // Credentials.
        let account = self.account(user)?;
        let now = self.now();
        let credentials =
            merchant::parse_credentials(&req.credentials, &self.tokens).map_err(RpcFail::bad)?;
        let (outcome, credentials_title, save_card) = match credentials {
            Credentials::Saved { id, tmp_password } => {
                let valid = account.tmp_passwords.iter().any(|t| {
                    t.valid_until > now
                        && t.secret.len() == tmp_password.len()
                        && merchant::constant_time_eq(&t.secret, &tmp_password)
                });
                if !valid {
                    return Err(RpcFail::bad("TMP_PASSWORD_INVALID"));
                }
                let card = account
                    .saved_cards
                    .iter()
                    .find(|c| c.id == id)
                    .ok_or_else(|| RpcFail::bad("PAYMENT_CREDENTIALS_ID_INVALID"))?;
                (card.outcome, card.title.clone(), None)
            }
            Credentials::New {
                outcome,
                title,
                save,
            } => {
                let save_card =
                    (save && merchant.spec.can_save_credentials && account.password.is_some())
                        .then(|| SavedCardSpec {
                            id: format!("card_{}", random_hex(8)),
                            title: title.clone(),
                            outcome,
                        });
                (outcome, title, save_card)
            }
        };

        let info = validated.map(|v| v.info.clone());
        let order = Order {
            key,
            total,
            tip,
            shipping: shipping.map(|o| o.id.clone()),
            info,
            credentials_title,
            save_card,
        };

        // The merchant's pre-checkout decision.
        if let Some(reason) = merchant::precheckout(&merchant.spec, &invoice.spec, &order.info) {
            self.notify_precheckout_failure(user, reason);
            return Err(RpcFail::bad("BOT_PRECHECKOUT_FAILED"));
        }

        match outcome {
            CardOutcome::Decline => Err(RpcFail::bad("PAYMENT_FAILED")),
            CardOutcome::ThreeDSecure => {
                let token = random_hex(16);
                let url = format!("{}/3ds/{token}", self.web_base);
                if let Some(form) = self.forms.get_mut(&req.form_id) {
                    form.state = FormState::Verifying(token.clone());
                }
                self.pending.insert(
                    token,
                    Pending {
                        user,
                        form_id: req.form_id,
                        order,
                        created: now,
                        state: VerificationState::Pending,
                    },
                );
                Ok(tl::types::payments::PaymentVerificationNeeded { url }.into())
            }
            CardOutcome::Success => {
                let (_, updates) =
                    self.complete_payment(user, req.form_id, order, ChargeKind::Card)?;
                Ok(tl::types::payments::PaymentResult { updates }.into())
            }
        }
    }

    pub(super) fn notify_precheckout_failure(&mut self, user: i64, reason: String) {
        let now = to_i32(self.now());
        let updates = tl_make::updates(
            vec![tl_make::service_notification(
                tl_make::NOTIFY_PRECHECKOUT_FAILED,
                reason,
                now,
            )],
            Vec::new(),
            now,
        );
        self.outbox.push(Push { user, updates });
    }

    /// `payments.sendStarsForm`.
    pub fn send_stars_form(
        &mut self,
        user: i64,
        req: &tl::functions::payments::SendStarsForm,
    ) -> RpcResult<tl::enums::payments::PaymentResult> {
        let (key, form_total, invoice) =
            self.form_invoice(user, &req.invoice, req.form_id, true)?;
        if invoice.total()? != form_total {
            return Err(RpcFail::new(406, "STARS_FORM_AMOUNT_MISMATCH"));
        }
        let merchant = self.merchant_of(invoice)?;
        if self.account(user)?.stars < form_total {
            return Err(RpcFail::bad("BALANCE_TOO_LOW"));
        }
        if let Some(reason) = merchant::precheckout(&merchant.spec, &invoice.spec, &None) {
            self.notify_precheckout_failure(user, reason);
            return Err(RpcFail::new(406, "PRECHECKOUT_FAILED"));
        }
        let order = Order {
            key,
            total: form_total,
            tip: 0,
            shipping: None,
            info: None,
            credentials_title: "Telegram Stars".to_owned(),
            save_card: None,
        };
        let (_, updates) = self.complete_payment(user, req.form_id, order, ChargeKind::Stars)?;
        Ok(tl::types::payments::PaymentResult { updates }.into())
    }

    /// Records a charge and its receipt messages; returns the charge index and the updates
    /// (`updateEditMessage` for a message invoice, `updateNewMessage` with
    /// `messageActionPaymentSent`, and `updateStarsBalance` for Stars).
    pub(super) fn complete_payment(
        &mut self,
        user: i64,
        form_id: i64,
        order: Order,
        kind: ChargeKind,
    ) -> RpcResult<(usize, tl::enums::Updates)> {
        let now = self.now();
        let date = to_i32(now);
        let serial = self.next_serial();
        let invoice = self.invoice(order.key)?;
        let bot = invoice.spec.merchant;
        let slug = invoice.spec.slug.clone();
        let currency = invoice.spec.currency.clone();
        let title = invoice.spec.title.clone();
        let charge_index = self.charges.len();

        let account = self.account_mut(user)?;
        if kind == ChargeKind::Stars {
            account.stars = account
                .stars
                .checked_sub(order.total)
                .filter(|b| *b >= 0)
                .ok_or_else(|| RpcFail::bad("BALANCE_TOO_LOW"))?;
        }
        let receipt_msg_id = account.next_msg_id;
        account.next_msg_id += 1;
        account.chat.insert(
            receipt_msg_id,
            Stored::PaymentSent {
                bot,
                charge: charge_index,
                date,
            },
        );
        if let Some((_, msg_id)) = order.key.message
            && let Some(Stored::Invoice {
                receipt_msg_id: r,
                edit_date,
                ..
            }) = account.chat.get_mut(&msg_id)
        {
            *r = Some(receipt_msg_id);
            *edit_date = Some(date);
        }
        if let Some(card) = order.save_card.clone() {
            account.saved_cards.push(card);
        }
        let stars_tx = (kind == ChargeKind::Stars).then(|| format!("stars_{serial}"));
        if let Some(id) = &stars_tx {
            account.ledger.push(StarsEntry {
                id: id.clone(),
                amount: -order.total,
                date,
                peer: Some(bot),
                title: title.clone(),
                msg_id: Some(receipt_msg_id),
            });
        }
        let balance = account.stars;

        self.charges.push(Charge {
            id: stars_tx.unwrap_or_else(|| format!("tg_charge_{serial}")),
            provider_charge_id: match kind {
                ChargeKind::Card => format!("ch_sandbox_{}", random_hex(8)),
                ChargeKind::Stars => String::new(),
            },
            kind,
            user,
            merchant: bot,
            invoice_slug: slug,
            invoice_msg_id: order.key.message.map(|(_, id)| id),
            form_id,
            currency,
            total_amount: order.total,
            tip_amount: order.tip,
            shipping_option_id: order.shipping.clone(),
            info: order.info.clone(),
            credentials_title: order.credentials_title.clone(),
            date,
            receipt_msg_id,
        });
        if let Some(form) = self.forms.get_mut(&form_id) {
            form.state = FormState::Paid;
        }
        tracing::info!(
            user,
            bot,
            total = order.total,
            ?kind,
            "sandbox charge recorded"
        );

        let mut updates = Vec::new();
        if let Some((_, msg_id)) = order.key.message
            && let Some(message) = self.stored_message_tl(user, msg_id)
        {
            let pts = self.bump_pts(user)?;
            let update: tl::enums::Update = tl::types::UpdateEditMessage {
                message,
                pts,
                pts_count: 1,
            }
            .into();
            self.log_update(user, pts, update.clone());
            updates.push(update);
        }
        if let Some(message) = self.stored_message_tl(user, receipt_msg_id) {
            let pts = self.bump_pts(user)?;
            let update: tl::enums::Update = tl::types::UpdateNewMessage {
                message,
                pts,
                pts_count: 1,
            }
            .into();
            self.log_update(user, pts, update.clone());
            updates.push(update);
        }
        if kind == ChargeKind::Stars {
            updates.push(
                tl::types::UpdateStarsBalance {
                    balance: tl::types::StarsAmount {
                        amount: balance,
                        nanos: 0,
                    }
                    .into(),
                }
                .into(),
            );
        }
        let users = self.users_tl(user, [bot, user]);
        Ok((charge_index, tl_make::updates(updates, users, date)))
    }
}
