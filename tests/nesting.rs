//! Depth limits of every decoder of nested input: TL values (the recursive types a payments
//! answer or a sandbox query can hold), JSON and TOML. A value within the limit decodes on a
//! thread with a Tokio worker's stack (2 MiB) in this build; one past it is refused with a typed
//! error before anything recursive sees it.

use tgpay::tl::nesting::{self, MAX_DEPTH, NestingError};
use tgpay::tl::{self, Deserializable, Serializable};
use tgpay_sandbox::{Scenario, ScenarioError};

const VECTOR: u32 = 0x1cb5_c415;

/// A recursive TL type: its name, the bytes of one level (opening) and of the innermost value,
/// and how many walk levels one repetition adds.
struct Recursive {
    name: &'static str,
    level: fn(&mut Vec<u8>),
    innermost: u32,
    levels_per_repeat: usize,
}

const RECURSIVE: [Recursive; 4] = [
    Recursive {
        name: "JSONValue",
        level: |out| {
            0xf744_4763u32.serialize(out); // jsonArray
            VECTOR.serialize(out);
            1u32.serialize(out);
        },
        innermost: 0x3f6d_7b68, // jsonNull
        levels_per_repeat: 2,
    },
    Recursive {
        name: "RichText",
        level: |out| 0x6724_abc4u32.serialize(out), // textBold
        innermost: 0xdc3d_824f,                     // textEmpty
        levels_per_repeat: 1,
    },
    Recursive {
        name: "PageBlock",
        level: |out| {
            0x7676_8bedu32.serialize(out); // pageBlockDetails
            0u32.serialize(out); // flags
            VECTOR.serialize(out);
            1u32.serialize(out);
        },
        // pageBlockDetails' title comes after the blocks: the innermost block is followed by
        // one title per level, added by `build`.
        innermost: 0xce0d_37b0, // pageBlockAnchor (its name is added by `build`)
        levels_per_repeat: 2,
    },
    Recursive {
        name: "MessageMedia",
        level: |out| {
            0xa885_2491u32.serialize(out); // messageMediaPaidMedia
            5i64.serialize(out);
            VECTOR.serialize(out);
            1u32.serialize(out);
            0xee47_9c64u32.serialize(out); // messageExtendedMedia
        },
        innermost: 0x3ded_6320, // messageMediaEmpty
        levels_per_repeat: 3,
    },
];

/// `repeats` levels of `kind` around its innermost value, built without recursion.
fn build(kind: &Recursive, repeats: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..repeats {
        (kind.level)(&mut out);
    }
    kind.innermost.serialize(&mut out);
    if kind.name == "PageBlock" {
        String::from("a").serialize(&mut out);
        for _ in 0..repeats {
            0xdc3d_824fu32.serialize(&mut out); // title: textEmpty
        }
    }
    out
}

/// Decodes `bytes` as the boxed type `name` with grammers, on a thread with `stack` bytes.
fn decode_on_small_stack(name: &'static str, bytes: Vec<u8>, stack: usize) -> bool {
    std::thread::Builder::new()
        .stack_size(stack)
        .spawn(move || match name {
            "JSONValue" => tl::enums::Jsonvalue::from_bytes(&bytes).is_ok(),
            "RichText" => tl::enums::RichText::from_bytes(&bytes).is_ok(),
            "PageBlock" => tl::enums::PageBlock::from_bytes(&bytes).is_ok(),
            "MessageMedia" => tl::enums::MessageMedia::from_bytes(&bytes).is_ok(),
            _ => false,
        })
        .expect("a thread")
        .join()
        .expect("no stack overflow")
}

#[test]
fn every_recursive_type_within_the_limit_decodes_on_a_worker_sized_stack() {
    for kind in &RECURSIVE {
        // The outermost value is one level, each repetition adds its levels.
        let repeats = (MAX_DEPTH - 1) / kind.levels_per_repeat;
        let bytes = build(kind, repeats);
        assert_eq!(
            nesting::check_boxed(kind.name, &bytes),
            Ok(bytes.len()),
            "{}",
            kind.name
        );
        assert!(
            decode_on_small_stack(kind.name, bytes, 2 << 20),
            "{} at the limit decodes",
            kind.name
        );
        // One more repetition is refused, and so are a hundred thousand.
        for too_many in [repeats + 1, 100_000] {
            assert_eq!(
                nesting::check_boxed(kind.name, &build(kind, too_many)),
                Err(NestingError::TooDeep { limit: MAX_DEPTH }),
                "{} × {too_many}",
                kind.name
            );
        }
    }
}

#[test]
fn a_too_deep_answer_is_refused_before_it_is_decoded() {
    use tgpay::tl::nesting::{Bounded, Checked};
    type Call = tl::functions::help::GetAppConfig;

    let mut deep = tl::types::help::AppConfig::CONSTRUCTOR_ID.to_bytes();
    0i32.serialize(&mut deep);
    deep.extend(build(&RECURSIVE[0], 200_000));
    // What grammers does with an answer: `Return::from_bytes`, here through the check.
    let refused =
        <<Bounded<'_, Call> as tl::RemoteCall>::Return as Deserializable>::from_bytes(&deep);
    assert!(matches!(
        refused,
        Err(tl::deserialize::Error::UnexpectedConstructor { .. })
    ));
    let mut fine = tl::types::help::AppConfig::CONSTRUCTOR_ID.to_bytes();
    0i32.serialize(&mut fine);
    fine.extend(build(&RECURSIVE[0], 3));
    let Checked(config) = Checked::<Call>::from_bytes(&fine).expect("decoded");
    assert!(matches!(config, tl::enums::help::AppConfig::Config(_)));
}

use tl::Identifiable;

#[test]
fn scenario_files_nested_too_deeply_are_refused_with_a_typed_error() {
    for depth in [200, 100_000] {
        let arrays = format!("x = {}1{}", "[".repeat(depth), "]".repeat(depth));
        let tables = format!("x = {}1{}", "{a = ".repeat(depth), "}".repeat(depth));
        let dotted = format!("{} = 1", vec!["a"; depth].join("."));
        for text in [arrays, tables, dotted] {
            assert!(
                matches!(Scenario::from_toml(&text), Err(ScenarioError::Toml(_))),
                "TOML, depth {depth}"
            );
        }
        let json = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        assert!(
            matches!(Scenario::from_json(&json), Err(ScenarioError::Json(_))),
            "JSON, depth {depth}"
        );
    }
}

#[test]
fn json_from_outside_is_refused_past_its_depth_limit() {
    let deep = format!("{}\"x\"{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
    assert!(tgpay::credentials::WebCredentials::from_event(&deep).is_err());
    let path = std::env::temp_dir().join(format!("tgpay-deep-session-{}", std::process::id()));
    std::fs::write(&path, &deep).unwrap();
    let opened = tgpay_cli::session::FileSession::open(&path);
    let _ = std::fs::remove_file(&path);
    assert!(opened.is_err());
}
