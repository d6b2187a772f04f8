//! The sandbox's payments back end, driven by an unmodified grammers `Client` over TCP with raw
//! TL requests: every method, its documented errors, receipts, 3-D Secure over HTTP, 2FA with
//! SRP, Stars, scripted faults, and many clients at once.

#[path = "../../tests/common/mod.rs"]
mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::*;
use grammers_mtsender::{ConnectionParams, InvocationError, NoRetries};
use tgpay::error::CatalogEntry;
use tgpay::tl;
use tgpay_sandbox::api::METHODS;
use tgpay_sandbox::scenario::{ALICE, ALICE_PASSWORD, BOB, SHOP_BOT, STARS_BOT, UserSpec};
use tgpay_sandbox::world::{ChargeKind, Fault, FaultAction};
use tgpay_sandbox::{Sandbox, Scenario};

async fn sandbox() -> Sandbox {
    Sandbox::start(Scenario::default_world())
        .await
        .expect("the default world starts")
}

fn no_retries() -> ConnectionParams {
    ConnectionParams {
        retry_policy: Box::new(NoRetries),
        ..ConnectionParams::default()
    }
}

fn bot_peer(sandbox: &Sandbox, bot: i64) -> tl::enums::InputPeer {
    tl::types::InputPeerUser {
        user_id: bot,
        access_hash: sandbox.world().access_hash(bot).expect("a known bot"),
    }
    .into()
}

fn message_invoice(sandbox: &Sandbox, user: i64, slug: &str) -> tl::enums::InputInvoice {
    let (bot, msg_id, _) = sandbox
        .world()
        .invoice_messages(user)
        .into_iter()
        .find(|(_, _, s)| s == slug)
        .expect("the invoice is in the user's chat");
    tl::types::InputInvoiceMessage {
        peer: bot_peer(sandbox, bot),
        msg_id,
    }
    .into()
}

fn us_address() -> tl::enums::PostAddress {
    tl::types::PostAddress {
        street_line1: "1 Main St".into(),
        street_line2: String::new(),
        city: "Springfield".into(),
        state: "IL".into(),
        country_iso2: "US".into(),
        post_code: "62701".into(),
    }
    .into()
}

fn full_info(address: tl::enums::PostAddress) -> tl::enums::PaymentRequestedInfo {
    tl::types::PaymentRequestedInfo {
        name: Some("Carol Buyer".into()),
        phone: Some("+1 555 010 0000".into()),
        email: Some("carol@example.com".into()),
        shipping_address: Some(address),
    }
    .into()
}

fn validate(
    invoice: tl::enums::InputInvoice,
    info: tl::enums::PaymentRequestedInfo,
    save: bool,
) -> tl::functions::payments::ValidateRequestedInfo {
    tl::functions::payments::ValidateRequestedInfo {
        save,
        invoice,
        info,
    }
}

