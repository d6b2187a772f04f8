//! Telegram Stars: balances, the ledger, top-ups and `payments.getStars*`.

use super::*;

impl World {
    /// A user's Stars balance.
    pub fn stars_balance(&self, user: i64) -> Option<i64> {
        self.users.get(&user).map(|a| a.stars)
    }

    /// A user's Stars ledger, oldest first.
    pub fn stars_ledger(&self, user: i64) -> &[StarsEntry] {
        self.users.get(&user).map_or(&[], |a| &a.ledger)
    }

    /// Adds Stars to a user's balance (a top-up), recorded in the ledger.
    pub fn top_up_stars(&mut self, user: i64, stars: i64) -> bool {
        let now = to_i32(self.now());
        let id = self.next_serial();
        let Some(account) = self.users.get_mut(&user) else {
            return false;
        };
        let Some(balance) = account.stars.checked_add(stars) else {
            return false;
        };
        account.stars = balance;
        account.ledger.push(StarsEntry {
            id: format!("topup_{id}"),
            amount: stars,
            date: now,
            peer: None,
            title: format!("{stars} Stars"),
            msg_id: None,
        });
        true
    }

    pub(super) fn check_self_peer(&self, user: i64, peer: &tl::enums::InputPeer) -> RpcResult<()> {
        match peer {
            tl::enums::InputPeer::PeerSelf => Ok(()),
            tl::enums::InputPeer::User(u) if u.user_id == user => Ok(()),
            _ => Err(RpcFail::bad("PEER_ID_INVALID")),
        }
    }

    /// `payments.getStarsStatus` (the user's own balance and latest history).
    pub fn get_stars_status(
        &self,
        user: i64,
        req: &tl::functions::payments::GetStarsStatus,
    ) -> RpcResult<tl::enums::payments::StarsStatus> {
        if req.ton {
            return Err(RpcFail::bad("PEER_ID_INVALID"));
        }
        self.check_self_peer(user, &req.peer)?;
        self.stars_page(user, false, false, false, "", 5)
    }

    /// `payments.getStarsTransactions` (newest first unless `ascending`; `offset` is opaque).
    pub fn get_stars_transactions(
        &self,
        user: i64,
        req: &tl::functions::payments::GetStarsTransactions,
    ) -> RpcResult<tl::enums::payments::StarsStatus> {
        if req.ton || req.subscription_id.is_some() {
            return Err(RpcFail::bad("SUBSCRIPTION_ID_INVALID"));
        }
        self.check_self_peer(user, &req.peer)?;
        if req.limit <= 0 {
            return Err(RpcFail::bad("LIMIT_INVALID"));
        }
        self.stars_page(
            user,
            req.inbound,
            req.outbound,
            req.ascending,
            &req.offset,
            req.limit.min(100),
        )
    }

    pub(super) fn stars_page(
        &self,
        user: i64,
        inbound: bool,
        outbound: bool,
        ascending: bool,
        offset: &str,
        limit: i32,
    ) -> RpcResult<tl::enums::payments::StarsStatus> {
        let account = self.account(user)?;
        let start: usize = if offset.is_empty() {
            0
        } else {
            offset
                .strip_prefix("o")
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| RpcFail::bad("OFFSET_INVALID"))?
        };
        let mut entries: Vec<&StarsEntry> = account
            .ledger
            .iter()
            .filter(|e| (!inbound || e.amount > 0) && (!outbound || e.amount < 0))
            .collect();
        if !ascending {
            entries.reverse();
        }
        let limit = usize::try_from(limit).unwrap_or(0);
        let page: Vec<_> = entries.iter().skip(start).take(limit).collect();
        let next = start + page.len();
        let bots: Vec<i64> = page.iter().filter_map(|e| e.peer).collect();
        Ok(tl::types::payments::StarsStatus {
            balance: tl::types::StarsAmount {
                amount: account.stars,
                nanos: 0,
            }
            .into(),
            subscriptions: None,
            subscriptions_next_offset: None,
            subscriptions_missing_balance: None,
            history: Some(page.iter().map(|e| self.stars_entry_tl(e)).collect()),
            next_offset: (next < entries.len()).then(|| format!("o{next}")),
            chats: Vec::new(),
            users: self.users_tl(user, bots),
        }
        .into())
    }

    /// `payments.getStarsTopupOptions`.
    pub fn get_stars_topup_options(&self) -> Vec<tl::enums::StarsTopupOption> {
        self.topup_options
            .iter()
            .map(|o| {
                tl::types::StarsTopupOption {
                    extended: false,
                    stars: o.stars,
                    store_product: None,
                    currency: o.currency.clone(),
                    amount: o.amount,
                }
                .into()
            })
            .collect()
    }
}
