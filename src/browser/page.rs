//! Tabs: the [`Page`] handle, and the guard that holds each tab to the rule.
//!
//! Every tab the relay opens has a guard task reading its DevTools events. The guard
//! - pauses every document request of the top frame (the `Fetch` domain, request stage) and lets
//!   it go only if its URL passes [`check_url`]: the first page, each redirect hop, each
//!   navigation the page starts; anything else is failed before it is sent, and the relay ends
//!   with [`BrowserError::NavigationRefused`];
//! - checks each new top-level document (`Page.frameNavigated`, `Page.navigatedWithinDocument`)
//!   against the same rule, for navigations that make no request (`about:blank`, `data:`);
//! - accepts bridge calls only from the top frame's own context, and only while the top-level
//!   URL passes the rule; calls from other frames, and messages the bridge script saw posted by
//!   another frame or origin, are dropped and logged without their content.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chromiumoxide_cdp::cdp::browser_protocol::fetch::{
    self, ContinueRequestParams, EventRequestPaused, FailRequestParams, RequestPattern,
    RequestStage,
};
use chromiumoxide_cdp::cdp::browser_protocol::input::{
    DispatchKeyEventParams, DispatchKeyEventType, DispatchMouseEventParams, DispatchMouseEventType,
    MouseButton,
};
use chromiumoxide_cdp::cdp::browser_protocol::network::{ErrorReason, ResourceType};
use chromiumoxide_cdp::cdp::browser_protocol::page::{
    EventFrameNavigated, EventNavigatedWithinDocument, GetFrameTreeParams, NavigateParams,
};
use chromiumoxide_cdp::cdp::browser_protocol::target::{
    AttachToTargetParams, CloseTargetParams, CreateTargetParams,
};
use chromiumoxide_cdp::cdp::js_protocol::runtime::{
    EvaluateParams, EventBindingCalled, EventExecutionContextCreated,
    EventExecutionContextDestroyed,
};
use chromiumoxide_types::Command;
use serde_json::Value;
use tokio::sync::{mpsc, watch};

use super::bridge::{self, BridgeEvent, Forwarded};
use super::cdp::{Connection, Event};
use super::{BrowserError, check_url};
use crate::text::Escaped;

/// How long a page may take to load.
const LOAD_TIMEOUT: Duration = Duration::from_secs(30);

/// A tab in the browser, driven over the DevTools pipe: run any typed CDP command in it
/// ([`execute`](Page::execute)), evaluate JavaScript, click and type as a person does. Cloning
/// it gives another handle to the same tab.
#[derive(Clone)]
pub struct Page {
    conn: Arc<Connection>,
    session: Arc<str>,
    target: Arc<str>,
}

impl std::fmt::Debug for Page {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Page")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl Page {
    /// The tab's DevTools target id.
    pub fn target_id(&self) -> &str {
        &self.target
    }

    /// Runs a typed DevTools command (from [`protocol`](super::protocol)) in this tab.
    pub async fn execute<C: Command>(&self, command: C) -> Result<C::Response, BrowserError> {
        let method = command.identifier();
        self.conn
            .call(Some(&self.session), command)
            .await
            .map_err(|source| BrowserError::DevTools {
                step: "run a command in the page",
                method: method.into_owned(),
                source,
            })
    }

    /// Evaluates a JavaScript expression in the page (promises awaited) and returns its value
    /// as JSON (`null` for `undefined`). An exception is [`BrowserError::Script`].
    pub async fn evaluate(&self, expression: &str) -> Result<Value, BrowserError> {
        let params = EvaluateParams::builder()
            .expression(expression)
            .return_by_value(true)
            .await_promise(true)
            .build()
            .map_err(|reason| BrowserError::Script { message: reason })?;
        let answer = self.execute(params).await?;
        if let Some(exception) = answer.exception_details {
            let message = exception
                .exception
                .and_then(|e| e.description)
                .unwrap_or(exception.text);
            return Err(BrowserError::Script { message });
        }
        Ok(answer.result.value.unwrap_or(Value::Null))
    }

