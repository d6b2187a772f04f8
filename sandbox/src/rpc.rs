//! The interface between the protocol and the world it serves: the server unwraps each RPC
//! query (`invokeWithLayer`, `initConnection`, `invokeWithoutUpdates`, `invokeAfterMsg(s)`,
//! `gzip_packed`) and hands the inner function to a [`Handler`], which answers with a
//! [`Reply`]. Also helpers for the answers every client asks for on connect.

use std::fmt;
use std::sync::Arc;

use grammers_tl_types::{self as tl, Cursor, Deserializable, Identifiable, Serializable};

use super::framing::TransportKind;
use crate::clock::unix_now;
use crate::hub::UpdatesHub;
pub use crate::session::ClientInfo;

/// Answers RPC queries. Implemented by the world the sandbox simulates.
///
/// `handle` is synchronous and runs on the task of the connection that received the query: the
/// connection waits for it (other connections do not). Keep it short — typically a lock on
/// the world's state, a few map lookups, serialization — and do anything slow (a 3-D Secure
/// confirmation arriving later, a scripted merchant delay) elsewhere, delivering the outcome
/// through [`UpdatesHub::push`]. A panic in a handler closes that connection only.
pub trait Handler: Send + Sync + 'static {
    /// Answers one query. `request` is the serialized TL function after unwrapping, constructor
    /// id first (see [`constructor_id`] and [`parse`]).
    fn handle(&self, ctx: &CallContext, request: &[u8]) -> Reply;
}

impl<H: Handler + ?Sized> Handler for Arc<H> {
    fn handle(&self, ctx: &CallContext, request: &[u8]) -> Reply {
        (**self).handle(ctx, request)
    }
}

impl<H: Handler + ?Sized> Handler for Box<H> {
    fn handle(&self, ctx: &CallContext, request: &[u8]) -> Reply {
        (**self).handle(ctx, request)
    }
}

/// A [`Handler`] made of a closure, see [`handler_fn`].
pub struct FnHandler<F>(F);

impl<F> fmt::Debug for FnHandler<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FnHandler")
    }
}

impl<F> Handler for FnHandler<F>
where
    F: Fn(&CallContext, &[u8]) -> Reply + Send + Sync + 'static,
{
    fn handle(&self, ctx: &CallContext, request: &[u8]) -> Reply {
        (self.0)(ctx, request)
    }
}

/// Wraps a closure as a [`Handler`].
pub fn handler_fn<F>(f: F) -> FnHandler<F>
where
    F: Fn(&CallContext, &[u8]) -> Reply + Send + Sync + 'static,
{
    FnHandler(f)
}

/// Everything the server knows about a query besides its bytes.
#[derive(Debug, Clone)]
pub struct CallContext {
    /// The user the auth key belongs to.
    pub user_id: i64,
    /// The auth key the query was encrypted with.
    pub auth_key_id: i64,
    /// The client's session.
    pub session_id: i64,
    /// The TCP connection (unique for the server's lifetime).
    pub connection_id: u64,
    /// The msg_id of the message that carried the query.
    pub msg_id: i64,
    /// The API layer from the session's last `invokeWithLayer`, if any.
    pub layer: Option<i32>,
    /// The session's last `initConnection`, if any.
    pub client: Option<Arc<ClientInfo>>,
    /// False when the query came in `invokeWithoutUpdates`.
    pub wants_updates: bool,
    /// The MTProto transport of the connection.
    pub transport: TransportKind,
    /// Whether the connection uses transport obfuscation.
    pub obfuscated: bool,
    pub(crate) hub: UpdatesHub,
}

impl CallContext {
    /// The server's updates hub, to push updates to this or any other user's live sessions.
    pub fn hub(&self) -> &UpdatesHub {
        &self.hub
    }
}

