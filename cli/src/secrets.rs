//! Reading secrets: from the environment, or from a prompt that does not echo. Never from argv.

use std::io::IsTerminal;

use tgpay::card::{Card, CardRequirements};
use zeroize::Zeroizing;

use crate::Failure;

/// The value of `env`, or what the user types at a hidden prompt; a bad-input failure when
/// neither is possible (no terminal).
pub fn read(env: &str, prompt: &str) -> Result<Zeroizing<String>, Failure> {
    if let Ok(value) = std::env::var(env) {
        return Ok(Zeroizing::new(value));
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::BadInput(format!(
            "{prompt} is needed: set {env}, or run in a terminal to be asked"
        )));
    }
    rpassword::prompt_password(format!("{prompt}: "))
        .map(Zeroizing::new)
        .map_err(|e| Failure::BadInput(format!("cannot read {prompt}: {e}")))
}

/// A visible prompt (for non-secrets such as a phone number or login code).
pub fn ask(env: &str, prompt: &str) -> Result<String, Failure> {
    if let Ok(value) = std::env::var(env) {
        return Ok(value);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::BadInput(format!(
            "{prompt} is needed: set {env}, or run in a terminal to be asked"
        )));
    }
    eprint!("{prompt}: ");
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| Failure::BadInput(format!("cannot read {prompt}: {e}")))?;
    Ok(line.trim().to_owned())
}

/// A card from `TGPAY_CARD_NUMBER`, `TGPAY_CARD_EXP` (MM/YY) and `TGPAY_CARD_CVC`, or prompts;
/// checked locally (Luhn, brand, expiry, CVC, what the provider requires).
pub fn card(requirements: CardRequirements) -> Result<Card, Failure> {
    let number = read("TGPAY_CARD_NUMBER", "Card number")?;
    let expiry = read("TGPAY_CARD_EXP", "Expiry (MM/YY)")?;
    let cvc = read("TGPAY_CARD_CVC", "CVC")?;
    let mut builder = Card::builder()
        .number(&number)
        .expiry(&expiry)
        .cvc(&cvc)
        .requirements(requirements);
    if requirements.cardholder_name {
        builder = builder.cardholder_name(ask("TGPAY_CARD_NAME", "Cardholder name")?);
    }
    if requirements.country {
        builder = builder.country(ask("TGPAY_CARD_COUNTRY", "Billing country (2 letters)")?);
    }
    if requirements.zip {
        builder = builder.zip(ask("TGPAY_CARD_ZIP", "Billing ZIP / postal code")?);
    }
    builder
        .build()
        .map_err(|e| Failure::BadInput(e.to_string()))
}

/// Whether the user confirms `question` (always yes with `assume_yes`; a bad-input failure
/// without a terminal).
pub fn confirm(question: &str, assume_yes: bool) -> Result<bool, Failure> {
    if assume_yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::BadInput(
            "confirmation needed: run in a terminal, or pass --yes".to_owned(),
        ));
    }
    eprint!("{question} [y/N] ");
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| Failure::BadInput(format!("cannot read the answer: {e}")))?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "Yes"))
}
