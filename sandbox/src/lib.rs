//! The offline Telegram: a local server that speaks MTProto 2.0 over TCP, to which an
//! unmodified MTProto client (grammers, TDLib, Telethon…) connects with a pre-shared key.
//!
//! [`Sandbox::start`] runs the whole thing: the MTProto server, the payments [`World`] behind
//! it, and the web pages (3-D Secure, payment gateway) on a second loopback port.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use tgpay_sandbox::{Sandbox, Scenario, scenario::ALICE};
//!
//! let sandbox = Sandbox::start(Scenario::default_world()).await?;
//! let alice = sandbox.client(ALICE)?; // an unmodified grammers Client, already logged in
//! let me = alice.client.invoke(&tgpay::tl::functions::users::GetUsers {
//!     id: vec![tgpay::tl::enums::InputUser::UserSelf],
//! }).await?;
//! assert_eq!(me.len(), 1);
//! assert!(sandbox.world().charges().is_empty());
//! sandbox.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! The parts:
//!
//! - [`world`]: users, merchants, invoices, forms, messages, the charge log and the Stars
//!   ledger, with the semantics of every payments RPC; [`api`] decodes requests into it.
//! - [`scenario`]: worlds described in TOML or JSON, and the built-in default world.
//! - [`merchant`]: scripted merchant and provider behaviour (shipping, pre-checkout, cards).
//! - [`web`]: the 3-D Secure page and the gateway page.
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

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod api;
mod clock;
mod crypto;
mod framing;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod hub;
pub mod keys;
pub mod merchant;
pub(crate) mod mtproto;
pub mod rpc;
pub mod scenario;
pub(crate) mod session;
pub mod srp;
mod state;
mod stripe;
mod tl_make;
pub mod transport;
pub mod web;
pub mod world;

pub mod handle;

pub use handle::{
    ConnectionInfo, LoginInfo, Sandbox, SandboxClient, SandboxError, SandboxLimits, SandboxOptions,
    SandboxUser,
};
pub use keys::{AuthKey, KeyStore};
pub use scenario::{Scenario, ScenarioError};
pub use transport::{Server, ServerConfig, ServerHandle, UpdatesHub};
pub use web::WebConfig;
pub use world::World;
