//! Server side of the MTProto transports
//! (<https://core.telegram.org/mtproto/mtproto-transports>): detection from the first bytes of a
//! connection, and framing in both directions. Sans-I/O: bytes in, frames out.

use std::fmt;

use crc32fast::Hasher;

/// The MTProto transport protocol a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// `0xef`, then one-byte (or `0x7f` + three-byte) lengths in 4-byte words.
    Abridged,
    /// `0xeeeeeeee`, then 4-byte lengths.
    Intermediate,
    /// `0xdddddddd`, then 4-byte lengths covering the payload and 0..15 random padding bytes.
    PaddedIntermediate,
    /// No tag; length, sequence number, payload and CRC32 per packet.
    Full,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Abridged => "abridged",
            Self::Intermediate => "intermediate",
            Self::PaddedIntermediate => "padded intermediate",
            Self::Full => "full",
        })
    }
}

const TAG_ABRIDGED: u8 = 0xef;
const TAG_INTERMEDIATE: [u8; 4] = [0xee; 4];
const TAG_PADDED: [u8; 4] = [0xdd; 4];

/// What the first bytes of a connection say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Detected {
    /// Not enough bytes yet.
    NeedMore,
    /// A plain transport; its tag (if any) is `tag_len` bytes long and must be skipped.
    Plain { kind: TransportKind, tag_len: usize },
    /// A 64-byte obfuscation initialization payload.
    Obfuscated,
}

/// Detects the transport from the first bytes a client sent.
///
/// The full transport has no tag: its first packet starts with a length and the sequence
/// number 0, which is also why an obfuscation payload may never have zeros at bytes 4..8.
pub(crate) fn detect(first: &[u8]) -> Detected {
    match first {
        [] => Detected::NeedMore,
        [TAG_ABRIDGED, ..] => Detected::Plain {
            kind: TransportKind::Abridged,
            tag_len: 1,
        },
        [a, b, c, d, ..] if [*a, *b, *c, *d] == TAG_INTERMEDIATE => Detected::Plain {
            kind: TransportKind::Intermediate,
            tag_len: 4,
        },
        [a, b, c, d, ..] if [*a, *b, *c, *d] == TAG_PADDED => Detected::Plain {
            kind: TransportKind::PaddedIntermediate,
            tag_len: 4,
        },
        [_, _, _, _, 0, 0, 0, 0, ..] => Detected::Plain {
            kind: TransportKind::Full,
            tag_len: 0,
        },
        [_, _, _, _, _, _, _, _, ..] => Detected::Obfuscated,
        _ => Detected::NeedMore,
    }
}

/// The transport of an obfuscated connection, from the tag at bytes 56..60 of the decrypted
/// initialization payload. The full transport cannot be obfuscated (it has no tag).
pub(crate) fn kind_from_obfuscated_tag(tag: [u8; 4]) -> Option<TransportKind> {
    match tag {
        [TAG_ABRIDGED, TAG_ABRIDGED, TAG_ABRIDGED, TAG_ABRIDGED] => Some(TransportKind::Abridged),
        TAG_INTERMEDIATE => Some(TransportKind::Intermediate),
        TAG_PADDED => Some(TransportKind::PaddedIntermediate),
        _ => None,
    }
}

/// A malformed or hostile packet; the connection is closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum FrameError {
    /// The announced payload is larger than the server accepts.
    #[error("packet of {len} bytes exceeds the limit of {max} bytes")]
    TooLong { len: u64, max: usize },
    /// The length field is impossible for this transport.
    #[error("invalid packet length {len} for the {kind} transport")]
    BadLength { len: i64, kind: TransportKind },
    /// Full transport: the packet sequence number is not the expected one.
    #[error("packet sequence number {got}, expected {expected}")]
    BadSeq { expected: u32, got: u32 },
    /// Full transport: the CRC32 does not match.
    #[error("packet CRC32 {got:08x}, computed {expected:08x}")]
    BadCrc { expected: u32, got: u32 },
}

/// One decoded packet: its payload is `buf[start..end]` and `consumed` bytes belong to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Frame {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) consumed: usize,
    /// The client asked for a quick acknowledgement of this packet.
    pub(crate) quick_ack: bool,
}

/// Framing state of one connection.
#[derive(Debug)]
pub(crate) struct Framing {
    kind: TransportKind,
    recv_seq: u32,
    send_seq: u32,
}

