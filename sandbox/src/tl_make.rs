//! Constructors for the large TL objects the sandbox sends (users, messages, updates).
//!
//! The generated TL structs have no defaults; spelling every field once here keeps the world
//! readable.

use grammers_tl_types as tl;

/// The parts of a user the sandbox varies.
pub(crate) struct UserView<'a> {
    pub id: i64,
    pub access_hash: i64,
    pub first_name: &'a str,
    pub last_name: Option<&'a str>,
    pub username: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub is_self: bool,
    pub bot: bool,
}

pub(crate) fn user(v: UserView<'_>) -> tl::enums::User {
    tl::types::User {
        is_self: v.is_self,
        contact: false,
        mutual_contact: false,
        deleted: false,
        bot: v.bot,
        bot_chat_history: false,
        bot_nochats: v.bot,
        verified: false,
        restricted: false,
        min: false,
        bot_inline_geo: false,
        support: false,
        scam: false,
        apply_min_photo: false,
        fake: false,
        bot_attach_menu: false,
        premium: false,
        attach_menu_enabled: false,
        bot_can_edit: false,
        close_friend: false,
        stories_hidden: false,
        stories_unavailable: true,
        contact_require_premium: false,
        bot_business: false,
        bot_has_main_app: false,
        bot_forum_view: false,
        bot_forum_can_manage_topics: false,
        bot_can_manage_bots: false,
        bot_guestchat: false,
        bot_guard: false,
        id: v.id,
        access_hash: Some(v.access_hash),
        first_name: Some(v.first_name.to_owned()),
        last_name: v.last_name.map(str::to_owned),
        username: v.username.map(str::to_owned),
        phone: if v.bot {
            None
        } else {
            v.phone.map(str::to_owned)
        },
        photo: None,
        status: Some(tl::enums::UserStatus::Recently(
            tl::types::UserStatusRecently { by_me: false },
        )),
        bot_info_version: if v.bot { Some(1) } else { None },
        restriction_reason: None,
        bot_inline_placeholder: None,
        lang_code: None,
        emoji_status: None,
        usernames: None,
        stories_max_id: None,
        color: None,
        profile_color: None,
        bot_active_users: None,
        bot_verification_icon: None,
        send_paid_messages_stars: None,
        linked_community_id: None,
    }
    .into()
}

pub(crate) fn peer_user(id: i64) -> tl::enums::Peer {
    tl::types::PeerUser { user_id: id }.into()
}

/// The parts of a plain message the sandbox varies.
pub(crate) struct MessageView {
    pub id: i32,
    pub peer: i64,
    pub from: i64,
    pub out: bool,
    pub date: i32,
    pub text: String,
    pub media: Option<tl::enums::MessageMedia>,
    pub reply_markup: Option<tl::enums::ReplyMarkup>,
    pub edit_date: Option<i32>,
}

/// A plain message in the user's private chat with `peer`.
pub(crate) fn message(v: MessageView) -> tl::enums::Message {
    let MessageView {
        id,
        peer,
        from,
        out,
        date,
        text,
        media,
        reply_markup,
        edit_date,
    } = v;
    tl::types::Message {
        out,
        mentioned: false,
        media_unread: false,
        silent: false,
        post: false,
        from_scheduled: false,
        legacy: false,
        edit_hide: false,
        pinned: false,
        noforwards: false,
        invert_media: false,
        offline: false,
        video_processing_pending: false,
        paid_suggested_post_stars: false,
        paid_suggested_post_ton: false,
        id,
        from_id: Some(peer_user(from)),
        from_boosts_applied: None,
        from_rank: None,
        peer_id: peer_user(peer),
        saved_peer_id: None,
        fwd_from: None,
        via_bot_id: None,
        via_business_bot_id: None,
        guestchat_via_from: None,
        reply_to: None,
        date,
        message: text,
        media,
        reply_markup,
        entities: None,
        views: None,
        forwards: None,
        replies: None,
        edit_date,
        post_author: None,
        grouped_id: None,
        reactions: None,
        restriction_reason: None,
        ttl_period: None,
        quick_reply_shortcut_id: None,
        effect: None,
        factcheck: None,
        report_delivery_until_date: None,
        paid_message_stars: None,
        suggested_post: None,
        schedule_repeat_period: None,
        summary_from_language: None,
        rich_message: None,
    }
    .into()
}

