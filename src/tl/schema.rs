//! The layer-230 schema as the table [`super::nesting`] walks: every constructor and function of
//! `tl/api.tl` (the file grammers-tl-types is generated from, copied unchanged) with how each of
//! its parameters is read. The file is compiled in and read once, on first use, with grammers'
//! own TL parser.

use std::collections::HashMap;
use std::sync::LazyLock;

use grammers_tl_parser::parse_tl_file;
use grammers_tl_parser::tl::{Category, Definition, ParameterType, Type};

/// The schema, as grammers-tl-types 0.11.0 ships it.
const API_TL: &str = include_str!("../../tl/api.tl");

/// The most `#` flags fields one definition has (layer 230 has at most 2).
pub(super) const MAX_FLAGS: usize = 4;

/// How one parameter is read.
#[derive(Debug, Clone, Copy)]
pub(super) enum P {
    /// A `#` flags field, kept in the given slot.
    Flags(u8),
    /// Always present.
    Always(Ty),
    /// Present when bit `.1` of flags slot `.0` is set.
    If(u8, u8, Ty),
}

/// A TL type as the walk reads it.
#[derive(Debug, Clone, Copy)]
pub(super) enum Ty {
    /// 4 bytes.
    Int,
    /// 8 bytes (`long`, `double`).
    Long,
    /// 16 bytes.
    Int128,
    /// 32 bytes.
    Int256,
    /// `string` / `bytes`: a length, the bytes, padding to 4.
    Bytes,
    /// `boolTrue` / `boolFalse`.
    Bool,
    /// A boxed object of the type with this index in [`Schema::type_names`].
    Boxed(u16),
    /// A bare object: the fields of this constructor, without its id.
    Bare(u32),
    /// `Vector<T>`: the vector id, a count, the elements (`T` is [`Schema::element`]).
    Vector(u32),
    /// `vector<T>`: a count, the elements.
    BareVector(u32),
    /// `!X`: any boxed object or function call.
    Any,
    /// Something the table does not describe.
    Unsupported,
}

/// What a definition is.
#[derive(Debug, Clone, Copy)]
pub(super) enum Kind {
    /// A constructor of the type with this index.
    Constructor(u16),
    /// A function returning this type.
    Function(Ty),
}

/// A constructor or function.
#[derive(Debug)]
pub(super) struct Def {
    pub id: u32,
    pub name: String,
    pub kind: Kind,
    pub params: Vec<P>,
}

/// What the walk reads of a definition, kept small and in one table: its id, its kind, and
/// where its parameters are in [`Schema::params`].
#[derive(Debug, Clone, Copy)]
struct Hot {
    id: u32,
    kind: Kind,
    start: u32,
    len: u16,
}

/// Every definition of the schema, by id.
#[derive(Debug)]
pub(super) struct Schema {
    defs: Vec<Def>,
    /// `defs` as the walk reads them (same order), with every definition's parameters side by
    /// side in `params`: a constructor costs the walk a slot, an entry and its parameters, in
    /// compact tables, rather than a scattered allocation each.
    hot: Vec<Hot>,
    params: Vec<P>,
    /// An open-addressing table from constructor id to `defs` index + 1 (0: empty slot), at
    /// most half full: one or two probes in a few kilobytes find a definition, where a binary
    /// search over `defs` touches a dozen cache lines on every constructor the walk reads.
    slots: Vec<u16>,
    type_names: Vec<String>,
    elements: Vec<Ty>,
    /// For each boxed type (by index), the deepest nesting a value of it can have, counted as
    /// the walk counts it; [`UNBOUNDED`] when the type reaches itself (`JSONValue`,
    /// `RichText`, `Message`…), a generic `!X` or something unreadable.
    type_depth: Vec<u8>,
    /// The same for each definition's own fields (by index in `defs`), one level included.
    def_depth: Vec<u8>,
}

/// A depth bound meaning "no bound": the value's type reaches itself.
pub(super) const UNBOUNDED: u8 = u8::MAX;

/// The schema, read on first use.
pub(super) static SCHEMA: LazyLock<Schema> = LazyLock::new(|| Schema::read(API_TL));

impl Schema {
    /// The definition with this constructor id.
    pub fn def(&self, id: u32) -> Option<&Def> {
        self.defs.get(self.index(id)?)
    }

