//! Web payments in headless Chromium: the sandbox's gateway page typed into and submitted, the
//! event captured through the webview bridge and paid with `payments.sendPaymentForm`; the
//! 3-D Secure page confirmed and failed; each bridge shape; a page that never posts.
//!
//! Chromium must be installed (`scripts/test` installs Debian's `chromium`): without it these
//! tests fail with the error that says how to install it.
//!
//! Set `TGPAY_SCREENSHOTS=<dir>` to save screenshots of the sandbox's pages there (the ones in
//! `docs/` come from `TGPAY_SCREENSHOTS=docs`).

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::flow;
use tgpay::browser::chromiumoxide::Page;
use tgpay::browser::chromiumoxide::cdp::browser_protocol::emulation::SetDeviceMetricsOverrideParams;
use tgpay::browser::chromiumoxide::cdp::browser_protocol::page::CaptureScreenshotFormat;
use tgpay::browser::chromiumoxide::page::ScreenshotParams;
use tgpay::browser::{Bridge, BrowserError, BrowserOptions, WebBrowser};
use tgpay::sandbox::scenario::{ALICE, BOB};
use tgpay::sandbox::{Sandbox, Scenario};
use tgpay::{Credentials, Error, InvoiceRef, Outcome, PaymentForm, Payments, Reconciled};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// How long a page may take to post in these tests.
const PAGE_WAIT: Duration = Duration::from_secs(15);

async fn sandbox() -> Sandbox {
    Sandbox::start(Scenario::default_world()).await.unwrap()
}

async fn card_form(payments: &Payments, slug: &str) -> Box<tgpay::CardForm> {
    match payments
        .get_payment_form(&InvoiceRef::Slug(slug.to_owned()))
        .await
        .unwrap()
    {
        PaymentForm::Card(form) => form,
        other => panic!("a card form expected, got {other:?}"),
    }
}

fn options() -> BrowserOptions {
    BrowserOptions::headless().window_size(520, 900)
}

async fn launch() -> WebBrowser {
    match WebBrowser::launch(&options()).await {
        Ok(browser) => browser,
        Err(error) => panic!("{error}"),
    }
}

/// Clicks an element as a person does (mouse events at its centre).
async fn click(page: &Page, selector: &str) {
    page.find_element(selector)
        .await
        .unwrap_or_else(|e| panic!("{selector}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {selector}: {e}"));
}

/// Clicks into a field and types, key by key.
async fn type_into(page: &Page, selector: &str, text: &str) {
    let field = page
        .find_element(selector)
        .await
        .unwrap_or_else(|e| panic!("{selector}: {e}"));
    field.click().await.unwrap();
    field.type_str(text).await.unwrap();
}

