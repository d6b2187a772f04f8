//! Users, messages and updates: `users.getUsers`, `contacts.resolveUsername`,
//! `messages.getMessages` / `getHistory`, `updates.getState` / `getDifference`.

use super::*;

impl World {
    /// The saved order info of a user.
    pub fn saved_info(&self, user: i64) -> Option<&OrderInfoSpec> {
        self.users.get(&user).and_then(|a| a.saved_info.as_ref())
    }

    /// The saved cards of a user.
    pub fn saved_cards(&self, user: i64) -> &[SavedCardSpec] {
        self.users.get(&user).map_or(&[], |a| &a.saved_cards)
    }

    /// The invoice messages in a user's chat: `(merchant bot id, message id, slug)`.
    pub fn invoice_messages(&self, user: i64) -> Vec<(i64, i32, String)> {
        let Some(account) = self.users.get(&user) else {
            return Vec::new();
        };
        account
            .chat
            .iter()
            .filter_map(|(id, m)| match m {
                Stored::Invoice { bot, invoice, .. } => self
                    .invoices
                    .get(*invoice)
                    .map(|i| (*bot, *id, i.spec.slug.clone())),
                Stored::PaymentSent { .. } => None,
            })
            .collect()
    }

    /// The access hash a user sees for a peer (a merchant bot or another user).
    pub fn access_hash(&self, peer: i64) -> Option<i64> {
        self.merchants
            .get(&peer)
            .map(|m| m.access_hash)
            .or_else(|| self.users.get(&peer).map(|a| a.access_hash))
    }

    /// `users.getUsers`.
    pub fn get_users(&self, user: i64, ids: &[tl::enums::InputUser]) -> Vec<tl::enums::User> {
        ids.iter()
            .map(|input| {
                let id = match input {
                    tl::enums::InputUser::UserSelf => Some(user),
                    tl::enums::InputUser::User(u)
                        if self.access_hash(u.user_id) == Some(u.access_hash) =>
                    {
                        Some(u.user_id)
                    }
                    _ => None,
                };
                id.and_then(|id| self.user_tl(user, id)).unwrap_or_else(|| {
                    tl::types::UserEmpty {
                        id: match input {
                            tl::enums::InputUser::User(u) => u.user_id,
                            _ => 0,
                        },
                    }
                    .into()
                })
            })
            .collect()
    }

    /// `contacts.resolveUsername`.
    pub fn resolve_username(
        &self,
        user: i64,
        username: &str,
    ) -> RpcResult<tl::enums::contacts::ResolvedPeer> {
        let wanted = username.trim_start_matches('@');
        let id = self
            .merchants
            .values()
            .find(|m| m.spec.username.eq_ignore_ascii_case(wanted))
            .map(|m| m.spec.id)
            .or_else(|| {
                self.users
                    .values()
                    .find(|a| {
                        a.username
                            .as_deref()
                            .is_some_and(|u| u.eq_ignore_ascii_case(wanted))
                    })
                    .map(|a| a.id)
            })
            .ok_or_else(|| RpcFail::bad("USERNAME_NOT_OCCUPIED"))?;
        Ok(tl::types::contacts::ResolvedPeer {
            peer: tl_make::peer_user(id),
            chats: Vec::new(),
            users: self.users_tl(user, [id]),
        }
        .into())
    }

    /// `messages.getMessages` (the user's private chats).
    pub fn get_messages(
        &self,
        user: i64,
        ids: &[tl::enums::InputMessage],
    ) -> RpcResult<tl::enums::messages::Messages> {
        let account = self.account(user)?;
        let mut bots = Vec::new();
        let messages = ids
            .iter()
            .map(|input| {
                let id = match input {
                    tl::enums::InputMessage::Id(m) => m.id,
                    _ => 0,
                };
                match account.chat.get(&id).and_then(|s| {
                    let (Stored::Invoice { bot, .. } | Stored::PaymentSent { bot, .. }) = s;
                    bots.push(*bot);
                    self.message_tl(user, id, s)
                }) {
                    Some(m) => m,
                    None => tl::types::MessageEmpty { id, peer_id: None }.into(),
                }
            })
            .collect();
        Ok(tl::types::messages::Messages {
            messages,
            topics: Vec::new(),
            chats: Vec::new(),
            users: self.users_tl(user, bots),
        }
        .into())
    }

    /// `messages.getHistory` with a merchant bot (newest first).
    pub fn get_history(
        &self,
        user: i64,
        req: &tl::functions::messages::GetHistory,
    ) -> RpcResult<tl::enums::messages::Messages> {
        let bot = self.resolve_bot_peer(&req.peer)?;
        let account = self.account(user)?;
        let limit = usize::try_from(req.limit.clamp(1, 100)).unwrap_or(100);
        let messages: Vec<_> = account
            .chat
            .iter()
            .rev()
            .filter(|(id, s)| {
                let owner = match s {
                    Stored::Invoice { bot, .. } | Stored::PaymentSent { bot, .. } => *bot,
                };
                owner == bot && (req.offset_id == 0 || **id < req.offset_id)
            })
            .take(limit)
            .filter_map(|(id, s)| self.message_tl(user, *id, s))
            .collect();
        Ok(tl::types::messages::Messages {
            messages,
            topics: Vec::new(),
            chats: Vec::new(),
            users: self.users_tl(user, [bot, user]),
        }
        .into())
    }

    /// `updates.getState`.
    pub fn get_state(&self, user: i64) -> RpcResult<tl::enums::updates::State> {
        let account = self.account(user)?;
        Ok(tl::types::updates::State {
            pts: account.pts,
            qts: 0,
            date: to_i32(self.now()),
            seq: 0,
            unread_count: 0,
        }
        .into())
    }

    /// `updates.getDifference`: every logged update after the client's `pts`.
    pub fn get_difference(
        &self,
        user: i64,
        req: &tl::functions::updates::GetDifference,
    ) -> RpcResult<tl::enums::updates::Difference> {
        let account = self.account(user)?;
        let date = to_i32(self.now());
        if req.pts >= account.pts {
            return Ok(tl::types::updates::DifferenceEmpty { date, seq: 0 }.into());
        }
        let mut new_messages = Vec::new();
        let mut other_updates = Vec::new();
        for (pts, update) in &account.log {
            if *pts <= req.pts {
                continue;
            }
            match update {
                tl::enums::Update::NewMessage(u) => new_messages.push(u.message.clone()),
                other => other_updates.push(other.clone()),
            }
        }
        let bots: Vec<i64> = account
            .chat
            .values()
            .map(|s| match s {
                Stored::Invoice { bot, .. } | Stored::PaymentSent { bot, .. } => *bot,
            })
            .collect();
        Ok(tl::types::updates::Difference {
            new_messages,
            new_encrypted_messages: Vec::new(),
            other_updates,
            chats: Vec::new(),
            users: self.users_tl(user, bots.into_iter().chain([user])),
            state: tl::types::updates::State {
                pts: account.pts,
                qts: 0,
                date,
                seq: 0,
                unread_count: 0,
            }
            .into(),
        }
        .into())
    }

    pub(super) fn bump_pts(&mut self, user: i64) -> RpcResult<i32> {
        let account = self.account_mut(user)?;
        account.pts += 1;
        Ok(account.pts)
    }

    pub(super) fn log_update(&mut self, user: i64, pts: i32, update: tl::enums::Update) {
        if let Some(account) = self.users.get_mut(&user) {
            account.log.push((pts, update));
        }
    }
}
