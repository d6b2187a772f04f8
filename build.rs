//! Turns `tl/errors.tsv`, the RPC error catalog of the payment methods, into Rust.
//!
//! The TSV is the single source of truth: this script checks every row and writes
//! `$OUT_DIR/payment_errors.rs`, which `src/error.rs` includes. The output holds the catalog
//! table and one `define_payment_error!` invocation listing the variants; the macro itself and
//! all the logic live in `src/error.rs`. Column meanings and tokens: `tl/README.md`.
//!
//! It also turns `tl/api.tl`, the whole schema, into `$OUT_DIR/tl_schema.rs`, the table
//! `src/tl/nesting.rs` walks (see `build/tl_schema.rs`).

#[path = "build/tl_schema.rs"]
mod tl_schema;

use std::collections::HashSet;
use std::error::Error;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::{env, fs};

const CATALOG_PATH: &str = "tl/errors.tsv";

/// The columns, in order. Extra columns after these are allowed and ignored.
const COLUMNS: [&str; 7] = [
    "code",
    "name",
    "methods",
    "meaning",
    "recovery",
    "provenance",
    "source",
];

/// The methods the catalog covers; `*` in the `methods` column stands for all of them.
const METHODS: [&str; 12] = [
    "payments.getPaymentForm",
    "payments.validateRequestedInfo",
    "payments.sendPaymentForm",
    "payments.sendStarsForm",
    "payments.getPaymentReceipt",
    "payments.getSavedInfo",
    "payments.clearSavedInfo",
    "account.getPassword",
    "account.getTmpPassword",
    "payments.getStarsStatus",
    "payments.getStarsTransactions",
    "payments.getStarsTopupOptions",
];

/// `fix_field:<token>` tokens and the `OrderField` variant each one names.
const ORDER_FIELDS: [(&str, &str); 12] = [
    ("name", "Name"),
    ("phone", "Phone"),
    ("email", "Email"),
    ("street_line1", "StreetLine1"),
    ("street_line2", "StreetLine2"),
    ("city", "City"),
    ("state", "State"),
    ("country_iso2", "CountryIso2"),
    ("post_code", "PostCode"),
    ("shipping_address", "ShippingAddress"),
    ("shipping_option", "ShippingOption"),
    ("credentials", "Credentials"),
];

/// `provenance` tokens and the `Provenance` variant each one names.
const PROVENANCES: [(&str, &str); 3] = [
    ("method-page", "MethodPage"),
    ("error-db", "ErrorDb"),
    ("client", "Client"),
];

/// Names that `src/error.rs` defines itself.
const RESERVED_VARIANTS: [&str; 2] = ["Unknown", "Invocation"];

struct Row {
    line: usize,
    code: i32,
    name: String,
    variant: String,
    numbered: bool,
    any_method: bool,
    methods: Vec<String>,
    meaning: String,
    recovery: String,
    provenance: &'static str,
}

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo::rerun-if-changed={CATALOG_PATH}");
    println!("cargo::rerun-if-changed=build.rs");

    let text =
        fs::read_to_string(CATALOG_PATH).map_err(|e| format!("cannot read {CATALOG_PATH}: {e}"))?;
    let rows = parse(&text).map_err(|e| format!("{CATALOG_PATH}: {e}"))?;
    let out = PathBuf::from(env::var("OUT_DIR")?).join("payment_errors.rs");
    fs::write(&out, render(&rows))?;

    println!("cargo::rerun-if-changed={}", tl_schema::SCHEMA_PATH);
    println!("cargo::rerun-if-changed=build/tl_schema.rs");
    let schema = fs::read_to_string(tl_schema::SCHEMA_PATH)
        .map_err(|e| format!("cannot read {}: {e}", tl_schema::SCHEMA_PATH))?;
    let table = tl_schema::render(&schema)?;
    fs::write(
        PathBuf::from(env::var("OUT_DIR")?).join("tl_schema.rs"),
        table,
    )?;
    Ok(())
}