    /// The kind and the parameters of the definition with this constructor id, from the
    /// walk's compact tables.
    pub fn lookup(&self, id: u32) -> Option<(Kind, &[P])> {
        let hot = self.hot.get(self.index(id)?)?;
        let start = hot.start as usize;
        let params = self.params.get(start..start + usize::from(hot.len))?;
        Some((hot.kind, params))
    }

    /// The index in `defs` of the definition with this constructor id.
    fn index(&self, id: u32) -> Option<usize> {
        let mask = self.slots.len().checked_sub(1)?;
        let mut at = slot_of(id) & mask;
        loop {
            let index = usize::from(*self.slots.get(at)?).checked_sub(1)?;
            if self.hot.get(index)?.id == id {
                return Some(index);
            }
            at = (at + 1) & mask;
        }
    }

    /// The index of the boxed type with this name (`"payments.PaymentForm"`).
    pub fn type_index(&self, name: &str) -> Option<u16> {
        let index = self.type_names.iter().position(|n| n == name)?;
        u16::try_from(index).ok()
    }

    /// The element type of a vector.
    pub fn element(&self, index: u32) -> Ty {
        self.elements
            .get(index as usize)
            .copied()
            .unwrap_or(Ty::Unsupported)
    }

    /// How many definitions there are.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.defs.len()
    }

    /// Reads the definitions of a schema file. The builtin lines (`int ? = Int;`,
    /// `vector#… {t:Type} …`) are not definitions; the walk knows those types by name.
    fn read(text: &str) -> Schema {
        let defs: Vec<Definition> = parse_tl_file(text).filter_map(Result::ok).collect();
        let mut schema = Schema {
            defs: Vec::with_capacity(defs.len()),
            hot: Vec::new(),
            params: Vec::new(),
            slots: Vec::new(),
            type_names: Vec::new(),
            elements: Vec::new(),
            type_depth: Vec::new(),
            def_depth: Vec::new(),
        };
        // Boxed types, numbered in order of first appearance; bare ones by constructor name.
        let mut types: HashMap<String, u16> = HashMap::new();
        let mut bare: HashMap<String, u32> = HashMap::new();
        for def in defs.iter().filter(|d| d.category == Category::Types) {
            let name = full_name(&def.ty.namespace, &def.ty.name);
            if !types.contains_key(&name) {
                let index = u16::try_from(schema.type_names.len()).unwrap_or(u16::MAX);
                types.insert(name.clone(), index);
                schema.type_names.push(name);
            }
            bare.insert(full_name(&def.namespace, &def.name), def.id);
        }
        let mut read = Reader {
            types: &types,
            bare: &bare,
            elements: &mut schema.elements,
        };
        for def in &defs {
            let params = read.params(def);
            let kind = match def.category {
                Category::Types => Kind::Constructor(
                    types
                        .get(&full_name(&def.ty.namespace, &def.ty.name))
                        .copied()
                        .unwrap_or(u16::MAX),
                ),
                Category::Functions => Kind::Function(read.ty(&def.ty)),
            };
            schema.defs.push(Def {
                id: def.id,
                name: full_name(&def.namespace, &def.name),
                kind,
                params,
            });
        }
        schema.defs.sort_by_key(|d| d.id);
        schema.defs.dedup_by_key(|d| d.id);
        for def in &schema.defs {
            let start = u32::try_from(schema.params.len()).unwrap_or(u32::MAX);
            // No definition has anywhere near 65 535 parameters; one that did would read as
            // having none of them, and its values would be refused as truncated or malformed.
            let len = u16::try_from(def.params.len()).unwrap_or(0);
            schema
                .params
                .extend_from_slice(&def.params[..usize::from(len)]);
            schema.hot.push(Hot {
                id: def.id,
                kind: def.kind,
                start,
                len,
            });
        }
        schema.slots = slots(&schema.defs);
        schema.depth_bounds();
        schema
    }

    /// The deepest a value of type `ty` can nest, as the walk counts it, or [`UNBOUNDED`] (see
    /// [`Schema::type_depth`]; while those are computed, from the current estimates): vectors
    /// count one level each, objects their definition's bound, scalars none.
    pub fn ty_depth(&self, mut ty: Ty) -> u8 {
        let mut vectors: u8 = 0;
        loop {
            let inner = match ty {
                Ty::Int | Ty::Long | Ty::Int128 | Ty::Int256 | Ty::Bytes | Ty::Bool => 0,
                Ty::Boxed(index) => self
                    .type_depth
                    .get(usize::from(index))
                    .copied()
                    .unwrap_or(UNBOUNDED),
                Ty::Bare(id) => self
                    .defs
                    .binary_search_by_key(&id, |d| d.id)
                    .ok()
                    .and_then(|index| self.def_depth.get(index).copied())
                    .unwrap_or(UNBOUNDED),
                Ty::Vector(element) | Ty::BareVector(element) => {
                    vectors = vectors.saturating_add(1);
                    ty = self.element(element);
                    continue;
                }
                Ty::Any | Ty::Unsupported => UNBOUNDED,
            };
            return vectors.saturating_add(inner);
        }
    }

    /// Computes [`Schema::type_depth`] and [`Schema::def_depth`]: longest paths through the
    /// graph of types, found by raising every estimate from 0 until nothing changes. The
    /// estimates only grow and stop at [`UNBOUNDED`], which a type on a cycle reaches.
    fn depth_bounds(&mut self) {
        self.type_depth = vec![0; self.type_names.len()];
        self.def_depth = vec![0; self.defs.len()];
        let mut changed = true;
        while changed {
            changed = false;
            for index in 0..self.defs.len() {
                let Some(def) = self.defs.get(index) else {
                    break;
                };
                let fields = def
                    .params
                    .iter()
                    .filter_map(|p| match *p {
                        P::Always(ty) | P::If(_, _, ty) => Some(self.ty_depth(ty)),
                        P::Flags(_) => None,
                    })
                    .max()
                    .unwrap_or(0);
                let depth = fields.saturating_add(1);
                let kind = def.kind;
                if let Some(slot) = self.def_depth.get_mut(index)
                    && depth > *slot
                {
                    *slot = depth;
                    changed = true;
                }
                if let Kind::Constructor(t) = kind
                    && let Some(slot) = self.type_depth.get_mut(usize::from(t))
                    && depth > *slot
                {
                    *slot = depth;
                    changed = true;
                }
            }
        }
    }
}

