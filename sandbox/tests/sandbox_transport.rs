//! The sandbox's MTProto server against real clients: an unmodified grammers `Client` (full
//! transport), grammers' `Sender` over the other transports (plain and obfuscated), grammers'
//! `Encrypted` state machine, and a minimal hand-driven client for the spec's corner cases.

use std::collections::VecDeque;
use std::net::{SocketAddr, SocketAddrV6};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use grammers_client::Client;
use grammers_crypto::DequeBuffer;
use grammers_mtproto::mtp::{Deserialization, Mtp};
use grammers_mtproto::transport::{
    self as mt_transport, Abridged, Intermediate, Obfuscated, Tagged, Transport, UnpackedOffset,
};
use grammers_mtsender::{
    ConnectionParams, InvocationError, NoRetries, SenderPool, ServerAddr, UpdatesConfiguration,
};
use grammers_session::SessionData;
use grammers_session::storages::MemorySession;
use grammers_session::types::DcOption;
use grammers_session::updates::UpdatesLike;
use grammers_tl_types::{self as tl, Deserializable, Identifiable, Serializable};
use sha2::{Digest, Sha256};
use tgpay_sandbox::keys::{AuthKey, KeyStore};
use tgpay_sandbox::rpc::{self, Basics, CallContext, Handler, Reply};
use tgpay_sandbox::transport::{Server, ServerHandle, TransportKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::timeout;

const API_ID: i32 = 4242;
const USER: i64 = 1000;
const OTHER_USER: i64 = 2000;
const WAIT: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------------------------------------
// The test world: answers the connect-time queries, echoes users.getUsers, drops the
// connection on help.getAppConfig, and records every call.

#[derive(Default)]
struct TestWorld {
    basics: Basics,
    calls: Mutex<Vec<(u32, CallContext)>>,
}

impl TestWorld {
    fn calls_of(&self, id: u32) -> Vec<CallContext> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|(c, _)| *c == id)
            .map(|(_, ctx)| ctx.clone())
            .collect()
    }
}

impl Handler for TestWorld {
    fn handle(&self, ctx: &CallContext, request: &[u8]) -> Reply {
        let id = rpc::constructor_id(request).unwrap_or_default();
        self.calls.lock().unwrap().push((id, ctx.clone()));
        if let Some(reply) = self.basics.answer(request) {
            return reply;
        }
        match id {
            tl::functions::updates::GetState::CONSTRUCTOR_ID => {
                Reply::result(&rpc::updates_state(1, 0, 1, 0))
            }
            tl::functions::users::GetUsers::CONSTRUCTOR_ID => {
                let request = match rpc::parse::<tl::functions::users::GetUsers>(request) {
                    Ok(request) => request,
                    Err(reply) => return reply,
                };
                let users: Vec<tl::enums::User> = request
                    .id
                    .iter()
                    .map(|input| match input {
                        tl::enums::InputUser::User(u) => u.user_id,
                        _ => 0,
                    })
                    .map(|id| tl::enums::User::Empty(tl::types::UserEmpty { id }))
                    .collect();
                Reply::result(&users)
            }
            tl::functions::help::GetAppConfig::CONSTRUCTOR_ID => Reply::DropConnection,
            tl::functions::help::GetPromoData::CONSTRUCTOR_ID => {
                panic!("a handler bug");
            }
            _ => Reply::method_invalid(request),
        }
    }
}

struct Sandbox {
    server: ServerHandle,
    world: Arc<TestWorld>,
    key: AuthKey,
    other_key: AuthKey,
}

/// A key whose auth_key_id has a non-negative low 32-bit half. grammers' abridged transport
/// takes any short packet whose first 4 bytes read as a negative integer for a transport
/// error, and an encrypted packet starts with the auth_key_id: with half of all keys it would
/// misread every short answer (a client quirk, not a server matter).
fn abridged_safe_key() -> AuthKey {
    loop {
        let key = AuthKey::generate();
        if key.key_id() as i32 >= 0 {
            return key;
        }
    }
}

async fn sandbox() -> Sandbox {
    let keys = KeyStore::new();
    let key = abridged_safe_key();
    keys.register(USER, key.clone()).expect("fresh key");
    let other_key = keys.generate(OTHER_USER);
    let world = Arc::new(TestWorld::default());
    let server = Server::bind("127.0.0.1:0", keys, Arc::clone(&world))
        .await
        .expect("bind");
    Sandbox {
        server,
        world,
        key,
        other_key,
    }
}

impl Sandbox {
    fn addr(&self) -> SocketAddr {
        self.server.local_addr()
    }
}

// ---------------------------------------------------------------------------------------------
// An unmodified grammers client with a pre-populated session.

struct GrammersClient {
    client: Client,
    updates: Option<mpsc::Receiver<UpdatesLike>>,
    runner: tokio::task::JoinHandle<()>,
}

impl Drop for GrammersClient {
    fn drop(&mut self) {
        self.runner.abort();
    }
}

fn grammers_client(addr: SocketAddr, key: &AuthKey, retries: bool) -> GrammersClient {
    let mut data = SessionData {
        home_dc: 2,
        ..SessionData::default()
    };
    let SocketAddr::V4(v4) = addr else {
        panic!("the sandbox listens on IPv4 loopback");
    };
    data.dc_options.insert(
        2,
        DcOption {
            id: 2,
            ipv4: v4,
            ipv6: SocketAddrV6::new(v4.ip().to_ipv6_mapped(), v4.port(), 0, 0),
            auth_key: Some(*key.expose_secret()),
        },
    );
    let session = Arc::new(MemorySession::from(data));
    let params = if retries {
        ConnectionParams::default()
    } else {
        ConnectionParams {
            retry_policy: Box::new(NoRetries),
            ..ConnectionParams::default()
        }
    };
    let pool = SenderPool::with_configuration(session, API_ID, params);
    let client = Client::new(pool.handle);
    let runner = tokio::spawn(pool.runner.run());
    GrammersClient {
        client,
        updates: Some(pool.updates),
        runner,
    }
}

async fn invoke<R: tl::RemoteCall>(
    client: &Client,
    request: &R,
) -> Result<R::Return, InvocationError> {
    timeout(WAIT, client.invoke(request))
        .await
        .expect("the sandbox answers in time")
}

// ---------------------------------------------------------------------------------------------
// The padded intermediate transport, client side, for grammers' `Sender` (grammers has none).

struct PaddedIntermediate {
    init: bool,
}

impl Transport for PaddedIntermediate {
    fn pack(&mut self, buffer: &mut DequeBuffer<u8>) {
        let pad: usize = rand::random_range(0..16);
        let len = (buffer.len() + pad) as u32;
        buffer.extend((0..pad).map(|_| rand::random::<u8>()));
        buffer.extend_front(&len.to_le_bytes());
        if !self.init {
            buffer.extend_front(&[0xdd; 4]);
            self.init = true;
        }
    }

    fn unpack(&mut self, buffer: &mut [u8]) -> Result<UnpackedOffset, mt_transport::Error> {
        if buffer.len() < 4 {
            return Err(mt_transport::Error::MissingBytes);
        }
        let len = u32::from_le_bytes(buffer[..4].try_into().unwrap()) as usize;
        if buffer.len() < 4 + len {
            return Err(mt_transport::Error::MissingBytes);
        }
        if len == 4 {
            let code = i32::from_le_bytes(buffer[4..8].try_into().unwrap());
            return Err(mt_transport::Error::BadStatus {
                status: code.unsigned_abs(),
            });
        }
        // Encrypted payloads are 24 + 16k bytes; the rest is transport padding.
        let data_len = len - (len.saturating_sub(24) % 16);
        Ok(UnpackedOffset {
            data_range: 4..4 + data_len,
            next_offset: 4 + len,
        })
    }
}

