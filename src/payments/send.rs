//! The one place money-moving requests are sent: each attempt is checked against unresolved
//! ones, recorded (registry, journal: `record.rs`) before it leaves, sent exactly once over the
//! pool's raw path ([`Payments::send_once`], called from nowhere else), and its answer
//! classified ([`MoneyClass`]): paid, a 3-D Secure page, rejected before processing, a refusal
//! checked against the ledger (reconcile), or ambiguous; the outcome is recorded.

use std::time::{Duration, Instant};

use grammers_mtsender::InvocationError;
use grammers_tl_types as tl;

use super::Payments;
use super::checkout::CheckedOrder;
use crate::attempt::{
    AmbiguityCause, AmbiguousPayment, Evidence, MoneyMethod, Outcome, Paid, PaymentKind,
    PendingPayment, Reconciled, Stage, UnsettledReason, Verification, unix_now,
};
use crate::credentials::Credentials;
use crate::currency::{Amount, Currency};
use crate::error::{Error, MoneyClass, PaymentError, Refusal};
use crate::form::{CardForm, PaymentForm, StarsForm};
use crate::journal::Resolution;
use crate::receipt;

/// Why a single send got no usable answer.
#[derive(Debug)]
enum SendError {
    /// Telegram answered with an error.
    Rpc(PaymentError),
    /// The request may have left, but no answer came back (connection, decoding, session).
    Transport(InvocationError),
    /// No answer within the send timeout.
    Timeout(Duration),
}

/// How a sent attempt ended, before the caller gives it its error type.
enum Settled {
    /// Paid, or a 3-D Secure page.
    Outcome(Outcome),
    /// Telegram refused the request before processing it.
    Rejected {
        error: PaymentError,
        payment: PendingPayment,
    },
    /// Telegram refused it, and the ledger shows no charge of it.
    Refused {
        error: PaymentError,
        payment: PendingPayment,
        evidence: Evidence,
    },
}

impl Payments {
    /// The home DC, where payments are sent; asked before anything is recorded, so that a
    /// session without one stops the payment unsent.
    fn home_dc(&self) -> Result<i32, Error> {
        self.inner.session.home_dc_id().map_err(|e| {
            Error::Telegram(PaymentError::Invocation(InvocationError::from(
                std::io::Error::other(format!("the session has no home DC: {e}")),
            )))
        })
    }

    /// Sends `request` once to DC `dc`, over the pool's raw path (no retry policy applies),
    /// waiting at most [`PaymentsConfig::send_timeout`](super::PaymentsConfig::send_timeout).
    /// The answer comes boxed: an `Updates` is kilobytes wide, and it is passed on from here.
    async fn send_once<R: tl::RemoteCall + tl::Identifiable>(
        &self,
        dc: i32,
        request: &R,
    ) -> Result<Box<R::Return>, SendError> {
        let timeout = self.inner.config.send_timeout;
        let answer = tokio::time::timeout(
            timeout,
            self.inner.pool.raw_invoke_in_dc(dc, request.to_bytes()),
        )
        .await;
        match answer {
            Err(_) => Err(SendError::Timeout(timeout)),
            // Decoded only after the answer's nesting is checked (crate::tl::nesting).
            Ok(Ok(body)) => crate::tl::nesting::decode_answer::<R>(&body)
                .map(Box::new)
                .map_err(|e| SendError::Transport(InvocationError::from(e))),
            Ok(Err(InvocationError::Rpc(rpc))) => Err(SendError::Rpc(PaymentError::from(rpc))),
            Ok(Err(other)) => Err(SendError::Transport(other)),
        }
    }

