//! [`InvoiceRef`]: reading and writing invoice links.

use std::fmt;

use grammers_tl_types::{Serializable, enums, types};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode, utf8_percent_encode};

/// What identifies an invoice to pay: the `InputInvoice` of `payments.getPaymentForm`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum InvoiceRef {
    /// An invoice message (`inputInvoiceMessage`).
    Message {
        /// The chat the message is in.
        peer: enums::InputPeer,
        /// The message's id.
        msg_id: i32,
    },
    /// An invoice link's slug (`inputInvoiceSlug`), as in `https://t.me/$<slug>`.
    Slug(String),
    /// A paid subscription to join a chat through its invite link
    /// (`inputInvoiceChatInviteSubscription`); `hash` is the part after `t.me/+`.
    ChatInviteSubscription {
        /// The invite link's hash.
        hash: String,
    },
    /// Any other `InputInvoice` (Stars top-ups, gifts, …), passed to the server as it is.
    Raw(Box<enums::InputInvoice>),
}

/// Why a string is not an invoice link; carried by [`InvoiceRefError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvoiceLinkProblem {
    /// Nothing but whitespace.
    #[error("it is empty")]
    Empty,
    /// A scheme other than `http`, `https` and `tg`.
    #[error("the scheme {scheme:?} is not http, https or tg")]
    UnsupportedScheme {
        /// The scheme (the first 16 characters).
        scheme: String,
    },
    /// The host is not `t.me`, `telegram.me` or `telegram.dog`.
    #[error("the host {host:?} is not t.me, telegram.me or telegram.dog")]
    NotTelegramHost {
        /// The host as given (the first 64 characters).
        host: String,
    },
    /// A user name or password before the host.
    #[error("Telegram links have no user name or password before the host")]
    UserInfo,
    /// A port other than 80 and 443.
    #[error("Telegram links use the standard ports 80 and 443 only")]
    Port,
    /// A Telegram link, but not to an invoice.
    #[error("the link does not point to an invoice")]
    NotAnInvoice,
    /// An invoice link without a slug.
    #[error("the invoice slug is missing")]
    EmptySlug,
    /// The percent-decoded slug is not UTF-8.
    #[error("the percent-decoded invoice slug is not valid UTF-8")]
    SlugNotUtf8,
}

/// A string that is not an invoice link.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{input:?} is not an invoice link: {problem}; accepted forms are https://t.me/invoice/<slug>, \
     https://t.me/$<slug> and tg://invoice?slug=<slug> (also on telegram.me and telegram.dog, over \
     http or without a scheme)"
)]
pub struct InvoiceRefError {
    input: String,
    problem: InvoiceLinkProblem,
}

impl InvoiceRefError {
    /// The input, cut to its first 120 characters and `…` if it was longer.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// What was wrong with it.
    pub fn problem(&self) -> &InvoiceLinkProblem {
        &self.problem
    }
}

/// Characters kept as they are in links this module prints: RFC 3986's unreserved ones.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The longest input quoted in full by [`InvoiceRefError`].
const QUOTED_CHARS: usize = 120;

impl InvoiceRef {
    /// Reads an invoice link: `https://t.me/invoice/<slug>`, `https://t.me/$<slug>`,
    /// `tg://invoice?slug=<slug>` and their variants listed in the module docs.
    pub fn parse(input: &str) -> Result<InvoiceRef, InvoiceRefError> {
        parse_link(input)
            .map(InvoiceRef::Slug)
            .map_err(|problem| InvoiceRefError {
                input: quote(input),
                problem,
            })
    }

    /// The `InputInvoice` for `payments.getPaymentForm` and friends.
    pub fn to_input_invoice(&self) -> enums::InputInvoice {
        match self {
            InvoiceRef::Message { peer, msg_id } => {
                enums::InputInvoice::Message(types::InputInvoiceMessage {
                    peer: peer.clone(),
                    msg_id: *msg_id,
                })
            }
            InvoiceRef::Slug(slug) => {
                enums::InputInvoice::Slug(types::InputInvoiceSlug { slug: slug.clone() })
            }
            InvoiceRef::ChatInviteSubscription { hash } => {
                enums::InputInvoice::ChatInviteSubscription(
                    types::InputInvoiceChatInviteSubscription { hash: hash.clone() },
                )
            }
            InvoiceRef::Raw(invoice) => (**invoice).clone(),
        }
    }
}

impl std::str::FromStr for InvoiceRef {
    type Err = InvoiceRefError;

    /// [`InvoiceRef::parse`].
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        InvoiceRef::parse(input)
    }
}

impl From<&InvoiceRef> for enums::InputInvoice {
    fn from(invoice: &InvoiceRef) -> Self {
        invoice.to_input_invoice()
    }
}