#[tokio::test]
async fn a_client_connects_as_its_user_and_sees_its_chat() {
    let sandbox = sandbox().await;
    let alice = sandbox.client(ALICE).unwrap();
    let me = call(
        &alice.client,
        &tl::functions::users::GetUsers {
            id: vec![tl::enums::InputUser::UserSelf],
        },
    )
    .await
    .unwrap();
    let [tl::enums::User::User(me)] = me.as_slice() else {
        panic!("one user expected: {me:?}");
    };
    assert_eq!((me.id, me.is_self), (ALICE, true));

    // The shop bot resolves by username, and its history holds Alice's invoice messages.
    let resolved = call(
        &alice.client,
        &tl::functions::contacts::ResolveUsername {
            username: "SandboxShopBot".into(),
            referer: None,
        },
    )
    .await
    .unwrap();
    let tl::enums::contacts::ResolvedPeer::Peer(resolved) = resolved;
    let tl::enums::User::User(bot) = &resolved.users[0] else {
        panic!("a bot user");
    };
    assert!(bot.bot);
    let history = call(
        &alice.client,
        &tl::functions::messages::GetHistory {
            peer: tl::types::InputPeerUser {
                user_id: bot.id,
                access_hash: bot.access_hash.unwrap(),
            }
            .into(),
            offset_id: 0,
            offset_date: 0,
            add_offset: 0,
            limit: 50,
            max_id: 0,
            min_id: 0,
            hash: 0,
        },
    )
    .await
    .unwrap();
    let tl::enums::messages::Messages::Messages(history) = history else {
        panic!("messages.messages expected");
    };
    let invoices: Vec<_> = history
        .messages
        .iter()
        .filter_map(|m| match m {
            tl::enums::Message::Message(m) => match &m.media {
                Some(tl::enums::MessageMedia::Invoice(i)) => {
                    let buy = matches!(
                        &m.reply_markup,
                        Some(tl::enums::ReplyMarkup::ReplyInlineMarkup(k))
                            if k.rows.iter().any(|r| {
                                let tl::enums::KeyboardInlineButtonRow::Row(r) = r;
                                r.buttons.iter().any(|b| {
                                    let tl::enums::KeyboardInlineButton::Button(b) = b;
                                    matches!(b.r#type, tl::enums::InlineButtonType::Buy)
                                })
                            })
                    );
                    Some((i.start_param.clone(), buy))
                }
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert_eq!(invoices.len(), 4, "{invoices:?}");
    assert!(invoices.iter().all(|(_, buy)| *buy));

    // messages.getMessages finds an invoice by id; unknown ids come back empty.
    let (_, msg_id, _) = sandbox.world().invoice_messages(ALICE)[0].clone();
    let found = call(
        &alice.client,
        &tl::functions::messages::GetMessages {
            id: vec![
                tl::types::InputMessageId { id: msg_id }.into(),
                tl::types::InputMessageId { id: 424242 }.into(),
            ],
        },
    )
    .await
    .unwrap();
    let tl::enums::messages::Messages::Messages(found) = found else {
        panic!("messages.messages expected");
    };
    assert!(matches!(&found.messages[0], tl::enums::Message::Message(m) if m.id == msg_id));
    assert!(matches!(&found.messages[1], tl::enums::Message::Empty(_)));
    assert!(!found.users.is_empty());

    let state = call(&alice.client, &tl::functions::updates::GetState {})
        .await
        .unwrap();
    let tl::enums::updates::State::State(state) = state;
    assert!(state.pts >= 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn card_forms_carry_saved_data_and_provider_details() {
    let sandbox = sandbox().await;
    let alice = sandbox.client(ALICE).unwrap();
    let form = card_form(
        call(&alice.client, &get_form(slug("hoodie")))
            .await
            .unwrap(),
    );
    assert_eq!(form.bot_id, SHOP_BOT);
    assert!(form.can_save_credentials && !form.password_missing);
    assert_eq!(form.native_provider.as_deref(), Some("stripe"));
    let tl::enums::DataJson::Json(params) = form.native_params.unwrap();
    assert!(params.data.contains("pk_test_"));
    assert!(form.url.starts_with(&sandbox.web_base_url()));
    assert!(form.saved_info.is_some());
    assert_eq!(form.saved_credentials.unwrap().len(), 1);
    let tl::enums::Invoice::Invoice(invoice) = form.invoice;
    assert!(invoice.flexible && invoice.name_requested && invoice.email_requested);
    assert_eq!(invoice.max_tip_amount, Some(1000));
    assert_eq!(invoice.currency, "USD");

    // Bob has no 2FA password: the form says saving needs one.
    let bob = sandbox.client(BOB).unwrap();
    let form = card_form(call(&bob.client, &get_form(slug("ebook"))).await.unwrap());
    assert!(!form.can_save_credentials && form.password_missing);
    assert!(form.saved_info.is_none() && form.saved_credentials.is_none());

    // Stars invoices get Stars forms, by slug and from the message.
    let stars = call(&alice.client, &get_form(slug("sticker-pack")))
        .await
        .unwrap();
    assert!(matches!(
        stars,
        tl::enums::payments::PaymentForm::Stars(ref f) if f.bot_id == STARS_BOT
    ));
    let from_message = call(
        &alice.client,
        &get_form(message_invoice(&sandbox, ALICE, "sticker-pack")),
    )
    .await
    .unwrap();
    assert!(matches!(
        from_message,
        tl::enums::payments::PaymentForm::Stars(_)
    ));

    // Unknown slugs and messages.
    assert_eq!(
        rpc_name(call(&alice.client, &get_form(slug("no-such-thing"))).await),
        "SLUG_INVALID"
    );
    let wrong_message = tl::types::InputInvoiceMessage {
        peer: bot_peer(&sandbox, SHOP_BOT),
        msg_id: 9999,
    };
    assert_eq!(
        rpc_name(call(&alice.client, &get_form(wrong_message.into())).await),
        "MESSAGE_ID_INVALID"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn order_info_is_validated_field_by_field_and_shipping_depends_on_country() {
    let sandbox = sandbox().await;
    let bob = sandbox.client(BOB).unwrap();
    let hoodie = || slug("hoodie");

    let ok = call(
        &bob.client,
        &validate(hoodie(), full_info(us_address()), false),
    )
    .await
    .unwrap();
    let tl::enums::payments::ValidatedRequestedInfo::Info(ok) = ok;
    assert!(ok.id.is_some());
    assert_eq!(ok.shipping_options.unwrap().len(), 2);

    let with = |f: fn(&mut tl::types::PaymentRequestedInfo)| {
        let tl::enums::PaymentRequestedInfo::Info(mut info) = full_info(us_address());
        f(&mut info);
        validate(hoodie(), info.into(), false)
    };
    let address = |f: fn(&mut tl::types::PostAddress)| -> tl::enums::PostAddress {
        let tl::enums::PostAddress::Address(mut a) = us_address();
        f(&mut a);
        a.into()
    };
    let cases = [
        (
            with(|i| i.name = Some(String::new())),
            "REQ_INFO_NAME_INVALID",
        ),
        (
            with(|i| i.phone = Some("call me".into())),
            "REQ_INFO_PHONE_INVALID",
        ),
        (
            with(|i| i.email = Some("carol".into())),
            "REQ_INFO_EMAIL_INVALID",
        ),
        (
            with(|i| i.shipping_address = None),
            "ADDRESS_STREET_LINE1_INVALID",
        ),
        (
            validate(hoodie(), full_info(address(|a| a.city.clear())), false),
            "ADDRESS_CITY_INVALID",
        ),
        (
            validate(
                hoodie(),
                full_info(address(|a| a.country_iso2 = "XX".into())),
                false,
            ),
            "ADDRESS_COUNTRY_INVALID",
        ),
        (
            validate(hoodie(), full_info(address(|a| a.state.clear())), false),
            "ADDRESS_STATE_INVALID",
        ),
        (
            validate(
                hoodie(),
                full_info(address(|a| a.post_code = "#".into())),
                false,
            ),
            "ADDRESS_POSTCODE_INVALID",
        ),
        (
            validate(
                hoodie(),
                full_info(address(|a| {
                    a.country_iso2 = "JP".into();
                    a.state.clear()
                })),
                false,
            ),
            "SHIPPING_NOT_AVAILABLE",
        ),
    ];
    for (request, expected) in cases {
        assert_eq!(rpc_name(call(&bob.client, &request).await), expected);
    }

    // Germany gets the international option only.
    let de = call(
        &bob.client,
        &validate(
            hoodie(),
            full_info(address(|a| {
                a.country_iso2 = "DE".into();
                a.state.clear()
            })),
            false,
        ),
    )
    .await
    .unwrap();
    let tl::enums::payments::ValidatedRequestedInfo::Info(de) = de;
    let ids: Vec<_> = de
        .shipping_options
        .unwrap()
        .into_iter()
        .map(|o| {
            let tl::enums::ShippingOption::Option(o) = o;
            o.id
        })
        .collect();
    assert_eq!(ids, ["international"]);

    // `save` stores the info; clearSavedInfo forgets it.
    call(
        &bob.client,
        &validate(hoodie(), full_info(us_address()), true),
    )
    .await
    .unwrap();
    let saved = call(&bob.client, &tl::functions::payments::GetSavedInfo {})
        .await
        .unwrap();
    let tl::enums::payments::SavedInfo::Info(saved) = saved;
    let Some(tl::enums::PaymentRequestedInfo::Info(saved)) = saved.saved_info else {
        panic!("saved info expected");
    };
    assert_eq!(saved.name.as_deref(), Some("Carol Buyer"));
    assert!(
        call(
            &bob.client,
            &tl::functions::payments::ClearSavedInfo {
                credentials: false,
                info: true,
            },
        )
        .await
        .unwrap()
    );
    assert!(sandbox.world().saved_info(BOB).is_none());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_card_payment_with_shipping_and_tip_charges_once_and_leaves_a_receipt() {
    let sandbox = sandbox().await;
    let bob = sandbox.client(BOB).unwrap();
    let invoice = message_invoice(&sandbox, BOB, "hoodie");
    let form = card_form(call(&bob.client, &get_form(invoice.clone())).await.unwrap());
    let validated = call(
        &bob.client,
        &validate(invoice.clone(), full_info(us_address()), false),
    )
    .await
    .unwrap();
    let tl::enums::payments::ValidatedRequestedInfo::Info(validated) = validated;

    let mut send = send_form(
        form.form_id,
        invoice.clone(),
        stripe_token("tok_sandbox_visa"),
    );
    // Missing order info, a shipping option not offered, and a tip over the max are refused.
    assert_eq!(
        rpc_name(call(&bob.client, &send).await),
        "REQUESTED_INFO_INVALID"
    );
    send.requested_info_id = validated.id.clone();
    send.shipping_option_id = Some("international".into());
    assert_eq!(
        rpc_name(call(&bob.client, &send).await),
        "SHIPPING_OPTION_INVALID"
    );
    send.shipping_option_id = Some("express".into());
    send.tip_amount = Some(1001);
    assert_eq!(
        rpc_name(call(&bob.client, &send).await),
        "TIP_AMOUNT_INVALID"
    );
    send.tip_amount = Some(300);
    assert!(sandbox.world().charges().is_empty());

    let updates = updates_of(call(&bob.client, &send).await.unwrap());
    let (receipt, edited) = receipt_ids(&updates.updates);
    let receipt = receipt.expect("a messageActionPaymentSent");
    assert_eq!(
        edited,
        Some(receipt),
        "the invoice message points at its receipt"
    );

    let charges = sandbox.world().charges().to_vec();
    assert_eq!(charges.len(), 1);
    let charge = &charges[0];
    // 3999 + 250 (prices) + 1299 + 150 (express) + 300 (tip)
    assert_eq!(charge.total_amount, 5998);
    assert_eq!((charge.tip_amount, charge.kind), (300, ChargeKind::Card));
    assert_eq!(charge.shipping_option_id.as_deref(), Some("express"));
    assert_eq!(charge.receipt_msg_id, receipt);

    // The receipt, by the service message and by the invoice message.
    for msg_id in [receipt, charge.invoice_msg_id.unwrap()] {
        let r = call(
            &bob.client,
            &tl::functions::payments::GetPaymentReceipt {
                peer: bot_peer(&sandbox, SHOP_BOT),
                msg_id,
            },
        )
        .await
        .unwrap();
        let tl::enums::payments::PaymentReceipt::Receipt(r) = r else {
            panic!("a card receipt");
        };
        assert_eq!((r.total_amount, r.tip_amount), (5998, Some(300)));
        assert_eq!(r.credentials_title, "Visa *4242");
        assert!(r.shipping.is_some() && r.info.is_some());
    }

    // Submitting again, or opening a paid invoice, never charges twice.
    assert_eq!(
        rpc_name(call(&bob.client, &send).await),
        "FORM_SUBMIT_DUPLICATE"
    );
    assert_eq!(
        rpc_name(call(&bob.client, &get_form(invoice)).await),
        "INVOICE_ALREADY_PAID"
    );
    assert_eq!(sandbox.world().charges().len(), 1);

    // The invoice message now carries its receipt; getDifference from before the payment
    // returns both updates.
    let diff = call(
        &bob.client,
        &tl::functions::updates::GetDifference {
            pts: 1,
            pts_limit: None,
            pts_total_limit: None,
            date: 0,
            qts: 0,
            qts_limit: None,
        },
    )
    .await
    .unwrap();
    let tl::enums::updates::Difference::Difference(diff) = diff else {
        panic!("a difference expected");
    };
    assert_eq!(diff.new_messages.len(), 1);
    assert_eq!(diff.other_updates.len(), 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn declined_cards_and_rejected_orders_charge_nothing() {
    let sandbox = sandbox().await;
    let mut alice = sandbox.client(ALICE).unwrap();
    let mut pushed = alice.updates.take().unwrap();

    let form = card_form(call(&alice.client, &get_form(slug("ebook"))).await.unwrap());
    let send = send_form(
        form.form_id,
        slug("ebook"),
        stripe_token("tok_sandbox_declined"),
    );
    assert_eq!(rpc_name(call(&alice.client, &send).await), "PAYMENT_FAILED");
    let send = send_form(
        form.form_id,
        slug("ebook"),
        stripe_token("tok_nobody_issued"),
    );
    assert_eq!(
        rpc_name(call(&alice.client, &send).await),
        "PAYMENT_CREDENTIALS_INVALID"
    );

    // Pre-checkout: the merchant refuses, and says why in a service notification.
    let form = card_form(
        call(&alice.client, &get_form(slug("sold-out")))
            .await
            .unwrap(),
    );
    let send = send_form(
        form.form_id,
        slug("sold-out"),
        stripe_token("tok_sandbox_visa"),
    );
    assert_eq!(
        rpc_name(call(&alice.client, &send).await),
        "BOT_PRECHECKOUT_FAILED"
    );
    let notification = wait_update(&mut pushed, |u| {
        matches!(u, tl::enums::Update::ServiceNotification(_))
    })
    .await;
    let tl::enums::Update::ServiceNotification(n) = notification else {
        unreachable!()
    };
    assert_eq!(n.message, "Sorry, this item just sold out.");
    assert!(sandbox.world().charges().is_empty());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn three_d_secure_is_confirmed_or_failed_on_the_web_page() {
    let sandbox = sandbox().await;
    let mut alice = sandbox.client(ALICE).unwrap();
    let mut pushed = alice.updates.take().unwrap();

    // Confirmed with a click on the page: the receipt updates are pushed.
    let form = card_form(call(&alice.client, &get_form(slug("ebook"))).await.unwrap());
    let send = send_form(form.form_id, slug("ebook"), stripe_token("tok_sandbox_3ds"));
    let url = verification_url(call(&alice.client, &send).await.unwrap());
    assert!(url.starts_with(&sandbox.connection_info().verification_base_url));
    let (status, page) = http("GET", &url, false).await;
    assert_eq!(status, 200);
    assert!(page.contains("Confirm") && page.contains("$4.99"), "{page}");
    assert!(sandbox.world().charges().is_empty());
    assert_eq!(
        rpc_name(call(&alice.client, &send).await),
        "FORM_SUBMIT_DUPLICATE"
    );
    let (status, body) = http("POST", &format!("{url}/confirm"), true).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("confirmed"));
    wait_update(&mut pushed, |u| {
        matches!(u, tl::enums::Update::NewMessage(m)
            if matches!(&m.message, tl::enums::Message::Service(_)))
    })
    .await;
    assert_eq!(sandbox.world().charges().len(), 1);
    // A second click changes nothing.
    let (status, _) = http("POST", &format!("{url}/confirm"), true).await;
    assert_eq!(status, 409);
    assert_eq!(sandbox.world().charges().len(), 1);

    // Failed: nothing charged, the user is told.
    let form = card_form(call(&alice.client, &get_form(slug("club"))).await.unwrap());
    let send = send_form(form.form_id, slug("club"), stripe_token("tok_sandbox_3ds"));
    let url = verification_url(call(&alice.client, &send).await.unwrap());
    let (status, _) = http("POST", &format!("{url}/fail"), true).await;
    assert_eq!(status, 200);
    wait_update(&mut pushed, |u| {
        matches!(u, tl::enums::Update::ServiceNotification(_))
    })
    .await;
    let (_, status_json) = http("GET", &format!("{url}/status"), true).await;
    assert!(status_json.contains("failed"), "{status_json}");
    assert_eq!(sandbox.world().charges().len(), 1);
    sandbox.shutdown().await;
}

async fn tmp_password(
    client: &grammers_client::Client,
    password: &str,
) -> Result<tl::enums::account::TmpPassword, InvocationError> {
    let tl::enums::account::Password::Password(params) =
        call(client, &tl::functions::account::GetPassword {})
            .await
            .unwrap();
    let check = tgpay::srp::check_password(&params, password.as_bytes()).expect("valid SRP");
    call(
        client,
        &tl::functions::account::GetTmpPassword {
            password: check,
            period: 600,
        },
    )
    .await
}

#[tokio::test]
async fn saved_cards_need_a_tmp_password_from_the_2fa_password() {
    let sandbox = sandbox().await;
    let alice = sandbox.client(ALICE).unwrap();

    assert_eq!(
        rpc_name(tmp_password(&alice.client, "wrong password").await),
        "PASSWORD_HASH_INVALID"
    );
    // An srp_id that was replaced by a newer getPassword is refused.
    let tl::enums::account::Password::Password(old) =
        call(&alice.client, &tl::functions::account::GetPassword {})
            .await
            .unwrap();
    assert_eq!(old.hint.as_deref(), Some("four common words"));
    let stale = tgpay::srp::check_password(&old, ALICE_PASSWORD.as_bytes()).unwrap();
    call(&alice.client, &tl::functions::account::GetPassword {})
        .await
        .unwrap();
    assert_eq!(
        rpc_name(
            call(
                &alice.client,
                &tl::functions::account::GetTmpPassword {
                    password: stale,
                    period: 600,
                },
            )
            .await
        ),
        "SRP_ID_INVALID"
    );

    let tl::enums::account::TmpPassword::Password(tmp) =
        tmp_password(&alice.client, ALICE_PASSWORD).await.unwrap();
    assert!(i64::from(tmp.valid_until) > sandbox.world().now());
    let saved = |secret: Vec<u8>| -> tl::enums::InputPaymentCredentials {
        tl::types::InputPaymentCredentialsSaved {
            id: "card_alice_visa".into(),
            tmp_password: secret,
        }
        .into()
    };
    let form = card_form(call(&alice.client, &get_form(slug("ebook"))).await.unwrap());
    let send = send_form(form.form_id, slug("ebook"), saved(b"not it".to_vec()));
    assert_eq!(
        rpc_name(call(&alice.client, &send).await),
        "TMP_PASSWORD_INVALID"
    );
    let send = send_form(form.form_id, slug("ebook"), saved(tmp.tmp_password.clone()));
    updates_of(call(&alice.client, &send).await.unwrap());
    assert_eq!(sandbox.world().charges()[0].credentials_title, "Visa *4242");

    // After its validity the tmp password stops working.
    sandbox.world().advance_clock(Duration::from_secs(601));
    let form = card_form(call(&alice.client, &get_form(slug("club"))).await.unwrap());
    let send = send_form(form.form_id, slug("club"), saved(tmp.tmp_password));
    assert_eq!(
        rpc_name(call(&alice.client, &send).await),
        "TMP_PASSWORD_INVALID"
    );
    assert_eq!(
        sandbox.world().call_count(ALICE, "account.getTmpPassword"),
        3
    );

    // Bob has no password at all.
    let bob = sandbox.client(BOB).unwrap();
    let tl::enums::account::Password::Password(none) =
        call(&bob.client, &tl::functions::account::GetPassword {})
            .await
            .unwrap();
    assert!(!none.has_password);
    assert!(matches!(
        tgpay::srp::check_password(&none, b"x"),
        Err(tgpay::srp::SrpError::NoPassword)
    ));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_new_card_is_saved_only_when_asked_and_allowed() {
    let sandbox = sandbox().await;
    let alice = sandbox.client(ALICE).unwrap();
    let form = card_form(call(&alice.client, &get_form(slug("ebook"))).await.unwrap());
    let credentials = web_credentials(r#"{"type":"card","id":"tok_sandbox_visa"}"#, true);
    updates_of(
        call(
            &alice.client,
            &send_form(form.form_id, slug("ebook"), credentials),
        )
        .await
        .unwrap(),
    );
    assert_eq!(sandbox.world().saved_cards(ALICE).len(), 2);

    // Bob can't save cards without a 2FA password; the payment still goes through.
    let bob = sandbox.client(BOB).unwrap();
    let form = card_form(call(&bob.client, &get_form(slug("ebook"))).await.unwrap());
    let credentials = web_credentials(r#"{"type":"card","id":"tok_sandbox_visa"}"#, true);
    updates_of(
        call(
            &bob.client,
            &send_form(form.form_id, slug("ebook"), credentials),
        )
        .await
        .unwrap(),
    );
    assert!(sandbox.world().saved_cards(BOB).is_empty());

    // Wallets.
    let form = card_form(call(&bob.client, &get_form(slug("club"))).await.unwrap());
    let apple: tl::enums::InputPaymentCredentials = tl::types::InputPaymentCredentialsApplePay {
        payment_data: tl::types::DataJson {
            data: r#"{"paymentData":{"version":"EC_v1"}}"#.into(),
        }
        .into(),
    }
    .into();
    updates_of(
        call(&bob.client, &send_form(form.form_id, slug("club"), apple))
            .await
            .unwrap(),
    );
    let form = card_form(call(&bob.client, &get_form(slug("club"))).await.unwrap());
    let google: tl::enums::InputPaymentCredentials = tl::types::InputPaymentCredentialsGooglePay {
        payment_token: tl::types::DataJson {
            data: r#"{"sandbox_outcome":"decline"}"#.into(),
        }
        .into(),
    }
    .into();
    assert_eq!(
        rpc_name(call(&bob.client, &send_form(form.form_id, slug("club"), google)).await),
        "PAYMENT_FAILED"
    );
    let titles: Vec<_> = sandbox
        .world()
        .charges()
        .iter()
        .map(|c| c.credentials_title.clone())
        .collect();
    assert_eq!(titles, ["Visa *4242", "Visa *4242", "Apple Pay"]);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn forms_expire_after_ten_minutes() {
    let sandbox = sandbox().await;
    let alice = sandbox.client(ALICE).unwrap();
    let form = card_form(call(&alice.client, &get_form(slug("ebook"))).await.unwrap());
    sandbox.world().advance_clock(Duration::from_secs(601));
    let send = send_form(
        form.form_id,
        slug("ebook"),
        stripe_token("tok_sandbox_visa"),
    );
    assert_eq!(rpc_name(call(&alice.client, &send).await), "FORM_EXPIRED");
    let send = send_form(0, slug("ebook"), stripe_token("tok_sandbox_visa"));
    assert_eq!(rpc_name(call(&alice.client, &send).await), "FORM_ID_EMPTY");
    assert!(sandbox.world().charges().is_empty());
    sandbox.shutdown().await;
}

fn send_stars(
    form_id: i64,
    invoice: tl::enums::InputInvoice,
) -> tl::functions::payments::SendStarsForm {
    tl::functions::payments::SendStarsForm { form_id, invoice }
}

#[tokio::test]
async fn stars_are_spent_from_the_balance_and_recorded_in_the_ledger() {
    let sandbox = sandbox().await;
    let alice = sandbox.client(ALICE).unwrap();
    let status = |client: &grammers_client::Client| {
        let client = client.clone();
        async move {
            let tl::enums::payments::StarsStatus::Status(s) = call(
                &client,
                &tl::functions::payments::GetStarsStatus {
                    ton: false,
                    peer: tl::enums::InputPeer::PeerSelf,
                },
            )
            .await
            .unwrap();
            let tl::enums::StarsAmount::Amount(balance) = s.balance else {
                panic!("a Stars amount");
            };
            balance.amount
        }
    };
    assert_eq!(status(&alice.client).await, 500);

    let form = call(&alice.client, &get_form(slug("sticker-pack")))
        .await
        .unwrap();
    // A card form's method refuses Stars forms.
    assert_eq!(
        rpc_name(
            call(
                &alice.client,
                &send_form(
                    form_id(&form),
                    slug("sticker-pack"),
                    stripe_token("tok_sandbox_visa")
                )
            )
            .await
        ),
        "FORM_UNSUPPORTED"
    );
    let updates = updates_of(
        call(
            &alice.client,
            &send_stars(form_id(&form), slug("sticker-pack")),
        )
        .await
        .unwrap(),
    );
    assert!(updates.updates.iter().any(|u| matches!(
        u,
        tl::enums::Update::StarsBalance(b)
            if matches!(&b.balance, tl::enums::StarsAmount::Amount(a) if a.amount == 450)
    )));
    assert_eq!(status(&alice.client).await, 450);
    let (receipt, _) = receipt_ids(&updates.updates);
    let receipt = call(
        &alice.client,
        &tl::functions::payments::GetPaymentReceipt {
            peer: bot_peer(&sandbox, STARS_BOT),
            msg_id: receipt.unwrap(),
        },
    )
    .await
    .unwrap();
    let tl::enums::payments::PaymentReceipt::Stars(receipt) = receipt else {
        panic!("a Stars receipt");
    };
    assert_eq!(
        (receipt.currency.as_str(), receipt.total_amount),
        ("XTR", 50)
    );

    // Too expensive.
    let form = call(&alice.client, &get_form(slug("golden-frame")))
        .await
        .unwrap();
    assert_eq!(
        rpc_name(
            call(
                &alice.client,
                &send_stars(form_id(&form), slug("golden-frame"))
            )
            .await
        ),
        "BALANCE_TOO_LOW"
    );
    // The price changed after the form was fetched.
    let form = call(&alice.client, &get_form(slug("sticker-pack")))
        .await
        .unwrap();
    assert!(sandbox.world().set_prices(
        "sticker-pack",
        vec![tgpay_sandbox::scenario::PriceSpec {
            label: "Sticker Pack".into(),
            amount: 60,
        }],
    ));
    assert_eq!(
        rpc_name(
            call(
                &alice.client,
                &send_stars(form_id(&form), slug("sticker-pack"))
            )
            .await
        ),
        "STARS_FORM_AMOUNT_MISMATCH"
    );
    assert_eq!(status(&alice.client).await, 450);

    // History pages, newest first.
    for _ in 0..2 {
        let form = call(&alice.client, &get_form(slug("sticker-pack")))
            .await
            .unwrap();
        call(
            &alice.client,
            &send_stars(form_id(&form), slug("sticker-pack")),
        )
        .await
        .unwrap();
    }
    let mut offset = String::new();
    let mut seen = Vec::new();
    loop {
        let tl::enums::payments::StarsStatus::Status(page) = call(
            &alice.client,
            &tl::functions::payments::GetStarsTransactions {
                inbound: false,
                outbound: true,
                ascending: false,
                ton: false,
                subscription_id: None,
                peer: tl::enums::InputPeer::PeerSelf,
                offset: offset.clone(),
                limit: 2,
            },
        )
        .await
        .unwrap();
        for tx in page.history.unwrap_or_default() {
            let tl::enums::StarsTransaction::Transaction(tx) = tx;
            let tl::enums::StarsAmount::Amount(a) = tx.amount else {
                panic!("a Stars amount");
            };
            seen.push(a.amount);
        }
        match page.next_offset {
            Some(next) => offset = next,
            None => break,
        }
    }
    assert_eq!(seen, [-60, -60, -50]);
    assert_eq!(sandbox.world().stars_balance(ALICE), Some(330));

    let options = call(
        &alice.client,
        &tl::functions::payments::GetStarsTopupOptions {},
    )
    .await
    .unwrap();
    assert_eq!(options.len(), 5);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_dropped_answer_after_the_charge_is_not_charged_twice() {
    let mut scenario = Scenario::default_world();
    scenario.faults.push(tgpay_sandbox::scenario::FaultSpec {
        method: "payments.sendStarsForm".into(),
        user: Some(ALICE),
        error: None,
        code: None,
        drop_connection: true,
        drop_unprocessed: false,
        after_processing: false,
        delay_ms: None,
        flood_wait_secs: None,
        times: 1,
    });
    let sandbox = Sandbox::start(scenario).await.unwrap();
    // grammers' default policy re-sends once after an I/O error: the re-send meets the
    // duplicate check.
    let alice = sandbox.client(ALICE).unwrap();
    let form = call(&alice.client, &get_form(slug("sticker-pack")))
        .await
        .unwrap();
    let result = call(
        &alice.client,
        &send_stars(form_id(&form), slug("sticker-pack")),
    )
    .await;
    assert_eq!(rpc_name(result), "FORM_SUBMIT_DUPLICATE");
    assert_eq!(sandbox.world().charges().len(), 1);
    assert_eq!(
        sandbox.world().call_count(ALICE, "payments.sendStarsForm"),
        2
    );
    assert_eq!(sandbox.world().stars_balance(ALICE), Some(450));

    // Without retries the client sees the I/O failure itself.
    sandbox.world().inject(Fault {
        method: "payments.sendStarsForm".into(),
        user: Some(ALICE),
        action: FaultAction::DropAfter,
        times: 1,
    });
    let alice = sandbox.client_with(ALICE, no_retries()).unwrap();
    let form = call(&alice.client, &get_form(slug("sticker-pack")))
        .await
        .unwrap();
    let result = call(
        &alice.client,
        &send_stars(form_id(&form), slug("sticker-pack")),
    )
    .await;
    assert!(
        !matches!(result, Ok(_) | Err(InvocationError::Rpc(_))),
        "{result:?}"
    );
    assert_eq!(sandbox.world().charges().len(), 2);
    sandbox.shutdown().await;
}

/// Every catalogued error of a method the sandbox implements reaches a grammers client by name
/// when a scenario scripts it.
#[tokio::test]
async fn every_catalogued_error_can_be_provoked_by_a_scenario() {
    let mut scenario = Scenario::default_world();
    let mut expected = Vec::new();
    for entry in CatalogEntry::all() {
        let methods: Vec<&str> = if entry.any_method() {
            vec!["payments.getSavedInfo"]
        } else {
            entry
                .methods()
                .iter()
                .copied()
                .filter(|m| METHODS.contains(m))
                .collect()
        };
        for method in methods {
            let wire = entry.wire_message(3);
            scenario.faults.push(tgpay_sandbox::scenario::FaultSpec {
                method: method.to_owned(),
                user: Some(BOB),
                error: Some(wire),
                code: Some(entry.code()),
                drop_connection: false,
                drop_unprocessed: false,
                after_processing: false,
                delay_ms: None,
                flood_wait_secs: None,
                times: 1,
            });
            expected.push((method, entry.name()));
        }
    }
    assert!(expected.len() > 60, "only {} rows scripted", expected.len());
    let sandbox = Sandbox::start(scenario).await.unwrap();
    let bob = sandbox.client_with(BOB, no_retries()).unwrap();
    let mut reached = HashSet::new();
    for (method, name) in &expected {
        let result = invoke_method(&sandbox, &bob.client, method).await;
        let Err(InvocationError::Rpc(e)) = result else {
            panic!("{method}: expected {name}, got {result:?}");
        };
        let got = tgpay::error::PaymentError::from(e.clone());
        assert_eq!(got.name(), Some(*name), "{method}: {e:?}");
        reached.insert((*method, *name));
    }
    assert_eq!(reached.len(), expected.len());
    sandbox.shutdown().await;
}

/// Calls `method` with plausible arguments; only its error matters here.
async fn invoke_method(
    sandbox: &Sandbox,
    client: &grammers_client::Client,
    method: &str,
) -> Result<(), InvocationError> {
    use tl::functions::{account, payments};
    let peer = tl::enums::InputPeer::PeerSelf;
    match method {
        "payments.getPaymentForm" => call(client, &get_form(slug("ebook"))).await.map(drop),
        "payments.validateRequestedInfo" => call(
            client,
            &validate(slug("hoodie"), full_info(us_address()), false),
        )
        .await
        .map(drop),
        "payments.sendPaymentForm" => call(
            client,
            &send_form(1, slug("ebook"), stripe_token("tok_sandbox_visa")),
        )
        .await
        .map(drop),
        "payments.sendStarsForm" => call(client, &send_stars(1, slug("sticker-pack")))
            .await
            .map(drop),
        "payments.getPaymentReceipt" => call(
            client,
            &payments::GetPaymentReceipt {
                peer: bot_peer(sandbox, SHOP_BOT),
                msg_id: 1,
            },
        )
        .await
        .map(drop),
        "payments.getSavedInfo" => call(client, &payments::GetSavedInfo {}).await.map(drop),
        "payments.clearSavedInfo" => call(
            client,
            &payments::ClearSavedInfo {
                credentials: true,
                info: true,
            },
        )
        .await
        .map(drop),
        "account.getPassword" => call(client, &account::GetPassword {}).await.map(drop),
        "account.getTmpPassword" => call(
            client,
            &account::GetTmpPassword {
                password: tl::enums::InputCheckPasswordSrp::InputCheckPasswordEmpty,
                period: 60,
            },
        )
        .await
        .map(drop),
        "payments.getStarsStatus" => call(
            client,
            &payments::GetStarsStatus {
                ton: false,
                peer: peer.clone(),
            },
        )
        .await
        .map(drop),
        "payments.getStarsTransactions" => call(
            client,
            &payments::GetStarsTransactions {
                inbound: false,
                outbound: false,
                ascending: false,
                ton: false,
                subscription_id: None,
                peer,
                offset: String::new(),
                limit: 10,
            },
        )
        .await
        .map(drop),
        "payments.getStarsTopupOptions" => call(client, &payments::GetStarsTopupOptions {})
            .await
            .map(drop),
        other => panic!("no call for {other}"),
    }
}

#[test]
fn the_catalog_covers_the_methods_the_sandbox_answers() {
    // Each payments method of the catalog is implemented (so its errors can be provoked).
    for entry in CatalogEntry::all() {
        for method in entry.methods() {
            assert!(
                METHODS.contains(method),
                "{method} (for {}) is not answered by the sandbox",
                entry.name()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_clients_buy_with_stars_at_once_and_each_is_charged_once() {
    let mut scenario = Scenario::default_world();
    let template = scenario.users[1].clone();
    let buyers: Vec<i64> = (0..64).map(|i| 2_000_000 + i).collect();
    for id in &buyers {
        scenario.users.push(UserSpec {
            id: *id,
            first_name: format!("Buyer {id}"),
            username: None,
            stars: 100,
            ..template.clone()
        });
    }
    let sandbox = Sandbox::start(scenario).await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for id in &buyers {
        let client = sandbox.client(*id).unwrap();
        tasks.spawn(async move {
            let form = call(&client.client, &get_form(slug("sticker-pack"))).await?;
            let result = call(
                &client.client,
                &send_stars(form_id(&form), slug("sticker-pack")),
            )
            .await?;
            drop(client);
            Ok::<_, InvocationError>(result)
        });
    }
    let mut done = 0;
    while let Some(result) = tasks.join_next().await {
        updates_of(result.unwrap().unwrap());
        done += 1;
    }
    assert_eq!(done, 64);
    {
        let world = sandbox.world();
        let charges = world.charges();
        assert_eq!(charges.len(), 64);
        let payers: HashSet<i64> = charges.iter().map(|c| c.user).collect();
        assert_eq!(payers, buyers.iter().copied().collect());
        for id in &buyers {
            assert_eq!(world.stars_balance(*id), Some(50));
            assert_eq!(world.stars_ledger(*id).len(), 1);
        }
    }
    sandbox.shutdown().await;
}

/// The faults Telegram produces, seen by a plain grammers client (no retries): an error after
/// the charge, a late answer on the same connection, negative codes, a flood wait held for real
/// seconds, and faults on the reads reconcile uses.
#[tokio::test]
async fn scripted_faults_behave_as_telegram_does_at_the_protocol_level() {
    let sandbox = sandbox().await;
    let alice = sandbox.client_with(ALICE, no_retries()).unwrap();
    let inject = |method: &str, action: FaultAction| {
        sandbox.world().inject(Fault {
            method: method.into(),
            user: Some(ALICE),
            action,
            times: 1,
        })
    };

    // Processed, then -503 Timeout: the error arrives, the charge is in the ledger.
    inject(
        "payments.sendStarsForm",
        FaultAction::ErrorAfter(tgpay_sandbox::world::RpcFail::new(-503, "Timeout")),
    );
    let form = call(&alice.client, &get_form(slug("sticker-pack")))
        .await
        .unwrap();
    let result = call(
        &alice.client,
        &send_stars(form_id(&form), slug("sticker-pack")),
    )
    .await;
    let Err(InvocationError::Rpc(e)) = result else {
        panic!("an RPC error expected, got {result:?}");
    };
    assert_eq!((e.code, e.name.as_str()), (-503, "Timeout"));
    assert_eq!(sandbox.world().charges_of(ALICE, "sticker-pack").len(), 1);

    // A late answer: processed at once, answered 600 ms later on the same connection; the
    // connection keeps serving meanwhile.
    inject(
        "payments.getStarsStatus",
        FaultAction::Delay(Duration::from_millis(600)),
    );
    let started = std::time::Instant::now();
    let status_request = tl::functions::payments::GetStarsStatus {
        ton: false,
        peer: tl::enums::InputPeer::PeerSelf,
    };
    let (late, quick) = tokio::join!(call(&alice.client, &status_request), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let answered = call(&alice.client, &tl::functions::updates::GetState {}).await;
        (answered, started.elapsed())
    });
    assert!(late.is_ok(), "{late:?}");
    assert!(started.elapsed() >= Duration::from_millis(600));
    assert!(quick.0.is_ok());
    assert!(quick.1 < Duration::from_millis(600), "{:?}", quick.1);

    // A flood wait held for real seconds: every call until then is refused, unprocessed.
    inject("messages.getHistory", FaultAction::Flood(1));
    let history = tl::functions::messages::GetHistory {
        peer: bot_peer(&sandbox, STARS_BOT),
        offset_id: 0,
        offset_date: 0,
        add_offset: 0,
        limit: 10,
        max_id: 0,
        min_id: 0,
        hash: 0,
    };
    for _ in 0..2 {
        let result = call(&alice.client, &history).await;
        let Err(InvocationError::Rpc(e)) = result else {
            panic!("a flood wait expected, got {result:?}");
        };
        assert_eq!(
            (e.code, e.name.as_str(), e.value),
            (420, "FLOOD_WAIT", Some(1))
        );
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(call(&alice.client, &history).await.is_ok());
    sandbox.shutdown().await;
}
