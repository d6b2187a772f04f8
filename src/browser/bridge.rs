//! The webview bridge: the script injected into every frame before the page's own scripts,
//! and the reading of what it forwards.
//!
//! Payment pages hand their result to the Telegram app with a *web event*
//! (<https://core.telegram.org/api/web-events>), through whichever of three bridges the app
//! exposes. Telegram's web library (`postEvent` in `telegram-web-app.js` and the games
//! library) tries them in this order:
//!
//! 1. `window.TelegramWebviewProxy.postEvent(eventType, JSON.stringify(eventData))`: the mobile
//!    apps and Telegram Desktop (which forwards `[eventType, eventData]` and requires
//!    `eventData` to be a string holding a JSON object);
//! 2. `window.external.notify(JSON.stringify({eventType, eventData}))`;
//! 3. `window.parent.postMessage(JSON.stringify({eventType, eventData}), '*')`, from a page
//!    inside an iframe (web clients).
//!
//! The injected script runs before the page's own scripts in every frame. In the top frame (the
//! provider's page) it defines the first two bridges and listens for the third, and forwards
//! each call to Rust through a DevTools binding as
//! `{"via": "<bridge>", "message": <what the page passed>}`; [`parse`] reads that. A message
//! posted by another frame (an iframe) or from another origin is not forwarded: only the
//! notice `{"via": "foreign", "origin": <its origin>}` is, without its content, for the log. In
//! every other frame the script only removes the binding, so that no iframe can reach it; the
//! relay also checks, on its side, that each call comes from the top frame's own context.

use std::fmt;

use serde_json::Value;
use zeroize::Zeroizing;

/// The bridge a page used to post its event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Bridge {
    /// `window.TelegramWebviewProxy.postEvent(eventType, eventData)`.
    WebviewProxy,
    /// `window.external.notify(JSON.stringify({eventType, eventData}))`.
    ExternalNotify,
    /// `window.parent.postMessage(JSON.stringify({eventType, eventData}), origin)`.
    PostMessage,
}

impl Bridge {
    fn from_via(via: &str) -> Option<Bridge> {
        match via {
            "TelegramWebviewProxy" => Some(Bridge::WebviewProxy),
            "external.notify" => Some(Bridge::ExternalNotify),
            "postMessage" => Some(Bridge::PostMessage),
            _ => None,
        }
    }
}

impl fmt::Display for Bridge {
    /// The JavaScript call: `TelegramWebviewProxy.postEvent`, `external.notify`,
    /// `parent.postMessage`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Bridge::WebviewProxy => "TelegramWebviewProxy.postEvent",
            Bridge::ExternalNotify => "external.notify",
            Bridge::PostMessage => "parent.postMessage",
        })
    }
}

/// A web event a page posted.
pub(crate) struct BridgeEvent {
    /// How it arrived.
    pub bridge: Bridge,
    /// `eventType`, such as `payment_form_submit`.
    pub event_type: String,
    /// `eventData` as JSON text (for `payment_form_submit`: the credentials), wiped on drop.
    pub data: Zeroizing<String>,
}

/// The bridge script for a binding named `binding`. It runs before any script of the page, in
/// every frame, and removes the binding from the page's globals.
pub(crate) fn script(binding: &str) -> String {
    BRIDGE_SCRIPT.replace("__BINDING__", binding)
}

