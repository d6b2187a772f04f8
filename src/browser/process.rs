//! Starting Chromium: the DevTools pipe on file descriptors 3 and 4, a parent-death signal, its
//! own process group, and (for a root tgpay) a user namespace in which Chromium is not root, so
//! that its sandbox can start.
//!
//! This is the crate's one module with `unsafe` code: the hook that runs in the child between
//! `fork` and `exec` (`pre_exec`), and the few libc calls around it. The hook only makes
//! async-signal-safe system calls on memory prepared before the fork.

#![allow(unsafe_code)]

use std::ffi::{CString, OsString};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;
use std::process::Stdio;
use std::sync::OnceLock;

use tokio::net::unix::pipe;

/// The user id and group id Chromium has inside the user namespace it runs in when tgpay runs
/// as root (any id but 0 will do: Chromium refuses to run as root with its sandbox on).
pub(crate) const NAMESPACE_ID: u32 = 1000;

/// A Chromium process with the two ends of its DevTools pipe.
pub(crate) struct Spawned {
    /// The process (killed when dropped).
    pub child: tokio::process::Child,
    /// Where commands go (Chromium reads them on its fd 3).
    pub to_browser: pipe::Sender,
    /// Where answers and events come from (Chromium writes them on its fd 4).
    pub from_browser: pipe::Receiver,
}

/// What the child does between fork and exec, prepared in the parent.
struct ChildSetup {
    commands: i32,
    answers: i32,
    parent: libc::pid_t,
    /// `Some` to enter a new user namespace and map the current ids to [`NAMESPACE_ID`].
    namespace: Option<NamespaceMaps>,
}

struct NamespaceMaps {
    setgroups: CString,
    uid_map_path: CString,
    gid_map_path: CString,
    uid_map: Vec<u8>,
    gid_map: Vec<u8>,
}

impl NamespaceMaps {
    fn for_current_ids() -> NamespaceMaps {
        // SAFETY: getuid and getgid have no preconditions.
        let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
        NamespaceMaps {
            setgroups: c"/proc/self/setgroups".to_owned(),
            uid_map_path: c"/proc/self/uid_map".to_owned(),
            gid_map_path: c"/proc/self/gid_map".to_owned(),
            uid_map: format!("{NAMESPACE_ID} {uid} 1\n").into_bytes(),
            gid_map: format!("{NAMESPACE_ID} {gid} 1\n").into_bytes(),
        }
    }
}

/// Writes `data` to the file at `path`, with only async-signal-safe calls.
fn write_file(path: &CString, data: &[u8]) -> io::Result<()> {
    // SAFETY: `path` is a valid NUL-terminated string; the descriptor is closed below.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `data` is valid for `data.len()` bytes.
    let written = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
    let error = io::Error::last_os_error();
    // SAFETY: `fd` was opened above.
    unsafe { libc::close(fd) };
    if usize::try_from(written).ok() == Some(data.len()) {
        Ok(())
    } else {
        Err(error)
    }
}

fn check(result: libc::c_int) -> io::Result<libc::c_int> {
    if result < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(result)
    }
}

impl ChildSetup {
    /// Runs in the child after fork: async-signal-safe system calls only, no allocation.
    fn run(&self) -> io::Result<()> {
        if let Some(maps) = &self.namespace {
            // SAFETY: unshare takes flags only.
            check(unsafe { libc::unshare(libc::CLONE_NEWUSER) })?;
            write_file(&maps.setgroups, b"deny")?;
            write_file(&maps.uid_map_path, &maps.uid_map)?;
            write_file(&maps.gid_map_path, &maps.gid_map)?;
        }
        // The browser is killed when the thread that started it exits (tgpay's runtime ends,
        // or tgpay is killed, even with SIGKILL). If the parent is already gone, give up.
        // SAFETY: prctl(PR_SET_PDEATHSIG) takes a signal number.
        check(unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) })?;
        // SAFETY: getppid has no preconditions.
        if unsafe { libc::getppid() } != self.parent {
            return Err(io::Error::from_raw_os_error(libc::ESRCH));
        }
        // The pipe's ends become fds 3 and 4 (dup2 clears close-on-exec on the copies). Copy
        // them above 4 first, in case they already are 3 or 4.
        // SAFETY: fcntl and dup2 on descriptors this process owns.
        unsafe {
            let commands = check(libc::fcntl(self.commands, libc::F_DUPFD_CLOEXEC, 10))?;
            let answers = check(libc::fcntl(self.answers, libc::F_DUPFD_CLOEXEC, 10))?;
            check(libc::dup2(commands, 3))?;
            check(libc::dup2(answers, 4))?;
        }
        Ok(())
    }
}

