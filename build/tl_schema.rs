//! Turns `tl/api.tl` (the whole layer-230 schema grammers-tl-types is generated from) into
//! `$OUT_DIR/tl_schema.rs`: a compact table of every constructor and function with its
//! parameters, which `src/tl/nesting.rs` walks to measure how deeply a serialized value nests
//! before grammers' recursive deserializers see it.

use std::collections::HashMap;
use std::fmt::Write as _;

use grammers_tl_parser::parse_tl_file;
use grammers_tl_parser::tl::{Category, Definition, ParameterType, Type};

pub const SCHEMA_PATH: &str = "tl/api.tl";

/// The Rust expression of the walker's `Ty` for a TL type.
fn ty_expr(ty: &Type, types: &HashMap<String, usize>, bare: &HashMap<String, u32>) -> String {
    if ty.generic_ref {
        return "Ty::Any".to_owned();
    }
    let inner = |ty: &Type| ty_expr(ty, types, bare);
    match ty.name.as_str() {
        "int" => "Ty::Int".to_owned(),
        "long" => "Ty::Long".to_owned(),
        "double" => "Ty::Long".to_owned(),
        "int128" => "Ty::Int128".to_owned(),
        "int256" => "Ty::Int256".to_owned(),
        "string" | "bytes" => "Ty::Bytes".to_owned(),
        "Bool" => "Ty::Bool".to_owned(),
        "Vector" | "vector" => {
            let kind = if ty.name == "Vector" {
                "Vector"
            } else {
                "BareVector"
            };
            match &ty.generic_arg {
                Some(arg) => format!("Ty::{kind}(&{})", inner(arg)),
                None => "Ty::Unsupported".to_owned(),
            }
        }
        _ => {
            let full = full_type_name(ty);
            if ty.bare {
                match bare.get(&full) {
                    Some(id) => format!("Ty::Bare({id:#010x})"),
                    None => "Ty::Unsupported".to_owned(),
                }
            } else {
                match types.get(&full) {
                    Some(index) => format!("Ty::Boxed({index})"),
                    None => "Ty::Unsupported".to_owned(),
                }
            }
        }
    }
}

fn full_type_name(ty: &Type) -> String {
    let mut name = ty.namespace.join(".");
    if !name.is_empty() {
        name.push('.');
    }
    name.push_str(&ty.name);
    name
}

fn def_name(def: &Definition) -> String {
    let mut name = def.namespace.join(".");
    if !name.is_empty() {
        name.push('.');
    }
    name.push_str(&def.name);
    name
}

/// Reads the schema and renders the table.
pub fn render(text: &str) -> Result<String, String> {
    let mut defs: Vec<Definition> = Vec::new();
    for def in parse_tl_file(text) {
        match def {
            Ok(def) => defs.push(def),
            // The builtin lines (`int ? = Int;`, `vector#… {t:Type} …`) do not parse as
            // definitions; the walker knows them by name.
            Err(_) => continue,
        }
    }
    if defs.len() < 1000 {
        return Err(format!(
            "{SCHEMA_PATH}: only {} definitions parsed",
            defs.len()
        ));
    }
    // Boxed types, numbered in order of first appearance; bare references by constructor name.
    let mut types: HashMap<String, usize> = HashMap::new();
    let mut type_names: Vec<String> = Vec::new();
    let mut members: Vec<Vec<u32>> = Vec::new();
    let mut bare: HashMap<String, u32> = HashMap::new();
    for def in defs.iter().filter(|d| d.category == Category::Types) {
        let name = full_type_name(&def.ty);
        let index = *types.entry(name.clone()).or_insert_with(|| {
            type_names.push(name);
            members.push(Vec::new());
            members.len() - 1
        });
        members[index].push(def.id);
        bare.insert(def_name(def), def.id);
    }

    let mut rows: Vec<(u32, String)> = Vec::new();
    for def in &defs {
        let mut flag_slots: Vec<&str> = Vec::new();
        let mut params = Vec::new();
        for param in &def.params {
            match &param.ty {
                ParameterType::Flags => {
                    flag_slots.push(&param.name);
                    params.push(format!("P::Flags({})", flag_slots.len() - 1));
                }
                ParameterType::Normal { ty, flag: None } => {
                    params.push(format!("P::Always({})", ty_expr(ty, &types, &bare)));
                }
                ParameterType::Normal {
                    ty,
                    flag: Some(flag),
                } => {
                    let slot = flag_slots
                        .iter()
                        .position(|name| *name == flag.name)
                        .ok_or_else(|| {
                            format!(
                                "{SCHEMA_PATH}: {} uses the flags field {} before declaring it",
                                def_name(def),
                                flag.name
                            )
                        })?;
                    if ty.name == "true" {
                        // Present or not, a `true` takes no bytes.
                        continue;
                    }
                    params.push(format!(
                        "P::If({slot}, {}, {})",
                        flag.index,
                        ty_expr(ty, &types, &bare)
                    ));
                }
            }
        }
        if flag_slots.len() > 4 {
            return Err(format!(
                "{SCHEMA_PATH}: {} has more than 4 flags fields",
                def_name(def)
            ));
        }
        let kind = match def.category {
            Category::Types => format!("Kind::Constructor({})", types[&full_type_name(&def.ty)]),
            Category::Functions => {
                format!("Kind::Function({})", ty_expr(&def.ty, &types, &bare))
            }
        };
        rows.push((
            def.id,
            format!(
                "    Def {{ id: {:#010x}, name: {:?}, kind: {kind}, params: &[{}] }},\n",
                def.id,
                def_name(def),
                params.join(", ")
            ),
        ));
    }
    rows.sort_by_key(|(id, _)| *id);
    rows.dedup_by_key(|(id, _)| *id);

    let mut out = String::new();
    out.push_str("// Generated by build.rs from tl/api.tl. Do not edit.\n\n");
    let _ = writeln!(out, "static DEFS: [Def; {}] = [", rows.len());
    for (_, row) in &rows {
        out.push_str(row);
    }
    out.push_str("];\n\n");
    let _ = writeln!(out, "static TYPE_NAMES: [&str; {}] = [", type_names.len());
    for name in &type_names {
        let _ = writeln!(out, "    {name:?},");
    }
    out.push_str("];\n");
    Ok(out)
}