    /// Classifies the answer to a `payments.sendPaymentForm` / `payments.sendStarsForm`.
    async fn settle(
        &self,
        mut payment: PendingPayment,
        answer: Result<Box<tl::enums::payments::PaymentResult>, SendError>,
    ) -> Result<Settled, Error> {
        let error = match answer {
            Ok(answer) => return Ok(Settled::Outcome(self.settle_answer(payment, &answer))),
            Err(error) => error,
        };
        let class = match &error {
            SendError::Rpc(e) => e.money_class(),
            SendError::Transport(_) | SendError::Timeout(_) => MoneyClass::Ambiguous,
        };
        tracing::info!(attempt = %payment.id, ?error, ?class, "payment request failed");
        match (class, error) {
            (MoneyClass::Rejected, SendError::Rpc(error)) => {
                let name = error_name(&error);
                payment.stage = Stage::Refused {
                    error: name.clone(),
                };
                self.record_resolution(
                    &payment,
                    &Resolution::NotPaid {
                        evidence: Evidence::Rejected { error: name },
                    },
                );
                Ok(Settled::Rejected { error, payment })
            }
            (MoneyClass::Verified, SendError::Rpc(error)) => {
                payment.stage = Stage::Refused {
                    error: error_name(&error),
                };
                self.record_stage(&payment, false);
                match self.check(&payment).await {
                    Ok(Reconciled::Paid(paid)) => Ok(Settled::Outcome(Outcome::Paid(paid))),
                    Ok(Reconciled::NotPaid { evidence }) => Ok(Settled::Refused {
                        error,
                        payment,
                        evidence,
                    }),
                    Ok(Reconciled::Unsettled { reason, .. }) => {
                        Err(ambiguous(payment, unsettled_cause(reason, &error)))
                    }
                    Err(check) => {
                        let cause = AmbiguityCause::Unverified {
                            answer: error_name(&error),
                            detail: check.to_string(),
                        };
                        Err(ambiguous(payment, cause))
                    }
                }
            }
            (_, error) => {
                let cause = match &error {
                    SendError::Rpc(PaymentError::FormSubmitDuplicate) => {
                        AmbiguityCause::DuplicateSubmit
                    }
                    SendError::Rpc(e) => AmbiguityCause::ServerError {
                        code: e.code().unwrap_or(0),
                        name: error_name(e),
                    },
                    SendError::Transport(e) => AmbiguityCause::Transport {
                        detail: e.to_string(),
                    },
                    SendError::Timeout(after) => AmbiguityCause::Timeout {
                        after_secs: after.as_secs(),
                    },
                };
                payment.stage = Stage::Unanswered;
                self.record_stage(&payment, false);
                // A receipt already there settles it at once; nothing found proves nothing yet.
                match self.check(&payment).await {
                    Ok(Reconciled::Paid(paid)) => Ok(Settled::Outcome(Outcome::Paid(paid))),
                    Ok(Reconciled::NotPaid { evidence }) => Ok(Settled::Refused {
                        error: match error {
                            SendError::Rpc(e) => e,
                            SendError::Transport(e) => PaymentError::Invocation(e),
                            SendError::Timeout(_) => PaymentError::Invocation(
                                InvocationError::Dropped("no answer within the send timeout"),
                            ),
                        },
                        payment,
                        evidence,
                    }),
                    Ok(Reconciled::Unsettled { .. }) | Err(_) => Err(ambiguous(payment, cause)),
                }
            }
        }
    }

    /// The outcome an answer to a `payments.sendPaymentForm` / `payments.sendStarsForm`
    /// gives: paid (recorded, its receipt claimed) or a 3-D Secure page (recorded).
    fn settle_answer(
        &self,
        mut payment: PendingPayment,
        answer: &tl::enums::payments::PaymentResult,
    ) -> Outcome {
        match answer {
            tl::enums::payments::PaymentResult::Result(result) => {
                self.handle_updates(&result.updates);
                let bot_peer = payment.bot.input_peer();
                let receipt = receipt::receipt_from_updates(
                    &result.updates,
                    payment.bot.id,
                    bot_peer,
                    payment.invoice_msg_id(),
                );
                let paid = Paid {
                    receipt,
                    total: payment.total,
                    kind: payment.kind,
                    attempt: payment.id,
                };
                self.record_resolution(&payment, &Resolution::Paid(paid.clone()));
                tracing::info!(attempt = %payment.id, total = %payment.total, "paid");
                Outcome::Paid(paid)
            }
            tl::enums::payments::PaymentResult::PaymentVerificationNeeded(v) => {
                payment.stage = Stage::Verifying {
                    url: v.url.clone(),
                    since: unix_now(),
                };
                self.record_stage(&payment, false);
                Outcome::VerificationNeeded(Verification {
                    url: v.url.clone(),
                    payment,
                })
            }
        }
    }