/// Where a constructor id's probe starts (ids are CRC32s: a multiplication spreads them well).
fn slot_of(id: u32) -> usize {
    (id.wrapping_mul(0x9e37_79b9) >> 16) as usize
}

/// The lookup table of `defs` (see [`Schema::slots`]); empty if `defs` has more entries than
/// a `u16` index holds, and then every lookup misses.
fn slots(defs: &[Def]) -> Vec<u16> {
    let Ok(count) = u16::try_from(defs.len()) else {
        return Vec::new();
    };
    let size = (usize::from(count) * 2).next_power_of_two().max(2);
    let mask = size - 1;
    let mut slots = vec![0u16; size];
    for (index, def) in (1..=count).zip(defs) {
        let mut at = slot_of(def.id) & mask;
        while slots[at] != 0 {
            at = (at + 1) & mask;
        }
        slots[at] = index;
    }
    slots
}

/// `payments.PaymentForm`, `inputPeerSelf`.
fn full_name(namespace: &[String], name: &str) -> String {
    let mut full = namespace.join(".");
    if !full.is_empty() {
        full.push('.');
    }
    full.push_str(name);
    full
}

/// Turns parsed types into the walk's [`Ty`]s.
struct Reader<'a> {
    types: &'a HashMap<String, u16>,
    bare: &'a HashMap<String, u32>,
    elements: &'a mut Vec<Ty>,
}

