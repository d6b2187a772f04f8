//! Payment forms: `payments.getPaymentForm`, `payments.validateRequestedInfo`, receipts and saved
//! order info.

use super::*;

impl World {
    /// The invoice a resolved reference points at.
    pub(super) fn invoice(&self, key: InvoiceKey) -> RpcResult<&InvoiceState> {
        self.invoices
            .get(key.invoice)
            .ok_or_else(|| RpcFail::bad("INVOICE_INVALID"))
    }

    /// The merchant bot selling an invoice.
    pub(super) fn merchant_of(&self, invoice: &InvoiceState) -> RpcResult<&Merchant> {
        self.merchants
            .get(&invoice.spec.merchant)
            .ok_or_else(|| RpcFail::bad("BOT_INVOICE_INVALID"))
    }

    pub(super) fn resolve_invoice(
        &self,
        user: i64,
        input: &tl::enums::InputInvoice,
    ) -> RpcResult<InvoiceKey> {
        match input {
            tl::enums::InputInvoice::Slug(s) => self
                .slugs
                .get(&s.slug)
                .map(|&invoice| InvoiceKey {
                    invoice,
                    message: None,
                })
                .ok_or_else(|| RpcFail::bad("SLUG_INVALID")),
            tl::enums::InputInvoice::Message(m) => {
                let bot = self.resolve_bot_peer(&m.peer)?;
                let account = self.account(user)?;
                match account.chat.get(&m.msg_id) {
                    Some(Stored::Invoice {
                        bot: owner,
                        invoice,
                        ..
                    }) if *owner == bot => Ok(InvoiceKey {
                        invoice: *invoice,
                        message: Some((bot, m.msg_id)),
                    }),
                    _ => Err(RpcFail::bad("MESSAGE_ID_INVALID")),
                }
            }
            _ => Err(RpcFail::bad("INVOICE_INVALID")),
        }
    }

    pub(super) fn resolve_bot_peer(&self, peer: &tl::enums::InputPeer) -> RpcResult<i64> {
        match peer {
            tl::enums::InputPeer::User(u) => match self.merchants.get(&u.user_id) {
                Some(m) if m.access_hash == u.access_hash => Ok(u.user_id),
                _ => Err(RpcFail::bad("PEER_ID_INVALID")),
            },
            _ => Err(RpcFail::bad("PEER_ID_INVALID")),
        }
    }

    pub(super) fn receipt_of(&self, user: i64, key: InvoiceKey) -> Option<i32> {
        let (_, msg_id) = key.message?;
        match self.users.get(&user)?.chat.get(&msg_id)? {
            Stored::Invoice { receipt_msg_id, .. } => *receipt_msg_id,
            Stored::PaymentSent { .. } => None,
        }
    }

