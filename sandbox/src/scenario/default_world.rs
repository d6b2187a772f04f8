//! The built-in world: Alice and Bob, the Sandbox Shop and the Star Shop.

use super::*;

impl Scenario {
    /// The built-in world: every flow tgpay supports has something to pay here.
    ///
    /// - Alice ([`ALICE`]): 2FA password [`ALICE_PASSWORD`], saved order info, a saved Visa,
    ///   500 Stars.
    /// - Bob ([`BOB`]): no password, nothing saved, 10 Stars.
    /// - Sandbox Shop ([`SHOP_BOT`], Stripe-style native provider): `hoodie` (flexible shipping,
    ///   name/phone/email/address, tips), `ebook` (plain card invoice), `club` (recurring),
    ///   `sold-out` (pre-checkout always rejects).
    /// - Star Shop ([`STARS_BOT`]): `sticker-pack` (50 Stars), `golden-frame` (1500 Stars).
    ///
    /// Logging in (`auth.sendCode` with the user's phone, `+1 555 000 0001` for Alice and
    /// `+1 555 000 0002` for Bob) takes the code [`DEFAULT_LOGIN_CODE`], then Alice's 2FA
    /// password.
    pub fn default_world() -> Self {
        let price = |label: &str, amount| PriceSpec {
            label: label.to_owned(),
            amount,
        };
        let both = vec![ALICE, BOB];
        let card_invoice = |slug: &str, title: &str, prices| InvoiceSpec {
            slug: slug.to_owned(),
            merchant: SHOP_BOT,
            title: title.to_owned(),
            description: String::new(),
            photo_url: None,
            currency: "USD".to_owned(),
            prices,
            name_requested: false,
            phone_requested: false,
            email_requested: false,
            shipping_address_requested: false,
            flexible: false,
            phone_to_provider: false,
            email_to_provider: false,
            max_tip_amount: None,
            suggested_tip_amounts: Vec::new(),
            recurring: false,
            terms_url: None,
            test: true,
            precheckout_reject: None,
            message_for: both.clone(),
        };
        let hoodie = InvoiceSpec {
            description: "Warm, soft, and very orange.".to_owned(),
            photo_url: Some("https://sandbox.tgpay.invalid/hoodie.jpg".to_owned()),
            name_requested: true,
            phone_requested: true,
            email_requested: true,
            shipping_address_requested: true,
            flexible: true,
            max_tip_amount: Some(1000),
            suggested_tip_amounts: vec![100, 300, 500],
            ..card_invoice(
                "hoodie",
                "Sandbox Hoodie",
                vec![price("Hoodie", 3999), price("Gift wrapping", 250)],
            )
        };
        let ebook = InvoiceSpec {
            description: "A short book about long payments.".to_owned(),
            ..card_invoice("ebook", "Payments, Explained", vec![price("E-book", 499)])
        };
        let club = InvoiceSpec {
            description: "Monthly membership.".to_owned(),
            recurring: true,
            terms_url: Some("https://sandbox.tgpay.invalid/terms".to_owned()),
            ..card_invoice("club", "Sandbox Club", vec![price("One month", 999)])
        };
        let sold_out = InvoiceSpec {
            description: "Everyone wants one.".to_owned(),
            precheckout_reject: Some("Sorry, this item just sold out.".to_owned()),
            ..card_invoice("sold-out", "Limited Edition Mug", vec![price("Mug", 1500)])
        };
        let stars_invoice = |slug: &str, title: &str, amount| InvoiceSpec {
            merchant: STARS_BOT,
            currency: "XTR".to_owned(),
            test: false,
            ..card_invoice(slug, title, vec![price(title, amount)])
        };
        let mut sticker_pack = stars_invoice("sticker-pack", "Sticker Pack", 50);
        sticker_pack.description = "Twelve animated stickers.".to_owned();
        let mut golden_frame = stars_invoice("golden-frame", "Golden Frame", 1500);
        golden_frame.description = "A profile frame for the very generous.".to_owned();

        Scenario {
            users: vec![
                UserSpec {
                    id: ALICE,
                    first_name: "Alice".to_owned(),
                    last_name: Some("Sandbox".to_owned()),
                    username: Some("alice".to_owned()),
                    phone: Some("15550000001".to_owned()),
                    password: Some(ALICE_PASSWORD.to_owned()),
                    password_hint: Some("four common words".to_owned()),
                    stars: 500,
                    saved_info: Some(OrderInfoSpec {
                        name: Some("Alice Sandbox".to_owned()),
                        phone: Some("15550000001".to_owned()),
                        email: Some("alice@example.com".to_owned()),
                        shipping_address: Some(AddressSpec {
                            street_line1: "1 Infinite Loop".to_owned(),
                            street_line2: String::new(),
                            city: "Cupertino".to_owned(),
                            state: "CA".to_owned(),
                            country_iso2: "US".to_owned(),
                            post_code: "95014".to_owned(),
                        }),
                    }),
                    saved_cards: vec![SavedCardSpec {
                        id: "card_alice_visa".to_owned(),
                        title: "Visa *4242".to_owned(),
                        outcome: CardOutcome::Success,
                    }],
                    auth_key: None,
                },
                UserSpec {
                    id: BOB,
                    first_name: "Bob".to_owned(),
                    last_name: None,
                    username: Some("bob".to_owned()),
                    phone: Some("15550000002".to_owned()),
                    password: None,
                    password_hint: None,
                    stars: 10,
                    saved_info: None,
                    saved_cards: Vec::new(),
                    auth_key: None,
                },
            ],
            merchants: vec![
                MerchantSpec {
                    id: SHOP_BOT,
                    username: "SandboxShopBot".to_owned(),
                    name: "Sandbox Shop".to_owned(),
                    provider_id: default_provider_id(),
                    native_provider: Some("stripe".to_owned()),
                    native_params: Some(serde_json::json!({
                        "publishable_key": "pk_test_tgpay_sandbox",
                        "need_country": false,
                        "need_zip": false,
                        "need_cardholder_name": false
                    })),
                    can_save_credentials: true,
                    shipping: vec![
                        ShippingRuleSpec {
                            countries: vec!["US".to_owned(), "CA".to_owned()],
                            options: vec![
                                ShippingOptionSpec {
                                    id: "standard".to_owned(),
                                    title: "Standard (5-7 days)".to_owned(),
                                    prices: vec![price("Shipping", 499)],
                                },
                                ShippingOptionSpec {
                                    id: "express".to_owned(),
                                    title: "Express (1-2 days)".to_owned(),
                                    prices: vec![price("Shipping", 1299), price("Insurance", 150)],
                                },
                            ],
                        },
                        ShippingRuleSpec {
                            countries: vec!["GB".to_owned(), "DE".to_owned(), "FR".to_owned()],
                            options: vec![ShippingOptionSpec {
                                id: "international".to_owned(),
                                title: "International (7-14 days)".to_owned(),
                                prices: vec![price("Shipping", 1999)],
                            }],
                        },
                    ],
                    reject_countries: vec!["FR".to_owned()],
                    reject_reason: "Sorry, we can't ship to France right now.".to_owned(),
                },
                MerchantSpec {
                    id: STARS_BOT,
                    username: "SandboxStarsBot".to_owned(),
                    name: "Star Shop".to_owned(),
                    provider_id: 0,
                    native_provider: None,
                    native_params: None,
                    can_save_credentials: false,
                    shipping: Vec::new(),
                    reject_countries: Vec::new(),
                    reject_reason: default_reject_reason(),
                },
            ],
            invoices: vec![hoodie, ebook, club, sold_out, sticker_pack, golden_frame],
            stars_topup_options: default_topup_options(),
            faults: Vec::new(),
            login_code: default_login_code(),
            form_lifetime_secs: default_lifetime(),
            verification_lifetime_secs: default_lifetime(),
        }
    }
}

impl Default for Scenario {
    fn default() -> Self {
        Self::default_world()
    }
}
