//! The world's state rendered as TL: users, invoices, messages, prices, order info and Stars
//! transactions.

use super::*;

pub(super) fn prices_tl(prices: &[PriceSpec]) -> Vec<tl::enums::LabeledPrice> {
    prices
        .iter()
        .map(|p| {
            tl::types::LabeledPrice {
                label: p.label.clone(),
                amount: p.amount,
            }
            .into()
        })
        .collect()
}

pub(super) fn shipping_option_tl(o: &ShippingOptionSpec) -> tl::enums::ShippingOption {
    tl::types::ShippingOption {
        id: o.id.clone(),
        title: o.title.clone(),
        prices: prices_tl(&o.prices),
    }
    .into()
}

pub(super) fn info_tl(info: &OrderInfoSpec) -> tl::enums::PaymentRequestedInfo {
    tl::types::PaymentRequestedInfo {
        name: info.name.clone(),
        phone: info.phone.clone(),
        email: info.email.clone(),
        shipping_address: info.shipping_address.as_ref().map(|a| {
            tl::types::PostAddress {
                street_line1: a.street_line1.clone(),
                street_line2: a.street_line2.clone(),
                city: a.city.clone(),
                state: a.state.clone(),
                country_iso2: a.country_iso2.clone(),
                post_code: a.post_code.clone(),
            }
            .into()
        }),
    }
    .into()
}

pub(super) fn info_from_tl(info: tl::enums::PaymentRequestedInfo) -> OrderInfoSpec {
    let tl::enums::PaymentRequestedInfo::Info(info) = info;
    OrderInfoSpec {
        name: info.name,
        phone: info.phone,
        email: info.email,
        shipping_address: info.shipping_address.map(|a| {
            let tl::enums::PostAddress::Address(a) = a;
            AddressSpec {
                street_line1: a.street_line1,
                street_line2: a.street_line2,
                city: a.city,
                state: a.state,
                country_iso2: a.country_iso2,
                post_code: a.post_code,
            }
        }),
    }
}

impl World {
    /// The TL user object of `id` as `viewer` sees it.
    pub fn user_tl(&self, viewer: i64, id: i64) -> Option<tl::enums::User> {
        if let Some(m) = self.merchants.get(&id) {
            return Some(tl_make::user(UserView {
                id,
                access_hash: m.access_hash,
                first_name: &m.spec.name,
                last_name: None,
                username: Some(&m.spec.username),
                phone: None,
                is_self: false,
                bot: true,
            }));
        }
        let a = self.users.get(&id)?;
        Some(tl_make::user(UserView {
            id,
            access_hash: a.access_hash,
            first_name: &a.first_name,
            last_name: a.last_name.as_deref(),
            username: a.username.as_deref(),
            phone: a.phone.as_deref(),
            is_self: id == viewer,
            bot: false,
        }))
    }

    pub(super) fn users_tl(
        &self,
        viewer: i64,
        ids: impl IntoIterator<Item = i64>,
    ) -> Vec<tl::enums::User> {
        let mut seen = Vec::new();
        ids.into_iter()
            .filter(|id| {
                let new = !seen.contains(id);
                seen.push(*id);
                new
            })
            .filter_map(|id| self.user_tl(viewer, id))
            .collect()
    }

    pub(super) fn invoice_tl(&self, invoice: &InvoiceState) -> tl::enums::Invoice {
        let s = &invoice.spec;
        let tips = s.max_tip_amount.is_some();
        tl::types::Invoice {
            test: s.test,
            name_requested: s.name_requested,
            phone_requested: s.phone_requested,
            email_requested: s.email_requested,
            shipping_address_requested: s.shipping_address_requested,
            flexible: s.flexible,
            phone_to_provider: s.phone_to_provider,
            email_to_provider: s.email_to_provider,
            recurring: s.recurring,
            currency: s.currency.clone(),
            prices: prices_tl(&s.prices),
            max_tip_amount: s.max_tip_amount,
            suggested_tip_amounts: tips.then(|| s.suggested_tip_amounts.clone()),
            terms_url: s.terms_url.clone(),
            subscription_period: None,
        }
        .into()
    }