fn parse(text: &str) -> Result<Vec<Row>, String> {
    let mut lines = text.lines().enumerate();
    let (_, header) = lines.next().ok_or("the file is empty")?;
    let header: Vec<&str> = header.split('\t').collect();
    if header.len() < COLUMNS.len() || header[..COLUMNS.len()] != COLUMNS {
        return Err(format!(
            "line 1: the header must start with the columns {COLUMNS:?}, found {header:?}"
        ));
    }

    let mut rows = Vec::new();
    let mut names = HashSet::new();
    let mut variants = HashSet::new();
    for (index, line) in lines {
        let line_no = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let row = parse_row(line_no, line)?;
        if !names.insert(row.name.clone()) {
            return Err(format!("line {line_no}: {} is listed twice", row.name));
        }
        if !variants.insert(row.variant.clone()) {
            return Err(format!(
                "line {line_no}: {} gives the Rust variant {} a second time",
                row.name, row.variant
            ));
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err("the catalog has no rows".into());
    }

    // A numbered error arrives from grammers as its prefix plus a value; an unnumbered row with
    // the same name would make the lookup ambiguous.
    for row in rows.iter().filter(|r| r.numbered) {
        let prefix = &row.name[..row.name.len() - 2];
        if let Some(other) = rows.iter().find(|r| !r.numbered && r.name == prefix) {
            return Err(format!(
                "line {}: {} clashes with {} on line {}",
                row.line, row.name, other.name, other.line
            ));
        }
    }
    Ok(rows)
}

fn parse_row(line_no: usize, line: &str) -> Result<Row, String> {
    let at = |what: String| format!("line {line_no}: {what}");
    let cells: Vec<&str> = line.split('\t').collect();
    if cells.len() < COLUMNS.len() {
        return Err(at(format!(
            "expected {} tab-separated columns, found {}",
            COLUMNS.len(),
            cells.len()
        )));
    }
    let cell = |i: usize| cells[i].trim();

    let code: i32 = cell(0)
        .parse()
        .map_err(|_| at(format!("code {:?} is not a number", cell(0))))?;
    if !(300..=599).contains(&code) {
        return Err(at(format!("code {code} is not an RPC error code")));
    }

    let name = cell(1).to_owned();
    let valid_name = name
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && name.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
        && !name.ends_with('_')
        && !name.contains("__");
    if !valid_name {
        return Err(at(format!(
            "name {name:?} must be SCREAMING_SNAKE_CASE starting with a letter"
        )));
    }
    let numbered = name.ends_with("_X");
    let variant = camel_case(name.strip_suffix("_X").unwrap_or(&name));
    if RESERVED_VARIANTS.contains(&variant.as_str()) {
        return Err(at(format!(
            "{name} would collide with PaymentError::{variant}"
        )));
    }

    let methods_cell = cell(2);
    let any_method = methods_cell == "*";
    let methods: Vec<String> = if any_method {
        METHODS.iter().map(|m| (*m).to_owned()).collect()
    } else {
        let mut list = Vec::new();
        for method in methods_cell.split(',').map(str::trim) {
            if !METHODS.contains(&method) {
                return Err(at(format!(
                    "method {method:?} is not one of the catalog's methods {METHODS:?} (or `*`)"
                )));
            }
            if list.iter().any(|m| m == method) {
                return Err(at(format!("method {method} is listed twice")));
            }
            list.push(method.to_owned());
        }
        list
    };

    let meaning = cell(3).to_owned();
    if meaning.is_empty() || meaning.ends_with('.') {
        return Err(at(
            "meaning must be a non-empty phrase without a final full stop".to_owned(),
        ));
    }

    let recovery = recovery_rule(cell(4)).map_err(at)?;
    if numbered != (cell(4) == "wait") {
        return Err(at(format!(
            "{name}: numbered names (`_X`) and only they take the recovery `wait`"
        )));
    }

    let provenance = PROVENANCES
        .iter()
        .find(|(token, _)| *token == cell(5))
        .map(|(_, variant)| *variant)
        .ok_or_else(|| {
            at(format!(
                "provenance {:?} is not one of {:?}",
                cell(5),
                PROVENANCES.map(|p| p.0)
            ))
        })?;
    if cell(6).is_empty() {
        return Err(at(format!("{name} has no source")));
    }

    Ok(Row {
        line: line_no,
        code,
        name,
        variant,
        numbered,
        any_method,
        methods,
        meaning,
        recovery,
        provenance,
    })
}

/// The Rust expression of the `RecoveryRule` a `recovery` token stands for.
fn recovery_rule(token: &str) -> Result<String, String> {
    let rule = match token {
        "refetch_form" => "RecoveryRule::RefetchForm",
        "top_up_stars" => "RecoveryRule::TopUpStars",
        "reenter_password" => "RecoveryRule::ReenterPassword",
        "wait" => "RecoveryRule::WaitX",
        "contact_merchant" => "RecoveryRule::ContactMerchant",
        "update_client" => "RecoveryRule::UpdateClient",
        "none" => "RecoveryRule::None",
        other => {
            let field = other.strip_prefix("fix_field:").ok_or_else(|| {
                format!("recovery {other:?} is not a known token (see tl/README.md)")
            })?;
            let (_, variant) = ORDER_FIELDS
                .iter()
                .find(|(t, _)| *t == field)
                .ok_or_else(|| {
                    format!(
                        "order field {field:?} is not one of {:?}",
                        ORDER_FIELDS.map(|f| f.0)
                    )
                })?;
            return Ok(format!("RecoveryRule::OrderField(OrderField::{variant})"));
        }
    };
    Ok(rule.to_owned())
}

fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for word in name.split('_') {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars.map(|c| c.to_ascii_lowercase()));
        }
    }
    out
}

fn render(rows: &[Row]) -> String {
    let mut out = String::new();
    out.push_str("// Generated by build.rs from tl/errors.tsv. Do not edit.\n\n");
    let _ = writeln!(out, "static CATALOG: [CatalogEntry; {}] = [", rows.len());
    for row in rows {
        let methods: Vec<String> = row.methods.iter().map(|m| format!("{m:?}")).collect();
        let _ = writeln!(
            out,
            "    CatalogEntry {{ name: {:?}, code: {}, methods: &[{}], any_method: {}, \
             meaning: {:?}, rule: {}, provenance: Provenance::{} }},",
            row.name,
            row.code,
            methods.join(", "),
            row.any_method,
            row.meaning,
            row.recovery,
            row.provenance,
        );
    }
    out.push_str("];\n\ndefine_payment_error! {\n    plain {\n");
    for (index, row) in rows.iter().enumerate().filter(|(_, r)| !r.numbered) {
        let _ = writeln!(
            out,
            "        {} = {index}, {:?};",
            row.variant,
            variant_doc(row)
        );
    }
    out.push_str("    }\n    numbered {\n");
    for (index, row) in rows.iter().enumerate().filter(|(_, r)| r.numbered) {
        let _ = writeln!(
            out,
            "        {} = {index}, {:?};",
            row.variant,
            variant_doc(row)
        );
    }
    out.push_str("    }\n}\n");
    out
}

fn variant_doc(row: &Row) -> String {
    let methods = if row.any_method {
        "any method".to_owned()
    } else {
        row.methods
            .iter()
            .map(|m| format!("`{m}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let number = if row.numbered {
        " The number in the name (`X`) is in `seconds`."
    } else {
        ""
    };
    format!(
        "`{}` ({}): {}.{number} Returned by {methods}.",
        row.name, row.code, row.meaning
    )
}
