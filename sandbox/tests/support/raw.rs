//! A minimal hand-driven MTProto client over the intermediate transport, for traffic a
//! well-behaved library never sends (floods, partial packets, pipelines that are never read).
//! Encryption is grammers-crypto's client side. Shared by `tests/sandbox_hostile.rs` and
//! `benches/load.rs`.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use grammers_crypto::DequeBuffer;
use grammers_tl_types::{self as tl, Deserializable, Identifiable, Serializable};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

pub const RPC_RESULT: u32 = 0xf35c_6d01;
pub const MSG_CONTAINER: u32 = 0x73f1_f8dc;
pub const RPC_ERROR: u32 = 0x2144_ca19;

/// One message from the server.
#[derive(Debug)]
pub struct Msg {
    pub msg_id: i64,
    pub seqno: i32,
    pub body: Vec<u8>,
}

impl Msg {
    /// The constructor id of the body.
    pub fn id(&self) -> u32 {
        self.body
            .get(..4)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// `(req_msg_id, result)` of an `rpc_result`.
    pub fn rpc_result(&self) -> Option<(i64, &[u8])> {
        if self.id() != RPC_RESULT {
            return None;
        }
        let req = i64::from_le_bytes(self.body.get(4..12)?.try_into().ok()?);
        Some((req, &self.body[12..]))
    }
}

/// The raw client.
pub struct Raw {
    pub stream: TcpStream,
    key: grammers_crypto::AuthKey,
    pub session_id: i64,
    pub salt: i64,
    sent_content: i32,
    last_msg_id: i64,
    read: Vec<u8>,
    inbox: VecDeque<Msg>,
    pub wait: Duration,
}

impl Raw {
    /// Connects and sends the intermediate transport's tag.
    pub async fn connect(addr: SocketAddr, key: &[u8; 256]) -> std::io::Result<Self> {
        let mut stream = TcpStream::connect(addr).await?;
        stream.write_all(&[0xee; 4]).await?;
        Ok(Self::over(stream, key))
    }

    /// A client over an already connected stream whose tag was sent.
    pub fn over(stream: TcpStream, key: &[u8; 256]) -> Self {
        Self {
            stream,
            key: grammers_crypto::AuthKey::from_bytes(*key),
            session_id: rand::random(),
            salt: 0,
            sent_content: 0,
            last_msg_id: 0,
            read: Vec::new(),
            inbox: VecDeque::new(),
            wait: Duration::from_secs(10),
        }
    }

    /// Connects and learns the server salt from `bad_server_salt`.
    pub async fn ready(addr: SocketAddr, key: &[u8; 256]) -> std::io::Result<Self> {
        let mut raw = Self::connect(addr, key).await?;
        raw.learn_salt().await?;
        Ok(raw)
    }

    /// Sends a ping with salt 0 and keeps the salt `bad_server_salt` gives.
    pub async fn learn_salt(&mut self) -> std::io::Result<()> {
        self.send(&tl::functions::Ping { ping_id: 1 }.to_bytes(), true)
            .await?;
        let bad = self
            .expect(tl::types::BadServerSalt::CONSTRUCTOR_ID)
            .await
            .ok_or_else(|| std::io::Error::other("no bad_server_salt"))?;
        match tl::enums::BadMsgNotification::from_bytes(&bad.body) {
            Ok(tl::enums::BadMsgNotification::BadServerSalt(bad)) => {
                self.salt = bad.new_server_salt;
                Ok(())
            }
            _ => Err(std::io::Error::other("not a bad_server_salt")),
        }
    }

    pub fn next_msg_id(&mut self) -> i64 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let id = ((now.as_secs() as i64) << 32) | (i64::from(now.subsec_nanos()) << 2);
        self.last_msg_id = id.max(self.last_msg_id + 4) & !3;
        self.last_msg_id
    }

    pub fn next_seqno(&mut self, content_related: bool) -> i32 {
        let seqno = self.sent_content * 2 + i32::from(content_related);
        self.sent_content += i32::from(content_related);
        seqno
    }

    /// The encrypted payload of one message.
    pub fn seal(&self, msg_id: i64, seqno: i32, body: &[u8]) -> Vec<u8> {
        let mut p = Vec::with_capacity(32 + body.len());
        self.salt.serialize(&mut p);
        self.session_id.serialize(&mut p);
        msg_id.serialize(&mut p);
        seqno.serialize(&mut p);
        (body.len() as i32).serialize(&mut p);
        p.extend_from_slice(body);
        let mut buffer = DequeBuffer::with_capacity(p.len() + 64, 32);
        buffer.extend(&p);
        grammers_crypto::encrypt_data_v2(&mut buffer, &self.key);
        buffer.as_ref().to_vec()
    }

    /// One intermediate-transport packet.
    pub fn frame(payload: &[u8]) -> Vec<u8> {
        let mut frame = (payload.len() as u32).to_le_bytes().to_vec();
        frame.extend_from_slice(payload);
        frame
    }

    /// Sends one message with a fresh msg_id and the right seqno; returns its msg_id.
    pub async fn send(&mut self, body: &[u8], content_related: bool) -> std::io::Result<i64> {
        let packet = self.packet(body, content_related);
        self.stream.write_all(&packet.1).await?;
        Ok(packet.0)
    }

