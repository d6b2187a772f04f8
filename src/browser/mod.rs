//! Web payment pages in a real browser (feature `browser`): the provider's gateway page and
//! the bank's 3-D Secure page, run in Chromium driven over the DevTools protocol, the way
//! Telegram's apps run them in a webview.
//!
//! Most payment providers are web-only: a card form's [`url`](crate::CardForm::url) is the
//! provider's page, and the only way the card comes back is the page's `payment_form_submit`
//! web event (<https://core.telegram.org/api/web-events>). The relay opens the page in
//! Chromium, injects the webview bridge before any script of the page runs (the three shapes
//! of [`Bridge`]), captures the event as [`WebCredentials`] and closes the page. For a
//! [`Verification`], it opens the bank's page and waits, with
//! [`Payments::wait_for_verification`], until the payment completes, fails, the person closes
//! the window, or time runs out.
//!
//! ```no_run
//! # async fn pay(payments: tgpay::Payments, form: tgpay::CardForm) -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use tgpay::browser::{BrowserOptions, WebBrowser};
//! use tgpay::{Credentials, Outcome};
//!
//! let browser = WebBrowser::launch(&BrowserOptions::visible()).await?;
//! let card = browser.collect_credentials(&form.url, Duration::from_secs(600)).await?;
//! println!("paying with {}", card.title());
//! let outcome = payments.checkout(&form).credentials(Credentials::Web(card)).send().await?;
//! let paid = match outcome {
//!     Outcome::Paid(paid) => paid,
//!     Outcome::VerificationNeeded(verification) => {
//!         browser.verify(&payments, verification, Duration::from_secs(600)).await?
//!     }
//! };
//! browser.close().await;
//! println!("paid {}", paid.total);
//! # Ok(())
//! # }
//! ```
//!
//! [`collect_credentials`] and [`verify`] do the same with a browser of their own, launched
//! for the one page and closed afterwards, whatever the outcome.
//!
//! Chromium is found through `CHROME`, then `chromium`, `chromium-browser`, `google-chrome`
//! and `google-chrome-stable` on `PATH`, then `/usr/bin/chromium`; with none,
//! [`BrowserError::NotFound`] says how to install it. Each browser gets a fresh profile in a
//! temporary directory, removed when it closes. Card details typed into the page stay in
//! Chromium; what tgpay receives is the provider's token, held as a
//! [`Secret`](crate::secret::Secret) and never logged (keep `chromiumoxide`'s trace-level
//! logs, which echo raw DevTools traffic, switched off).

mod bridge;
mod locate;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chromiumoxide::cdp::browser_protocol::page::AddScriptToEvaluateOnNewDocumentParams;
use chromiumoxide::cdp::browser_protocol::target::{CloseTargetParams, EventTargetDestroyed};
use chromiumoxide::cdp::js_protocol::runtime::{AddBindingParams, EventBindingCalled};
use chromiumoxide::error::CdpError;
use chromiumoxide::listeners::EventStream;
use chromiumoxide::{Browser, BrowserConfig, Page};
use futures_util::StreamExt;
use tokio::sync::{Mutex, watch};
use tokio::task::JoinHandle;

pub use bridge::Bridge;
pub use chromiumoxide;
pub use locate::{FALLBACK, PATH_NAMES};

use crate::checkout::{AmbiguityCause, AmbiguousPayment, Paid, Verification};
use crate::credentials::{CredentialsError, WebCredentials};
use crate::payments::Payments;

/// The Chromium flags every launch uses: no first-run UI, no background traffic (updates,
/// sync, QUIC probes), no GPU, shared memory in `/tmp`.
pub const FLAGS: [&str; 12] = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-breakpad",
    "--disable-dev-shm-usage",
    "--password-store=basic",
    "--use-mock-keychain",
];

/// How long a 3-D Secure wait goes on after the window was closed, for an answer the bank
/// may already have sent (a click on Confirm just before closing).
const ABANDON_GRACE: Duration = Duration::from_secs(1);

/// How long a visible window stays open after the page did its job, so that the person sees
/// the result.
const VISIBLE_LINGER: Duration = Duration::from_millis(1200);

/// How often the browser process is checked for having exited.
const WATCH_INTERVAL: Duration = Duration::from_millis(200);

