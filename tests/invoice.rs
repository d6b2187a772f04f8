//! Invoice links (TDLib's LinkManager rules), conversion to TL, canonical display.

use grammers_tl_types::{Identifiable, Serializable, enums, types};
use tgpay::invoice::{InvoiceLinkProblem, InvoiceRef};

const SLUG: &str = "ZyWyJbgH0lHhAQAAdhPkx7L8Ke4";

fn slug(input: &str) -> String {
    match InvoiceRef::parse(input) {
        Ok(InvoiceRef::Slug(slug)) => slug,
        other => panic!("{input:?}: {other:?}"),
    }
}

#[test]
fn accepts_invoice_links() {
    let cases: &[(&str, &str)] = &[
        // t.me path forms, every scheme spelling
        ("https://t.me/invoice/abc", "abc"),
        ("http://t.me/invoice/abc", "abc"),
        ("t.me/invoice/abc", "abc"),
        ("https://t.me/$abc", "abc"),
        ("http://t.me/$abc", "abc"),
        ("t.me/$abc", "abc"),
        ("HTTPS://T.ME/$abc", "abc"),
        ("hTtP://t.Me/invoice/abc", "abc"),
        // the other hosts, and www.
        ("https://telegram.me/$abc", "abc"),
        ("telegram.me/invoice/abc", "abc"),
        ("https://telegram.dog/$abc", "abc"),
        ("telegram.dog/invoice/abc", "abc"),
        ("https://www.t.me/$abc", "abc"),
        ("www.telegram.me/invoice/abc", "abc"),
        // what TDLib ignores: trailing slash, extra segments, query, fragment, standard ports
        ("https://t.me/$abc/", "abc"),
        ("https://t.me/invoice/abc/", "abc"),
        ("https://t.me/$abc/extra", "abc"),
        ("https://t.me/invoice/abc/extra", "abc"),
        ("https://t.me/$abc?start=1", "abc"),
        ("https://t.me/invoice/abc?x=1#top", "abc"),
        ("https://t.me/$abc#frag", "abc"),
        ("https://t.me:443/$abc", "abc"),
        ("http://t.me:80/invoice/abc", "abc"),
        ("t.me:0443/$abc", "abc"),
        ("https://t.me/s/$abc", "abc"),
        ("https://t.me/s/s/invoice/abc", "abc"),
        // percent-encoding in the path
        ("https://t.me/%24abc", "abc"),
        ("https://t.me/$ab%2Dc", "ab-c"),
        ("https://t.me/invoice/%C3%BC", "ü"),
        ("https://t.me/$a+b", "a+b"),
        // the slug keeps its case
        ("https://t.me/$AbC", "AbC"),
        (&format!("https://t.me/${SLUG}"), SLUG),
        // tg: deep links
        ("tg://invoice?slug=abc", "abc"),
        ("tg:invoice?slug=abc", "abc"),
        ("TG://invoice?slug=abc", "abc"),
        ("tg://invoice/?slug=abc", "abc"),
        ("tg://invoice?slug=abc&x=1", "abc"),
        ("tg://invoice?x=1&slug=abc", "abc"),
        ("tg://invoice?slug=first&slug=second", "first"),
        ("tg://invoice?slug=a%2Fb", "a/b"),
        ("tg://invoice?slug=a+b", "a b"),
        ("tg://invoice?slug=abc#frag", "abc"),
        // surrounding whitespace
        ("  https://t.me/$abc \n", "abc"),
    ];
    for &(input, expected) in cases {
        assert_eq!(slug(input), expected, "{input:?}");
        assert_eq!(
            input.parse::<InvoiceRef>(),
            Ok(InvoiceRef::Slug(expected.into()))
        );
    }
}

