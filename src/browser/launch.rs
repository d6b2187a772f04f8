//! What Chromium is started with: its flags, its private profile directory, and whether its
//! sandbox is on.

use std::ffi::OsString;
use std::path::Path;

use super::{BrowserError, BrowserOptions, FLAGS};

/// Whether Chromium runs with its own sandbox (the default), or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum BrowserSandbox {
    /// On wherever it can work; off only where it cannot (tgpay runs as root and no user
    /// namespace can be made), and then [`WebBrowser::sandbox`](super::WebBrowser::sandbox)
    /// says why.
    #[default]
    Auto,
    /// Always on: [`BrowserError::SandboxUnavailable`] where it cannot work.
    On,
    /// Always off (`--no-sandbox`): the pages run with tgpay's own rights. For systems where
    /// the sandbox cannot start for reasons tgpay does not detect.
    Off,
}

impl std::str::FromStr for BrowserSandbox {
    type Err = String;

    /// `auto`, `on` or `off`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "auto" => Ok(BrowserSandbox::Auto),
            "on" => Ok(BrowserSandbox::On),
            "off" => Ok(BrowserSandbox::Off),
            other => Err(format!(
                "{other:?} is not a sandbox mode: use auto, on or off"
            )),
        }
    }
}

/// Whether a running browser has its sandbox, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SandboxState {
    /// Chromium's sandbox is on. `user_namespace`: Chromium was started in a user namespace of
    /// its own, where it is not root (tgpay runs as root; Chromium refuses to sandbox itself as
    /// root).
    On {
        /// Whether tgpay made a user namespace for it.
        user_namespace: bool,
    },
    /// Chromium runs without its sandbox.
    Off(SandboxOff),
}

/// Why Chromium runs without its sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SandboxOff {
    /// It was asked for ([`BrowserSandbox::Off`], `--browser-sandbox off`).
    Requested,
    /// tgpay runs as root and this system cannot make user namespaces, which Chromium's
    /// sandbox needs when started by root.
    RootWithoutUserNamespaces,
    /// This system can make no user namespaces and Chromium has no setuid sandbox helper.
    NoUserNamespaces,
}

impl std::fmt::Display for SandboxOff {
    /// One line that says why.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SandboxOff::Requested => "the sandbox was turned off (--browser-sandbox off)",
            SandboxOff::RootWithoutUserNamespaces => {
                "tgpay runs as root and this system cannot create user namespaces, which \
                 Chromium's sandbox needs then; run tgpay as a normal user, or allow user \
                 namespaces"
            }
            SandboxOff::NoUserNamespaces => {
                "this system cannot create user namespaces and Chromium has no setuid sandbox \
                 helper; allow user namespaces, or install Chromium's chrome-sandbox helper"
            }
        })
    }
}

/// The sandbox for `mode` on a system where tgpay runs as root (`root`), user namespaces
/// can be made (`user_namespaces`) and Chromium has a setuid sandbox helper (`setuid_helper`).
pub(crate) fn sandbox_state(
    mode: BrowserSandbox,
    root: bool,
    user_namespaces: bool,
    setuid_helper: bool,
) -> Result<SandboxState, BrowserError> {
    let off = match mode {
        BrowserSandbox::Off => return Ok(SandboxState::Off(SandboxOff::Requested)),
        _ if root && user_namespaces => {
            return Ok(SandboxState::On {
                user_namespace: true,
            });
        }
        _ if !root && (user_namespaces || setuid_helper) => {
            return Ok(SandboxState::On {
                user_namespace: false,
            });
        }
        _ if root => SandboxOff::RootWithoutUserNamespaces,
        _ => SandboxOff::NoUserNamespaces,
    };
    match mode {
        BrowserSandbox::On => Err(BrowserError::SandboxUnavailable { why: off }),
        _ => Ok(SandboxState::Off(off)),
    }
}

/// Whether Chromium at `executable` has a setuid-root `chrome-sandbox` beside it (Google
/// Chrome's packages install one), or `CHROME_DEVEL_SANDBOX` names one.
pub(crate) fn has_setuid_helper(executable: &Path) -> bool {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let beside = executable
        .canonicalize()
        .ok()
        .and_then(|path| Some(path.parent()?.join("chrome-sandbox")));
    let named = std::env::var_os("CHROME_DEVEL_SANDBOX").map(Into::into);
    [beside, named].into_iter().flatten().any(|helper| {
        std::fs::metadata(helper)
            .is_ok_and(|m| m.uid() == 0 && m.permissions().mode() & 0o4000 != 0)
    })
}