/// What went wrong in the browser. Never contains card details or credentials.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BrowserError {
    /// No Chromium was found.
    #[error(
        "no Chromium was found (looked at $CHROME, then chromium, chromium-browser, \
         google-chrome and google-chrome-stable on PATH, then /usr/bin/chromium): install it \
         (`apt-get install chromium` on Debian and Ubuntu) or set CHROME to the browser's path"
    )]
    NotFound,
    /// A visible window was asked for, and there is no display to show it on.
    #[error(
        "a visible browser window needs a display, and neither DISPLAY nor WAYLAND_DISPLAY is \
         set: run from a desktop session, or use a headless browser (BrowserOptions::headless)"
    )]
    NoDisplay,
    /// `CHROME` names no executable file.
    #[error(
        "CHROME is set to {value:?}, which is not an executable file: point it at Chromium or \
         Google Chrome, or unset it"
    )]
    ChromeEnvInvalid {
        /// The value of `CHROME`.
        value: String,
    },
    /// [`BrowserOptions::executable`] is not an executable file.
    #[error("the browser {path:?} is not an executable file: give the path of Chromium")]
    ExecutableInvalid {
        /// The path given.
        path: PathBuf,
    },
    /// The temporary profile directory could not be made.
    #[error("could not make a temporary profile directory for Chromium: {source}")]
    Profile {
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Chromium did not start, or its DevTools endpoint did not answer.
    #[error("Chromium ({path:?}) did not start: {source}")]
    Launch {
        /// The browser that was run.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A DevTools command failed.
    #[error("the browser failed to {step}: {source}")]
    DevTools {
        /// What was being done (`open a tab`).
        step: &'static str,
        /// Why.
        #[source]
        source: CdpError,
    },
    /// The URL is not one the relay opens.
    #[error("{url} is not a payment page the browser may open: {reason}")]
    UrlRefused {
        /// The URL.
        url: String,
        /// Why (`payment pages must use https`).
        reason: &'static str,
    },
    /// The page did not load.
    #[error("the page {url} did not load: {reason}")]
    Navigation {
        /// The URL.
        url: String,
        /// Chromium's reason (`net::ERR_CONNECTION_REFUSED`).
        reason: String,
    },
    /// The window or the browser was closed before the page sent the card details: nothing
    /// was paid.
    #[error(
        "the payment window was closed before the card details were sent: nothing was paid; \
         open the payment form again to pay"
    )]
    Closed,
    /// The payment page sent no usable card details in time: nothing was paid.
    #[error(
        "the payment page sent no card details within {waited:?}: nothing was paid{}",
        rejected.as_ref().map(|e| format!("; it did post a payment_form_submit event that \
            cannot be used ({e})")).unwrap_or_default()
    )]
    Timeout {
        /// How long the page had.
        waited: Duration,
        /// The last `payment_form_submit` event the page posted that could not be read.
        rejected: Option<CredentialsError>,
    },
    /// The 3-D Secure window was closed before the bank answered.
    #[error(
        "the 3-D Secure window was closed before the bank answered: the payment may still \
         complete; call Payments::reconcile with `pending` before paying again"
    )]
    Abandoned {
        /// What to check with [`Payments::reconcile`].
        pending: Box<AmbiguousPayment>,
    },
    /// The 3-D Secure page could not be shown; the payment waits for the bank.
    #[error(
        "the 3-D Secure page could not be shown ({source}): open {url} in a browser, then call \
         Payments::reconcile with `pending` before paying again"
    )]
    VerificationNotShown {
        /// The verification page.
        url: String,
        /// What to check with [`Payments::reconcile`].
        pending: Box<AmbiguousPayment>,
        /// Why it could not be shown.
        #[source]
        source: Box<BrowserError>,
    },
    /// The payment itself failed or its outcome is unknown
    /// ([`Error::VerificationFailed`](crate::Error::VerificationFailed),
    /// [`Error::Ambiguous`](crate::Error::Ambiguous), …).
    #[error(transparent)]
    Payment(#[from] crate::Error),
}

impl BrowserError {
    fn devtools(step: &'static str) -> impl FnOnce(CdpError) -> BrowserError {
        move |source| BrowserError::DevTools { step, source }
    }
}

/// How to run the browser: a visible window for people, headless for scripts.
#[derive(Debug, Clone)]
pub struct BrowserOptions {
    headless: bool,
    executable: Option<PathBuf>,
    window_size: (u32, u32),
    launch_timeout: Duration,
    sandbox: bool,
    args: Vec<String>,
}

