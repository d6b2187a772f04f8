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
//! println!("paying with {}", tgpay::text::sanitize(card.title()));
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
//! # What the relay guarantees
//!
//! - **A private browser.** Chromium is driven over `--remote-debugging-pipe` (file
//!   descriptors 3 and 4, as Playwright and Puppeteer launch it): no DevTools port, nothing
//!   another account on the machine can connect to. Its profile is a fresh directory of mode
//!   0700, removed when the browser closes.
//! - **Chromium's sandbox on** ([`BrowserSandbox::Auto`]): off only where it cannot work —
//!   tgpay runs as root and the system cannot make user namespaces — and then
//!   [`WebBrowser::sandbox`] says why. When tgpay runs as root, Chromium starts in a user
//!   namespace of its own where it is not root, so that its sandbox can start.
//! - **Credentials only from the provider's page.** `payment_form_submit` is taken only from
//!   the top frame, and only while the top-level URL is `https` (or plain `http` on loopback):
//!   the rule is checked on the first URL, on every redirect and on every navigation (each
//!   document request of the top frame is paused until it passes). A page that goes elsewhere
//!   ends the relay with [`BrowserError::NavigationRefused`]; a message posted by an iframe or
//!   from another origin is ignored and logged without its content.
//! - **The browser dies with tgpay.** It runs in its own process group, with a parent-death
//!   signal: even a tgpay killed with SIGKILL leaves no browser. [`WebBrowser::close`] (and
//!   dropping a [`WebBrowser`]) kills what is left and removes the profile.
//!
//! Chromium is found through `CHROME`, then `chromium`, `chromium-browser`, `google-chrome`
//! and `google-chrome-stable` on `PATH`, then `/usr/bin/chromium`; with none,
//! [`BrowserError::NotFound`] says how to install it. Card details typed into the page stay in
//! Chromium; what tgpay receives is the provider's token, held as a
//! [`Secret`](crate::secret::Secret) and never logged. Unix only.

mod bridge;
mod cdp;
mod error;
mod launch;
mod locate;
mod page;
mod process;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chromiumoxide_cdp::cdp::browser_protocol::browser::{CloseParams, GetVersionParams};
use tokio::io::AsyncBufReadExt;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use bridge::Bridge;
pub use cdp::CdpError;
/// The DevTools protocol's typed commands and events (chromiumoxide's generated types), for
/// [`Page::execute`].
pub use chromiumoxide_cdp::cdp as protocol;
pub use chromiumoxide_types::Command;
pub use error::BrowserError;
pub use launch::{BrowserSandbox, SandboxOff, SandboxState};
pub use locate::{FALLBACK, PATH_NAMES};
pub use page::Page;

use crate::checkout::{AmbiguityCause, AmbiguousPayment, Paid, Verification};
use crate::credentials::WebCredentials;
use crate::payments::Payments;
use crate::text::Escaped;
use page::{BridgeSetup, Signal, Tab};

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

/// How many of Chromium's last stderr lines a launch error quotes.
const STDERR_KEPT: usize = 12;

/// How to run the browser: a visible window for people, headless for scripts.
#[derive(Debug, Clone)]
pub struct BrowserOptions {
    headless: bool,
    executable: Option<PathBuf>,
    window_size: (u32, u32),
    launch_timeout: Duration,
    sandbox: BrowserSandbox,
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
            sandbox: BrowserSandbox::Auto,
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

    /// Chromium's own sandbox: [`BrowserSandbox::Auto`] (the default) has it on wherever it
    /// can work.
    pub fn sandbox(mut self, sandbox: BrowserSandbox) -> Self {
        self.sandbox = sandbox;
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

/// A running Chromium: open payment pages and 3-D Secure pages in it, then
/// [`close`](WebBrowser::close) it. Dropping it kills the browser and removes its profile.
pub struct WebBrowser {
    conn: Arc<cdp::Connection>,
    gone: watch::Receiver<bool>,
    tasks: [JoinHandle<()>; 2],
    pid: Option<u32>,
    headless: bool,
    sandbox: SandboxState,
    binding: String,
    profile: Option<tempfile::TempDir>,
    closed: bool,
}

impl std::fmt::Debug for WebBrowser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebBrowser")
            .field("pid", &self.pid)
            .field("headless", &self.headless)
            .field("sandbox", &self.sandbox)
            .finish_non_exhaustive()
    }
}

