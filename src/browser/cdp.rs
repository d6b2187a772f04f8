//! The DevTools protocol over Chromium's `--remote-debugging-pipe`: JSON messages separated by
//! NUL bytes, commands on the browser's fd 3, answers and events on its fd 4, as Playwright and
//! Puppeteer launch it. Nothing listens on a port, and only tgpay holds the pipe.
//!
//! Commands are chromiumoxide's typed CDP commands ([`chromiumoxide_types::Command`], from
//! `chromiumoxide_cdp`); their answers come back typed. Events are routed by session: each
//! attached tab (flat sessions, `Target.attachToTarget` with `flatten`) gets its own stream,
//! which ends when the tab is detached (closed) or the browser goes away.
//!
//! Message contents are never logged: the bridge's events carry card credentials.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chromiumoxide_types::Command;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::pipe;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

/// How long a command may wait for its answer.
pub(crate) const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest message accepted from the browser (screenshots are the big ones).
const MAX_MESSAGE: usize = 256 * 1024 * 1024;

/// A DevTools command that failed. Never contains what the page sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CdpError {
    /// The browser refused the command.
    #[error("{method} was refused by the browser: {message} (code {code})")]
    Refused {
        /// The command (`Page.navigate`).
        method: String,
        /// The browser's error code.
        code: i64,
        /// The browser's message.
        message: String,
    },
    /// The browser's answer is not what the protocol describes.
    #[error("the browser's answer to {method} could not be read: {reason}")]
    Decode {
        /// The command.
        method: String,
        /// Why.
        reason: String,
    },
    /// The browser closed the pipe (it exited, or was closed).
    #[error("the browser is gone (its DevTools pipe is closed)")]
    Closed,
    /// No answer in time.
    #[error("the browser did not answer {method} within {waited:?}")]
    Timeout {
        /// The command.
        method: String,
        /// How long it waited.
        waited: Duration,
    },
}

/// An event: its method (`Page.frameNavigated`) and parameters.
#[derive(Debug)]
pub(crate) struct Event {
    pub method: String,
    pub params: Value,
}

impl Event {
    /// The parameters as the typed event `T`, if they are one.
    pub fn parse<T: serde::de::DeserializeOwned>(self) -> Option<T> {
        serde_json::from_value(self.params).ok()
    }
}

type Answer = Result<Value, CdpError>;

#[derive(Default)]
struct Routes {
    pending: HashMap<u64, (String, oneshot::Sender<Answer>)>,
    sessions: HashMap<String, mpsc::UnboundedSender<Event>>,
    closed: bool,
}

/// A DevTools connection over the pipe.
pub(crate) struct Connection {
    outgoing: mpsc::UnboundedSender<Vec<u8>>,
    routes: Arc<Mutex<Routes>>,
    next_id: AtomicU64,
    closed: watch::Receiver<bool>,
    tasks: [JoinHandle<()>; 2],
}