impl Framing {
    pub(crate) fn new(kind: TransportKind) -> Self {
        Self {
            kind,
            recv_seq: 0,
            send_seq: 0,
        }
    }

    /// Decodes the next packet at the start of `buf`, if it is complete. A length over
    /// `max_payload` is refused as soon as the length field has arrived.
    pub(crate) fn decode(
        &mut self,
        buf: &[u8],
        max_payload: usize,
    ) -> Result<Option<Frame>, FrameError> {
        match self.kind {
            TransportKind::Abridged => decode_abridged(buf, max_payload),
            TransportKind::Intermediate | TransportKind::PaddedIntermediate => {
                decode_intermediate(self.kind, buf, max_payload)
            }
            TransportKind::Full => self.decode_full(buf, max_payload),
        }
    }

    fn decode_full(&mut self, buf: &[u8], max_payload: usize) -> Result<Option<Frame>, FrameError> {
        let Some(len) = read_u32(buf, 0) else {
            return Ok(None);
        };
        let len = len as i32;
        if len < 12 || len % 4 != 0 {
            return Err(FrameError::BadLength {
                len: len.into(),
                kind: self.kind,
            });
        }
        let len = len as usize;
        if len - 12 > max_payload {
            return Err(FrameError::TooLong {
                len: (len - 12) as u64,
                max: max_payload,
            });
        }
        if buf.len() < len {
            return Ok(None);
        }
        let seq = read_u32(buf, 4).unwrap_or_default();
        if seq != self.recv_seq {
            return Err(FrameError::BadSeq {
                expected: self.recv_seq,
                got: seq,
            });
        }
        let got = read_u32(buf, len - 4).unwrap_or_default();
        let expected = crc32(&buf[..len - 4]);
        if got != expected {
            return Err(FrameError::BadCrc { expected, got });
        }
        self.recv_seq = self.recv_seq.wrapping_add(1);
        Ok(Some(Frame {
            start: 8,
            end: len - 4,
            consumed: len,
            quick_ack: false,
        }))
    }

    /// Appends `payload` (a multiple of 4 bytes) framed for this transport.
    pub(crate) fn encode(&mut self, payload: &[u8], out: &mut Vec<u8>) {
        match self.kind {
            TransportKind::Abridged => {
                let words = payload.len() / 4;
                if words < 0x7f {
                    out.push(words as u8);
                } else {
                    let w = (words as u32).to_le_bytes();
                    out.extend_from_slice(&[0x7f, w[0], w[1], w[2]]);
                }
                out.extend_from_slice(payload);
            }
            TransportKind::Intermediate => {
                out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
                out.extend_from_slice(payload);
            }
            TransportKind::PaddedIntermediate => {
                let pad = rand::random_range(0..16usize);
                out.extend_from_slice(&((payload.len() + pad) as u32).to_le_bytes());
                out.extend_from_slice(payload);
                let start = out.len();
                out.resize(start + pad, 0);
                rand::fill(&mut out[start..]);
            }
            TransportKind::Full => {
                let start = out.len();
                out.extend_from_slice(&((payload.len() + 12) as u32).to_le_bytes());
                out.extend_from_slice(&self.send_seq.to_le_bytes());
                out.extend_from_slice(payload);
                let crc = crc32(&out[start..]);
                out.extend_from_slice(&crc.to_le_bytes());
                self.send_seq = self.send_seq.wrapping_add(1);
            }
        }
    }

    /// Appends a transport error: a packet whose payload is the negative error code as a
    /// 4-byte little-endian integer (e.g. -404 for an unknown auth key).
    pub(crate) fn encode_error(&mut self, code: i32, out: &mut Vec<u8>) {
        let payload = (-code.abs()).to_le_bytes();
        match self.kind {
            // No random padding on errors: a 4-byte payload is unambiguous.
            TransportKind::PaddedIntermediate => {
                out.extend_from_slice(&4u32.to_le_bytes());
                out.extend_from_slice(&payload);
            }
            _ => self.encode(&payload, out),
        }
    }

