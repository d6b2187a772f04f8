//! The command line's cargo-fuzz entry point (feature `fuzzing`): a session file's bytes must
//! give a typed error or a session, never a panic.

/// A session file's bytes.
pub fn session_file(data: &[u8]) {
    let _ = crate::session::decode(data);
}
