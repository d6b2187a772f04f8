//! Shared helpers for tests that drive the sandbox over TCP.
#![allow(dead_code)]

use std::time::Duration;

use grammers_client::Client;
use grammers_mtsender::InvocationError;
use grammers_session::updates::UpdatesLike;
use tgpay::tl;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::timeout;

/// How long anything in these tests may take before it counts as hung.
pub const WAIT: Duration = Duration::from_secs(10);

/// Invokes with a deadline, so a hang fails the test instead of stalling it.
pub async fn call<R: tl::RemoteCall>(
    client: &Client,
    request: &R,
) -> Result<R::Return, InvocationError> {
    timeout(WAIT, client.invoke(request))
        .await
        .unwrap_or_else(|_| panic!("no answer within {WAIT:?}"))
}

/// The RPC error name (grammers' form: digits moved into `value`) of a failed call.
pub fn rpc_name<T: std::fmt::Debug>(result: Result<T, InvocationError>) -> String {
    match result {
        Err(InvocationError::Rpc(e)) => e.name,
        other => panic!("expected an RPC error, got {other:?}"),
    }
}

pub fn slug(s: &str) -> tl::enums::InputInvoice {
    tl::types::InputInvoiceSlug { slug: s.to_owned() }.into()
}

pub fn get_form(invoice: tl::enums::InputInvoice) -> tl::functions::payments::GetPaymentForm {
    tl::functions::payments::GetPaymentForm {
        invoice,
        theme_params: None,
    }
}

/// The form id of any payment form.
pub fn form_id(form: &tl::enums::payments::PaymentForm) -> i64 {
    match form {
        tl::enums::payments::PaymentForm::Form(f) => f.form_id,
        tl::enums::payments::PaymentForm::Stars(f) => f.form_id,
        tl::enums::payments::PaymentForm::StarGift(f) => f.form_id,
    }
}

pub fn card_form(form: tl::enums::payments::PaymentForm) -> tl::types::payments::PaymentForm {
    match form {
        tl::enums::payments::PaymentForm::Form(f) => f,
        other => panic!("expected a card form, got {other:?}"),
    }
}

pub fn web_credentials(json: &str, save: bool) -> tl::enums::InputPaymentCredentials {
    tl::types::InputPaymentCredentials {
        save,
        data: tl::types::DataJson {
            data: json.to_owned(),
        }
        .into(),
    }
    .into()
}

pub fn stripe_token(token: &str) -> tl::enums::InputPaymentCredentials {
    web_credentials(&format!(r#"{{"type":"card","id":"{token}"}}"#), false)
}

pub fn send_form(
    form_id: i64,
    invoice: tl::enums::InputInvoice,
    credentials: tl::enums::InputPaymentCredentials,
) -> tl::functions::payments::SendPaymentForm {
    tl::functions::payments::SendPaymentForm {
        form_id,
        invoice,
        requested_info_id: None,
        shipping_option_id: None,
        credentials,
        tip_amount: None,
    }
}

pub fn updates_of(result: tl::enums::payments::PaymentResult) -> tl::types::Updates {
    match result {
        tl::enums::payments::PaymentResult::Result(r) => match r.updates {
            tl::enums::Updates::Updates(u) => u,
            other => panic!("expected updates, got {other:?}"),
        },
        other => panic!("expected a payment result, got {other:?}"),
    }
}

pub fn verification_url(result: tl::enums::payments::PaymentResult) -> String {
    match result {
        tl::enums::payments::PaymentResult::PaymentVerificationNeeded(v) => v.url,
        other => panic!("expected paymentVerificationNeeded, got {other:?}"),
    }
}

/// The `receipt_msg_id` of the `messageActionPaymentSent` in payment updates, and the edited
/// invoice message's `receipt_msg_id`, if any.
pub fn receipt_ids(updates: &[tl::enums::Update]) -> (Option<i32>, Option<i32>) {
    let mut new = None;
    let mut edited = None;
    for update in updates {
        match update {
            tl::enums::Update::NewMessage(u) => {
                if let tl::enums::Message::Service(m) = &u.message
                    && matches!(m.action, tl::enums::MessageAction::PaymentSent(_))
                {
                    new = Some(m.id);
                }
            }
            tl::enums::Update::EditMessage(u) => {
                if let tl::enums::Message::Message(m) = &u.message
                    && let Some(tl::enums::MessageMedia::Invoice(i)) = &m.media
                {
                    edited = i.receipt_msg_id;
                }
            }
            _ => {}
        }
    }
    (new, edited)
}

/// Waits for a pushed `Updates` containing an update matching `pred`.
pub async fn wait_update(
    rx: &mut mpsc::Receiver<UpdatesLike>,
    mut pred: impl FnMut(&tl::enums::Update) -> bool,
) -> tl::enums::Update {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let item = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("the update arrives in time")
            .expect("the updates channel stays open");
        let updates = match item {
            UpdatesLike::Updates(tl::enums::Updates::Updates(u)) => u.updates,
            UpdatesLike::Updates(tl::enums::Updates::UpdateShort(u)) => vec![u.update],
            UpdatesLike::Updates(tl::enums::Updates::Combined(u)) => u.updates,
            _ => Vec::new(),
        };
        if let Some(found) = updates.into_iter().find(|u| pred(u)) {
            return found;
        }
    }
}

/// A minimal HTTP/1.1 request on loopback; returns (status, body).
pub async fn http(method: &str, url: &str, accept_json: bool) -> (u16, String) {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = timeout(WAIT, TcpStream::connect(host))
        .await
        .expect("connect in time")
        .expect("connect");
    let accept = if accept_json {
        "application/json"
    } else {
        "text/html"
    };
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nAccept: {accept}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    timeout(WAIT, stream.read_to_end(&mut response))
        .await
        .expect("response in time")
        .expect("read");
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// A user's `tgpay::Payments`, with a task feeding it the client's updates.
pub struct Flow {
    pub payments: tgpay::Payments,
    _client: tgpay_sandbox::SandboxClient,
    forwarder: tokio::task::JoinHandle<()>,
}

impl Drop for Flow {
    fn drop(&mut self) {
        self.forwarder.abort();
    }
}

/// `user`'s flow on `sandbox`, with grammers' default connection parameters.
pub fn flow(sandbox: &tgpay_sandbox::Sandbox, user: i64) -> Flow {
    flow_with(
        sandbox,
        user,
        grammers_mtsender::ConnectionParams::default(),
    )
}

/// `user`'s flow on `sandbox`, with custom connection parameters (e.g. no retries).
pub fn flow_with(
    sandbox: &tgpay_sandbox::Sandbox,
    user: i64,
    params: grammers_mtsender::ConnectionParams,
) -> Flow {
    flow_config(sandbox, user, params, tgpay::PaymentsConfig::default())
}

/// `user`'s flow on `sandbox`, with custom connection parameters and payment tunables.
pub fn flow_config(
    sandbox: &tgpay_sandbox::Sandbox,
    user: i64,
    params: grammers_mtsender::ConnectionParams,
    config: tgpay::PaymentsConfig,
) -> Flow {
    let mut client = sandbox.client_with(user, params).expect("a sandbox user");
    let payments = client.payments_with(config);
    let updates = client.updates.take().expect("fresh updates");
    let follower = payments.clone();
    let forwarder = tokio::spawn(async move { follower.follow_updates(updates).await });
    Flow {
        payments,
        _client: client,
        forwarder,
    }
}
