//! Waiting for 3-D Secure: [`Payments::wait_for_verification`] reconciles the payment when a
//! forwarded update says something, and every
//! [`PaymentsConfig::poll_interval`](super::PaymentsConfig::poll_interval) otherwise, until it
//! is paid, failed for its very page, or the wait is over. The payment is never lost: a wait
//! that ends early is ambiguous, with the payment, and can be started again.

use std::time::Duration;

use super::Payments;
use super::updates::Event;
use crate::attempt::{AmbiguityCause, AmbiguousPayment, Evidence, Paid, Reconciled, Verification};
use crate::error::Error;

impl Payments {
    /// Waits until a 3-D Secure verification ends: paid (its receipt found, driven by forwarded
    /// updates and by reconciling every [`PaymentsConfig::poll_interval`]), failed (Telegram said
    /// so for this very page: [`Error::VerificationFailed`]), or `timeout` passed
    /// ([`Error::Ambiguous`] with the payment: wait again, or reconcile later). A transient
    /// error while waiting never ends the wait; the verification can be waited on again.
    ///
    /// [`PaymentsConfig::poll_interval`]: super::PaymentsConfig::poll_interval
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sandbox = tgpay_sandbox::Sandbox::start(tgpay_sandbox::Scenario::default_world()).await?;
    /// # let bob = sandbox.client(tgpay_sandbox::scenario::BOB)?;
    /// # let payments = bob.payments();
    /// # let tgpay::PaymentForm::Card(form) = payments.get_payment_form(&tgpay::InvoiceRef::parse("t.me/$ebook")?).await? else { unreachable!() };
    /// use std::time::Duration;
    /// use tgpay::credentials::StripeToken;
    /// use tgpay::{Credentials, Outcome};
    ///
    /// let card = Credentials::Stripe(StripeToken::new("tok_sandbox_3ds", "Visa *3184"));
    /// let Outcome::VerificationNeeded(verification) =
    ///     payments.checkout(&form).credentials(card).send().await?
    /// else {
    ///     return Err("3-D Secure was expected".into());
    /// };
    /// println!("open {} to confirm the payment", verification.url);
    /// # let token = verification.url.rsplit('/').next().unwrap_or_default().to_owned();
    /// # sandbox.with_world(|world| world.confirm_verification(&token)); // the payer confirms
    /// let paid = payments.wait_for_verification(&verification, Duration::from_secs(300)).await?;
    /// assert_eq!(paid.total.to_string(), "$4.99");
    /// # sandbox.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub async fn wait_for_verification(
        &self,
        verification: &Verification,
        timeout: Duration,
    ) -> Result<Paid, Error> {
        // A timeout too long for the clock (`Duration::MAX`) means "no timeout".
        let deadline = super::deadline_after(timeout);
        let payment = &verification.payment;
        let start = std::time::Instant::now();
        let mut seen = 0usize;
        let mut next_poll = tokio::time::Instant::now();
        loop {
            let notified = self.inner.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let news = {
                let state = self.state();
                let relevant = state
                    .events
                    .iter()
                    .filter(|(at, e)| {
                        *at >= start
                            && match e {
                                Event::PaymentSent(sent) => sent.chat_id == payment.bot.id,
                                Event::InvoicePaid => true,
                                Event::Notification { .. } => true,
                            }
                    })
                    .count();
                let news = relevant > seen;
                seen = relevant;
                news
            };
            if news || tokio::time::Instant::now() >= next_poll {
                next_poll = super::deadline_after(self.inner.config.poll_interval);
                match self.reconcile(payment).await {
                    Ok(Reconciled::Paid(paid)) => return Ok(paid),
                    Ok(Reconciled::NotPaid { evidence }) => {
                        let message = match evidence {
                            Evidence::VerificationFailed { message } => message,
                            other => other.to_string(),
                        };
                        return Err(Error::VerificationFailed {
                            message,
                            payment: Box::new(payment.clone()),
                        });
                    }
                    Ok(Reconciled::Unsettled { .. }) => {}
                    Err(error) => {
                        tracing::debug!(%error, attempt = %payment.id, "reconcile failed while waiting; waiting on");
                    }
                }
            }
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep_until(next_poll) => {}
                _ = tokio::time::sleep_until(deadline) => {
                    return Err(Error::Ambiguous(Box::new(AmbiguousPayment {
                        payment: payment.clone(),
                        cause: AmbiguityCause::VerificationPending {
                            url: verification.url.clone(),
                        },
                    })));
                }
            }
        }
    }
}