    /// A framed message ready to send, and its msg_id.
    pub fn packet(&mut self, body: &[u8], content_related: bool) -> (i64, Vec<u8>) {
        let msg_id = self.next_msg_id();
        let seqno = self.next_seqno(content_related);
        (msg_id, Self::frame(&self.seal(msg_id, seqno, body)))
    }

    /// A `msg_container` of `bodies` (each content-related), and the inner msg_ids.
    pub fn container(&mut self, bodies: &[Vec<u8>]) -> (Vec<i64>, Vec<u8>) {
        let mut container = MSG_CONTAINER.to_bytes();
        (bodies.len() as i32).serialize(&mut container);
        let mut ids = Vec::new();
        for body in bodies {
            let msg_id = self.next_msg_id();
            let seqno = self.next_seqno(true);
            msg_id.serialize(&mut container);
            seqno.serialize(&mut container);
            (body.len() as i32).serialize(&mut container);
            container.extend_from_slice(body);
            ids.push(msg_id);
        }
        (ids, container)
    }

    /// Reads one packet's payload; `None` once the server closed the connection (or on
    /// timeout).
    pub async fn read_packet(&mut self) -> Option<Vec<u8>> {
        loop {
            if self.read.len() >= 4 {
                let len = u32::from_le_bytes(self.read[..4].try_into().ok()?) as usize;
                if self.read.len() >= 4 + len {
                    let packet = self.read[4..4 + len].to_vec();
                    self.read.drain(..4 + len);
                    return Some(packet);
                }
            }
            let mut chunk = [0u8; 65536];
            let n = timeout(self.wait, self.stream.read(&mut chunk))
                .await
                .ok()?
                .unwrap_or(0);
            if n == 0 {
                return None;
            }
            self.read.extend_from_slice(&chunk[..n]);
        }
    }

    /// Decrypts a packet and queues its messages (containers flattened). A 4-byte packet is a
    /// transport error: `Err(code)`.
    pub fn open(&mut self, mut payload: Vec<u8>) -> Result<(), i32> {
        if payload.len() == 4 {
            return Err(i32::from_le_bytes(
                payload[..4].try_into().unwrap_or([0; 4]),
            ));
        }
        let Ok(plaintext) = grammers_crypto::decrypt_data_v2(&mut payload, &self.key) else {
            return Err(0);
        };
        let plaintext = plaintext.to_vec();
        let msg_id = i64::from_le_bytes(plaintext[16..24].try_into().unwrap_or_default());
        let seqno = i32::from_le_bytes(plaintext[24..28].try_into().unwrap_or_default());
        let len = i32::from_le_bytes(plaintext[28..32].try_into().unwrap_or_default()) as usize;
        let body = plaintext[32..32 + len].to_vec();
        if body.get(..4) == Some(&MSG_CONTAINER.to_le_bytes()[..]) {
            let count = i32::from_le_bytes(body[4..8].try_into().unwrap_or_default());
            let mut at = 8;
            for _ in 0..count {
                let id = i64::from_le_bytes(body[at..at + 8].try_into().unwrap_or_default());
                let seq = i32::from_le_bytes(body[at + 8..at + 12].try_into().unwrap_or_default());
                let n = i32::from_le_bytes(body[at + 12..at + 16].try_into().unwrap_or_default())
                    as usize;
                self.inbox.push_back(Msg {
                    msg_id: id,
                    seqno: seq,
                    body: body[at + 16..at + 16 + n].to_vec(),
                });
                at += 16 + n;
            }
        } else {
            self.inbox.push_back(Msg {
                msg_id,
                seqno,
                body,
            });
        }
        Ok(())
    }

    /// The next message from the server; `None` if the connection closed, timed out or sent a
    /// transport error.
    pub async fn next(&mut self) -> Option<Msg> {
        loop {
            if let Some(msg) = self.inbox.pop_front() {
                return Some(msg);
            }
            let packet = self.read_packet().await?;
            self.open(packet).ok()?;
        }
    }

    /// The transport error the server sent before closing, if that is what comes next.
    pub async fn transport_error(&mut self) -> Option<i32> {
        let packet = self.read_packet().await?;
        self.open(packet).err()
    }

    /// The next message with constructor `id`, skipping up to 64 others.
    pub async fn expect(&mut self, id: u32) -> Option<Msg> {
        for _ in 0..64 {
            let msg = self.next().await?;
            if msg.id() == id {
                return Some(msg);
            }
        }
        None
    }

    /// Sends a ping and waits for its pong: the connection is served.
    pub async fn ping(&mut self) -> bool {
        let ping_id = rand::random();
        if self
            .send(&tl::functions::Ping { ping_id }.to_bytes(), true)
            .await
            .is_err()
        {
            return false;
        }
        for _ in 0..64 {
            match self.next().await {
                None => return false,
                Some(msg) if msg.id() == tl::types::Pong::CONSTRUCTOR_ID => {
                    if let Ok(tl::enums::Pong::Pong(pong)) = tl::enums::Pong::from_bytes(&msg.body)
                        && pong.ping_id == ping_id
                    {
                        return true;
                    }
                }
                Some(_) => {}
            }
        }
        false
    }

    /// Whether the server closes the connection within `within` (reading and discarding).
    pub async fn closed_within(&mut self, within: Duration) -> bool {
        closed_within(&mut self.stream, within).await
    }
}

/// Whether the peer closes `stream` within `within` (reading and discarding).
pub async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    let mut chunk = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
            Err(_) => return false,
        }
    }
}