impl BrowserOptions {
    /// A visible browser window (the default).
    pub fn visible() -> Self {
        BrowserOptions {
            headless: false,
            executable: None,
            window_size: (560, 860),
            launch_timeout: Duration::from_secs(20),
            sandbox: false,
            args: Vec::new(),
        }
    }

    /// A headless browser (`--headless=new`), for scripts and tests.
    pub fn headless() -> Self {
        BrowserOptions {
            headless: true,
            ..BrowserOptions::visible()
        }
    }

    /// Runs this browser instead of looking for one.
    pub fn executable(mut self, path: impl Into<PathBuf>) -> Self {
        self.executable = Some(path.into());
        self
    }

    /// The window size in pixels (default 560 × 860).
    pub fn window_size(mut self, width: u32, height: u32) -> Self {
        self.window_size = (width, height);
        self
    }

    /// How long Chromium may take to start (default 20 s).
    pub fn launch_timeout(mut self, timeout: Duration) -> Self {
        self.launch_timeout = timeout;
        self
    }

    /// Runs Chromium with its own sandbox. Off by default (`--no-sandbox`), because Chromium
    /// refuses to start sandboxed as root and in many containers; turn it on for a person's
    /// desktop session.
    pub fn sandbox(mut self, on: bool) -> Self {
        self.sandbox = on;
        self
    }

    /// One more Chromium command-line flag (`--proxy-server=…`, `--lang=de`).
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Whether the browser runs headless.
    pub fn is_headless(&self) -> bool {
        self.headless
    }
}

impl Default for BrowserOptions {
    /// [`BrowserOptions::visible`].
    fn default() -> Self {
        BrowserOptions::visible()
    }
}

/// Card details a payment page sent.
#[derive(Debug)]
pub struct Submission {
    /// The credentials and the card's title (`Visa *4242`), for
    /// [`Credentials::Web`](crate::Credentials::Web).
    pub credentials: WebCredentials,
    /// The bridge the page used.
    pub bridge: Bridge,
}

struct Shared {
    browser: Mutex<Browser>,
    headless: bool,
}

/// A running Chromium: open payment pages and 3-D Secure pages in it, then
/// [`close`](WebBrowser::close) it. Dropping it kills the browser.
pub struct WebBrowser {
    shared: Arc<Shared>,
    gone: watch::Receiver<bool>,
    tasks: [JoinHandle<()>; 2],
    pid: Option<u32>,
    devtools_url: String,
    binding: String,
    profile: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for WebBrowser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebBrowser")
            .field("pid", &self.pid)
            .field("headless", &self.shared.headless)
            .finish_non_exhaustive()
    }
}

