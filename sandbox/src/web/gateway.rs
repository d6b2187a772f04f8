//! The payment provider's gateway page, its script, and card tokenizing (the page's and the
//! Stripe-compatible one).

use super::*;

/// What the page says instead of the card fields when the form cannot be paid.
pub(super) fn closed_reason(state: GatewayState) -> Option<&'static str> {
    match state {
        GatewayState::Open => None,
        GatewayState::Verifying => Some(
            "A payment with this form is waiting for 3-D Secure: finish it on your bank's \
             page.",
        ),
        GatewayState::Paid => Some("This order is already paid."),
        GatewayState::Closed => Some(
            "This payment form has expired or was closed: go back to Telegram and open the \
             invoice again.",
        ),
    }
}

pub(super) async fn gateway_page(State(web): State<Web>, Path(form_id): Path<String>) -> Response {
    let view = form_id
        .parse::<i64>()
        .ok()
        .and_then(|id| web.with_world(|w| w.gateway(id)).0);
    let Some(view) = view else {
        return (
            StatusCode::NOT_FOUND,
            page(
                "Unknown payment",
                &format!(
                    "{}<div class=\"panel\"><h1>Unknown payment</h1><p class=\"desc\">This \
                     payment link is not valid: open the invoice in Telegram again.</p></div>",
                    gateway_top()
                ),
            ),
        )
            .into_response();
    };
    page(
        &format!("Pay {} · Sandbox Pay", view.merchant),
        &gateway_body(&form_id, &view),
    )
    .into_response()
}

pub(super) fn gateway_body(form_id: &str, view: &GatewayView) -> String {
    let amount = escape(&format_amount(&view.currency, view.total_amount));
    let order = format!(
        "<div class=\"order\"><p class=\"merchant\">{merchant}</p><h1>{title}</h1>{desc}\
         <div class=\"amount\" id=\"amount\">{amount}</div></div>",
        merchant = escape(&view.merchant),
        title = escape(&view.title),
        desc = if view.description.is_empty() {
            String::new()
        } else {
            format!("<p class=\"desc\">{}</p>", escape(&view.description))
        },
    );
    if let Some(reason) = closed_reason(view.state) {
        return format!(
            "{}{order}<div class=\"panel\"><p class=\"error shown\" id=\"error\" \
             role=\"alert\">{reason}</p></div>",
            gateway_top()
        );
    }
    let tokenize = format!("/pay/{}/tokenize", escape(form_id));
    format!(
        "{top}{order}\
<form id=\"card-form\" novalidate data-tokenize=\"{tokenize}\">\
<div class=\"field\"><label for=\"name\">Name on card</label>\
<input id=\"name\" name=\"name\" autocomplete=\"cc-name\" placeholder=\"Alice Sandbox\"></div>\
<div class=\"field\"><label for=\"number\">Card number</label><div class=\"with-brand\">\
<input id=\"number\" name=\"number\" inputmode=\"numeric\" autocomplete=\"cc-number\" \
placeholder=\"1234 1234 1234 1234\" maxlength=\"23\">\
<span class=\"card-brand\" id=\"brand\" hidden></span></div></div>\
<div class=\"row\"><div class=\"field\"><label for=\"expiry\">Expiry</label>\
<input id=\"expiry\" name=\"expiry\" inputmode=\"numeric\" autocomplete=\"cc-exp\" \
placeholder=\"MM / YY\" maxlength=\"7\"></div>\
<div class=\"field\"><label for=\"cvc\">CVC</label>\
<input id=\"cvc\" name=\"cvc\" inputmode=\"numeric\" autocomplete=\"cc-csc\" placeholder=\"123\" \
maxlength=\"4\"></div></div>\
<p class=\"error\" id=\"error\" role=\"alert\"></p>\
<button class=\"pay\" id=\"pay\" type=\"submit\">Pay {amount}</button>\
<p class=\"note\">Card details go to Sandbox Pay only, never to the merchant or Telegram.<br>\
Test cards: <code>4242 4242 4242 4242</code> paid · <code>4000 0027 6000 3184</code> 3-D Secure \
· <code>4000 0000 0000 0002</code> declined; any future expiry and any CVC.</p>\
</form>\
<div class=\"done\" id=\"done\" role=\"status\"><div class=\"tick\">{TICK}</div>\
<h1>Card details sent</h1><p class=\"desc\" id=\"done-title\"></p>\
<p class=\"desc\">Return to Telegram to finish the payment.</p></div>\
<script>{GATEWAY_SCRIPT}</script>",
        top = gateway_top(),
    )
}

