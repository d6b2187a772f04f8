//! One run over a decrypted payload: the message rules, service messages, request unwrapping
//! and dispatch to the handler, and the answers.

use super::*;

impl Run<'_> {
    pub(super) fn top_level(&mut self, salt: i64, top: Item<'_>) -> Result<(), Stop> {
        let stats = &self.shared.stats;
        stats.message_received();
        if top.msg_id & 3 != 0 {
            self.bad_msg(top, 18);
            return Ok(());
        }
        let sent_at = top.msg_id >> 32;
        if sent_at < self.now - MSG_ID_MAX_AGE {
            self.bad_msg(top, 16);
            return Ok(());
        }
        if sent_at > self.now + MSG_ID_MAX_AHEAD {
            self.bad_msg(top, 17);
            return Ok(());
        }
        if !self.shared.salts.is_valid(self.key.key_id, salt, self.now) {
            let new_server_salt = self.shared.salts.current(self.key.key_id, self.now);
            stats.bad_msg(48);
            self.out.push(OutMsg::service(
                &tl::enums::BadMsgNotification::BadServerSalt(tl::types::BadServerSalt {
                    bad_msg_id: top.msg_id,
                    bad_msg_seqno: top.seqno,
                    error_code: 48,
                    new_server_salt,
                }),
                false,
                true,
            ));
            return Ok(());
        }

        let container = match constructor_id(top.body) {
            Some(MSG_CONTAINER) => {
                stats.container_received();
                if top.seqno & 1 == 1 {
                    self.bad_msg(top, 34);
                    return Ok(());
                }
                match parse_container(top)? {
                    Some(items) => Some(items),
                    None => {
                        self.bad_msg(top, 64);
                        return Ok(());
                    }
                }
            }
            Some(MSG_COPY) => match parse_copy(top) {
                Some(item) => Some(vec![item]),
                None => {
                    self.bad_msg(top, 64);
                    return Ok(());
                }
            },
            _ => None,
        };
        let items = container.clone().unwrap_or_else(|| vec![top]);
        let first_msg_id = items
            .iter()
            .map(|item| item.msg_id)
            .fold(top.msg_id, i64::min);

        // Session bookkeeping and admission of every message, under one lock.
        let mut accepted = Vec::with_capacity(items.len());
        {
            let mut sessions = self.shared.sessions.lock();
            let (session, created) = sessions.open(self.key.key_id, self.session_id, first_msg_id);
            if created || first_msg_id < session.first_msg_id {
                session.first_msg_id = session.first_msg_id.min(first_msg_id);
                let notice = tl::enums::NewSession::Created(tl::types::NewSessionCreated {
                    first_msg_id,
                    unique_id: session.unique_id,
                    server_salt: self.shared.salts.current(self.key.key_id, self.now),
                });
                self.out.push(OutMsg::service(&notice, true, false));
            }
            if container.is_some() {
                match session.admit(top.msg_id, top.seqno) {
                    Admission::Accept => {}
                    Admission::Duplicate => {
                        drop(sessions);
                        self.bad_msg(top, 19);
                        return Ok(());
                    }
                    Admission::Refuse(code) => {
                        drop(sessions);
                        self.bad_msg(top, code);
                        return Ok(());
                    }
                }
            }
            let mut refused = Vec::new();
            for item in items {
                if item.msg_id & 3 != 0 {
                    refused.push((item, 18));
                    continue;
                }
                match session.admit(item.msg_id, item.seqno) {
                    Admission::Accept => accepted.push(item),
                    Admission::Duplicate => {
                        if item.seqno & 1 == 1 {
                            self.acks.push(item.msg_id);
                        }
                    }
                    Admission::Refuse(code) => refused.push((item, code)),
                }
            }
            drop(sessions);
            for (item, code) in refused {
                self.bad_msg(item, code);
            }
        }

        for item in accepted {
            self.dispatch(item, 0)?;
        }
        Ok(())
    }

    fn bad_msg(&mut self, item: Item<'_>, code: i32) {
        self.shared.stats.bad_msg(code);
        self.out.push(OutMsg::service(
            &tl::enums::BadMsgNotification::Notification(tl::types::BadMsgNotification {
                bad_msg_id: item.msg_id,
                bad_msg_seqno: item.seqno,
                error_code: code,
            }),
            false,
            true,
        ));
    }

    fn ack_if_content(&mut self, item: Item<'_>) {
        if item.seqno & 1 == 1 {
            self.acks.push(item.msg_id);
        }
    }

    fn dispatch(&mut self, item: Item<'_>, depth: usize) -> Result<(), Stop> {
        use tl::functions as f;
        use tl::types as t;

        let content_related = item.seqno & 1 == 1;
        let id = constructor_id(item.body).ok_or(Stop::Close(CloseReason::Malformed))?;
        self.shared.stats.constructor_received(id);
        let fields = &item.body[4..];
        match id {
            MSG_CONTAINER | MSG_COPY => self.bad_msg(item, 64),
            GZIP_PACKED => {
                if depth > 0 {
                    return Err(Stop::Close(CloseReason::Malformed));
                }
                self.shared.stats.gzip_received();
                let unpacked = gunzip(fields, self.shared.config.max_unpacked_len)
                    .ok_or(Stop::Close(CloseReason::Malformed))?;
                return self.dispatch(
                    Item {
                        body: &unpacked,
                        ..item
                    },
                    depth + 1,
                );
            }
            t::MsgsAck::CONSTRUCTOR_ID => {
                if content_related {
                    self.bad_msg(item, 34);
                } else {
                    read_ids(fields)?;
                }
            }
            f::Ping::CONSTRUCTOR_ID => {
                let ping = parse_fields::<f::Ping>(fields)?;
                self.pong(item, ping.ping_id);
            }
            f::PingDelayDisconnect::CONSTRUCTOR_ID => {
                let ping = parse_fields::<f::PingDelayDisconnect>(fields)?;
                let delay = i64::from(ping.disconnect_delay).clamp(0, MAX_DISCONNECT_DELAY);
                self.conn.disconnect_at =
                    Some(Instant::now() + Duration::from_secs(delay.unsigned_abs()));
                self.pong(item, ping.ping_id);
            }
            f::GetFutureSalts::CONSTRUCTOR_ID => {
                let request = parse_fields::<f::GetFutureSalts>(fields)?;
                let count = usize::try_from(request.num)
                    .unwrap_or(0)
                    .clamp(MIN_FUTURE_SALTS, MAX_FUTURE_SALTS);
                let salts = self
                    .shared
                    .salts
                    .future(self.key.key_id, self.now, count)
                    .into_iter()
                    .map(|s| t::FutureSalt {
                        valid_since: clamp_i32(s.valid_since),
                        valid_until: clamp_i32(s.valid_until),
                        salt: s.salt,
                    })
                    .collect();
                // Sent bare, not in rpc_result; it acknowledges the query itself.
                let answer = tl::enums::FutureSalts::Salts(t::FutureSalts {
                    req_msg_id: item.msg_id,
                    now: clamp_i32(self.now),
                    salts: tl::RawVec(salts),
                });
                self.out.push(OutMsg::service(&answer, false, true));
            }
            f::DestroySession::CONSTRUCTOR_ID => {
                let request = parse_fields::<f::DestroySession>(fields)?;
                // Destroying the session in use is undefined by the spec: it is kept.
                let destroyed = request.session_id != self.session_id
                    && self
                        .shared
                        .sessions
                        .lock()
                        .destroy(self.key.key_id, request.session_id);
                if destroyed {
                    self.shared
                        .hub
                        .unsubscribe_session(self.key.user_id, request.session_id);
                }
                let answer = if destroyed {
                    tl::enums::DestroySessionRes::DestroySessionOk(t::DestroySessionOk {
                        session_id: request.session_id,
                    })
                } else {
                    tl::enums::DestroySessionRes::DestroySessionNone(t::DestroySessionNone {
                        session_id: request.session_id,
                    })
                };
                self.out.push(OutMsg::service(&answer, true, true));
            }
            t::MsgsStateReq::CONSTRUCTOR_ID => {
                let ids = read_ids(fields)?;
                let info = {
                    let mut sessions = self.shared.sessions.lock();
                    match sessions.get(self.key.key_id, self.session_id) {
                        Some(session) => ids
                            .iter()
                            .map(|&id| session.state_of(id, self.now))
                            .collect(),
                        None => vec![1; ids.len()],
                    }
                };
                self.state_info(item, info);
            }
            t::MsgResendReq::CONSTRUCTOR_ID | t::MsgResendAnsReq::CONSTRUCTOR_ID => {
                // Sent messages are not kept, so none can be re-sent: per the spec, answer as
                // if it were msgs_state_req, with "nothing is known about the message".
                let ids = read_ids(fields)?;
                self.state_info(item, vec![1; ids.len()]);
            }
            f::RpcDropAnswer::CONSTRUCTOR_ID => {
                parse_fields::<f::RpcDropAnswer>(fields)?;
                // Queries are answered as soon as they arrive: nothing is left to drop.
                let unknown = tl::enums::RpcDropAnswer::RpcAnswerUnknown;
                self.rpc_result(item.msg_id, unknown.to_bytes());
            }
            t::HttpWait::CONSTRUCTOR_ID
            | t::MsgsAllInfo::CONSTRUCTOR_ID
            | t::MsgsStateInfo::CONSTRUCTOR_ID
            | t::MsgDetailedInfo::CONSTRUCTOR_ID
            | t::MsgNewDetailedInfo::CONSTRUCTOR_ID => self.ack_if_content(item),
            _ => {
                if content_related {
                    self.rpc(item)?;
                } else {
                    self.bad_msg(item, 35);
                }
            }
        }
        Ok(())
    }

    fn pong(&mut self, item: Item<'_>, ping_id: i64) {
        self.ack_if_content(item);
        let pong = tl::enums::Pong::Pong(tl::types::Pong {
            msg_id: item.msg_id,
            ping_id,
        });
        self.out.push(OutMsg::service(&pong, false, true));
    }

    fn state_info(&mut self, item: Item<'_>, info: Vec<u8>) {
        self.ack_if_content(item);
        // info is a TL string of raw status bytes.
        let mut body = tl::types::MsgsStateInfo::CONSTRUCTOR_ID.to_bytes();
        item.msg_id.serialize(&mut body);
        info.serialize(&mut body);
        self.out.push(OutMsg {
            body,
            content_related: false,
            response: true,
        });
    }

    fn rpc_result(&mut self, req_msg_id: i64, result: Vec<u8>) {
        let packed = (result.len() >= GZIP_RESULT_THRESHOLD)
            .then(|| gzip(&result))
            .flatten()
            .filter(|packed| packed.len() < result.len());
        let result = match packed {
            Some(packed) => {
                self.shared.stats.gzip_sent();
                packed
            }
            None => result,
        };
        let mut body = Vec::with_capacity(12 + result.len());
        RPC_RESULT.serialize(&mut body);
        req_msg_id.serialize(&mut body);
        body.extend_from_slice(&result);
        self.out.push(OutMsg {
            body,
            content_related: true,
            response: true,
        });
    }

    /// Unwraps an RPC query, records layer and client info on the session, and calls the
    /// handler.
    fn rpc(&mut self, item: Item<'_>) -> Result<(), Stop> {
        use tl::functions as f;

        let mut query: Cow<'_, [u8]> = Cow::Borrowed(item.body);
        let mut wants_updates = true;
        let mut layer = None;
        let mut client = None;
        let mut unwrapped = false;
        for _ in 0..MAX_WRAPPERS {
            let Some(id) = constructor_id(&query) else {
                break;
            };
            // Before grammers' recursive deserializers see any of it (the wrappers' own fields,
            // such as initConnection's JSON params, or the query itself).
            if let Err(error @ NestingError::TooDeep { .. }) = nesting::check_function(&query) {
                debug!(connection = self.conn.id, %error, "query refused");
                self.shared.stats.too_deep();
                self.answer(item.msg_id, Reply::error(400, "INPUT_TOO_DEEP"));
                return Ok(());
            }
            let fields = &query[4..];
            let inner = match id {
                f::InvokeWithLayer::<Rest>::CONSTRUCTOR_ID => {
                    parse_fields::<f::InvokeWithLayer<Rest>>(fields)
                        .ok()
                        .map(|w| {
                            layer = Some(w.layer);
                            w.query.0
                        })
                }
                f::InitConnection::<Rest>::CONSTRUCTOR_ID => {
                    parse_fields::<f::InitConnection<Rest>>(fields)
                        .ok()
                        .map(|w| {
                            client = Some(ClientInfo {
                                api_id: w.api_id,
                                device_model: w.device_model,
                                system_version: w.system_version,
                                app_version: w.app_version,
                                system_lang_code: w.system_lang_code,
                                lang_pack: w.lang_pack,
                                lang_code: w.lang_code,
                            });
                            w.query.0
                        })
                }
                f::InvokeWithoutUpdates::<Rest>::CONSTRUCTOR_ID => {
                    wants_updates = false;
                    parse_fields::<f::InvokeWithoutUpdates<Rest>>(fields)
                        .ok()
                        .map(|w| w.query.0)
                }
                f::InvokeAfterMsg::<Rest>::CONSTRUCTOR_ID => {
                    parse_fields::<f::InvokeAfterMsg<Rest>>(fields)
                        .ok()
                        .map(|w| w.query.0)
                }
                f::InvokeAfterMsgs::<Rest>::CONSTRUCTOR_ID => {
                    parse_fields::<f::InvokeAfterMsgs<Rest>>(fields)
                        .ok()
                        .map(|w| w.query.0)
                }
                GZIP_PACKED => gunzip(fields, self.shared.config.max_unpacked_len),
                _ => {
                    unwrapped = true;
                    break;
                }
            };
            match inner {
                Some(inner) => query = Cow::Owned(inner),
                None => break,
            }
        }
        if !unwrapped {
            self.answer(item.msg_id, Reply::fetch_failed());
            return Ok(());
        }

        let (layer, client) = {
            let mut sessions = self.shared.sessions.lock();
            match sessions.get(self.key.key_id, self.session_id) {
                Some(session) => {
                    if layer.is_some() {
                        session.layer = layer;
                    }
                    if let Some(client) = client {
                        session.client = Some(Arc::new(client));
                    }
                    (session.layer, session.client.clone())
                }
                None => (layer, client.map(Arc::new)),
            }
        };
        if wants_updates && self.conn.subscribed.insert(self.session_id) {
            self.shared.hub.subscribe(
                self.key.user_id,
                self.conn.id,
                self.session_id,
                self.conn.push_tx.clone(),
            );
        }

        if self.conn.pending >= self.shared.config.max_pending_requests.max(1) {
            // Only a container with more queries than the limit gets here: between packets,
            // the connection waits for the client to take its answers instead.
            self.shared.stats.pending_limited();
            self.answer(item.msg_id, Reply::error(420, "FLOOD_WAIT_1"));
            return Ok(());
        }
        let ctx = CallContext {
            user_id: self.key.user_id,
            auth_key_id: self.key.key_id,
            session_id: self.session_id,
            connection_id: self.conn.id,
            msg_id: item.msg_id,
            layer,
            client,
            wants_updates,
            transport: self.conn.transport,
            obfuscated: self.conn.obfuscated,
            hub: self.shared.hub.clone(),
        };
        if let Some(id) = constructor_id(&query) {
            self.shared.stats.request_handled(id);
        }
        let reply = self.shared.handler.handle(&ctx, &query);
        if let Some(session) = self
            .shared
            .sessions
            .lock()
            .get(self.key.key_id, self.session_id)
        {
            session.mark_rpc(item.msg_id);
        }
        if reply == Reply::DropConnection {
            debug!(
                connection = self.conn.id,
                "handler dropped the connection instead of answering"
            );
            return Err(Stop::Drop);
        }
        if let Reply::Delayed { after, reply } = reply {
            let body = match *reply {
                Reply::Result(bytes) => Some(rpc_result_body(item.msg_id, bytes)),
                Reply::Error { code, message } => Some(rpc_result_body(
                    item.msg_id,
                    tl::enums::RpcError::Error(tl::types::RpcError {
                        error_code: code,
                        error_message: message,
                    })
                    .to_bytes(),
                )),
                Reply::DropConnection | Reply::Delayed { .. } => None,
            };
            if let Some(body) = body {
                let tx = self.conn.push_tx.clone();
                let push = Push::late_result(self.session_id, body);
                tokio::spawn(async move {
                    tokio::time::sleep(after).await;
                    let _ = tx.send(push).await;
                });
            }
            return Ok(());
        }
        self.answer(item.msg_id, reply);
        Ok(())
    }

    fn answer(&mut self, req_msg_id: i64, reply: Reply) {
        self.conn.pending += 1;
        match reply {
            Reply::Result(bytes) => self.rpc_result(req_msg_id, bytes),
            Reply::Error { code, message } => {
                let error = tl::enums::RpcError::Error(tl::types::RpcError {
                    error_code: code,
                    error_message: message,
                });
                self.rpc_result(req_msg_id, error.to_bytes());
            }
            Reply::DropConnection | Reply::Delayed { .. } => {}
        }
    }
}