/// Starts `executable` with `args`, the DevTools pipe on fds 3 and 4, in its own process
/// group, killed if tgpay dies; inside a new user namespace if `user_namespace`.
pub(crate) fn spawn(
    executable: &Path,
    args: &[OsString],
    user_namespace: bool,
) -> io::Result<Spawned> {
    let (to_browser, commands) = pipe::pipe()?;
    let (answers, from_browser) = pipe::pipe()?;
    // Chromium reads and writes its ends with blocking calls.
    let commands: OwnedFd = commands.into_blocking_fd()?;
    let answers: OwnedFd = answers.into_blocking_fd()?;
    let setup = ChildSetup {
        commands: commands.as_raw_fd(),
        answers: answers.as_raw_fd(),
        // SAFETY: getpid has no preconditions.
        parent: unsafe { libc::getpid() },
        namespace: user_namespace.then(NamespaceMaps::for_current_ids),
    };
    let mut command = tokio::process::Command::new(executable);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    // SAFETY: the hook makes async-signal-safe system calls only, on memory prepared above.
    unsafe {
        command.pre_exec(move || setup.run());
    }
    let child = command.spawn()?;
    // The child has its copies; the parent's must close for end-of-file to be seen.
    drop(commands);
    drop(answers);
    Ok(Spawned {
        child,
        to_browser,
        from_browser,
    })
}

/// Sends SIGKILL to the process group `pgid` (Chromium and every helper process it started).
pub(crate) fn kill_group(pgid: u32) {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else {
        return;
    };
    if pgid > 1 {
        // SAFETY: kill takes a process group and a signal number.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
    }
}

/// Whether tgpay runs as root.
pub(crate) fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Whether this process may create a user namespace (the kernel allows it, no seccomp filter or
/// security module forbids it). Tried once, in a forked child that never executes anything.
pub(crate) fn user_namespaces_work() -> bool {
    static WORKS: OnceLock<bool> = OnceLock::new();
    *WORKS.get_or_init(|| {
        // The child reports through the error of the hook: ECANCELED when unshare worked (the
        // program is then not run), unshare's own error otherwise.
        let mut probe = std::process::Command::new("/proc/self/exe");
        probe
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: the hook makes one system call (unshare) and builds an io::Error from an
        // integer, which does not allocate.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut probe, || {
                if libc::unshare(libc::CLONE_NEWUSER) == 0 {
                    Err(io::Error::from_raw_os_error(libc::ECANCELED))
                } else {
                    Err(io::Error::last_os_error())
                }
            });
        }
        match probe.spawn() {
            Err(error) => error.raw_os_error() == Some(libc::ECANCELED),
            Ok(mut child) => {
                let _ = child.kill();
                let _ = child.wait();
                false
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_maps_map_the_current_ids_to_a_non_root_id() {
        let maps = NamespaceMaps::for_current_ids();
        let uid = unsafe { libc::geteuid() };
        assert_eq!(maps.uid_map, format!("1000 {uid} 1\n").into_bytes());
        assert_eq!(maps.setgroups.as_bytes(), b"/proc/self/setgroups");
    }

    #[test]
    fn the_probe_answers_the_same_as_unshare() {
        let works = user_namespaces_work();
        assert_eq!(works, user_namespaces_work());
        // Cross-check with util-linux's unshare where it is installed.
        if let Ok(status) = std::process::Command::new("unshare")
            .args(["--user", "true"])
            .stderr(Stdio::null())
            .status()
        {
            assert_eq!(works, status.success());
        }
    }
}