/// The gateway page's script: field formatting, tokenizing, and the `payment_form_submit`
/// event through the app's bridge, in the order Telegram's web library tries them.
pub(super) const GATEWAY_SCRIPT: &str = r#"(function () {
  'use strict';
  var form = document.getElementById('card-form');
  var number = document.getElementById('number');
  var expiry = document.getElementById('expiry');
  var cvc = document.getElementById('cvc');
  var nameField = document.getElementById('name');
  var brand = document.getElementById('brand');
  var error = document.getElementById('error');
  var pay = document.getElementById('pay');
  var fields = { name: nameField, number: number, expiry: expiry, cvc: cvc };

  function digits(text, max) { return text.replace(/\D/g, '').slice(0, max); }
  function brandOf(d) {
    if (/^4/.test(d)) return 'VISA';
    if (/^(5[1-5]|2(2[2-9]|[3-6]|7[01]|720))/.test(d)) return 'MASTERCARD';
    if (/^3[47]/.test(d)) return 'AMEX';
    if (/^(6011|65|64[4-9])/.test(d)) return 'DISCOVER';
    if (/^35/.test(d)) return 'JCB';
    if (/^62/.test(d)) return 'UNIONPAY';
    return '';
  }
  function clearError() {
    error.textContent = '';
    error.classList.remove('shown');
    Object.keys(fields).forEach(function (k) { fields[k].classList.remove('bad'); });
  }
  function showError(message, field) {
    error.textContent = message;
    error.classList.add('shown');
    if (field && fields[field]) { fields[field].classList.add('bad'); fields[field].focus(); }
  }

  number.addEventListener('input', function () {
    var d = digits(number.value, 19);
    var groups = /^3[47]/.test(d) ? [4, 6, 5] : [4, 4, 4, 4, 3];
    var out = [], at = 0;
    for (var i = 0; i < groups.length && at < d.length; i++) {
      out.push(d.slice(at, at + groups[i]));
      at += groups[i];
    }
    number.value = out.join(' ');
    var b = brandOf(d);
    brand.textContent = b;
    brand.hidden = !b;
  });
  expiry.addEventListener('input', function () {
    var d = digits(expiry.value, 4);
    expiry.value = d.length > 2 ? d.slice(0, 2) + ' / ' + d.slice(2) : d;
  });
  cvc.addEventListener('input', function () { cvc.value = digits(cvc.value, 4); });
  Object.keys(fields).forEach(function (k) { fields[k].addEventListener('input', clearError); });

  function postEvent(eventType, eventData) {
    if (window.TelegramWebviewProxy !== undefined) {
      window.TelegramWebviewProxy.postEvent(eventType, JSON.stringify(eventData));
      return true;
    }
    if (window.external && 'notify' in window.external) {
      window.external.notify(JSON.stringify({ eventType: eventType, eventData: eventData }));
      return true;
    }
    if (window.parent != null && window.parent !== window) {
      window.parent.postMessage(JSON.stringify({ eventType: eventType, eventData: eventData }), '*');
      return true;
    }
    return false;
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    clearError();
    pay.disabled = true;
    var body = JSON.stringify({
      name: nameField.value, number: number.value, expiry: expiry.value, cvc: cvc.value
    });
    fetch(form.getAttribute('data-tokenize'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
      body: body
    }).then(function (response) {
      return response.json().then(function (answer) { return { ok: response.ok, answer: answer }; });
    }).then(function (result) {
      if (!result.ok || !result.answer.token) {
        var e = result.answer.error || {};
        showError(e.message || 'The card was not accepted.', e.field);
        pay.disabled = false;
        return;
      }
      var data = { title: result.answer.title, credentials: { type: 'card', token: result.answer.token } };
      var sent = false;
      try { sent = postEvent('payment_form_submit', data); } catch (e) { sent = false; }
      if (!sent) {
        showError('No Telegram app is listening: open this page from Telegram.');
        pay.disabled = false;
        return;
      }
      number.value = ''; cvc.value = ''; expiry.value = '';
      form.style.display = 'none';
      document.getElementById('done-title').textContent = result.answer.title;
      document.getElementById('done').classList.add('shown');
    }).catch(function () {
      showError('Sandbox Pay could not be reached: check the connection and try again.');
      pay.disabled = false;
    });
  });
})();"#;