    /// Reconciles right after a failed send, within the send timeout. The reconcile runs
    /// boxed: it pages through history, and a sender's future should not carry that weight on
    /// the path where the payment simply goes through.
    async fn check(&self, payment: &PendingPayment) -> Result<Reconciled, Error> {
        let reconcile = Box::pin(self.reconcile(payment));
        match tokio::time::timeout(self.inner.config.send_timeout, reconcile).await {
            Ok(result) => result,
            Err(_) => Err(Error::Telegram(PaymentError::Invocation(
                InvocationError::Dropped("reconcile got no answer within the send timeout"),
            ))),
        }
    }

    pub(super) async fn send_card_payment(
        &self,
        form: &CardForm,
        checked: CheckedOrder,
        credentials: Credentials,
        save: bool,
    ) -> Result<Outcome, Error> {
        let tmp = match credentials {
            Credentials::Saved(_) => self.cached_tmp_password(),
            _ => None,
        };
        let input = credentials.to_tl(save, tmp.as_ref())?;
        let request = tl::functions::payments::SendPaymentForm {
            form_id: form.form_id,
            invoice: form.invoice_ref.to_input_invoice(),
            requested_info_id: checked.requested_info_id,
            shipping_option_id: checked.shipping_option_id,
            credentials: input,
            tip_amount: checked.tip.map(|t| t.minor),
        };
        let payment = self
            .new_attempt(
                MoneyMethod::SendPaymentForm,
                &form.invoice_ref,
                form.form_id,
                PaymentKind::Card,
                checked.total,
                form.bot_id,
                form.bot.as_ref(),
                form.fetched_at,
            )
            .await;
        let dc = self.home_dc()?;
        self.begin(&payment).await?;
        tracing::info!(attempt = %payment.id, form_id = form.form_id, total = %checked.total, "sending card payment");
        let sent = Instant::now();
        let answer = self.send_once(dc, &request).await;
        match self.settle(payment, answer).await? {
            Settled::Outcome(outcome) => Ok(outcome),
            Settled::Rejected { error, .. } => {
                if let PaymentError::TmpPasswordInvalid = error {
                    self.forget_tmp_password();
                }
                Err(Error::Telegram(error))
            }
            Settled::Refused {
                error,
                payment,
                evidence,
            } => Err(self.refusal(error, payment, evidence, sent).await),
        }
    }

