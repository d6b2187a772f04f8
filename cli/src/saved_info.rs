//! `tgpay saved-info`: the saved order info and saved cards.

use clap::Subcommand;
use serde_json::json;
use tgpay::payments::ClearSaved;

use crate::connect::connect;
use crate::out::{self, Out};
use crate::{CmdResult, ConnectOpts};

/// `tgpay saved-info` subcommands.
#[derive(Debug, Subcommand)]
pub enum SavedInfoAction {
    /// Show the saved order info.
    Show,
    /// Forget the saved order info and/or saved cards (both when neither flag is given).
    Clear {
        /// Only the order info.
        #[arg(long)]
        info: bool,
        /// Only the saved cards.
        #[arg(long)]
        credentials: bool,
    },
}

/// Runs `tgpay saved-info ACTION`.
pub async fn run(out: &Out, action: SavedInfoAction, opts: &ConnectOpts) -> CmdResult {
    match action {
        SavedInfoAction::Show => saved_info_show(out, opts).await,
        SavedInfoAction::Clear { info, credentials } => {
            let both = !info && !credentials;
            saved_info_clear(out, info || both, credentials || both, opts).await
        }
    }
}

/// Shows the saved order info, and whether a card is saved.
async fn saved_info_show(out: &Out, opts: &ConnectOpts) -> CmdResult {
    let conn = connect(opts).await?;
    let saved = conn.payments.get_saved_info().await?;
    out.emit(
        || {
            let info = saved
                .info
                .as_ref()
                .map(out::order_text)
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| "  (none)".to_owned());
            format!(
                "Saved order info\n{info}\nSaved card: {}",
                if saved.has_saved_credentials {
                    "yes"
                } else {
                    "no"
                }
            )
        },
        || {
            json!({
                "info": saved.info.as_ref().map(out::to_json),
                "has_saved_credentials": saved.has_saved_credentials,
            })
        },
    );
    Ok(())
}

/// Forgets the saved order info (`info`) and/or the saved cards (`credentials`).
async fn saved_info_clear(
    out: &Out,
    info: bool,
    credentials: bool,
    opts: &ConnectOpts,
) -> CmdResult {
    let conn = connect(opts).await?;
    let what = match (info, credentials) {
        (true, true) => ClearSaved::All,
        (true, false) => ClearSaved::OrderInfo,
        _ => ClearSaved::Credentials,
    };
    conn.payments.clear_saved_info(what).await?;
    out.emit(
        || {
            let what = match (info, credentials) {
                (true, true) => "order info and saved cards",
                (true, false) => "order info",
                _ => "saved cards",
            };
            format!("Cleared the saved {what}.")
        },
        || json!({ "ok": true, "cleared": { "info": info, "credentials": credentials } }),
    );
    Ok(())
}
