//! The pages' shared HTML: the frame, the style, icons, escaping and amounts.

use super::*;

pub(super) fn state_name(state: VerificationState) -> &'static str {
    match state {
        VerificationState::Pending => "pending",
        VerificationState::Confirmed => "confirmed",
        VerificationState::Failed => "failed",
    }
}

pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn format_amount(currency: &str, amount: i64) -> String {
    match tgpay::currency::Currency::from_code_or_fallback(currency) {
        Ok(currency) => currency.amount(amount).to_string(),
        Err(_) => format!("{amount} {currency}"),
    }
}

pub(super) const STYLE: &str = "*{box-sizing:border-box}\
body{font-family:-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;\
background:linear-gradient(160deg,#eef2f7 0%,#dfe7f1 100%);color:#1a2233;margin:0;\
display:flex;min-height:100vh;align-items:center;justify-content:center;padding:24px}\
.sheet{background:#fff;border-radius:16px;box-shadow:0 10px 40px rgba(26,34,51,.12);\
width:420px;max-width:100%;overflow:hidden}\
.top{display:flex;align-items:center;justify-content:space-between;padding:16px 24px;\
border-bottom:1px solid #edf0f4}\
.brand{display:flex;align-items:center;gap:8px;font-weight:700;font-size:15px}\
.brand svg{display:block}\
.test{font-size:11px;font-weight:700;letter-spacing:.06em;color:#b35c00;background:#fff1e0;\
border-radius:6px;padding:3px 7px}\
.order{padding:20px 24px 18px;border-bottom:1px solid #edf0f4}\
.merchant{color:#6b7588;font-size:13px;font-weight:600;margin:0 0 6px}\
h1{font-size:18px;margin:0 0 4px;font-weight:650}\
.desc{color:#6b7588;font-size:13px;margin:0}\
.amount{font-size:32px;font-weight:700;margin:14px 0 0;letter-spacing:-.01em}\
form,.panel{padding:20px 24px 24px}\
label{display:block;font-size:13px;font-weight:600;color:#3b4457;margin:0 0 6px}\
.field{margin-bottom:14px}\
input{width:100%;font:inherit;font-size:16px;padding:11px 12px;border:1px solid #cfd6e1;\
border-radius:10px;outline:none;background:#fff;color:#1a2233}\
input:focus{border-color:#3390ec;box-shadow:0 0 0 3px rgba(51,144,236,.18)}\
input.bad{border-color:#d93f3f;box-shadow:0 0 0 3px rgba(217,63,63,.14)}\
.with-brand{position:relative}\
.card-brand{position:absolute;right:10px;top:50%;transform:translateY(-50%);font-size:11px;\
font-weight:800;letter-spacing:.04em;color:#1a1f71;background:#f3f5f9;border-radius:5px;\
padding:3px 6px}\
.row{display:flex;gap:12px}.row .field{flex:1}\
.error{display:none;color:#c62828;background:#fdecec;border-radius:10px;padding:10px 12px;\
font-size:14px;margin:0 0 14px}\
.error.shown{display:block}\
button{width:100%;border:0;border-radius:10px;padding:13px;font:inherit;font-size:16px;\
font-weight:650;cursor:pointer}\
button:disabled{opacity:.6;cursor:default}\
.pay,.ok{background:#3390ec;color:#fff}.pay:hover,.ok:hover{background:#2a7fd4}\
.no{background:#f1f3f6;color:#c62828}.no:hover{background:#e8ebf0}\
.note{color:#6b7588;font-size:12px;margin:14px 0 0;line-height:1.5}\
.note code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:11.5px;\
background:#f3f5f9;border-radius:4px;padding:1px 4px}\
.done{display:none;text-align:center;padding:28px 24px 30px}\
.done.shown{display:block}\
.tick{width:52px;height:52px;border-radius:50%;background:#e6f4ea;color:#2e7d32;\
display:flex;align-items:center;justify-content:center;margin:0 auto 12px}\
.facts{margin:0;padding:0 24px}\
.facts div{display:flex;justify-content:space-between;font-size:14px;padding:9px 0;\
border-bottom:1px solid #f1f3f6}\
.facts dt{color:#6b7588}.facts dd{margin:0;font-weight:600}\
.buttons{display:flex;gap:12px}.buttons form{flex:1;padding:0;display:flex}\
.badge{display:inline-block;background:#e6f4ea;color:#2e7d32;border-radius:8px;\
padding:4px 10px;font-size:13px;font-weight:700}.badge.bad{background:#fdecec;color:#c62828}";

pub(super) const LOCK: &str = "<svg width=\"18\" height=\"18\" viewBox=\"0 0 24 24\" fill=\"none\" \
stroke=\"#3390ec\" stroke-width=\"2.2\" stroke-linecap=\"round\" stroke-linejoin=\"round\" \
aria-hidden=\"true\"><rect x=\"4\" y=\"11\" width=\"16\" height=\"10\" rx=\"2\"/>\
<path d=\"M8 11V7a4 4 0 0 1 8 0v4\"/></svg>";

pub(super) const SHIELD: &str = "<svg width=\"18\" height=\"18\" viewBox=\"0 0 24 24\" fill=\"none\" \
stroke=\"#2e7d32\" stroke-width=\"2.2\" stroke-linecap=\"round\" stroke-linejoin=\"round\" \
aria-hidden=\"true\"><path d=\"M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6z\"/>\
<path d=\"M8.5 12l2.5 2.5 4.5-5\"/></svg>";

pub(super) const TICK: &str = "<svg width=\"26\" height=\"26\" viewBox=\"0 0 24 24\" fill=\"none\" \
stroke=\"currentColor\" stroke-width=\"2.6\" stroke-linecap=\"round\" stroke-linejoin=\"round\" \
aria-hidden=\"true\"><path d=\"M5 12.5l4.5 4.5L19 7.5\"/></svg>";

pub(super) fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width,initial-scale=1\"><title>{}</title><style>{STYLE}</style>\
         </head><body><main class=\"sheet\">{body}</main></body></html>",
        escape(title)
    ))
}

/// The header of the gateway's pages.
pub(super) fn gateway_top() -> String {
    format!(
        "<div class=\"top\"><div class=\"brand\">{LOCK}Sandbox Pay</div>\
         <span class=\"test\">TEST MODE</span></div>"
    )
}

/// The header of the bank's pages.
pub(super) fn bank_top() -> String {
    format!(
        "<div class=\"top\"><div class=\"brand\">{SHIELD}Sandbox Bank</div>\
         <span class=\"test\">3-D SECURE</span></div>"
    )
}
