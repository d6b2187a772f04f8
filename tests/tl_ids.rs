//! Checks `tl/payments.tl` against grammers-tl-types: every line's constructor id must be the id
//! grammers generated for that name, both through `name_for_id` and through the typed
//! `CONSTRUCTOR_ID`, and the layer must be the one tgpay is pinned to. A grammers upgrade that
//! changes an id fails here with the constructor's name.

use tgpay::tl::{self, Identifiable, functions, types};

const SCHEMA: &str = include_str!("../tl/payments.tl");

/// Maps each TL name to the `CONSTRUCTOR_ID` of the grammers-tl-types item generated for it.
macro_rules! typed_ids {
    ($($name:literal => $ty:ty,)*) => {
        &[$(($name, <$ty as Identifiable>::CONSTRUCTOR_ID)),*]
    };
}

/// Every constructor and method of `tl/payments.tl` that grammers-tl-types generates an item for.
/// (The generic wrappers are instantiated with `help.getConfig`; their id does not depend on it.)
const TYPED: &[(&str, u32)] = typed_ids! {
    "dataJSON" => types::DataJson,
    "inputPeerEmpty" => types::InputPeerEmpty,
    "inputPeerSelf" => types::InputPeerSelf,
    "inputPeerUser" => types::InputPeerUser,
    "inputUserSelf" => types::InputUserSelf,
    "inputUser" => types::InputUser,
    "peerUser" => types::PeerUser,
    "userEmpty" => types::UserEmpty,
    "user" => types::User,
    "labeledPrice" => types::LabeledPrice,
    "invoice" => types::Invoice,
    "webDocument" => types::WebDocument,
    "webDocumentNoProxy" => types::WebDocumentNoProxy,
    "inputWebDocument" => types::InputWebDocument,
    "inputInvoiceMessage" => types::InputInvoiceMessage,
    "inputInvoiceSlug" => types::InputInvoiceSlug,
    "inputInvoicePremiumGiftCode" => types::InputInvoicePremiumGiftCode,
    "inputInvoiceStars" => types::InputInvoiceStars,
    "inputInvoiceChatInviteSubscription" => types::InputInvoiceChatInviteSubscription,
    "inputInvoiceStarGift" => types::InputInvoiceStarGift,
    "inputInvoiceStarGiftUpgrade" => types::InputInvoiceStarGiftUpgrade,
    "inputInvoiceStarGiftTransfer" => types::InputInvoiceStarGiftTransfer,
    "inputInvoicePremiumGiftStars" => types::InputInvoicePremiumGiftStars,
    "inputInvoiceBusinessBotTransferStars" => types::InputInvoiceBusinessBotTransferStars,
    "inputInvoiceStarGiftResale" => types::InputInvoiceStarGiftResale,
    "inputInvoiceStarGiftPrepaidUpgrade" => types::InputInvoiceStarGiftPrepaidUpgrade,
    "inputInvoicePremiumAuthCode" => types::InputInvoicePremiumAuthCode,
    "inputInvoiceStarGiftDropOriginalDetails" => types::InputInvoiceStarGiftDropOriginalDetails,
    "inputInvoiceStarGiftAuctionBid" => types::InputInvoiceStarGiftAuctionBid,
    "inputStorePaymentStarsTopup" => types::InputStorePaymentStarsTopup,
    "inputStorePaymentStarsGift" => types::InputStorePaymentStarsGift,
    "payments.paymentForm" => types::payments::PaymentForm,
    "payments.paymentFormStars" => types::payments::PaymentFormStars,
    "payments.paymentFormStarGift" => types::payments::PaymentFormStarGift,
    "paymentFormMethod" => types::PaymentFormMethod,
    "paymentSavedCredentialsCard" => types::PaymentSavedCredentialsCard,
    "postAddress" => types::PostAddress,
    "paymentRequestedInfo" => types::PaymentRequestedInfo,
    "payments.validatedRequestedInfo" => types::payments::ValidatedRequestedInfo,
    "shippingOption" => types::ShippingOption,
    "payments.savedInfo" => types::payments::SavedInfo,
    "inputPaymentCredentialsSaved" => types::InputPaymentCredentialsSaved,
    "inputPaymentCredentials" => types::InputPaymentCredentials,
    "inputPaymentCredentialsApplePay" => types::InputPaymentCredentialsApplePay,
    "inputPaymentCredentialsGooglePay" => types::InputPaymentCredentialsGooglePay,
    "payments.paymentResult" => types::payments::PaymentResult,
    "payments.paymentVerificationNeeded" => types::payments::PaymentVerificationNeeded,
    "payments.paymentReceipt" => types::payments::PaymentReceipt,
    "payments.paymentReceiptStars" => types::payments::PaymentReceiptStars,
    "passwordKdfAlgoUnknown" => types::PasswordKdfAlgoUnknown,
    "passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow" => types::PasswordKdfAlgoSha256Sha256Pbkdf2Hmacsha512iter100000Sha256ModPow,
    "securePasswordKdfAlgoUnknown" => types::SecurePasswordKdfAlgoUnknown,
    "securePasswordKdfAlgoPBKDF2HMACSHA512iter100000" => types::SecurePasswordKdfAlgoPbkdf2Hmacsha512iter100000,
    "securePasswordKdfAlgoSHA512" => types::SecurePasswordKdfAlgoSha512,
    "account.password" => types::account::Password,
    "inputCheckPasswordEmpty" => types::InputCheckPasswordEmpty,
    "inputCheckPasswordSRP" => types::InputCheckPasswordSrp,
    "account.tmpPassword" => types::account::TmpPassword,
    "starsAmount" => types::StarsAmount,
    "starsTonAmount" => types::StarsTonAmount,
    "starsTransactionPeerUnsupported" => types::StarsTransactionPeerUnsupported,
    "starsTransactionPeerAppStore" => types::StarsTransactionPeerAppStore,
    "starsTransactionPeerPlayMarket" => types::StarsTransactionPeerPlayMarket,
    "starsTransactionPeerPremiumBot" => types::StarsTransactionPeerPremiumBot,
    "starsTransactionPeerFragment" => types::StarsTransactionPeerFragment,
    "starsTransactionPeer" => types::StarsTransactionPeer,
    "starsTransactionPeerAds" => types::StarsTransactionPeerAds,
    "starsTransactionPeerAPI" => types::StarsTransactionPeerApi,
    "starsTransaction" => types::StarsTransaction,
    "starsTopupOption" => types::StarsTopupOption,
    "payments.starsStatus" => types::payments::StarsStatus,
    "inputMessageID" => types::InputMessageId,
    "message" => types::Message,
    "messageService" => types::MessageService,
    "messageMediaInvoice" => types::MessageMediaInvoice,
    "messageActionPaymentSent" => types::MessageActionPaymentSent,
    "messageActionPaymentSentMe" => types::MessageActionPaymentSentMe,
    "messages.messages" => types::messages::Messages,
    "keyboardButton" => types::KeyboardButton,
    "keyboardButtonRow" => types::KeyboardButtonRow,
    "replyKeyboardMarkup" => types::ReplyKeyboardMarkup,
    "inlineButtonTypeBuy" => types::InlineButtonTypeBuy,
    "keyboardInlineButton" => types::KeyboardInlineButton,
    "keyboardInlineButtonRow" => types::KeyboardInlineButtonRow,
    "replyInlineMarkup" => types::ReplyInlineMarkup,
    "updateNewMessage" => types::UpdateNewMessage,
    "updateEditMessage" => types::UpdateEditMessage,
    "updateServiceNotification" => types::UpdateServiceNotification,
    "updates" => types::Updates,
    "updateShort" => types::UpdateShort,
    "updatesTooLong" => types::UpdatesTooLong,
    "updates.state" => types::updates::State,
    "updates.differenceEmpty" => types::updates::DifferenceEmpty,
    "dcOption" => types::DcOption,
    "config" => types::Config,
    "invokeWithLayer" => functions::InvokeWithLayer<functions::help::GetConfig>,
    "initConnection" => functions::InitConnection<functions::help::GetConfig>,
    "invokeWithoutUpdates" => functions::InvokeWithoutUpdates<functions::help::GetConfig>,
    "help.getConfig" => functions::help::GetConfig,
    "updates.getState" => functions::updates::GetState,
    "updates.getDifference" => functions::updates::GetDifference,
    "users.getUsers" => functions::users::GetUsers,
    "messages.getMessages" => functions::messages::GetMessages,
    "account.getPassword" => functions::account::GetPassword,
    "account.getTmpPassword" => functions::account::GetTmpPassword,
    "payments.getPaymentForm" => functions::payments::GetPaymentForm,
    "payments.validateRequestedInfo" => functions::payments::ValidateRequestedInfo,
    "payments.sendPaymentForm" => functions::payments::SendPaymentForm,
    "payments.sendStarsForm" => functions::payments::SendStarsForm,
    "payments.getPaymentReceipt" => functions::payments::GetPaymentReceipt,
    "payments.getSavedInfo" => functions::payments::GetSavedInfo,
    "payments.clearSavedInfo" => functions::payments::ClearSavedInfo,
    "payments.getStarsStatus" => functions::payments::GetStarsStatus,
    "payments.getStarsTransactions" => functions::payments::GetStarsTransactions,
    "payments.getStarsTopupOptions" => functions::payments::GetStarsTopupOptions,
    "msgs_ack" => types::MsgsAck,
    "bad_msg_notification" => types::BadMsgNotification,
    "bad_server_salt" => types::BadServerSalt,
    "msgs_state_req" => types::MsgsStateReq,
    "msgs_state_info" => types::MsgsStateInfo,
    "msgs_all_info" => types::MsgsAllInfo,
    "msg_detailed_info" => types::MsgDetailedInfo,
    "msg_new_detailed_info" => types::MsgNewDetailedInfo,
    "msg_resend_req" => types::MsgResendReq,
    "rpc_error" => types::RpcError,
    "rpc_answer_unknown" => types::RpcAnswerUnknown,
    "rpc_answer_dropped_running" => types::RpcAnswerDroppedRunning,
    "rpc_answer_dropped" => types::RpcAnswerDropped,
    "future_salt" => types::FutureSalt,
    "future_salts" => types::FutureSalts,
    "pong" => types::Pong,
    "destroy_session_ok" => types::DestroySessionOk,
    "destroy_session_none" => types::DestroySessionNone,
    "new_session_created" => types::NewSessionCreated,
    "http_wait" => types::HttpWait,
    "rpc_drop_answer" => functions::RpcDropAnswer,
    "get_future_salts" => functions::GetFutureSalts,
    "ping" => functions::Ping,
    "ping_delay_disconnect" => functions::PingDelayDisconnect,
    "destroy_session" => functions::DestroySession,
    "contacts.resolvedPeer" => types::contacts::ResolvedPeer,
    "inputChannel" => types::InputChannel,
    "auth.sentCode" => types::auth::SentCode,
    "auth.sentCodeTypeApp" => types::auth::SentCodeTypeApp,
    "auth.sentCodeTypeSms" => types::auth::SentCodeTypeSms,
    "auth.authorization" => types::auth::Authorization,
    "auth.loggedOut" => types::auth::LoggedOut,
    "codeSettings" => types::CodeSettings,
    "updateStarsBalance" => types::UpdateStarsBalance,
    "updates.difference" => types::updates::Difference,
    "messageEmpty" => types::MessageEmpty,
    "messages.messagesSlice" => types::messages::MessagesSlice,
    "messages.channelMessages" => types::messages::ChannelMessages,
    "userStatusRecently" => types::UserStatusRecently,
    "nearestDc" => types::NearestDc,
    "contacts.resolveUsername" => functions::contacts::ResolveUsername,
    "messages.getHistory" => functions::messages::GetHistory,
    "channels.getMessages" => functions::channels::GetMessages,
    "auth.sendCode" => functions::auth::SendCode,
    "auth.signIn" => functions::auth::SignIn,
    "auth.checkPassword" => functions::auth::CheckPassword,
    "auth.logOut" => functions::auth::LogOut,
    "help.getNearestDc" => functions::help::GetNearestDc,
};

