//! Decoding of API requests into world calls, and encoding of their answers.
//!
//! The transport hands over an unwrapped request (constructor id first); [`dispatch`] finds the
//! method, applies scripted faults, counts the call, runs it against the [`World`], and returns
//! the serialized answer or error together with the updates to push.

use std::sync::Mutex;

use grammers_tl_types::{self as tl, Deserializable, Identifiable, Serializable};

use super::keys::UNBOUND_USER;
use super::world::{FaultAction, Push, RpcFail, World};

/// The outcome of one API request.
#[derive(Debug)]
pub enum Answer {
    /// The serialized return value (goes in `rpc_result`).
    Result(Vec<u8>),
    /// An RPC error.
    Error(RpcFail),
    /// The request was processed, but the connection must close without answering.
    DropConnection,
    /// The request was processed; its answer goes out after this long.
    Delayed(std::time::Duration, Box<Answer>),
}

/// The API methods the sandbox implements, by TL name.
pub const METHODS: &[&str] = &[
    "payments.getPaymentForm",
    "payments.validateRequestedInfo",
    "payments.sendPaymentForm",
    "payments.sendStarsForm",
    "payments.getPaymentReceipt",
    "payments.getSavedInfo",
    "payments.clearSavedInfo",
    "payments.getStarsStatus",
    "payments.getStarsTransactions",
    "payments.getStarsTopupOptions",
    "account.getPassword",
    "account.getTmpPassword",
    "users.getUsers",
    "contacts.resolveUsername",
    "messages.getMessages",
    "messages.getHistory",
    "updates.getState",
    "updates.getDifference",
];

/// The login methods, which act on the auth key rather than on a user; see [`dispatch_key`].
pub const LOGIN_METHODS: &[&str] = &[
    "auth.sendCode",
    "auth.signIn",
    "auth.checkPassword",
    "auth.logOut",
];

/// What a key bound to no user (a guest key) may call besides `help.*` and [`LOGIN_METHODS`]:
/// `account.getPassword` while its login waits for the 2FA password, `updates.getState`
/// (answered `401 AUTH_KEY_UNREGISTERED`, which is how clients tell they are logged out) and
/// `users.getUsers` without `inputUserSelf`. Anything else gets `401 AUTH_KEY_UNREGISTERED`.
pub const GUEST_METHODS: &[&str] = &["account.getPassword", "updates.getState", "users.getUsers"];

fn decode<F: Deserializable>(body: &[u8]) -> Result<F, RpcFail> {
    F::from_bytes(body).map_err(|_| RpcFail::bad("INPUT_FETCH_FAIL"))
}

fn encode<T: Serializable>(value: Result<T, RpcFail>) -> Result<Vec<u8>, RpcFail> {
    value.map(|v| v.to_bytes())
}

/// Runs one request for `user`. `request` starts with the method's constructor id.
/// Returns `None` for methods the world does not implement (the transport answers those).
pub fn dispatch(world: &Mutex<World>, user: i64, request: &[u8]) -> Option<(Answer, Vec<Push>)> {
    let (id, body) = split(request)?;
    let method = tl::name_for_id(id);
    if !METHODS.contains(&method) {
        return None;
    }
    prepare_challenge(world, id, |_| Some(user));
    let mut w = lock(world);
    Some(run_counted(&mut w, user, method, |w| {
        run(w, user, id, body)
    }))
}