/// A private profile directory (mode 0700) for one browser.
fn private_profile() -> Result<tempfile::TempDir, BrowserError> {
    use std::os::unix::fs::PermissionsExt;
    let private = std::fs::Permissions::from_mode(0o700);
    let profile = tempfile::Builder::new()
        .prefix("tgpay-chromium-")
        .permissions(private.clone())
        .tempdir()
        .map_err(|source| BrowserError::Profile { source })?;
    // The mode is set again in case a umask or the filesystem changed it.
    std::fs::set_permissions(profile.path(), private)
        .map_err(|source| BrowserError::Profile { source })?;
    Ok(profile)
}

/// Removes a profile directory; Chromium's helpers may still be writing to it for a moment
/// after the browser exits, so a failed removal is tried again.
fn remove_profile(profile: tempfile::TempDir) {
    let path = profile.path().to_owned();
    let mut result = profile.close();
    for _ in 0..20 {
        if result.is_ok() || !path.exists() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
        result = std::fs::remove_dir_all(&path);
    }
    if let Err(error) = result {
        tracing::warn!(%error, path = %path.display(), "Chromium's profile directory was not removed");
    }
}

impl WebBrowser {
    /// Finds Chromium and starts it with a fresh private profile, its DevTools protocol on a
    /// pipe, and its sandbox as [`BrowserOptions::sandbox`] says.
    pub async fn launch(options: &BrowserOptions) -> Result<WebBrowser, BrowserError> {
        let executable = locate::find(options.executable.as_deref())?;
        if !options.headless && !has_display() {
            return Err(BrowserError::NoDisplay);
        }
        let root = process::is_root();
        let sandbox = launch::sandbox_state(
            options.sandbox,
            root,
            process::user_namespaces_work(),
            !root && launch::has_setuid_helper(&executable),
        )?;
        if let SandboxState::Off(why) = sandbox {
            tracing::info!(%why, "Chromium runs without its sandbox");
        }
        let profile = private_profile()?;
        let args = launch::args(options, profile.path(), sandbox);
        let user_namespace = matches!(
            sandbox,
            SandboxState::On {
                user_namespace: true
            }
        );
        let launch_error = |reason: String| BrowserError::Launch {
            path: executable.clone(),
            reason,
        };
        let mut spawned = process::spawn(&executable, &args, user_namespace)
            .map_err(|e| launch_error(e.to_string()))?;
        let pid = spawned.child.id();
        let stderr_tail = Arc::new(Mutex::new(std::collections::VecDeque::new()));
        let stderr = spawned.child.stderr.take();
        let logger = tokio::spawn({
            let tail = Arc::clone(&stderr_tail);
            async move {
                let Some(stderr) = stderr else { return };
                let mut lines = tokio::io::BufReader::new(stderr).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    tracing::debug!(target: "tgpay::browser::chromium", "{}", Escaped(&line));
                    let mut tail = tail
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    if tail.len() == STDERR_KEPT {
                        tail.pop_front();
                    }
                    tail.push_back(line);
                }
            }
        });
        let conn = Arc::new(cdp::Connection::new(
            spawned.to_browser,
            spawned.from_browser,
        ));
        let (gone_tx, gone) = watch::channel(false);
        let mut child = spawned.child;
        let waiter = tokio::spawn({
            let conn = Arc::clone(&conn);
            async move {
                tokio::select! {
                    _ = child.wait() => {}
                    () = conn.wait_closed() => {
                        // The pipe closed first: give the process a moment, then end it.
                        if tokio::time::timeout(Duration::from_secs(2), child.wait()).await.is_err() {
                            let _ = child.start_kill();
                            let _ = child.wait().await;
                        }
                    }
                }
                gone_tx.send_replace(true);
            }
        });
        let mut browser = WebBrowser {
            conn,
            gone,
            tasks: [waiter, logger],
            pid,
            headless: options.headless,
            sandbox,
            binding: random_binding(),
            profile: Some(profile),
            closed: false,
        };
        let ready = browser.conn.call(None, GetVersionParams::default());
        let ready = tokio::time::timeout(options.launch_timeout, ready).await;
        if let Ok(Ok(_)) = ready {
            tracing::debug!(?pid, path = ?executable, headless = options.headless, ?sandbox, "Chromium started");
            return Ok(browser);
        }
        browser.shut_down().await;
        let tail: Vec<String> = stderr_tail
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .cloned()
            .collect();
        let said = tail.join(" | ");
        if said.contains("No usable sandbox") || said.contains("without --no-sandbox") {
            return Err(BrowserError::SandboxUnavailable {
                why: if root {
                    SandboxOff::RootWithoutUserNamespaces
                } else {
                    SandboxOff::NoUserNamespaces
                },
            });
        }
        let why = match ready {
            Err(_) => format!(
                "no answer on its DevTools pipe within {:?}",
                options.launch_timeout
            ),
            Ok(Err(error)) => error.to_string(),
            Ok(Ok(_)) => String::new(),
        };
        Err(launch_error(if said.is_empty() {
            why
        } else {
            format!("{why}; it said: {said}")
        }))
    }

    /// The browser's process id.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// Whether the browser runs with its sandbox, and if not, why (tell the person).
    pub fn sandbox(&self) -> SandboxState {
        self.sandbox
    }

    /// The browser's private profile directory (removed when it closes).
    pub fn profile_dir(&self) -> Option<&std::path::Path> {
        self.profile.as_ref().map(tempfile::TempDir::path)
    }

    /// Whether the browser runs headless.
    pub fn is_headless(&self) -> bool {
        self.headless
    }

    /// Whether the browser has exited (closed by the person, or crashed).
    pub fn has_exited(&self) -> bool {
        *self.gone.borrow() || self.conn.is_closed()
    }

    /// Opens the provider's payment page (a card form's [`url`](crate::CardForm::url), or an
    /// additional method's) in a new tab with the webview bridge in place, and returns once it
    /// has loaded. Wait for the card with [`PaymentPage::wait`].
    pub async fn open_payment_form(&self, url: &str) -> Result<PaymentPage, BrowserError> {
        let tab = self
            .open_tab(
                url,
                Some(BridgeSetup {
                    binding: &self.binding,
                }),
            )
            .await?;
        Ok(PaymentPage { tab })
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
        let tab = self.open_tab(url, None).await?;
        Ok(VerificationPage { tab })
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

    /// Closes the browser, waits for its process to exit (killing it and its helpers if it
    /// does not), and removes its profile directory.
    pub async fn close(mut self) {
        self.shut_down().await;
    }

    async fn shut_down(&mut self) {
        if !self.has_exited() {
            let close = self.conn.call(None, CloseParams::default());
            let _ = tokio::time::timeout(Duration::from_secs(2), close).await;
        }
        let mut gone = self.gone.clone();
        if tokio::time::timeout(Duration::from_secs(5), gone.wait_for(|g| *g))
            .await
            .is_err()
        {
            self.kill();
            let _ = tokio::time::timeout(Duration::from_secs(2), gone.wait_for(|g| *g)).await;
        }
        // Whatever helper is left in the browser's process group goes too.
        self.kill();
        self.closed = true;
        tracing::debug!(pid = ?self.pid, "Chromium closed");
        if let Some(profile) = self.profile.take() {
            remove_profile(profile);
        }
    }

    fn kill(&self) {
        if let Some(pid) = self.pid {
            process::kill_group(pid);
        }
    }

    async fn open_tab(
        &self,
        url: &str,
        bridge: Option<BridgeSetup<'_>>,
    ) -> Result<Tab, BrowserError> {
        check_url(url)?;
        if self.has_exited() {
            return Err(BrowserError::Closed);
        }
        let tab = Tab::open(&self.conn, self.gone.clone(), self.headless, url, bridge).await?;
        tracing::debug!(url = %Escaped(url), "page opened");
        Ok(tab)
    }
}