impl Drop for Connection {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn lock(routes: &Mutex<Routes>) -> std::sync::MutexGuard<'_, Routes> {
    routes
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Connection {
    /// Starts reading and writing the pipe.
    pub fn new(to_browser: pipe::Sender, from_browser: pipe::Receiver) -> Connection {
        let routes = Arc::new(Mutex::new(Routes::default()));
        let (closed_tx, closed) = watch::channel(false);
        let (outgoing, mut queue) = mpsc::unbounded_channel::<Vec<u8>>();
        let writer = tokio::spawn(async move {
            let mut to_browser = to_browser;
            while let Some(mut message) = queue.recv().await {
                message.push(0);
                if to_browser.write_all(&message).await.is_err() {
                    break;
                }
            }
        });
        let reader = tokio::spawn({
            let routes = Arc::clone(&routes);
            async move {
                read_loop(from_browser, &routes).await;
                let mut routes = lock(&routes);
                routes.closed = true;
                for (_, (_, answer)) in routes.pending.drain() {
                    let _ = answer.send(Err(CdpError::Closed));
                }
                routes.sessions.clear();
                drop(routes);
                closed_tx.send_replace(true);
            }
        });
        Connection {
            outgoing,
            routes,
            next_id: AtomicU64::new(1),
            closed,
            tasks: [writer, reader],
        }
    }

    /// Whether the pipe is closed (the browser is gone).
    pub fn is_closed(&self) -> bool {
        *self.closed.borrow()
    }

    /// Resolves when the pipe is closed.
    pub async fn wait_closed(&self) {
        let mut closed = self.closed.clone();
        let _ = closed.wait_for(|closed| *closed).await;
    }

    /// Sends a typed command (to the browser, or to the tab of `session`) and waits up to
    /// [`COMMAND_TIMEOUT`] for its typed answer.
    pub async fn call<C: Command>(
        &self,
        session: Option<&str>,
        command: C,
    ) -> Result<C::Response, CdpError> {
        let method = command.identifier().into_owned();
        let params = serde_json::to_value(&command).map_err(|e| CdpError::Decode {
            method: method.clone(),
            reason: e.to_string(),
        })?;
        let value = self.call_raw(session, &method, params).await?;
        C::response_from_value(value).map_err(|e| CdpError::Decode {
            method,
            reason: e.to_string(),
        })
    }

    /// Sends a command by name with JSON parameters and waits for the JSON answer.
    pub async fn call_raw(
        &self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, CdpError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (answer_tx, answer) = oneshot::channel();
        {
            let mut routes = lock(&self.routes);
            if routes.closed {
                return Err(CdpError::Closed);
            }
            routes.pending.insert(id, (method.to_owned(), answer_tx));
        }
        let mut message = serde_json::json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            message["sessionId"] = Value::String(session.to_owned());
        }
        tracing::trace!(id, method, "DevTools command");
        let sent = serde_json::to_vec(&message)
            .ok()
            .is_some_and(|bytes| self.outgoing.send(bytes).is_ok());
        if !sent {
            lock(&self.routes).pending.remove(&id);
            return Err(CdpError::Closed);
        }
        match tokio::time::timeout(COMMAND_TIMEOUT, answer).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => Err(CdpError::Closed),
            Err(_) => {
                lock(&self.routes).pending.remove(&id);
                Err(CdpError::Timeout {
                    method: method.to_owned(),
                    waited: COMMAND_TIMEOUT,
                })
            }
        }
    }

    /// The events of the tab attached as `session`, from now on; the stream ends when the tab
    /// is detached or the browser is gone.
    pub fn session_events(&self, session: &str) -> mpsc::UnboundedReceiver<Event> {
        let (events_tx, events) = mpsc::unbounded_channel();
        let mut routes = lock(&self.routes);
        if !routes.closed {
            routes.sessions.insert(session.to_owned(), events_tx);
        }
        events
    }
}

async fn read_loop(mut from_browser: pipe::Receiver, routes: &Mutex<Routes>) {
    let mut buffer: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let read = match from_browser.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let mut start = buffer.len();
        buffer.extend_from_slice(&chunk[..read]);
        chunk[..read].fill(0);
        let mut consumed = 0;
        while let Some(end) = buffer[start..].iter().position(|b| *b == 0) {
            let end = start + end;
            dispatch(&buffer[consumed..end], routes);
            consumed = end + 1;
            start = consumed;
        }
        // Messages may carry credentials: wipe what was read before it is dropped.
        buffer[..consumed].fill(0);
        buffer.drain(..consumed);
        if buffer.len() > MAX_MESSAGE {
            tracing::warn!("the browser sent a DevTools message too large to read");
            return;
        }
    }
}

fn dispatch(message: &[u8], routes: &Mutex<Routes>) {
    let Ok(mut message) = serde_json::from_slice::<Value>(message) else {
        tracing::debug!("the browser sent a DevTools message that is not JSON");
        return;
    };
    if let Some(id) = message.get("id").and_then(Value::as_u64) {
        let Some((method, answer)) = lock(routes).pending.remove(&id) else {
            return;
        };
        let result = match message.get_mut("error") {
            Some(error) => Err(CdpError::Refused {
                method,
                code: error
                    .get("code")
                    .and_then(Value::as_i64)
                    .unwrap_or_default(),
                message: error
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            }),
            None => Ok(message
                .get_mut("result")
                .map(Value::take)
                .unwrap_or(Value::Null)),
        };
        let _ = answer.send(result);
        return;
    }
    let Some(method) = message.get("method").and_then(Value::as_str) else {
        return;
    };
    let method = method.to_owned();
    let params = message
        .get_mut("params")
        .map(Value::take)
        .unwrap_or(Value::Null);
    let session = message
        .get("sessionId")
        .and_then(Value::as_str)
        .map(str::to_owned);
    tracing::trace!(method, "DevTools event");
    let mut routes = lock(routes);
    match session {
        Some(session) => {
            if let Some(events) = routes.sessions.get(&session)
                && events.send(Event { method, params }).is_err()
            {
                routes.sessions.remove(&session);
            }
        }
        // A detached tab's stream ends; the browser's other events are not used.
        None => {
            if method == "Target.detachedFromTarget"
                && let Some(session) = params.get("sessionId").and_then(Value::as_str)
            {
                routes.sessions.remove(session);
            }
        }
    }
}
