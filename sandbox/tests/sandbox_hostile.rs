//! The sandbox as a shared network service, against hostile traffic through real sockets:
//! deeply nested TL values, floods of connections, oversized and slow packets, clients that
//! never read, containers of too many queries, and password guessing. After each, real clients
//! (an unmodified grammers `Client`) are still served.

#[path = "../../tests/common/mod.rs"]
mod common;
#[path = "support/raw.rs"]
mod raw;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use grammers_mtsender::{ConnectionParams, InvocationError, NoRetries};
use raw::Raw;
use tgpay::tl::{self, Identifiable, Serializable};
use tgpay_sandbox::scenario::{ALICE, ALICE_PASSWORD, BOB};
use tgpay_sandbox::world::{WRONG_PASSWORD_WAIT, WRONG_PASSWORDS_BEFORE_WAIT};
use tgpay_sandbox::{Sandbox, SandboxLimits, SandboxOptions, Scenario, ServerConfig, WebConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// A short limit, for tests of the deadlines.
const SHORT: Duration = Duration::from_millis(400);

async fn sandbox_with(server: ServerConfig, web: WebConfig) -> Sandbox {
    Sandbox::start_with_limits(
        Scenario::default_world(),
        SandboxOptions::default(),
        SandboxLimits::default().server(server).web(web),
    )
    .await
    .expect("the sandbox starts")
}

fn key_of(sandbox: &Sandbox, user: i64) -> [u8; 256] {
    *sandbox.user(user).unwrap().auth_key.expose_secret()
}

/// An unmodified grammers client gets answers: the sandbox is serving.
async fn served(sandbox: &Sandbox) {
    let bob = sandbox.client(BOB).unwrap();
    let status = call(
        &bob.client,
        &tl::functions::payments::GetStarsStatus {
            ton: false,
            peer: tl::enums::InputPeer::PeerSelf,
        },
    )
    .await
    .expect("a real client is served");
    let tl::enums::payments::StarsStatus::Status(status) = status;
    let tl::enums::StarsAmount::Amount(balance) = status.balance else {
        panic!("a Stars balance, got {:?}", status.balance);
    };
    assert_eq!(balance.amount, 10, "Bob's 10 Stars");
}

// ---------------------------------------------------------------------------------------------
// Deep nesting

/// A request written as raw bytes: what grammers sends is exactly these.
struct RawCall(Vec<u8>);

impl Serializable for RawCall {
    fn serialize(&self, buf: &mut impl Extend<u8>) {
        buf.extend(self.0.iter().copied());
    }
}

impl tl::RemoteCall for RawCall {
    type Return = tl::enums::Config;
}

/// `initConnection` whose `params` is a JSON array nested `depth` times, around
/// `help.getConfig`, built without recursion (grammers' own serializer recurses too).
fn deep_init_connection(depth: usize) -> Vec<u8> {
    let mut out =
        tl::functions::InitConnection::<tl::functions::help::GetConfig>::CONSTRUCTOR_ID.to_bytes();
    (1u32 << 1).serialize(&mut out); // flags: params present
    4i32.serialize(&mut out); // api_id
    for text in ["deep", "1", "1", "en", "", "en"] {
        text.to_owned().serialize(&mut out);
    }
    for _ in 0..depth {
        tl::types::JsonArray::CONSTRUCTOR_ID.serialize(&mut out);
        0x1cb5_c415u32.serialize(&mut out);
        1u32.serialize(&mut out);
    }
    tl::types::JsonNull::CONSTRUCTOR_ID.serialize(&mut out);
    tl::functions::help::GetConfig {}.serialize(&mut out);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deeply_nested_request_gets_an_error_and_the_sandbox_keeps_serving() {
    let sandbox = Sandbox::start(Scenario::default_world()).await.unwrap();
    let alice = sandbox.client_with(ALICE, no_retries()).unwrap();
    // The connection's first query (which grammers wraps in invokeWithLayer(initConnection)).
    call(&alice.client, &tl::functions::updates::GetState {})
        .await
        .unwrap();
    // The call, its params and two levels per array: `within` arrays are the most allowed.
    let within = (tl::nesting::MAX_DEPTH - 2) / 2;
    // 80 000 levels: 960 KB (grammers sends at most about 1 MB at once), which used to
    // overflow a worker's stack and abort the whole process.
    for depth in [80_000, within + 1] {
        let error = call(&alice.client, &RawCall(deep_init_connection(depth)))
            .await
            .expect_err("refused");
        match error {
            InvocationError::Rpc(e) => {
                assert_eq!((e.code, e.name.as_str()), (400, "INPUT_TOO_DEEP"))
            }
            other => panic!("expected INPUT_TOO_DEEP, got {other:?}"),
        }
    }
    assert_eq!(sandbox.stats().too_deep, 2);
    // Just within the limit (the params value is 3 levels below the call), it is decoded.
    let config = call(&alice.client, &RawCall(deep_init_connection(within)))
        .await
        .expect("a value within the limit is served");
    let tl::enums::Config::Config(config) = config;
    assert_eq!(config.this_dc, sandbox.dc_id());
    // The same connection and others go on.
    call(&alice.client, &tl::functions::updates::GetState {})
        .await
        .unwrap();
    served(&sandbox).await;
    sandbox.shutdown().await;
}

fn no_retries() -> ConnectionParams {
    ConnectionParams {
        retry_policy: Box::new(NoRetries),
        ..ConnectionParams::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Connections

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_limits_get_transport_error_429() {
    for (total, per_peer) in [(4, 100), (100, 4)] {
        let sandbox = sandbox_with(
            ServerConfig::default()
                .max_connections(total)
                .max_connections_per_peer(per_peer),
            WebConfig::default(),
        )
        .await;
        let key = key_of(&sandbox, BOB);
        let mut open = Vec::new();
        for _ in 0..4 {
            open.push(Raw::ready(sandbox.addr(), &key).await.unwrap());
        }
        // A flood of connections over the limit: each is told -429 and closed.
        for _ in 0..20 {
            let mut refused = Raw::connect(sandbox.addr(), &key).await.unwrap();
            refused.send(&[1, 2, 3, 4], true).await.unwrap();
            assert_eq!(refused.transport_error().await, Some(-429));
            assert!(refused.closed_within(Duration::from_secs(5)).await);
        }
        assert_eq!(sandbox.stats().refused_connections, 20);
        // Those already open are still served; a closed one frees its place.
        for raw in &mut open {
            assert!(raw.ping().await);
        }
        drop(open.pop());
        let mut again = None;
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            if let Ok(mut raw) = Raw::ready(sandbox.addr(), &key).await
                && raw.ping().await
            {
                again = Some(raw);
                break;
            }
        }
        assert!(again.is_some(), "a place was freed");
        drop(open);
        drop(again);
        sandbox.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_packet_closes_its_connection_before_it_is_buffered() {
    let sandbox = sandbox_with(
        ServerConfig::default().max_payload_len(64 * 1024),
        WebConfig::default(),
    )
    .await;
    let mut raw = Raw::ready(sandbox.addr(), &key_of(&sandbox, BOB))
        .await
        .unwrap();
    // Announces 1 MiB; sends only the length.
    raw.stream
        .write_all(&(1024u32 * 1024).to_le_bytes())
        .await
        .unwrap();
    assert!(raw.closed_within(Duration::from_secs(5)).await);
    assert_eq!(sandbox.stats().oversized_frames, 1);
    served(&sandbox).await;
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_senders_and_idle_connections_are_closed_in_time() {
    let sandbox = sandbox_with(
        ServerConfig::default()
            .frame_timeout(SHORT)
            .idle_timeout(SHORT * 3),
        WebConfig::default(),
    )
    .await;
    let addr = sandbox.addr();
    let key = key_of(&sandbox, BOB);

    // Fifty connections each send half of a packet, then a byte now and then.
    let mut slow = Vec::new();
    for _ in 0..50 {
        let mut raw = Raw::ready(addr, &key).await.unwrap();
        let (_, packet) = raw.packet(&tl::functions::Ping { ping_id: 7 }.to_bytes(), true);
        raw.stream
            .write_all(&packet[..packet.len() / 2])
            .await
            .unwrap();
        slow.push((raw, packet));
    }
    // One connects and says nothing at all.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let trickle = async {
        for step in 0..10 {
            for (raw, packet) in &mut slow {
                let at = packet.len() / 2 + step;
                let _ = raw.stream.write_all(&packet[at..at + 1]).await;
            }
            tokio::time::sleep(SHORT / 4).await;
        }
    };
    let (_, served_meanwhile) = tokio::join!(trickle, served(&sandbox));
    let () = served_meanwhile;
    for (raw, _) in &mut slow {
        assert!(raw.closed_within(Duration::from_secs(5)).await);
    }
    assert!(raw::closed_within(&mut silent, Duration::from_secs(5)).await);
    assert_eq!(sandbox.stats().slow_senders, 51);

    // A connection that was served and then goes quiet is closed after the idle time.
    let mut idle = Raw::ready(addr, &key).await.unwrap();
    assert!(idle.ping().await);
    assert!(idle.closed_within(Duration::from_secs(5)).await);
    assert!(sandbox.stats().idle_closed >= 1);
    served(&sandbox).await;
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_closed() {
    let sandbox = sandbox_with(
        ServerConfig::default().write_timeout(SHORT),
        WebConfig::default(),
    )
    .await;
    let addr = sandbox.addr();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(addr).await.unwrap();
    let mut raw = Raw::over(stream, &key_of(&sandbox, BOB));
    raw.stream.write_all(&[0xee; 4]).await.unwrap();
    raw.learn_salt().await.unwrap();
    // Queries whose answers are large, sent without ever reading an answer, until the server
    // gives up on the connection (the writes fail) or a bound is reached.
    let query = tl::functions::payments::GetStarsTopupOptions {}.to_bytes();
    let mut sent = 0;
    let start = tokio::time::Instant::now();
    while start.elapsed() < Duration::from_secs(20) && sent < 100_000 {
        let (_, packet) = raw.packet(&query, true);
        match timeout(Duration::from_secs(2), raw.stream.write_all(&packet)).await {
            Ok(Ok(())) => sent += 1,
            Ok(Err(_)) => break,
            Err(_) => {
                // The server stopped reading: it waits for the client to take its answers.
                if sandbox.stats().slow_readers > 0 {
                    break;
                }
            }
        }
    }
    let mut waited = 0;
    while sandbox.stats().slow_readers == 0 && waited < 100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
    }
    assert_eq!(sandbox.stats().slow_readers, 1, "after {sent} queries");
    served(&sandbox).await;
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_container_of_too_many_queries_gets_flood_wait_for_the_excess() {
    let sandbox = sandbox_with(
        ServerConfig::default().max_pending_requests(8),
        WebConfig::default(),
    )
    .await;
    let mut raw = Raw::ready(sandbox.addr(), &key_of(&sandbox, BOB))
        .await
        .unwrap();
    let query = tl::functions::help::GetNearestDc {}.to_bytes();
    let (ids, container) = raw.container(&vec![query; 12]);
    raw.send(&container, false).await.unwrap();
    let (mut results, mut floods) = (0, 0);
    while results + floods < ids.len() {
        let msg = raw.next().await.expect("all queries are answered");
        let Some((req, body)) = msg.rpc_result() else {
            continue;
        };
        assert!(ids.contains(&req));
        if body.get(..4) == Some(&raw::RPC_ERROR.to_le_bytes()[..]) {
            let tl::enums::RpcError::Error(e) =
                <tl::enums::RpcError as tl::Deserializable>::from_bytes(body).unwrap();
            assert_eq!(
                (e.error_code, e.error_message.as_str()),
                (420, "FLOOD_WAIT_1")
            );
            floods += 1;
        } else {
            results += 1;
        }
    }
    assert_eq!((results, floods), (8, 4));
    assert_eq!(sandbox.stats().pending_limited, 4);
    // Pipelined packets are all answered: the connection waits for its answers to be read.
    let mut ids = Vec::new();
    let mut pipeline = Vec::new();
    for _ in 0..40 {
        let (id, packet) = raw.packet(&tl::functions::help::GetNearestDc {}.to_bytes(), true);
        ids.push(id);
        pipeline.extend_from_slice(&packet);
    }
    raw.stream.write_all(&pipeline).await.unwrap();
    let mut answered = 0;
    while answered < ids.len() {
        let msg = raw.next().await.expect("answered");
        if let Some((req, body)) = msg.rpc_result() {
            assert!(ids.contains(&req));
            assert_ne!(body.get(..4), Some(&raw::RPC_ERROR.to_le_bytes()[..]));
            answered += 1;
        }
    }
    assert_eq!(sandbox.stats().pending_limited, 4);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_per_key_are_bounded() {
    let sandbox = Sandbox::start(Scenario::default_world()).await.unwrap();
    let key = key_of(&sandbox, BOB);
    let mut first = Raw::ready(sandbox.addr(), &key).await.unwrap();
    assert!(first.ping().await);
    // 64 more sessions on the same key: the server forgets the least recently used one.
    for _ in 0..64 {
        let mut other = Raw::ready(sandbox.addr(), &key).await.unwrap();
        assert!(other.ping().await);
    }
    first
        .send(&tl::functions::Ping { ping_id: 9 }.to_bytes(), true)
        .await
        .unwrap();
    let notice = first
        .expect(tl::types::NewSessionCreated::CONSTRUCTOR_ID)
        .await;
    assert!(
        notice.is_some(),
        "the first session was forgotten and made anew"
    );
    sandbox.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Password guessing

async fn tmp_password(
    client: &grammers_client::Client,
    password: &str,
) -> Result<tl::enums::account::TmpPassword, InvocationError> {
    let tl::enums::account::Password::Password(params) =
        call(client, &tl::functions::account::GetPassword {})
            .await
            .unwrap();
    let check = tgpay::srp::check_password(&params, password.as_bytes()).expect("valid SRP");
    call(
        client,
        &tl::functions::account::GetTmpPassword {
            password: check,
            period: 600,
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_lead_to_flood_wait_and_a_challenge_serves_once() {
    let sandbox = Sandbox::start(Scenario::default_world()).await.unwrap();
    let alice = sandbox.client_with(ALICE, no_retries()).unwrap();
    let client = &alice.client;

    // A challenge serves one check, even a right one after a wrong one.
    let tl::enums::account::Password::Password(params) =
        call(client, &tl::functions::account::GetPassword {})
            .await
            .unwrap();
    let wrong = tgpay::srp::check_password(&params, b"guess").unwrap();
    let right = tgpay::srp::check_password(&params, ALICE_PASSWORD.as_bytes()).unwrap();
    let attempt = |password| tl::functions::account::GetTmpPassword {
        password,
        period: 600,
    };
    assert_eq!(
        rpc_name(call(client, &attempt(wrong)).await),
        "PASSWORD_HASH_INVALID"
    );
    assert_eq!(
        rpc_name(call(client, &attempt(right)).await),
        "SRP_ID_INVALID"
    );

    // One wrong password was spent; the rest up to the limit are answered as wrong…
    for _ in 1..WRONG_PASSWORDS_BEFORE_WAIT {
        assert_eq!(
            rpc_name(tmp_password(client, "guess").await),
            "PASSWORD_HASH_INVALID"
        );
    }
    // …then even the right password waits.
    match tmp_password(client, ALICE_PASSWORD).await {
        Err(InvocationError::Rpc(e)) => {
            assert_eq!((e.code, e.name.as_str()), (420, "FLOOD_WAIT"));
            let wait = WRONG_PASSWORD_WAIT.as_secs() as u32;
            assert!(
                e.value.is_some_and(|v| (wait - 1..=wait).contains(&v)),
                "{e:?}"
            );
        }
        other => panic!("expected FLOOD_WAIT, got {other:?}"),
    }
    sandbox
        .world()
        .advance_clock(WRONG_PASSWORD_WAIT + Duration::from_secs(1));
    tmp_password(client, ALICE_PASSWORD)
        .await
        .expect("after the wait, the right password works");
    sandbox.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// The web pages

async fn http_raw(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let _ = timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

fn web_addr(sandbox: &Sandbox) -> SocketAddr {
    sandbox
        .web_base_url()
        .trim_start_matches("http://")
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_pages_have_deadlines_a_body_limit_and_a_connection_cap() {
    let sandbox = sandbox_with(
        ServerConfig::default(),
        WebConfig::default()
            .header_timeout(SHORT)
            .body_timeout(SHORT)
            .max_body_len(1024)
            .max_connections(4),
    )
    .await;
    let addr = web_addr(&sandbox);

    // Headers that never end: closed.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /3ds/x HTTP/1.1\r\nHost: a\r\n")
        .await
        .unwrap();
    assert!(raw::closed_within(&mut slow, Duration::from_secs(5)).await);

    // A body that never ends: 408.
    let answer = http_raw(
        addr,
        b"POST /3ds/x/confirm HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nabc",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");

    // A body over the limit: 413, announced or not.
    let mut big = b"POST /v1/tokens HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n".to_vec();
    big.extend_from_slice(&[b'a'; 5000]);
    assert!(http_raw(addr, &big).await.starts_with("HTTP/1.1 413"));
    let mut chunked =
        b"POST /v1/tokens HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    chunked.extend_from_slice(b"1388\r\n");
    chunked.extend_from_slice(&[b'a'; 5000]);
    chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    assert!(http_raw(addr, &chunked).await.starts_with("HTTP/1.1 413"));

    sandbox.shutdown().await;

    // Four connections that say nothing take every place: a fifth is answered 503. (A header
    // deadline long enough that they are all still open when the fifth comes.)
    let sandbox = sandbox_with(
        ServerConfig::default(),
        WebConfig::default()
            .header_timeout(Duration::from_secs(2))
            .max_connections(4),
    )
    .await;
    let addr = web_addr(&sandbox);
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let answer = http_raw(addr, b"GET /3ds/x/status HTTP/1.1\r\nHost: a\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    // The silent ones are closed at the header deadline, and the pages serve again.
    for stream in &mut held {
        assert!(raw::closed_within(stream, Duration::from_secs(10)).await);
    }
    let (status, body) = http(
        "GET",
        &format!("{}/3ds/unknown/status", sandbox.web_base_url()),
        true,
    )
    .await;
    assert_eq!(status, 404, "{body}");
    sandbox.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Per-request state

#[test]
fn card_tokens_expire_and_are_capped() {
    use tgpay_sandbox::World;
    use tgpay_sandbox::scenario::CardOutcome;
    use tgpay_sandbox::world::{CARD_TOKEN_LIFETIME, MAX_CARD_TOKENS};

    let mut world = World::new(&Scenario::default_world(), "http://127.0.0.1:1").unwrap();
    let first = world.register_card_token(CardOutcome::Success, "Visa *4242");
    for _ in 0..MAX_CARD_TOKENS + 10 {
        world.register_card_token(CardOutcome::Success, "Visa *4242");
    }
    assert_eq!(world.card_tokens(), MAX_CARD_TOKENS);
    world.advance_clock(CARD_TOKEN_LIFETIME + Duration::from_secs(1));
    world.register_card_token(CardOutcome::Decline, "Visa *0002");
    assert_eq!(world.card_tokens(), 1, "expired tokens are forgotten");
    assert_ne!(first, "");
}

// ---------------------------------------------------------------------------------------------
// The library against a server that answers too deeply

/// `help.appConfig` whose JSON config is an array nested `depth` times (built without
/// recursion).
fn deep_app_config(depth: usize) -> Vec<u8> {
    let mut out = tl::types::help::AppConfig::CONSTRUCTOR_ID.to_bytes();
    0i32.serialize(&mut out);
    for _ in 0..depth {
        tl::types::JsonArray::CONSTRUCTOR_ID.serialize(&mut out);
        0x1cb5_c415u32.serialize(&mut out);
        1u32.serialize(&mut out);
    }
    tl::types::JsonNull::CONSTRUCTOR_ID.serialize(&mut out);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payments_refuses_an_answer_nested_too_deeply() {
    use tgpay_sandbox::rpc::{Basics, Reply, handler_fn};
    use tgpay_sandbox::{KeyStore, Server};

    let keys = KeyStore::new();
    let key = loop {
        let key = keys.generate(ALICE);
        if key.key_id() as i32 >= 0 {
            break key;
        }
    };
    let basics = Basics::default();
    let server = Server::bind(
        "127.0.0.1:0",
        keys,
        handler_fn(move |_ctx, request: &[u8]| {
            if let Some(reply) = basics.answer(request) {
                return reply;
            }
            if request.get(..4)
                == Some(&tl::functions::help::GetAppConfig::CONSTRUCTOR_ID.to_le_bytes()[..])
            {
                let hash = request.get(4..8).map_or(0, |h| h[0]);
                // hash 1: a config within the limit; otherwise one that nests 80 000 deep.
                let depth = if hash == 1 { 20 } else { 80_000 };
                return Reply::Result(deep_app_config(depth));
            }
            Reply::method_invalid(request)
        }),
    )
    .await
    .unwrap();
    let session = tgpay_sandbox::handle::preshared_session(2, server.local_addr(), &key).unwrap();
    let client = tgpay_sandbox::SandboxClient::connect(
        std::sync::Arc::new(grammers_session::storages::MemorySession::from(session)),
        no_retries(),
    );
    let payments = client.payments();
    let shallow = timeout(
        WAIT,
        payments.invoke(&tl::functions::help::GetAppConfig { hash: 1 }),
    )
    .await
    .unwrap();
    assert!(
        matches!(shallow, Ok(tl::enums::help::AppConfig::Config(_))),
        "{shallow:?}"
    );
    let deep = timeout(
        WAIT,
        payments.invoke(&tl::functions::help::GetAppConfig { hash: 2 }),
    )
    .await
    .unwrap();
    assert!(deep.is_err(), "refused, not decoded: {deep:?}");
    // The connection and the process go on.
    let again = timeout(
        WAIT,
        payments.invoke(&tl::functions::help::GetAppConfig { hash: 1 }),
    )
    .await
    .unwrap();
    assert!(again.is_ok(), "{again:?}");
    drop(client);
    server.shutdown().await;
}
