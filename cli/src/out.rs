//! Output: text for people, one JSON object per result for scripts.
//!
//! Every string that a bot, a server or a payment provider wrote is shown to people through
//! [`tgpay::text`] ([`shown`], [`Escaped`]): control characters, bidi controls and invisible
//! characters appear escaped, never raw. JSON output keeps the exact text (serde escapes it).

use serde_json::{Value, json};
use tgpay::form::{CardForm, Invoice, LabeledPrice, NativeProvider, StarsForm};
use tgpay::order::{OrderInfo, ShippingOption};
use tgpay::stars::StarsTransaction;
pub use tgpay::text::Escaped;
use tgpay::{PaymentForm, Receipt};

/// Writes a line to stdout. A closed pipe (`tgpay … | head`) ends the program quietly instead
/// of failing.
pub fn line(text: impl std::fmt::Display) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "{text}")
        .and_then(|()| stdout.flush())
        .is_err()
    {
        std::process::exit(0);
    }
}

/// Where results go.
pub struct Out {
    json: bool,
}

impl Out {
    pub fn new(json: bool) -> Self {
        Out { json }
    }

    pub fn is_json(&self) -> bool {
        self.json
    }

    /// Prints a result: `text` for people, `value` for scripts.
    pub fn emit(&self, text: impl FnOnce() -> String, value: impl FnOnce() -> Value) {
        if self.json {
            line(value());
        } else {
            let text = text();
            if !text.is_empty() {
                line(text.trim_end());
            }
        }
    }

    /// A progress line for people (stderr, one line, sanitized); nothing in JSON mode.
    pub fn note(&self, text: &str) {
        if !self.json {
            eprintln!("{}", Escaped(text));
        }
    }

    /// A failure: one line on stderr (sanitized: error messages carry server and provider
    /// text) and what to do about a pending payment, or a JSON object on stdout with the
    /// pending payment, if any.
    pub fn failure(&self, kind: &str, message: &str, payment: Option<&tgpay::PendingPayment>) {
        if self.json {
            let mut error = json!({ "kind": kind, "message": message });
            if let Some(payment) = payment {
                error["payment"] = serde_json::to_value(payment).unwrap_or(Value::Null);
            }
            line(json!({ "ok": false, "error": error }));
        } else {
            eprintln!("tgpay: {}", Escaped(message));
            if let Some(payment) = payment.filter(|_| kind == "ambiguous") {
                eprintln!(
                    "tgpay: the payment is attempt {} in the journal: run `tgpay reconcile` \
                     (with the same connection options) before paying again",
                    payment.id
                );
            }
        }
    }
}

/// A library value as JSON: its `serde` representation (tgpay's feature `serde`), the same one
/// programs that store forms, receipts or Stars history write. Amounts are strings such as
/// `"42.49 USD"` or `"50 XTR"`.
pub fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Untrusted text (a bot's, a server's or a provider's) as it may be shown in a terminal.
pub fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    tgpay::text::sanitize(text)
}

fn prices_text(prices: &[LabeledPrice], width: usize) -> String {
    prices
        .iter()
        .map(|p| {
            format!(
                "  {:<width$} {:>12}\n",
                Escaped(&p.label),
                p.amount.to_string()
            )
        })
        .collect()
}