/// Runs one request that arrived encrypted with the auth key `auth_key_id`, which the key store
/// registered for `registered_user`.
///
/// The key acts as [`World::key_user`]: a key that logged in acts as its user from the very
/// next request, on the same connection. [`LOGIN_METHODS`] run against the key; a key bound to
/// no user ([`UNBOUND_USER`]) is limited to them and [`GUEST_METHODS`]; any other key runs
/// [`METHODS`] as its user, like [`dispatch`]. Returns `None` for methods the world does not
/// implement.
pub fn dispatch_key(
    world: &Mutex<World>,
    auth_key_id: i64,
    registered_user: i64,
    request: &[u8],
) -> Option<(Answer, Vec<Push>)> {
    let (id, body) = split(request)?;
    let method = tl::name_for_id(id);
    let login = LOGIN_METHODS.contains(&method);
    if !login && !METHODS.contains(&method) {
        return None;
    }
    prepare_challenge(world, id, |w| {
        match w.key_user(auth_key_id, registered_user) {
            UNBOUND_USER => w.login_password_user(auth_key_id),
            user => Some(user),
        }
    });
    let mut w = lock(world);
    let user = w.key_user(auth_key_id, registered_user);
    let answer = if login {
        run_counted(&mut w, user, method, |w| {
            run_login(w, auth_key_id, user, id, body)
        })
    } else if user == UNBOUND_USER {
        run_counted(&mut w, user, method, |w| {
            run_guest(w, auth_key_id, id, body)
        })
    } else {
        run_counted(&mut w, user, method, |w| run(w, user, id, body))
    };
    Some(answer)
}

/// For `account.getPassword`, issues the SRP challenge (a 2048-bit exponentiation) with the
/// world unlocked, and leaves it for the call to hand out: other requests are not held up by
/// it.
fn prepare_challenge(world: &Mutex<World>, id: u32, user: impl FnOnce(&World) -> Option<i64>) {
    if id != tl::functions::account::GetPassword::CONSTRUCTOR_ID {
        return;
    }
    let found = {
        let w = lock(world);
        user(&w).and_then(|user| Some((user, w.password_record(user)?)))
    };
    let Some((user, record)) = found else {
        return;
    };
    if let Ok(challenge) = record.issue_random(rand::random::<i64>(), &mut rand::rng()) {
        lock(world).offer_password_challenge(user, &record, challenge);
    }
}

fn split(request: &[u8]) -> Option<(u32, &[u8])> {
    request
        .split_first_chunk::<4>()
        .map(|(id, body)| (u32::from_le_bytes(*id), body))
}

