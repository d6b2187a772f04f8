//! The wire form of messages: reading containers, copies, id vectors and `gzip_packed`, and
//! sealing answers into a payload.

use super::*;

/// The body of an `rpc_result` for `req_msg_id` (not gzip-packed).
pub(super) fn rpc_result_body(req_msg_id: i64, result: Vec<u8>) -> Vec<u8> {
    let mut body = Vec::with_capacity(12 + result.len());
    RPC_RESULT.serialize(&mut body);
    req_msg_id.serialize(&mut body);
    body.extend_from_slice(&result);
    body
}

/// The rest of a buffer, unparsed: the `query:!X` of the `invoke*` wrappers.
pub(super) struct Rest(pub(super) Vec<u8>);

impl Deserializable for Rest {
    fn deserialize(buf: &mut Cursor<'_>) -> tl::deserialize::Result<Self> {
        let mut rest = Vec::new();
        buf.read_to_end(&mut rest)?;
        Ok(Self(rest))
    }
}

/// Deserializes the fields of `T` (after its constructor id). Truncated or inconsistent
/// fields close the connection.
pub(super) fn parse_fields<T: Deserializable>(fields: &[u8]) -> Result<T, Stop> {
    T::deserialize(&mut Cursor::from_slice(fields)).map_err(|_| Stop::Close(CloseReason::Malformed))
}

/// Reads a boxed `Vector<long>` of message ids, enforcing the 8192-id limit.
pub(super) fn read_ids(fields: &[u8]) -> Result<Vec<i64>, Stop> {
    let malformed = Stop::Close(CloseReason::Malformed);
    if read_i32(fields, 0).map(|id| id as u32) != Some(VECTOR) {
        return Err(malformed);
    }
    let count = read_i32(fields, 4)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or(Stop::Close(CloseReason::Malformed))?;
    if count > MAX_IDS {
        return Err(Stop::Close(CloseReason::Flood));
    }
    (0..count)
        .map(|i| read_i64(fields, 8 + 8 * i).ok_or(Stop::Close(CloseReason::Malformed)))
        .collect()
}