fn requested_list(invoice: &Invoice) -> Vec<&'static str> {
    let r = &invoice.requested;
    [
        (r.name, "name"),
        (r.phone, "phone"),
        (r.email, "email"),
        (r.shipping_address, "shipping address"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect()
}

pub fn invoice_text(title: &str, description: &str, seller: &str, invoice: &Invoice) -> String {
    let mut text = format!("{}\n", Escaped(title));
    for line in tgpay::text::sanitize_lines(description) {
        text.push_str(&format!("{line}\n"));
    }
    if !seller.is_empty() {
        text.push_str(&format!("Sold by {}\n", Escaped(seller)));
    }
    text.push('\n');
    text.push_str(&prices_text(&invoice.prices, 28));
    match invoice.subtotal() {
        Ok(total) => text.push_str(&format!("  {:<28} {:>12}\n", "Total", total.to_string())),
        Err(e) => text.push_str(&format!("  total unavailable: {e}\n")),
    }
    let requested = requested_list(invoice);
    if !requested.is_empty() {
        text.push_str(&format!("\nAsks for: {}\n", requested.join(", ")));
    }
    if invoice.flexible {
        text.push_str("Shipping: priced by destination\n");
    }
    if let Some(tips) = &invoice.tips {
        let suggested: Vec<String> = tips.suggested.iter().map(ToString::to_string).collect();
        text.push_str(&format!(
            "Tips: up to {} (suggested {})\n",
            tips.max,
            suggested.join(", ")
        ));
    }
    if invoice.recurring {
        text.push_str(&format!(
            "Recurring payment; terms: {}\n",
            Escaped(invoice.terms_url.as_deref().unwrap_or("(none given)"))
        ));
    }
    if invoice.test {
        text.push_str("Test invoice: no real money moves\n");
    }
    text
}

fn seller(form: &PaymentForm) -> String {
    let bot = match form {
        PaymentForm::Card(f) => f.bot.as_ref(),
        PaymentForm::Stars(f) => f.bot.as_ref(),
        _ => None,
    };
    bot.map(|b| match &b.username {
        Some(u) => format!("{} (@{u})", b.name),
        None => b.name.clone(),
    })
    .unwrap_or_default()
}

pub fn form_text(form: &PaymentForm) -> String {
    match form {
        PaymentForm::Card(f) => card_form_text(f, &seller(form)),
        PaymentForm::Stars(f) => stars_form_text(f, &seller(form)),
        PaymentForm::StarGift(f) => {
            format!("Star gift\n\n  Price {}\n", f.price)
        }
        _ => String::new(),
    }
}

fn card_form_text(f: &CardForm, seller: &str) -> String {
    let mut text = invoice_text(&f.title, &f.description, seller, &f.invoice);
    text.push_str(&format!("\nPayment page: {}\n", Escaped(&f.url)));
    match &f.native_provider {
        Some(NativeProvider::Stripe { .. }) => text.push_str("Cards: tokenized with Stripe\n"),
        Some(NativeProvider::SmartGlocal { .. }) => {
            text.push_str("Cards: tokenized with SmartGlocal\n")
        }
        Some(NativeProvider::Other { name, .. }) => {
            text.push_str(&format!("Cards: through {}\n", Escaped(name)))
        }
        _ => {}
    }
    for method in &f.additional_methods {
        text.push_str(&format!(
            "Also payable with {}: {}\n",
            Escaped(&method.title),
            Escaped(&method.url)
        ));
    }
    for card in &f.saved_credentials {
        text.push_str(&format!(
            "Saved card: {} (id {})\n",
            Escaped(&card.title),
            Escaped(&card.id)
        ));
    }
    if f.saved_info.is_some() {
        text.push_str("Saved order info: yes\n");
    }
    if f.password_missing {
        text.push_str("Saving cards needs a 2FA password on the account\n");
    } else if f.can_save_credentials {
        text.push_str("Cards can be saved for next time\n");
    }
    text
}

fn stars_form_text(f: &StarsForm, seller: &str) -> String {
    invoice_text(&f.title, &f.description, seller, &f.invoice)
}

pub fn order_text(info: &OrderInfo) -> String {
    let mut lines = Vec::new();
    if let Some(name) = &info.name {
        lines.push(format!("  Name     {}", Escaped(name)));
    }
    if let Some(phone) = &info.phone {
        lines.push(format!("  Phone    {}", Escaped(phone)));
    }
    if let Some(email) = &info.email {
        lines.push(format!("  E-mail   {}", Escaped(email)));
    }
    if let Some(a) = &info.shipping_address {
        let mut address = a.street_line1.clone();
        if !a.street_line2.is_empty() {
            address.push_str(&format!(", {}", a.street_line2));
        }
        address.push_str(&format!(", {}", a.city));
        if !a.state.is_empty() {
            address.push_str(&format!(", {}", a.state));
        }
        address.push_str(&format!(" {}, {}", a.post_code, a.country_iso2));
        lines.push(format!("  Ship to  {}", Escaped(&address)));
    }
    lines.join("\n")
}

pub fn shipping_text(options: &[ShippingOption], chosen: Option<&str>) -> String {
    options
        .iter()
        .map(|o| {
            let mark = if Some(o.id.as_str()) == chosen {
                "*"
            } else {
                " "
            };
            format!(
                "  {mark} {:<26} {:>12}  (--shipping {})",
                Escaped(&o.title),
                o.total.to_string(),
                Escaped(&o.id)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn receipt_text(r: &Receipt) -> String {
    let mut text = format!("Receipt: {}\n", Escaped(&r.title));
    for line in tgpay::text::sanitize_lines(&r.description) {
        text.push_str(&format!("{line}\n"));
    }
    text.push('\n');
    text.push_str(&prices_text(&r.invoice.prices, 28));
    if let Some(shipping) = &r.shipping {
        text.push_str(&format!(
            "  {:<28} {:>12}\n",
            format!("Shipping: {}", Escaped(&shipping.title)),
            shipping.total.to_string()
        ));
    }
    if let Some(tip) = &r.tip {
        text.push_str(&format!("  {:<28} {:>12}\n", "Tip", tip.to_string()));
    }
    text.push_str(&format!(
        "  {:<28} {:>12}\n",
        "Total paid",
        r.total.to_string()
    ));
    text.push_str(&format!("\nPaid with {}\n", Escaped(&r.credentials_title)));
    if let Some(tx) = &r.transaction_id {
        text.push_str(&format!("Transaction {}\n", Escaped(tx)));
    }
    if let Some(info) = &r.info {
        let order = order_text(info);
        if !order.is_empty() {
            text.push_str(&format!("{order}\n"));
        }
    }
    text
}

pub fn transaction_text(tx: &StarsTransaction) -> String {
    format!(
        "  {:>12}  {}{}",
        tx.amount.to_string(),
        Escaped(tx.title.as_deref().unwrap_or("(no title)")),
        if tx.refund { " (refund)" } else { "" }
    )
}
