//! Decoding of API requests into world calls, and encoding of their answers.
//!
//! The transport hands over an unwrapped request (constructor id first); [`dispatch`] finds the
//! method, applies scripted faults, counts the call, runs it against the [`World`], and returns
//! the serialized answer or error together with the updates to push.

use std::sync::Mutex;

use grammers_tl_types::{self as tl, Deserializable, Identifiable, Serializable};

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

fn decode<F: Deserializable>(body: &[u8]) -> Result<F, RpcFail> {
    F::from_bytes(body).map_err(|_| RpcFail::bad("INPUT_FETCH_FAIL"))
}

fn encode<T: Serializable>(value: Result<T, RpcFail>) -> Result<Vec<u8>, RpcFail> {
    value.map(|v| v.to_bytes())
}

/// Runs one request for `user`. `request` starts with the method's constructor id.
/// Returns `None` for methods the world does not implement (the transport answers those).
pub fn dispatch(world: &Mutex<World>, user: i64, request: &[u8]) -> Option<(Answer, Vec<Push>)> {
    let (id, body) = match request.split_first_chunk::<4>() {
        Some((id, body)) => (u32::from_le_bytes(*id), body),
        None => return None,
    };
    let method = tl::name_for_id(id);
    if !METHODS.contains(&method) {
        return None;
    }
    let mut w = match world.lock() {
        Ok(w) => w,
        Err(poisoned) => poisoned.into_inner(),
    };
    w.record_call(user, method);
    let fault = w.take_fault(user, method);
    match fault {
        Some(FaultAction::Error(e)) => return Some((Answer::Error(e), w.take_pushes())),
        Some(FaultAction::DropBefore) => return Some((Answer::DropConnection, w.take_pushes())),
        _ => {}
    }
    let result = run(&mut w, user, id, body);
    let pushes = w.take_pushes();
    let answer = match (fault, result) {
        (Some(FaultAction::DropAfter), _) => Answer::DropConnection,
        (_, Ok(bytes)) => Answer::Result(bytes),
        (_, Err(e)) => Answer::Error(e),
    };
    Some((answer, pushes))
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
    use crate::sandbox::scenario::Scenario;

    #[test]
    fn every_listed_method_is_dispatched() {
        let world =
            Mutex::new(World::new(&Scenario::default_world(), "http://127.0.0.1:1").unwrap());
        for name in METHODS {
            let request = id_of(name).to_le_bytes();
            let (answer, _) = dispatch(&world, crate::sandbox::scenario::ALICE, &request)
                .unwrap_or_else(|| panic!("{name} not dispatched"));
            if let Answer::Error(e) = answer {
                assert_ne!(e.message, "INPUT_METHOD_INVALID", "{name}");
            }
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
];

#[cfg(test)]
mod catalog_tests {
    use super::ERRORS_OUTSIDE_CATALOG;
    use crate::error::CatalogEntry;

    /// Every error name written in the world's sources is in the catalog or explained.
    #[test]
    fn every_error_the_world_sends_is_catalogued() {
        let sources = [
            include_str!("world.rs"),
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