impl Reader<'_> {
    fn ty(&mut self, ty: &Type) -> Ty {
        if ty.generic_ref {
            return Ty::Any;
        }
        match ty.name.as_str() {
            "int" => Ty::Int,
            "long" | "double" => Ty::Long,
            "int128" => Ty::Int128,
            "int256" => Ty::Int256,
            "string" | "bytes" => Ty::Bytes,
            "Bool" => Ty::Bool,
            "Vector" | "vector" => {
                let Some(arg) = &ty.generic_arg else {
                    return Ty::Unsupported;
                };
                let element = self.ty(arg);
                let index = u32::try_from(self.elements.len()).unwrap_or(u32::MAX);
                self.elements.push(element);
                if ty.name == "Vector" {
                    Ty::Vector(index)
                } else {
                    Ty::BareVector(index)
                }
            }
            _ => {
                let name = full_name(&ty.namespace, &ty.name);
                let found = if ty.bare {
                    self.bare.get(&name).map(|id| Ty::Bare(*id))
                } else {
                    self.types.get(&name).map(|index| Ty::Boxed(*index))
                };
                found.unwrap_or(Ty::Unsupported)
            }
        }
    }

    /// The parameters in wire order; a `true` flag takes no bytes and is left out. A definition
    /// with more than [`MAX_FLAGS`] flags fields, or one using a flags field it has not declared,
    /// becomes unreadable rather than misread.
    fn params(&mut self, def: &Definition) -> Vec<P> {
        let mut slots: Vec<&str> = Vec::new();
        let mut params = Vec::with_capacity(def.params.len());
        for param in &def.params {
            match &param.ty {
                ParameterType::Flags => {
                    slots.push(&param.name);
                    params.push(P::Flags(u8::try_from(slots.len() - 1).unwrap_or(u8::MAX)));
                }
                ParameterType::Normal { ty, flag: None } => params.push(P::Always(self.ty(ty))),
                ParameterType::Normal { ty, flag: Some(_) } if ty.name == "true" => {}
                ParameterType::Normal {
                    ty,
                    flag: Some(flag),
                } => {
                    let slot = slots.iter().position(|name| *name == flag.name);
                    let bit = u8::try_from(flag.index).ok().filter(|bit| *bit < 32);
                    match (slot.and_then(|s| u8::try_from(s).ok()), bit) {
                        (Some(slot), Some(bit)) => params.push(P::If(slot, bit, self.ty(ty))),
                        _ => return vec![P::Always(Ty::Unsupported)],
                    }
                }
            }
        }
        if slots.len() > MAX_FLAGS {
            return vec![P::Always(Ty::Unsupported)];
        }
        params
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_definition_of_the_schema_is_readable() {
        let schema = &*SCHEMA;
        assert!(schema.defs.windows(2).all(|w| w[0].id < w[1].id));
        let unreadable: Vec<&str> = schema
            .defs
            .iter()
            .filter(|d| matches!(d.params[..], [P::Always(Ty::Unsupported)]))
            .map(|d| d.name.as_str())
            .collect();
        assert_eq!(unreadable, Vec::<&str>::new());
        // The lookup table finds every definition, and nothing else.
        assert!(
            schema
                .defs
                .iter()
                .all(|d| schema.def(d.id).is_some_and(|f| f.id == d.id))
        );
        assert!(schema.slots.len() >= 2 * schema.defs.len());
        let absent = |id: &u32| schema.defs.binary_search_by_key(id, |d| d.id).is_err();
        let misses: Vec<u32> = schema
            .defs
            .iter()
            .map(|d| d.id ^ 1)
            .filter(absent)
            .collect();
        assert!(misses.len() > 1000);
        assert!(misses.iter().all(|id| schema.def(*id).is_none()));
        // Depth bounds: the form and the validated order cannot nest; an answer with `Updates`
        // (messages, rich text) can nest without end.
        let depth = |name: &str| match schema.defs.iter().find(|d| d.name == name).unwrap().kind {
            Kind::Function(ty) => schema.ty_depth(ty),
            Kind::Constructor(_) => panic!("{name} is not a function"),
        };
        assert!(
            depth("payments.getPaymentForm") < 20,
            "{}",
            depth("payments.getPaymentForm")
        );
        assert!(depth("payments.validateRequestedInfo") < 10);
        assert_eq!(depth("payments.sendPaymentForm"), UNBOUNDED);
        assert_eq!(depth("payments.sendStarsForm"), UNBOUNDED);
        assert_eq!(depth("help.getAppConfig"), UNBOUNDED); // JSONValue
        let json = schema.type_index("JSONValue").unwrap();
        assert_eq!(schema.type_depth[usize::from(json)], UNBOUNDED);
        let payment_form = schema.type_index("payments.PaymentForm").unwrap();
        let form = schema.def(0x7bf6_b15c).unwrap();
        assert_eq!(form.name, "payments.paymentFormStars");
        assert!(matches!(form.kind, Kind::Constructor(t) if t == payment_form));
    }
}
