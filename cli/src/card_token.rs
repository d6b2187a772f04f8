//! `tgpay card-token`: a card tokenized with a payment provider, printed as credentials JSON.

use serde_json::json;
use tgpay::Credentials;
use tgpay::tl;

use crate::out::{self, Out};
use crate::{CmdResult, Failure, secrets};

/// Tokenizes a card (read from the environment or asked for) with `provider` (`stripe` or
/// `smartglocal`) and prints the credentials.
pub async fn card_token(
    out: &Out,
    provider: &str,
    key: &str,
    base_url: Option<&str>,
    test: bool,
) -> CmdResult {
    use tgpay::tokenize::{SmartGlocalTokenizer, StripeTokenizer};
    let card = secrets::card(tgpay::card::CardRequirements::default())?;
    let credentials = if provider == "stripe" {
        let mut tokenizer = StripeTokenizer::new(key);
        if let Some(url) = base_url {
            tokenizer = tokenizer.base_url(url);
        }
        Credentials::Stripe(
            tokenizer
                .tokenize(&card)
                .await
                .map_err(|e| Failure::BadInput(e.to_string()))?,
        )
    } else {
        let mut tokenizer = SmartGlocalTokenizer::new(key).test(test);
        if let Some(url) = base_url {
            tokenizer = tokenizer.tokenize_url(url);
        }
        Credentials::SmartGlocal(
            tokenizer
                .tokenize(&card)
                .await
                .map_err(|e| Failure::BadInput(e.to_string()))?,
        )
    };
    let data = match credentials
        .to_tl(false, None)
        .map_err(|e| Failure::BadInput(e.to_string()))?
    {
        tl::enums::InputPaymentCredentials::Credentials(c) => {
            let tl::enums::DataJson::Json(d) = c.data;
            d.data
        }
        _ => String::new(),
    };
    let title = credentials.title().to_owned();
    out.emit(
        || out::shown(&data).into_owned(),
        || {
            let credentials: serde_json::Value =
                serde_json::from_str(&data).unwrap_or(serde_json::Value::Null);
            json!({ "credentials": credentials, "title": title })
        },
    );
    Ok(())
}
