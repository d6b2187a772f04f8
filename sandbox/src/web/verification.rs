//! The bank's 3-D Secure verification page and its Confirm / Fail / status endpoints.

use super::*;

pub(super) async fn verification_page(
    State(web): State<Web>,
    Path(token): Path<String>,
) -> Response {
    let (view, _) = web.with_world(|w| w.verification(&token));
    let Some(view) = view else {
        return (
            StatusCode::NOT_FOUND,
            page(
                "Unknown verification",
                &format!(
                    "{}<div class=\"panel\"><h1>Unknown verification</h1>\
                     <p class=\"desc\">This link is not valid.</p></div>",
                    bank_top()
                ),
            ),
        )
            .into_response();
    };
    let token = escape(&token);
    let action = match view.state {
        VerificationState::Pending => format!(
            "<p class=\"note\" style=\"margin:0 0 16px\">Sandbox Bank asks you to confirm this \
             payment. In the sandbox, <b>Confirm</b> approves it and <b>Fail</b> declines it; \
             nothing real is charged.</p>\
             <div class=\"buttons\"><form method=\"post\" action=\"/3ds/{token}/fail\">\
             <button class=\"no\" id=\"fail\" type=\"submit\">Fail</button></form>\
             <form method=\"post\" action=\"/3ds/{token}/confirm\">\
             <button class=\"ok\" id=\"confirm\" type=\"submit\">Confirm</button></form></div>"
        ),
        VerificationState::Confirmed => "<p><span class=\"badge\">Confirmed</span></p>".to_owned(),
        VerificationState::Failed => "<p><span class=\"badge bad\">Failed</span></p>".to_owned(),
    };
    page(
        "3-D Secure verification",
        &format!(
            "{top}<div class=\"order\"><p class=\"merchant\">Confirm your payment</p>\
             <div class=\"amount\" style=\"margin-top:4px\">{amount}</div>\
             <p class=\"desc\">to {merchant}</p></div>\
             <dl class=\"facts\"><div><dt>Merchant</dt><dd>{merchant}</dd></div>\
             <div><dt>Order</dt><dd>{title}</dd></div>\
             <div><dt>Card</dt><dd>{card}</dd></div></dl>\
             <div class=\"panel\">{action}</div>",
            top = bank_top(),
            merchant = escape(&view.merchant),
            title = escape(&view.title),
            amount = escape(&amount_text(&view)),
            card = escape(&view.credentials_title),
        ),
    )
    .into_response()
}

pub(super) fn amount_text(view: &VerificationView) -> String {
    format_amount(&view.currency, view.total_amount)
}

pub(super) async fn verification_status(
    State(web): State<Web>,
    Path(token): Path<String>,
) -> Response {
    let (view, _) = web.with_world(|w| w.verification(&token));
    match view {
        Some(v) => axum::Json(json!({ "state": state_name(v.state) })).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({ "error": "unknown verification" })),
        )
            .into_response(),
    }
}

pub(super) fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

pub(super) async fn finish(web: Web, token: String, headers: HeaderMap, confirm: bool) -> Response {
    let (done, pushes) = web.with_world(|w| {
        if confirm {
            w.confirm_verification(&token).is_some()
        } else {
            w.fail_verification(&token)
        }
    });
    (web.push)(pushes);
    let (view, _) = web.with_world(|w| w.verification(&token));
    let state = view.map(|v| v.state);
    let status = match (done, state) {
        (true, _) => StatusCode::OK,
        (false, None) => StatusCode::NOT_FOUND,
        (false, Some(_)) => StatusCode::CONFLICT,
    };
    if wants_json(&headers) {
        return (
            status,
            axum::Json(json!({
                "ok": done,
                "state": state.map(state_name),
            })),
        )
            .into_response();
    }
    let body = match (done, confirm) {
        (true, true) => format!(
            "<div class=\"done shown\"><div class=\"tick\">{TICK}</div>\
             <h1>Payment confirmed</h1><p><span class=\"badge\">Confirmed</span></p>\
             <p class=\"desc\">You can return to Telegram.</p></div>"
        ),
        (true, false) => "<div class=\"panel\"><h1>Payment failed</h1>\
                          <p><span class=\"badge bad\">Failed</span></p>\
                          <p class=\"desc\">Nothing was charged.</p></div>"
            .to_owned(),
        (false, _) => "<div class=\"panel\"><h1>Nothing to do</h1><p class=\"desc\">This \
                       verification is already finished, expired, or unknown.</p></div>"
            .to_owned(),
    };
    (
        status,
        page("3-D Secure verification", &format!("{}{body}", bank_top())),
    )
        .into_response()
}

pub(super) async fn confirm(
    State(web): State<Web>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    finish(web, token, headers, true).await
}

pub(super) async fn fail(
    State(web): State<Web>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    finish(web, token, headers, false).await
}