impl WebBrowser {
    /// Finds Chromium and starts it with a fresh temporary profile.
    pub async fn launch(options: &BrowserOptions) -> Result<WebBrowser, BrowserError> {
        let executable = locate::find(options.executable.as_deref())?;
        if !options.headless && !has_display() {
            return Err(BrowserError::NoDisplay);
        }
        let profile = tempfile::Builder::new()
            .prefix("tgpay-chromium-")
            .tempdir()
            .map_err(|source| BrowserError::Profile { source })?;
        let config = config(options, &executable, profile.path())?;
        let (mut browser, mut handler) =
            Browser::launch(config)
                .await
                .map_err(|error| BrowserError::Launch {
                    path: executable.clone(),
                    source: Box::new(error),
                })?;
        let pid = browser
            .get_mut_child()
            .and_then(|child| child.as_mut_inner().id());
        let devtools_url = browser.websocket_address().clone();
        tracing::debug!(?pid, path = ?executable, headless = options.headless, "Chromium started");

        let (gone_tx, gone) = watch::channel(false);
        let gone_tx = Arc::new(gone_tx);
        let shared = Arc::new(Shared {
            browser: Mutex::new(browser),
            headless: options.headless,
        });
        let connection = tokio::spawn({
            let gone = Arc::clone(&gone_tx);
            async move {
                while let Some(event) = handler.next().await {
                    if let Err(error) = event {
                        if matches!(error, CdpError::Ws(_)) {
                            break;
                        }
                        tracing::debug!(%error, "DevTools connection");
                    }
                }
                gone.send_replace(true);
            }
        });
        let watchdog = tokio::spawn({
            let shared = Arc::clone(&shared);
            async move {
                let mut tick = tokio::time::interval(WATCH_INTERVAL);
                loop {
                    tick.tick().await;
                    let Ok(mut browser) = shared.browser.try_lock() else {
                        continue;
                    };
                    if !matches!(browser.try_wait(), Ok(None)) {
                        gone_tx.send_replace(true);
                        break;
                    }
                }
            }
        });
        let mut binding = [0u8; 8];
        rand::fill(&mut binding[..]);
        let binding = format!(
            "__tgpayBridge{}",
            binding
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        Ok(WebBrowser {
            shared,
            gone,
            tasks: [connection, watchdog],
            pid,
            devtools_url,
            binding,
            profile: Some(profile),
        })
    }

    /// The browser's process id.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// The browser's DevTools WebSocket endpoint, for tools that drive it too.
    pub fn devtools_url(&self) -> &str {
        &self.devtools_url
    }

    /// Whether the browser runs headless.
    pub fn is_headless(&self) -> bool {
        self.shared.headless
    }

    /// Whether the browser has exited (closed by the person, or crashed).
    pub fn has_exited(&self) -> bool {
        *self.gone.borrow()
    }

    /// Opens the provider's payment page (a card form's [`url`](crate::CardForm::url), or an
    /// additional method's) in a new tab with the webview bridge in place, and returns once it
    /// has loaded. Wait for the card with [`PaymentPage::wait`].
    pub async fn open_payment_form(&self, url: &str) -> Result<PaymentPage, BrowserError> {
        let mut tab = self.open_tab(url).await?;
        let opened = async {
            tab.page
                .execute(AddBindingParams::new(self.binding.clone()))
                .await
                .map_err(BrowserError::devtools("install the webview bridge"))?;
            let events = tab
                .page
                .event_listener::<EventBindingCalled>()
                .await
                .map_err(BrowserError::devtools("listen to the webview bridge"))?;
            tab.page
                .execute(AddScriptToEvaluateOnNewDocumentParams::new(bridge::script(
                    &self.binding,
                )))
                .await
                .map_err(BrowserError::devtools("install the webview bridge"))?;
            tab.navigate(url).await?;
            Ok(events)
        }
        .await;
        match opened {
            Ok(events) => Ok(PaymentPage {
                tab,
                events,
                binding: self.binding.clone(),
            }),
            Err(error) => {
                tab.close().await;
                Err(error)
            }
        }
    }

    /// Opens the payment page at `url` and waits up to `timeout` (from when it has loaded)
    /// for the card details it sends; the tab is closed afterwards.
    pub async fn collect_credentials(
        &self,
        url: &str,
        timeout: Duration,
    ) -> Result<WebCredentials, BrowserError> {
        let page = self.open_payment_form(url).await?;
        Ok(page.wait(timeout).await?.credentials)
    }

    /// Opens a 3-D Secure page ([`Verification::url`]) in a new tab and returns once it has
    /// loaded. Wait for the outcome with [`VerificationPage::wait`].
    pub async fn open_verification(&self, url: &str) -> Result<VerificationPage, BrowserError> {
        let mut tab = self.open_tab(url).await?;
        match tab.navigate(url).await {
            Ok(()) => Ok(VerificationPage { tab }),
            Err(error) => {
                tab.close().await;
                Err(error)
            }
        }
    }

    /// Opens the 3-D Secure page and waits up to `timeout` until the payment is made
    /// ([`Paid`]), fails, or the person closes the window; the tab is closed afterwards.
    pub async fn verify(
        &self,
        payments: &Payments,
        verification: Verification,
        timeout: Duration,
    ) -> Result<Paid, BrowserError> {
        match self.open_verification(&verification.url).await {
            Ok(page) => page.wait(payments, verification, timeout).await,
            Err(error) => Err(not_shown(&verification, error)),
        }
    }

    /// Closes the browser, waits for its process to exit (killing it if it does not), and
    /// removes its profile directory.
    pub async fn close(mut self) {
        {
            let mut browser = self.shared.browser.lock().await;
            if !*self.gone.borrow() {
                let _ = tokio::time::timeout(Duration::from_secs(2), browser.close()).await;
            }
            if tokio::time::timeout(Duration::from_secs(5), browser.wait())
                .await
                .is_err()
            {
                let _ = browser.kill().await;
            }
        }
        for task in &self.tasks {
            task.abort();
        }
        tracing::debug!(pid = ?self.pid, "Chromium closed");
        if let Some(profile) = self.profile.take()
            && let Err(error) = profile.close()
        {
            tracing::debug!(%error, "Chromium's profile directory was not removed");
        }
    }

    async fn open_tab(&self, url: &str) -> Result<Tab, BrowserError> {
        check_url(url)?;
        if self.has_exited() {
            return Err(BrowserError::Closed);
        }
        let browser = self.shared.browser.lock().await;
        let destroyed = browser
            .event_listener::<EventTargetDestroyed>()
            .await
            .map_err(BrowserError::devtools("open a tab"))?;
        let page = browser
            .new_page("about:blank")
            .await
            .map_err(BrowserError::devtools("open a tab"))?;
        tracing::debug!(url, "payment page opened");
        Ok(Tab {
            page,
            destroyed,
            gone: self.gone.clone(),
            shared: Arc::clone(&self.shared),
            open: true,
        })
    }
}

impl Drop for WebBrowser {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        if let Ok(mut browser) = self.shared.browser.try_lock()
            && let Some(child) = browser.get_mut_child()
        {
            let _ = child.as_mut_inner().start_kill();
        }
    }
}