    /// Clicks the first element matching the CSS `selector` as a person does: scrolled into
    /// view, the mouse moved to its centre, pressed and released.
    pub async fn click(&self, selector: &str) -> Result<(), BrowserError> {
        let quoted = serde_json::to_string(selector).unwrap_or_default();
        let centre = self
            .evaluate(&format!(
                "(() => {{ const e = document.querySelector({quoted}); if (!e) return null; \
                 e.scrollIntoView({{block: 'center', inline: 'center'}}); \
                 const r = e.getBoundingClientRect(); \
                 return [r.left + r.width / 2, r.top + r.height / 2]; }})()"
            ))
            .await?;
        let (Some(x), Some(y)) = (
            centre.get(0).and_then(Value::as_f64),
            centre.get(1).and_then(Value::as_f64),
        ) else {
            return Err(BrowserError::ElementNotFound {
                selector: selector.to_owned(),
            });
        };
        self.execute(DispatchMouseEventParams::new(
            DispatchMouseEventType::MouseMoved,
            x,
            y,
        ))
        .await?;
        for kind in [
            DispatchMouseEventType::MousePressed,
            DispatchMouseEventType::MouseReleased,
        ] {
            let mut event = DispatchMouseEventParams::new(kind, x, y);
            event.button = Some(MouseButton::Left);
            event.buttons = Some(1);
            event.click_count = Some(1);
            self.execute(event).await?;
        }
        Ok(())
    }

    /// Whether an element matches the CSS `selector`.
    pub async fn has_element(&self, selector: &str) -> Result<bool, BrowserError> {
        let quoted = serde_json::to_string(selector).unwrap_or_default();
        Ok(self
            .evaluate(&format!("document.querySelector({quoted}) !== null"))
            .await?
            .as_bool()
            .unwrap_or(false))
    }

    /// Types `text` into the focused element, key by key.
    pub async fn type_str(&self, text: &str) -> Result<(), BrowserError> {
        for c in text.chars() {
            let c = c.to_string();
            let mut down = DispatchKeyEventParams::new(DispatchKeyEventType::KeyDown);
            down.key = Some(c.clone());
            down.text = Some(c.clone());
            down.unmodified_text = Some(c.clone());
            self.execute(down).await?;
            let mut up = DispatchKeyEventParams::new(DispatchKeyEventType::KeyUp);
            up.key = Some(c);
            self.execute(up).await?;
        }
        Ok(())
    }

    /// Presses a named key in the focused element: `Backspace`, `Delete`, `Enter`, `Tab`,
    /// `End`, `Home`, `ArrowLeft` or `ArrowRight`.
    pub async fn press_key(&self, key: &str) -> Result<(), BrowserError> {
        let (code, text) = match key {
            "Backspace" => (8, None),
            "Tab" => (9, None),
            "Enter" => (13, Some("\r")),
            "End" => (35, None),
            "Home" => (36, None),
            "ArrowLeft" => (37, None),
            "ArrowRight" => (39, None),
            "Delete" => (46, None),
            _ => {
                return Err(BrowserError::Script {
                    message: format!("no key named {key:?}"),
                });
            }
        };
        let kind = if text.is_some() {
            DispatchKeyEventType::KeyDown
        } else {
            DispatchKeyEventType::RawKeyDown
        };
        for kind in [kind, DispatchKeyEventType::KeyUp] {
            let mut event = DispatchKeyEventParams::new(kind.clone());
            event.key = Some(key.to_owned());
            event.code = Some(key.to_owned());
            event.windows_virtual_key_code = Some(code);
            event.native_virtual_key_code = Some(code);
            if kind != DispatchKeyEventType::KeyUp {
                event.text = text.map(str::to_owned);
            }
            self.execute(event).await?;
        }
        Ok(())
    }

    /// Closes the tab, as a person closing the window does.
    pub async fn close(&self) -> Result<(), BrowserError> {
        self.conn
            .call(None, CloseTargetParams::new(self.target.to_string()))
            .await
            .map(drop)
            .map_err(|source| BrowserError::DevTools {
                step: "close the tab",
                method: "Target.closeTarget".to_owned(),
                source,
            })
    }
}

