//! Updates: the one way in for the updates an app receives ([`Payments::handle_update`]), and
//! a helper that reads them for apps that read none themselves ([`Payments::follow_updates`]).

use std::time::Instant;

use grammers_client::update::Update;
use grammers_mtsender::UpdatesConfiguration;
use grammers_session::updates::UpdatesLike;
use grammers_tl_types as tl;
use tokio::sync::mpsc;

use super::Payments;
use crate::receipt::{self, PaymentSent};

/// A payment update the app forwarded.
#[derive(Debug, Clone)]
pub(super) enum Event {
    PaymentSent(PaymentSent),
    InvoicePaid,
    Notification {
        kind: String,
        message: String,
        /// How many of the account's payments were in flight when it arrived.
        in_flight: usize,
    },
}

const EVENT_LOG: usize = 256;
const FAILED_VERIFICATIONS: usize = 256;

impl Payments {
    /// Feeds an update the app received (from grammers' `UpdateStream::next`) to the flow:
    /// receipts, edited invoices, service notifications (the merchant's pre-checkout reason, a
    /// failed 3-D Secure check) and Stars balance changes. Other updates are ignored. Cheap;
    /// call it for every update. The [module docs](crate::payments#updates) show a whole loop.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let mut alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
    /// # let payments = alice.payments();
    /// # let pool_updates = alice.updates.take().ok_or("taken")?;
    /// use tgpay::credentials::StripeToken;
    /// use tgpay::grammers_client::sender::UpdatesConfiguration;
    /// use tgpay::{Credentials, Error, InvoiceRef, PaymentForm};
    ///
    /// let mut updates = payments
    ///     .client()
    ///     .stream_updates(pool_updates, UpdatesConfiguration::default())
    ///     .await?;
    /// let forwarder = payments.clone();
    /// tokio::spawn(async move {
    ///     while let Ok(update) = updates.next().await {
    ///         forwarder.handle_update(&update);
    ///     }
    /// });
    ///
    /// // The merchant refuses at pre-checkout; its reason arrives as an update.
    /// let invoice = InvoiceRef::parse("t.me/$sold-out")?;
    /// let PaymentForm::Card(form) = payments.get_payment_form(&invoice).await? else {
    ///     return Err("a card invoice was expected".into());
    /// };
    /// let card = Credentials::Stripe(StripeToken::new("tok_sandbox_visa", "Visa *4242"));
    /// let Err(Error::PrecheckoutRejected { reason, .. }) =
    ///     payments.checkout(&form).credentials(card).send().await
    /// else {
    ///     return Err("a pre-checkout refusal was expected".into());
    /// };
    /// assert_eq!(reason.as_deref(), Some("Sorry, this item just sold out."));
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn handle_update(&self, update: &Update) {
        match update {
            Update::NewMessage(m) | Update::MessageEdited(m) => self.handle_raw_update(&m.raw),
            Update::Raw(raw) => self.handle_raw_update(&raw.raw),
            _ => {}
        }
    }

    /// Feeds the flow every update of a client whose updates nobody else reads: runs grammers'
    /// update stream over `updates` (the `updates` receiver of the client's `SenderPool`) and
    /// passes each update to [`Payments::handle_update`], until the client is dropped. Spawn
    /// it. Apps that read updates themselves call `handle_update` from their own loop instead
    /// (see the [module docs](crate::payments#updates)).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let mut alice = sandbox.client(tgpay_sandbox::scenario::ALICE)?;
    /// # let pool_updates = alice.updates.take().ok_or("taken")?; // `SenderPool::updates`
    /// let payments = alice.payments();
    /// let follower = payments.clone();
    /// let task = tokio::spawn(async move { follower.follow_updates(pool_updates).await });
    /// // … payments made with `payments` now hear their receipts and refusal reasons …
    /// # task.abort();
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub async fn follow_updates(&self, updates: mpsc::Receiver<UpdatesLike>) {
        let Ok(mut stream) = self
            .inner
            .client
            .stream_updates(updates, UpdatesConfiguration::default())
            .await
        else {
            tracing::warn!("cannot follow updates: the update stream did not start");
            return;
        };
        while let Ok(update) = stream.next().await {
            self.handle_update(&update);
        }
    }

