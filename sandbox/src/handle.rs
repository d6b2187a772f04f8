//! [`Sandbox`]: the MTProto server, the world and the web pages, started together.

use std::net::{SocketAddr, SocketAddrV6};
use std::sync::{Arc, Mutex, MutexGuard};

use grammers_client::Client;
use grammers_mtsender::{ConnectionParams, SenderPool, SenderPoolFatHandle};
use grammers_session::storages::MemorySession;
use grammers_session::types::DcOption;
use grammers_session::updates::UpdatesLike;
use grammers_session::{Session, SessionData};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::api::{self, Answer};
use super::keys::{AuthKey, KeyStore, UNBOUND_USER};
use super::merchant::TEST_TOKENS;
use super::rpc::{Basics, CallContext, Handler, Reply};
use super::scenario::{CardOutcome, Scenario, ScenarioError};
use super::transport::{
    Server, ServerConfig, ServerError, ServerHandle, StatsSnapshot, UpdatesHub,
};
use super::web::{self, WebConfig};
use super::world::{Push, World};

/// The DC id the sandbox presents itself as.
pub const DC_ID: i32 = 2;
/// The `api_id` sandbox clients made by [`Sandbox::client`] use.
pub const API_ID: i32 = 4;
/// How many guest keys (pre-shared keys bound to no user, for logging in) a sandbox has.
pub const GUEST_KEYS: usize = 4;

/// Why the sandbox could not start or hand out a client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// The scenario is invalid.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// A listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}; pick another address or port")]
    Listen {
        /// The address asked for.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The MTProto server could not start.
    #[error(transparent)]
    Server(#[from] ServerError),
    /// No such sandbox user.
    #[error("user {0} is not in the sandbox's scenario; see Sandbox::users()")]
    UnknownUser(i64),
    /// The sandbox listens on IPv6, which grammers sessions made here do not support.
    #[error("the sandbox listens on {0}; use an IPv4 loopback address")]
    NotIpv4(SocketAddr),
    /// No guest key with this index.
    #[error("the sandbox has {count} guest keys; guest key {index} does not exist")]
    NoGuestKey {
        /// The index asked for.
        index: usize,
        /// How many guest keys there are.
        count: usize,
    },
}

/// A user of the sandbox, with the credentials a client needs.
#[derive(Clone)]
pub struct SandboxUser {
    /// Telegram user id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// Phone number (digits), for logging in with `auth.sendCode`.
    pub phone: Option<String>,
    /// The 2FA password, if the account has one.
    pub password: Option<String>,
    /// The pre-shared auth key.
    pub auth_key: AuthKey,
}

impl std::fmt::Debug for SandboxUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxUser")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("phone", &self.phone)
            .field("has_password", &self.password.is_some())
            .field("auth_key", &self.auth_key)
            .finish()
    }
}

/// Where to listen. Port 0 picks a free port.
#[derive(Debug, Clone, Copy)]
pub struct SandboxOptions {
    /// The MTProto server's address.
    pub listen: SocketAddr,
    /// The web pages' address.
    pub web_listen: SocketAddr,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        Self {
            listen: any,
            web_listen: any,
        }
    }
}

/// The limits a sandbox serves within: its MTProto server's and its web pages'. The defaults
/// suit a test server shared by many automated clients.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SandboxLimits {
    /// The MTProto server's limits.
    pub server: ServerConfig,
    /// The web pages' limits.
    pub web: WebConfig,
}

impl SandboxLimits {
    /// Sets the MTProto server's limits.
    pub fn server(mut self, config: ServerConfig) -> Self {
        self.server = config;
        self
    }

    /// Sets the web pages' limits.
    pub fn web(mut self, config: WebConfig) -> Self {
        self.web = config;
        self
    }
}

/// What a client needs to connect: the JSON line `tgpay sandbox` prints.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct ConnectionInfo {
    /// DC id.
    pub dc_id: i32,
    /// IPv4 loopback address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// The users.
    pub users: Vec<ConnectionUser>,
    /// The invoices, by slug.
    pub invoices: Vec<ConnectionInvoice>,
    /// Credentials JSON (`inputPaymentCredentials.data`) that succeed, decline, or need 3-D
    /// Secure.
    pub test_cards: TestCards,
    /// Prefix of the 3-D Secure verification URLs.
    pub verification_base_url: String,
    /// The sandbox's web server: the 3-D Secure and gateway pages, and a Stripe-compatible
    /// `POST /v1/tokens` for tokenizing test cards.
    #[serde(default)]
    pub web_base_url: String,
    /// Logging in: guest keys and the login code.
    #[serde(default)]
    pub login: LoginInfo,
    /// How long a payment form stays valid, in seconds.
    #[serde(default = "crate::scenario::default_lifetime")]
    pub form_lifetime_secs: u64,
    /// How long a 3-D Secure verification stays open, in seconds.
    #[serde(default = "crate::scenario::default_lifetime")]
    pub verification_lifetime_secs: u64,
}

