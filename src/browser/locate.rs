//! Finding a Chromium to run: `CHROME`, then `chromium`, `chromium-browser`, `google-chrome`
//! and `google-chrome-stable` on `PATH`, then `/usr/bin/chromium`.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use super::BrowserError;

/// The program names looked up on `PATH`, in order.
pub const PATH_NAMES: [&str; 4] = [
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
];

/// Where Debian's `chromium` package puts the browser, tried last.
pub const FALLBACK: &str = "/usr/bin/chromium";

/// The browser to run: `explicit` if given, else what [`locate`] finds from the environment.
pub(crate) fn find(explicit: Option<&Path>) -> Result<PathBuf, BrowserError> {
    match explicit {
        Some(path) if is_executable(path) => Ok(path.to_owned()),
        Some(path) => Err(BrowserError::ExecutableInvalid {
            path: path.to_owned(),
        }),
        None => locate(
            std::env::var_os("CHROME").as_deref(),
            std::env::var_os("PATH").as_deref(),
            Path::new(FALLBACK),
        ),
    }
}

/// Finds the browser from the values of `CHROME` and `PATH`, falling back to `fallback`.
///
/// A non-empty `CHROME` wins: a path (with a `/`) must be an executable file, a bare name is
/// looked up on `PATH`; either way, a `CHROME` that leads nowhere is an error rather than a
/// reason to run some other browser.
pub(crate) fn locate(
    chrome: Option<&OsStr>,
    path: Option<&OsStr>,
    fallback: &Path,
) -> Result<PathBuf, BrowserError> {
    if let Some(chrome) = chrome.filter(|c| !c.is_empty()) {
        let given = Path::new(chrome);
        let found = if given.components().count() > 1 || given.is_absolute() {
            is_executable(given).then(|| given.to_owned())
        } else {
            on_path(chrome, path)
        };
        return found.ok_or_else(|| BrowserError::ChromeEnvInvalid {
            value: OsString::from(chrome).to_string_lossy().into_owned(),
        });
    }
    PATH_NAMES
        .iter()
        .find_map(|name| on_path(OsStr::new(name), path))
        .or_else(|| is_executable(fallback).then(|| fallback.to_owned()))
        .ok_or(BrowserError::NotFound)
}

fn on_path(name: &OsStr, path: Option<&OsStr>) -> Option<PathBuf> {
    std::env::split_paths(path?)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn program(dir: &Path, name: &str, mode: u32) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    #[test]
    fn path_names_are_tried_in_order_then_the_fallback() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let nowhere = a.path().join("no-such-browser");
        let path = std::env::join_paths([a.path(), b.path()]).unwrap();

        assert!(matches!(
            locate(None, Some(&path), &nowhere),
            Err(BrowserError::NotFound)
        ));
        let fallback = program(a.path(), "fallback", 0o755);
        assert_eq!(locate(None, Some(&path), &fallback).unwrap(), fallback);

        let chrome = program(b.path(), "google-chrome", 0o755);
        assert_eq!(locate(None, Some(&path), &nowhere).unwrap(), chrome);
        // `chromium` comes before `google-chrome`, even in a later PATH entry.
        let chromium = program(b.path(), "chromium", 0o755);
        assert_eq!(locate(None, Some(&path), &nowhere).unwrap(), chromium);
        // A file that is not executable is skipped.
        program(a.path(), "chromium-browser", 0o644);
        assert_eq!(locate(None, Some(&path), &nowhere).unwrap(), chromium);
    }

    #[test]
    fn chrome_wins_and_a_bad_chrome_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = std::env::join_paths([dir.path()]).unwrap();
        let chromium = program(dir.path(), "chromium", 0o755);
        let custom = program(dir.path(), "my-chrome", 0o755);
        let nowhere = dir.path().join("none");

        let chrome = custom.as_os_str();
        assert_eq!(locate(Some(chrome), Some(&path), &nowhere).unwrap(), custom);
        // A bare name is looked up on PATH.
        let by_name = OsStr::new("my-chrome");
        assert_eq!(
            locate(Some(by_name), Some(&path), &nowhere).unwrap(),
            custom
        );
        // Empty means unset.
        assert_eq!(
            locate(Some(OsStr::new("")), Some(&path), &nowhere).unwrap(),
            chromium
        );
        let missing = dir.path().join("missing-chrome");
        let err = locate(Some(missing.as_os_str()), Some(&path), &nowhere).unwrap_err();
        assert!(
            matches!(&err, BrowserError::ChromeEnvInvalid { value } if value.ends_with("missing-chrome")),
            "{err:?}"
        );
        assert!(err.to_string().contains("CHROME"), "{err}");
    }

    #[test]
    fn not_found_says_how_to_install() {
        let text = BrowserError::NotFound.to_string();
        assert!(text.contains("apt-get install chromium"), "{text}");
        assert!(text.contains("CHROME"), "{text}");
    }

    #[test]
    fn an_explicit_path_must_be_executable() {
        let dir = tempfile::tempdir().unwrap();
        let good = program(dir.path(), "browser", 0o700);
        assert_eq!(find(Some(&good)).unwrap(), good);
        let bad = program(dir.path(), "text", 0o600);
        assert!(matches!(
            find(Some(&bad)),
            Err(BrowserError::ExecutableInvalid { path }) if path == bad
        ));
    }
}
