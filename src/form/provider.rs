//! [`NativeProvider`]: a payment provider whose card form the app can show itself.

use crate::tl;

/// The production SmartGlocal card tokenizer, used unless the form names another one
/// (TDLib `convert_payment_provider`, Telegram Desktop `SmartGlocal::APIClient`).
pub const SMARTGLOCAL_TOKENIZE_URL: &str = "https://tgb.smart-glocal.com/cds/v1/tokenize/card";

/// The SmartGlocal card tokenizer for test invoices (`invoice.test`), used unless the form
/// names another one (TDLib `convert_payment_provider`, Telegram Desktop
/// `SmartGlocal::APIClient`).
pub const SMARTGLOCAL_TEST_TOKENIZE_URL: &str =
    "https://tgb-playground.smart-glocal.com/cds/v1/tokenize/card";

/// A payment provider whose card form the app can show itself instead of the provider's web
/// page (`native_provider` + `native_params`).
///
/// Parameters that are not what the provider needs (malformed JSON, missing or mistyped
/// fields) give [`NativeProvider::Other`] rather than an error, as in TDLib and Telegram
/// Desktop: the form stays payable through its web page ([`CardForm::url`](super::CardForm::url)).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "provider", rename_all = "snake_case"))]
#[non_exhaustive]
pub enum NativeProvider {
    /// Stripe (`"stripe"`); TDLib `paymentProviderStripe`.
    Stripe {
        /// The key for Stripe's tokenizer.
        publishable_key: String,
        /// The billing country is asked for.
        need_country: bool,
        /// The billing post code is asked for.
        need_zip: bool,
        /// The cardholder's name is asked for.
        need_cardholder_name: bool,
    },
    /// SmartGlocal (`"smartglocal"`); TDLib `paymentProviderSmartGlocal`.
    #[cfg_attr(feature = "serde", serde(rename = "smartglocal"))]
    SmartGlocal {
        /// The token for SmartGlocal's tokenizer (`X-PUBLIC-TOKEN`).
        public_token: String,
        /// Where to send the card: the form's `tokenize_url` if it is a SmartGlocal tokenizer,
        /// otherwise [`SMARTGLOCAL_TOKENIZE_URL`] or, for test invoices,
        /// [`SMARTGLOCAL_TEST_TOKENIZE_URL`].
        tokenize_url: String,
    },
    /// Any other provider, or parameters this crate cannot use.
    Other {
        /// The provider's name as sent.
        name: String,
        /// The parameters; `Null` when they were absent or not JSON.
        params: serde_json::Value,
    },
}

impl NativeProvider {
    /// Reads a form's `native_provider` and `native_params`; `test` is the invoice's test
    /// flag, which picks the default SmartGlocal tokenizer.
    pub fn from_tl(name: String, params: Option<tl::enums::DataJson>, test: bool) -> Self {
        if name == "stripe"
            && let Some(tl::enums::DataJson::Json(json)) = &params
            && let Some(stripe) = Self::stripe_fast(&json.data)
        {
            return stripe;
        }
        Self::from_tl_general(name, params, test)
    }

    /// [`NativeProvider::from_tl`] through a JSON tree, for every provider and every input.
    pub(crate) fn from_tl_general(
        name: String,
        params: Option<tl::enums::DataJson>,
        test: bool,
    ) -> Self {
        let params = params
            .and_then(|params| {
                let tl::enums::DataJson::Json(params) = params;
                serde_json::from_str::<serde_json::Value>(&params.data).ok()
            })
            .unwrap_or(serde_json::Value::Null);
        let parsed = match (name.as_str(), params.as_object()) {
            ("stripe", Some(object)) => Self::stripe(object),
            ("smartglocal", Some(object)) => Self::smartglocal(object, test),
            _ => None,
        };
        parsed.unwrap_or(NativeProvider::Other { name, params })
    }