    /// Appends a quick ACK for `token`, in this transport's form. The full transport has none.
    pub(crate) fn encode_quick_ack(&mut self, token: u32, out: &mut Vec<u8>) {
        match self.kind {
            TransportKind::Abridged => out.extend_from_slice(&token.to_be_bytes()),
            TransportKind::Intermediate => out.extend_from_slice(&token.to_le_bytes()),
            TransportKind::PaddedIntermediate => {
                let pad = rand::random_range(0..9usize);
                out.extend_from_slice(&((8 + pad) as u32).to_le_bytes());
                out.extend_from_slice(&[0xff; 4]);
                out.extend_from_slice(&token.to_le_bytes());
                let start = out.len();
                out.resize(start + pad, 0);
                rand::fill(&mut out[start..]);
            }
            TransportKind::Full => {}
        }
    }
}

fn decode_abridged(buf: &[u8], max_payload: usize) -> Result<Option<Frame>, FrameError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    let quick_ack = first & 0x80 != 0;
    let (words, header) = if first & 0x7f == 0x7f {
        let [_, a, b, c, ..] = *buf else {
            return Ok(None);
        };
        (u32::from_le_bytes([a, b, c, 0]) as usize, 4)
    } else {
        (usize::from(first & 0x7f), 1)
    };
    let len = words * 4;
    if len == 0 {
        return Err(FrameError::BadLength {
            len: 0,
            kind: TransportKind::Abridged,
        });
    }
    if len > max_payload {
        return Err(FrameError::TooLong {
            len: len as u64,
            max: max_payload,
        });
    }
    if buf.len() < header + len {
        return Ok(None);
    }
    Ok(Some(Frame {
        start: header,
        end: header + len,
        consumed: header + len,
        quick_ack,
    }))
}

fn decode_intermediate(
    kind: TransportKind,
    buf: &[u8],
    max_payload: usize,
) -> Result<Option<Frame>, FrameError> {
    let Some(raw) = read_u32(buf, 0) else {
        return Ok(None);
    };
    let quick_ack = raw & 0x8000_0000 != 0;
    let len = (raw & 0x7fff_ffff) as usize;
    let misaligned = kind == TransportKind::Intermediate && len % 4 != 0;
    if len == 0 || misaligned {
        return Err(FrameError::BadLength {
            len: len as i64,
            kind,
        });
    }
    if len > max_payload {
        return Err(FrameError::TooLong {
            len: len as u64,
            max: max_payload,
        });
    }
    if buf.len() < 4 + len {
        return Ok(None);
    }
    Ok(Some(Frame {
        start: 4,
        end: 4 + len,
        consumed: 4 + len,
        quick_ack,
    }))
}