impl From<InvoiceRef> for enums::InputInvoice {
    fn from(invoice: InvoiceRef) -> Self {
        match invoice {
            InvoiceRef::Message { peer, msg_id } => {
                enums::InputInvoice::Message(types::InputInvoiceMessage { peer, msg_id })
            }
            InvoiceRef::Slug(slug) => enums::InputInvoice::Slug(types::InputInvoiceSlug { slug }),
            InvoiceRef::ChatInviteSubscription { hash } => {
                enums::InputInvoice::ChatInviteSubscription(
                    types::InputInvoiceChatInviteSubscription { hash },
                )
            }
            InvoiceRef::Raw(invoice) => *invoice,
        }
    }
}

/// Messages, slugs and chat invite subscriptions get their own variants; the rest is `Raw`.
impl From<enums::InputInvoice> for InvoiceRef {
    fn from(invoice: enums::InputInvoice) -> Self {
        match invoice {
            enums::InputInvoice::Message(message) => InvoiceRef::Message {
                peer: message.peer,
                msg_id: message.msg_id,
            },
            enums::InputInvoice::Slug(slug) => InvoiceRef::Slug(slug.slug),
            enums::InputInvoice::ChatInviteSubscription(subscription) => {
                InvoiceRef::ChatInviteSubscription {
                    hash: subscription.hash,
                }
            }
            other => InvoiceRef::Raw(Box::new(other)),
        }
    }
}

/// Written as `{"link": <Display>, "tl": <hex of the InputInvoice>}`; read back from `tl`
/// (exact for every kind of invoice; `link` is for people reading a journal).
impl serde::Serialize for InvoiceRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut state = s.serialize_struct("InvoiceRef", 2)?;
        state.serialize_field("link", &self.to_string())?;
        state.serialize_field("tl", &hex::encode(self.to_input_invoice().to_bytes()))?;
        state.end()
    }
}

impl<'de> serde::Deserialize<'de> for InvoiceRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        struct Written {
            tl: String,
        }
        let written = Written::deserialize(d)?;
        crate::tl_serde::hex::decode::<enums::InputInvoice>(&written.tl)
            .map(InvoiceRef::from)
            .map_err(serde::de::Error::custom)
    }
}

/// A canonical form: `https://t.me/$<slug>` (`tg://invoice?slug=<slug>` when the slug holds a
/// `/`, which the path form cannot carry), `message 123 in user 42`, `https://t.me/+<hash>`, or
/// `input invoice #65f00ce3` (the constructor id) for the rest. Slug links read back with
/// [`InvoiceRef::parse`] to the same slug.
impl fmt::Display for InvoiceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvoiceRef::Message { peer, msg_id } => {
                write!(f, "message {msg_id} in {}", PeerDisplay(peer))
            }
            InvoiceRef::Slug(slug) if slug.contains('/') => {
                write!(
                    f,
                    "tg://invoice?slug={}",
                    utf8_percent_encode(slug, UNRESERVED)
                )
            }
            InvoiceRef::Slug(slug) => {
                write!(f, "https://t.me/${}", utf8_percent_encode(slug, UNRESERVED))
            }
            InvoiceRef::ChatInviteSubscription { hash } => {
                write!(f, "https://t.me/+{}", utf8_percent_encode(hash, UNRESERVED))
            }
            InvoiceRef::Raw(invoice) => match invoice.to_bytes().first_chunk::<4>() {
                Some(id) => write!(f, "input invoice #{:08x}", u32::from_le_bytes(*id)),
                None => f.write_str("input invoice"),
            },
        }
    }
}

/// `user 42`, `chat 7`, `channel 100`, `self`; no access hashes.
struct PeerDisplay<'a>(&'a enums::InputPeer);

impl fmt::Display for PeerDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            enums::InputPeer::Empty => f.write_str("an empty peer"),
            enums::InputPeer::PeerSelf => f.write_str("self"),
            enums::InputPeer::Chat(chat) => write!(f, "chat {}", chat.chat_id),
            enums::InputPeer::User(user) => write!(f, "user {}", user.user_id),
            enums::InputPeer::Channel(channel) => write!(f, "channel {}", channel.channel_id),
            enums::InputPeer::UserFromMessage(user) => write!(
                f,
                "user {} (seen in message {} in {})",
                user.user_id,
                user.msg_id,
                PeerDisplay(&user.peer)
            ),
            enums::InputPeer::ChannelFromMessage(channel) => write!(
                f,
                "channel {} (seen in message {} in {})",
                channel.channel_id,
                channel.msg_id,
                PeerDisplay(&channel.peer)
            ),
        }
    }
}

/// The input for an error message: at most [`QUOTED_CHARS`] characters.
fn quote(input: &str) -> String {
    let mut chars = input.chars();
    let mut quoted: String = chars.by_ref().take(QUOTED_CHARS).collect();
    if chars.next().is_some() {
        quoted.push('…');
    }
    quoted
}

/// Whether `text` starts with `prefix` (ASCII lower case), ignoring ASCII case.
fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        text.get(prefix.len()..)
    } else {
        None
    }
}

