//! `FileSession`: the grammers session kept in a JSON file. Round trips, what is written when,
//! permissions, atomic replacement, corrupt files, and (with the sandbox) a grammers client
//! that keeps working from a reopened file.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use grammers_session::types::{
    ChannelState, DcOption, PeerAuth, PeerId, PeerInfo, UpdateState, UpdatesState,
};
use grammers_session::{Session, SessionData};
use tgpay_cli::session::{self, CorruptReason, FileSession, SessionError};

/// A fresh directory under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "tgpay-session-{tag}-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

const ME: i64 = 1_000_002;

fn key(seed: u8) -> [u8; 256] {
    let mut key = [0u8; 256];
    for (i, b) in key.iter_mut().enumerate() {
        *b = seed.wrapping_add(i as u8).wrapping_mul(31);
    }
    key
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn me() -> PeerInfo {
    PeerInfo::User {
        id: ME,
        auth: Some(PeerAuth::from_hash(-77)),
        bot: Some(false),
        is_self: Some(true),
    }
}

fn bot() -> PeerInfo {
    PeerInfo::User {
        id: 7_000_001,
        auth: Some(PeerAuth::from_hash(99)),
        bot: Some(true),
        is_self: Some(false),
    }
}

fn logged_in_data() -> SessionData {
    let mut data = session::production();
    data.home_dc = 4;
    if let Some(dc) = data.dc_options.get_mut(&4) {
        dc.auth_key = Some(key(1));
    }
    data.peer_infos.insert(me().id(), me());
    data.peer_infos.insert(bot().id(), bot());
    data.updates_state = UpdatesState {
        pts: 17,
        qts: 3,
        date: 1_700_000_000,
        seq: 9,
        channels: vec![ChannelState { id: 555, pts: 41 }],
    };
    data
}

#[tokio::test]
async fn round_trip_through_the_file() {
    let dir = TempDir::new("roundtrip");
    let path = dir.file("tgpay.session");
    let expected = logged_in_data();
    drop(FileSession::create(&path, logged_in_data()).unwrap());

    let reopened = FileSession::open(&path).unwrap();
    let data = reopened.session_data();
    assert_eq!(data.home_dc, 4);
    assert_eq!(data.dc_options, expected.dc_options);
    assert_eq!(data.dc_options[&4].auth_key, Some(key(1)));
    assert_eq!(data.updates_state, expected.updates_state);
    // The self user is kept; other peers are cached in memory only.
    assert_eq!(data.peer_infos.get(&me().id()), Some(&me()));
    assert!(!data.peer_infos.contains_key(&bot().id()));
    assert_eq!(reopened.self_user_id(), Some(ME));

    // The Session interface answers from the reopened state.
    assert_eq!(reopened.home_dc_id().unwrap(), 4);
    assert_eq!(
        reopened.dc_option(4).unwrap().and_then(|dc| dc.auth_key),
        Some(key(1))
    );
    assert_eq!(
        reopened.peer(PeerId::self_user()).await.unwrap(),
        Some(me())
    );
    assert_eq!(
        reopened
            .peer_ref(me().id())
            .await
            .unwrap()
            .map(|r| r.auth.hash()),
        Some(-77)
    );
    assert_eq!(
        reopened.updates_state().await.unwrap(),
        expected.updates_state
    );

    // The file is readable JSON in the documented shape.
    let text = fs::read_to_string(&path).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(json["home_dc"], 4);
    assert_eq!(json["self_user"]["id"], ME);
    assert_eq!(json["self_user"]["access_hash"], -77);
    assert_eq!(json["updates_state"]["channels"][0]["pts"], 41);
    let dc4 = json["dc_options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|dc| dc["id"] == 4)
        .unwrap();
    assert_eq!(dc4["auth_key"], hex(&key(1)));
    assert_eq!(dc4["ipv4"], "149.154.167.92:443");
}

#[test]
fn a_missing_file_is_a_fresh_production_session_and_is_not_created_until_a_change() {
    let dir = TempDir::new("missing");
    let path = dir.file("new.session");
    let session = FileSession::open(&path).unwrap();
    let data = session.session_data();
    let fresh = session::production();
    assert_eq!(data.home_dc, fresh.home_dc);
    assert_eq!(data.dc_options, fresh.dc_options);
    assert_eq!(session.self_user_id(), None);
    drop(session);
    assert!(!path.exists(), "nothing changed, nothing written");
}

#[tokio::test]
async fn changes_that_matter_are_written_at_once_the_updates_state_on_save_or_drop() {
    let dir = TempDir::new("writes");
    let path = dir.file("s.json");
    let session = FileSession::open(&path).unwrap();

    // The first connection binds a key to the home DC.
    let mut dc2 = session.dc_option(2).unwrap().unwrap();
    dc2.auth_key = Some(key(2));
    session.set_dc_option(&dc2).await.unwrap();
    assert_eq!(
        FileSession::open(&path).unwrap().session_data().dc_options[&2].auth_key,
        Some(key(2))
    );

    // A migration during login.
    session.set_home_dc_id(5).await.unwrap();
    assert_eq!(FileSession::open(&path).unwrap().home_dc_id().unwrap(), 5);

    // Peers other than the self user are not written; the self user is.
    session.cache_peer(bot()).await.unwrap();
    assert_eq!(FileSession::open(&path).unwrap().self_user_id(), None);
    session.cache_peers(vec![bot(), me()]).await.unwrap();
    assert_eq!(FileSession::open(&path).unwrap().self_user_id(), Some(ME));
    assert_eq!(session.peer(PeerId::self_user()).await.unwrap(), Some(me()));
    assert_eq!(session.peer(bot().id()).await.unwrap(), Some(bot()));

    // Updates state: in memory at once, on disk with save().
    session
        .set_update_state(UpdateState::Primary {
            pts: 10,
            date: 1_700_000_100,
            seq: 2,
        })
        .await
        .unwrap();
    session
        .set_update_state(UpdateState::Channel { id: 9, pts: 4 })
        .await
        .unwrap();
    session
        .set_update_state(UpdateState::Secondary { qts: 6 })
        .await
        .unwrap();
    let expected = UpdatesState {
        pts: 10,
        qts: 6,
        date: 1_700_000_100,
        seq: 2,
        channels: vec![ChannelState { id: 9, pts: 4 }],
    };
    assert_eq!(session.updates_state().await.unwrap(), expected);
    assert_eq!(
        FileSession::open(&path)
            .unwrap()
            .session_data()
            .updates_state,
        UpdatesState::default()
    );
    session.save().unwrap();
    assert_eq!(
        FileSession::open(&path)
            .unwrap()
            .session_data()
            .updates_state,
        expected
    );

    // A whole new state (a login, an explicit sync) is written at once.
    let synced = UpdatesState {
        pts: 20,
        qts: 7,
        date: 1_700_000_150,
        seq: 5,
        channels: Vec::new(),
    };
    session
        .set_update_state(UpdateState::All(synced.clone()))
        .await
        .unwrap();
    assert_eq!(
        FileSession::open(&path)
            .unwrap()
            .session_data()
            .updates_state,
        synced
    );

    // And on drop.
    session
        .set_update_state(UpdateState::Primary {
            pts: 11,
            date: 1_700_000_200,
            seq: 3,
        })
        .await
        .unwrap();
    drop(session);
    assert_eq!(
        FileSession::open(&path)
            .unwrap()
            .session_data()
            .updates_state
            .pts,
        11
    );
}

#[tokio::test]
async fn setting_an_unchanged_value_does_not_rewrite_the_file() {
    let dir = TempDir::new("unchanged");
    let path = dir.file("s.json");
    let session = FileSession::create(&path, logged_in_data()).unwrap();
    // Replace the file behind the session's back: an unchanged set must not overwrite it.
    fs::write(&path, b"sentinel").unwrap();
    let dc4 = session.dc_option(4).unwrap().unwrap();
    session.set_dc_option(&dc4).await.unwrap();
    session.set_home_dc_id(4).await.unwrap();
    session.cache_peer(me()).await.unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"sentinel");
    // A real change does.
    let mut changed = dc4.clone();
    changed.auth_key = Some(key(9));
    session.set_dc_option(&changed).await.unwrap();
    assert_eq!(
        FileSession::open(&path).unwrap().session_data().dc_options[&4].auth_key,
        Some(key(9))
    );
}

#[tokio::test]
async fn a_new_self_user_replaces_the_old_one() {
    let dir = TempDir::new("relogin");
    let path = dir.file("s.json");
    let session = FileSession::create(&path, logged_in_data()).unwrap();
    let other = PeerInfo::User {
        id: 1_000_001,
        auth: Some(PeerAuth::from_hash(5)),
        bot: Some(false),
        is_self: Some(true),
    };
    session.cache_peer(other.clone()).await.unwrap();
    assert_eq!(
        session.peer(PeerId::self_user()).await.unwrap(),
        Some(other)
    );
    assert_eq!(
        FileSession::open(&path).unwrap().self_user_id(),
        Some(1_000_001)
    );
}

#[test]
fn test_dc_sessions_point_at_telegrams_test_servers() {
    let dir = TempDir::new("testdc");
    let path = dir.file("test.session");
    drop(FileSession::create(&path, session::test_dcs()).unwrap());
    let data = FileSession::open(&path).unwrap().session_data();
    assert_eq!(data.home_dc, 2);
    let mut ids: Vec<i32> = data.dc_options.keys().copied().collect();
    ids.sort();
    assert_eq!(ids, [1, 2, 3]);
    assert_eq!(data.dc_options[&2].ipv4.to_string(), "149.154.167.40:443");
    assert_eq!(
        data.dc_options[&1].ipv6.to_string(),
        "[2001:b28:f23d:f001::e]:443"
    );
}

#[cfg(unix)]
#[test]
fn the_file_is_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("perms");
    let path = dir.file("s.json");
    drop(FileSession::create(&path, logged_in_data()).unwrap());
    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "mode {mode:o}");

    // A file that became readable by others is restricted again when opened.
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    let session = FileSession::open(&path).unwrap();
    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "mode {mode:o}");

    // Rewrites keep it private.
    session.save().unwrap();
    drop(session);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    let session = FileSession::create(&path, session::production()).unwrap();
    drop(session);
    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "mode {mode:o}");
}

