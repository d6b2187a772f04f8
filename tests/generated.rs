//! Rust that is generated from the data files and checked in: `src/rpc_error/catalog.rs` must be
//! exactly what `tl/errors.tsv` renders to. After editing the TSV, write it again with
//! `TGPAY_REGENERATE=1 cargo test --test generated`.

#[path = "support/catalog.rs"]
mod catalog;

use std::path::Path;

#[test]
fn the_error_catalog_rust_is_generated_from_the_tsv() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tsv = std::fs::read_to_string(root.join(catalog::TSV)).unwrap();
    let rust = catalog::render(&tsv).unwrap_or_else(|e| panic!("{}: {e}", catalog::TSV));
    let path = root.join(catalog::RUST);
    if std::env::var_os("TGPAY_REGENERATE").is_some() {
        std::fs::write(&path, &rust).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == rust,
        "{} is not what {} renders to: run `TGPAY_REGENERATE=1 cargo test --test generated` \
         and commit the result",
        catalog::RUST,
        catalog::TSV
    );
}

#[test]
fn the_generator_names_the_line_of_a_bad_row() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tsv = std::fs::read_to_string(root.join(catalog::TSV)).unwrap();
    let header = tsv.lines().next().unwrap();
    let bad = [
        (
            "400\tFLOOD_WAIT_X\t*\tWait\tnone\terror-db\tx",
            "only they recover by `wait`",
        ),
        ("400\tFOO\tpayments.pay\tFoo\tnone\terror-db\tx", "methods"),
        ("400\tFOO\t*\tFoo.\tnone\terror-db\tx", "final full stop"),
        (
            "400\tFOO\t*\tFoo\tfix_field:zip\terror-db\tx",
            "recovery \"fix_field:zip\"",
        ),
        ("400\tFOO\t*\tFoo\tnone\tblog\tx", "provenance"),
        ("400\tFOO\t*\tFoo\tnone\terror-db\t", "no source"),
        (
            "200\tFOO\t*\tFoo\tnone\terror-db\tx",
            "not an RPC error code",
        ),
        (
            "400\tunknown\t*\tFoo\tnone\terror-db\tx",
            "SCREAMING_SNAKE_CASE",
        ),
    ];
    for (row, expected) in bad {
        let error = catalog::render(&format!("{header}\n{row}\n")).unwrap_err();
        assert!(
            error.starts_with("line 2: ") && error.contains(expected),
            "{row}: {error}"
        );
    }
    let twice = format!(
        "{header}\n400\tFOO\t*\tFoo\tnone\terror-db\tx\n400\tFOO\t*\tFoo\tnone\terror-db\tx\n"
    );
    assert!(catalog::render(&twice).unwrap_err().starts_with("line 3: "));
}
