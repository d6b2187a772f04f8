//! The `tgpay` command-line tool.
//!
//! - `tgpay sandbox [--listen ADDR] [--web-listen ADDR] [--scenario FILE]`: runs the offline
//!   Telegram payments sandbox until interrupted. The first line on stdout is one JSON object
//!   with what a client needs to connect (`dc_id`, `host`, `port`, `users`, `invoices`,
//!   `test_cards`, `verification_base_url`).
//!
//! Exit codes: 0 ok, 1 payment refused or failed, 2 bad input, 3 ambiguous (reconcile needed).

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tgpay::sandbox::{Sandbox, SandboxOptions, Scenario};

/// Telegram payments from the user's side, over MTProto.
#[derive(Debug, Parser)]
#[command(name = "tgpay", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the offline payments sandbox until interrupted (Ctrl-C).
    Sandbox {
        /// Address of the MTProto server.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// Address of the web pages (3-D Secure, payment gateway).
        #[arg(long, default_value = "127.0.0.1:0")]
        web_listen: SocketAddr,
        /// A scenario file (TOML, or JSON if it ends in .json); the built-in world otherwise.
        #[arg(long)]
        scenario: Option<PathBuf>,
    },
}

/// Exit code for bad input.
const EXIT_BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
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
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Sandbox {
            listen,
            web_listen,
            scenario,
        } => sandbox(listen, web_listen, scenario).await,
    }
}

async fn sandbox(
    listen: SocketAddr,
    web_listen: SocketAddr,
    scenario: Option<PathBuf>,
) -> ExitCode {
    let scenario = match scenario {
        Some(path) => match Scenario::load(&path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("tgpay: {e}");
                return ExitCode::from(EXIT_BAD_INPUT);
            }
        },
        None => Scenario::default_world(),
    };
    let sandbox = match Sandbox::start_with(scenario, SandboxOptions { listen, web_listen }).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tgpay: {e}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    let line = match serde_json::to_string(&sandbox.connection_info()) {
        Ok(line) => line,
        Err(e) => {
            eprintln!("tgpay: cannot describe the sandbox: {e}");
            return ExitCode::FAILURE;
        }
    };
    {
        let mut stdout = std::io::stdout().lock();
        if writeln!(stdout, "{line}")
            .and_then(|()| stdout.flush())
            .is_err()
        {
            return ExitCode::FAILURE;
        }
    }
    eprintln!(
        "tgpay sandbox: MTProto on {}, web pages on {}; Ctrl-C stops it",
        sandbox.addr(),
        sandbox.web_base_url()
    );
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("tgpay: cannot wait for Ctrl-C: {e}");
    }
    sandbox.shutdown().await;
    ExitCode::SUCCESS
}
