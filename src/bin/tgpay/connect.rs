//! Connecting: to a running sandbox (its connection line and a user's pre-shared key), or with
//! a session file written by `tgpay login`.

use std::net::SocketAddr;
use std::sync::Arc;

use grammers_client::Client;
use grammers_mtsender::SenderPool;
use tgpay::Payments;
use tgpay::sandbox::ConnectionInfo;
use tgpay::sandbox::handle::{key_from_hex, preshared_session};
use tokio::task::JoinHandle;

use crate::{ConnectOpts, Failure};

/// The `api_id` used with a sandbox (any value works there).
const SANDBOX_API_ID: i32 = 4;

/// A connected client with its payment flow; updates are forwarded to the flow.
pub struct Connection {
    pub payments: Payments,
    /// The sandbox's connection line, when connected to a sandbox.
    pub sandbox: Option<ConnectionInfo>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Reads the connection line a `tgpay sandbox` printed (the file's first line).
pub fn read_sandbox_info(path: &std::path::Path) -> Result<ConnectionInfo, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::BadInput(format!("cannot read {}: {e}", path.display())))?;
    let line = text.lines().next().unwrap_or_default();
    serde_json::from_str(line).map_err(|e| {
        Failure::BadInput(format!(
            "{} does not hold a tgpay sandbox connection line: {e}",
            path.display()
        ))
    })
}

/// Starts a client over `session`, with its pool runner and an updates forwarder into the
/// returned `Payments`.
pub fn start<S>(session: Arc<S>, api_id: i32, sandbox: Option<ConnectionInfo>) -> Connection
where
    S: grammers_session::Session + 'static,
    S::Error: std::error::Error + Send + Sync + 'static,
{
    let pool = SenderPool::new(session, api_id);
    let client = Client::new(pool.handle);
    let runner = tokio::spawn(pool.runner.run());
    let payments = Payments::new(client);
    let follower = payments.clone();
    let forwarder = tokio::spawn(async move { follower.follow_updates(pool.updates).await });
    Connection {
        payments,
        sandbox,
        tasks: vec![runner, forwarder],
    }
}

/// Connects as the options say.
pub async fn connect(opts: &ConnectOpts) -> Result<Connection, Failure> {
    if let Some(path) = &opts.sandbox {
        let info = read_sandbox_info(path)?;
        let user = match opts.user {
            Some(id) => info.users.iter().find(|u| u.id == id).ok_or_else(|| {
                Failure::BadInput(format!(
                    "user {id} is not in the sandbox; its users are {}",
                    info.users
                        .iter()
                        .map(|u| u.id.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?,
            None => info
                .users
                .first()
                .ok_or_else(|| Failure::BadInput("the sandbox has no users".to_owned()))?,
        };
        let key = key_from_hex(&user.auth_key).ok_or_else(|| {
            Failure::BadInput(format!(
                "user {}'s auth_key is not 512 hex characters",
                user.id
            ))
        })?;
        let addr: SocketAddr = format!("{}:{}", info.host, info.port)
            .parse()
            .map_err(|e| Failure::BadInput(format!("the sandbox address is not valid: {e}")))?;
        let data = preshared_session(info.dc_id, addr, &key)
            .map_err(|e| Failure::BadInput(e.to_string()))?;
        let session = Arc::new(grammers_session::storages::MemorySession::from(data));
        return Ok(start(session, SANDBOX_API_ID, Some(info)));
    }
    session_connect(opts).await
}

async fn session_connect(opts: &ConnectOpts) -> Result<Connection, Failure> {
    if !opts.session.exists() {
        return Err(Failure::BadInput(format!(
            "no session at {}: run `tgpay login` first, or use --sandbox FILE",
            opts.session.display()
        )));
    }
    let api_id = opts.api_id.ok_or_else(|| {
        Failure::BadInput(
            "an API id is needed: pass --api-id or set TGPAY_API_ID (the one used to log in)"
                .to_owned(),
        )
    })?;
    let session = tgpay::session::FileSession::open(&opts.session)
        .map_err(|e| Failure::BadInput(e.to_string()))?;
    if session.self_user_id().is_none() {
        return Err(Failure::BadInput(format!(
            "{} is not logged in: run `tgpay login`",
            opts.session.display()
        )));
    }
    Ok(start(Arc::new(session), api_id, None))
}