fn config(
    options: &BrowserOptions,
    executable: &Path,
    profile: &Path,
) -> Result<BrowserConfig, BrowserError> {
    let (width, height) = options.window_size;
    let mut builder = BrowserConfig::builder()
        .chrome_executable(executable)
        .user_data_dir(profile)
        .disable_default_args()
        .viewport(None)
        .window_size(width, height)
        .launch_timeout(options.launch_timeout)
        .request_timeout(Duration::from_secs(30));
    // chromiumoxide writes each flag as `--key` or `--key=value`.
    for flag in FLAGS
        .iter()
        .copied()
        .chain(options.args.iter().map(String::as_str))
    {
        let flag = flag.trim_start_matches('-');
        builder = match flag.split_once('=') {
            Some((key, value)) => builder.arg((key, value)),
            None => builder.arg(flag),
        };
    }
    if !options.sandbox {
        builder = builder.no_sandbox();
    }
    builder = if options.headless {
        builder.new_headless_mode()
    } else {
        builder.with_head()
    };
    builder.build().map_err(|reason| BrowserError::Launch {
        path: executable.to_owned(),
        source: reason.into(),
    })
}

/// Whether a window can be shown: on X11 and Wayland systems, a display must be named.
fn has_display() -> bool {
    if cfg!(all(unix, not(target_os = "macos"), not(target_os = "ios"))) {
        ["DISPLAY", "WAYLAND_DISPLAY"]
            .iter()
            .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
    } else {
        true
    }
}

/// Pages load over https, or over plain http from this machine (a local test server).
fn check_url(url: &str) -> Result<(), BrowserError> {
    let refused = |reason| BrowserError::UrlRefused {
        url: url.to_owned(),
        reason,
    };
    let parsed = url::Url::parse(url).map_err(|_| refused("it is not an absolute URL"))?;
    let loopback = match parsed.host() {
        Some(url::Host::Domain(host)) => host.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err(refused(
            "payment pages must use https (plain http only on this machine)",
        )),
        _ => Err(refused("payment pages must use https")),
    }
}

/// The pending payment behind a verification.
fn pending_of(verification: &Verification) -> AmbiguousPayment {
    AmbiguousPayment {
        payment: verification.payment.clone(),
        cause: AmbiguityCause::VerificationPending {
            url: verification.url.clone(),
        },
    }
}

fn not_shown(verification: &Verification, error: BrowserError) -> BrowserError {
    BrowserError::VerificationNotShown {
        url: verification.url.clone(),
        pending: Box::new(pending_of(verification)),
        source: Box::new(error),
    }
}

/// A tab the relay opened; closed by the relay when it is done.
struct Tab {
    page: Page,
    destroyed: EventStream<EventTargetDestroyed>,
    gone: watch::Receiver<bool>,
    shared: Arc<Shared>,
    open: bool,
}

impl Tab {
    async fn navigate(&mut self, url: &str) -> Result<(), BrowserError> {
        match self.page.goto(url).await {
            Ok(_) => Ok(()),
            Err(CdpError::ChromeMessage(reason)) => Err(BrowserError::Navigation {
                url: url.to_owned(),
                reason,
            }),
            Err(source) => Err(BrowserError::DevTools {
                step: "load the page",
                source,
            }),
        }
    }