/// Chromium's command line: [`FLAGS`], the DevTools pipe, the profile, the window, the
/// sandbox, the caller's own flags, and a blank first page.
pub(crate) fn args(
    options: &BrowserOptions,
    profile: &Path,
    sandbox: SandboxState,
) -> Vec<OsString> {
    let mut args: Vec<OsString> = FLAGS.iter().map(OsString::from).collect();
    args.push("--remote-debugging-pipe".into());
    let mut profile_arg = OsString::from("--user-data-dir=");
    profile_arg.push(profile);
    args.push(profile_arg);
    let (width, height) = options.window_size;
    args.push(format!("--window-size={width},{height}").into());
    if options.headless {
        args.push("--headless=new".into());
    }
    if matches!(sandbox, SandboxState::Off(_)) {
        args.push("--no-sandbox".into());
    }
    args.extend(options.args.iter().map(OsString::from));
    args.push("about:blank".into());
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sandbox_is_off_only_where_it_cannot_work() {
        use BrowserSandbox::{Auto, Off, On};
        let on = |user_namespace| Ok(SandboxState::On { user_namespace });
        for (mode, root, userns, helper, expected) in [
            (Auto, false, true, false, on(false)),
            (Auto, false, false, true, on(false)),
            (Auto, true, true, false, on(true)),
            (On, true, true, true, on(true)),
            (
                Auto,
                true,
                false,
                true,
                Ok(SandboxState::Off(SandboxOff::RootWithoutUserNamespaces)),
            ),
            (
                Auto,
                false,
                false,
                false,
                Ok(SandboxState::Off(SandboxOff::NoUserNamespaces)),
            ),
            (
                Off,
                false,
                true,
                true,
                Ok(SandboxState::Off(SandboxOff::Requested)),
            ),
            (
                Off,
                true,
                true,
                false,
                Ok(SandboxState::Off(SandboxOff::Requested)),
            ),
        ] {
            let got = sandbox_state(mode, root, userns, helper).map_err(|e| e.to_string());
            assert_eq!(got, expected, "{mode:?} root={root} userns={userns}");
        }
        let err = sandbox_state(On, true, false, false).unwrap_err();
        assert!(
            matches!(
                err,
                BrowserError::SandboxUnavailable {
                    why: SandboxOff::RootWithoutUserNamespaces
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("--browser-sandbox off"), "{err}");
        assert!(
            SandboxOff::RootWithoutUserNamespaces
                .to_string()
                .contains("user namespaces")
        );
    }

    #[test]
    fn modes_parse() {
        assert_eq!("auto".parse(), Ok(BrowserSandbox::Auto));
        assert_eq!("on".parse(), Ok(BrowserSandbox::On));
        assert_eq!("off".parse(), Ok(BrowserSandbox::Off));
        assert!("maybe".parse::<BrowserSandbox>().is_err());
    }

    #[test]
    fn the_command_line_has_the_pipe_and_no_port() {
        let options = BrowserOptions::headless().arg("--lang=de");
        let dir = Path::new("/tmp/tgpay-chromium-x");
        let sandboxed = args(
            &options,
            dir,
            SandboxState::On {
                user_namespace: true,
            },
        );
        let shown: Vec<String> = sandboxed
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        for flag in FLAGS.iter().chain(&[
            "--remote-debugging-pipe",
            "--user-data-dir=/tmp/tgpay-chromium-x",
            "--headless=new",
            "--lang=de",
            "--window-size=560,860",
        ]) {
            assert!(shown.iter().any(|a| a == flag), "{flag} in {shown:?}");
        }
        assert!(!shown.iter().any(|a| a.contains("remote-debugging-port")));
        assert!(!shown.iter().any(|a| a.contains("no-sandbox")));
        assert_eq!(shown.last().map(String::as_str), Some("about:blank"));
        let unsandboxed = args(&options, dir, SandboxState::Off(SandboxOff::Requested));
        assert!(unsandboxed.iter().any(|a| a == "--no-sandbox"));
        let visible = args(
            &BrowserOptions::visible(),
            dir,
            SandboxState::On {
                user_namespace: false,
            },
        );
        assert!(!visible.iter().any(|a| a == "--headless=new"));
    }
}