/// What a tab's guard tells the relay.
pub(crate) enum Signal {
    /// The top frame's `load` event.
    Loaded,
    /// A web event the top frame posted through the bridge.
    Web(BridgeEvent),
    /// The top frame went, or tried to go, to a URL that fails the rule.
    Refused { url: String, reason: &'static str },
    /// The tab was closed or the browser is gone.
    Closed,
}

/// A tab the relay opened; closed by the relay when it is done (or in the background if it is
/// dropped first).
pub(crate) struct Tab {
    pub page: Page,
    pub signals: mpsc::UnboundedReceiver<Signal>,
    gone: watch::Receiver<bool>,
    headless: bool,
    open: bool,
}

/// The binding the bridge script calls, when the tab is a payment page.
pub(crate) struct BridgeSetup<'a> {
    pub binding: &'a str,
}

impl Tab {
    /// Opens `url` (already checked) in a new tab with its guard, the bridge when `bridge` is
    /// given, and waits for it to load.
    pub async fn open(
        conn: &Arc<Connection>,
        gone: watch::Receiver<bool>,
        headless: bool,
        url: &str,
        bridge: Option<BridgeSetup<'_>>,
    ) -> Result<Tab, BrowserError> {
        let devtools = |step, method: &str| {
            let method = method.to_owned();
            move |source| BrowserError::DevTools {
                step,
                method,
                source,
            }
        };
        let target = conn
            .call(None, CreateTargetParams::new("about:blank"))
            .await
            .map_err(devtools("open a tab", "Target.createTarget"))?
            .target_id;
        let mut attach = AttachToTargetParams::new(target.clone());
        attach.flatten = Some(true);
        let session = match conn.call(None, attach).await {
            Ok(answer) => answer.session_id,
            Err(source) => {
                let _ = conn.call(None, CloseTargetParams::new(target)).await;
                return Err(devtools("open a tab", "Target.attachToTarget")(source));
            }
        };
        let events = conn.session_events(session.as_ref());
        let page = Page {
            conn: Arc::clone(conn),
            session: Arc::from(session.as_ref()),
            target: Arc::from(target.as_ref()),
        };
        let (signal_tx, signals) = mpsc::unbounded_channel();
        let mut tab = Tab {
            page,
            signals,
            gone,
            headless,
            open: true,
        };
        match tab.prepare(events, signal_tx, url, bridge).await {
            Ok(()) => Ok(tab),
            Err(error) => {
                tab.close().await;
                Err(error)
            }
        }
    }