    /// `payments.getPaymentForm`.
    pub fn get_payment_form(
        &mut self,
        user: i64,
        req: &tl::functions::payments::GetPaymentForm,
    ) -> RpcResult<tl::enums::payments::PaymentForm> {
        let key = self.resolve_invoice(user, &req.invoice)?;
        if self.receipt_of(user, key).is_some() {
            return Err(RpcFail::bad("INVOICE_ALREADY_PAID"));
        }
        let invoice = self.invoice(key)?;
        let total = invoice.total()?;
        let merchant = self.merchant_of(invoice)?;
        let account = self.account(user)?;
        let form_id = loop {
            let id = rand::random::<i64>() & i64::MAX;
            if id != 0 && !self.forms.contains_key(&id) {
                break id;
            }
        };
        let users = self.users_tl(user, [merchant.spec.id]);
        let photo = invoice.spec.photo_url.as_deref().map(tl_make::web_photo);
        let form: tl::enums::payments::PaymentForm = if invoice.is_stars() {
            tl::types::payments::PaymentFormStars {
                form_id,
                bot_id: merchant.spec.id,
                title: invoice.spec.title.clone(),
                description: invoice.spec.description.clone(),
                photo,
                invoice: self.invoice_tl(invoice),
                users,
            }
            .into()
        } else {
            let has_password = account.password.is_some();
            let can_save = merchant.spec.can_save_credentials;
            let saved_credentials = (!account.saved_cards.is_empty()).then(|| {
                account
                    .saved_cards
                    .iter()
                    .map(|c| {
                        tl::types::PaymentSavedCredentialsCard {
                            id: c.id.clone(),
                            title: c.title.clone(),
                        }
                        .into()
                    })
                    .collect()
            });
            tl::types::payments::PaymentForm {
                can_save_credentials: can_save && has_password,
                password_missing: can_save && !has_password,
                form_id,
                bot_id: merchant.spec.id,
                title: invoice.spec.title.clone(),
                description: invoice.spec.description.clone(),
                photo,
                invoice: self.invoice_tl(invoice),
                provider_id: merchant.spec.provider_id,
                url: format!("{}/pay/{form_id}", self.web_base),
                native_provider: merchant.spec.native_provider.clone(),
                native_params: merchant.spec.native_provider.as_ref().map(|_| {
                    tl::types::DataJson {
                        data: merchant
                            .spec
                            .native_params
                            .as_ref()
                            .map_or_else(|| "{}".to_owned(), |v| v.to_string()),
                    }
                    .into()
                }),
                additional_methods: None,
                saved_info: account.saved_info.as_ref().map(info_tl),
                saved_credentials,
                users,
            }
            .into()
        };
        let created = self.now();
        self.add_form(
            form_id,
            Form {
                user,
                key,
                created,
                total,
                state: FormState::Open,
            },
        );
        Ok(form)
    }

    /// `payments.validateRequestedInfo`.
    pub fn validate_requested_info(
        &mut self,
        user: i64,
        req: &tl::functions::payments::ValidateRequestedInfo,
    ) -> RpcResult<tl::enums::payments::ValidatedRequestedInfo> {
        let key = self.resolve_invoice(user, &req.invoice)?;
        let invoice = self.invoice(key)?;
        let info = info_from_tl(req.info.clone());
        merchant::check_order_info(&invoice.spec, &info).map_err(RpcFail::bad)?;
        let options = if invoice.spec.flexible {
            let merchant = self.merchant_of(invoice)?;
            let country = info
                .shipping_address
                .as_ref()
                .map(|a| a.country_iso2.as_str())
                .unwrap_or_default();
            let options = merchant::shipping_options(&merchant.spec, country);
            if options.is_empty() {
                return Err(RpcFail::bad("SHIPPING_NOT_AVAILABLE"));
            }
            options
        } else {
            Vec::new()
        };
        if req.save {
            self.account_mut(user)?.saved_info = Some(info.clone());
        }
        let id = random_hex(16);
        let answer = tl::types::payments::ValidatedRequestedInfo {
            id: Some(id.clone()),
            shipping_options: (!options.is_empty())
                .then(|| options.iter().map(shipping_option_tl).collect()),
        };
        let created = self.now();
        self.add_validated(
            id,
            Validated {
                created,
                user,
                key,
                info,
                options,
            },
        );
        Ok(answer.into())
    }

    /// Looks up a form for submission: it must be the user's, for this invoice, open and fresh.
    pub(super) fn open_form(&self, user: i64, form_id: i64, key: InvoiceKey) -> RpcResult<&Form> {
        if form_id == 0 {
            return Err(RpcFail::bad("FORM_ID_EMPTY"));
        }
        let form = self
            .forms
            .get(&form_id)
            .filter(|f| f.user == user)
            .ok_or_else(|| RpcFail::bad("FORM_EXPIRED"))?;
        if form.key != key {
            return Err(RpcFail::bad("INVOICE_INVALID"));
        }
        if self.now() - form.created > self.form_lifetime {
            return Err(RpcFail::bad("FORM_EXPIRED"));
        }
        if form.state != FormState::Open {
            return Err(RpcFail::bad("FORM_SUBMIT_DUPLICATE"));
        }
        if self.receipt_of(user, key).is_some() {
            return Err(RpcFail::bad("INVOICE_ALREADY_PAID"));
        }
        Ok(form)
    }