fn lock(world: &Mutex<World>) -> std::sync::MutexGuard<'_, World> {
    match world.lock() {
        Ok(w) => w,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// Counts the call, applies scripted faults, runs it and collects the updates to push.
fn run_counted(
    w: &mut World,
    user: i64,
    method: &str,
    run: impl FnOnce(&mut World) -> Result<Vec<u8>, RpcFail>,
) -> (Answer, Vec<Push>) {
    w.record_call(user, method);
    let fault = w.take_fault(user, method);
    match fault {
        Some(FaultAction::Error(e)) => return (Answer::Error(e), w.take_pushes()),
        Some(FaultAction::DropBefore) => return (Answer::DropConnection, w.take_pushes()),
        _ => {}
    }
    let result = run(w);
    let pushes = w.take_pushes();
    let answer = match (fault, result) {
        (Some(FaultAction::DropAfter), _) => Answer::DropConnection,
        (Some(FaultAction::ErrorAfter(e)), _) => Answer::Error(e),
        (Some(FaultAction::Delay(after)), Ok(bytes)) => {
            Answer::Delayed(after, Box::new(Answer::Result(bytes)))
        }
        (Some(FaultAction::Delay(after)), Err(e)) => {
            Answer::Delayed(after, Box::new(Answer::Error(e)))
        }
        (_, Ok(bytes)) => Answer::Result(bytes),
        (_, Err(e)) => Answer::Error(e),
    };
    (answer, pushes)
}

fn run_login(
    w: &mut World,
    auth_key_id: i64,
    user: i64,
    id: u32,
    body: &[u8],
) -> Result<Vec<u8>, RpcFail> {
    use tl::functions::auth;
    match id {
        auth::SendCode::CONSTRUCTOR_ID => encode(w.send_code(auth_key_id, &decode(body)?)),
        auth::SignIn::CONSTRUCTOR_ID => encode(w.sign_in(auth_key_id, &decode(body)?)),
        auth::CheckPassword::CONSTRUCTOR_ID => {
            encode(w.check_password(auth_key_id, &decode(body)?))
        }
        auth::LogOut::CONSTRUCTOR_ID => {
            decode::<auth::LogOut>(body)?;
            encode(w.log_out(auth_key_id, user))
        }
        _ => Err(RpcFail::bad("INPUT_METHOD_INVALID")),
    }
}

/// A request of one of [`METHODS`] on a key bound to no user.
fn run_guest(w: &mut World, auth_key_id: i64, id: u32, body: &[u8]) -> Result<Vec<u8>, RpcFail> {
    use tl::functions::{account, users};
    let unregistered = || RpcFail::new(401, "AUTH_KEY_UNREGISTERED");
    match id {
        account::GetPassword::CONSTRUCTOR_ID => {
            decode::<account::GetPassword>(body)?;
            let user = w
                .login_password_user(auth_key_id)
                .ok_or_else(unregistered)?;
            encode(w.get_password(user))
        }
        users::GetUsers::CONSTRUCTOR_ID => {
            let req: users::GetUsers = decode(body)?;
            if req
                .id
                .iter()
                .any(|u| matches!(u, tl::enums::InputUser::UserSelf))
            {
                return Err(unregistered());
            }
            encode(Ok(w.get_users(UNBOUND_USER, &req.id)))
        }
        _ => Err(unregistered()),
    }
}

fn run(w: &mut World, user: i64, id: u32, body: &[u8]) -> Result<Vec<u8>, RpcFail> {
    use tl::functions::{account, contacts, messages, payments, updates, users};
    match id {
        payments::GetPaymentForm::CONSTRUCTOR_ID => {
            encode(w.get_payment_form(user, &decode(body)?))
        }
        payments::ValidateRequestedInfo::CONSTRUCTOR_ID => {
            encode(w.validate_requested_info(user, &decode(body)?))
        }
        payments::SendPaymentForm::CONSTRUCTOR_ID => {
            encode(w.send_payment_form(user, &decode(body)?))
        }
        payments::SendStarsForm::CONSTRUCTOR_ID => encode(w.send_stars_form(user, &decode(body)?)),
        payments::GetPaymentReceipt::CONSTRUCTOR_ID => {
            encode(w.get_payment_receipt(user, &decode(body)?))
        }
        payments::GetSavedInfo::CONSTRUCTOR_ID => {
            decode::<payments::GetSavedInfo>(body)?;
            encode(w.get_saved_info(user))
        }
        payments::ClearSavedInfo::CONSTRUCTOR_ID => {
            encode(w.clear_saved_info(user, &decode(body)?))
        }
        payments::GetStarsStatus::CONSTRUCTOR_ID => {
            encode(w.get_stars_status(user, &decode(body)?))
        }
        payments::GetStarsTransactions::CONSTRUCTOR_ID => {
            encode(w.get_stars_transactions(user, &decode(body)?))
        }
        payments::GetStarsTopupOptions::CONSTRUCTOR_ID => {
            decode::<payments::GetStarsTopupOptions>(body)?;
            encode(Ok(w.get_stars_topup_options()))
        }
        account::GetPassword::CONSTRUCTOR_ID => {
            decode::<account::GetPassword>(body)?;
            encode(w.get_password(user))
        }
        account::GetTmpPassword::CONSTRUCTOR_ID => encode(w.get_tmp_password(user, &decode(body)?)),
        users::GetUsers::CONSTRUCTOR_ID => {
            let req: users::GetUsers = decode(body)?;
            encode(Ok(w.get_users(user, &req.id)))
        }
        contacts::ResolveUsername::CONSTRUCTOR_ID => {
            let req: contacts::ResolveUsername = decode(body)?;
            encode(w.resolve_username(user, &req.username))
        }
        messages::GetMessages::CONSTRUCTOR_ID => {
            let req: messages::GetMessages = decode(body)?;
            encode(w.get_messages(user, &req.id))
        }
        messages::GetHistory::CONSTRUCTOR_ID => encode(w.get_history(user, &decode(body)?)),
        updates::GetState::CONSTRUCTOR_ID => {
            decode::<updates::GetState>(body)?;
            encode(w.get_state(user))
        }
        updates::GetDifference::CONSTRUCTOR_ID => encode(w.get_difference(user, &decode(body)?)),
        _ => Err(RpcFail::bad("INPUT_METHOD_INVALID")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    #[test]
    fn every_listed_method_is_dispatched() {
        let world =
            Mutex::new(World::new(&Scenario::default_world(), "http://127.0.0.1:1").unwrap());
        for name in METHODS {
            let request = id_of(name).to_le_bytes();
            let (answer, _) = dispatch(&world, crate::scenario::ALICE, &request)
                .unwrap_or_else(|| panic!("{name} not dispatched"));
            if let Answer::Error(e) = answer {
                assert_ne!(e.message, "INPUT_METHOD_INVALID", "{name}");
            }
        }
    }

    #[test]
    fn every_login_method_is_dispatched_on_a_key() {
        let world =
            Mutex::new(World::new(&Scenario::default_world(), "http://127.0.0.1:1").unwrap());
        for name in LOGIN_METHODS {
            let request = login_id_of(name).to_le_bytes();
            let (answer, _) = dispatch_key(&world, 99, UNBOUND_USER, &request)
                .unwrap_or_else(|| panic!("{name} not dispatched"));
            let Answer::Error(e) = answer else {
                panic!("{name}: an empty body cannot succeed");
            };
            assert!(
                e.message != "INPUT_METHOD_INVALID",
                "{name} answered {}",
                e.message
            );
        }
        // Payments methods are refused on a guest key, answered on a user's key.
        let form = tl::functions::payments::GetStarsTopupOptions {}.to_bytes();
        let (answer, _) = dispatch_key(&world, 99, UNBOUND_USER, &form).unwrap();
        assert!(
            matches!(&answer, Answer::Error(e) if e.code == 401 && e.message == "AUTH_KEY_UNREGISTERED"),
            "{answer:?}"
        );
        let (answer, _) = dispatch_key(&world, 98, crate::scenario::BOB, &form).unwrap();
        assert!(matches!(answer, Answer::Result(_)), "{answer:?}");
    }

    fn login_id_of(name: &str) -> u32 {
        use tl::functions::auth;
        match name {
            "auth.sendCode" => auth::SendCode::CONSTRUCTOR_ID,
            "auth.signIn" => auth::SignIn::CONSTRUCTOR_ID,
            "auth.checkPassword" => auth::CheckPassword::CONSTRUCTOR_ID,
            "auth.logOut" => auth::LogOut::CONSTRUCTOR_ID,
            other => panic!("no id for {other}"),
        }
    }

    fn id_of(name: &str) -> u32 {
        use tl::functions::{account, contacts, messages, payments, updates, users};
        match name {
            "payments.getPaymentForm" => payments::GetPaymentForm::CONSTRUCTOR_ID,
            "payments.validateRequestedInfo" => payments::ValidateRequestedInfo::CONSTRUCTOR_ID,
            "payments.sendPaymentForm" => payments::SendPaymentForm::CONSTRUCTOR_ID,
            "payments.sendStarsForm" => payments::SendStarsForm::CONSTRUCTOR_ID,
            "payments.getPaymentReceipt" => payments::GetPaymentReceipt::CONSTRUCTOR_ID,
            "payments.getSavedInfo" => payments::GetSavedInfo::CONSTRUCTOR_ID,
            "payments.clearSavedInfo" => payments::ClearSavedInfo::CONSTRUCTOR_ID,
            "payments.getStarsStatus" => payments::GetStarsStatus::CONSTRUCTOR_ID,
            "payments.getStarsTransactions" => payments::GetStarsTransactions::CONSTRUCTOR_ID,
            "payments.getStarsTopupOptions" => payments::GetStarsTopupOptions::CONSTRUCTOR_ID,
            "account.getPassword" => account::GetPassword::CONSTRUCTOR_ID,
            "account.getTmpPassword" => account::GetTmpPassword::CONSTRUCTOR_ID,
            "users.getUsers" => users::GetUsers::CONSTRUCTOR_ID,
            "contacts.resolveUsername" => contacts::ResolveUsername::CONSTRUCTOR_ID,
            "messages.getMessages" => messages::GetMessages::CONSTRUCTOR_ID,
            "messages.getHistory" => messages::GetHistory::CONSTRUCTOR_ID,
            "updates.getState" => updates::GetState::CONSTRUCTOR_ID,
            "updates.getDifference" => updates::GetDifference::CONSTRUCTOR_ID,
            other => panic!("no id for {other}"),
        }
    }
}

/// Error names the sandbox sends that `tl/errors.tsv` does not list, and why.
pub const ERRORS_OUTSIDE_CATALOG: &[(&str, &str)] = &[
    (
        "TIP_AMOUNT_INVALID",
        "Telegram documents no error for a tip above max_tip_amount; tgpay refuses such tips \
         before sending, so only raw callers meet this one",
    ),
    (
        "INPUT_FETCH_FAIL",
        "the request's TL did not parse (any method)",
    ),
    (
        "INPUT_METHOD_INVALID",
        "the method is not implemented (any method)",
    ),
    (
        "LIMIT_INVALID",
        "getStarsTransactions with limit ≤ 0 (generic Telegram error)",
    ),
    (
        "OFFSET_INVALID",
        "getStarsTransactions with an offset it did not issue (generic)",
    ),
    (
        "INTERNAL_SERVER_ERROR",
        "the sandbox could not draw a random SRP secret (code 500)",
    ),
    (
        "USERNAME_NOT_OCCUPIED",
        "contacts.resolveUsername, outside the payments catalog",
    ),
    (
        "API_ID_INVALID",
        "auth.sendCode with api_id <= 0 or an empty api_hash (login, outside the payments catalog)",
    ),
    (
        "PHONE_NUMBER_INVALID",
        "auth.sendCode / auth.signIn (406): not 5 to 15 digits, or no user of the scenario has \
         this phone (the sandbox cannot sign up new accounts)",
    ),
    (
        "PHONE_CODE_HASH_EMPTY",
        "auth.signIn without phone_code_hash",
    ),
    ("PHONE_CODE_EMPTY", "auth.signIn without phone_code"),
    (
        "PHONE_CODE_EXPIRED",
        "auth.signIn with a phone_code_hash this key was not given, replaced, or older than \
         world::LOGIN_CODE_LIFETIME",
    ),
    (
        "PHONE_CODE_INVALID",
        "auth.signIn with a code other than the scenario's login_code",
    ),
    (
        "SESSION_PASSWORD_NEEDED",
        "auth.signIn (401): the right code for an account with a 2FA password; \
         account.getPassword and auth.checkPassword come next",
    ),
];

#[cfg(test)]
mod catalog_tests {
    use super::ERRORS_OUTSIDE_CATALOG;
    use tgpay::error::CatalogEntry;

    /// Every error name written in the world's sources is in the catalog or explained.
    #[test]
    fn every_error_the_world_sends_is_catalogued() {
        let sources = [
            include_str!("world/chats.rs"),
            include_str!("world/faults.rs"),
            include_str!("world/forms.rs"),
            include_str!("world/gateway.rs"),
            include_str!("world/login.rs"),
            include_str!("world/mod.rs"),
            include_str!("world/password.rs"),
            include_str!("world/render.rs"),
            include_str!("world/send.rs"),
            include_str!("world/stars.rs"),
            include_str!("world/types.rs"),
            include_str!("merchant.rs"),
            include_str!("api.rs"),
        ];
        let mut names = Vec::new();
        for source in sources {
            for piece in source.split('"').skip(1).step_by(2) {
                let looks_like_error = piece.len() >= 6
                    && piece.contains('_')
                    && piece
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
                if looks_like_error {
                    names.push(piece);
                }
            }
        }
        assert!(
            names.contains(&"FORM_SUBMIT_DUPLICATE"),
            "scan found {names:?}"
        );
        for name in names {
            let known = CatalogEntry::find(name).is_some()
                || ERRORS_OUTSIDE_CATALOG.iter().any(|(n, _)| *n == name);
            assert!(known, "{name} is neither in tl/errors.tsv nor explained");
        }
    }
}