/// The card the gateway page posts; wiped when dropped.
#[derive(serde::Deserialize, Zeroize, ZeroizeOnDrop)]
pub(super) struct CardFields {
    #[serde(default)]
    name: String,
    #[serde(default)]
    number: String,
    #[serde(default)]
    expiry: String,
    #[serde(default)]
    cvc: String,
}

pub(super) fn field_error(status: StatusCode, field: Option<&str>, message: &str) -> Response {
    (
        status,
        axum::Json(json!({ "error": { "field": field, "message": message } })),
    )
        .into_response()
}

/// The form field a card check is about.
pub(super) fn field_of(error: &CardError) -> Option<&'static str> {
    match error {
        CardError::NumberMissing
        | CardError::NumberCharacter { .. }
        | CardError::NumberLength { .. }
        | CardError::NumberChecksum { .. } => Some("number"),
        CardError::ExpiryMissing
        | CardError::ExpiryFormat
        | CardError::ExpiryMonth { .. }
        | CardError::ExpiryYear { .. }
        | CardError::Expired { .. } => Some("expiry"),
        CardError::CvcMissing { .. } | CardError::CvcCharacter | CardError::CvcLength { .. } => {
            Some("cvc")
        }
        CardError::CardholderNameMissing | CardError::ControlCharacters { .. } => Some("name"),
        _ => None,
    }
}

/// A sentence for the page: the card check's message, capitalized, with a full stop.
pub(super) fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

pub(super) async fn tokenize(
    State(web): State<Web>,
    Path(form_id): Path<String>,
    body: Result<axum::Json<CardFields>, JsonRejection>,
) -> Response {
    let Some((form_id, view)) = form_id
        .parse::<i64>()
        .ok()
        .and_then(|id| web.with_world(|w| w.gateway(id)).0.map(|v| (id, v)))
    else {
        return field_error(
            StatusCode::NOT_FOUND,
            None,
            "This payment link is not valid: open the invoice in Telegram again.",
        );
    };
    if let Some(reason) = closed_reason(view.state) {
        return field_error(StatusCode::CONFLICT, None, reason);
    }
    let Ok(axum::Json(card)) = body else {
        return field_error(
            StatusCode::BAD_REQUEST,
            None,
            "The card details must be sent as a JSON object with name, number, expiry and cvc.",
        );
    };
    let (now, _) = web.with_world(|w| YearMonth::from_unix(u64::try_from(w.now()).unwrap_or(0)));
    let mut builder = Card::builder()
        .number(&card.number)
        .expiry(&card.expiry)
        .cvc(&card.cvc);
    if !card.name.trim().is_empty() {
        builder = builder.cardholder_name(card.name.trim());
    }
    let checked = match builder.build_at(now) {
        Ok(checked) => checked,
        Err(error) => {
            return field_error(
                StatusCode::BAD_REQUEST,
                field_of(&error),
                &sentence(&error.to_string()),
            );
        }
    };
    let title = checked.title();
    let outcome = outcome_for_card_number(checked.number().expose());
    let (token, _) = web.with_world(|w| w.register_card_token(outcome, &title));
    tracing::debug!(form_id, card = %title, "sandbox gateway tokenized a card");
    axum::Json(json!({ "token": token, "title": title })).into_response()
}
