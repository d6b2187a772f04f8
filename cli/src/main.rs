//! The `tgpay` command-line tool: a guided demo on the embedded sandbox, the sandbox itself, and
//! scripted purchases against Telegram (or a running sandbox).
//!
//! Exit codes: 0 ok, 1 payment refused or failed, 2 bad input, 3 ambiguous (a payment may have
//! gone through: reconcile before paying again).

mod args;
mod card_token;
mod connect;
mod demo;
mod form;
mod interrupt;
mod login;
mod out;
mod pay;
mod receipt;
mod reconcile;
mod saved_info;
mod secrets;
mod stars;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::out::Out;

/// Telegram payments from the user's side, over MTProto.
#[derive(Debug, Parser)]
#[command(
    name = "tgpay",
    version,
    about,
    after_help = "Exit codes: 0 ok, 1 payment refused or failed, 2 bad input, 3 ambiguous (a payment may have gone through: check before paying again)."
)]
struct Cli {
    /// Print JSON (one object per result or step) instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

/// Where to connect: a running sandbox, or a session file (real Telegram or its test DCs).
#[derive(Debug, Clone, Args)]
pub struct ConnectOpts {
    /// A running `tgpay sandbox`: the file holding its first stdout line.
    #[arg(long, global = true, value_name = "CONNECTION_JSON_FILE")]
    pub sandbox: Option<PathBuf>,
    /// With --sandbox: the sandbox user to act as (default: the first user).
    #[arg(long, global = true)]
    pub user: Option<i64>,
    /// The session file written by `tgpay login`.
    #[arg(
        long,
        global = true,
        env = "TGPAY_SESSION",
        default_value = "tgpay.session"
    )]
    pub session: PathBuf,
    /// The API id (from my.telegram.org).
    #[arg(long, global = true, env = "TGPAY_API_ID")]
    pub api_id: Option<i32>,
    /// The payment journal (pay, reconcile): every payment is written there before it is sent.
    /// Default: beside the --sandbox connection file, else $XDG_STATE_HOME/tgpay/journal.jsonl.
    #[arg(long, global = true, env = "TGPAY_JOURNAL", value_name = "FILE")]
    pub journal: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// A guided tour of every payment flow on the embedded sandbox.
    Demo,
    /// Run the offline payments sandbox until interrupted (Ctrl-C).
    Sandbox {
        /// Address of the MTProto server.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// Address of the web pages (3-D Secure, payment gateway, card tokens).
        #[arg(long, default_value = "127.0.0.1:0")]
        web_listen: SocketAddr,
        /// A scenario file (TOML, or JSON if it ends in .json); the built-in world otherwise.
        #[arg(long)]
        scenario: Option<PathBuf>,
    },
    /// Sign in (Telegram, its test DCs with --test-dc, or a running sandbox with --sandbox) and
    /// keep the session in a file.
    Login(login::LoginArgs),
    /// Show an invoice's payment form.
    Form {
        /// An invoice link (t.me/$slug, t.me/invoice/slug, tg://invoice?slug=…), a slug, or
        /// `@bot MESSAGE_ID`.
        #[arg(required = true, num_args = 1..=2)]
        invoice: Vec<String>,
        #[command(flatten)]
        connect: ConnectOpts,
    },
    /// Pay an invoice.
    Pay(Box<pay::PayArgs>),
    /// Find out what became of every unresolved payment in the journal (a payment that was
    /// interrupted, or whose outcome was ambiguous), and record it.
    Reconcile(reconcile::ReconcileArgs),
    /// Show the receipt of a payment.
    Receipt {
        /// The chat with the merchant bot (`@username`).
        peer: String,
        /// The receipt message (or the paid invoice message).
        msg_id: i32,
        #[command(flatten)]
        connect: ConnectOpts,
    },
    /// Show or clear the saved order info and saved cards.
    SavedInfo {
        #[command(subcommand)]
        action: saved_info::SavedInfoAction,
        #[command(flatten)]
        connect: ConnectOpts,
    },
    /// Telegram Stars: balance, top-up options, history.
    Stars {
        #[command(subcommand)]
        action: stars::StarsAction,
        #[command(flatten)]
        connect: ConnectOpts,
    },
    /// Tokenize a card with a payment provider and print the credentials JSON. The card is read
    /// from TGPAY_CARD_NUMBER, TGPAY_CARD_EXP and TGPAY_CARD_CVC, or asked for.
    CardToken {
        /// The provider.
        #[arg(long, value_parser = ["stripe", "smartglocal"])]
        provider: String,
        /// The publishable key (Stripe) or public token (SmartGlocal).
        #[arg(long)]
        key: String,
        /// Another API base URL (a test server, or a sandbox's web base URL).
        #[arg(long)]
        base_url: Option<String>,
        /// Use the provider's test environment (SmartGlocal).
        #[arg(long)]
        test: bool,
    },
}

/// What went wrong, and the exit code it gets.
#[derive(Debug)]
pub enum Failure {
    /// Exit 2: what the user gave cannot work.
    BadInput(String),
    /// Exit 1: the payment (or request) was refused or failed.
    Refused(tgpay::Error),
    /// Exit 1: something else failed.
    Failed(String),
    /// Exit 3: a payment may have gone through.
    Ambiguous(tgpay::Error),
    /// Exit 3, with its own message.
    AmbiguousText(String),
}