    /// The common case of [`NativeProvider::stripe`], read straight into its fields without
    /// building a JSON tree; anything it does not accept (duplicate keys among them) goes the
    /// general way, which gives the same answer for everything this one accepts.
    pub(crate) fn stripe_fast(json: &str) -> Option<Self> {
        #[derive(serde::Deserialize)]
        struct Params<'a> {
            #[serde(borrow)]
            publishable_key: std::borrow::Cow<'a, str>,
            need_country: bool,
            need_zip: bool,
            need_cardholder_name: bool,
        }
        // A struct also reads from a JSON array; the parameters are an object.
        if !json.trim_start().starts_with('{') {
            return None;
        }
        let params = serde_json::from_str::<Params<'_>>(json).ok()?;
        if params.publishable_key.is_empty() {
            return None;
        }
        Some(NativeProvider::Stripe {
            publishable_key: params.publishable_key.into_owned(),
            need_country: params.need_country,
            need_zip: params.need_zip,
            need_cardholder_name: params.need_cardholder_name,
        })
    }

    /// TDLib `convert_payment_provider`: all four fields, with these types; Telegram Desktop
    /// also wants a non-empty key.
    fn stripe(object: &serde_json::Map<String, serde_json::Value>) -> Option<Self> {
        let flag = |key: &str| object.get(key).and_then(serde_json::Value::as_bool);
        let publishable_key = object
            .get("publishable_key")
            .and_then(serde_json::Value::as_str)
            .filter(|key| !key.is_empty())?;
        Some(NativeProvider::Stripe {
            publishable_key: publishable_key.to_owned(),
            need_country: flag("need_country")?,
            need_zip: flag("need_zip")?,
            need_cardholder_name: flag("need_cardholder_name")?,
        })
    }

    /// TDLib `convert_payment_provider`: a `public_token` string and an optional
    /// `tokenize_url`.
    fn smartglocal(
        object: &serde_json::Map<String, serde_json::Value>,
        test: bool,
    ) -> Option<Self> {
        let public_token = object
            .get("public_token")
            .and_then(serde_json::Value::as_str)
            .filter(|token| !token.is_empty())?;
        let default = if test {
            SMARTGLOCAL_TEST_TOKENIZE_URL
        } else {
            SMARTGLOCAL_TOKENIZE_URL
        };
        let tokenize_url = object
            .get("tokenize_url")
            .and_then(serde_json::Value::as_str)
            .filter(|url| is_smartglocal_tokenizer(url))
            .unwrap_or(default);
        Some(NativeProvider::SmartGlocal {
            public_token: public_token.to_owned(),
            tokenize_url: tokenize_url.to_owned(),
        })
    }
}

/// Whether `url` is a SmartGlocal card tokenizer: `https://<host>/cds/v1/tokenize/card` where
/// the host is a subdomain of `smart-glocal.com`, written in lower-case letters, digits, `-`
/// and `.`, with no user name, port, query or fragment.
///
/// TDLib only checks the prefix `https://` and the suffix
/// `.smart-glocal.com/cds/v1/tokenize/card`, which `https://evil.example/?.smart-glocal.com/…`
/// also has; this check accepts a subset of what TDLib accepts, and only plain URLs of that one
/// shape, so that no URL parser's leniency can redirect card numbers elsewhere.
pub fn is_smartglocal_tokenizer(url: &str) -> bool {
    const SUFFIX: &str = ".smart-glocal.com";
    let Some(rest) = url.strip_prefix("https://") else {
        return false;
    };
    let Some((host, path)) = rest.split_once('/') else {
        return false;
    };
    let Some(subdomain) = host.strip_suffix(SUFFIX) else {
        return false;
    };
    let label_ok = |label: &str| {
        !label.is_empty()
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
    };
    path == "cds/v1/tokenize/card" && subdomain.split('.').all(label_ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(json: &str) -> (Option<NativeProvider>, NativeProvider) {
        let params = Some(tl::enums::DataJson::Json(tl::types::DataJson {
            data: json.to_owned(),
        }));
        let general = NativeProvider::from_tl_general("stripe".to_owned(), params, false);
        (NativeProvider::stripe_fast(json), general)
    }

    #[test]
    fn the_fast_stripe_path_agrees_with_the_general_one() {
        let key = r#""publishable_key":"pk_\u0041","need_country":true,"need_zip":false"#;
        let accepted = [
            format!(r#"{{{key},"need_cardholder_name":true}}"#),
            format!(r#" {{"extra":[1,{{"a":null}}],{key},"need_cardholder_name":false}}"#),
        ];
        for json in &accepted {
            let (fast, general) = both(json);
            assert!(
                matches!(&general, NativeProvider::Stripe { publishable_key, .. } if publishable_key == "pk_A")
            );
            assert_eq!(fast.as_ref(), Some(&general), "{json}");
        }
        let refused = [
            // Duplicate keys: the tree keeps the last one; the fast path leaves it to the tree.
            format!(r#"{{{key},"need_cardholder_name":true,"need_zip":true}}"#),
            r#"["pk",true,true,true]"#.to_owned(),
            r#"{"publishable_key":"","need_country":true,"need_zip":true,"need_cardholder_name":true}"#.to_owned(),
            format!(r#"{{{key},"need_cardholder_name":null}}"#),
            format!(r#"{{{key}}}"#),
            format!(r#"{{{key},"need_cardholder_name":true}} trailing"#),
        ];
        for json in &refused {
            let (fast, general) = both(json);
            assert_eq!(fast, None, "{json}");
            if json.contains(r#""need_zip":true}"#) {
                assert!(matches!(
                    general,
                    NativeProvider::Stripe { need_zip: true, .. }
                ));
            }
        }
    }
}