const BRIDGE_SCRIPT: &str = r#"(function () {
  'use strict';
  var deliver = window['__BINDING__'];
  try { delete window['__BINDING__']; } catch (e) {}
  if (typeof deliver !== 'function' || window.top !== window) { return; }
  function send(via, message) {
    try { deliver(JSON.stringify({ via: via, message: message })); } catch (e) {}
  }
  var proxy = Object.freeze({
    postEvent: function (eventType, eventData) {
      send('TelegramWebviewProxy', { eventType: eventType, eventData: eventData });
    }
  });
  try {
    Object.defineProperty(window, 'TelegramWebviewProxy', { value: proxy, enumerable: false });
  } catch (e) {}
  function notify(message) { send('external.notify', message); }
  try {
    if (window.external) {
      Object.defineProperty(window.external, 'notify', { value: notify, enumerable: false });
    } else {
      Object.defineProperty(window, 'external', { value: Object.freeze({ notify: notify }) });
    }
  } catch (e) {}
  var origin = window.location.origin;
  window.addEventListener('message', function (event) {
    var data = event.data;
    if (typeof data !== 'string') {
      try { data = JSON.stringify(data); } catch (e) { return; }
    }
    if (typeof data !== 'string' || data.indexOf('eventType') < 0) { return; }
    if (event.source !== window || event.origin !== origin) {
      try { deliver(JSON.stringify({ via: 'foreign', origin: String(event.origin) })); } catch (e) {}
      return;
    }
    send('postMessage', data);
  }, true);
})();"#;

/// What the bridge script forwarded.
pub(crate) enum Forwarded {
    /// A web event the top frame posted.
    Event(BridgeEvent),
    /// A message that looked like a web event, posted by another frame or from another origin:
    /// ignored. Only its origin is kept.
    Foreign {
        /// `event.origin` (`https://ads.example`, `null`).
        origin: String,
    },
}

/// Reads what the bridge script forwarded. `None` for anything that is not a web event.
pub(crate) fn parse(payload: &str) -> Option<Forwarded> {
    let envelope: Value = serde_json::from_str(payload).ok()?;
    if envelope.get("via").and_then(Value::as_str) == Some("foreign") {
        let origin = envelope.get("origin").and_then(Value::as_str).unwrap_or("");
        return Some(Forwarded::Foreign {
            origin: origin.chars().take(200).collect(),
        });
    }
    parse_event(&envelope).map(Forwarded::Event)
}

fn parse_event(envelope: &Value) -> Option<BridgeEvent> {
    let bridge = Bridge::from_via(envelope.get("via")?.as_str()?)?;
    let message = envelope.get("message")?;
    let (event_type, data) = match bridge {
        // postEvent(eventType, eventData): the data should be JSON text; a page that passes the
        // object itself is read too.
        Bridge::WebviewProxy => (message.get("eventType")?, message.get("eventData")),
        // notify / postMessage: a JSON text `{"eventType": …, "eventData": …}`.
        Bridge::ExternalNotify | Bridge::PostMessage => {
            let text = Zeroizing::new(message.as_str()?.to_owned());
            let inner: Value = serde_json::from_str(&text).ok()?;
            let event_type = inner.get("eventType")?.as_str()?.to_owned();
            let data = data_text(inner.get("eventData"));
            return Some(BridgeEvent {
                bridge,
                event_type,
                data,
            });
        }
    };
    Some(BridgeEvent {
        bridge,
        event_type: event_type.as_str()?.to_owned(),
        data: data_text(data),
    })
}

