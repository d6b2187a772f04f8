//! A depth limit for TL values, checked before grammers decodes them.
//!
//! grammers' deserializers recurse once per nested value, with no limit: a `JSONValue` array in
//! an array in an array…, a `RichText` in a `RichText`, a `MessageMedia` whose paid media holds
//! a `MessageMedia`… A few hundred kilobytes of such nesting overflow a thread's stack, and a
//! stack overflow aborts the whole process; no panic guard can catch it.
//!
//! [`check_function`] and [`check_answer`] walk serialized bytes with the schema of layer 230
//! (every constructor and function of `tl/api.tl`, read into a table on first use), without
//! recursion and without allocating per value, and refuse anything nested deeper than
//! [`MAX_DEPTH`] levels (each boxed object, bare object and vector counts as one). The walk
//! follows the bytes exactly as grammers' deserializers read them, so a value it lets through
//! makes grammers recurse at most [`MAX_DEPTH`] levels deep, and a value it cannot walk (an
//! unknown constructor, too few bytes) is one grammers refuses too.
//!
//! The sandbox checks every query before decoding it; [`Payments`](crate::Payments) checks
//! every answer it decodes, through [`invoke`] (usable with any grammers `Client` as well).
//! An answer whose type cannot reach itself in the schema (`payments.PaymentForm`,
//! `payments.ValidatedRequestedInfo`…) has a depth bound of its own; when that bound is within
//! [`MAX_DEPTH`], no bytes can make it deeper and it is decoded without a walk. Answers that
//! carry messages or rich text (`Updates`, `messages.Messages`) are always walked.
//!
//! ```
//! use tgpay::tl::{self, Serializable, nesting};
//!
//! // An array nested in itself 100 times over: 101 levels.
//! let mut value = tl::enums::Jsonvalue::JsonNull;
//! for _ in 0..100 {
//!     value = tl::types::JsonArray { value: vec![value] }.into();
//! }
//! let mut bytes = Vec::new();
//! value.serialize(&mut bytes);
//! let error = nesting::check_boxed("JSONValue", &bytes).unwrap_err();
//! assert_eq!(error, nesting::NestingError::TooDeep { limit: nesting::MAX_DEPTH });
//! # // The value itself is dropped recursively; 100 levels is fine.
//! ```

use grammers_client::Client;
use grammers_mtsender::InvocationError;
use grammers_tl_types::{Cursor, Deserializable, Identifiable, RemoteCall, Serializable};

/// The deepest nesting tgpay and its sandbox decode. Real answers nest about 20 levels at most
/// (a rich-text page inside a web page inside a message inside `messages.Messages`).
pub const MAX_DEPTH: usize = 64;

/// Why a serialized TL value was not accepted by the walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NestingError {
    /// The value nests deeper than the limit; it is refused before anything decodes it.
    #[error(
        "the TL value nests deeper than {limit} levels (objects and vectors within each other); \
         nothing this deep is valid: send a flatter value"
    )]
    TooDeep {
        /// The limit, [`MAX_DEPTH`].
        limit: usize,
    },
    /// The bytes end in the middle of a value.
    #[error("the TL value is truncated: its bytes end in the middle of a field")]
    Truncated,
    /// A constructor id that the schema does not have where it is found.
    #[error("constructor {id:#010x} is not valid here in layer 230")]
    UnexpectedConstructor {
        /// The id read.
        id: u32,
    },
    /// A function (or type) the schema of layer 230 does not know.
    #[error("{what} {id:#010x} is not in the layer 230 schema")]
    Unknown {
        /// `"function"` or `"type"`.
        what: &'static str,
        /// The id or, for a type looked up by name, 0.
        id: u32,
    },
    /// A vector claims more elements than its bytes could hold.
    #[error("a vector claims {count} elements but only {left} bytes follow")]
    VectorTooLong {
        /// The element count read.
        count: u32,
        /// The bytes left after it.
        left: usize,
    },
}

use super::schema::{Def, Kind, P, SCHEMA, Ty};