    /// `payments.getPaymentReceipt`.
    pub fn get_payment_receipt(
        &self,
        user: i64,
        req: &tl::functions::payments::GetPaymentReceipt,
    ) -> RpcResult<tl::enums::payments::PaymentReceipt> {
        let bot = self.resolve_bot_peer(&req.peer)?;
        let account = self.account(user)?;
        let charge_index = match account.chat.get(&req.msg_id) {
            Some(Stored::PaymentSent {
                bot: owner, charge, ..
            }) if *owner == bot => *charge,
            Some(Stored::Invoice {
                bot: owner,
                receipt_msg_id: Some(receipt),
                ..
            }) if *owner == bot => match account.chat.get(receipt) {
                Some(Stored::PaymentSent { charge, .. }) => *charge,
                _ => return Err(RpcFail::bad("MESSAGE_ID_INVALID")),
            },
            _ => return Err(RpcFail::bad("MESSAGE_ID_INVALID")),
        };
        let charge = self
            .charges
            .get(charge_index)
            .ok_or_else(|| RpcFail::bad("MESSAGE_ID_INVALID"))?;
        let invoice = self
            .slugs
            .get(&charge.invoice_slug)
            .and_then(|i| self.invoices.get(*i))
            .ok_or_else(|| RpcFail::bad("MESSAGE_ID_INVALID"))?;
        let merchant = self
            .merchants
            .get(&charge.merchant)
            .ok_or_else(|| RpcFail::bad("MESSAGE_ID_INVALID"))?;
        let users = self.users_tl(user, [charge.merchant]);
        let photo = invoice.spec.photo_url.as_deref().map(tl_make::web_photo);
        Ok(match charge.kind {
            ChargeKind::Stars => tl::types::payments::PaymentReceiptStars {
                date: charge.date,
                bot_id: charge.merchant,
                title: invoice.spec.title.clone(),
                description: invoice.spec.description.clone(),
                photo,
                invoice: self.invoice_tl(invoice),
                currency: charge.currency.clone(),
                total_amount: charge.total_amount,
                transaction_id: charge.id.clone(),
                users,
            }
            .into(),
            ChargeKind::Card => {
                let validated_options = merchant::shipping_options(
                    &merchant.spec,
                    charge
                        .info
                        .as_ref()
                        .and_then(|i| i.shipping_address.as_ref())
                        .map(|a| a.country_iso2.as_str())
                        .unwrap_or_default(),
                );
                tl::types::payments::PaymentReceipt {
                    date: charge.date,
                    bot_id: charge.merchant,
                    provider_id: merchant.spec.provider_id,
                    title: invoice.spec.title.clone(),
                    description: invoice.spec.description.clone(),
                    photo,
                    invoice: self.invoice_tl(invoice),
                    info: charge.info.as_ref().map(info_tl),
                    shipping: charge.shipping_option_id.as_ref().and_then(|id| {
                        validated_options
                            .iter()
                            .find(|o| &o.id == id)
                            .map(shipping_option_tl)
                    }),
                    tip_amount: (charge.tip_amount != 0).then_some(charge.tip_amount),
                    currency: charge.currency.clone(),
                    total_amount: charge.total_amount,
                    credentials_title: charge.credentials_title.clone(),
                    users,
                }
                .into()
            }
        })
    }

    /// `payments.getSavedInfo`.
    pub fn get_saved_info(&self, user: i64) -> RpcResult<tl::enums::payments::SavedInfo> {
        let account = self.account(user)?;
        Ok(tl::types::payments::SavedInfo {
            has_saved_credentials: !account.saved_cards.is_empty(),
            saved_info: account.saved_info.as_ref().map(info_tl),
        }
        .into())
    }

    /// `payments.clearSavedInfo`.
    pub fn clear_saved_info(
        &mut self,
        user: i64,
        req: &tl::functions::payments::ClearSavedInfo,
    ) -> RpcResult<bool> {
        let account = self.account_mut(user)?;
        if req.info {
            account.saved_info = None;
        }
        if req.credentials {
            account.saved_cards.clear();
            account.tmp_passwords.clear();
        }
        Ok(true)
    }
}