/// How to log in to the sandbox, in [`ConnectionInfo`]: connect with one of the guest keys
/// (bound to no user until a login binds it), send a user's `phone` with `auth.sendCode`, then
/// `code` with `auth.signIn`, then the 2FA password if the account has one.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq)]
pub struct LoginInfo {
    /// The guest auth keys, 512 hex characters each.
    pub guest_auth_keys: Vec<String>,
    /// The code `auth.signIn` accepts.
    pub code: String,
}

/// A user in [`ConnectionInfo`].
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct ConnectionUser {
    /// User id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// The auth key as 512 hex characters.
    pub auth_key: String,
    /// The 2FA password, or null.
    pub password: Option<String>,
    /// Phone number (digits) for logging in, or null.
    #[serde(default)]
    pub phone: Option<String>,
}

/// An invoice in [`ConnectionInfo`].
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct ConnectionInvoice {
    /// Deep-link slug.
    pub slug: String,
    /// Title.
    pub title: String,
    /// Currency code.
    pub currency: String,
    /// Sum of the prices, in the smallest unit.
    pub total_amount: i64,
    /// `card` or `stars`.
    pub kind: String,
}

/// Credentials JSON for each card outcome.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct TestCards {
    /// Succeeds.
    pub success: String,
    /// Declined by the bank.
    pub decline: String,
    /// Needs 3-D Secure.
    pub three_d_secure: String,
}

/// A grammers client connected to the sandbox, as one of its users or on a guest key.
pub struct SandboxClient {
    /// The client: authorized when made for a user, not yet when made on a guest key.
    pub client: Client,
    /// The sender pool's handle, to build [`Payments`](tgpay::Payments) over (see
    /// [`SandboxClient::payments`]).
    pub handle: SenderPoolFatHandle,
    /// The raw updates the server pushes, for `Client::stream_updates` (taken once).
    pub updates: Option<mpsc::Receiver<UpdatesLike>>,
    runner: JoinHandle<()>,
}

impl std::fmt::Debug for SandboxClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxClient").finish_non_exhaustive()
    }
}

impl Drop for SandboxClient {
    fn drop(&mut self) {
        self.runner.abort();
    }
}

impl SandboxClient {
    /// A grammers client over any session storage (a `MemorySession`, a
    /// `FileSession` of tgpay-cli…), e.g. one made from
    /// [`Sandbox::session_data`] or [`Sandbox::guest_session_data`]. Must be called inside a
    /// Tokio runtime.
    pub fn connect<S>(session: Arc<S>, params: ConnectionParams) -> Self
    where
        S: Session,
        S::Error: std::error::Error + Send + Sync + 'static,
    {
        let pool = SenderPool::with_configuration(session, API_ID, params);
        let client = Client::new(pool.handle.clone());
        let runner = tokio::spawn(pool.runner.run());
        Self {
            client,
            handle: pool.handle,
            updates: Some(pool.updates),
            runner,
        }
    }

    /// The payment flow over this client's pool, with the default configuration.
    pub fn payments(&self) -> tgpay::Payments {
        tgpay::Payments::new(&self.handle)
    }

    /// The payment flow over this client's pool, with `config`.
    pub fn payments_with(&self, config: tgpay::PaymentsConfig) -> tgpay::Payments {
        tgpay::Payments::with_config(&self.handle, config)
    }
}

/// The request handler: connect-time basics, then the world. The key store follows logins
/// and logouts, so that new connections start as the key's current user.
struct WorldHandler {
    world: Arc<Mutex<World>>,
    basics: Basics,
    keys: KeyStore,
}

/// The request handler a [`Sandbox`] serves `world` with (for fuzzing without sockets).
#[cfg(feature = "fuzzing")]
pub(crate) fn world_handler(world: Arc<Mutex<World>>, keys: KeyStore) -> impl Handler {
    WorldHandler {
        world,
        basics: Basics {
            this_dc: DC_ID,
            ..Basics::default()
        },
        keys,
    }
}

fn deliver(hub: &UpdatesHub, pushes: Vec<Push>) {
    for push in pushes {
        hub.push_updates(push.user, &push.updates);
    }
}