const VECTOR_ID: u32 = 0x1cb5_c415;
const BOOL_TRUE: u32 = 0x9972_75b5;
const BOOL_FALSE: u32 = 0xbc79_9737;

fn def(id: u32) -> Option<&'static Def> {
    SCHEMA.def(id)
}

/// The TL name of a constructor or function of layer 230, e.g. `"payments.getPaymentForm"`.
pub fn name_of(id: u32) -> Option<&'static str> {
    def(id).map(|d| d.name.as_str())
}

/// One level of the walk.
enum Frame {
    Fields {
        params: &'static [P],
        next: usize,
        flags: [u32; 4],
    },
    Vector {
        element: Ty,
        left: u32,
    },
}

struct Walk<'a> {
    bytes: &'a [u8],
    at: usize,
    stack: Vec<Frame>,
    limit: usize,
    /// The deepest the stack went.
    deepest: usize,
}

impl Walk<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], NestingError> {
        let end = self.at.checked_add(n).ok_or(NestingError::Truncated)?;
        let slice = self
            .bytes
            .get(self.at..end)
            .ok_or(NestingError::Truncated)?;
        self.at = end;
        Ok(slice)
    }

    fn u32(&mut self) -> Result<u32, NestingError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn push(&mut self, frame: Frame) -> Result<(), NestingError> {
        if self.stack.len() >= self.limit {
            return Err(NestingError::TooDeep { limit: self.limit });
        }
        self.stack.push(frame);
        self.deepest = self.deepest.max(self.stack.len());
        Ok(())
    }

    fn fields(&mut self, params: &'static [P]) -> Result<(), NestingError> {
        self.push(Frame::Fields {
            params,
            next: 0,
            flags: [0; 4],
        })
    }

    /// Reads one value of type `ty`: scalars at once, composites by pushing a frame.
    fn value(&mut self, ty: Ty) -> Result<(), NestingError> {
        match ty {
            Ty::Int => self.take(4).map(drop),
            Ty::Long => self.take(8).map(drop),
            Ty::Int128 => self.take(16).map(drop),
            Ty::Int256 => self.take(32).map(drop),
            Ty::Bytes => {
                let first = *self.take(1)?.first().ok_or(NestingError::Truncated)?;
                let (len, header) = if first == 254 {
                    let b = self.take(3)?;
                    (
                        usize::from(b[0]) | usize::from(b[1]) << 8 | usize::from(b[2]) << 16,
                        4,
                    )
                } else {
                    (usize::from(first), 1)
                };
                let padded = (header + len).div_ceil(4) * 4 - header;
                self.take(padded).map(drop)
            }
            Ty::Bool => match self.u32()? {
                BOOL_TRUE | BOOL_FALSE => Ok(()),
                id => Err(NestingError::UnexpectedConstructor { id }),
            },
            Ty::Boxed(type_index) => {
                let id = self.u32()?;
                match SCHEMA.lookup(id) {
                    Some((Kind::Constructor(t), params)) if t == type_index => self.fields(params),
                    _ => Err(NestingError::UnexpectedConstructor { id }),
                }
            }
            Ty::Bare(id) => match SCHEMA.lookup(id) {
                Some((_, params)) => self.fields(params),
                None => Err(NestingError::Unknown { what: "type", id }),
            },
            Ty::Any => {
                let id = self.u32()?;
                match SCHEMA.lookup(id) {
                    Some((_, params)) => self.fields(params),
                    None => Err(NestingError::UnexpectedConstructor { id }),
                }
            }
            Ty::Vector(element) => {
                let id = self.u32()?;
                if id != VECTOR_ID {
                    return Err(NestingError::UnexpectedConstructor { id });
                }
                self.vector(SCHEMA.element(element))
            }
            Ty::BareVector(element) => self.vector(SCHEMA.element(element)),
            Ty::Unsupported => Err(NestingError::Unknown {
                what: "type",
                id: 0,
            }),
        }
    }

    fn vector(&mut self, element: Ty) -> Result<(), NestingError> {
        let count = self.u32()?;
        let left = self.bytes.len() - self.at;
        // Every element takes at least one byte on the wire in this schema; a larger count is
        // a lie, refused before walking it.
        if count as usize > left {
            return Err(NestingError::VectorTooLong { count, left });
        }
        self.push(Frame::Vector {
            element,
            left: count,
        })
    }

    /// Walks frames until the stack is empty.
    fn run(&mut self) -> Result<(), NestingError> {
        loop {
            let next = match self.stack.last_mut() {
                None => return Ok(()),
                Some(Frame::Vector { element, left }) => {
                    if *left == 0 {
                        None
                    } else {
                        *left -= 1;
                        Some(*element)
                    }
                }
                Some(Frame::Fields {
                    params,
                    next,
                    flags,
                }) => match params.get(*next) {
                    None => None,
                    Some(param) => {
                        *next += 1;
                        match *param {
                            P::Flags(slot) => {
                                let at = self.at;
                                let b =
                                    self.bytes.get(at..at + 4).ok_or(NestingError::Truncated)?;
                                flags[usize::from(slot)] =
                                    u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                                self.at += 4;
                                continue;
                            }
                            P::Always(ty) => Some(ty),
                            P::If(slot, bit, ty) => {
                                let set = flags[usize::from(slot)] & (1u32 << bit) != 0;
                                if !set {
                                    continue;
                                }
                                Some(ty)
                            }
                        }
                    }
                },
            };
            match next {
                Some(ty) => self.value(ty)?,
                None => {
                    self.stack.pop();
                }
            }
        }
    }
}

