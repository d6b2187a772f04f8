//! What every example starts with: a `Payments` over a logged-in grammers client — on the
//! embedded sandbox (as Alice) by default, or on Telegram with a session written by
//! `tgpay login` when `TGPAY_SESSION` (and `TGPAY_API_ID`) are set.
#![allow(dead_code)]

use std::error::Error;
use std::sync::Arc;

use grammers_mtsender::SenderPool;
use tgpay::Payments;
use tgpay_cli::session::FileSession;
use tgpay_sandbox::scenario::ALICE;
use tgpay_sandbox::{Sandbox, Scenario};

pub type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// A connected flow, and the sandbox when there is one.
pub struct Env {
    pub payments: Payments,
    pub sandbox: Option<Sandbox>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Env {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Env {
    /// Whether this runs on the embedded sandbox.
    pub fn on_sandbox(&self) -> bool {
        self.sandbox.is_some()
    }
}

fn start<S>(session: Arc<S>, api_id: i32) -> (Payments, Vec<tokio::task::JoinHandle<()>>)
where
    S: grammers_session::Session + 'static,
    S::Error: Error + Send + Sync + 'static,
{
    let pool = SenderPool::new(session, api_id);
    let runner = tokio::spawn(pool.runner.run());
    // From the pool's handle: payments are sent once, whatever grammers' retry policy.
    let payments = Payments::new(&pool.handle);
    // Receipts after 3-D Secure and pre-checkout reasons arrive as updates.
    let follower = payments.clone();
    let forwarder = tokio::spawn(async move { follower.follow_updates(pool.updates).await });
    (payments, vec![runner, forwarder])
}

/// Connects as described in the module docs.
pub async fn connect() -> Result<Env> {
    if let Ok(path) = std::env::var("TGPAY_SESSION") {
        let api_id: i32 = std::env::var("TGPAY_API_ID")
            .map_err(|_| "set TGPAY_API_ID to the API id used with `tgpay login`")?
            .parse()?;
        let session = Arc::new(FileSession::open(&path)?);
        if session.self_user_id().is_none() {
            return Err(format!("{path} is not logged in: run `tgpay login` first").into());
        }
        let (payments, tasks) = start(session, api_id);
        return Ok(Env {
            payments,
            sandbox: None,
            tasks,
        });
    }
    let sandbox = Sandbox::start(Scenario::default_world()).await?;
    let session = Arc::new(grammers_session::storages::MemorySession::from(
        sandbox.session_data(ALICE)?,
    ));
    let (payments, tasks) = start(session, 4);
    println!("(on the embedded sandbox, as Alice; set TGPAY_SESSION to use Telegram)");
    Ok(Env {
        payments,
        sandbox: Some(sandbox),
        tasks,
    })
}

/// The first command-line argument, or `default` on the sandbox.
pub fn arg_or(env: &Env, default: &str) -> Result<String> {
    match std::env::args().nth(1) {
        Some(arg) => Ok(arg),
        None if env.on_sandbox() => Ok(default.to_owned()),
        None => Err("give the invoice link as the first argument".into()),
    }
}