#[test]
fn rejects_everything_else_with_the_reason() {
    use InvoiceLinkProblem::*;
    let cases: Vec<(&str, InvoiceLinkProblem)> = vec![
        ("", Empty),
        ("  \t", Empty),
        ("abc", NotTelegramHost { host: "abc".into() }),
        (
            "$abc",
            NotTelegramHost {
                host: "$abc".into(),
            },
        ),
        (
            "https://example.com/$abc",
            NotTelegramHost {
                host: "example.com".into(),
            },
        ),
        (
            "https://t.me.evil.com/$abc",
            NotTelegramHost {
                host: "t.me.evil.com".into(),
            },
        ),
        (
            "https://invoice.t.me/abc",
            NotTelegramHost {
                host: "invoice.t.me".into(),
            },
        ),
        (
            "https://telegram.org/$abc",
            NotTelegramHost {
                host: "telegram.org".into(),
            },
        ),
        (
            "ftp://t.me/$abc",
            UnsupportedScheme {
                scheme: "ftp".into(),
            },
        ),
        (
            "javascript://t.me/$abc",
            UnsupportedScheme {
                scheme: "javascript".into(),
            },
        ),
        ("https://user@t.me/$abc", UserInfo),
        ("https://t.me:8443/$abc", Port),
        ("https://t.me:/$abc", Port),
        ("https://t.me", NotAnInvoice),
        ("https://t.me/", NotAnInvoice),
        ("https://t.me/durov", NotAnInvoice),
        ("https://t.me/Invoice/abc", NotAnInvoice),
        ("https://t.me/joinchat/abc", NotAnInvoice),
        ("https://t.me/+abc", NotAnInvoice),
        ("https://t.me/invoice", EmptySlug),
        ("https://t.me/invoice/", EmptySlug),
        ("https://t.me/invoice//abc", EmptySlug),
        ("https://t.me/$", EmptySlug),
        ("https://t.me/$/abc", EmptySlug),
        ("https://t.me/$%FF", SlugNotUtf8),
        ("https://t.me/invoice/%C3", SlugNotUtf8),
        ("tg://invoice", EmptySlug),
        ("tg://invoice?slug=", EmptySlug),
        ("tg://invoice?slug", EmptySlug),
        ("tg://invoice?other=abc", EmptySlug),
        ("tg://invoice?slug=%FF", SlugNotUtf8),
        ("tg://INVOICE?slug=abc", NotAnInvoice),
        ("tg://invoice/extra?slug=abc", NotAnInvoice),
        ("tg://resolve?domain=durov", NotAnInvoice),
        ("tg://invoice:80?slug=abc", NotAnInvoice),
        ("tg://https://t.me/$abc", NotAnInvoice),
    ];
    for (input, problem) in cases {
        let error = match InvoiceRef::parse(input) {
            Err(error) => error,
            Ok(ok) => panic!("{input:?} parsed as {ok:?}"),
        };
        assert_eq!(error.problem(), &problem, "{input:?}");
        assert_eq!(error.input(), input, "{input:?}");
        let message = error.to_string();
        assert!(message.contains(&format!("{input:?}")), "{message}");
        assert!(message.contains(&problem.to_string()), "{message}");
        for form in [
            "https://t.me/invoice/<slug>",
            "https://t.me/$<slug>",
            "tg://invoice?slug=<slug>",
            "telegram.me",
            "telegram.dog",
        ] {
            assert!(message.contains(form), "{message}");
        }
    }
}

#[test]
fn error_quotes_long_input_truncated() {
    let long = format!("https://example.com/{}", "x".repeat(500));
    let error = InvoiceRef::parse(&long).unwrap_err();
    assert_eq!(error.input().chars().count(), 121);
    assert!(error.input().ends_with('…'));
    assert!(long.starts_with(error.input().trim_end_matches('…')));
    assert!(error.to_string().len() < 600);
    // Control characters are escaped in the message.
    let error = InvoiceRef::parse("t.me/\u{1b}[31m").unwrap_err();
    assert!(!error.to_string().contains('\u{1b}'));
}

#[test]
fn converts_to_tl() {
    let by_slug = InvoiceRef::Slug(SLUG.into());
    let expected = enums::InputInvoice::Slug(types::InputInvoiceSlug { slug: SLUG.into() });
    assert_eq!(by_slug.to_input_invoice(), expected);
    assert_eq!(enums::InputInvoice::from(&by_slug), expected);
    assert_eq!(enums::InputInvoice::from(by_slug.clone()), expected);
    let bytes = by_slug.to_input_invoice().to_bytes();
    assert_eq!(
        bytes[..4],
        types::InputInvoiceSlug::CONSTRUCTOR_ID.to_le_bytes()
    );
    assert_eq!(types::InputInvoiceSlug::CONSTRUCTOR_ID, 0xc326_caef);

    let peer = enums::InputPeer::User(types::InputPeerUser {
        user_id: 42,
        access_hash: -7,
    });
    let by_message = InvoiceRef::Message {
        peer: peer.clone(),
        msg_id: 123,
    };
    let expected = enums::InputInvoice::Message(types::InputInvoiceMessage { peer, msg_id: 123 });
    assert_eq!(by_message.to_input_invoice(), expected);
    assert_eq!(enums::InputInvoice::from(by_message), expected);
    assert_eq!(types::InputInvoiceMessage::CONSTRUCTOR_ID, 0xc5b5_6859);
    assert_eq!(expected.to_bytes()[..4], 0xc5b5_6859u32.to_le_bytes());

    let subscription = InvoiceRef::ChatInviteSubscription {
        hash: "AbCd".into(),
    };
    assert_eq!(
        subscription.to_input_invoice(),
        enums::InputInvoice::ChatInviteSubscription(types::InputInvoiceChatInviteSubscription {
            hash: "AbCd".into()
        })
    );
}