fn read_u32(buf: &[u8], at: usize) -> Option<u32> {
    let bytes = buf.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

fn crc32(data: &[u8]) -> u32 {
    let mut hasher = Hasher::new();
    hasher.update(data);
    hasher.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 1 << 20;

    fn roundtrip(kind: TransportKind, payload: &[u8]) {
        let mut server = Framing::new(kind);
        let mut client = Framing::new(kind);
        let mut wire = Vec::new();
        server.encode(payload, &mut wire);
        server.encode(payload, &mut wire);
        let first = client.decode(&wire, MAX).unwrap().unwrap();
        let got = &wire[first.start..first.end];
        assert!(got.starts_with(payload), "{kind}");
        if kind != TransportKind::PaddedIntermediate {
            assert_eq!(got, payload, "{kind}");
        }
        let rest = &wire[first.consumed..];
        let second = client.decode(rest, MAX).unwrap().unwrap();
        assert_eq!(second.consumed, rest.len());
        // A partial packet needs more bytes, never fails.
        for cut in 0..first.consumed {
            let mut fresh = Framing::new(kind);
            assert_eq!(
                fresh.decode(&wire[..cut], MAX),
                Ok(None),
                "{kind} cut {cut}"
            );
        }
    }

    #[test]
    fn every_transport_roundtrips() {
        for kind in [
            TransportKind::Abridged,
            TransportKind::Intermediate,
            TransportKind::PaddedIntermediate,
            TransportKind::Full,
        ] {
            roundtrip(kind, &[1, 2, 3, 4]);
            roundtrip(kind, &[7u8; 124 * 4]);
            roundtrip(kind, &[9u8; 127 * 4]);
            roundtrip(kind, &[5u8; 5000]);
        }
    }

    #[test]
    fn abridged_envelopes_follow_the_spec() {
        let mut framing = Framing::new(TransportKind::Abridged);
        let mut out = Vec::new();
        framing.encode(&[0u8; 8], &mut out);
        assert_eq!(out[0], 2);
        out.clear();
        framing.encode(&[0u8; 127 * 4], &mut out);
        assert_eq!(&out[..4], &[0x7f, 127, 0, 0]);
        // Quick-ACK request bit, short and long forms.
        assert_eq!(
            decode_abridged(&[0x81, 1, 2, 3, 4], MAX),
            Ok(Some(Frame {
                start: 1,
                end: 5,
                consumed: 5,
                quick_ack: true
            }))
        );
        assert!(
            decode_abridged(&[0xff, 1, 0, 0, 1, 2, 3, 4], MAX)
                .unwrap()
                .unwrap()
                .quick_ack
        );
    }

    #[test]
    fn full_transport_checks_crc_and_seq() {
        let mut server = Framing::new(TransportKind::Full);
        let mut wire = Vec::new();
        server.encode(&[1, 2, 3, 4], &mut wire);
        // len 16, seq 0, payload, CRC32 of the first 12 bytes.
        assert_eq!(&wire[..8], &[16, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);

        let mut corrupt = wire.clone();
        corrupt[9] ^= 1;
        assert!(matches!(
            Framing::new(TransportKind::Full).decode(&corrupt, MAX),
            Err(FrameError::BadCrc { .. })
        ));

        let mut second = Vec::new();
        server.encode(&[1, 2, 3, 4], &mut second);
        assert_eq!(
            Framing::new(TransportKind::Full).decode(&second, MAX),
            Err(FrameError::BadSeq {
                expected: 0,
                got: 1
            })
        );
    }

    #[test]
    fn oversized_lengths_fail_before_the_data_arrives() {
        let huge = 100u32 * 1024 * 1024;
        let mut intermediate = Framing::new(TransportKind::Intermediate);
        assert!(matches!(
            intermediate.decode(&huge.to_le_bytes(), MAX),
            Err(FrameError::TooLong { .. })
        ));
        let mut full = Framing::new(TransportKind::Full);
        assert!(matches!(
            full.decode(&huge.to_le_bytes(), MAX),
            Err(FrameError::TooLong { .. })
        ));
        assert!(matches!(
            full.decode(&(-404i32).to_le_bytes(), MAX),
            Err(FrameError::BadLength { .. })
        ));
        assert!(matches!(
            decode_abridged(&[0x7f, 0xff, 0xff, 0xff], MAX),
            Err(FrameError::TooLong { .. })
        ));
    }

    #[test]
    fn transport_errors_are_framed() {
        let mut out = Vec::new();
        Framing::new(TransportKind::Intermediate).encode_error(404, &mut out);
        assert_eq!(out, [4, 0, 0, 0, 0x6c, 0xfe, 0xff, 0xff]);
        out.clear();
        Framing::new(TransportKind::Abridged).encode_error(404, &mut out);
        assert_eq!(out, [1, 0x6c, 0xfe, 0xff, 0xff]);
        out.clear();
        Framing::new(TransportKind::Full).encode_error(404, &mut out);
        assert_eq!(
            &out[..12],
            &[16, 0, 0, 0, 0, 0, 0, 0, 0x6c, 0xfe, 0xff, 0xff]
        );
    }

    #[test]
    fn detection() {
        assert_eq!(detect(&[]), Detected::NeedMore);
        assert!(matches!(
            detect(&[0xef]),
            Detected::Plain {
                kind: TransportKind::Abridged,
                tag_len: 1
            }
        ));
        assert_eq!(detect(&[0xee, 0xee, 0xee]), Detected::NeedMore);
        assert!(matches!(
            detect(&[0xee; 4]),
            Detected::Plain {
                kind: TransportKind::Intermediate,
                ..
            }
        ));
        assert!(matches!(
            detect(&[0xdd; 4]),
            Detected::Plain {
                kind: TransportKind::PaddedIntermediate,
                ..
            }
        ));
        assert!(matches!(
            detect(&[0x40, 0, 0, 0, 0, 0, 0, 0]),
            Detected::Plain {
                kind: TransportKind::Full,
                tag_len: 0
            }
        ));
        assert_eq!(detect(&[1, 2, 3, 4, 5, 6, 7, 8]), Detected::Obfuscated);
        assert_eq!(
            kind_from_obfuscated_tag([0xef; 4]),
            Some(TransportKind::Abridged)
        );
        assert_eq!(kind_from_obfuscated_tag([0, 0, 0, 0]), None);
    }
}
