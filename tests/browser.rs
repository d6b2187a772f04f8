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

use base64::Engine;
use common::flow;
use tgpay::browser::protocol::browser_protocol::emulation::SetDeviceMetricsOverrideParams;
use tgpay::browser::protocol::browser_protocol::page::{
    CaptureScreenshotFormat, CaptureScreenshotParams,
};
use tgpay::browser::{Bridge, BrowserError, BrowserOptions, Page, WebBrowser};
use tgpay::{Credentials, Error, InvoiceRef, Outcome, PaymentForm, Payments, Reconciled};
use tgpay_sandbox::scenario::{ALICE, BOB};
use tgpay_sandbox::{Sandbox, Scenario};
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
    page.click(selector)
        .await
        .unwrap_or_else(|e| panic!("click {selector}: {e}"));
}

/// Clicks into a field and types, key by key.
async fn type_into(page: &Page, selector: &str, text: &str) {
    click(page, selector).await;
    page.type_str(text).await.unwrap();
}

/// A JavaScript expression's value as text, polled until `done` accepts it.
async fn poll_text(page: &Page, expression: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + PAGE_WAIT;
    loop {
        let text = page
            .evaluate(expression)
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
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
    let shot = page
        .execute(
            CaptureScreenshotParams::builder()
                .format(CaptureScreenshotFormat::Png)
                .build(),
        )
        .await
        .unwrap();
    let png = base64::engine::general_purpose::STANDARD
        .decode(AsRef::<str>::as_ref(&shot.data))
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
    click(&tab, "#number").await;
    tab.press_key("End").await.unwrap();
    tab.press_key("Backspace").await.unwrap();
    tab.type_str("2").await.unwrap();
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
    assert!(!again.page().has_element("#pay").await.unwrap());
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
    page.page().close().await.unwrap();
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

/// A page body that [`serve`] answers with a `302 Found` to the URL after it.
const REDIRECT: &str = "\0redirect ";

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
                let response = match body.strip_prefix(REDIRECT) {
                    Some(location) => format!(
                        "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\
                         Connection: close\r\n\r\n"
                    ),
                    None => format!(
                        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n\
                         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    ),
                };
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
    // The web clients' shape (`window.parent.postMessage`) from the provider's page itself,
    // the top frame: its parent is itself.
    let pages = |_| {
        HashMap::from([
            ("/proxy", html(&proxy)),
            ("/notify", html(&notify)),
            ("/top", html(&top)),
            ("/silent", html("")),
        ])
    };
    let (base, server) = serve(pages).await;
    let browser = launch().await;

    for (path, bridge, title) in [
        ("/proxy", Bridge::WebviewProxy, "proxy"),
        ("/notify", Bridge::ExternalNotify, "notify"),
        ("/top", Bridge::PostMessage, "top"),
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
        .unwrap();
    assert_eq!(shapes, "function,function,0");
    // A window closed by the person ends the wait.
    page.page().close().await.unwrap();
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

/// Card details the sandbox's gateway issued for `form` (a token that really pays), as the
/// `eventData` JSON of `payment_form_submit`.
async fn real_card_event(form: &tgpay::CardForm) -> String {
    let card = r#"{"name":"Bob","number":"4242424242424242","expiry":"12/34","cvc":"123"}"#;
    let (status, body) = http("POST", &format!("{}/tokenize", form.url), card).await;
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    serde_json::json!({
        "title": answer["title"],
        "credentials": { "type": "card", "token": answer["token"] },
    })
    .to_string()
}

/// What an app using the relay does: the card from the page at `url`, then the checkout.
async fn pay_through_page(
    browser: &WebBrowser,
    payments: &Payments,
    form: &tgpay::CardForm,
    url: &str,
    wait: Duration,
) -> Result<tgpay::Paid, BrowserError> {
    let card = browser.collect_credentials(url, wait).await?;
    match payments
        .checkout(form)
        .credentials(Credentials::Web(card))
        .send()
        .await?
    {
        Outcome::Paid(paid) => Ok(paid),
        other => panic!("paid expected, got {other:?}"),
    }
}

#[tokio::test]
async fn a_page_that_leaves_https_or_loopback_ends_the_relay_and_nothing_is_charged() {
    let sandbox = sandbox().await;
    let bob = flow(&sandbox, BOB);
    let form = card_form(&bob.payments, "ebook").await;
    let steal = html(&format!(
        "TelegramWebviewProxy.postEvent('payment_form_submit', {});",
        serde_json::to_string(&real_card_event(&form).await).unwrap()
    ));
    // `pay.evil.test` resolves to this machine, so that the page would load if it were let.
    let pages = move |port| {
        let evil = format!("http://pay.evil.test:{port}/steal");
        HashMap::from([
            ("/redirect", format!("{REDIRECT}{evil}")),
            (
                "/navigate",
                html(&format!(
                    "setTimeout(function () {{ location.href = '{evil}'; }}, 100);"
                )),
            ),
            ("/steal", steal.clone()),
        ])
    };
    let (base, server) = serve(pages).await;
    let browser =
        WebBrowser::launch(&options().arg("--host-resolver-rules=MAP pay.evil.test 127.0.0.1"))
            .await
            .unwrap();
    // An HTTP redirect on the first load, and a script navigating once loaded.
    for path in ["/redirect", "/navigate"] {
        let err = pay_through_page(
            &browser,
            &bob.payments,
            &form,
            &format!("{base}{path}"),
            PAGE_WAIT,
        )
        .await
        .unwrap_err();
        let BrowserError::NavigationRefused { url, reason } = &err else {
            panic!("{path}: a refused navigation expected, got {err:?}");
        };
        assert!(url.starts_with("http://pay.evil.test:"), "{url}");
        assert!(reason.contains("https"), "{reason}");
        assert!(err.to_string().contains("nothing was sent"), "{err}");
    }
    // The refused page was never fetched: it would have been served from here.
    assert!(sandbox.world().charges().is_empty());
    assert_eq!(
        sandbox.world().call_count(BOB, "payments.sendPaymentForm"),
        0
    );
    browser.close().await;
    server.abort();
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_card_posted_by_an_iframe_is_ignored_and_nothing_is_charged() {
    let sandbox = sandbox().await;
    let bob = flow(&sandbox, BOB);
    let form = card_form(&bob.payments, "ebook").await;
    let message = serde_json::json!({
        "eventType": "payment_form_submit",
        "eventData": real_card_event(&form).await,
    })
    .to_string();
    // Each frame posts the web clients' shape to its parent, and tries the parent's bridge
    // (which the browser forbids across origins). A frame of the page's own origin could call
    // the top page's functions anyway, as any of that origin's scripts can: the origin is the
    // web's security boundary, so this frame only posts.
    let post = |reach_parent: bool| {
        let reach = if reach_parent {
            format!(
                "try {{ window.parent.TelegramWebviewProxy.postEvent('payment_form_submit', {}); }} catch (e) {{}}",
                serde_json::to_string(&message).unwrap()
            )
        } else {
            String::new()
        };
        html(&format!(
            "window.parent.postMessage({}, '*'); {reach}",
            serde_json::to_string(&message).unwrap()
        ))
    };
    let (foreign, same) = (post(true), post(false));
    // The top page is the provider's (127.0.0.1); one frame is of another origin
    // (`localhost`), one of the same origin: neither is the top frame.
    let pages = move |port| {
        HashMap::from([
            (
                "/outer",
                format!(
                    "<!doctype html><html><body><p>provider</p>\
                     <iframe src=\"http://localhost:{port}/foreign\"></iframe>\
                     <iframe src=\"/same\"></iframe></body></html>"
                ),
            ),
            ("/foreign", foreign.clone()),
            ("/same", same.clone()),
        ])
    };
    let (base, server) = serve(pages).await;
    let browser = launch().await;
    let err = pay_through_page(
        &browser,
        &bob.payments,
        &form,
        &format!("{base}/outer"),
        Duration::from_secs(2),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, BrowserError::Timeout { rejected: None, .. }),
        "{err:?}"
    );
    assert!(sandbox.world().charges().is_empty());
    assert_eq!(
        sandbox.world().call_count(BOB, "payments.sendPaymentForm"),
        0
    );
    browser.close().await;
    server.abort();
    sandbox.shutdown().await;
}

/// The parent process id of `pid`.
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// `pid` and every process descended from it.
fn process_tree(pid: u32) -> Vec<u32> {
    let all: Vec<u32> = std::fs::read_dir("/proc")
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    let mut tree = vec![pid];
    let mut grew = true;
    while grew {
        grew = false;
        for &p in &all {
            if !tree.contains(&p) && parent_of(p).is_some_and(|parent| tree.contains(&parent)) {
                tree.push(p);
                grew = true;
            }
        }
    }
    tree
}

fn cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .unwrap_or_default()
}

/// Listening TCP sockets (inode, port) in the network namespace of `pid`.
fn listening_tcp(pid: u32) -> Vec<(u64, u16)> {
    let mut found = Vec::new();
    for table in ["tcp", "tcp6"] {
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.get(3) == Some(&"0A") {
                let port = fields[1]
                    .rsplit(':')
                    .next()
                    .and_then(|p| u16::from_str_radix(p, 16).ok());
                if let (Some(port), Some(inode)) =
                    (port, fields.get(9).and_then(|i| i.parse().ok()))
                {
                    found.push((inode, port));
                }
            }
        }
    }
    found
}

/// The socket inodes `pid` holds.
fn sockets_of(pid: u32) -> Vec<u64> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|entries| {
            entries
                .filter_map(|e| {
                    let link = std::fs::read_link(e.ok()?.path()).ok()?;
                    let link = link.to_str()?;
                    link.strip_prefix("socket:[")?
                        .strip_suffix(']')?
                        .parse()
                        .ok()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Whether this test runs as root and the `nobody` account exists, to act as another account.
fn nobody() -> Option<(u32, u32)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status.lines().find_map(|l| l.strip_prefix("Uid:"))?;
    if uid.split_whitespace().next()? != "0" {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    let fields: Vec<&str> = passwd
        .lines()
        .find(|l| l.starts_with("nobody:"))?
        .split(':')
        .collect();
    Some((fields.get(2)?.parse().ok()?, fields.get(3)?.parse().ok()?))
}

#[tokio::test]
async fn the_browser_has_no_port_a_private_profile_and_another_account_cannot_reach_it() {
    let (base, server) = serve(|_| HashMap::from([("/silent", html(""))])).await;
    let browser = launch().await;
    let page = browser
        .open_payment_form(&format!("{base}/silent"))
        .await
        .unwrap();
    let pid = browser.pid().unwrap();
    let tree = process_tree(pid);
    assert!(tree.len() > 1, "Chromium's helper processes: {tree:?}");
    let line = cmdline(pid);
    assert!(line.contains("--remote-debugging-pipe"), "{line}");
    assert!(!line.contains("--remote-debugging-port"), "{line}");

    // No process of the browser holds a listening TCP socket.
    for &p in &tree {
        let listening = listening_tcp(p);
        for inode in sockets_of(p) {
            assert!(
                !listening.iter().any(|(i, _)| *i == inode),
                "process {p} ({}) listens on {listening:?}",
                cmdline(p)
            );
        }
    }

    // The profile is private to this account.
    let profile = browser.profile_dir().unwrap().to_owned();
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&profile).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o700, "{mode:o}");

    // Another account tries what a DevTools client would: read the profile's
    // DevToolsActivePort, and ask every port listening on loopback for /json/version.
    if let Some((uid, gid)) = nobody() {
        use std::os::unix::process::CommandExt;
        let ports: Vec<String> = listening_tcp(std::process::id())
            .iter()
            .map(|(_, port)| port.to_string())
            .collect();
        let probe = r#"profile="$1"; shift
ls -a "$profile" >/dev/null 2>&1 && echo "listed the profile"
cat "$profile/DevToolsActivePort" >/dev/null 2>&1 && echo "read DevToolsActivePort"
# Each probe in a subshell: a port that closed meanwhile (another test's server) makes the
# redirection fail, which would end a non-interactive shell.
for port in "$@"; do
  (
    exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 0
    printf 'GET /json/version HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
    timeout 2 cat <&3 | grep -q webSocketDebuggerUrl && echo "DevTools on port $port"
  )
done 2>/dev/null
echo done"#;
        let output = std::process::Command::new("bash")
            .arg("-c")
            .arg(probe)
            .arg("probe")
            .arg(&profile)
            .args(&ports)
            .current_dir("/")
            .uid(uid)
            .gid(gid)
            .output()
            .expect("bash runs as nobody");
        let said = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            said,
            "done\n",
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    drop(page);
    browser.close().await;
    assert!(!profile.exists(), "{}", profile.display());
    server.abort();
}

/// The seccomp mode of `pid` (2: a filter, as Chromium's sandbox installs in renderers).
fn seccomp(pid: u32) -> Option<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("Seccomp:"))?
        .trim()
        .parse()
        .ok()
}

/// The renderer processes of a browser.
fn renderers(pid: u32) -> Vec<u32> {
    process_tree(pid)
        .into_iter()
        .filter(|p| cmdline(*p).contains("--type=renderer"))
        .collect()
}

#[tokio::test]
async fn chromium_runs_in_its_sandbox_unless_it_is_turned_off() {
    use tgpay::browser::{BrowserSandbox, SandboxOff, SandboxState};
    let (base, server) = serve(|_| HashMap::from([("/silent", html(""))])).await;

    let browser = launch().await;
    let state = browser.sandbox();
    assert!(matches!(state, SandboxState::On { .. }), "{state:?}");
    let _page = browser
        .open_payment_form(&format!("{base}/silent"))
        .await
        .unwrap();
    let pid = browser.pid().unwrap();
    assert!(!cmdline(pid).contains("--no-sandbox"), "{}", cmdline(pid));
    let sandboxed = renderers(pid);
    assert!(!sandboxed.is_empty());
    for renderer in &sandboxed {
        assert_eq!(seccomp(*renderer), Some(2), "{}", cmdline(*renderer));
    }
    drop(_page);
    browser.close().await;

    let browser = WebBrowser::launch(&options().sandbox(BrowserSandbox::Off))
        .await
        .unwrap();
    assert_eq!(browser.sandbox(), SandboxState::Off(SandboxOff::Requested));
    let _page = browser
        .open_payment_form(&format!("{base}/silent"))
        .await
        .unwrap();
    let pid = browser.pid().unwrap();
    assert!(cmdline(pid).contains("--no-sandbox"));
    for renderer in renderers(pid) {
        assert_eq!(seccomp(renderer), Some(0), "{}", cmdline(renderer));
    }
    drop(_page);
    browser.close().await;
    server.abort();
}