impl Tagged for PaddedIntermediate {
    fn init_tag(&mut self) -> [u8; 4] {
        self.init = true;
        [0xdd; 4]
    }
}

fn init_connection()
-> tl::functions::InvokeWithLayer<tl::functions::InitConnection<tl::functions::help::GetConfig>> {
    tl::functions::InvokeWithLayer {
        layer: tl::LAYER,
        query: tl::functions::InitConnection {
            api_id: API_ID,
            device_model: "test device".into(),
            system_version: "1.0".into(),
            app_version: "0.1".into(),
            system_lang_code: "en".into(),
            lang_pack: String::new(),
            lang_code: "en".into(),
            proxy: None,
            params: None,
            query: tl::functions::help::GetConfig {},
        },
    }
}

/// Connects grammers' `Sender` over `transport`, initializes the connection, and checks a few
/// queries and a ping.
async fn sender_roundtrip<T: Transport>(transport: T, sandbox: &Sandbox) {
    let mut sender = grammers_mtsender::connect_with_auth(
        transport,
        ServerAddr::Tcp {
            address: sandbox.addr(),
        },
        *sandbox.key.expose_secret(),
    )
    .await
    .expect("connects");
    let tl::enums::Config::Config(config) = timeout(WAIT, sender.invoke(&init_connection()))
        .await
        .expect("in time")
        .expect("config");
    assert_eq!(config.this_dc, 2);
    assert!(config.dc_options.is_empty());
    let tl::enums::NearestDc::Dc(nearest) =
        timeout(WAIT, sender.invoke(&tl::functions::help::GetNearestDc {}))
            .await
            .expect("in time")
            .expect("nearest dc");
    assert_eq!(nearest.nearest_dc, 2);
    let tl::enums::Pong::Pong(pong) =
        timeout(WAIT, sender.invoke(&tl::functions::Ping { ping_id: 77 }))
            .await
            .expect("in time")
            .expect("pong");
    assert_eq!(pong.ping_id, 77);
}

fn last_transport(world: &TestWorld) -> (TransportKind, bool) {
    let calls = world.calls_of(tl::functions::help::GetNearestDc::CONSTRUCTOR_ID);
    let ctx = calls.last().expect("a getNearestDc call");
    (ctx.transport, ctx.obfuscated)
}

// ---------------------------------------------------------------------------------------------
// A minimal hand-driven MTProto client (intermediate transport), to exercise what a
// well-behaved library never sends. Encryption is grammers-crypto's client side.

struct Msg {
    msg_id: i64,
    seqno: i32,
    body: Vec<u8>,
}

impl Msg {
    fn id(&self) -> u32 {
        rpc::constructor_id(&self.body).unwrap_or_default()
    }
}

struct Raw {
    stream: TcpStream,
    key: grammers_crypto::AuthKey,
    key_bytes: [u8; 256],
    session_id: i64,
    salt: i64,
    sent_content: i32,
    last_msg_id: i64,
    read: Vec<u8>,
    inbox: VecDeque<Msg>,
}

const RPC_RESULT: u32 = 0xf35c_6d01;
const MSG_CONTAINER: u32 = 0x73f1_f8dc;

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

impl Raw {
    async fn connect(addr: SocketAddr, key: &[u8; 256]) -> Self {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream.write_all(&[0xee; 4]).await.unwrap();
        Self {
            stream,
            key: grammers_crypto::AuthKey::from_bytes(*key),
            key_bytes: *key,
            session_id: rand::random(),
            salt: 0,
            sent_content: 0,
            last_msg_id: 0,
            read: Vec::new(),
            inbox: VecDeque::new(),
        }
    }

    /// Connects and learns the server salt from `bad_server_salt`.
    async fn ready(addr: SocketAddr, key: &[u8; 256]) -> Self {
        let mut raw = Self::connect(addr, key).await;
        let ping = raw
            .send(&tl::functions::Ping { ping_id: 1 }.to_bytes(), true)
            .await;
        let bad = raw.expect(tl::types::BadServerSalt::CONSTRUCTOR_ID).await;
        let tl::enums::BadMsgNotification::BadServerSalt(bad) =
            tl::enums::BadMsgNotification::from_bytes(&bad.body).unwrap()
        else {
            panic!("expected bad_server_salt");
        };
        assert_eq!(bad.bad_msg_id, ping);
        raw.salt = bad.new_server_salt;
        raw
    }

    fn next_msg_id(&mut self) -> i64 {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let id = ((now.as_secs() as i64) << 32) | (i64::from(now.subsec_nanos()) << 2);
        self.last_msg_id = id.max(self.last_msg_id + 4) & !3;
        self.last_msg_id
    }

    fn next_seqno(&mut self, content_related: bool) -> i32 {
        let seqno = self.sent_content * 2 + i32::from(content_related);
        self.sent_content += i32::from(content_related);
        seqno
    }

    fn plaintext(&self, msg_id: i64, seqno: i32, body: &[u8]) -> Vec<u8> {
        let mut p = Vec::new();
        self.salt.serialize(&mut p);
        self.session_id.serialize(&mut p);
        msg_id.serialize(&mut p);
        seqno.serialize(&mut p);
        (body.len() as i32).serialize(&mut p);
        p.extend_from_slice(body);
        p
    }

    fn encrypt(&self, plaintext: &[u8]) -> Vec<u8> {
        let mut buffer = DequeBuffer::with_capacity(plaintext.len() + 64, 32);
        buffer.extend(plaintext);
        grammers_crypto::encrypt_data_v2(&mut buffer, &self.key);
        buffer.as_ref().to_vec()
    }

    async fn send_frame(&mut self, payload: &[u8]) {
        let mut frame = (payload.len() as u32).to_le_bytes().to_vec();
        frame.extend_from_slice(payload);
        self.stream.write_all(&frame).await.unwrap();
    }

    async fn send_raw(&mut self, msg_id: i64, seqno: i32, body: &[u8]) {
        let payload = self.encrypt(&self.plaintext(msg_id, seqno, body));
        self.send_frame(&payload).await;
    }

    /// Sends one message with a fresh msg_id and the right seqno; returns its msg_id.
    async fn send(&mut self, body: &[u8], content_related: bool) -> i64 {
        let msg_id = self.next_msg_id();
        let seqno = self.next_seqno(content_related);
        self.send_raw(msg_id, seqno, body).await;
        msg_id
    }

    /// Reads one transport packet's payload; `None` once the server closed the connection.
    async fn read_packet(&mut self) -> Option<Vec<u8>> {
        loop {
            if self.read.len() >= 4 {
                let len = u32::from_le_bytes(self.read[..4].try_into().unwrap()) as usize;
                if self.read.len() >= 4 + len {
                    let packet = self.read[4..4 + len].to_vec();
                    self.read.drain(..4 + len);
                    return Some(packet);
                }
            }
            let mut chunk = [0u8; 65536];
            let n = timeout(WAIT, self.stream.read(&mut chunk))
                .await
                .expect("the server answers or closes in time")
                .unwrap_or(0);
            if n == 0 {
                return None;
            }
            self.read.extend_from_slice(&chunk[..n]);
        }
    }