/// A service message in the user's private chat with `peer`.
pub(crate) fn message_service(
    id: i32,
    peer: i64,
    from: i64,
    out: bool,
    date: i32,
    action: tl::enums::MessageAction,
) -> tl::enums::Message {
    tl::types::MessageService {
        out,
        mentioned: false,
        media_unread: false,
        reactions_are_possible: false,
        silent: false,
        post: false,
        legacy: false,
        id,
        from_id: Some(peer_user(from)),
        peer_id: peer_user(peer),
        saved_peer_id: None,
        reply_to: None,
        date,
        action,
        reactions: None,
        ttl_period: None,
    }
    .into()
}

/// The inline keyboard of an invoice message: one Pay button.
pub(crate) fn buy_keyboard(text: String) -> tl::enums::ReplyMarkup {
    tl::types::ReplyInlineMarkup {
        force_reply: false,
        rows: vec![
            tl::types::KeyboardInlineButtonRow {
                buttons: vec![
                    tl::types::KeyboardInlineButton {
                        style: None,
                        text,
                        r#type: tl::types::InlineButtonTypeBuy {}.into(),
                    }
                    .into(),
                ],
            }
            .into(),
        ],
    }
    .into()
}

pub(crate) fn web_photo(url: &str) -> tl::enums::WebDocument {
    tl::types::WebDocumentNoProxy {
        url: url.to_owned(),
        size: 0,
        mime_type: "image/jpeg".to_owned(),
        attributes: Vec::new(),
    }
    .into()
}

pub(crate) fn updates(
    updates: Vec<tl::enums::Update>,
    users: Vec<tl::enums::User>,
    date: i32,
) -> tl::enums::Updates {
    tl::types::Updates {
        updates,
        users,
        chats: Vec::new(),
        date,
        seq: 0,
    }
    .into()
}

/// `updateServiceNotification.type` of a merchant's pre-checkout rejection.
pub(crate) const NOTIFY_PRECHECKOUT_FAILED: &str = "PAYMENT_PRECHECKOUT_FAILED";
/// `updateServiceNotification.type` of a failed 3-D Secure verification.
pub(crate) const NOTIFY_VERIFICATION_FAILED: &str = "PAYMENT_VERIFICATION_FAILED";

/// A popup service notification whose text ends with `url`, also linked as a text-URL entity.
pub(crate) fn service_notification_linking(
    kind: &str,
    text: &str,
    url: &str,
    date: i32,
) -> tl::enums::Update {
    let message = format!("{text} {url}");
    let offset = text.encode_utf16().count() + 1;
    let length = url.encode_utf16().count();
    tl::types::UpdateServiceNotification {
        popup: true,
        invert_media: false,
        inbox_date: Some(date),
        r#type: kind.to_owned(),
        message,
        media: tl::enums::MessageMedia::Empty,
        entities: vec![
            tl::types::MessageEntityTextUrl {
                offset: i32::try_from(offset).unwrap_or(i32::MAX),
                length: i32::try_from(length).unwrap_or(i32::MAX),
                url: url.to_owned(),
            }
            .into(),
        ],
    }
    .into()
}

/// A popup service notification (`updateServiceNotification`) of the given type.
pub(crate) fn service_notification(kind: &str, message: String, date: i32) -> tl::enums::Update {
    tl::types::UpdateServiceNotification {
        popup: true,
        invert_media: false,
        inbox_date: Some(date),
        r#type: kind.to_owned(),
        message,
        media: tl::enums::MessageMedia::Empty,
        entities: Vec::new(),
    }
    .into()
}