#[tokio::test]
async fn writes_replace_the_file_atomically_and_leave_nothing_behind() {
    let dir = TempDir::new("atomic");
    let path = dir.file("s.json");
    let session = FileSession::create(&path, session::production()).unwrap();
    for seed in 0..20u8 {
        let mut dc = session.dc_option(2).unwrap().unwrap();
        dc.auth_key = Some(key(seed));
        session.set_dc_option(&dc).await.unwrap();
        // Every intermediate file is complete.
        assert_eq!(
            FileSession::open(&path).unwrap().session_data().dc_options[&2].auth_key,
            Some(key(seed))
        );
    }
    drop(session);
    assert_eq!(dir.entries(), ["s.json"]);

    // A writer that crashed between writing its temporary file and renaming it leaves the
    // session file as it was.
    fs::write(
        dir.file(".s.json.0123456789abcdef.tmp"),
        br#"{"version": 1, "ho"#,
    )
    .unwrap();
    assert_eq!(
        FileSession::open(&path).unwrap().session_data().dc_options[&2].auth_key,
        Some(key(19))
    );
}

#[test]
fn a_failed_write_is_a_typed_error_and_leaves_no_partial_file() {
    let dir = TempDir::new("failwrite");
    // The rename cannot replace a non-empty directory: the write fails after the temporary
    // file was written.
    let blocked = dir.file("blocked.session");
    fs::create_dir(&blocked).unwrap();
    fs::write(blocked.join("keep"), b"x").unwrap();
    let err = FileSession::create(&blocked, logged_in_data()).unwrap_err();
    assert!(matches!(err, SessionError::Write { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("blocked.session"), "{message}");
    assert!(message.contains("writable"), "{message}");
    assert_eq!(dir.entries(), ["blocked.session"], "no temporary file left");
    assert_eq!(fs::read(blocked.join("keep")).unwrap(), b"x");

    // A directory that does not exist.
    let nowhere = dir.file("missing-dir").join("s.json");
    let err = FileSession::create(&nowhere, logged_in_data()).unwrap_err();
    assert!(matches!(err, SessionError::Write { .. }), "{err:?}");
    assert!(err.to_string().contains("missing-dir"), "{err}");
}

fn corrupt_reason(path: &Path) -> CorruptReason {
    match FileSession::open(path) {
        Err(SessionError::Corrupt { path: p, reason }) => {
            assert_eq!(p, path);
            reason
        }
        other => panic!("expected a corrupt-file error, got {other:?}"),
    }
}

#[test]
fn a_corrupt_file_is_a_typed_error_that_says_what_to_do() {
    let dir = TempDir::new("corrupt");
    let path = dir.file("s.json");
    drop(FileSession::create(&path, logged_in_data()).unwrap());
    let good = fs::read_to_string(&path).unwrap();
    let secret = hex(&key(1));
    assert!(good.contains(&secret));

    // Cut short in the middle of the auth key.
    let cut = good.find(&secret).unwrap() + 100;
    fs::write(&path, &good[..cut]).unwrap();
    assert!(matches!(
        corrupt_reason(&path),
        CorruptReason::Syntax { .. }
    ));
    let err = FileSession::open(&path).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("s.json"), "{message}");
    assert!(message.contains("delete it and log in again"), "{message}");
    assert!(!message.contains(&secret[..40]), "{message}");
    assert!(!format!("{err:?}").contains(&secret[..40]));

    fs::write(&path, b"\xff\xfe not json").unwrap();
    assert!(matches!(
        corrupt_reason(&path),
        CorruptReason::Syntax { .. }
    ));

    fs::write(&path, b"").unwrap();
    assert_eq!(corrupt_reason(&path), CorruptReason::Empty);

    // Valid JSON, wrong shape: a key one hex digit short, a key that is not hex, a missing
    // field, a home DC without options, an address that does not parse.
    let short = good.replace(&secret, &secret[1..]);
    fs::write(&path, &short).unwrap();
    assert!(matches!(corrupt_reason(&path), CorruptReason::Data { .. }));
    let err = FileSession::open(&path).unwrap_err().to_string();
    assert!(!err.contains(&secret[1..41]), "{err}");

    let not_hex = good.replace(&secret, &format!("zz{}", &secret[2..]));
    fs::write(&path, &not_hex).unwrap();
    assert!(matches!(corrupt_reason(&path), CorruptReason::Data { .. }));

    let mut json: serde_json::Value = serde_json::from_str(&good).unwrap();
    json.as_object_mut().unwrap().remove("dc_options");
    fs::write(&path, json.to_string()).unwrap();
    assert!(matches!(corrupt_reason(&path), CorruptReason::Data { .. }));

    let mut json: serde_json::Value = serde_json::from_str(&good).unwrap();
    json["home_dc"] = 42.into();
    fs::write(&path, json.to_string()).unwrap();
    assert_eq!(corrupt_reason(&path), CorruptReason::HomeDcMissing);

    let mut json: serde_json::Value = serde_json::from_str(&good).unwrap();
    json["dc_options"][0]["ipv4"] = "not an address".into();
    fs::write(&path, json.to_string()).unwrap();
    assert!(matches!(corrupt_reason(&path), CorruptReason::Data { .. }));

    let mut json: serde_json::Value = serde_json::from_str(&good).unwrap();
    let first = json["dc_options"][0].clone();
    json["dc_options"].as_array_mut().unwrap().push(first);
    fs::write(&path, json.to_string()).unwrap();
    assert_eq!(corrupt_reason(&path), CorruptReason::DuplicateDc);

    let mut json: serde_json::Value = serde_json::from_str(&good).unwrap();
    json["self_user"]["id"] = (-5).into();
    fs::write(&path, json.to_string()).unwrap();
    assert_eq!(corrupt_reason(&path), CorruptReason::SelfUserInvalid);

    // A newer format.
    let mut json: serde_json::Value = serde_json::from_str(&good).unwrap();
    json["version"] = 2.into();
    fs::write(&path, json.to_string()).unwrap();
    let err = FileSession::open(&path).unwrap_err();
    assert!(
        matches!(
            err,
            SessionError::UnsupportedVersion {
                found: 2,
                supported: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("upgrade tgpay"), "{err}");
}

#[test]
fn an_unreadable_file_is_a_typed_error() {
    let dir = TempDir::new("unreadable");
    let path = dir.file("a-directory");
    fs::create_dir(&path).unwrap();
    let err = FileSession::open(&path).unwrap_err();
    assert!(matches!(err, SessionError::Read { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("a-directory"), "{message}");
    assert!(message.contains("delete it and log in again"), "{message}");
}

#[test]
fn debug_never_shows_auth_keys() {
    let dir = TempDir::new("debug");
    let session = FileSession::create(dir.file("s.json"), logged_in_data()).unwrap();
    let shown = format!("{session:?}");
    assert!(shown.contains("home_dc: 4"), "{shown}");
    assert!(shown.contains("dcs_with_auth_key: [4]"), "{shown}");
    let k = key(1);
    assert!(!shown.contains(&hex(&k[..8])), "{shown}");
    assert!(
        !shown.contains(&format!("{}, {}, {}", k[0], k[1], k[2])),
        "{shown}"
    );
}

#[test]
fn dc_options_with_new_addresses_are_kept() {
    let dir = TempDir::new("addr");
    let path = dir.file("s.json");
    let mut data = session::production();
    data.dc_options.insert(
        7,
        DcOption {
            id: 7,
            ipv4: "10.1.2.3:8443".parse().unwrap(),
            ipv6: "[fe80::1]:8443".parse().unwrap(),
            auth_key: None,
        },
    );
    drop(FileSession::create(&path, data).unwrap());
    let back = FileSession::open(&path)
        .unwrap()
        .dc_option(7)
        .unwrap()
        .unwrap();
    assert_eq!(back.ipv4.to_string(), "10.1.2.3:8443");
    assert_eq!(back.ipv6.to_string(), "[fe80::1]:8443");
    assert_eq!(back.auth_key, None);
}

/// A grammers client over a `FileSession` made from a sandbox user's pre-shared key: it works,
/// and keeps working from the reopened file after everything was dropped.
#[tokio::test]
async fn a_grammers_client_over_a_file_session_survives_a_restart() {
    use std::sync::Arc;
    use std::time::Duration;

    use grammers_mtsender::ConnectionParams;
    use tgpay_sandbox::scenario::BOB;
    use tgpay_sandbox::{Sandbox, SandboxClient, Scenario};

    const WAIT: Duration = Duration::from_secs(10);
    let sandbox = Sandbox::start(Scenario::default_world()).await.unwrap();
    let dir = TempDir::new("sandbox");
    let path = dir.file("bob.session");

    let session = Arc::new(FileSession::create(&path, sandbox.session_data(BOB).unwrap()).unwrap());
    let client = SandboxClient::connect(Arc::clone(&session), ConnectionParams::default());
    assert!(
        tokio::time::timeout(WAIT, client.client.is_authorized())
            .await
            .unwrap()
            .unwrap()
    );
    let me = tokio::time::timeout(WAIT, client.client.get_me())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(me.id().bare_id(), Some(BOB));
    drop(client);
    drop(session);

    let session = Arc::new(FileSession::open(&path).unwrap());
    assert_eq!(
        session.session_data().dc_options[&sandbox.dc_id()]
            .ipv4
            .port(),
        sandbox.addr().port()
    );
    let client = SandboxClient::connect(session, ConnectionParams::default());
    assert!(
        tokio::time::timeout(WAIT, client.client.is_authorized())
            .await
            .unwrap()
            .unwrap()
    );
    let me = tokio::time::timeout(WAIT, client.client.get_me())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(me.id().bare_id(), Some(BOB));
    assert_eq!(me.first_name(), Some("Bob"));
    drop(client);
    sandbox.shutdown().await;
}

/// A login on a sandbox guest key, over a `FileSession`, survives a restart: the reopened file
/// knows the user and the client needs no new login.
mod login {
    use std::sync::Arc;
    use std::time::Duration;

    use grammers_client::{Client, SignInError};
    use grammers_mtsender::ConnectionParams;
    use tgpay::tl;
    use tgpay_cli::session::FileSession;
    use tgpay_sandbox::keys::UNBOUND_USER;
    use tgpay_sandbox::scenario::{ALICE, ALICE_PASSWORD, DEFAULT_LOGIN_CODE};
    use tgpay_sandbox::{Sandbox, SandboxClient, Scenario};
    use tokio::time::timeout;

    use super::TempDir;

    const WAIT: Duration = Duration::from_secs(10);
    const API_HASH: &str = "0123456789abcdef0123456789abcdef";
    const ALICE_PHONE: &str = "+1 555 000 0001";

    async fn sandbox() -> Sandbox {
        Sandbox::start(Scenario::default_world()).await.unwrap()
    }

    async fn is_authorized(client: &Client) -> bool {
        timeout(WAIT, client.is_authorized())
            .await
            .unwrap()
            .unwrap()
    }

    async fn get_me_id(client: &Client) -> Option<i64> {
        timeout(WAIT, client.get_me())
            .await
            .unwrap()
            .ok()
            .and_then(|me| me.id().bare_id())
    }

    async fn call<R: tl::RemoteCall>(
        client: &Client,
        request: &R,
    ) -> Result<R::Return, grammers_mtsender::InvocationError> {
        timeout(WAIT, client.invoke(request)).await.unwrap()
    }

    fn ebook_form() -> tl::functions::payments::GetPaymentForm {
        tl::functions::payments::GetPaymentForm {
            invoice: tl::types::InputInvoiceSlug {
                slug: "ebook".into(),
            }
            .into(),
            theme_params: None,
        }
    }

    #[tokio::test]
    async fn a_login_persists_through_a_file_session() {
        let sandbox = sandbox().await;
        let dir = TempDir::new("persist");
        let path = dir.0.join("alice.session");

        {
            let session = Arc::new(
                FileSession::create(&path, sandbox.guest_session_data(2).unwrap()).unwrap(),
            );
            let guest = SandboxClient::connect(Arc::clone(&session), ConnectionParams::default());
            let client = &guest.client;
            assert!(!is_authorized(client).await);
            assert_eq!(session.self_user_id(), None);
            let token = timeout(WAIT, client.request_login_code(ALICE_PHONE, API_HASH))
                .await
                .unwrap()
                .unwrap();
            let Err(SignInError::PasswordRequired(password_token)) =
                timeout(WAIT, client.sign_in(&token, DEFAULT_LOGIN_CODE))
                    .await
                    .unwrap()
            else {
                panic!("Alice has a 2FA password");
            };
            timeout(WAIT, client.check_password(password_token, ALICE_PASSWORD))
                .await
                .unwrap()
                .unwrap();
            // grammers cached the self user: the file has it already.
            assert_eq!(session.self_user_id(), Some(ALICE));
            assert_eq!(
                FileSession::open(&path).unwrap().self_user_id(),
                Some(ALICE)
            );
        }

        // Everything dropped; a new process would start here.
        let session = Arc::new(FileSession::open(&path).unwrap());
        assert_eq!(session.self_user_id(), Some(ALICE));
        assert!(session.session_data().updates_state.pts > 0);
        let restarted = SandboxClient::connect(session, ConnectionParams::default());
        let client = &restarted.client;
        assert!(is_authorized(client).await, "no new login needed");
        assert_eq!(get_me_id(client).await, Some(ALICE));
        call(client, &ebook_form())
            .await
            .expect("a payments call after the restart");
        assert_eq!(
            sandbox.world().call_count(UNBOUND_USER, "auth.sendCode"),
            1,
            "logged in once"
        );
        sandbox.shutdown().await;
    }
}