    async fn prepare(
        &mut self,
        events: mpsc::UnboundedReceiver<Event>,
        signal_tx: mpsc::UnboundedSender<Signal>,
        url: &str,
        bridge: Option<BridgeSetup<'_>>,
    ) -> Result<(), BrowserError> {
        let page = &self.page;
        let session = Some(&*page.session);
        let conn = &page.conn;
        let step = |method: &'static str| {
            move |source| BrowserError::DevTools {
                step: "prepare the tab",
                method: method.to_owned(),
                source,
            }
        };
        conn.call_raw(session, "Page.enable", Value::Object(Default::default()))
            .await
            .map_err(step("Page.enable"))?;
        let main_frame = page
            .execute(GetFrameTreeParams::default())
            .await?
            .frame_tree
            .frame
            .id
            .as_ref()
            .to_owned();
        let guard = Guard {
            conn: Arc::clone(conn),
            session: page.session.to_string(),
            main_frame,
            binding: bridge.as_ref().map(|b| b.binding.to_owned()),
            contexts: HashMap::new(),
            top_url: "about:blank".to_owned(),
            refused: false,
            signals: signal_tx,
        };
        tokio::spawn(guard.run(events));
        conn.call_raw(session, "Runtime.enable", Value::Object(Default::default()))
            .await
            .map_err(step("Runtime.enable"))?;
        let pattern = RequestPattern::builder()
            .url_pattern("*")
            .resource_type(ResourceType::Document)
            .request_stage(RequestStage::Request)
            .build();
        page.execute(fetch::EnableParams::builder().pattern(pattern).build())
            .await?;
        if let Some(bridge) = bridge {
            page.execute(
                chromiumoxide_cdp::cdp::js_protocol::runtime::AddBindingParams::new(
                    bridge.binding.to_owned(),
                ),
            )
            .await?;
            page.execute(
                chromiumoxide_cdp::cdp::browser_protocol::page::AddScriptToEvaluateOnNewDocumentParams::new(
                    bridge::script(bridge.binding),
                ),
            )
            .await?;
        }
        self.navigate(url).await
    }

    async fn navigate(&mut self, url: &str) -> Result<(), BrowserError> {
        let navigated = self.page.execute(NavigateParams::new(url)).await?;
        if let Some(reason) = navigated.error_text.filter(|e| !e.is_empty()) {
            // A navigation the guard refused fails too: say why.
            if let Ok(Signal::Refused { url, reason }) = self.signals.try_recv() {
                return Err(BrowserError::NavigationRefused { url, reason });
            }
            return Err(BrowserError::Navigation {
                url: url.to_owned(),
                reason,
            });
        }
        let deadline = tokio::time::Instant::now() + LOAD_TIMEOUT;
        let mut early = Vec::new();
        loop {
            tokio::select! {
                signal = self.signals.recv() => match signal {
                    Some(Signal::Loaded) => break,
                    Some(Signal::Web(event)) => early.push(event),
                    Some(Signal::Refused { url, reason }) => {
                        return Err(BrowserError::NavigationRefused { url, reason });
                    }
                    Some(Signal::Closed) | None => return Err(BrowserError::Closed),
                },
                () = tokio::time::sleep_until(deadline) => {
                    return Err(BrowserError::Navigation {
                        url: url.to_owned(),
                        reason: format!("it did not finish loading within {LOAD_TIMEOUT:?}"),
                    });
                }
            }
        }
        // Events the page posted while loading come first.
        if !early.is_empty() {
            let (requeue, signals) = mpsc::unbounded_channel();
            for event in early {
                let _ = requeue.send(Signal::Web(event));
            }
            let mut old = std::mem::replace(&mut self.signals, signals);
            tokio::spawn(async move {
                while let Some(signal) = old.recv().await {
                    if requeue.send(signal).is_err() {
                        break;
                    }
                }
            });
        }
        Ok(())
    }

    /// The next signal of the guard; [`Signal::Closed`] once the browser is gone.
    pub async fn next(&mut self) -> Signal {
        if !self.open {
            return Signal::Closed;
        }
        let signal = tokio::select! {
            signal = self.signals.recv() => signal.unwrap_or(Signal::Closed),
            _ = self.gone.wait_for(|gone| *gone) => Signal::Closed,
        };
        if matches!(signal, Signal::Closed) {
            self.open = false;
        }
        signal
    }

    /// Leaves a visible window on screen a moment, so that the person sees the result.
    pub async fn linger(&self) {
        if !self.headless && self.open {
            tokio::time::sleep(super::VISIBLE_LINGER).await;
        }
    }

    pub async fn close(&mut self) {
        if !self.open || *self.gone.borrow() {
            self.open = false;
            return;
        }
        self.open = false;
        if let Err(error) = self.page.close().await {
            tracing::debug!(%error, "the tab did not close");
        }
    }
}

impl Drop for Tab {
    /// A tab dropped before the relay was done with it (a cancelled wait) is closed in the
    /// background.
    fn drop(&mut self) {
        if !self.open || *self.gone.borrow() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let page = self.page.clone();
        runtime.spawn(async move {
            let _ = page.close().await;
        });
    }
}

/// Holds one tab to the rule (see the module docs).
struct Guard {
    conn: Arc<Connection>,
    session: String,
    main_frame: String,
    binding: Option<String>,
    /// Execution context id → (unique id, frame id, whether it is the frame's main world).
    contexts: HashMap<i64, (String, String, bool)>,
    top_url: String,
    refused: bool,
    signals: mpsc::UnboundedSender<Signal>,
}