/// The slug of an invoice link, following TDLib's `LinkManager::get_link_info` and
/// `parse_t_me_link_query` / `parse_tg_link_query`.
fn parse_link(input: &str) -> Result<String, InvoiceLinkProblem> {
    let link = input.trim();
    if link.is_empty() {
        return Err(InvoiceLinkProblem::Empty);
    }
    // TDLib drops the fragment first.
    let link = link.split('#').next().unwrap_or_default();
    match strip_prefix_ignore_case(link, "tg:") {
        Some(rest) => parse_tg(rest.strip_prefix("//").unwrap_or(rest)),
        None => parse_http(link),
    }
}

/// `tg://invoice?slug=<slug>`, with `tg:` and `//` already removed.
fn parse_tg(rest: &str) -> Result<String, InvoiceLinkProblem> {
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path_segments(path) != [b"invoice".as_slice()] {
        return Err(InvoiceLinkProblem::NotAnInvoice);
    }
    let slug = query
        .split('&')
        .filter_map(|argument| {
            let (key, value) = argument.split_once('=').unwrap_or((argument, ""));
            (decode_argument(key) == b"slug").then(|| decode_argument(value))
        })
        .next()
        .unwrap_or_default();
    slug_text(slug)
}

/// `[http[s]://]host[:port]/path?query`: `t.me/invoice/<slug>` and `t.me/$<slug>`.
fn parse_http(link: &str) -> Result<String, InvoiceLinkProblem> {
    // TDLib reads a scheme up to the first of `:/?#@[]`, and only if `://` follows.
    let scheme_end = link
        .find([':', '/', '?', '#', '@', '[', ']'])
        .unwrap_or(link.len());
    let (scheme, after) = link.split_at(scheme_end);
    let rest = match after.strip_prefix("://") {
        Some(rest)
            if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") =>
        {
            rest
        }
        Some(_) => {
            return Err(InvoiceLinkProblem::UnsupportedScheme {
                scheme: scheme.chars().take(16).collect(),
            });
        }
        None => link,
    };

    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, query) = rest.split_at(authority_end);
    if authority.contains('@') {
        return Err(InvoiceLinkProblem::UserInfo);
    }
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if !authority.ends_with(']') => {
            let port = port.trim_start_matches('0');
            if port != "80" && port != "443" {
                return Err(InvoiceLinkProblem::Port);
            }
            host
        }
        _ => authority,
    };
    let decoded_host = percent_decode(host.as_bytes()).collect::<Vec<u8>>();
    let lower_host = decoded_host.to_ascii_lowercase();
    let bare_host = lower_host.strip_prefix(b"www.").unwrap_or(&lower_host);
    if !matches!(bare_host, b"t.me" | b"telegram.me" | b"telegram.dog") {
        return Err(InvoiceLinkProblem::NotTelegramHost {
            host: host.chars().take(64).collect(),
        });
    }

    // TDLib skips any number of leading `/s/` (also spelled `/%73/`).
    let mut query = query;
    loop {
        let next = if query.starts_with("/s/") {
            query.get(2..)
        } else if query.starts_with("/%73/") {
            query.get(4..)
        } else {
            None
        };
        match next {
            Some(next) => query = next,
            None => break,
        }
    }
    let path = query.split('?').next().unwrap_or_default();
    let segments = path_segments(path);
    match segments.as_slice() {
        [first, second, ..] if *first == b"invoice" => slug_text(second.to_vec()),
        [first] if *first == b"invoice" => Err(InvoiceLinkProblem::EmptySlug),
        [first, ..] => match first.strip_prefix(b"$") {
            Some(slug) => slug_text(slug.to_vec()),
            None => Err(InvoiceLinkProblem::NotAnInvoice),
        },
        [] => Err(InvoiceLinkProblem::NotAnInvoice),
    }
}

/// A URL path, without its leading `/`, percent-decoded and then split at `/`, without trailing
/// empty segments (TDLib's `parse_url_query`).
fn path_segments(path: &str) -> Vec<Vec<u8>> {
    let path = path.strip_prefix('/').unwrap_or(path);
    let decoded: Vec<u8> = percent_decode(path.as_bytes()).collect();
    let mut segments: Vec<Vec<u8>> = decoded
        .split(|&byte| byte == b'/')
        .map(<[u8]>::to_vec)
        .collect();
    while segments.last().is_some_and(Vec::is_empty) {
        segments.pop();
    }
    segments
}

/// A query argument's key or value: `+` is a space, then percent-decoded.
fn decode_argument(text: &str) -> Vec<u8> {
    let plus_as_space = text.replace('+', " ");
    percent_decode(plus_as_space.as_bytes()).collect()
}

/// A slug must be non-empty UTF-8.
fn slug_text(slug: Vec<u8>) -> Result<String, InvoiceLinkProblem> {
    if slug.is_empty() {
        return Err(InvoiceLinkProblem::EmptySlug);
    }
    String::from_utf8(slug).map_err(|_| InvoiceLinkProblem::SlugNotUtf8)
}