    /// What [`Payments::handle_update`] does, for one raw TL update.
    pub(super) fn handle_raw_update(&self, update: &tl::enums::Update) {
        let event = match update {
            tl::enums::Update::NewMessage(u) => {
                receipt::payment_sent(&u.message).map(Event::PaymentSent)
            }
            tl::enums::Update::NewChannelMessage(u) => {
                receipt::payment_sent(&u.message).map(Event::PaymentSent)
            }
            tl::enums::Update::EditMessage(u) => invoice_paid(&u.message),
            tl::enums::Update::EditChannelMessage(u) => invoice_paid(&u.message),
            tl::enums::Update::ServiceNotification(n) => {
                self.note_failed_verifications(n);
                Some(Event::Notification {
                    kind: n.r#type.clone(),
                    message: n.message.clone(),
                    in_flight: self.inner.registry.in_flight(),
                })
            }
            tl::enums::Update::StarsBalance(b) => {
                if let Some(balance) = crate::stars::StarsAmount::from_tl(&b.balance) {
                    self.state().stars_balance = Some(balance.amount);
                }
                None
            }
            _ => None,
        };
        if let Some(event) = event {
            {
                let mut state = self.state();
                if state.events.len() >= EVENT_LOG {
                    state.events.pop_front();
                }
                state.events.push_back((Instant::now(), event));
            }
            self.inner.notify.notify_waiters();
        }
    }

    /// Every update in an `Updates` (the answer to a payment), whose date also measures
    /// Telegram's clock.
    pub(super) fn handle_updates(&self, updates: &tl::enums::Updates) {
        match updates {
            tl::enums::Updates::Updates(u) => {
                self.observe_server_time(u.date);
                u.updates.iter().for_each(|u| self.handle_raw_update(u));
            }
            tl::enums::Updates::Combined(u) => {
                self.observe_server_time(u.date);
                u.updates.iter().for_each(|u| self.handle_raw_update(u));
            }
            tl::enums::Updates::UpdateShort(u) => {
                self.observe_server_time(u.date);
                self.handle_raw_update(&u.update);
            }
            _ => {}
        }
    }

    /// A service notification about a failed payment counts for the 3-D Secure pages it links
    /// (in its text or as link entities), and for no other payment.
    fn note_failed_verifications(&self, n: &tl::types::UpdateServiceNotification) {
        if !n.r#type.to_ascii_uppercase().contains("PAYMENT") {
            return;
        }
        let mut urls: Vec<String> = n
            .entities
            .iter()
            .filter_map(|e| match e {
                tl::enums::MessageEntity::TextUrl(t) => Some(t.url.clone()),
                _ => None,
            })
            .collect();
        urls.extend(
            n.message
                .split_whitespace()
                .filter(|w| w.starts_with("https://") || w.starts_with("http://"))
                .map(|w| w.trim_end_matches(['.', ',', ')', ';']).to_owned()),
        );
        let mut state = self.state();
        for url in urls {
            if state.failed_verifications.len() >= FAILED_VERIFICATIONS
                && let Some(old) = state.failed_order.pop_front()
            {
                state.failed_verifications.remove(&old);
            }
            state.failed_order.push_back(url.clone());
            state.failed_verifications.insert(url, n.message.clone());
        }
    }

    /// The merchant's reason for a pre-checkout rejection: a pre-checkout service notification
    /// that arrived after `since` while no other payment of the account was in flight, waited
    /// for up to [`PaymentsConfig::precheckout_reason_wait`](super::PaymentsConfig).
    pub(super) async fn precheckout_reason(&self, since: Instant) -> Option<String> {
        let deadline = super::deadline_after(self.inner.config.precheckout_reason_wait);
        loop {
            let notified = self.inner.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let found = self.state().events.iter().find_map(|(at, e)| match e {
                Event::Notification {
                    kind,
                    message,
                    in_flight,
                } if *at >= since
                    && *in_flight <= 1
                    && kind.to_ascii_uppercase().contains("PRECHECKOUT") =>
                {
                    Some(message.clone())
                }
                _ => None,
            });
            if found.is_some() {
                return found;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return None;
            }
        }
    }
}

fn invoice_paid(message: &tl::enums::Message) -> Option<Event> {
    receipt::paid_invoice_receipt(message).map(|_| Event::InvoicePaid)
}