impl Failure {
    fn code(&self) -> u8 {
        match self {
            Failure::BadInput(_) => 2,
            Failure::Refused(_) | Failure::Failed(_) => 1,
            Failure::Ambiguous(_) | Failure::AmbiguousText(_) => 3,
        }
    }

    fn message(&self) -> String {
        let text = match self {
            Failure::BadInput(m) | Failure::Failed(m) | Failure::AmbiguousText(m) => m.clone(),
            Failure::Refused(e) | Failure::Ambiguous(e) => e.to_string(),
        };
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// The payment attempt the failure is about, if one was sent (or is unresolved).
    fn payment(&self) -> Option<&tgpay::PendingPayment> {
        match self {
            Failure::Refused(e) | Failure::Ambiguous(e) => e.payment(),
            _ => None,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Failure::BadInput(_) => "bad_input",
            Failure::Refused(_) => "refused",
            Failure::Failed(_) => "failed",
            Failure::Ambiguous(_) | Failure::AmbiguousText(_) => "ambiguous",
        }
    }
}

impl From<tgpay::Error> for Failure {
    fn from(error: tgpay::Error) -> Self {
        use tgpay::Error as E;
        match error {
            e @ (E::Ambiguous(_) | E::Unresolved { .. }) => Failure::Ambiguous(e),
            e @ (E::SpendGuard { .. }
            | E::SpendGuardCurrency { .. }
            | E::OrderIncomplete { .. }
            | E::OrderInfoRequired
            | E::ShippingOption { .. }
            | E::CredentialsRequired
            | E::SaveNotAllowed { .. }
            | E::Total(_)
            | E::Credentials(_)) => Failure::BadInput(e.to_string()),
            e => Failure::Refused(e),
        }
    }
}

/// The result of a command.
pub type CmdResult = Result<(), Failure>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(log_filter())
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tgpay: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let out = Out::new(cli.json);
    let result = runtime.block_on(async {
        // Ctrl-C, SIGTERM and SIGHUP stop any command alike (the sandbox stops on them too);
        // what was running is dropped, which closes its browser.
        if matches!(cli.command, Command::Sandbox { .. }) {
            return run(cli.command, &out).await;
        }
        tokio::select! {
            result = run(cli.command, &out) => result,
            // The failure is decided while the command is still there (a payment in flight).
            failure = async { interrupt::failure(interrupt::signal().await) } => Err(failure),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            out.failure(failure.kind(), &failure.message(), failure.payment());
            ExitCode::from(failure.code())
        }
    }
}

/// `RUST_LOG` (default `warn`), with the browser's DevTools traffic always off: at trace level
/// chromiumoxide logs what the payment page sends (typed card numbers). Only
/// `TGPAY_LOG_BROWSER_PROTOCOL=1` lets it through, for debugging the relay itself.
fn log_filter() -> tracing_subscriber::EnvFilter {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    if std::env::var("TGPAY_LOG_BROWSER_PROTOCOL").as_deref() == Ok("1") {
        return filter;
    }
    [
        "chromiumoxide=off",
        "chromiumoxide_cdp=off",
        "tungstenite=off",
    ]
    .into_iter()
    .filter_map(|d| d.parse().ok())
    .fold(filter, EnvFilter::add_directive)
}

async fn run(command: Command, out: &Out) -> CmdResult {
    match command {
        Command::Demo => demo::run(out).await,
        Command::Sandbox {
            listen,
            web_listen,
            scenario,
        } => sandbox(listen, web_listen, scenario).await,
        Command::Login(args) => login::login(out, &args).await,
        Command::Form { invoice, connect } => form::form(out, &invoice, &connect).await,
        Command::Pay(args) => pay::pay(out, &args).await,
        Command::Reconcile(args) => reconcile::reconcile(out, &args).await,
        Command::Receipt {
            peer,
            msg_id,
            connect,
        } => receipt::receipt(out, &peer, msg_id, &connect).await,
        Command::SavedInfo { action, connect } => saved_info::run(out, action, &connect).await,
        Command::Stars { action, connect } => stars::run(out, action, &connect).await,
        Command::CardToken {
            provider,
            key,
            base_url,
            test,
        } => card_token::card_token(out, &provider, &key, base_url.as_deref(), test).await,
    }
}

async fn sandbox(
    listen: SocketAddr,
    web_listen: SocketAddr,
    scenario: Option<PathBuf>,
) -> CmdResult {
    use std::io::Write;
    use tgpay_sandbox::{Sandbox, SandboxOptions, Scenario};
    let scenario = match scenario {
        Some(path) => Scenario::load(&path).map_err(|e| Failure::BadInput(e.to_string()))?,
        None => Scenario::default_world(),
    };
    let sandbox = Sandbox::start_with(scenario, SandboxOptions { listen, web_listen })
        .await
        .map_err(|e| Failure::BadInput(e.to_string()))?;
    let line = serde_json::to_string(&sandbox.connection_info())
        .map_err(|e| Failure::Failed(format!("cannot describe the sandbox: {e}")))?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{line}")
            .and_then(|()| stdout.flush())
            .map_err(|e| Failure::Failed(format!("cannot write to stdout: {e}")))?;
    }
    eprintln!(
        "tgpay sandbox: MTProto on {}, web pages on {}; Ctrl-C stops it",
        sandbox.addr(),
        sandbox.web_base_url()
    );
    interrupt::signal().await;
    sandbox.shutdown().await;
    Ok(())
}