impl Handler for WorldHandler {
    fn handle(&self, ctx: &CallContext, request: &[u8]) -> Reply {
        if let Some(reply) = self.basics.answer(request) {
            return reply;
        }
        let login = super::rpc::constructor_id(request)
            .map(tgpay::tl::name_for_id)
            .is_some_and(|method| api::LOGIN_METHODS.contains(&method));
        let dispatched = api::dispatch_key(&self.world, ctx.auth_key_id, ctx.user_id, request);
        if login {
            let user = match self.world.lock() {
                Ok(w) => w.key_user(ctx.auth_key_id, ctx.user_id),
                Err(poisoned) => poisoned.into_inner().key_user(ctx.auth_key_id, ctx.user_id),
            };
            self.keys.rebind(ctx.auth_key_id, user);
            // Pushed updates follow the key's user on this very connection.
            ctx.hub().move_connection(ctx.connection_id, user);
        }
        match dispatched {
            Some((answer, pushes)) => {
                deliver(ctx.hub(), pushes);
                reply_of(answer)
            }
            None => Reply::method_invalid(request),
        }
    }
}

fn reply_of(answer: Answer) -> Reply {
    match answer {
        Answer::Result(bytes) => Reply::Result(bytes),
        Answer::Error(e) => Reply::Error {
            code: e.code,
            message: e.message,
        },
        Answer::DropConnection => Reply::DropConnection,
        Answer::Delayed(after, answer) => Reply::Delayed {
            after,
            reply: Box::new(reply_of(*answer)),
        },
    }
}

/// A running sandbox: Telegram's payments back end on loopback.
pub struct Sandbox {
    server: ServerHandle,
    world: Arc<Mutex<World>>,
    web_addr: SocketAddr,
    web: JoinHandle<()>,
    users: Vec<SandboxUser>,
    guest_keys: Vec<AuthKey>,
    scenario: Scenario,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("addr", &self.addr())
            .field("web_addr", &self.web_addr)
            .field("users", &self.users)
            .field("guest_keys", &self.guest_keys.len())
            .finish_non_exhaustive()
    }
}

/// A fresh key whose id's low 32 bits read as a non-negative integer: grammers' abridged
/// transport mistakes short packets starting with a negative `i32` for transport errors.
fn friendly_key() -> AuthKey {
    loop {
        let key = AuthKey::generate();
        if (key.key_id() as i32) >= 0 {
            return key;
        }
    }
}

/// Reads a key written as 512 hex characters (as [`ConnectionInfo`] carries it).
pub fn key_from_hex(hex: &str) -> Option<AuthKey> {
    let mut bytes = [0u8; 256];
    hex::decode_to_slice(hex, &mut bytes).ok()?;
    Some(AuthKey::from_bytes(bytes))
}

/// Lower-case hex of a key, as [`ConnectionInfo`] carries it.
pub fn key_hex(key: &AuthKey) -> String {
    hex::encode(key.expose_secret())
}

/// A grammers session that connects to `addr` as DC `dc_id` with a pre-shared `key`: no login,
/// no key exchange.
pub fn preshared_session(
    dc_id: i32,
    addr: SocketAddr,
    key: &AuthKey,
) -> Result<SessionData, SandboxError> {
    let SocketAddr::V4(v4) = addr else {
        return Err(SandboxError::NotIpv4(addr));
    };
    let mut data = SessionData {
        home_dc: dc_id,
        ..SessionData::default()
    };
    data.dc_options.insert(
        dc_id,
        DcOption {
            id: dc_id,
            ipv4: v4,
            ipv6: SocketAddrV6::new(v4.ip().to_ipv6_mapped(), v4.port(), 0, 0),
            auth_key: Some(*key.expose_secret()),
        },
    );
    Ok(data)
}

/// [`preshared_session`] for the key of user `user_id`, which the session then knows as its
/// logged-in user (as a session does after a login).
pub fn preshared_user_session(
    dc_id: i32,
    addr: SocketAddr,
    key: &AuthKey,
    user_id: i64,
) -> Result<SessionData, SandboxError> {
    let mut data = preshared_session(dc_id, addr, key)?;
    data.peer_infos.insert(
        grammers_session::types::PeerId::self_user(),
        grammers_session::types::PeerInfo::User {
            id: user_id,
            auth: None,
            bot: Some(false),
            is_self: Some(true),
        },
    );
    Ok(data)
}