/// The messages of a `msg_container`; `None` if the container is invalid (code 64).
pub(super) fn parse_container(top: Item<'_>) -> Result<Option<Vec<Item<'_>>>, Stop> {
    let body = top.body;
    let Some(count) = read_i32(body, 4).and_then(|n| usize::try_from(n).ok()) else {
        return Ok(None);
    };
    if count > MAX_CONTAINER_MESSAGES {
        return Err(Stop::Close(CloseReason::Flood));
    }
    let mut items = Vec::with_capacity(count);
    let mut at = 8;
    for _ in 0..count {
        let Some((item, next)) = read_message(body, at) else {
            return Ok(None);
        };
        let nested = matches!(constructor_id(item.body), Some(MSG_CONTAINER | MSG_COPY));
        if item.msg_id >= top.msg_id || nested {
            return Ok(None);
        }
        items.push(item);
        at = next;
    }
    if at != body.len() {
        return Ok(None);
    }
    Ok(Some(items))
}

/// The original message of a `msg_copy`, processed as if the wrapper were not there.
pub(super) fn parse_copy(top: Item<'_>) -> Option<Item<'_>> {
    let (item, next) = read_message(top.body, 4)?;
    let valid = next == top.body.len()
        && item.msg_id < top.msg_id
        && !matches!(constructor_id(item.body), Some(MSG_CONTAINER | MSG_COPY));
    valid.then_some(item)
}

/// `message msg_id:long seqno:int bytes:int body:Object` at `at`; returns it and the offset
/// after it.
pub(super) fn read_message(buf: &[u8], at: usize) -> Option<(Item<'_>, usize)> {
    let msg_id = read_i64(buf, at)?;
    let seqno = read_i32(buf, at + 8)?;
    let len = usize::try_from(read_i32(buf, at + 12)?).ok()?;
    if len % 4 != 0 || len < 4 {
        return None;
    }
    let start = at + 16;
    let body = buf.get(start..start.checked_add(len)?)?;
    Some((
        Item {
            msg_id,
            seqno,
            body,
        },
        start + len,
    ))
}

/// Unpacks the `packed_data` of a `gzip_packed`, refusing more than `limit` bytes.
pub(super) fn gunzip(fields: &[u8], limit: usize) -> Option<Vec<u8>> {
    let packed = Vec::<u8>::deserialize(&mut Cursor::from_slice(fields)).ok()?;
    let mut unpacked = Vec::new();
    GzDecoder::new(&packed[..])
        .take(limit as u64 + 1)
        .read_to_end(&mut unpacked)
        .ok()?;
    (unpacked.len() <= limit && unpacked.len() % 4 == 0 && !unpacked.is_empty()).then_some(unpacked)
}

/// `gzip_packed` of `data`.
pub(super) fn gzip(data: &[u8]) -> Option<Vec<u8>> {
    use std::io::Write;
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(data).ok()?;
    let packed = encoder.finish().ok()?;
    let mut body = GZIP_PACKED.to_bytes();
    packed.serialize(&mut body);
    Some(body)
}

/// Encrypts `messages` for the client's session: one message alone, several in containers of
/// at most 1024 messages and about 1 MB. Returns the payloads to frame.
pub(crate) fn seal(
    shared: &Shared,
    key: &KeyEntry,
    session_id: i64,
    messages: Vec<OutMsg>,
) -> Vec<Vec<u8>> {
    if messages.is_empty() {
        return Vec::new();
    }
    let now = unix_now();
    let salt = shared.salts.current(key.key_id, now);
    let mut payloads = Vec::new();
    let mut sessions = shared.sessions.lock();
    // A session the server forgot (or never created, e.g. a refused first message) still gets
    // well-formed seq_nos from a counter of this batch.
    let mut fallback_content = 0i32;
    let mut next_seqno = |content_related: bool| match sessions.get(key.key_id, session_id) {
        Some(session) => session.next_seqno(content_related),
        None => {
            let seqno = fallback_content * 2 + i32::from(content_related);
            fallback_content += i32::from(content_related);
            seqno
        }
    };

    let mut batch: Vec<OutMsg> = Vec::new();
    let mut batch_len = 0usize;
    let mut batches = Vec::new();
    for message in messages {
        let len = message.body.len() + 16;
        if !batch.is_empty()
            && (batch.len() == MAX_CONTAINER_MESSAGES || batch_len + len > MAX_OUT_CONTAINER)
        {
            batches.push(std::mem::take(&mut batch));
            batch_len = 0;
        }
        batch_len += len;
        batch.push(message);
    }
    batches.push(batch);

    for batch in batches {
        let mut plaintext = Vec::with_capacity(16 + 24 + batch_len_of(&batch));
        salt.serialize(&mut plaintext);
        session_id.serialize(&mut plaintext);
        if let [single] = &batch[..] {
            let msg_id = shared.msg_ids.next(single.response);
            write_message(
                &mut plaintext,
                msg_id,
                next_seqno(single.content_related),
                &single.body,
            );
        } else {
            let mut container = Vec::with_capacity(8 + batch_len_of(&batch));
            MSG_CONTAINER.serialize(&mut container);
            (batch.len() as i32).serialize(&mut container);
            for message in &batch {
                let msg_id = shared.msg_ids.next(message.response);
                write_message(
                    &mut container,
                    msg_id,
                    next_seqno(message.content_related),
                    &message.body,
                );
            }
            let msg_id = shared.msg_ids.next(false);
            write_message(&mut plaintext, msg_id, next_seqno(false), &container);
        }
        payloads.push(plaintext);
    }
    drop(sessions);
    payloads
        .into_iter()
        .map(|plaintext| crypto::encrypt_for_client(&key.key, key.key_id, plaintext))
        .collect()
}

pub(super) fn batch_len_of(batch: &[OutMsg]) -> usize {
    batch.iter().map(|m| m.body.len() + 16).sum()
}

pub(super) fn write_message(out: &mut Vec<u8>, msg_id: i64, seqno: i32, body: &[u8]) {
    msg_id.serialize(out);
    seqno.serialize(out);
    (body.len() as i32).serialize(out);
    out.extend_from_slice(body);
}

pub(super) fn read_i64(buf: &[u8], at: usize) -> Option<i64> {
    let bytes = buf.get(at..at.checked_add(8)?)?;
    let mut array = [0u8; 8];
    array.copy_from_slice(bytes);
    Some(i64::from_le_bytes(array))
}

pub(super) fn read_i32(buf: &[u8], at: usize) -> Option<i32> {
    let bytes = buf.get(at..at.checked_add(4)?)?;
    Some(i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

pub(super) fn clamp_i32(value: i64) -> i32 {
    value.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}