fn walk(bytes: &[u8], root: Ty, limit: usize) -> Result<usize, NestingError> {
    walk_deepest(bytes, root, limit).map(|(at, _)| at)
}

/// [`walk`], also returning the deepest level reached.
fn walk_deepest(bytes: &[u8], root: Ty, limit: usize) -> Result<(usize, usize), NestingError> {
    let mut walk = Walk {
        bytes,
        at: 0,
        // Real answers nest about 20 levels deep: one allocation for the walk.
        stack: Vec::with_capacity(24),
        limit,
        deepest: 0,
    };
    walk.value(root)?;
    walk.run()?;
    Ok((walk.at, walk.deepest))
}

/// How deep the answer to the function `function_id` in `bytes` nests (the walk's count), if
/// it can be walked.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn answer_nesting(function_id: u32, bytes: &[u8]) -> Result<usize, NestingError> {
    walk_deepest(bytes, answer_type(function_id)?, MAX_DEPTH).map(|(_, deepest)| deepest)
}

/// The type the function `function_id` returns.
fn answer_type(function_id: u32) -> Result<Ty, NestingError> {
    match def(function_id) {
        Some(Def {
            kind: Kind::Function(ret),
            ..
        }) => Ok(*ret),
        _ => Err(NestingError::Unknown {
            what: "function",
            id: function_id,
        }),
    }
}

/// The deepest any answer to the function `function_id` can nest, by its schema, if that is
/// bounded (no type in it reaches itself).
pub(crate) fn answer_depth_bound(function_id: u32) -> Option<usize> {
    let depth = SCHEMA.ty_depth(answer_type(function_id).ok()?);
    (depth != super::schema::UNBOUNDED).then_some(usize::from(depth))
}

/// Checks a serialized function call (constructor id first), including the query inside
/// wrappers such as `invokeWithLayer` and `initConnection`. Returns how many bytes it read.
pub fn check_function(bytes: &[u8]) -> Result<usize, NestingError> {
    check_function_with(bytes, MAX_DEPTH)
}