    pub(super) fn message_tl(
        &self,
        user: i64,
        id: i32,
        stored: &Stored,
    ) -> Option<tl::enums::Message> {
        match stored {
            Stored::Invoice {
                bot,
                invoice,
                date,
                receipt_msg_id,
                edit_date,
            } => {
                let inv = self.invoices.get(*invoice)?;
                let total = inv.total().ok()?;
                let media = tl::types::MessageMediaInvoice {
                    shipping_address_requested: inv.spec.shipping_address_requested,
                    test: inv.spec.test,
                    title: inv.spec.title.clone(),
                    description: inv.spec.description.clone(),
                    photo: inv.spec.photo_url.as_deref().map(tl_make::web_photo),
                    receipt_msg_id: *receipt_msg_id,
                    currency: inv.spec.currency.clone(),
                    total_amount: total,
                    start_param: inv.spec.slug.clone(),
                    extended_media: None,
                };
                let button = if inv.is_stars() {
                    format!("Pay ⭐{total}")
                } else {
                    "Pay".to_owned()
                };
                Some(tl_make::message(MessageView {
                    id,
                    peer: *bot,
                    from: *bot,
                    out: false,
                    date: *date,
                    text: String::new(),
                    media: Some(media.into()),
                    reply_markup: Some(tl_make::buy_keyboard(button)),
                    edit_date: *edit_date,
                }))
            }
            Stored::PaymentSent { bot, charge, date } => {
                let c = self.charges.get(*charge)?;
                let from_message = c.invoice_msg_id.is_some();
                let action = tl::types::MessageActionPaymentSent {
                    recurring_init: self
                        .slugs
                        .get(&c.invoice_slug)
                        .and_then(|i| self.invoices.get(*i))
                        .is_some_and(|i| i.spec.recurring),
                    recurring_used: false,
                    currency: c.currency.clone(),
                    total_amount: c.total_amount,
                    invoice_slug: (!from_message).then(|| c.invoice_slug.clone()),
                    subscription_until_date: None,
                };
                Some(tl_make::message_service(
                    id,
                    *bot,
                    user,
                    true,
                    *date,
                    action.into(),
                ))
            }
        }
    }

    pub(super) fn stored_message_tl(&self, user: i64, msg_id: i32) -> Option<tl::enums::Message> {
        let stored = self.users.get(&user)?.chat.get(&msg_id)?;
        self.message_tl(user, msg_id, stored)
    }

    pub(super) fn stars_entry_tl(&self, e: &StarsEntry) -> tl::enums::StarsTransaction {
        tl::types::StarsTransaction {
            refund: false,
            pending: false,
            failed: false,
            gift: false,
            reaction: false,
            stargift_upgrade: false,
            business_transfer: false,
            stargift_resale: false,
            posts_search: false,
            stargift_prepaid_upgrade: false,
            stargift_drop_original_details: false,
            phonegroup_message: false,
            stargift_auction_bid: false,
            offer: false,
            id: e.id.clone(),
            amount: tl::types::StarsAmount {
                amount: e.amount,
                nanos: 0,
            }
            .into(),
            date: e.date,
            peer: match e.peer {
                Some(bot) => tl::types::StarsTransactionPeer {
                    peer: tl_make::peer_user(bot),
                }
                .into(),
                None => tl::enums::StarsTransactionPeer::AppStore,
            },
            title: Some(e.title.clone()),
            description: None,
            photo: None,
            transaction_date: None,
            transaction_url: None,
            bot_payload: None,
            msg_id: e.msg_id,
            extended_media: None,
            subscription_period: None,
            giveaway_post_id: None,
            stargift: None,
            floodskip_number: None,
            starref_commission_permille: None,
            starref_peer: None,
            starref_amount: None,
            paid_messages: None,
            premium_gift_months: None,
            ads_proceeds_from_date: None,
            ads_proceeds_to_date: None,
        }
        .into()
    }
}
