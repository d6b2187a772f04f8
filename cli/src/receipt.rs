//! `tgpay receipt`: the receipt of a payment.

use crate::args::resolve_peer;
use crate::connect::connect;
use crate::out::{self, Out};
use crate::{CmdResult, ConnectOpts};

/// Shows the receipt of the payment at `msg_id` in the chat with `peer`.
pub async fn receipt(out: &Out, peer: &str, msg_id: i32, opts: &ConnectOpts) -> CmdResult {
    let conn = connect(opts).await?;
    let peer = resolve_peer(&conn, peer).await?;
    let receipt = conn.payments.get_payment_receipt_at(peer, msg_id).await?;
    out.emit(|| out::receipt_text(&receipt), || out::to_json(&receipt));
    Ok(())
}
