//! Connecting: to a running sandbox (its connection line and a user's pre-shared key), or with
//! a session file written by `tgpay login`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use grammers_mtsender::SenderPool;
use std::time::Duration;

use tgpay::journal::JsonlJournal;
use tgpay::{Payments, PaymentsConfig};
use tgpay_sandbox::ConnectionInfo;
use tgpay_sandbox::handle::{key_from_hex, preshared_user_session};
use tokio::task::JoinHandle;

use crate::{ConnectOpts, Failure};

/// The `api_id` used with a sandbox (any value works there).
const SANDBOX_API_ID: i32 = 4;

/// A connected client with its payment flow; updates are forwarded to the flow.
pub struct Connection {
    pub payments: Payments,
    /// The sandbox's connection line, when connected to a sandbox.
    pub sandbox: Option<ConnectionInfo>,
    /// The payment journal's file, when the command keeps one.
    pub journal: Option<PathBuf>,
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
    // Payments sends money-moving requests through the pool's raw path: grammers' default
    // retry policy (which re-sends after an I/O error) never touches them.
    let pool = SenderPool::new(session, api_id);
    let runner = tokio::spawn(pool.runner.run());
    let config = match &sandbox {
        // The sandbox says how long its forms and verifications live.
        Some(info) => PaymentsConfig {
            form_lifetime: Duration::from_secs(info.form_lifetime_secs),
            verification_lifetime: Duration::from_secs(info.verification_lifetime_secs),
            settle_margin: Duration::from_secs(2),
            ..PaymentsConfig::default()
        },
        None => PaymentsConfig::default(),
    };
    let payments = Payments::with_config(&pool.handle, config);
    let follower = payments.clone();
    let forwarder = tokio::spawn(async move { follower.follow_updates(pool.updates).await });
    Connection {
        payments,
        sandbox,
        journal: None,
        tasks: vec![runner, forwarder],
    }
}

/// Where the journal is when `--journal` is not given: beside the sandbox's connection file
/// for a sandbox (one journal per sandbox), else `$XDG_STATE_HOME/tgpay/journal.jsonl` (or
/// `~/.local/state/tgpay/journal.jsonl`).
pub fn default_journal(opts: &ConnectOpts) -> Result<PathBuf, Failure> {
    if let Some(path) = &opts.sandbox {
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(".journal.jsonl");
        return Ok(path.with_file_name(name));
    }
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|d| !d.is_empty())
                .map(|home| Path::new(&home).join(".local/state"))
        })
        .ok_or_else(|| {
            Failure::BadInput(
                "no state directory for the payment journal (neither XDG_STATE_HOME nor HOME \
                 is set): pass --journal FILE"
                    .to_owned(),
            )
        })?;
    Ok(state.join("tgpay").join("journal.jsonl"))
}

/// Connects as the options say, with the payment journal (`--journal`, or the default): every
/// payment is written down before it is sent.
pub async fn connect_journaled(opts: &ConnectOpts) -> Result<Connection, Failure> {
    let path = match &opts.journal {
        Some(path) => path.clone(),
        None => default_journal(opts)?,
    };
    let journal = JsonlJournal::open(&path).map_err(|e| {
        Failure::BadInput(format!(
            "cannot open the payment journal {}: {e}; pass --journal FILE",
            path.display()
        ))
    })?;
    let mut conn = connect(opts).await?;
    conn.payments = conn.payments.clone().with_journal(Arc::new(journal));
    conn.journal = Some(path);
    Ok(conn)
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
        let data = preshared_user_session(info.dc_id, addr, &key, user.id)
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
    let session = tgpay_cli::session::FileSession::open(&opts.session)
        .map_err(|e| Failure::BadInput(e.to_string()))?;
    if session.self_user_id().is_none() {
        return Err(Failure::BadInput(format!(
            "{} is not logged in: run `tgpay login`",
            opts.session.display()
        )));
    }
    Ok(start(Arc::new(session), api_id, None))
}
