//! The offline Telegram: a local server that speaks MTProto 2.0 over TCP, to which an
//! unmodified MTProto client (grammers, TDLib, Telethon…) connects with a pre-shared key.
//!
//! This module is the protocol half; the world it serves (users, invoices, payments) plugs in
//! through [`rpc::Handler`].
//!
//! - [`transport`]: [`Server`] on loopback TCP; the abridged, intermediate,
//!   padded intermediate and full transports (detected from the first bytes), each plain or
//!   obfuscated; MTProto 2.0 encryption in both directions; the [`UpdatesHub`] that pushes
//!   `Updates` to live sessions.
//! - [`keys`]: the pre-shared [`AuthKey`]s in a [`KeyStore`]. There is no Diffie-Hellman
//!   exchange: an unknown key gets the transport error -404, as Telegram answers it.
//! - [`rpc`]: the [`Handler`](rpc::Handler) interface, the [`CallContext`](rpc::CallContext)
//!   of a query and its [`Reply`](rpc::Reply), and answers for the queries clients make on
//!   connect (`help.getConfig`, `help.getNearestDc`, `updates.getState`).
//!
//! Implemented from <https://core.telegram.org/mtproto> (description, service messages,
//! service messages about messages, transports, security guidelines): msg_id, seq_no,
//! session and server salt rules with `bad_msg_notification` / `bad_server_salt`,
//! `new_session_created`, `msg_container` and `gzip_packed` in both directions, `msgs_ack`,
//! `ping` / `ping_delay_disconnect`, `get_future_salts`, `destroy_session`,
//! `msgs_state_req`, `msg_resend_req`, `rpc_drop_answer`, quick ACKs, and the
//! `invokeWithLayer` / `initConnection` / `invokeWithoutUpdates` / `invokeAfterMsg(s)`
//! wrappers. A malformed or hostile packet closes its own connection only.

mod crypto;
mod framing;
pub mod keys;
mod mtproto;
pub mod rpc;
mod session;
pub mod transport;

pub use keys::{AuthKey, KeyStore};
pub use transport::{Server, ServerHandle, UpdatesHub};