/// Built-in constructors: grammers maps `Bool` to Rust's `bool`, so only `name_for_id` knows them.
const NAME_ONLY: &[&str] = &["boolFalse", "boolTrue"];

/// Service constructors grammers-mtproto parses by hand (they are commented out in its
/// `mtproto.tl`, so grammers-tl-types has no item and no name for them). Their ids are fixed by
/// the MTProto protocol (core.telegram.org/mtproto/service_messages) and do not change with layers.
const MANUAL: &[(&str, u32)] = &[
    ("rpc_result", 0xf35c6d01),
    ("msg_container", 0x73f1f8dc),
    ("gzip_packed", 0x3072cfa1),
];

struct Line {
    number: usize,
    name: String,
    id: u32,
}

/// The TL definitions of `tl/payments.tl`, skipping comments, blank lines and section markers.
fn definitions() -> Vec<Line> {
    let mut lines = Vec::new();
    for (index, text) in SCHEMA.lines().enumerate() {
        let number = index + 1;
        let text = text.trim();
        if text.is_empty()
            || text.starts_with("//")
            || text == "---types---"
            || text == "---functions---"
        {
            continue;
        }
        assert!(
            text.ends_with(';') && text.contains(" = "),
            "tl/payments.tl:{number}: not a TL definition: {text}"
        );
        let head = text.split(' ').next().unwrap_or_default();
        let (name, id) = head
            .split_once('#')
            .unwrap_or_else(|| panic!("tl/payments.tl:{number}: no #id in {head:?}"));
        assert!(
            (1..=8).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
            "tl/payments.tl:{number}: {name}: {id:?} is not a lowercase hex constructor id"
        );
        let id =
            u32::from_str_radix(id, 16).unwrap_or_else(|e| panic!("tl/payments.tl:{number}: {e}"));
        lines.push(Line {
            number,
            name: name.to_owned(),
            id,
        });
    }
    lines
}