impl Drop for WebBrowser {
    /// A browser dropped without [`close`](WebBrowser::close) is killed with its helpers, and
    /// its profile removed.
    fn drop(&mut self) {
        // After close, the process group is gone and its id may be reused: leave it alone.
        if !self.closed {
            self.kill();
        }
        self.tasks[1].abort();
        if let Some(profile) = self.profile.take() {
            remove_profile(profile);
        }
    }
}

fn random_binding() -> String {
    let mut binding = [0u8; 8];
    rand::fill(&mut binding[..]);
    format!("__tgpayBridge{}", hex::encode(binding))
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

/// The rule for every page the relay opens or follows: `https`, or plain `http` on this machine
/// (a local test server).
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

/// A provider's payment page open in the browser, with the webview bridge in place.
pub struct PaymentPage {
    tab: Tab,
}

impl std::fmt::Debug for PaymentPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentPage")
            .field("target", &self.tab.page.target_id())
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
    /// [`BrowserError::Timeout`] names it if nothing better comes. Events from other frames or
    /// origins never arrive here (see the module docs); a page that leaves the https-or-loopback
    /// rule ends the wait with [`BrowserError::NavigationRefused`].
    pub async fn wait(mut self, timeout: Duration) -> Result<Submission, BrowserError> {
        let deadline = crate::payments::deadline_after(timeout);
        let mut rejected = None;
        let result = loop {
            tokio::select! {
                signal = self.tab.next() => match signal {
                    Signal::Closed => break Err(BrowserError::Closed),
                    Signal::Refused { url, reason } => {
                        break Err(BrowserError::NavigationRefused { url, reason });
                    }
                    Signal::Loaded => {}
                    Signal::Web(event) => {
                        if event.event_type != WebCredentials::EVENT_TYPE {
                            tracing::debug!(event = %Escaped(&event.event_type), bridge = %event.bridge, "web event ignored");
                            continue;
                        }
                        match WebCredentials::from_event(&event.data) {
                            Ok(credentials) => {
                                tracing::debug!(card = %Escaped(credentials.title()), bridge = %event.bridge, "payment page sent the card");
                                break Ok(Submission { credentials, bridge: event.bridge });
                            }
                            Err(error) => {
                                tracing::warn!(%error, bridge = %event.bridge, "payment page posted payment_form_submit that cannot be used");
                                rejected = Some(error);
                            }
                        }
                    }
                },
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
            .field("target", &self.tab.page.target_id())
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
    /// then closes the tab. A bank page that leaves the https-or-loopback rule is closed at
    /// once ([`BrowserError::VerificationNotShown`]); the payment is left to reconcile.
    pub async fn wait(
        mut self,
        payments: &Payments,
        verification: Verification,
        timeout: Duration,
    ) -> Result<Paid, BrowserError> {
        let pending = pending_of(&verification);
        let url = verification.url.clone();
        let outcome = payments.wait_for_verification(&verification, timeout);
        tokio::pin!(outcome);
        let result = loop {
            tokio::select! {
                result = &mut outcome => break result.map_err(BrowserError::from),
                signal = self.tab.next() => match signal {
                    Signal::Closed => {
                        break match tokio::time::timeout(ABANDON_GRACE, &mut outcome).await {
                            Ok(result) => result.map_err(BrowserError::from),
                            Err(_) => Err(BrowserError::Abandoned { pending: Box::new(pending) }),
                        };
                    }
                    Signal::Refused { url: went, reason } => {
                        break Err(BrowserError::VerificationNotShown {
                            url,
                            pending: Box::new(pending),
                            source: Box::new(BrowserError::NavigationRefused { url: went, reason }),
                        });
                    }
                    Signal::Loaded | Signal::Web(_) => {}
                },
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
    use crate::credentials::CredentialsError;

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
            ("http://pay.evil.test/steal", "https"),
            ("http://10.0.0.1/pay", "https"),
            ("http://localhost.evil.test/pay", "https"),
            ("file:///etc/passwd", "https"),
            ("javascript:alert(1)", "https"),
            ("data:text/html,<p>pay</p>", "https"),
            ("about:blank", "https"),
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
    fn a_refused_navigation_says_nothing_was_sent() {
        let err = BrowserError::NavigationRefused {
            url: "http://pay.evil.test/".to_owned(),
            reason: "payment pages must use https (plain http only on this machine)",
        };
        let text = err.to_string();
        assert!(
            text.contains("nothing was sent and nothing was paid"),
            "{text}"
        );
        assert!(text.contains("http://pay.evil.test/"), "{text}");
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

    #[test]
    fn profiles_are_private_and_removed() {
        use std::os::unix::fs::PermissionsExt;
        let profile = private_profile().unwrap();
        let path = profile.path().to_owned();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "{mode:o}");
        std::fs::write(path.join("DevToolsActivePort"), "1\n/x").unwrap();
        remove_profile(profile);
        assert!(!path.exists());
    }
}