/// [`check_function`] with another limit.
pub fn check_function_with(bytes: &[u8], limit: usize) -> Result<usize, NestingError> {
    let id = bytes
        .get(..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or(NestingError::Truncated)?;
    match def(id) {
        Some(Def {
            kind: Kind::Function(_),
            ..
        }) => walk(bytes, Ty::Any, limit),
        _ => Err(NestingError::Unknown {
            what: "function",
            id,
        }),
    }
}

/// Checks a serialized answer to the function `function_id` (its return value).
pub fn check_answer(function_id: u32, bytes: &[u8]) -> Result<usize, NestingError> {
    walk(bytes, answer_type(function_id)?, MAX_DEPTH)
}

/// Checks a serialized boxed value of the type named `type_name` as the schema writes it
/// (`"JSONValue"`, `"payments.PaymentForm"`, `"Updates"`…).
pub fn check_boxed(type_name: &str, bytes: &[u8]) -> Result<usize, NestingError> {
    let index = SCHEMA.type_index(type_name).ok_or(NestingError::Unknown {
        what: "type",
        id: 0,
    })?;
    walk(bytes, Ty::Boxed(index), MAX_DEPTH)
}

/// A request whose answer is checked with [`check_answer`] before grammers decodes it.
///
/// It serializes exactly as the request it wraps; its answer is a [`Checked`]. [`invoke`] is
/// the short way to use it.
#[derive(Debug)]
pub struct Bounded<'a, R>(pub &'a R);

impl<R: Serializable> Serializable for Bounded<'_, R> {
    fn serialize(&self, buf: &mut impl Extend<u8>) {
        self.0.serialize(buf);
    }
}

impl<R: RemoteCall + Identifiable> RemoteCall for Bounded<'_, R> {
    type Return = Checked<R>;
}

/// The answer to a [`Bounded`] request `R`, decoded only after its nesting was checked — or
/// at once when the schema bounds it: no `payments.PaymentForm`, for one, can nest deeper than
/// 5 levels, whatever its bytes.
///
/// A too-deep answer fails to decode with grammers' `UnexpectedConstructor` error, naming the
/// constructor at which the limit was passed, and a warning is logged with the reason.
pub struct Checked<R: RemoteCall>(pub R::Return);

impl<R: RemoteCall> std::fmt::Debug for Checked<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checked").finish_non_exhaustive()
    }
}

impl<R: RemoteCall + Identifiable> Deserializable for Checked<R> {
    fn deserialize(buf: &mut Cursor<'_>) -> grammers_tl_types::deserialize::Result<Self> {
        if is_bounded(R::CONSTRUCTOR_ID) {
            return R::Return::deserialize(buf).map(Checked);
        }
        let mut bytes = Vec::new();
        buf.read_to_end(&mut bytes)?;
        decode_walked::<R>(&bytes).map(Checked)
    }
}

/// Whether no answer to the function `function_id` can nest deeper than [`MAX_DEPTH`], by its
/// schema: then it needs no walk.
fn is_bounded(function_id: u32) -> bool {
    answer_depth_bound(function_id).is_some_and(|depth| depth <= MAX_DEPTH)
}

/// Decodes the serialized answer to a request `R` after checking its nesting, as [`Checked`]
/// does (for callers that hold the answer's bytes already). An answer whose schema cannot nest
/// deeper than [`MAX_DEPTH`] (`payments.PaymentForm`: 5 levels at most) is not walked: no bytes
/// can make it deeper.
pub(crate) fn decode_answer<R: RemoteCall + Identifiable>(
    bytes: &[u8],
) -> grammers_tl_types::deserialize::Result<R::Return> {
    if is_bounded(R::CONSTRUCTOR_ID) {
        R::Return::from_bytes(bytes)
    } else {
        decode_walked::<R>(bytes)
    }
}

/// Decodes the serialized answer to a request `R` once the walk found it within
/// [`MAX_DEPTH`].
fn decode_walked<R: RemoteCall + Identifiable>(
    bytes: &[u8],
) -> grammers_tl_types::deserialize::Result<R::Return> {
    if let Err(error @ NestingError::TooDeep { .. }) = check_answer(R::CONSTRUCTOR_ID, bytes) {
        tracing::warn!(
            method = name_of(R::CONSTRUCTOR_ID).unwrap_or("?"),
            %error,
            "answer refused"
        );
        let id = bytes
            .get(..4)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        return Err(grammers_tl_types::deserialize::Error::UnexpectedConstructor { id });
    }
    R::Return::from_bytes(bytes)
}