    pub(super) async fn send_stars_payment(&self, form: &StarsForm) -> Result<Outcome, Error> {
        let price = form.price;
        if let Some(balance) = self.state().stars_balance
            && balance < price.minor
        {
            return Err(insufficient(balance, price, None));
        }
        let mut current = form.clone();
        let mut refetched = false;
        loop {
            let payment = self
                .new_attempt(
                    MoneyMethod::SendStarsForm,
                    &current.invoice_ref,
                    current.form_id,
                    PaymentKind::Stars,
                    price,
                    current.bot_id,
                    current.bot.as_ref(),
                    current.fetched_at,
                )
                .await;
            let dc = self.home_dc()?;
            self.begin(&payment).await?;
            tracing::info!(attempt = %payment.id, form_id = current.form_id, %price, "sending Stars payment");
            let sent = Instant::now();
            let answer = self
                .send_once(
                    dc,
                    &tl::functions::payments::SendStarsForm {
                        form_id: current.form_id,
                        invoice: current.invoice_ref.to_input_invoice(),
                    },
                )
                .await;
            match self.settle(payment, answer).await? {
                Settled::Outcome(outcome) => return Ok(outcome),
                Settled::Rejected {
                    error: PaymentError::StarsFormAmountMismatch,
                    payment,
                } => {
                    return Err(
                        match Box::pin(self.get_payment_form(&current.invoice_ref)).await? {
                            PaymentForm::Stars(fresh) if fresh.price == price => {
                                Error::Telegram(PaymentError::StarsFormAmountMismatch)
                            }
                            fresh => price_changed(price, fresh, Some(payment)),
                        },
                    );
                }
                Settled::Rejected { error, .. } => return Err(Error::Telegram(error)),
                Settled::Refused {
                    error: PaymentError::BalanceTooLow,
                    payment,
                    evidence,
                } => {
                    return Err(match Box::pin(self.get_stars_status()).await {
                        Ok(status) => insufficient(status.balance.amount, price, Some(payment)),
                        Err(_) => Error::Refused(Box::new(Refusal {
                            error: PaymentError::BalanceTooLow,
                            payment,
                            evidence,
                        })),
                    });
                }
                // Checked: the expired form charged nothing, so one fresh form at the same
                // price may be paid.
                Settled::Refused {
                    error: PaymentError::FormExpired,
                    payment,
                    ..
                } if !refetched => {
                    refetched = true;
                    match Box::pin(self.get_payment_form(&current.invoice_ref)).await? {
                        PaymentForm::Stars(fresh) if fresh.price == price => current = fresh,
                        fresh => return Err(price_changed(price, fresh, Some(payment))),
                    }
                }
                Settled::Refused {
                    error,
                    payment,
                    evidence,
                } => return Err(self.refusal(error, payment, evidence, sent).await),
            }
        }
    }

    /// The error for a checked refusal.
    async fn refusal(
        &self,
        error: PaymentError,
        payment: PendingPayment,
        evidence: Evidence,
        sent: Instant,
    ) -> Error {
        match error {
            PaymentError::BotPrecheckoutFailed | PaymentError::PrecheckoutFailed => {
                Error::PrecheckoutRejected {
                    reason: Box::pin(self.precheckout_reason(sent)).await,
                    payment: Box::new(payment),
                    evidence,
                }
            }
            error => Error::Refused(Box::new(Refusal {
                error,
                payment,
                evidence,
            })),
        }
    }
}

/// The name Telegram sent (`FLOOD_WAIT_3`), or a description for failures without one.
fn error_name(error: &PaymentError) -> String {
    error
        .wire_message()
        .unwrap_or_else(|| "no answer".to_owned())
}

fn ambiguous(payment: PendingPayment, cause: AmbiguityCause) -> Error {
    Error::Ambiguous(Box::new(AmbiguousPayment { payment, cause }))
}

fn unsettled_cause(reason: UnsettledReason, error: &PaymentError) -> AmbiguityCause {
    match reason {
        UnsettledReason::Indistinguishable { attempts, receipts } => {
            AmbiguityCause::Indistinguishable { attempts, receipts }
        }
        other => AmbiguityCause::Unverified {
            answer: error_name(error),
            detail: other.to_string(),
        },
    }
}

fn insufficient(balance: i64, price: Amount, payment: Option<PendingPayment>) -> Error {
    Error::InsufficientStars {
        balance: Currency::XTR.amount(balance),
        price,
        shortfall: Currency::XTR.amount(price.minor.saturating_sub(balance).max(0)),
        payment: payment.map(Box::new),
    }
}

fn price_changed(old: Amount, fresh: PaymentForm, payment: Option<PendingPayment>) -> Error {
    let new = match &fresh {
        PaymentForm::Stars(f) => f.price,
        PaymentForm::StarGift(f) => f.price,
        PaymentForm::Card(f) => f.invoice.subtotal().unwrap_or(old),
    };
    Error::PriceChanged {
        old,
        new,
        form: Box::new(fresh),
        payment: payment.map(Box::new),
    }
}
