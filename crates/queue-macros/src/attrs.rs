//! Reading `#[job(...)]` attributes.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::{Attribute, Error, Lit, LitStr, Path, Result, Token};

use crate::{duration, kind, template};

/// The keys `#[job(...)]` accepts, for error messages.
const KEYS: &str = "kind, priority, max_attempts, unique, unique_for, delay, crate";

/// What the attributes of one type asked for.
pub(crate) struct JobAttrs {
    pub kind: LitStr,
    pub priority: Option<i32>,
    pub max_attempts: Option<u32>,
    /// The template as written, and its pieces.
    pub unique: Option<(LitStr, Vec<template::Piece>)>,
    /// Milliseconds.
    pub unique_for: Option<u64>,
    /// Milliseconds.
    pub delay: Option<u64>,
    /// Where `queue_core` is, when renamed.
    pub krate: Option<Path>,
}

/// Keys as they are read, before the required ones are checked.
#[derive(Default)]
struct Seen {
    kind: Option<LitStr>,
    priority: Option<i32>,
    max_attempts: Option<u32>,
    unique: Option<(LitStr, Vec<template::Piece>)>,
    unique_for: Option<(u64, Span)>,
    delay: Option<u64>,
    krate: Option<Path>,
}

/// Reads every `#[job(...)]` of a type named `ty`.
pub(crate) fn parse(attrs: &[Attribute], ty: &syn::Ident) -> Result<JobAttrs> {
    let mut seen = Seen::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("job")) {
        attr.parse_nested_meta(|meta| read_key(&mut seen, &meta))?;
    }
    let Some(kind) = seen.kind else {
        return Err(Error::new(
            ty.span(),
            format!("`{ty}` has no job kind: add #[job(kind = \"...\")]"),
        ));
    };
    if let (Some((_, span)), None) = (&seen.unique_for, &seen.unique) {
        return Err(Error::new(
            *span,
            "`unique_for` needs a unique key: add `unique = \"...\"`",
        ));
    }
    Ok(JobAttrs {
        kind,
        priority: seen.priority,
        max_attempts: seen.max_attempts,
        unique: seen.unique,
        unique_for: seen.unique_for.map(|(ms, _)| ms),
        delay: seen.delay,
        krate: seen.krate,
    })
}

fn read_key(seen: &mut Seen, meta: &ParseNestedMeta<'_>) -> Result<()> {
    let Some(key) = meta.path.get_ident().map(ToString::to_string) else {
        return Err(meta.error(format!("unknown key; expected one of: {KEYS}")));
    };
    let span = meta
        .path
        .get_ident()
        .map_or_else(Span::call_site, syn::Ident::span);
    let duplicate = || Error::new(span, format!("`{key}` is given twice"));
    match key.as_str() {
        "kind" => {
            let lit = string(meta, &key, "kind = \"email\"")?;
            if let Some(problem) = kind::problem(&lit.value()) {
                return Err(Error::new(lit.span(), problem));
            }
            set(&mut seen.kind, lit).ok_or_else(duplicate)
        }
        "priority" => {
            let (value, lit) = integer(meta, &key, "priority = 5")?;
            let p = i32::try_from(value).map_err(|_| {
                Error::new(
                    lit.span(),
                    format!("`priority` must fit an i32, not {value}"),
                )
            })?;
            set(&mut seen.priority, p).ok_or_else(duplicate)
        }
        "max_attempts" => {
            let (value, lit) = integer(meta, &key, "max_attempts = 5")?;
            let n = u32::try_from(value)
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    Error::new(
                        lit.span(),
                        format!("`max_attempts` must be from 1 to {}, not {value}", u32::MAX),
                    )
                })?;
            set(&mut seen.max_attempts, n).ok_or_else(duplicate)
        }
        "unique" => {
            let lit = string(meta, &key, "unique = \"email:{to}\"")?;
            let pieces = template::parse(&lit.value()).map_err(|e| Error::new(lit.span(), e))?;
            set(&mut seen.unique, (lit, pieces)).ok_or_else(duplicate)
        }
        "unique_for" => {
            let ms = duration_value(meta, &key)?;
            set(&mut seen.unique_for, (ms, span)).ok_or_else(duplicate)
        }
        "delay" => {
            let ms = duration_value(meta, &key)?;
            set(&mut seen.delay, ms).ok_or_else(duplicate)
        }
        "crate" => {
            let lit = string(meta, &key, "crate = \"my_queue_core\"")?;
            set(&mut seen.krate, lit.parse::<Path>()?).ok_or_else(duplicate)
        }
        _ => Err(meta.error(format!("unknown key `{key}`; expected one of: {KEYS}"))),
    }
}

/// Stores `value` unless the key was already given.
fn set<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(value);
    Some(())
}

/// A literal, with a leading `-` when negative.
fn literal(meta: &ParseNestedMeta<'_>, key: &str, example: &str) -> Result<(bool, Lit)> {
    let input = meta
        .value()
        .map_err(|_| meta.error(format!("`{key}` needs a value, like `{example}`")))?;
    let minus: Option<Token![-]> = input.parse()?;
    let lit: Lit = input.parse().map_err(|e| {
        Error::new(
            e.span(),
            format!("`{key}` takes a literal value, like `{example}`"),
        )
    })?;
    Ok((minus.is_some(), lit))
}

fn string(meta: &ParseNestedMeta<'_>, key: &str, example: &str) -> Result<LitStr> {
    match literal(meta, key, example)? {
        (false, Lit::Str(s)) => Ok(s),
        (_, other) => Err(Error::new(
            other.span(),
            format!("`{key}` takes a string, like `{example}`"),
        )),
    }
}

fn integer(meta: &ParseNestedMeta<'_>, key: &str, example: &str) -> Result<(i64, Lit)> {
    match literal(meta, key, example)? {
        (negative, Lit::Int(i)) => {
            let value: i64 = i
                .base10_parse()
                .map_err(|_| Error::new(i.span(), format!("`{key}` is out of range")))?;
            Ok((if negative { -value } else { value }, Lit::Int(i)))
        }
        (_, other) => Err(Error::new(
            other.span(),
            format!("`{key}` takes an integer, like `{example}`"),
        )),
    }
}

/// A duration, as a string with units or whole seconds; in milliseconds.
fn duration_value(meta: &ParseNestedMeta<'_>, key: &str) -> Result<u64> {
    let example = format!("{key} = \"1h\"");
    match literal(meta, key, &example)? {
        (false, Lit::Str(s)) => duration::parse(&s.value()).map_err(|e| Error::new(s.span(), e)),
        (false, Lit::Int(i)) => {
            let secs: u64 = i.base10_parse().map_err(|_| {
                Error::new(i.span(), format!("`{key}` is out of range"))
            })?;
            duration::from_secs(secs, &format!("{secs} s")).map_err(|e| Error::new(i.span(), e))
        }
        (_, other) => Err(Error::new(
            other.span(),
            format!(
                "`{key}` takes a duration: a string like `{example}` or whole seconds like `{key} = 3600`"
            ),
        )),
    }
}