#[test]
fn converts_from_tl() {
    let stars = enums::InputInvoice::Stars(types::InputInvoiceStars {
        purpose: enums::InputStorePaymentPurpose::InputStorePaymentStarsTopup(
            types::InputStorePaymentStarsTopup {
                stars: 100,
                currency: "USD".into(),
                amount: 199,
                spend_purpose_peer: None,
            },
        ),
    });
    let cases = [
        enums::InputInvoice::Slug(types::InputInvoiceSlug { slug: "abc".into() }),
        enums::InputInvoice::Message(types::InputInvoiceMessage {
            peer: enums::InputPeer::PeerSelf,
            msg_id: 5,
        }),
        enums::InputInvoice::ChatInviteSubscription(types::InputInvoiceChatInviteSubscription {
            hash: "h".into(),
        }),
        stars.clone(),
    ];
    for tl in cases {
        let invoice = InvoiceRef::from(tl.clone());
        assert_eq!(invoice.to_input_invoice(), tl);
    }
    assert_eq!(
        InvoiceRef::from(enums::InputInvoice::Slug(types::InputInvoiceSlug {
            slug: "abc".into()
        })),
        InvoiceRef::Slug("abc".into())
    );
    assert_eq!(
        InvoiceRef::from(stars.clone()),
        InvoiceRef::Raw(Box::new(stars))
    );
}

#[test]
fn displays_a_canonical_form() {
    assert_eq!(
        InvoiceRef::Slug(SLUG.into()).to_string(),
        format!("https://t.me/${SLUG}")
    );
    assert_eq!(
        InvoiceRef::Slug("a b".into()).to_string(),
        "https://t.me/$a%20b"
    );
    assert_eq!(
        InvoiceRef::Slug("ü".into()).to_string(),
        "https://t.me/$%C3%BC"
    );
    assert_eq!(
        InvoiceRef::Slug("a/b".into()).to_string(),
        "tg://invoice?slug=a%2Fb"
    );
    let user = enums::InputPeer::User(types::InputPeerUser {
        user_id: 42,
        access_hash: 99,
    });
    assert_eq!(
        InvoiceRef::Message {
            peer: user.clone(),
            msg_id: 123
        }
        .to_string(),
        "message 123 in user 42"
    );
    assert!(
        !InvoiceRef::Message {
            peer: user.clone(),
            msg_id: 1
        }
        .to_string()
        .contains("99")
    );
    let cases = [
        (enums::InputPeer::PeerSelf, "message 7 in self"),
        (
            enums::InputPeer::Chat(types::InputPeerChat { chat_id: 5 }),
            "message 7 in chat 5",
        ),
        (
            enums::InputPeer::Channel(types::InputPeerChannel {
                channel_id: 9,
                access_hash: 1,
            }),
            "message 7 in channel 9",
        ),
        (
            enums::InputPeer::UserFromMessage(Box::new(types::InputPeerUserFromMessage {
                peer: enums::InputPeer::Chat(types::InputPeerChat { chat_id: 5 }),
                msg_id: 3,
                user_id: 42,
            })),
            "message 7 in user 42 (seen in message 3 in chat 5)",
        ),
    ];
    for (peer, expected) in cases {
        assert_eq!(
            InvoiceRef::Message { peer, msg_id: 7 }.to_string(),
            expected
        );
    }
    assert_eq!(
        InvoiceRef::ChatInviteSubscription {
            hash: "AbCd".into()
        }
        .to_string(),
        "https://t.me/+AbCd"
    );
    let raw = InvoiceRef::Raw(Box::new(enums::InputInvoice::Stars(
        types::InputInvoiceStars {
            purpose: enums::InputStorePaymentPurpose::InputStorePaymentStarsTopup(
                types::InputStorePaymentStarsTopup {
                    stars: 1,
                    currency: "USD".into(),
                    amount: 1,
                    spend_purpose_peer: None,
                },
            ),
        },
    )));
    assert_eq!(raw.to_string(), "input invoice #65f00ce3");
}

/// The printed link reads back as the same slug, whatever the slug holds.
#[test]
fn displayed_slugs_parse_back() {
    for slug in [
        SLUG, "abc", "a b", "a+b", "ü", "a/b", "a?b#c", "%41", "$x", "x&slug=y", "~-._",
    ] {
        let invoice = InvoiceRef::Slug(slug.into());
        assert_eq!(
            InvoiceRef::parse(&invoice.to_string()),
            Ok(invoice.clone()),
            "{slug:?}"
        );
    }
}