    /// Resolves when the tab was closed or the browser exited.
    async fn closed(&mut self) {
        if !self.open {
            return;
        }
        let target = self.page.target_id().clone();
        let Tab {
            destroyed, gone, ..
        } = self;
        loop {
            tokio::select! {
                event = destroyed.next() => match event {
                    Some(event) if event.target_id == target => break,
                    Some(_) => {}
                    None => break,
                },
                result = gone.wait_for(|gone| *gone) => {
                    let _ = result;
                    break;
                }
            }
        }
        self.open = false;
    }

    /// Leaves a visible window on screen a moment, so that the person sees the result.
    async fn linger(&self) {
        if !self.shared.headless && self.open {
            tokio::time::sleep(VISIBLE_LINGER).await;
        }
    }

    async fn close(&mut self) {
        if !self.open || *self.gone.borrow() {
            self.open = false;
            return;
        }
        self.open = false;
        let browser = self.shared.browser.lock().await;
        let close = browser.execute(CloseTargetParams::new(self.page.target_id().clone()));
        if let Ok(Err(error)) = tokio::time::timeout(Duration::from_secs(5), close).await {
            tracing::debug!(%error, "the payment tab did not close");
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
        let shared = Arc::clone(&self.shared);
        let target = self.page.target_id().clone();
        runtime.spawn(async move {
            let browser = shared.browser.lock().await;
            let close = browser.execute(CloseTargetParams::new(target));
            let _ = tokio::time::timeout(Duration::from_secs(5), close).await;
        });
    }
}

/// A provider's payment page open in the browser, with the webview bridge in place.
pub struct PaymentPage {
    tab: Tab,
    events: EventStream<EventBindingCalled>,
    binding: String,
}

impl std::fmt::Debug for PaymentPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentPage")
            .field("target", self.tab.page.target_id())
            .finish_non_exhaustive()
    }
}

impl PaymentPage {
    /// The page, for driving it programmatically (tests, kiosks).
    pub fn page(&self) -> &Page {
        &self.tab.page
    }

    /// Waits up to `timeout` for the page's `payment_form_submit` event, then closes the tab.
    ///
    /// Other events are ignored; a `payment_form_submit` whose data cannot be read is logged
    /// (without its data) and the wait goes on, as in Telegram Desktop, and
    /// [`BrowserError::Timeout`] names it if nothing better comes.
    pub async fn wait(mut self, timeout: Duration) -> Result<Submission, BrowserError> {
        let deadline = crate::payments::deadline_after(timeout);
        let mut rejected = None;
        let result = loop {
            tokio::select! {
                call = self.events.next() => {
                    let Some(call) = call else {
                        break Err(BrowserError::Closed);
                    };
                    if call.name != self.binding {
                        continue;
                    }
                    let Some(event) = bridge::parse(&call.payload) else {
                        continue;
                    };
                    if event.event_type != WebCredentials::EVENT_TYPE {
                        tracing::debug!(event = %event.event_type, bridge = %event.bridge, "web event ignored");
                        continue;
                    }
                    match WebCredentials::from_event(&event.data) {
                        Ok(credentials) => {
                            tracing::debug!(card = credentials.title(), bridge = %event.bridge, "payment page sent the card");
                            break Ok(Submission { credentials, bridge: event.bridge });
                        }
                        Err(error) => {
                            tracing::warn!(%error, bridge = %event.bridge, "payment page posted payment_form_submit that cannot be used");
                            rejected = Some(error);
                        }
                    }
                }
                () = self.tab.closed() => break Err(BrowserError::Closed),
                () = tokio::time::sleep_until(deadline) => {
                    break Err(BrowserError::Timeout { waited: timeout, rejected });
                }
            }
        };
        if result.is_ok() {
            self.tab.linger().await;
        }
        self.tab.close().await;
        result
    }
}

/// A 3-D Secure page open in the browser.
pub struct VerificationPage {
    tab: Tab,
}

impl std::fmt::Debug for VerificationPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerificationPage")
            .field("target", self.tab.page.target_id())
            .finish_non_exhaustive()
    }
}

impl VerificationPage {
    /// The page, for driving it programmatically (tests, kiosks).
    pub fn page(&self) -> &Page {
        &self.tab.page
    }