    /// Decrypts a packet and queues its messages (containers flattened).
    fn open(&mut self, mut payload: Vec<u8>) -> Vec<(i64, i32)> {
        let plaintext = grammers_crypto::decrypt_data_v2(&mut payload, &self.key)
            .expect("server messages decrypt and pass the msg_key check")
            .to_vec();
        let session_id = i64::from_le_bytes(plaintext[8..16].try_into().unwrap());
        assert_eq!(
            session_id, self.session_id,
            "the server echoes the session_id"
        );
        let msg_id = i64::from_le_bytes(plaintext[16..24].try_into().unwrap());
        let seqno = i32::from_le_bytes(plaintext[24..28].try_into().unwrap());
        let len = i32::from_le_bytes(plaintext[28..32].try_into().unwrap()) as usize;
        let padding = plaintext.len() - 32 - len;
        assert!((12..=1024).contains(&padding), "padding {padding}");
        let body = plaintext[32..32 + len].to_vec();
        let mut headers = vec![(msg_id, seqno)];
        if rpc::constructor_id(&body) == Some(MSG_CONTAINER) {
            assert_eq!(seqno & 1, 0, "containers are not content-related");
            let count = i32::from_le_bytes(body[4..8].try_into().unwrap());
            let mut at = 8;
            for _ in 0..count {
                let inner_id = i64::from_le_bytes(body[at..at + 8].try_into().unwrap());
                let inner_seq = i32::from_le_bytes(body[at + 8..at + 12].try_into().unwrap());
                let inner_len =
                    i32::from_le_bytes(body[at + 12..at + 16].try_into().unwrap()) as usize;
                assert!(inner_id < msg_id, "inner msg_ids are below the container's");
                assert!(
                    inner_seq <= seqno,
                    "the container's seqno is not below its contents'"
                );
                self.inbox.push_back(Msg {
                    msg_id: inner_id,
                    seqno: inner_seq,
                    body: body[at + 16..at + 16 + inner_len].to_vec(),
                });
                headers.push((inner_id, inner_seq));
                at += 16 + inner_len;
            }
        } else {
            self.inbox.push_back(Msg {
                msg_id,
                seqno,
                body,
            });
        }
        headers
    }

    /// The next message from the server.
    async fn next(&mut self) -> Msg {
        loop {
            if let Some(msg) = self.inbox.pop_front() {
                return msg;
            }
            let packet = self.read_packet().await.expect("connection still open");
            self.open(packet);
        }
    }

    /// The next message with constructor `id`, skipping others.
    async fn expect(&mut self, id: u32) -> Msg {
        for _ in 0..16 {
            let msg = self.next().await;
            if msg.id() == id {
                return msg;
            }
        }
        panic!("no message {id:08x} from the server");
    }

    /// Whether the server closes the connection (reading and discarding until it does).
    async fn closed(&mut self) -> bool {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            let mut chunk = [0u8; 4096];
            match timeout(Duration::from_millis(200), self.stream.read(&mut chunk)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(_)) | Err(_) => {}
            }
        }
        false
    }
}

fn rpc_result(msg: &Msg) -> (i64, Vec<u8>) {
    assert_eq!(msg.id(), RPC_RESULT);
    let req = i64::from_le_bytes(msg.body[4..12].try_into().unwrap());
    (req, msg.body[12..].to_vec())
}

async fn assert_closed_by_server(mut stream: TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match timeout(WAIT, stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return received,
            Ok(Ok(n)) => received.extend_from_slice(&chunk[..n]),
            Err(_) => panic!("the server did not close the connection"),
        }
    }
}