/// `eventData` as JSON text: a string as it is, anything else encoded; empty when missing.
fn data_text(data: Option<&Value>) -> Zeroizing<String> {
    Zeroizing::new(match data {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::WebCredentials;

    const DATA: &str = r#"{"title":"Visa *4242","credentials":{"type":"card","token":"tok_1"}}"#;

    fn envelope(via: &str, message: Value) -> String {
        serde_json::json!({ "via": via, "message": message }).to_string()
    }

    fn credentials(event: &BridgeEvent) -> WebCredentials {
        WebCredentials::from_event(&event.data).unwrap()
    }

    fn event(payload: &str) -> Option<BridgeEvent> {
        match parse(payload)? {
            Forwarded::Event(event) => Some(event),
            Forwarded::Foreign { .. } => None,
        }
    }

    #[test]
    fn webview_proxy_with_json_text_as_telegram_desktop_expects() {
        let payload = envelope(
            "TelegramWebviewProxy",
            serde_json::json!({ "eventType": "payment_form_submit", "eventData": DATA }),
        );
        let event = event(&payload).unwrap();
        assert_eq!(event.bridge, Bridge::WebviewProxy);
        assert_eq!(event.event_type, "payment_form_submit");
        assert_eq!(event.data.as_str(), DATA);
        let web = credentials(&event);
        assert_eq!(web.title(), "Visa *4242");
        assert_eq!(web.data().expose(), r#"{"token":"tok_1","type":"card"}"#);
    }

    #[test]
    fn webview_proxy_with_an_object_is_read_too() {
        let data: Value = serde_json::from_str(DATA).unwrap();
        let payload = envelope(
            "TelegramWebviewProxy",
            serde_json::json!({ "eventType": "payment_form_submit", "eventData": data }),
        );
        let event = event(&payload).unwrap();
        assert_eq!(credentials(&event).title(), "Visa *4242");
    }

    #[test]
    fn external_notify_and_post_message_carry_an_event_object_as_json_text() {
        let data: Value = serde_json::from_str(DATA).unwrap();
        let message = serde_json::json!({ "eventType": "payment_form_submit", "eventData": data })
            .to_string();
        for (via, bridge) in [
            ("external.notify", Bridge::ExternalNotify),
            ("postMessage", Bridge::PostMessage),
        ] {
            let event = event(&envelope(via, Value::String(message.clone()))).unwrap();
            assert_eq!(event.bridge, bridge);
            assert_eq!(event.event_type, "payment_form_submit");
            assert_eq!(credentials(&event).title(), "Visa *4242");
        }
    }

    #[test]
    fn other_messages_are_not_events() {
        for payload in [
            "",
            "not json",
            "[]",
            r#"{"via":"somewhere","message":{}}"#,
            r#"{"via":"postMessage","message":"{\"hello\":1}"}"#,
            r#"{"via":"postMessage","message":"eventType but not JSON"}"#,
            r#"{"via":"external.notify","message":{"eventType":"x"}}"#,
            r#"{"via":"TelegramWebviewProxy","message":{"eventType":7}}"#,
        ] {
            assert!(parse(payload).is_none(), "{payload}");
            assert!(event(payload).is_none(), "{payload}");
        }
    }

    #[test]
    fn a_foreign_post_keeps_only_its_origin() {
        let payload = r#"{"via":"foreign","origin":"http://localhost:1234","message":"secret"}"#;
        match parse(payload) {
            Some(Forwarded::Foreign { origin }) => assert_eq!(origin, "http://localhost:1234"),
            _ => panic!("a foreign notice expected"),
        }
    }

    #[test]
    fn an_event_without_data_has_empty_data() {
        let payload = envelope(
            "postMessage",
            Value::String(r#"{"eventType":"iframe_ready"}"#.to_owned()),
        );
        let event = event(&payload).unwrap();
        assert_eq!(event.event_type, "iframe_ready");
        assert!(event.data.is_empty());
        assert!(WebCredentials::from_event(&event.data).is_err());
    }

    #[test]
    fn the_script_names_the_binding_and_defines_every_bridge() {
        let script = script("__tgpay_0123");
        assert!(!script.contains("__BINDING__"));
        assert_eq!(script.matches("__tgpay_0123").count(), 2);
        // Only the top frame gets the bridges; messages from frames or other origins are not
        // forwarded.
        assert!(script.contains("window.top !== window"));
        assert!(script.contains("event.source !== window || event.origin !== origin"));
        for needle in [
            "TelegramWebviewProxy",
            "'notify'",
            "addEventListener('message'",
        ] {
            assert!(script.contains(needle), "{needle}");
        }
    }

    #[test]
    fn bridges_display_as_the_javascript_call() {
        assert_eq!(
            Bridge::WebviewProxy.to_string(),
            "TelegramWebviewProxy.postEvent"
        );
        assert_eq!(Bridge::ExternalNotify.to_string(), "external.notify");
        assert_eq!(Bridge::PostMessage.to_string(), "parent.postMessage");
    }
}