/// The answer to one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// The serialized TL return value, sent in `rpc_result`.
    Result(Vec<u8>),
    /// An `rpc_error`.
    Error {
        /// HTTP-like code (400, 401, 403, 420, 500…).
        code: i32,
        /// The error name, e.g. `FORM_EXPIRED` or `FLOOD_WAIT_30`.
        message: String,
    },
    /// The query was processed, but the connection is closed without an answer — nothing of
    /// the packet that carried it is sent. The client cannot tell whether it succeeded.
    DropConnection,
    /// The query was processed; `reply` is sent after `after`, on the same connection, if it is
    /// still open then (the connection goes on serving meanwhile).
    Delayed {
        /// How long to hold the answer.
        after: std::time::Duration,
        /// The answer (a nested `Delayed` or `DropConnection` is sent as nothing).
        reply: Box<Reply>,
    },
}

impl Reply {
    /// A result, serialized.
    pub fn result<T: Serializable>(value: &T) -> Self {
        Self::Result(value.to_bytes())
    }

    /// An `rpc_error`.
    pub fn error(code: i32, message: impl Into<String>) -> Self {
        Self::Error {
            code,
            message: message.into(),
        }
    }

    /// `400 INPUT_METHOD_INVALID_<id>`, Telegram's answer to a function it does not know
    /// (`<id>` is the constructor id in decimal).
    pub fn method_invalid(request: &[u8]) -> Self {
        match constructor_id(request) {
            Some(id) => Self::error(400, format!("INPUT_METHOD_INVALID_{id}")),
            None => Self::fetch_failed(),
        }
    }

    /// `400 INPUT_FETCH_FAIL`: the query could not be deserialized.
    pub fn fetch_failed() -> Self {
        Self::error(400, "INPUT_FETCH_FAIL")
    }
}