impl Sandbox {
    /// Starts a sandbox on loopback with free ports.
    pub async fn start(scenario: Scenario) -> Result<Self, SandboxError> {
        Self::start_with(scenario, SandboxOptions::default()).await
    }

    /// Starts a sandbox on the given addresses.
    pub async fn start_with(
        scenario: Scenario,
        options: SandboxOptions,
    ) -> Result<Self, SandboxError> {
        Self::start_with_limits(scenario, options, SandboxLimits::default()).await
    }

    /// Starts a sandbox on the given addresses, within the given limits.
    pub async fn start_with_limits(
        scenario: Scenario,
        options: SandboxOptions,
        limits: SandboxLimits,
    ) -> Result<Self, SandboxError> {
        scenario.check()?;
        let web_listener = TcpListener::bind(options.web_listen)
            .await
            .map_err(|source| SandboxError::Listen {
                addr: options.web_listen,
                source,
            })?;
        let web_addr = web_listener
            .local_addr()
            .map_err(|source| SandboxError::Listen {
                addr: options.web_listen,
                source,
            })?;
        let world = Arc::new(Mutex::new(World::new(
            &scenario,
            &format!("http://{web_addr}"),
        )?));

        let keys = KeyStore::new();
        let mut users = Vec::new();
        for spec in &scenario.users {
            let auth_key = match &spec.auth_key {
                Some(hex) => key_from_hex(hex).ok_or_else(|| {
                    ScenarioError::Invalid(format!("user {}: auth_key is not hex", spec.id))
                })?,
                None => friendly_key(),
            };
            keys.register(spec.id, auth_key.clone())
                .map_err(|e| ScenarioError::Invalid(format!("user {}: {e}", spec.id)))?;
            let name = match &spec.last_name {
                Some(last) => format!("{} {last}", spec.first_name),
                None => spec.first_name.clone(),
            };
            users.push(SandboxUser {
                id: spec.id,
                name,
                phone: spec.phone.clone(),
                password: spec.password.clone(),
                auth_key,
            });
        }
        let guest_keys = (0..GUEST_KEYS)
            .map(|_| {
                loop {
                    let key = friendly_key();
                    if keys.register(UNBOUND_USER, key.clone()).is_ok() {
                        break key;
                    }
                }
            })
            .collect();

        let handler = WorldHandler {
            world: Arc::clone(&world),
            basics: Basics {
                this_dc: DC_ID,
                ..Basics::default()
            },
            keys: keys.clone(),
        };
        let server = Server::bind_with_config(options.listen, keys, handler, limits.server).await?;
        let hub = server.hub().clone();
        let pusher: web::Pusher = Arc::new(move |pushes| deliver(&hub, pushes));
        let web = tokio::spawn(web::serve_with(
            web_listener,
            Arc::clone(&world),
            pusher,
            limits.web,
        ));
        Ok(Self {
            server,
            world,
            web_addr,
            web,
            users,
            guest_keys,
            scenario,
        })
    }

    /// The MTProto server's address.
    pub fn addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// The DC id the sandbox presents itself as.
    pub fn dc_id(&self) -> i32 {
        DC_ID
    }

    /// The web pages' base URL, e.g. `http://127.0.0.1:41234`.
    pub fn web_base_url(&self) -> String {
        format!("http://{}", self.web_addr)
    }