impl Guard {
    async fn run(mut self, mut events: mpsc::UnboundedReceiver<Event>) {
        while let Some(event) = events.recv().await {
            match event.method.as_str() {
                "Fetch.requestPaused" => {
                    if let Some(paused) = event.parse::<EventRequestPaused>() {
                        self.request_paused(paused).await;
                    }
                }
                "Page.frameNavigated" => {
                    if let Some(navigated) = event.parse::<EventFrameNavigated>()
                        && navigated.frame.parent_id.is_none()
                    {
                        self.top_level(navigated.frame.url);
                    }
                }
                "Page.navigatedWithinDocument" => {
                    if let Some(navigated) = event.parse::<EventNavigatedWithinDocument>()
                        && navigated.frame_id.as_ref() == self.main_frame
                    {
                        self.top_level(navigated.url);
                    }
                }
                "Page.loadEventFired" => {
                    let _ = self.signals.send(Signal::Loaded);
                }
                "Runtime.executionContextCreated" => {
                    if let Some(created) = event.parse::<EventExecutionContextCreated>() {
                        let aux = created.context.aux_data.unwrap_or(Value::Null);
                        let frame = aux.get("frameId").and_then(Value::as_str);
                        let default = aux.get("isDefault").and_then(Value::as_bool);
                        self.contexts.insert(
                            *created.context.id.inner(),
                            (
                                created.context.unique_id,
                                frame.unwrap_or("").to_owned(),
                                default == Some(true),
                            ),
                        );
                    }
                }
                "Runtime.executionContextDestroyed" => {
                    if let Some(destroyed) = event.parse::<EventExecutionContextDestroyed>() {
                        self.contexts.retain(|_, (unique, _, _)| {
                            *unique != destroyed.execution_context_unique_id
                        });
                    }
                }
                "Runtime.executionContextsCleared" => self.contexts.clear(),
                "Runtime.bindingCalled" => {
                    if let Some(call) = event.parse::<EventBindingCalled>() {
                        self.binding_called(call);
                    }
                }
                "Inspector.detached" | "Inspector.targetCrashed" => break,
                _ => {}
            }
        }
        let _ = self.signals.send(Signal::Closed);
    }

    fn refuse(&mut self, url: &str, reason: &'static str) {
        tracing::warn!(url = %Escaped(url), reason, "the payment page left the rule: relay ended");
        if !self.refused {
            self.refused = true;
            let _ = self.signals.send(Signal::Refused {
                url: url.to_owned(),
                reason,
            });
        }
    }

    async fn request_paused(&mut self, paused: EventRequestPaused) {
        let id = paused.request_id.clone();
        let url = paused.request.url.clone();
        let top = paused.frame_id.as_ref() == self.main_frame
            && paused.resource_type == ResourceType::Document;
        let verdict = if top && !self.refused {
            check_url(&url).map_err(|e| match e {
                BrowserError::UrlRefused { reason, .. } => reason,
                _ => "payment pages must use https",
            })
        } else if top {
            Err("the payment page already left the rule")
        } else {
            Ok(())
        };
        let answered = match verdict {
            Ok(()) => self
                .conn
                .call(Some(&self.session), ContinueRequestParams::new(id))
                .await
                .map(drop),
            Err(reason) => {
                self.refuse(&url, reason);
                self.conn
                    .call(
                        Some(&self.session),
                        FailRequestParams::new(id, ErrorReason::BlockedByClient),
                    )
                    .await
                    .map(drop)
            }
        };
        if let Err(error) = answered {
            tracing::debug!(%error, "a paused request could not be answered");
        }
    }

    fn top_level(&mut self, url: String) {
        // Chromium's own error page, after a failed (or refused) load, posts nothing.
        if !url.starts_with("chrome-error://")
            && let Err(BrowserError::UrlRefused { reason, .. }) = check_url(&url)
        {
            self.refuse(&url, reason);
        }
        self.top_url = url;
    }

    fn binding_called(&mut self, call: EventBindingCalled) {
        if self.binding.as_deref() != Some(call.name.as_str()) {
            return;
        }
        let from_top = self
            .contexts
            .get(call.execution_context_id.inner())
            .is_some_and(|(_, frame, default)| *default && *frame == self.main_frame);
        if !from_top {
            tracing::warn!("a web event from a frame other than the top one was ignored");
            return;
        }
        if self.refused || check_url(&self.top_url).is_err() {
            tracing::warn!(
                url = %Escaped(&self.top_url),
                "a web event from a page that fails the https-or-loopback rule was ignored"
            );
            return;
        }
        match bridge::parse(&call.payload) {
            Some(Forwarded::Event(event)) => {
                let _ = self.signals.send(Signal::Web(event));
            }
            Some(Forwarded::Foreign { origin }) => {
                tracing::warn!(
                    origin = %Escaped(&origin),
                    "a web event posted by another frame or origin was ignored"
                );
            }
            None => {}
        }
    }
}