/// The constructor id a serialized function or object starts with.
pub fn constructor_id(request: &[u8]) -> Option<u32> {
    let bytes = request.get(..4)?;
    Some(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

/// Deserializes a function or object of type `T` (constructor id first).
///
/// A different constructor id, or bytes that do not deserialize, give
/// [`Reply::fetch_failed`], ready to be returned by a handler.
pub fn parse<T: Deserializable + Identifiable>(request: &[u8]) -> Result<T, Reply> {
    if constructor_id(request) != Some(T::CONSTRUCTOR_ID) {
        return Err(Reply::fetch_failed());
    }
    T::deserialize(&mut Cursor::from_slice(&request[4..])).map_err(|_| Reply::fetch_failed())
}

/// A `Config` for `help.getConfig`: this DC, no `dc_options` (clients that store DC options,
/// like grammers, would otherwise be pointed elsewhere), and Telegram's usual limits.
pub fn config(this_dc: i32, test_mode: bool) -> tl::enums::Config {
    let now = unix_now() as i32;
    tl::enums::Config::Config(tl::types::Config {
        default_p2p_contacts: false,
        preload_featured_stickers: false,
        revoke_pm_inbox: true,
        blocked_mode: false,
        force_try_ipv6: false,
        date: now,
        expires: now.saturating_add(3600),
        test_mode,
        this_dc,
        dc_options: Vec::new(),
        dc_txt_domain_name: String::new(),
        chat_size_max: 200,
        megagroup_size_max: 200_000,
        forwarded_count_max: 100,
        online_update_period_ms: 210_000,
        offline_blur_timeout_ms: 5_000,
        offline_idle_timeout_ms: 30_000,
        online_cloud_timeout_ms: 300_000,
        notify_cloud_delay_ms: 30_000,
        notify_default_delay_ms: 1_500,
        push_chat_period_ms: 60_000,
        push_chat_limit: 2,
        edit_time_limit: 172_800,
        revoke_time_limit: i32::MAX,
        revoke_pm_time_limit: i32::MAX,
        rating_e_decay: 2_419_200,
        stickers_recent_limit: 200,
        channels_read_media_period: 604_800,
        tmp_sessions: None,
        call_receive_timeout_ms: 20_000,
        call_ring_timeout_ms: 90_000,
        call_connect_timeout_ms: 30_000,
        call_packet_timeout_ms: 10_000,
        me_url_prefix: "https://t.me/".into(),
        autoupdate_url_prefix: None,
        gif_search_username: None,
        venue_search_username: None,
        img_search_username: None,
        static_maps_provider: None,
        caption_length_max: 1024,
        message_length_max: 4096,
        webfile_dc_id: this_dc,
        suggested_lang_code: None,
        lang_pack_version: None,
        base_lang_pack_version: None,
        reactions_default: None,
        autologin_token: None,
    })
}

/// A `NearestDc` for `help.getNearestDc`: the client is always nearest to this DC.
pub fn nearest_dc(this_dc: i32, country: &str) -> tl::enums::NearestDc {
    tl::enums::NearestDc::Dc(tl::types::NearestDc {
        country: country.into(),
        this_dc,
        nearest_dc: this_dc,
    })
}

/// An `updates.State` for `updates.getState`, dated now.
pub fn updates_state(pts: i32, qts: i32, seq: i32, unread_count: i32) -> tl::enums::updates::State {
    tl::enums::updates::State::State(tl::types::updates::State {
        pts,
        qts,
        date: unix_now() as i32,
        seq,
        unread_count,
    })
}

/// Answers the queries every client makes on connect and that do not depend on the world:
/// `help.getConfig` and `help.getNearestDc`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Basics {
    /// The DC id the sandbox claims to be.
    pub this_dc: i32,
    /// Whether to present itself as a test DC.
    pub test_mode: bool,
    /// The country `help.getNearestDc` reports (ISO 3166-1 alpha-2).
    pub country: String,
}

impl Default for Basics {
    fn default() -> Self {
        Self {
            this_dc: 2,
            test_mode: false,
            country: "NL".into(),
        }
    }
}

impl Basics {
    /// The answer if `request` is one of the queries this helper knows, `None` otherwise.
    pub fn answer(&self, request: &[u8]) -> Option<Reply> {
        use tl::functions::help;
        match constructor_id(request)? {
            help::GetConfig::CONSTRUCTOR_ID => {
                Some(Reply::result(&config(self.this_dc, self.test_mode)))
            }
            help::GetNearestDc::CONSTRUCTOR_ID => {
                Some(Reply::result(&nearest_dc(self.this_dc, &self.country)))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_roundtrips_and_has_no_dc_options() {
        let bytes = config(2, true).to_bytes();
        let tl::enums::Config::Config(parsed) =
            tl::enums::Config::from_bytes(&bytes).expect("valid Config");
        assert_eq!(parsed.this_dc, 2);
        assert!(parsed.test_mode);
        assert!(parsed.dc_options.is_empty());
        assert!(parsed.expires > parsed.date);
    }

    #[test]
    fn parse_checks_the_constructor() {
        let ping = tl::functions::help::GetNearestDc {}.to_bytes();
        assert!(parse::<tl::functions::help::GetNearestDc>(&ping).is_ok());
        assert_eq!(
            parse::<tl::functions::help::GetConfig>(&ping).err(),
            Some(Reply::fetch_failed())
        );
        let truncated = &tl::functions::Ping { ping_id: 5 }.to_bytes()[..8];
        assert_eq!(
            parse::<tl::functions::Ping>(truncated).err(),
            Some(Reply::fetch_failed())
        );
        assert_eq!(
            parse::<tl::functions::Ping>(&[1, 2]).err(),
            Some(Reply::fetch_failed())
        );
    }

    #[test]
    fn method_invalid_names_the_constructor() {
        let request = tl::functions::help::GetNearestDc {}.to_bytes();
        assert_eq!(
            Reply::method_invalid(&request),
            Reply::error(400, "INPUT_METHOD_INVALID_531836966")
        );
    }

    #[test]
    fn basics_answer_connect_queries_only() {
        let basics = Basics::default();
        let nearest = basics
            .answer(&tl::functions::help::GetNearestDc {}.to_bytes())
            .expect("answered");
        let Reply::Result(bytes) = nearest else {
            panic!("expected a result, got {nearest:?}");
        };
        let tl::enums::NearestDc::Dc(dc) = tl::enums::NearestDc::from_bytes(&bytes).unwrap();
        assert_eq!(
            (dc.this_dc, dc.nearest_dc, dc.country.as_str()),
            (2, 2, "NL")
        );
        assert!(
            basics
                .answer(&tl::functions::updates::GetState {}.to_bytes())
                .is_none()
        );
    }
}