    /// The world, locked, for assertions and control (charges, call counts, clock, faults).
    /// Don't hold the guard across an `.await`.
    pub fn world(&self) -> MutexGuard<'_, World> {
        match self.world.lock() {
            Ok(w) => w,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Runs `f` on the world and delivers any updates it queued (e.g. after confirming a 3-D
    /// Secure verification directly).
    pub fn with_world<T>(&self, f: impl FnOnce(&mut World) -> T) -> T {
        let (value, pushes) = {
            let mut w = self.world();
            let value = f(&mut w);
            (value, w.take_pushes())
        };
        deliver(self.server.hub(), pushes);
        value
    }

    /// The scenario the sandbox was started with.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// The users and their keys.
    pub fn users(&self) -> &[SandboxUser] {
        &self.users
    }

    /// One user.
    pub fn user(&self, id: i64) -> Result<&SandboxUser, SandboxError> {
        self.users
            .iter()
            .find(|u| u.id == id)
            .ok_or(SandboxError::UnknownUser(id))
    }

    /// A grammers session for a user, pointed at this sandbox with the user's key, knowing
    /// who it is logged in as.
    pub fn session_data(&self, user: i64) -> Result<SessionData, SandboxError> {
        preshared_user_session(DC_ID, self.addr(), &self.user(user)?.auth_key, user)
    }

    /// The guest keys: pre-shared keys bound to no user. A client on one is not authorized
    /// (`updates.getState` answers `401 AUTH_KEY_UNREGISTERED`) and may only log in:
    /// `auth.sendCode` with a user's phone, `auth.signIn` with [`Sandbox::login_code`], then
    /// `account.getPassword` / `auth.checkPassword` for an account with a 2FA password. The
    /// login binds the key to the user at once, also on the connection that logged in, and
    /// `auth.logOut` unbinds it.
    pub fn guest_keys(&self) -> &[AuthKey] {
        &self.guest_keys
    }

    /// The code `auth.signIn` accepts (the scenario's `login_code`).
    pub fn login_code(&self) -> String {
        self.world().login_code().to_owned()
    }

    /// A grammers session pointed at this sandbox with guest key `index` (not logged in).
    pub fn guest_session_data(&self, index: usize) -> Result<SessionData, SandboxError> {
        let key = self.guest_keys.get(index).ok_or(SandboxError::NoGuestKey {
            index,
            count: self.guest_keys.len(),
        })?;
        preshared_session(DC_ID, self.addr(), key)
    }

    /// A grammers client on guest key `index`, not logged in (grammers' default connection
    /// parameters). Must be called inside a Tokio runtime.
    pub fn guest_client(&self, index: usize) -> Result<SandboxClient, SandboxError> {
        let session = Arc::new(MemorySession::from(self.guest_session_data(index)?));
        Ok(SandboxClient::connect(session, ConnectionParams::default()))
    }

    /// A grammers client logged in as `user` (grammers' default connection parameters,
    /// including its retry policy). Must be called inside a Tokio runtime.
    pub fn client(&self, user: i64) -> Result<SandboxClient, SandboxError> {
        self.client_with(user, ConnectionParams::default())
    }

    /// Like [`Sandbox::client`], with custom connection parameters (e.g. `NoRetries`).
    pub fn client_with(
        &self,
        user: i64,
        params: ConnectionParams,
    ) -> Result<SandboxClient, SandboxError> {
        let session = Arc::new(MemorySession::from(self.session_data(user)?));
        Ok(SandboxClient::connect(session, params))
    }

    /// The server's counters.
    pub fn stats(&self) -> StatsSnapshot {
        self.server.stats()
    }

    /// The server's updates hub.
    pub fn hub(&self) -> &UpdatesHub {
        self.server.hub()
    }

    /// What a client needs to connect (the JSON line of `tgpay sandbox`).
    pub fn connection_info(&self) -> ConnectionInfo {
        let credentials = |outcome: CardOutcome| {
            TEST_TOKENS
                .iter()
                .find(|(_, o, _)| *o == outcome)
                .map(|(token, ..)| serde_json::json!({ "type": "card", "id": token }).to_string())
                .unwrap_or_default()
        };
        let addr = self.addr();
        ConnectionInfo {
            dc_id: DC_ID,
            host: addr.ip().to_string(),
            port: addr.port(),
            users: self
                .users
                .iter()
                .map(|u| ConnectionUser {
                    id: u.id,
                    name: u.name.clone(),
                    auth_key: key_hex(&u.auth_key),
                    password: u.password.clone(),
                    phone: u.phone.clone(),
                })
                .collect(),
            invoices: self
                .scenario
                .invoices
                .iter()
                .map(|i| ConnectionInvoice {
                    slug: i.slug.clone(),
                    title: i.title.clone(),
                    currency: i.currency.clone(),
                    total_amount: i.prices.iter().map(|p| p.amount).sum(),
                    kind: if i.currency == "XTR" { "stars" } else { "card" }.to_owned(),
                })
                .collect(),
            test_cards: TestCards {
                success: credentials(CardOutcome::Success),
                decline: credentials(CardOutcome::Decline),
                three_d_secure: credentials(CardOutcome::ThreeDSecure),
            },
            verification_base_url: format!("{}/3ds/", self.web_base_url()),
            web_base_url: self.web_base_url(),
            login: LoginInfo {
                guest_auth_keys: self.guest_keys.iter().map(key_hex).collect(),
                code: self.login_code(),
            },
            form_lifetime_secs: self.scenario.form_lifetime_secs,
            verification_lifetime_secs: self.scenario.verification_lifetime_secs,
        }
    }

    /// Stops the server (waiting for connections to close) and the web pages.
    pub async fn shutdown(self) {
        self.web.abort();
        self.server.shutdown().await;
    }
}
