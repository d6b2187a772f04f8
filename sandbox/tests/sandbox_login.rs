//! Logging in to the sandbox with an unmodified grammers `Client` on a guest key: the code, the
//! 2FA password over server-side SRP, the errors on the way, and logging out.

#[path = "../../tests/common/mod.rs"]
mod common;

use std::time::Duration;

use common::*;
use grammers_client::{Client, SignInError};
use grammers_mtsender::InvocationError;
use tgpay::tl;
use tgpay_sandbox::handle::{API_ID, GUEST_KEYS, key_hex};
use tgpay_sandbox::keys::UNBOUND_USER;
use tgpay_sandbox::scenario::{ALICE, ALICE_PASSWORD, BOB, DEFAULT_LOGIN_CODE};
use tgpay_sandbox::world::LOGIN_CODE_LIFETIME;
use tgpay_sandbox::{ConnectionInfo, Sandbox, Scenario};
use tokio::time::timeout;

const API_HASH: &str = "0123456789abcdef0123456789abcdef";
const ALICE_PHONE: &str = "+1 555 000 0001";
const BOB_PHONE: &str = "+1 555 000 0002";

async fn sandbox() -> Sandbox {
    Sandbox::start(Scenario::default_world())
        .await
        .expect("the default world starts")
}

async fn is_authorized(client: &Client) -> bool {
    timeout(WAIT, client.is_authorized())
        .await
        .expect("answered in time")
        .expect("is_authorized answers true or false")
}

async fn get_me_id(client: &Client) -> Option<i64> {
    let me = timeout(WAIT, client.get_me())
        .await
        .expect("answered in time")
        .expect("get_me works");
    me.id().bare_id()
}

fn rpc_error(result: Result<impl std::fmt::Debug, InvocationError>) -> (i32, String) {
    match result {
        Err(InvocationError::Rpc(e)) => (e.code, e.name),
        other => panic!("expected an RPC error, got {other:?}"),
    }
}

fn ebook_form() -> tl::functions::payments::GetPaymentForm {
    get_form(slug("ebook"))
}

fn guest_key_id(sandbox: &Sandbox, index: usize) -> i64 {
    sandbox.guest_keys()[index].key_id()
}

/// Sends the code request the way a client does, returning `phone_code_hash`.
async fn send_code(client: &Client, phone: &str) -> String {
    let sent = call(
        client,
        &tl::functions::auth::SendCode {
            phone_number: phone.to_owned(),
            api_id: API_ID,
            api_hash: API_HASH.to_owned(),
            settings: tl::types::CodeSettings {
                allow_flashcall: false,
                current_number: false,
                allow_app_hash: false,
                allow_missed_call: false,
                allow_firebase: false,
                unknown_number: false,
                logout_tokens: None,
                token: None,
                app_sandbox: None,
            }
            .into(),
        },
    )
    .await
    .expect("auth.sendCode succeeds");
    match sent {
        tl::enums::auth::SentCode::Code(code) => {
            let tl::enums::auth::SentCodeType::App(app) = code.r#type else {
                panic!("expected sentCodeTypeApp, got {:?}", code.r#type);
            };
            assert_eq!(app.length, DEFAULT_LOGIN_CODE.len() as i32);
            assert_eq!(code.phone_code_hash.len(), 18);
            code.phone_code_hash
        }
        other => panic!("expected auth.sentCode, got {other:?}"),
    }
}

fn sign_in_request(phone: &str, hash: &str, code: Option<&str>) -> tl::functions::auth::SignIn {
    tl::functions::auth::SignIn {
        phone_number: phone.to_owned(),
        phone_code_hash: hash.to_owned(),
        phone_code: code.map(str::to_owned),
        email_verification: None,
    }
}