/// `client.invoke(request)`, with the answer's nesting checked before it is decoded.
///
/// # Examples
///
/// ```
/// # async fn f(client: grammers_client::Client) -> Result<(), Box<dyn std::error::Error>> {
/// use tgpay::tl;
///
/// let status = tl::nesting::invoke(&client, &tl::functions::payments::GetStarsStatus {
///     ton: false,
///     peer: tl::enums::InputPeer::PeerSelf,
/// })
/// .await?;
/// # Ok(()) }
/// ```
pub async fn invoke<R: RemoteCall + Identifiable>(
    client: &Client,
    request: &R,
) -> Result<R::Return, InvocationError> {
    client.invoke(&Bounded(request)).await.map(|Checked(v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use grammers_tl_types as tl;

    #[test]
    fn the_table_knows_the_payment_methods() {
        assert_eq!(
            name_of(tl::functions::payments::GetPaymentForm::CONSTRUCTOR_ID),
            Some("payments.getPaymentForm")
        );
        assert!(SCHEMA.len() > 2000, "{}", SCHEMA.len());
    }

    #[test]
    fn a_bounded_answer_reaches_its_bound_and_no_further() {
        let price = |amount| {
            tl::enums::LabeledPrice::Price(tl::types::LabeledPrice {
                label: "x".into(),
                amount,
            })
        };
        let answer = tl::enums::payments::ValidatedRequestedInfo::Info(
            tl::types::payments::ValidatedRequestedInfo {
                id: Some("v".into()),
                shipping_options: Some(vec![tl::enums::ShippingOption::Option(
                    tl::types::ShippingOption {
                        id: "s".into(),
                        title: "t".into(),
                        prices: vec![price(1), price(2)],
                    },
                )]),
            },
        )
        .to_bytes();
        let validate = tl::functions::payments::ValidateRequestedInfo::CONSTRUCTOR_ID;
        // validatedRequestedInfo > Vector > shippingOption > Vector > labeledPrice
        assert_eq!(answer_nesting(validate, &answer), Ok(5));
        assert_eq!(answer_depth_bound(validate), Some(5));
        assert_eq!(
            answer_depth_bound(tl::functions::payments::SendPaymentForm::CONSTRUCTOR_ID),
            None
        );
        let decoded = decode_answer::<tl::functions::payments::ValidateRequestedInfo>(&answer);
        assert!(decoded.is_ok());
    }

    #[test]
    fn flags_and_vectors_are_read_as_grammers_writes_them() {
        let request = tl::functions::payments::SendPaymentForm {
            form_id: 7,
            invoice: tl::types::InputInvoiceSlug {
                slug: "hoodie".into(),
            }
            .into(),
            requested_info_id: Some("abc".into()),
            shipping_option_id: None,
            credentials: tl::types::InputPaymentCredentials {
                save: true,
                data: tl::types::DataJson {
                    data: "{\"a\":1}".into(),
                }
                .into(),
            }
            .into(),
            tip_amount: Some(300),
        }
        .to_bytes();
        assert_eq!(check_function(&request), Ok(request.len()));
        assert_eq!(
            check_function(&request[..request.len() - 1]),
            Err(NestingError::Truncated)
        );
        let users = vec![
            tl::enums::User::Empty(tl::types::UserEmpty { id: 1 }),
            tl::enums::User::Empty(tl::types::UserEmpty { id: 2 }),
        ]
        .to_bytes();
        assert_eq!(
            check_answer(tl::functions::users::GetUsers::CONSTRUCTOR_ID, &users),
            Ok(users.len())
        );
        let mut lying = users.clone();
        lying[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            check_answer(tl::functions::users::GetUsers::CONSTRUCTOR_ID, &lying),
            Err(NestingError::VectorTooLong { .. })
        ));
    }
}