/// A JavaScript expression's value as text, polled until `done` accepts it.
async fn poll_text(page: &Page, expression: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + PAGE_WAIT;
    loop {
        let text = page
            .evaluate(expression)
            .await
            .ok()
            .and_then(|v| v.into_value::<String>().ok())
            .unwrap_or_default();
        if done(&text) || tokio::time::Instant::now() > deadline {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Fills in the sandbox's gateway page.
async fn fill_card(page: &Page, number: &str) {
    type_into(page, "#name", "Alice Sandbox").await;
    type_into(page, "#number", number).await;
    type_into(page, "#expiry", "12/34").await;
    type_into(page, "#cvc", "123").await;
}

/// A screenshot of the page at a phone-like size; saved under `TGPAY_SCREENSHOTS` if set.
async fn screenshot(page: &Page, name: &str) {
    page.execute(SetDeviceMetricsOverrideParams::new(460, 860, 2.0, false))
        .await
        .unwrap();
    let png = page
        .screenshot(
            ScreenshotParams::builder()
                .format(CaptureScreenshotFormat::Png)
                .build(),
        )
        .await
        .unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000);
    if let Some(dir) = std::env::var_os("TGPAY_SCREENSHOTS") {
        let path = std::path::Path::new(&dir).join(name);
        std::fs::write(&path, &png).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

#[tokio::test]
async fn a_web_gateway_purchase_end_to_end() {
    let sandbox = sandbox().await;
    let alice = flow(&sandbox, ALICE);
    let form = card_form(&alice.payments, "ebook").await;
    assert!(
        form.url
            .starts_with(&format!("{}/pay/", sandbox.web_base_url()))
    );
    let browser = launch().await;

    let page = browser.open_payment_form(&form.url).await.unwrap();
    let tab = page.page().clone();
    let heading = poll_text(&tab, "document.querySelector('h1').textContent", |t| {
        !t.is_empty()
    })
    .await;
    assert_eq!(heading, "Payments, Explained");
    let amount = poll_text(&tab, "document.getElementById('amount').textContent", |t| {
        !t.is_empty()
    })
    .await;
    assert_eq!(amount, "$4.99");

    // A mistyped digit: the page says so inline and sends nothing.
    fill_card(&tab, "4242424242424241").await;
    assert_eq!(
        poll_text(&tab, "document.getElementById('number').value", |t| t.len()
            == 19)
        .await,
        "4242 4242 4242 4241"
    );
    click(&tab, "#pay").await;
    let error = poll_text(&tab, "document.getElementById('error').textContent", |t| {
        !t.is_empty()
    })
    .await;
    assert!(error.contains("check digit"), "{error}");

    // Corrected: the card is tokenized and the event posted.
    let number = tab.find_element("#number").await.unwrap();
    number.click().await.unwrap();
    number.press_key("End").await.unwrap();
    number.press_key("Backspace").await.unwrap();
    number.type_str("2").await.unwrap();
    assert_eq!(
        poll_text(&tab, "document.getElementById('error').textContent", |t| t
            .is_empty())
        .await,
        ""
    );
    screenshot(&tab, "sandbox-gateway.png").await;
    click(&tab, "#pay").await;
    let submission = page.wait(PAGE_WAIT).await.unwrap();
    assert_eq!(submission.bridge, Bridge::WebviewProxy);
    let card = submission.credentials;
    assert_eq!(card.title(), "Visa *4242");
    assert!(!format!("{card:?}").contains("tok_"), "{card:?}");
    let data: serde_json::Value = serde_json::from_str(card.data().expose()).unwrap();
    assert_eq!(data["type"], "card");
    assert!(data["token"].as_str().unwrap().starts_with("tok_sandbox_"));
    assert!(sandbox.world().charges().is_empty());

    let Outcome::Paid(paid) = alice
        .payments
        .checkout(&form)
        .credentials(Credentials::Web(card))
        .send()
        .await
        .unwrap()
    else {
        panic!("paid expected");
    };
    assert_eq!(paid.total.to_string(), "$4.99");
    let receipt = alice
        .payments
        .get_payment_receipt(&paid.receipt)
        .await
        .unwrap();
    assert_eq!(receipt.credentials_title, "Visa *4242");
    assert_eq!(receipt.total.to_string(), "$4.99");
    assert_eq!(sandbox.world().charges().len(), 1);

    // The paid form's page no longer takes cards.
    let again = browser.open_payment_form(&form.url).await.unwrap();
    let said = poll_text(
        again.page(),
        "document.getElementById('error').textContent",
        |t| !t.is_empty(),
    )
    .await;
    assert!(said.contains("already paid"), "{said}");
    assert!(again.page().find_element("#pay").await.is_err());
    browser.close().await;
    sandbox.shutdown().await;
}

/// Pays `slug` with the 3-D Secure test card typed into the gateway page.
async fn three_ds_checkout(
    browser: &WebBrowser,
    payments: &Payments,
    slug: &str,
) -> tgpay::Verification {
    let form = card_form(payments, slug).await;
    let page = browser.open_payment_form(&form.url).await.unwrap();
    fill_card(page.page(), "4000 0027 6000 3184").await;
    click(page.page(), "#pay").await;
    let card = page.wait(PAGE_WAIT).await.unwrap().credentials;
    assert_eq!(card.title(), "Visa *3184");
    match payments
        .checkout(&form)
        .credentials(Credentials::Web(card))
        .send()
        .await
        .unwrap()
    {
        Outcome::VerificationNeeded(verification) => verification,
        other => panic!("3-D Secure expected, got {other:?}"),
    }
}

#[tokio::test]
async fn three_d_secure_confirmed_in_the_browser() {
    let sandbox = sandbox().await;
    let alice = flow(&sandbox, ALICE);
    let browser = launch().await;
    let verification = three_ds_checkout(&browser, &alice.payments, "ebook").await;
    assert!(sandbox.world().charges().is_empty());

    let page = browser.open_verification(&verification.url).await.unwrap();
    let said = poll_text(
        page.page(),
        "document.querySelector('main').innerText",
        |t| !t.is_empty(),
    )
    .await;
    for shown in ["$4.99", "Sandbox Shop", "Payments, Explained", "Visa *3184"] {
        assert!(said.contains(shown), "{shown} in {said}");
    }
    screenshot(page.page(), "sandbox-3ds.png").await;
    click(page.page(), "#confirm").await;
    let paid = page
        .wait(&alice.payments, verification, PAGE_WAIT)
        .await
        .unwrap();
    assert_eq!(paid.total.to_string(), "$4.99");
    assert!(paid.receipt.receipt_msg_id.is_some());
    assert_eq!(sandbox.world().charges().len(), 1);
    let receipt = alice
        .payments
        .get_payment_receipt(&paid.receipt)
        .await
        .unwrap();
    assert_eq!(receipt.credentials_title, "Visa *3184");
    browser.close().await;
    sandbox.shutdown().await;
}

#[tokio::test]
async fn three_d_secure_failed_or_abandoned_in_the_browser_charges_nothing() {
    let sandbox = sandbox().await;
    let alice = flow(&sandbox, ALICE);
    let browser = launch().await;

    // Fail: the payment fails with Telegram's notification.
    let verification = three_ds_checkout(&browser, &alice.payments, "club").await;
    let page = browser.open_verification(&verification.url).await.unwrap();
    click(page.page(), "#fail").await;
    let err = page
        .wait(&alice.payments, verification, PAGE_WAIT)
        .await
        .unwrap_err();
    assert!(
        matches!(err, BrowserError::Payment(Error::VerificationFailed { .. })),
        "{err:?}"
    );
    assert!(sandbox.world().charges().is_empty());

    // Abandoned: the person closes the window; the payment is left to reconcile.
    let verification = three_ds_checkout(&browser, &alice.payments, "ebook").await;
    let page = browser.open_verification(&verification.url).await.unwrap();
    page.page().clone().close().await.unwrap();
    let err = page
        .wait(&alice.payments, verification, PAGE_WAIT)
        .await
        .unwrap_err();
    let BrowserError::Abandoned { pending } = err else {
        panic!("abandoned expected, got {err:?}");
    };
    assert_eq!(pending.payment.total.to_string(), "$4.99");
    // Abandoned is not failed: the bank's page could still be confirmed.
    assert!(matches!(
        alice.payments.reconcile(&pending.payment).await.unwrap(),
        Reconciled::Unsettled { .. }
    ));
    assert!(sandbox.world().charges().is_empty());
    browser.close().await;
    sandbox.shutdown().await;
}

/// A tiny HTTP server on loopback serving the pages `pages(port)` makes, by path.
async fn serve(
    pages: impl FnOnce(u16) -> HashMap<&'static str, String>,
) -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let pages = pages(port);
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let pages = pages.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let request = String::from_utf8_lossy(&request);
                let path = request.split(' ').nth(1).unwrap_or("/");
                let (status, body) = match pages.get(path) {
                    Some(body) => ("200 OK", body.as_str()),
                    None => ("404 Not Found", "not here"),
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    (base, task)
}

fn event_data(title: &str) -> String {
    format!(r#"{{"title":"{title}","credentials":{{"type":"card","token":"tok_{title}"}}}}"#)
}

fn html(script: &str) -> String {
    format!("<!doctype html><html><body><p>test page</p><script>{script}</script></body></html>")
}

#[tokio::test]
async fn each_bridge_shape_delivers_the_event() {
    let proxy = format!(
        // Telegram's library: JSON text as the data. Other events and a malformed submit
        // first: the relay keeps waiting for a usable one.
        "TelegramWebviewProxy.postEvent('web_app_ready', '');\
         TelegramWebviewProxy.postEvent('payment_form_submit', JSON.stringify({{title: 'x', credentials: 'not an object'}}));\
         TelegramWebviewProxy.postEvent('payment_form_submit', JSON.stringify({}));",
        event_data("proxy")
    );
    let notify = format!(
        "window.external.notify(JSON.stringify({{eventType: 'payment_form_submit', eventData: {}}}));",
        event_data("notify")
    );
    let top = format!(
        "window.parent.postMessage(JSON.stringify({{eventType: 'payment_form_submit', eventData: {}}}), '*');",
        event_data("top")
    );
    let inner = format!(
        "if (window.parent !== window) {{ window.parent.postMessage(JSON.stringify({{eventType: 'payment_form_submit', eventData: {}}}), '*'); }}",
        event_data("iframe")
    );
    // The web clients' shape: the provider's page in a frame of another site (`localhost` is
    // not the same site as `127.0.0.1`), posting to its parent.
    let pages = |port| {
        HashMap::from([
            ("/proxy", html(&proxy)),
            ("/notify", html(&notify)),
            ("/top", html(&top)),
            (
                "/outer",
                format!(
                    "<!doctype html><html><body>\
                     <iframe src=\"http://localhost:{port}/inner\"></iframe></body></html>"
                ),
            ),
            ("/inner", html(&inner)),
            ("/silent", html("")),
        ])
    };
    let (base, server) = serve(pages).await;
    let browser = launch().await;

    for (path, bridge, title) in [
        ("/proxy", Bridge::WebviewProxy, "proxy"),
        ("/notify", Bridge::ExternalNotify, "notify"),
        ("/top", Bridge::PostMessage, "top"),
        ("/outer", Bridge::PostMessage, "iframe"),
    ] {
        let page = browser
            .open_payment_form(&format!("{base}{path}"))
            .await
            .unwrap();
        let submission = page.wait(PAGE_WAIT).await.unwrap();
        assert_eq!(submission.bridge, bridge, "{path}");
        assert_eq!(submission.credentials.title(), title, "{path}");
        let data: serde_json::Value =
            serde_json::from_str(submission.credentials.data().expose()).unwrap();
        assert_eq!(
            data,
            serde_json::json!({ "type": "card", "token": format!("tok_{title}") }),
            "{path}"
        );
    }

    // The bridge is in place before the page's scripts, and the binding is not left behind.
    let page = browser
        .open_payment_form(&format!("{base}/silent"))
        .await
        .unwrap();
    let shapes = page
        .page()
        .evaluate(
            "[typeof window.TelegramWebviewProxy.postEvent, typeof window.external.notify, \
             Object.keys(window).filter(k => k.startsWith('__tgpay')).length].join(',')",
        )
        .await
        .unwrap()
        .into_value::<String>()
        .unwrap();
    assert_eq!(shapes, "function,function,0");
    // A window closed by the person ends the wait.
    page.page().clone().close().await.unwrap();
    assert!(matches!(
        page.wait(PAGE_WAIT).await,
        Err(BrowserError::Closed)
    ));

    // Pages that fail to load are a typed error; plain http elsewhere is refused.
    let err = browser
        .open_payment_form("http://127.0.0.1:9/pay")
        .await
        .unwrap_err();
    assert!(matches!(err, BrowserError::Navigation { .. }), "{err:?}");
    let err = browser
        .open_payment_form("http://pay.example.com/form")
        .await
        .unwrap_err();
    assert!(matches!(err, BrowserError::UrlRefused { .. }), "{err:?}");

    // A browser that dies (here: killed) ends the wait too.
    let page = browser
        .open_payment_form(&format!("{base}/silent"))
        .await
        .unwrap();
    let pid = browser.pid().expect("a browser process");
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let started = std::time::Instant::now();
    assert!(matches!(
        page.wait(PAGE_WAIT).await,
        Err(BrowserError::Closed)
    ));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(browser.has_exited());
    assert!(matches!(
        browser.open_payment_form(&format!("{base}/proxy")).await,
        Err(BrowserError::Closed)
    ));
    browser.close().await;
    server.abort();
}

/// Processes whose command line contains `marker`: (pid, command line).
fn processes_with(marker: &str) -> Vec<(u32, String)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let pid = e.file_name().to_str()?.parse::<u32>().ok()?;
            let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            cmdline.contains(marker).then_some((pid, cmdline))
        })
        .collect()
}

#[tokio::test]
async fn a_page_that_never_posts_times_out_closes_the_browser_and_charges_nothing() {
    let sandbox = sandbox().await;
    let bob = flow(&sandbox, BOB);
    let form = card_form(&bob.payments, "ebook").await;
    let marker = format!("--tgpay-test-run={}", std::process::id());

    // Watch for the browser the one-shot relay launches.
    let seen = tokio::spawn({
        let marker = marker.clone();
        async move {
            loop {
                if let Some(found) = processes_with(&marker).into_iter().next() {
                    return found;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    });
    let started = std::time::Instant::now();
    let err = tgpay::browser::collect_credentials(
        &form.url,
        &options().arg(marker.clone()),
        Duration::from_millis(1500),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, BrowserError::Timeout { rejected: None, .. }),
        "{err:?}"
    );
    assert!(started.elapsed() >= Duration::from_millis(1500));
    assert!(err.to_string().contains("nothing was paid"), "{err}");

    let (pid, cmdline) = tokio::time::timeout(Duration::from_secs(1), seen)
        .await
        .expect("the relay's browser was seen running")
        .unwrap();
    assert!(cmdline.contains("--headless=new"), "{cmdline}");
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    assert!(processes_with(&marker).is_empty());
    let profile = cmdline
        .split(' ')
        .find_map(|arg| arg.strip_prefix("--user-data-dir="))
        .expect("a profile directory");
    assert!(!std::path::Path::new(profile).exists(), "{profile}");

    assert!(sandbox.world().charges().is_empty());
    assert_eq!(
        sandbox.world().call_count(BOB, "payments.sendPaymentForm"),
        0
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_browser_is_found_and_a_missing_one_is_a_typed_error() {
    let found = match tgpay::browser::find_chromium() {
        Ok(path) => path,
        Err(error) => panic!("{error}"),
    };
    assert!(found.is_file(), "{}", found.display());
    let err = WebBrowser::launch(&BrowserOptions::headless().executable("/nonexistent/chromium"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, BrowserError::ExecutableInvalid { path } if path.ends_with("chromium")),
        "{err:?}"
    );
}

/// A minimal HTTP/1.1 request on loopback; returns (status, body).
async fn http(method: &str, url: &str, body: &str) -> (u16, String) {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Accept: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(PAGE_WAIT, stream.read_to_end(&mut response))
        .await
        .expect("an answer in time")
        .unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test]
async fn the_gateway_checks_cards_and_forms_before_issuing_a_token() {
    let sandbox = sandbox().await;
    let bob = flow(&sandbox, BOB);
    let form = card_form(&bob.payments, "ebook").await;
    let tokenize = format!("{}/tokenize", form.url);
    let card = |number: &str, expiry: &str, cvc: &str| {
        serde_json::json!({ "name": "Bob", "number": number, "expiry": expiry, "cvc": cvc })
            .to_string()
    };
    let error_field = |body: &str| {
        let answer: serde_json::Value = serde_json::from_str(body).unwrap();
        (
            answer["error"]["field"].as_str().map(str::to_owned),
            answer["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        )
    };

    for (number, expiry, cvc, field, says) in [
        (
            "4242 4242 4242 4241",
            "12/34",
            "123",
            "number",
            "check digit",
        ),
        (
            "4242 4242 4242 4242",
            "13/34",
            "123",
            "expiry",
            "month is 13",
        ),
        ("4242 4242 4242 4242", "01/20", "123", "expiry", "expired"),
        ("4242 4242 4242 4242", "12/34", "12", "cvc", "security code"),
        ("", "12/34", "123", "number", "missing"),
    ] {
        let (status, body) = http("POST", &tokenize, &card(number, expiry, cvc)).await;
        assert_eq!(status, 400, "{number} {expiry} {cvc}: {body}");
        let (got, message) = error_field(&body);
        assert_eq!(got.as_deref(), Some(field), "{body}");
        assert!(message.contains(says), "{says} in {message}");
        assert!(!body.contains("4242 4242"), "{body}");
    }
    let (status, _) = http("POST", &tokenize, "not json").await;
    assert_eq!(status, 400);
    let unknown = format!("{}/pay/12345/tokenize", sandbox.web_base_url());
    let (status, _) = http("POST", &unknown, &card("4242424242424242", "12/34", "123")).await;
    assert_eq!(status, 404);
    let (status, page) = http("GET", &format!("{}/pay/nope", sandbox.web_base_url()), "").await;
    assert_eq!(status, 404, "{page}");

    // A good card: a token the world accepts, with the masked title.
    let (status, body) = http(
        "POST",
        &tokenize,
        &card("4000 0000 0000 0002", "12/34", "123"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["title"], "Visa *0002");
    let token = answer["token"].as_str().unwrap();
    let event =
        format!(r#"{{"title":"Visa *0002","credentials":{{"type":"card","token":"{token}"}}}}"#);
    let web = tgpay::credentials::WebCredentials::from_event(&event).unwrap();
    // This test card declines when charged: nothing is paid, and the form stays open.
    let err = bob
        .payments
        .checkout(&form)
        .credentials(Credentials::Web(web))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Refused(_)), "{err:?}");
    assert!(sandbox.world().charges().is_empty());

    // Once paid, the form takes no more cards.
    let (_, body) = http("POST", &tokenize, &card("4242424242424242", "12/34", "123")).await;
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    let event = format!(
        r#"{{"title":"Visa *4242","credentials":{{"type":"card","token":"{}"}}}}"#,
        answer["token"].as_str().unwrap()
    );
    let web = tgpay::credentials::WebCredentials::from_event(&event).unwrap();
    let outcome = bob
        .payments
        .checkout(&form)
        .credentials(Credentials::Web(web))
        .send()
        .await
        .unwrap();
    assert!(outcome.paid().is_some());
    let (status, body) = http("POST", &tokenize, &card("4242424242424242", "12/34", "123")).await;
    assert_eq!(status, 409, "{body}");
    assert!(error_field(&body).1.contains("already paid"), "{body}");
    sandbox.shutdown().await;
}