#[tokio::test]
async fn a_guest_key_is_not_authorized_and_may_only_log_in() {
    let sandbox = sandbox().await;
    let guest = sandbox.guest_client(0).unwrap();
    let client = &guest.client;
    assert!(!is_authorized(client).await);
    assert_eq!(
        rpc_error(timeout(WAIT, client.get_me()).await.unwrap()),
        (401, "AUTH_KEY_UNREGISTERED".to_owned())
    );
    // Payments, Stars, 2FA without a login in progress, updates: all 401.
    assert_eq!(
        rpc_error(call(client, &ebook_form()).await),
        (401, "AUTH_KEY_UNREGISTERED".to_owned())
    );
    assert_eq!(
        rpc_error(call(client, &tl::functions::payments::GetStarsTopupOptions {}).await),
        (401, "AUTH_KEY_UNREGISTERED".to_owned())
    );
    assert_eq!(
        rpc_error(call(client, &tl::functions::account::GetPassword {}).await),
        (401, "AUTH_KEY_UNREGISTERED".to_owned())
    );
    assert_eq!(
        rpc_error(
            call(
                client,
                &tl::functions::updates::GetDifference {
                    pts: 1,
                    pts_limit: None,
                    pts_total_limit: None,
                    date: 0,
                    qts: 0,
                    qts_limit: None,
                }
            )
            .await
        ),
        (401, "AUTH_KEY_UNREGISTERED".to_owned())
    );
    assert_eq!(
        rpc_error(call(client, &tl::functions::auth::LogOut {}).await),
        (401, "AUTH_KEY_UNREGISTERED".to_owned())
    );
    // help.* still works (the config every client asks for).
    call(client, &tl::functions::help::GetConfig {})
        .await
        .expect("help.getConfig on a guest key");
    // users.getUsers about someone else is answered (without access, userEmpty).
    let users = call(
        client,
        &tl::functions::users::GetUsers {
            id: vec![
                tl::types::InputUser {
                    user_id: BOB,
                    access_hash: 1,
                }
                .into(),
            ],
        },
    )
    .await
    .expect("users.getUsers without self");
    assert!(matches!(users.as_slice(), [tl::enums::User::Empty(_)]));
    assert_eq!(
        sandbox.world().call_count(UNBOUND_USER, "updates.getState"),
        1
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn bob_logs_in_with_the_code_and_pays_on_the_same_client() {
    let sandbox = sandbox().await;
    let mut guest = sandbox.guest_client(0).unwrap();
    let mut pushed = guest.updates.take().unwrap();
    let client = &guest.client;
    assert!(!is_authorized(client).await);

    let token = timeout(WAIT, client.request_login_code(BOB_PHONE, API_HASH))
        .await
        .unwrap()
        .expect("the code is sent");
    let user = timeout(WAIT, client.sign_in(&token, DEFAULT_LOGIN_CODE))
        .await
        .unwrap()
        .expect("Bob has no 2FA password");
    assert_eq!(user.id().bare_id(), Some(BOB));
    assert_eq!(user.first_name(), Some("Bob"));

    // The very next requests, on the same connection, act as Bob.
    assert!(is_authorized(client).await);
    assert_eq!(get_me_id(client).await, Some(BOB));
    let form = card_form(call(client, &ebook_form()).await.expect("a payments call"));
    assert_eq!(form.bot_id, tgpay_sandbox::scenario::SHOP_BOT);
    assert_eq!(
        sandbox.world().call_count(BOB, "payments.getPaymentForm"),
        1
    );
    assert_eq!(
        sandbox
            .world()
            .key_user(guest_key_id(&sandbox, 0), UNBOUND_USER),
        BOB
    );
    // Pushed updates follow the login too: the merchant's pre-checkout reason reaches this
    // connection.
    let sold_out = card_form(call(client, &get_form(slug("sold-out"))).await.unwrap());
    let send = send_form(
        sold_out.form_id,
        slug("sold-out"),
        stripe_token("tok_sandbox_visa"),
    );
    assert_eq!(
        rpc_name(call(client, &send).await),
        "BOT_PRECHECKOUT_FAILED"
    );
    wait_update(&mut pushed, |u| {
        matches!(u, tl::enums::Update::ServiceNotification(_))
    })
    .await;

    // A new connection with the same key is Bob from the start.
    let again = sandbox.guest_client(0).unwrap();
    assert!(is_authorized(&again.client).await);
    assert_eq!(get_me_id(&again.client).await, Some(BOB));
    // Other guest keys are still guests.
    let other = sandbox.guest_client(1).unwrap();
    assert!(!is_authorized(&other.client).await);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn alice_logs_in_with_her_2fa_password_after_a_wrong_one() {
    let sandbox = sandbox().await;
    let guest = sandbox.guest_client(2).unwrap();
    let client = &guest.client;

    let token = timeout(WAIT, client.request_login_code(ALICE_PHONE, API_HASH))
        .await
        .unwrap()
        .unwrap();
    let password_token = match timeout(WAIT, client.sign_in(&token, DEFAULT_LOGIN_CODE))
        .await
        .unwrap()
    {
        Err(SignInError::PasswordRequired(t)) => t,
        other => panic!("expected PasswordRequired, got {other:?}"),
    };
    assert_eq!(password_token.hint(), Some("four common words"));
    // Not logged in yet.
    assert!(!is_authorized(client).await);

    let spent = match timeout(
        WAIT,
        client.check_password(password_token, "correct horse battery stable"),
    )
    .await
    .unwrap()
    {
        Err(SignInError::InvalidPassword(t)) => t,
        other => panic!("expected InvalidPassword, got {other:?}"),
    };
    assert!(!is_authorized(client).await);
    // A challenge serves one check: the token the wrong attempt gave back is spent, even with
    // the right password.
    match timeout(WAIT, client.check_password(spent, ALICE_PASSWORD))
        .await
        .unwrap()
    {
        Err(SignInError::Other(InvocationError::Rpc(e))) => assert_eq!(e.name, "SRP_ID_INVALID"),
        other => panic!("expected SRP_ID_INVALID, got {other:?}"),
    }
    // Starting the login again fetches a fresh challenge.
    let token = timeout(WAIT, client.request_login_code(ALICE_PHONE, API_HASH))
        .await
        .unwrap()
        .unwrap();
    let password_token = match timeout(WAIT, client.sign_in(&token, DEFAULT_LOGIN_CODE))
        .await
        .unwrap()
    {
        Err(SignInError::PasswordRequired(t)) => t,
        other => panic!("expected PasswordRequired, got {other:?}"),
    };

    let user = timeout(WAIT, client.check_password(password_token, ALICE_PASSWORD))
        .await
        .unwrap()
        .expect("the right password logs in");
    assert_eq!(user.id().bare_id(), Some(ALICE));
    assert!(is_authorized(client).await);
    assert_eq!(get_me_id(client).await, Some(ALICE));
    call(client, &ebook_form())
        .await
        .expect("Alice can open a form");
    assert_eq!(
        sandbox
            .world()
            .call_count(UNBOUND_USER, "auth.checkPassword"),
        3
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn wrong_codes_unknown_phones_and_bad_app_credentials_are_refused() {
    let sandbox = sandbox().await;
    let guest = sandbox.guest_client(3).unwrap();
    let client = &guest.client;

    // grammers: a wrong code is SignInError::InvalidCode; the login can go on.
    let token = timeout(WAIT, client.request_login_code(BOB_PHONE, API_HASH))
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        timeout(WAIT, client.sign_in(&token, "54321"))
            .await
            .unwrap(),
        Err(SignInError::InvalidCode)
    ));
    assert!(!is_authorized(client).await);

    // Unknown and malformed phones.
    for phone in ["+1 555 999 9999", "not a phone", "12", ""] {
        let result = timeout(WAIT, client.request_login_code(phone, API_HASH))
            .await
            .unwrap()
            .map(|_| "a login token");
        assert_eq!(
            rpc_error(result),
            (406, "PHONE_NUMBER_INVALID".to_owned()),
            "{phone:?}"
        );
    }
    // An empty api_hash.
    let result = timeout(WAIT, client.request_login_code(BOB_PHONE, ""))
        .await
        .unwrap()
        .map(|_| "a login token");
    assert_eq!(rpc_error(result), (400, "API_ID_INVALID".to_owned()));

    // The raw errors of auth.signIn.
    let hash = send_code(client, "15550000002").await;
    let raw = |code: Option<&str>| sign_in_request("15550000002", &hash, code);
    assert_eq!(
        rpc_error(call(client, &raw(Some("11111"))).await),
        (400, "PHONE_CODE_INVALID".to_owned())
    );
    assert_eq!(
        rpc_error(call(client, &raw(None)).await),
        (400, "PHONE_CODE_EMPTY".to_owned())
    );
    assert_eq!(
        rpc_error(call(client, &sign_in_request("15550000002", "", Some("12345"))).await),
        (400, "PHONE_CODE_HASH_EMPTY".to_owned())
    );
    assert_eq!(
        rpc_error(
            call(
                client,
                &sign_in_request("15550000002", "0123456789abcdef01", Some("12345"))
            )
            .await
        ),
        (400, "PHONE_CODE_EXPIRED".to_owned())
    );
    assert_eq!(
        rpc_error(
            call(
                client,
                &sign_in_request("15550000001", &hash, Some("12345"))
            )
            .await
        ),
        (406, "PHONE_NUMBER_INVALID".to_owned())
    );
    // The code expires.
    sandbox
        .world()
        .advance_clock(LOGIN_CODE_LIFETIME + Duration::from_secs(1));
    assert_eq!(
        rpc_error(call(client, &raw(Some(DEFAULT_LOGIN_CODE))).await),
        (400, "PHONE_CODE_EXPIRED".to_owned())
    );
    assert!(!is_authorized(client).await);

    // Alice's right code: 401 SESSION_PASSWORD_NEEDED; account.getPassword then answers
    // with her SRP parameters on this guest key.
    let hash = send_code(client, "1-555-000-0001").await;
    assert_eq!(
        rpc_error(
            call(
                client,
                &sign_in_request("+15550000001", &hash, Some(DEFAULT_LOGIN_CODE))
            )
            .await
        ),
        (401, "SESSION_PASSWORD_NEEDED".to_owned())
    );
    let tl::enums::account::Password::Password(password) =
        call(client, &tl::functions::account::GetPassword {})
            .await
            .expect("account.getPassword during the login");
    assert!(password.has_password);
    assert!(password.srp_id.is_some() && password.srp_b.is_some());
    // A check without a fresh srp_id is refused.
    let stale = tl::functions::auth::CheckPassword {
        password: tl::types::InputCheckPasswordSrp {
            srp_id: password.srp_id.unwrap_or_default().wrapping_add(1),
            a: vec![2; 256],
            m1: vec![0; 32],
        }
        .into(),
    };
    assert_eq!(
        rpc_error(call(client, &stale).await),
        (400, "SRP_ID_INVALID".to_owned())
    );
    assert!(!is_authorized(client).await);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn logging_out_unbinds_the_key() {
    let sandbox = sandbox().await;
    let guest = sandbox.guest_client(1).unwrap();
    let client = &guest.client;
    let token = timeout(WAIT, client.request_login_code(BOB_PHONE, API_HASH))
        .await
        .unwrap()
        .unwrap();
    timeout(WAIT, client.sign_in(&token, DEFAULT_LOGIN_CODE))
        .await
        .unwrap()
        .unwrap();
    assert!(is_authorized(client).await);

    timeout(WAIT, client.sign_out())
        .await
        .unwrap()
        .expect("auth.logOut");
    assert!(!is_authorized(client).await);
    assert_eq!(
        rpc_error(call(client, &ebook_form()).await),
        (401, "AUTH_KEY_UNREGISTERED".to_owned())
    );
    let fresh = sandbox.guest_client(1).unwrap();
    assert!(!is_authorized(&fresh.client).await);

    // A pre-shared user key can log out too, and then logs in again like a guest.
    let alice = sandbox.client(ALICE).unwrap();
    assert!(is_authorized(&alice.client).await);
    timeout(WAIT, alice.client.sign_out())
        .await
        .unwrap()
        .unwrap();
    assert!(!is_authorized(&alice.client).await);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn connection_info_lists_guest_keys_code_and_phones() {
    let sandbox = sandbox().await;
    let info = sandbox.connection_info();
    assert_eq!(info.login.code, DEFAULT_LOGIN_CODE);
    assert_eq!(info.login.guest_auth_keys.len(), GUEST_KEYS);
    for (hex, key) in info.login.guest_auth_keys.iter().zip(sandbox.guest_keys()) {
        assert_eq!(hex.len(), 512);
        assert_eq!(*hex, key_hex(key));
    }
    let bob = info.users.iter().find(|u| u.id == BOB).unwrap();
    assert_eq!(bob.phone.as_deref(), Some("15550000002"));

    let json: serde_json::Value = serde_json::to_value(&info).unwrap();
    assert_eq!(json["login"]["code"], "12345");
    assert_eq!(
        json["login"]["guest_auth_keys"].as_array().unwrap().len(),
        4
    );
    assert_eq!(json["users"][0]["phone"], "15550000001");
    // The keys other tools read are unchanged.
    for key in [
        "dc_id",
        "host",
        "port",
        "users",
        "invoices",
        "test_cards",
        "verification_base_url",
    ] {
        assert!(json.get(key).is_some(), "{key}");
    }
    for key in ["id", "name", "auth_key", "password"] {
        assert!(json["users"][0].get(key).is_some(), "{key}");
    }
    let back: ConnectionInfo = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(back, info);

    // A line from before logins existed still parses.
    let mut old = json;
    old.as_object_mut().unwrap().remove("login");
    for user in old["users"].as_array_mut().unwrap() {
        user.as_object_mut().unwrap().remove("phone");
    }
    let parsed: ConnectionInfo = serde_json::from_value(old).unwrap();
    assert!(parsed.login.guest_auth_keys.is_empty());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_scenario_sets_its_own_login_code() {
    let mut scenario = Scenario::default_world();
    scenario.login_code = "24680".to_owned();
    let sandbox = Sandbox::start(scenario).await.unwrap();
    assert_eq!(sandbox.login_code(), "24680");
    let guest = sandbox.guest_client(0).unwrap();
    let client = &guest.client;
    let token = timeout(WAIT, client.request_login_code(BOB_PHONE, API_HASH))
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        timeout(WAIT, client.sign_in(&token, DEFAULT_LOGIN_CODE))
            .await
            .unwrap(),
        Err(SignInError::InvalidCode)
    ));
    timeout(WAIT, client.sign_in(&token, "24680"))
        .await
        .unwrap()
        .expect("the scenario's code");
    assert!(is_authorized(client).await);
    sandbox.shutdown().await;
}
