//! `tgpay form`: an invoice's payment form.

use crate::args::{parse_invoice, resolve_invoice};
use crate::connect::connect;
use crate::out::{self, Out};
use crate::{CmdResult, ConnectOpts};

/// Shows the payment form of the invoice named by `invoice`.
pub async fn form(out: &Out, invoice: &[String], opts: &ConnectOpts) -> CmdResult {
    if let [one] = invoice {
        parse_invoice(one)?;
    }
    let conn = connect(opts).await?;
    let invoice = resolve_invoice(&conn, invoice).await?;
    let form = conn.payments.get_payment_form(&invoice).await?;
    out.emit(|| out::form_text(&form), || out::to_json(&form));
    Ok(())
}