// =============================================================================================
// grammers Client (full transport)

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grammers_client_connects_and_initializes() {
    let sb = sandbox().await;
    let g = grammers_client(sb.addr(), &sb.key, false);
    let tl::enums::Config::Config(config) = invoke(&g.client, &tl::functions::help::GetConfig {})
        .await
        .unwrap();
    assert_eq!(config.this_dc, 2);
    let tl::enums::NearestDc::Dc(nearest) =
        invoke(&g.client, &tl::functions::help::GetNearestDc {})
            .await
            .unwrap();
    assert_eq!((nearest.this_dc, nearest.country.as_str()), (2, "NL"));

    // The connection's first query was invokeWithLayer(initConnection(help.getConfig)),
    // unwrapped, with the layer and client info recorded on the session.
    let config_calls = sb
        .world
        .calls_of(tl::functions::help::GetConfig::CONSTRUCTOR_ID);
    let first = &config_calls[0];
    assert_eq!(first.layer, Some(tl::LAYER));
    let client = first.client.as_ref().expect("initConnection info");
    assert_eq!(client.api_id, API_ID);
    assert!(!client.device_model.is_empty());
    assert!(!client.lang_code.is_empty());
    assert_eq!(first.user_id, USER);
    assert_eq!(first.auth_key_id, sb.key.key_id());
    assert_eq!(
        (first.transport, first.obfuscated),
        (TransportKind::Full, false)
    );
    assert!(first.wants_updates);
    // Later queries of the same session keep the layer and client info.
    let later = sb
        .world
        .calls_of(tl::functions::help::GetNearestDc::CONSTRUCTOR_ID);
    assert_eq!(later[0].layer, Some(tl::LAYER));
    assert_eq!(later[0].session_id, first.session_id);

    let stats = sb.server.stats();
    assert_eq!(
        stats.requests_of(tl::functions::help::GetConfig::CONSTRUCTOR_ID),
        2
    );
    assert_eq!(stats.connections_accepted, 1);
    // grammers starts with salt 0: one bad_server_salt, then the query is re-sent.
    assert_eq!(stats.bad_msgs_of(48), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grammers_ping_and_unknown_methods() {
    let sb = sandbox().await;
    let g = grammers_client(sb.addr(), &sb.key, false);
    let tl::enums::Pong::Pong(pong) = invoke(&g.client, &tl::functions::Ping { ping_id: 99 })
        .await
        .unwrap();
    assert_eq!(pong.ping_id, 99);

    let request = tl::functions::help::GetCountriesList {
        lang_code: "en".into(),
        hash: 0,
    };
    match invoke(&g.client, &request).await {
        Err(InvocationError::Rpc(error)) => {
            assert_eq!(error.code, 400);
            assert_eq!(error.name, "INPUT_METHOD_INVALID");
            assert_eq!(
                error.value,
                Some(tl::functions::help::GetCountriesList::CONSTRUCTOR_ID)
            );
        }
        other => panic!("expected INPUT_METHOD_INVALID, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_requests_and_results_are_gzipped() {
    let sb = sandbox().await;
    let g = grammers_client(sb.addr(), &sb.key, false);
    let ids: Vec<i64> = (1..=3000).collect();
    let request = tl::functions::users::GetUsers {
        id: ids
            .iter()
            .map(|&user_id| {
                tl::enums::InputUser::User(tl::types::InputUser {
                    user_id,
                    access_hash: 0,
                })
            })
            .collect(),
    };
    assert!(request.to_bytes().len() > 512);
    let users = invoke(&g.client, &request).await.unwrap();
    let got: Vec<i64> = users
        .iter()
        .map(|u| match u {
            tl::enums::User::Empty(e) => e.id,
            tl::enums::User::User(u) => u.id,
        })
        .collect();
    assert_eq!(got, ids);
    let stats = sb.server.stats();
    assert!(stats.gzip_packed >= 1, "the request arrived as gzip_packed");
    assert!(
        stats.gzip_packed_sent >= 1,
        "the result left as gzip_packed"
    );
    assert_eq!(
        stats.requests_of(tl::functions::users::GetUsers::CONSTRUCTOR_ID),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_arrive_in_containers() {
    let sb = sandbox().await;
    let g = grammers_client(sb.addr(), &sb.key, false);
    invoke(&g.client, &tl::functions::help::GetNearestDc {})
        .await
        .unwrap();
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let client = g.client.clone();
            tokio::spawn(async move {
                timeout(WAIT, client.invoke(&tl::functions::help::GetNearestDc {})).await
            })
        })
        .collect();
    for task in tasks {
        let tl::enums::NearestDc::Dc(dc) = task.await.unwrap().expect("in time").unwrap();
        assert_eq!(dc.nearest_dc, 2);
    }
    let stats = sb.server.stats();
    assert_eq!(
        stats.requests_of(tl::functions::help::GetNearestDc::CONSTRUCTOR_ID),
        65
    );
    assert!(
        stats.containers >= 1,
        "grammers batched requests in containers"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushed_updates_reach_every_live_session() {
    let sb = sandbox().await;
    let mut first = grammers_client(sb.addr(), &sb.key, false);
    let mut second = grammers_client(sb.addr(), &sb.key, false);
    let other = grammers_client(sb.addr(), &sb.other_key, false);
    invoke(&first.client, &tl::functions::help::GetNearestDc {})
        .await
        .unwrap();
    invoke(&second.client, &tl::functions::help::GetNearestDc {})
        .await
        .unwrap();
    invoke(&other.client, &tl::functions::help::GetNearestDc {})
        .await
        .unwrap();
    assert_eq!(sb.server.hub().live_sessions(USER), 2);
    assert_eq!(sb.server.hub().live_sessions(OTHER_USER), 1);

    let mut streams = Vec::new();
    for g in [&mut first, &mut second] {
        let updates = g.updates.take().unwrap();
        let stream = g
            .client
            .stream_updates(updates, UpdatesConfiguration::default())
            .await
            .expect("update stream");
        streams.push(stream);
    }

    let update = tl::enums::Updates::UpdateShort(tl::types::UpdateShort {
        update: tl::enums::Update::ServiceNotification(tl::types::UpdateServiceNotification {
            popup: true,
            invert_media: false,
            inbox_date: None,
            r#type: "PAYMENT_FAILED".into(),
            message: "The merchant declined the order.".into(),
            media: tl::enums::MessageMedia::Empty,
            entities: Vec::new(),
        }),
        date: now_secs() as i32,
    });
    assert_eq!(sb.server.hub().push_updates(USER, &update), 2);
    for stream in &mut streams {
        let (update, _, _) = timeout(WAIT, stream.next_raw())
            .await
            .expect("the update arrives")
            .expect("no error");
        match update {
            tl::enums::Update::ServiceNotification(n) => {
                assert_eq!(n.message, "The merchant declined the order.");
            }
            other => panic!("unexpected update {other:?}"),
        }
    }
    // Pushing to a user without live sessions reaches nobody.
    assert_eq!(sb.server.hub().push(3000, update.to_bytes()), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_connection_gives_the_client_an_io_error() {
    let sb = sandbox().await;
    let g = grammers_client(sb.addr(), &sb.key, false);
    invoke(&g.client, &tl::functions::help::GetNearestDc {})
        .await
        .unwrap();
    match invoke(&g.client, &tl::functions::help::GetAppConfig { hash: 0 }).await {
        Err(InvocationError::Io(_)) => {}
        other => panic!("expected an I/O error, got {other:?}"),
    }
    assert_eq!(
        sb.world
            .calls_of(tl::functions::help::GetAppConfig::CONSTRUCTOR_ID)
            .len(),
        1,
        "processed once"
    );
    assert_eq!(sb.server.stats().dropped_by_handler, 1);
    // The client reconnects for its next query. (A query issued while grammers has not yet
    // reaped the dead connection fails with `Dropped`; try again shortly.)
    let mut attempts = 0;
    loop {
        match invoke(&g.client, &tl::functions::help::GetNearestDc {}).await {
            Ok(_) => break,
            Err(InvocationError::Dropped(_)) if attempts < 10 => {
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(error) => panic!("{error}"),
        }
    }
    assert_eq!(sb.server.stats().connections_accepted, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_closes_only_its_connection() {
    let sb = sandbox().await;
    let victim = grammers_client(sb.addr(), &sb.key, false);
    let bystander = grammers_client(sb.addr(), &sb.other_key, false);
    invoke(&bystander.client, &tl::functions::help::GetNearestDc {})
        .await
        .unwrap();
    match invoke(&victim.client, &tl::functions::help::GetPromoData {}).await {
        Err(InvocationError::Io(_)) => {}
        other => panic!("expected an I/O error, got {other:?}"),
    }
    invoke(&bystander.client, &tl::functions::help::GetNearestDc {})
        .await
        .unwrap();
    eventually(|| sb.server.stats().connections_open == 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grammers_default_policy_resends_once_after_a_dropped_connection() {
    let sb = sandbox().await;
    let g = grammers_client(sb.addr(), &sb.key, true);
    invoke(&g.client, &tl::functions::help::GetNearestDc {})
        .await
        .unwrap();
    assert!(
        invoke(&g.client, &tl::functions::help::GetAppConfig { hash: 0 })
            .await
            .is_err()
    );
    // The same query reached the world twice: the ambiguity payments must survive.
    assert_eq!(
        sb.world
            .calls_of(tl::functions::help::GetAppConfig::CONSTRUCTOR_ID)
            .len(),
        2
    );
}

// =============================================================================================
// Other transports, with grammers' Sender

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abridged_transport() {
    let sb = sandbox().await;
    sender_roundtrip(Abridged::new(), &sb).await;
    assert_eq!(last_transport(&sb.world), (TransportKind::Abridged, false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intermediate_transport() {
    let sb = sandbox().await;
    sender_roundtrip(Intermediate::new(), &sb).await;
    assert_eq!(
        last_transport(&sb.world),
        (TransportKind::Intermediate, false)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn padded_intermediate_transport() {
    let sb = sandbox().await;
    sender_roundtrip(PaddedIntermediate { init: false }, &sb).await;
    assert_eq!(
        last_transport(&sb.world),
        (TransportKind::PaddedIntermediate, false)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn obfuscated_transports() {
    let sb = sandbox().await;
    sender_roundtrip(Obfuscated::new(Abridged::new()), &sb).await;
    assert_eq!(last_transport(&sb.world), (TransportKind::Abridged, true));
    sender_roundtrip(Obfuscated::new(Intermediate::new()), &sb).await;
    assert_eq!(
        last_transport(&sb.world),
        (TransportKind::Intermediate, true)
    );
    sender_roundtrip(Obfuscated::new(PaddedIntermediate { init: false }), &sb).await;
    assert_eq!(
        last_transport(&sb.world),
        (TransportKind::PaddedIntermediate, true)
    );
}

// =============================================================================================
// Unknown keys

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_auth_key_gets_transport_error_404() {
    let sb = sandbox().await;
    let stranger = AuthKey::generate();

    // grammers over intermediate and abridged reads the framed -404 as a bad status.
    for abridged in [false, true] {
        let addr = ServerAddr::Tcp { address: sb.addr() };
        let result = if abridged {
            let mut sender = grammers_mtsender::connect_with_auth(
                Abridged::new(),
                addr,
                *stranger.expose_secret(),
            )
            .await
            .unwrap();
            timeout(WAIT, sender.invoke(&init_connection()))
                .await
                .unwrap()
        } else {
            let mut sender = grammers_mtsender::connect_with_auth(
                Intermediate::new(),
                addr,
                *stranger.expose_secret(),
            )
            .await
            .unwrap();
            timeout(WAIT, sender.invoke(&init_connection()))
                .await
                .unwrap()
        };
        match result {
            Err(InvocationError::Transport(mt_transport::Error::BadStatus { status: 404 })) => {}
            other => panic!("expected -404, got {other:?}"),
        }
    }

    // On the wire (intermediate): exactly one packet holding -404, then the server closes.
    let mut raw = Raw::connect(sb.addr(), stranger.expose_secret()).await;
    raw.send(&tl::functions::Ping { ping_id: 1 }.to_bytes(), true)
        .await;
    let received = assert_closed_by_server(raw.stream).await;
    assert_eq!(received, [4, 0, 0, 0, 0x6c, 0xfe, 0xff, 0xff]);

    // Full transport: length 16, seqno 0, -404, CRC32.
    let mut stream = TcpStream::connect(sb.addr()).await.unwrap();
    let mut packet = Vec::new();
    packet.extend_from_slice(&(12u32 + 32).to_le_bytes());
    packet.extend_from_slice(&0u32.to_le_bytes());
    packet.extend_from_slice(&stranger.key_id().to_le_bytes());
    packet.extend_from_slice(&[0u8; 24]);
    let crc = crc32(&packet);
    packet.extend_from_slice(&crc.to_le_bytes());
    stream.write_all(&packet).await.unwrap();
    let received = assert_closed_by_server(stream).await;
    assert_eq!(received.len(), 16);
    assert_eq!(
        &received[..12],
        &[16, 0, 0, 0, 0, 0, 0, 0, 0x6c, 0xfe, 0xff, 0xff]
    );
    assert_eq!(received[12..], crc32(&received[..12]).to_le_bytes());

    // An unmodified grammers Client fails its query instead of hanging.
    let g = grammers_client(sb.addr(), &stranger, false);
    assert!(
        invoke(&g.client, &tl::functions::help::GetNearestDc {})
            .await
            .is_err()
    );

    assert!(sb.server.stats().unknown_keys >= 5);
    assert!(
        sb.world.calls.lock().unwrap().is_empty(),
        "nothing reached the world"
    );
}

async fn eventually(condition: impl Fn() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !condition() {
        assert!(Instant::now() < deadline, "condition not reached in time");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn crc32(data: &[u8]) -> u32 {
    // Bitwise CRC-32 (IEEE 802.3), independent of the server's implementation.
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

// =============================================================================================
// Hostile input closes that connection only

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_closes_only_its_connection() {
    let sb = sandbox().await;
    let g = grammers_client(sb.addr(), &sb.key, false);
    invoke(&g.client, &tl::functions::help::GetNearestDc {})
        .await
        .unwrap();

    // Random bytes (read as an obfuscation header with an unknown protocol tag).
    let mut garbage = [0u8; 200];
    rand::fill(&mut garbage[..]);
    garbage[0] = 0x01;
    garbage[4] = 0x01;
    let mut stream = TcpStream::connect(sb.addr()).await.unwrap();
    stream.write_all(&garbage).await.unwrap();
    assert_closed_by_server(stream).await;

    // A 100 MB length prefix (intermediate), refused before any data follows.
    let mut stream = TcpStream::connect(sb.addr()).await.unwrap();
    stream.write_all(&[0xee; 4]).await.unwrap();
    stream
        .write_all(&(100u32 * 1024 * 1024).to_le_bytes())
        .await
        .unwrap();
    assert!(assert_closed_by_server(stream).await.is_empty());

    // The same in abridged.
    let mut stream = TcpStream::connect(sb.addr()).await.unwrap();
    stream
        .write_all(&[0xef, 0x7f, 0xff, 0xff, 0xff])
        .await
        .unwrap();
    assert!(assert_closed_by_server(stream).await.is_empty());

    // Full transport with a bad CRC.
    let mut stream = TcpStream::connect(sb.addr()).await.unwrap();
    let mut packet = Vec::new();
    packet.extend_from_slice(&(12u32 + 64).to_le_bytes());
    packet.extend_from_slice(&0u32.to_le_bytes());
    packet.extend_from_slice(&sb.key.key_id().to_le_bytes());
    packet.extend_from_slice(&[7u8; 56]);
    packet.extend_from_slice(&0xdead_beefu32.to_le_bytes());
    stream.write_all(&packet).await.unwrap();
    assert!(assert_closed_by_server(stream).await.is_empty());

    // A known key with a forged msg_key: closed, and no -404 (the key exists).
    let mut raw = Raw::connect(sb.addr(), sb.key.expose_secret()).await;
    let mut payload = raw.encrypt(&raw.plaintext(raw.last_msg_id + 4, 1, &[0u8; 8]));
    payload[30] ^= 0x40;
    raw.send_frame(&payload).await;
    assert!(assert_closed_by_server(raw.stream).await.is_empty());

    // Valid encryption, but message_data_length points past the end.
    let mut raw = Raw::connect(sb.addr(), sb.key.expose_secret()).await;
    let msg_id = raw.next_msg_id();
    let mut plaintext = raw.plaintext(msg_id, 1, &[0u8; 8]);
    plaintext[28..32].copy_from_slice(&4096i32.to_le_bytes());
    let payload = raw.encrypt(&plaintext);
    raw.send_frame(&payload).await;
    assert!(assert_closed_by_server(raw.stream).await.is_empty());

    // A truncated ping (valid salt, so it gets past every check but deserialization).
    let mut raw = Raw::ready(sb.addr(), sb.key.expose_secret()).await;
    raw.send(&tl::functions::Ping { ping_id: 5 }.to_bytes()[..8], true)
        .await;
    assert!(raw.closed().await);

    // A container announcing 5000 messages: transport error 429.
    let mut raw = Raw::ready(sb.addr(), sb.key.expose_secret()).await;
    let mut flood = MSG_CONTAINER.to_bytes();
    5000i32.serialize(&mut flood);
    raw.send(&flood, false).await;
    let mut received = Vec::new();
    while let Some(packet) = raw.read_packet().await {
        received.push(packet);
    }
    assert!(
        received.iter().any(|p| p == &(-429i32).to_le_bytes()),
        "-429 sent"
    );

    assert!(sb.server.stats().malformed >= 8);
    // The well-behaved client on its own connection was never disturbed.
    invoke(&g.client, &tl::functions::help::GetNearestDc {})
        .await
        .unwrap();
    eventually(|| sb.server.stats().connections_open == 1).await;
}

// =============================================================================================
// Service messages, with the hand-driven client

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_server_salt_then_new_session_created() {
    let sb = sandbox().await;
    let mut raw = Raw::connect(sb.addr(), sb.key.expose_secret()).await;
    let ping = raw
        .send(&tl::functions::Ping { ping_id: 1 }.to_bytes(), true)
        .await;
    let bad = raw.next().await;
    assert_eq!(bad.msg_id & 3, 1, "an answer to a client message");
    assert_eq!(bad.seqno & 1, 0, "not content-related");
    let tl::enums::BadMsgNotification::BadServerSalt(bad) =
        tl::enums::BadMsgNotification::from_bytes(&bad.body).unwrap()
    else {
        panic!("expected bad_server_salt");
    };
    assert_eq!(
        (bad.bad_msg_id, bad.bad_msg_seqno, bad.error_code),
        (ping, 1, 48)
    );
    assert_ne!(bad.new_server_salt, 0);
    // The refused ping was not processed.
    assert!(raw.inbox.is_empty());

    raw.salt = bad.new_server_salt;
    let ping = raw
        .send(&tl::functions::Ping { ping_id: 2 }.to_bytes(), true)
        .await;
    let created = raw.next().await;
    assert_eq!(created.id(), tl::types::NewSessionCreated::CONSTRUCTOR_ID);
    assert_eq!(created.msg_id & 3, 3, "not an answer");
    assert_eq!(created.seqno & 1, 1, "must be acknowledged");
    let tl::enums::NewSession::Created(created) =
        tl::enums::NewSession::from_bytes(&created.body).unwrap();
    assert_eq!(created.first_msg_id, ping);
    assert_eq!(created.server_salt, bad.new_server_salt);

    let pong = raw.next().await;
    assert_eq!(pong.id(), tl::types::Pong::CONSTRUCTOR_ID);
    assert_eq!(pong.msg_id & 3, 1);
    let tl::enums::Pong::Pong(pong_body) = tl::enums::Pong::from_bytes(&pong.body).unwrap();
    assert_eq!((pong_body.msg_id, pong_body.ping_id), (ping, 2));
    // The content-related ping is acknowledged.
    let ack = raw.next().await;
    let tl::enums::MsgsAck::Ack(ack) = tl::enums::MsgsAck::from_bytes(&ack.body).unwrap();
    assert_eq!(ack.msg_ids, vec![ping]);

    // Server msg_ids grow; seqnos count content-related messages.
    let ping = raw
        .send(&tl::functions::Ping { ping_id: 3 }.to_bytes(), true)
        .await;
    let pong2 = raw.expect(tl::types::Pong::CONSTRUCTOR_ID).await;
    assert!(pong2.msg_id > pong.msg_id);
    let tl::enums::Pong::Pong(p) = tl::enums::Pong::from_bytes(&pong2.body).unwrap();
    assert_eq!(p.msg_id, ping);
    assert_eq!(
        pong2.seqno, 2,
        "one content-related message (new_session_created) so far"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_msg_notifications_follow_the_spec() {
    let sb = sandbox().await;
    let mut raw = Raw::ready(sb.addr(), sb.key.expose_secret()).await;
    let ping = tl::functions::Ping { ping_id: 9 }.to_bytes();
    let now = now_secs();

    let code_for = async |raw: &mut Raw, msg_id: i64, seqno: i32, body: &[u8]| {
        raw.send_raw(msg_id, seqno, body).await;
        let msg = raw
            .expect(tl::types::BadMsgNotification::CONSTRUCTOR_ID)
            .await;
        let tl::enums::BadMsgNotification::Notification(n) =
            tl::enums::BadMsgNotification::from_bytes(&msg.body).unwrap()
        else {
            panic!("expected bad_msg_notification");
        };
        assert_eq!((n.bad_msg_id, n.bad_msg_seqno), (msg_id, seqno));
        n.error_code
    };

    // msg_id more than 300 s in the past / 30 s in the future.
    assert_eq!(code_for(&mut raw, (now - 400) << 32, 101, &ping).await, 16);
    assert_eq!(code_for(&mut raw, (now + 60) << 32, 101, &ping).await, 17);
    // msg_id not divisible by 4.
    let id = raw.next_msg_id() + 2;
    assert_eq!(code_for(&mut raw, id, 101, &ping).await, 18);
    // An API query must be content-related (odd seqno).
    let id = raw.next_msg_id();
    let query = tl::functions::help::GetNearestDc {}.to_bytes();
    assert_eq!(code_for(&mut raw, id, 100, &query).await, 35);
    // msgs_ack must not be content-related.
    let ack = tl::enums::MsgsAck::Ack(tl::types::MsgsAck { msg_ids: vec![1] }).to_bytes();
    let id = raw.next_msg_id();
    assert_eq!(code_for(&mut raw, id, 201, &ack).await, 34);
    // Same odd seqno as an earlier message: seqno too low.
    let id = raw.next_msg_id();
    raw.send_raw(id, 301, &ping).await;
    raw.expect(tl::types::Pong::CONSTRUCTOR_ID).await;
    let id = raw.next_msg_id();
    assert_eq!(code_for(&mut raw, id, 301, &ping).await, 32);
    // A duplicate msg_id is ignored (only acknowledged).
    let dup = raw.next_msg_id();
    raw.send_raw(dup, 303, &ping).await;
    raw.expect(tl::types::Pong::CONSTRUCTOR_ID).await;
    raw.send_raw(dup, 303, &ping).await;
    let msg = raw.expect(tl::types::MsgsAck::CONSTRUCTOR_ID).await;
    let tl::enums::MsgsAck::Ack(ack) = tl::enums::MsgsAck::from_bytes(&msg.body).unwrap();
    assert!(ack.msg_ids.contains(&dup));
    // A fresh ping still works and no second pong for the duplicate was queued before it.
    let last = raw.next_msg_id();
    raw.send_raw(last, 305, &tl::functions::Ping { ping_id: 10 }.to_bytes())
        .await;
    let pong = raw.expect(tl::types::Pong::CONSTRUCTOR_ID).await;
    let tl::enums::Pong::Pong(pong) = tl::enums::Pong::from_bytes(&pong.body).unwrap();
    assert_eq!(pong.msg_id, last);

    let stats = sb.server.stats();
    for code in [16, 17, 18, 32, 34, 35] {
        assert_eq!(stats.bad_msgs_of(code), 1, "code {code}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grammers_mtp_sees_msg_id_too_low() {
    let sb = sandbox().await;
    // grammers' MTP state machine with a clock 400 s behind.
    let mut mtp = grammers_mtproto::mtp::Encrypted::build()
        .time_offset(-400)
        .finish(*sb.key.expose_secret());
    let mut transport = Intermediate::new();
    let mut stream = TcpStream::connect(sb.addr()).await.unwrap();
    let mut buffer = DequeBuffer::with_capacity(4096, 128);
    let sent = mtp
        .push(
            &mut buffer,
            &tl::functions::help::GetNearestDc {}.to_bytes(),
        )
        .expect("fits");
    mtp.finalize(&mut buffer);
    transport.pack(&mut buffer);
    stream.write_all(buffer.as_ref()).await.unwrap();

    let mut read = vec![0u8; 65536];
    let mut tail = 0;
    let results = loop {
        let n = timeout(WAIT, stream.read(&mut read[tail..]))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "answered");
        tail += n;
        match transport.unpack(&mut read[..tail]) {
            Ok(offset) => break mtp.deserialize(&mut read[offset.data_range]).unwrap(),
            Err(mt_transport::Error::MissingBytes) => continue,
            Err(error) => panic!("{error}"),
        }
    };
    let bad = results
        .iter()
        .find_map(|r| match r {
            Deserialization::BadMessage(bad) => Some((bad.msg_id, bad.code)),
            _ => None,
        })
        .expect("a bad_msg_notification");
    assert_eq!(bad, (sent, 16));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn future_salts_are_bare_and_usable() {
    let sb = sandbox().await;
    let mut raw = Raw::ready(sb.addr(), sb.key.expose_secret()).await;
    let request = raw
        .send(&tl::functions::GetFutureSalts { num: 3 }.to_bytes(), true)
        .await;
    // (at most `num` salts, per the spec; grammers asks for 64)
    let msg = raw.expect(tl::types::FutureSalts::CONSTRUCTOR_ID).await;
    assert_eq!(msg.msg_id & 3, 1);
    let tl::enums::FutureSalts::Salts(salts) =
        tl::enums::FutureSalts::from_bytes(&msg.body).unwrap();
    assert_eq!(salts.req_msg_id, request);
    assert!((i64::from(salts.now) - now_secs()).abs() <= 2);
    let salts = salts.salts.0;
    assert_eq!(salts.len(), 3);
    assert_eq!(salts[0].salt, raw.salt, "the first one is the current salt");
    assert!(salts[0].valid_since <= now_secs() as i32 && now_secs() as i32 <= salts[0].valid_until);
    assert!(
        salts
            .windows(2)
            .all(|w| w[0].valid_since < w[1].valid_since)
    );

    // The next salt is accepted right away.
    raw.salt = salts[1].salt;
    let ping = raw
        .send(&tl::functions::Ping { ping_id: 4 }.to_bytes(), true)
        .await;
    let pong = raw.expect(tl::types::Pong::CONSTRUCTOR_ID).await;
    let tl::enums::Pong::Pong(pong) = tl::enums::Pong::from_bytes(&pong.body).unwrap();
    assert_eq!(pong.msg_id, ping);
    assert_eq!(sb.server.stats().bad_msgs_of(48), 1, "only the handshake's");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_delay_disconnect_closes_after_the_delay() {
    let sb = sandbox().await;
    let mut raw = Raw::ready(sb.addr(), sb.key.expose_secret()).await;
    let started = Instant::now();
    let ping = raw
        .send(
            &tl::functions::PingDelayDisconnect {
                ping_id: 8,
                disconnect_delay: 1,
            }
            .to_bytes(),
            true,
        )
        .await;
    let pong = raw.expect(tl::types::Pong::CONSTRUCTOR_ID).await;
    let tl::enums::Pong::Pong(pong) = tl::enums::Pong::from_bytes(&pong.body).unwrap();
    assert_eq!((pong.msg_id, pong.ping_id), (ping, 8));
    assert!(raw.closed().await);
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_results_errors_and_wrappers() {
    let sb = sandbox().await;
    let mut raw = Raw::ready(sb.addr(), sb.key.expose_secret()).await;

    // invokeWithoutUpdates: answered, but the session does not subscribe to updates.
    assert_eq!(sb.server.hub().live_sessions(USER), 0);
    let wrapped = tl::functions::InvokeWithoutUpdates {
        query: tl::functions::InvokeAfterMsg {
            msg_id: raw.last_msg_id,
            query: tl::functions::help::GetNearestDc {},
        },
    };
    raw.send(&wrapped.to_bytes(), true).await;
    rpc_result(&raw.expect(RPC_RESULT).await);
    let calls = sb
        .world
        .calls_of(tl::functions::help::GetNearestDc::CONSTRUCTOR_ID);
    assert!(!calls.last().unwrap().wants_updates);
    assert_eq!(sb.server.hub().live_sessions(USER), 0);

    // A plain query: rpc_result, content-related, an answer; the session now gets updates.
    let query = raw
        .send(&tl::functions::help::GetNearestDc {}.to_bytes(), true)
        .await;
    let msg = raw.expect(RPC_RESULT).await;
    assert_eq!(msg.msg_id & 3, 1);
    assert_eq!(msg.seqno & 1, 1);
    let (req, result) = rpc_result(&msg);
    assert_eq!(req, query);
    let tl::enums::NearestDc::Dc(dc) = tl::enums::NearestDc::from_bytes(&result).unwrap();
    assert_eq!(dc.this_dc, 2);
    assert_eq!(sb.server.hub().live_sessions(USER), 1);

    // A wrapper without its query: INPUT_FETCH_FAIL.
    let mut truncated =
        tl::functions::InvokeWithLayer::<tl::functions::help::GetConfig>::CONSTRUCTOR_ID.to_bytes();
    tl::LAYER.serialize(&mut truncated);
    let query = raw.send(&truncated, true).await;
    let (req, result) = rpc_result(&raw.expect(RPC_RESULT).await);
    assert_eq!(req, query);
    let tl::enums::RpcError::Error(error) = tl::enums::RpcError::from_bytes(&result).unwrap();
    assert_eq!(
        (error.error_code, error.error_message.as_str()),
        (400, "INPUT_FETCH_FAIL")
    );

    // rpc_drop_answer: everything is answered at once, so there is nothing to drop.
    let query = raw
        .send(
            &tl::functions::RpcDropAnswer { req_msg_id: query }.to_bytes(),
            true,
        )
        .await;
    let (req, result) = rpc_result(&raw.expect(RPC_RESULT).await);
    assert_eq!(req, query);
    assert_eq!(
        result,
        tl::enums::RpcDropAnswer::RpcAnswerUnknown.to_bytes()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msgs_state_and_destroy_session() {
    let sb = sandbox().await;
    let mut a = Raw::ready(sb.addr(), sb.key.expose_secret()).await;
    let ping = a
        .send(&tl::functions::Ping { ping_id: 1 }.to_bytes(), true)
        .await;
    a.expect(tl::types::Pong::CONSTRUCTOR_ID).await;

    let unknown = a.next_msg_id();
    let future = (now_secs() + 120) << 32;
    let state_req = tl::enums::MsgsStateReq::Req(tl::types::MsgsStateReq {
        msg_ids: vec![ping, unknown, future],
    });
    let req = a.send(&state_req.to_bytes(), false).await;
    let msg = a.expect(tl::types::MsgsStateInfo::CONSTRUCTOR_ID).await;
    let req_msg_id = i64::from_le_bytes(msg.body[4..12].try_into().unwrap());
    assert_eq!(req_msg_id, req);
    // info is a TL string of three status bytes.
    assert_eq!(&msg.body[12..16], &[3, 4, 2, 3]);

    // Another session of the same key destroys the first one.
    let mut b = Raw::ready(sb.addr(), sb.key.expose_secret()).await;
    // b's handshake ping was refused for its salt; make b's session exist first.
    b.send(&tl::functions::Ping { ping_id: 2 }.to_bytes(), true)
        .await;
    b.expect(tl::types::Pong::CONSTRUCTOR_ID).await;
    for expected in [
        tl::types::DestroySessionOk::CONSTRUCTOR_ID,
        tl::types::DestroySessionNone::CONSTRUCTOR_ID,
    ] {
        b.send(
            &tl::functions::DestroySession {
                session_id: a.session_id,
            }
            .to_bytes(),
            true,
        )
        .await;
        let mut msg = b.next().await;
        while msg.id() == tl::types::MsgsAck::CONSTRUCTOR_ID {
            msg = b.next().await;
        }
        assert_eq!(msg.id(), expected);
        assert_eq!(
            i64::from_le_bytes(msg.body[4..12].try_into().unwrap()),
            a.session_id
        );
    }

    // a's next message opens a new session on the server.
    let ping = a
        .send(&tl::functions::Ping { ping_id: 3 }.to_bytes(), true)
        .await;
    let created = a.expect(tl::types::NewSessionCreated::CONSTRUCTOR_ID).await;
    let tl::enums::NewSession::Created(created) =
        tl::enums::NewSession::from_bytes(&created.body).unwrap();
    assert_eq!(created.first_msg_id, ping);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn containers_and_gzip_from_a_raw_client() {
    let sb = sandbox().await;
    let mut raw = Raw::ready(sb.addr(), sb.key.expose_secret()).await;
    // A container with a query, a ping and an ack; the server answers in one container.
    let query_id = raw.next_msg_id();
    let query_seq = raw.next_seqno(true);
    let ping_id = raw.next_msg_id();
    let ping_seq = raw.next_seqno(true);
    let ack_id = raw.next_msg_id();
    let ack_seq = raw.next_seqno(false);
    let container_id = raw.next_msg_id();
    let container_seq = raw.next_seqno(false);
    let mut body = MSG_CONTAINER.to_bytes();
    3i32.serialize(&mut body);
    for (id, seq, inner) in [
        (
            query_id,
            query_seq,
            tl::functions::help::GetNearestDc {}.to_bytes(),
        ),
        (
            ping_id,
            ping_seq,
            tl::functions::Ping { ping_id: 6 }.to_bytes(),
        ),
        (
            ack_id,
            ack_seq,
            tl::enums::MsgsAck::Ack(tl::types::MsgsAck { msg_ids: vec![] }).to_bytes(),
        ),
    ] {
        id.serialize(&mut body);
        seq.serialize(&mut body);
        (inner.len() as i32).serialize(&mut body);
        body.extend_from_slice(&inner);
    }
    raw.send_raw(container_id, container_seq, &body).await;
    let packet = raw.read_packet().await.unwrap();
    let headers = raw.open(packet);
    assert!(headers.len() > 2, "answers in one container");
    let ids: Vec<u32> = raw.inbox.iter().map(Msg::id).collect();
    assert!(ids.contains(&tl::types::NewSessionCreated::CONSTRUCTOR_ID));
    assert!(ids.contains(&RPC_RESULT));
    assert!(ids.contains(&tl::types::Pong::CONSTRUCTOR_ID));
    let created = raw
        .inbox
        .iter()
        .find(|m| m.id() == tl::types::NewSessionCreated::CONSTRUCTOR_ID)
        .unwrap();
    let tl::enums::NewSession::Created(created) =
        tl::enums::NewSession::from_bytes(&created.body).unwrap();
    assert_eq!(
        created.first_msg_id, query_id,
        "the lowest msg_id in the container"
    );
    raw.inbox.clear();

    // A gzip_packed query, as clients send large ones.
    let query = tl::functions::help::GetNearestDc {}.to_bytes();
    let mut packed = Vec::new();
    {
        use flate2::write::GzEncoder;
        use std::io::Write;
        let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(&query).unwrap();
        let gz = encoder.finish().unwrap();
        0x3072_cfa1u32.serialize(&mut packed);
        gz.serialize(&mut packed);
    }
    let id = raw.send(&packed, true).await;
    let (req, _) = rpc_result(&raw.expect(RPC_RESULT).await);
    assert_eq!(req, id);
    assert_eq!(sb.server.stats().gzip_packed, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_ack_tokens() {
    let sb = sandbox().await;
    let mut raw = Raw::ready(sb.addr(), sb.key.expose_secret()).await;
    // Encrypt by hand to know msg_key_large, and set the quick-ACK bit of the length.
    let msg_id = raw.next_msg_id();
    let seqno = raw.next_seqno(true);
    let mut plaintext = raw.plaintext(
        msg_id,
        seqno,
        &tl::functions::Ping { ping_id: 3 }.to_bytes(),
    );
    let pad = 12 + (16 - (plaintext.len() + 12) % 16) % 16;
    plaintext.extend(std::iter::repeat_n(0x5a, pad));
    let large: [u8; 32] = Sha256::new()
        .chain_update(&raw.key_bytes[88..120])
        .chain_update(&plaintext)
        .finalize()
        .into();
    let msg_key: [u8; 16] = large[8..24].try_into().unwrap();
    let (aes_key, aes_iv) = client_aes(&raw.key_bytes, &msg_key);
    grammers_crypto::aes::ige_encrypt(&mut plaintext, &aes_key, &aes_iv);
    let mut payload = sb.key.key_id().to_le_bytes().to_vec();
    payload.extend_from_slice(&msg_key);
    payload.extend_from_slice(&plaintext);
    let mut frame = ((payload.len() as u32) | 0x8000_0000)
        .to_le_bytes()
        .to_vec();
    frame.extend_from_slice(&payload);
    raw.stream.write_all(&frame).await.unwrap();

    // The token comes first, as a bare 4-byte packet: the MSB of the 32-bit value is set, so it
    // cannot be mistaken for a length.
    let mut token = [0u8; 4];
    timeout(WAIT, raw.stream.read_exact(&mut token))
        .await
        .unwrap()
        .unwrap();
    let expected = u32::from_le_bytes(large[..4].try_into().unwrap()) | (1 << 31);
    assert_eq!(u32::from_le_bytes(token), expected);
    let pong = raw.expect(tl::types::Pong::CONSTRUCTOR_ID).await;
    let tl::enums::Pong::Pong(pong) = tl::enums::Pong::from_bytes(&pong.body).unwrap();
    assert_eq!(pong.msg_id, msg_id);
    assert_eq!(sb.server.stats().quick_acks, 1);
}

/// The client-to-server (x = 0) AES key and IV of MTProto 2.0.
fn client_aes(auth_key: &[u8; 256], msg_key: &[u8; 16]) -> ([u8; 32], [u8; 32]) {
    let a: [u8; 32] = Sha256::new()
        .chain_update(msg_key)
        .chain_update(&auth_key[..36])
        .finalize()
        .into();
    let b: [u8; 32] = Sha256::new()
        .chain_update(&auth_key[40..76])
        .chain_update(msg_key)
        .finalize()
        .into();
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&a[..8]);
    key[8..24].copy_from_slice(&b[8..24]);
    key[24..].copy_from_slice(&a[24..]);
    let mut iv = [0u8; 32];
    iv[..8].copy_from_slice(&b[..8]);
    iv[8..24].copy_from_slice(&a[8..24]);
    iv[24..].copy_from_slice(&b[24..]);
    (key, iv)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_connections() {
    let sb = sandbox().await;
    let mut raw = Raw::ready(sb.addr(), sb.key.expose_secret()).await;
    raw.send(&tl::functions::Ping { ping_id: 1 }.to_bytes(), true)
        .await;
    raw.expect(tl::types::Pong::CONSTRUCTOR_ID).await;
    let addr = sb.addr();
    timeout(WAIT, sb.server.shutdown())
        .await
        .expect("shuts down in time");
    assert!(raw.closed().await);
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no longer listening"
    );
}