    /// Waits with [`Payments::wait_for_verification`] (up to `timeout`) until the payment is
    /// made or fails, or until the person closes the window ([`BrowserError::Abandoned`]),
    /// then closes the tab.
    pub async fn wait(
        mut self,
        payments: &Payments,
        verification: Verification,
        timeout: Duration,
    ) -> Result<Paid, BrowserError> {
        let pending = pending_of(&verification);
        let outcome = payments.wait_for_verification(&verification, timeout);
        tokio::pin!(outcome);
        let result = tokio::select! {
            result = &mut outcome => result.map_err(BrowserError::from),
            () = self.tab.closed() => {
                match tokio::time::timeout(ABANDON_GRACE, &mut outcome).await {
                    Ok(result) => result.map_err(BrowserError::from),
                    Err(_) => Err(BrowserError::Abandoned { pending: Box::new(pending) }),
                }
            }
        };
        self.tab.linger().await;
        self.tab.close().await;
        result
    }
}

/// The Chromium [`WebBrowser::launch`] would run without [`BrowserOptions::executable`]:
/// `CHROME`, then the [`PATH_NAMES`] on `PATH`, then [`FALLBACK`]. Lets a program say up front
/// that web payments are unavailable, and why ([`BrowserError::NotFound`] says how to install
/// Chromium).
pub fn find_chromium() -> Result<PathBuf, BrowserError> {
    locate::find(None)
}

/// Launches a browser, collects the card details from the payment page at `url` (see
/// [`WebBrowser::collect_credentials`]) and closes the browser, whatever the outcome.
pub async fn collect_credentials(
    url: &str,
    options: &BrowserOptions,
    timeout: Duration,
) -> Result<WebCredentials, BrowserError> {
    let browser = WebBrowser::launch(options).await?;
    let result = browser.collect_credentials(url, timeout).await;
    browser.close().await;
    result
}

/// Launches a browser, runs the 3-D Secure page (see [`WebBrowser::verify`]) and closes the
/// browser, whatever the outcome.
pub async fn verify(
    payments: &Payments,
    verification: Verification,
    options: &BrowserOptions,
    timeout: Duration,
) -> Result<Paid, BrowserError> {
    let browser = match WebBrowser::launch(options).await {
        Ok(browser) => browser,
        Err(error) => return Err(not_shown(&verification, error)),
    };
    let result = browser.verify(payments, verification, timeout).await;
    browser.close().await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http_is_opened() {
        for good in [
            "https://pay.example.com/form/1",
            "http://127.0.0.1:8081/pay/1",
            "http://127.9.9.9/x",
            "http://localhost:3000/pay",
            "http://[::1]:8080/3ds/abc",
        ] {
            assert!(check_url(good).is_ok(), "{good}");
        }
        for (bad, reason) in [
            ("http://pay.example.com/form/1", "https"),
            ("http://10.0.0.1/pay", "https"),
            ("file:///etc/passwd", "https"),
            ("javascript:alert(1)", "https"),
            ("/pay/1", "absolute"),
            ("", "absolute"),
        ] {
            let err = check_url(bad).unwrap_err();
            assert!(
                matches!(&err, BrowserError::UrlRefused { url, .. } if url == bad),
                "{err:?}"
            );
            assert!(err.to_string().contains(reason), "{err}");
        }
    }

    #[test]
    fn options_build_the_launch_flags() {
        let dir = std::env::temp_dir();
        let options = BrowserOptions::headless().arg("--lang=de");
        assert!(options.is_headless());
        assert!(!BrowserOptions::default().is_headless());
        let config = config(&options, Path::new("/usr/bin/chromium"), &dir).unwrap();
        let shown = format!("{config:?}");
        for flag in FLAGS.iter().chain(&["--lang=de"]) {
            let key = flag
                .trim_start_matches('-')
                .split('=')
                .next()
                .unwrap_or_default();
            assert!(
                shown.contains(&format!("key: \"{key}\"")),
                "{flag} in {shown}"
            );
        }
        assert!(!shown.contains("key: \"-"), "{shown}");
    }

    #[test]
    fn timeout_names_a_rejected_event() {
        let plain = BrowserError::Timeout {
            waited: Duration::from_secs(2),
            rejected: None,
        };
        assert_eq!(
            plain.to_string(),
            "the payment page sent no card details within 2s: nothing was paid"
        );
        let rejected = BrowserError::Timeout {
            waited: Duration::from_secs(2),
            rejected: Some(CredentialsError::NotObject {
                what: "credentials",
            }),
        };
        assert!(
            rejected.to_string().contains("payment_form_submit"),
            "{rejected}"
        );
    }
}