#[test]
fn the_layer_is_230_everywhere() {
    assert_eq!(tl::LAYER, 230, "tgpay::tl::LAYER");
    assert_eq!(
        grammers_tl_types::LAYER,
        230,
        "grammers-tl-types is not on layer 230"
    );
    let header = SCHEMA.lines().next().unwrap_or_default();
    let layer: i32 = header
        .strip_prefix("// LAYER ")
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| {
            panic!("tl/payments.tl must start with `// LAYER <n>`, found {header:?}")
        });
    assert_eq!(
        layer,
        tl::LAYER,
        "tl/payments.tl is for another layer than tgpay::tl::LAYER"
    );
}

#[test]
fn every_id_matches_grammers() {
    let mut failures = Vec::new();
    for line in definitions() {
        let Line { number, name, id } = &line;
        let at = format!("tl/payments.tl:{number}: {name}#{id:08x}");
        if let Some((_, manual)) = MANUAL.iter().find(|(n, _)| n == name) {
            if manual != id {
                failures.push(format!("{at}: the MTProto id is {manual:08x}"));
            }
            continue;
        }
        let known_as = tl::name_for_id(*id);
        if known_as != name {
            failures.push(format!(
                "{at}: grammers-tl-types names this id {known_as:?}"
            ));
        }
        match TYPED.iter().find(|(n, _)| n == name) {
            Some((_, typed)) if typed != id => failures.push(format!(
                "{at}: the grammers-tl-types item has CONSTRUCTOR_ID {typed:08x}"
            )),
            Some(_) => {}
            None if NAME_ONLY.contains(&name.as_str()) => {}
            None => failures.push(format!("{at}: add it to TYPED in tests/tl_ids.rs")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} constructor id(s) differ from grammers-tl-types {}:\n{}",
        failures.len(),
        grammers_tl_types::LAYER,
        failures.join("\n")
    );
}

#[test]
fn the_tables_and_the_file_agree() {
    let lines = definitions();
    let mut seen = std::collections::HashSet::new();
    for line in &lines {
        assert!(
            seen.insert(line.name.as_str()),
            "tl/payments.tl:{}: {} is listed twice",
            line.number,
            line.name
        );
    }
    let names: Vec<&str> = TYPED
        .iter()
        .map(|(n, _)| *n)
        .chain(NAME_ONLY.iter().copied())
        .chain(MANUAL.iter().map(|(n, _)| *n))
        .collect();
    for name in &names {
        assert!(
            seen.contains(name),
            "tests/tl_ids.rs lists {name}, which tl/payments.tl lacks"
        );
    }
    assert_eq!(
        names.len(),
        lines.len(),
        "every line of tl/payments.tl is in exactly one table"
    );
}

include!("support/methods.rs");

#[test]
fn the_payment_methods_are_pinned() {
    let lines = definitions();
    let wrappers = [
        "invokeWithLayer",
        "initConnection",
        "rpc_error",
        "msg_container",
    ];
    for name in CATALOG_METHODS.into_iter().chain(wrappers) {
        assert!(
            lines.iter().any(|l| l.name == name),
            "tl/payments.tl lacks {name}"
        );
    }
    // Spot checks against ids read off core.telegram.org, independent of grammers.
    for (name, id) in [
        ("payments.sendStarsForm", 0x7998c914),
        ("payments.getPaymentForm", 0x37148dbb),
        ("account.getPassword", 0x548a30f5),
        ("payments.paymentResult", 0x4e5f810d),
    ] {
        let line = lines
            .iter()
            .find(|l| l.name == name)
            .unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(line.id, id, "{name}");
    }
}
