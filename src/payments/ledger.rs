//! Reading the ledger: the chat with a merchant bot (its receipts, paged back), single
//! messages, and the bot's chat itself — what reconcile looks at. Nothing here moves money.

use grammers_tl_types as tl;

use super::Payments;
use crate::attempt::PendingPayment;
use crate::error::Error;
use crate::invoice::InvoiceRef;
use crate::receipt;

impl Payments {
    /// The chat with the attempt's bot: by the access hash the form gave, the invoice message's
    /// peer, or the bot's username.
    pub(super) async fn bot_peer(&self, payment: &PendingPayment) -> Option<tl::enums::InputPeer> {
        if let Some(peer) = payment.bot.input_peer() {
            return Some(peer);
        }
        if let InvoiceRef::Message {
            peer: tl::enums::InputPeer::User(u),
            ..
        } = &payment.invoice
            && u.user_id == payment.bot.id
        {
            return Some(tl::enums::InputPeer::User(u.clone()));
        }
        let username = payment.bot.username.as_deref()?;
        let resolved = self
            .invoke(&tl::functions::contacts::ResolveUsername {
                username: username.to_owned(),
                referer: None,
            })
            .await
            .ok()?;
        let tl::enums::contacts::ResolvedPeer::Peer(resolved) = resolved;
        resolved.users.iter().find_map(|u| match u {
            tl::enums::User::User(u) if u.id == payment.bot.id => u.access_hash.map(|hash| {
                tl::types::InputPeerUser {
                    user_id: u.id,
                    access_hash: hash,
                }
                .into()
            }),
            _ => None,
        })
    }

    /// The `messageActionPaymentSent`s in `chat` for this attempt's bot, total and invoice,
    /// dated `since` or later, paging back until older messages (or the history limit); and
    /// whether the history was read back far enough.
    pub(super) async fn chat_receipts(
        &self,
        chat: &tl::enums::InputPeer,
        payment: &PendingPayment,
        since: i64,
    ) -> Result<(Vec<receipt::PaymentSent>, bool), Error> {
        const PAGE: i32 = 100;
        let limit = self.inner.config.history_limit;
        let slug = payment.slug();
        let mut found = Vec::new();
        let mut offset_id = 0;
        let mut read = 0usize;
        loop {
            let page = self
                .invoke(&tl::functions::messages::GetHistory {
                    peer: chat.clone(),
                    offset_id,
                    offset_date: 0,
                    add_offset: 0,
                    limit: PAGE,
                    max_id: 0,
                    min_id: 0,
                    hash: 0,
                })
                .await?;
            let messages = messages_of(&page);
            if messages.is_empty() {
                return Ok((found, true));
            }
            let mut oldest = i64::MAX;
            let mut lowest_id = i32::MAX;
            for message in messages {
                let (id, date) = match message {
                    tl::enums::Message::Message(m) => (m.id, m.date),
                    tl::enums::Message::Service(m) => (m.id, m.date),
                    tl::enums::Message::Empty(m) => (m.id, i32::MAX),
                };
                lowest_id = lowest_id.min(id);
                oldest = oldest.min(i64::from(date));
                if let Some(sent) = receipt::payment_sent(message)
                    && sent.chat_id == payment.bot.id
                    && sent.total == payment.total
                    && i64::from(sent.date) >= since
                    && sent.invoice_slug.as_deref() == slug
                {
                    found.push(sent);
                }
            }
            read += messages.len();
            if oldest < since || lowest_id <= 1 {
                return Ok((found, true));
            }
            if read >= limit {
                return Ok((found, false));
            }
            offset_id = lowest_id;
        }
    }

    pub(super) async fn get_messages(
        &self,
        chat: &tl::enums::InputPeer,
        msg_id: i32,
    ) -> Result<Vec<tl::enums::Message>, Error> {
        let ids = vec![tl::types::InputMessageId { id: msg_id }.into()];
        let messages = match chat {
            tl::enums::InputPeer::Channel(c) => {
                self.invoke(&tl::functions::channels::GetMessages {
                    channel: tl::types::InputChannel {
                        channel_id: c.channel_id,
                        access_hash: c.access_hash,
                    }
                    .into(),
                    id: ids,
                })
                .await?
            }
            _ => {
                self.invoke(&tl::functions::messages::GetMessages { id: ids })
                    .await?
            }
        };
        Ok(messages_of(&messages).to_vec())
    }

    pub(super) async fn message_date(
        &self,
        chat: &tl::enums::InputPeer,
        msg_id: i32,
    ) -> Result<Option<i64>, Error> {
        Ok(self
            .get_messages(chat, msg_id)
            .await?
            .iter()
            .find_map(|m| match m {
                tl::enums::Message::Message(m) if m.id == msg_id => Some(i64::from(m.date)),
                tl::enums::Message::Service(m) if m.id == msg_id => Some(i64::from(m.date)),
                _ => None,
            }))
    }
}

/// The messages of a `messages.Messages`.
fn messages_of(messages: &tl::enums::messages::Messages) -> &[tl::enums::Message] {
    match messages {
        tl::enums::messages::Messages::Messages(m) => &m.messages,
        tl::enums::messages::Messages::Slice(m) => &m.messages,
        tl::enums::messages::Messages::ChannelMessages(m) => &m.messages,
        tl::enums::messages::Messages::NotModified(_) => &[],
    }
}
