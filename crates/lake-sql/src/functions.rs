//! The SQLite functions that give a translated statement Trino's semantics (lake-sql.md §5).
//!
//! Every function takes and gives values in the representation of [`crate::types`]; NULL in
//! gives NULL out unless stated. A run-time failure (Trino fails the query) is
//! `rusqlite::Error::UserFunctionError` carrying Trino's message.

use crate::record::{civil_from_days, days_from_civil, days_in_month, hex_lower, json};
use crate::render::{java_double, render};
use crate::types::LakeType;
use regex::{Regex, RegexBuilder};
use rusqlite::functions::{Aggregate, Context, FunctionFlags, WindowAggregate};
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, Error, Result};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Arc;

const DAY: i64 = 86_400_000;
/// SQLite's subtype for JSON text (`json()` and friends set it).
const JSON_SUBTYPE: u32 = b'J' as u32;

/// A run-time failure of the query, with Trino's message.
fn user(msg: impl Into<String>) -> Error {
    Error::UserFunctionError(msg.into().into())
}

fn pure() -> FunctionFlags {
    FunctionFlags::SQLITE_UTF8
        | FunctionFlags::SQLITE_DETERMINISTIC
        | FunctionFlags::SQLITE_INNOCUOUS
}

/// An argument as text (NULL → None); numbers as Trino prints them.
fn text<'a>(ctx: &'a Context<'_>, i: usize) -> Option<Cow<'a, str>> {
    match ctx.get_raw(i) {
        ValueRef::Null => None,
        ValueRef::Text(b) | ValueRef::Blob(b) => Some(String::from_utf8_lossy(b)),
        ValueRef::Integer(n) => Some(Cow::Owned(n.to_string())),
        ValueRef::Real(x) => Some(Cow::Owned(java_double(x))),
    }
}

/// An argument as an integer (NULL → None).
fn int(ctx: &Context<'_>, i: usize) -> Result<Option<i64>> {
    Ok(match ctx.get_raw(i) {
        ValueRef::Null => None,
        ValueRef::Integer(n) => Some(n),
        ValueRef::Real(x) => Some(x as i64),
        ValueRef::Text(b) | ValueRef::Blob(b) => {
            let s = String::from_utf8_lossy(b);
            Some(
                s.trim()
                    .parse()
                    .map_err(|_| user(format!("Cannot cast '{s}' to BIGINT")))?,
            )
        }
    })
}

fn real(v: ValueRef<'_>) -> Option<f64> {
    match v {
        ValueRef::Integer(n) => Some(n as f64),
        ValueRef::Real(x) => Some(x),
        ValueRef::Text(b) => std::str::from_utf8(b).ok()?.trim().parse().ok(),
        _ => None,
    }
}

fn boolean(b: bool) -> Value {
    Value::Integer(b as i64)
}

fn text_value(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

/// Reads an element or field back (types.rs): a JSON string → TEXT, an integer → INTEGER,
/// another number → REAL, `true`/`false` → 1/0, `null` → NULL, an object or array → its
/// compact text.
pub fn decode_json(raw: &str) -> Value {
    use json::Kind;
    match json::kind(raw) {
        Some(Kind::String) => Value::Text(json::decode_str(raw).into_owned()),
        Some(Kind::Number) => {
            let integral = !raw.bytes().any(|c| matches!(c, b'.' | b'e' | b'E'));
            match (integral, raw.parse::<i64>()) {
                (true, Ok(n)) => Value::Integer(n),
                _ => raw.parse::<f64>().map_or(Value::Null, Value::Real),
            }
        }
        Some(Kind::True) => Value::Integer(1),
        Some(Kind::False) => Value::Integer(0),
        Some(Kind::Object | Kind::Array) => Value::Text(json::compact(raw)),
        Some(Kind::Null) | None => Value::Null,
    }
}

/// Compiled patterns by their text, for arguments that are not constant (constant ones are
/// kept as SQLite auxiliary data).
struct Patterns<T>(RefCell<HashMap<String, Arc<T>>>);

impl<T> Default for Patterns<T> {
    fn default() -> Self {
        Patterns(RefCell::new(HashMap::new()))
    }
}

impl<T: Send + Sync + 'static> Patterns<T> {
    fn get(&self, key: &str, build: impl FnOnce() -> Result<T>) -> Result<Arc<T>> {
        if let Some(v) = self.0.borrow().get(key) {
            return Ok(v.clone());
        }
        let v = Arc::new(build()?);
        let mut map = self.0.borrow_mut();
        if map.len() >= 256 {
            map.clear();
        }
        map.insert(key.to_string(), v.clone());
        Ok(v)
    }

    /// The compiled form of argument `arg` (None when it is NULL).
    fn arg(
        &self,
        ctx: &Context<'_>,
        arg: usize,
        build: impl FnOnce(&str) -> Result<T>,
    ) -> Result<Option<Arc<T>>> {
        if let Some(v) = ctx.get_aux::<Arc<T>>(arg as i32)? {
            return Ok(Some((*v).clone()));
        }
        let Some(p) = text(ctx, arg) else {
            return Ok(None);
        };
        let v = self.get(&p, || build(&p))?;
        ctx.set_aux(arg as i32, v.clone())?;
        Ok(Some(v))
    }
}

fn compile_regex(p: &str) -> Result<Regex> {
    RegexBuilder::new(p)
        .size_limit(1 << 24)
        .build()
        .map_err(|e| user(format!("Invalid regular expression: {p}: {e}")))
}

// ---------------------------------------------------------------------------------------------
// LIKE

/// A compiled LIKE pattern.
enum Like {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(String),
    Any,
    Regex(Regex),
}

impl Like {
    fn new(pattern: &str, escape: Option<char>) -> Result<Like> {
        // Tokens: literal text and wildcards.
        let mut parts: Vec<(bool, String)> = Vec::new(); // (is_wildcard, text: "%" or "_")
        let mut lit = String::new();
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            if Some(c) == escape {
                match chars.next() {
                    Some(n) if n == '%' || n == '_' || Some(n) == escape => lit.push(n),
                    _ => {
                        return Err(user(
                            "Escape character must be followed by '%', '_' or the escape character",
                        ))
                    }
                }
            } else if c == '%' || c == '_' {
                if !lit.is_empty() {
                    parts.push((false, std::mem::take(&mut lit)));
                }
                parts.push((true, c.to_string()));
            } else {
                lit.push(c);
            }
        }
        if !lit.is_empty() {
            parts.push((false, lit));
        }
        let pct = |p: &(bool, String)| p.0 && p.1 == "%";
        let has_under = parts.iter().any(|p| p.0 && p.1 == "_");
        if !has_under {
            let lits: Vec<&(bool, String)> = parts.iter().filter(|p| !p.0).collect();
            let n = parts.len();
            match (n, lits.len()) {
                (0, _) => return Ok(Like::Exact(String::new())),
                (_, 0) => return Ok(Like::Any),
                (1, 1) => return Ok(Like::Exact(parts[0].1.clone())),
                (2, 1) if pct(&parts[1]) => return Ok(Like::Prefix(parts[0].1.clone())),
                (2, 1) if pct(&parts[0]) => return Ok(Like::Suffix(parts[1].1.clone())),
                (3, 1) if pct(&parts[0]) && pct(&parts[2]) => {
                    return Ok(Like::Contains(parts[1].1.clone()))
                }
                _ => {}
            }
        }
        let mut re = String::from(r"\A(?s:");
        for (wild, t) in &parts {
            match (wild, t.as_str()) {
                (true, "%") => re.push_str(".*"),
                (true, _) => re.push('.'),
                (false, t) => re.push_str(&regex::escape(t)),
            }
        }
        re.push_str(r")\z");
        Ok(Like::Regex(compile_regex(&re)?))
    }

    fn matches(&self, s: &str) -> bool {
        match self {
            Like::Exact(t) => s == t,
            Like::Prefix(t) => s.starts_with(t.as_str()),
            Like::Suffix(t) => s.ends_with(t.as_str()),
            Like::Contains(t) => s.contains(t.as_str()),
            Like::Any => true,
            Like::Regex(r) => r.is_match(s),
        }
    }
}

fn escape_char(e: &str) -> Result<char> {
    let mut it = e.chars();
    match (it.next(), it.next()) {
        (Some(c), None) => Ok(c),
        _ => Err(user("Escape string must be a single character")),
    }
}

// ---------------------------------------------------------------------------------------------
// Strings

/// Java's `Character.isWhitespace`, what Trino's trim removes.
fn java_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | '\u{1c}'..='\u{1f}'
    ) || (c.is_whitespace()
        && !matches!(c, '\u{a0}' | '\u{2007}' | '\u{202f}' | '\u{85}')
        && !c.is_control())
        || c == ' '
}

/// Per-code-point case mapping (Java's `Character.toLowerCase`/`toUpperCase`): a character
/// whose full mapping is several characters keeps itself.
fn map_case(s: &str, upper: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() {
            out.push(if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            });
            continue;
        }
        if !upper && c == '\u{130}' {
            out.push('i');
            continue;
        }
        let mut m: Vec<char> = Vec::with_capacity(2);
        if upper {
            m.extend(c.to_uppercase());
        } else {
            m.extend(c.to_lowercase());
        }
        if m.len() == 1 {
            out.push(m[0]);
        } else {
            out.push(c);
        }
    }
    out
}

/// Byte offset of code point `n` (0-based) in `s`, or `s.len()` past the end.
fn cp_offset(s: &str, n: usize) -> usize {
    s.char_indices().nth(n).map_or(s.len(), |(i, _)| i)
}

/// Trino's substr: 1-based start, negative from the end, start 0 → "".
fn substr(s: &str, start: i64, len: i64) -> &str {
    if start == 0 || len <= 0 || s.is_empty() {
        return "";
    }
    let n = s.chars().count() as i64;
    let first = if start > 0 { start - 1 } else { n + start };
    if first < 0 || first >= n {
        return "";
    }
    let last = first.saturating_add(len).min(n);
    let a = cp_offset(s, first as usize);
    let b = a + cp_offset(&s[a..], (last - first) as usize);
    &s[a..b]
}

fn json_string_array<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let mut out = String::from("[");
    for (n, s) in items.enumerate() {
        if n > 0 {
            out.push(',');
        }
        json::write_str(&mut out, s);
    }
    out.push(']');
    out
}

/// Trino's regexp_replace replacement: `$g`, `${name}`, `\` escapes the next character.
fn expand_replacement(
    re: &Regex,
    caps: &regex::Captures<'_>,
    repl: &str,
    out: &mut String,
) -> Result<()> {
    let groups = re.captures_len() - 1;
    let mut it = repl.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\\' => match it.next() {
                Some(n) => out.push(n),
                None => return Err(user("Illegal replacement sequence: \\ at the end")),
            },
            '$' => {
                if it.peek() == Some(&'{') {
                    it.next();
                    let mut name = String::new();
                    loop {
                        match it.next() {
                            Some('}') => break,
                            Some(ch) => name.push(ch),
                            None => {
                                return Err(user("Illegal replacement sequence: unterminated ${"))
                            }
                        }
                    }
                    if re.capture_names().flatten().all(|n| n != name) {
                        return Err(user(format!("No group with name {{{name}}}")));
                    }
                    if let Some(m) = caps.name(&name) {
                        out.push_str(m.as_str());
                    }
                    continue;
                }
                let Some(d) = it.peek().and_then(|c| c.to_digit(10)) else {
                    return Err(user("Illegal group reference"));
                };
                it.next();
                let mut g = d as usize;
                while let Some(d) = it.peek().and_then(|c| c.to_digit(10)) {
                    let ng = g * 10 + d as usize;
                    if ng > groups {
                        break;
                    }
                    g = ng;
                    it.next();
                }
                if g > groups {
                    return Err(user(format!(
                        "Illegal group reference: group {g} does not exist"
                    )));
                }
                if let Some(m) = caps.get(g) {
                    out.push_str(m.as_str());
                }
            }
            c => out.push(c),
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// JSON

/// A Trino JSON path (`$`, `.key`, `["key"]`, `[n]`) as its steps.
fn parse_json_path(path: &str) -> Result<Vec<String>> {
    let bad = || user(format!("Invalid JSON path: '{path}'"));
    let mut chars = path.chars().peekable();
    if chars.next() != Some('$') {
        return Err(bad());
    }
    let mut steps = Vec::new();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                let mut seg = String::new();
                while let Some(&n) = chars.peek() {
                    if n == '.' || n == '[' {
                        break;
                    }
                    if !(n == '_' || n == ':' || n.is_alphanumeric()) {
                        return Err(bad());
                    }
                    seg.push(n);
                    chars.next();
                }
                if seg.is_empty() {
                    return Err(bad());
                }
                steps.push(seg);
            }
            '[' => {
                let mut seg = String::new();
                if chars.peek() == Some(&'"') {
                    chars.next();
                    loop {
                        match chars.next() {
                            Some('"') => break,
                            Some('\\') => match chars.next() {
                                Some(e @ ('"' | '\\')) => seg.push(e),
                                _ => return Err(bad()),
                            },
                            Some(ch) => seg.push(ch),
                            None => return Err(bad()),
                        }
                    }
                } else {
                    while let Some(&n) = chars.peek() {
                        if !(n == '_' || n.is_alphanumeric()) {
                            break;
                        }
                        seg.push(n);
                        chars.next();
                    }
                    if seg.is_empty() {
                        return Err(bad());
                    }
                }
                if chars.next() != Some(']') {
                    return Err(bad());
                }
                steps.push(seg);
            }
            _ => return Err(bad()),
        }
    }
    Ok(steps)
}

/// The raw value a path leads to in a raw JSON value.
fn json_walk<'a>(raw: &'a str, steps: &[String]) -> Option<&'a str> {
    let mut v = raw;
    for s in steps {
        v = match json::kind(v)? {
            json::Kind::Object => json::get(v, s)?,
            json::Kind::Array => {
                let i: usize = s.parse().ok()?;
                json::elements(v).nth(i)?
            }
            _ => return None,
        };
    }
    Some(v)
}

/// A text argument that holds valid JSON, trimmed (None when NULL or invalid).
fn json_arg<'a>(ctx: &'a Context<'_>, i: usize) -> Option<Cow<'a, str>> {
    let t = text(ctx, i)?;
    let trimmed = json::trim(&t);
    if !json::is_valid(trimmed) {
        return None;
    }
    Some(match t {
        Cow::Borrowed(b) => Cow::Borrowed(json::trim(b)),
        Cow::Owned(o) => Cow::Owned(json::trim(&o).to_string()),
    })
}

fn json_scalar_text(raw: &str) -> Option<String> {
    match json::kind(raw)? {
        json::Kind::String => Some(json::decode_str(raw).into_owned()),
        json::Kind::Number | json::Kind::True | json::Kind::False => Some(raw.to_string()),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Times (milliseconds since the epoch, UTC)

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Unit {
    Millisecond,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl Unit {
    fn parse(s: &str) -> Result<Unit> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "millisecond" => Unit::Millisecond,
            "second" => Unit::Second,
            "minute" => Unit::Minute,
            "hour" => Unit::Hour,
            "day" => Unit::Day,
            "week" => Unit::Week,
            "month" => Unit::Month,
            "quarter" => Unit::Quarter,
            "year" => Unit::Year,
            _ => return Err(user(format!("'{s}' is not a valid Timestamp field"))),
        })
    }

    /// Milliseconds of a fixed-length unit.
    fn fixed(self) -> Option<i64> {
        Some(match self {
            Unit::Millisecond => 1,
            Unit::Second => 1000,
            Unit::Minute => 60_000,
            Unit::Hour => 3_600_000,
            Unit::Day => DAY,
            Unit::Week => 7 * DAY,
            _ => return None,
        })
    }
}

/// (year, month, day, millisecond of the day).
fn split_ms(ms: i64) -> (i64, i64, i64, i64) {
    let (y, m, d) = civil_from_days(ms.div_euclid(DAY));
    (y, m as i64, d as i64, ms.rem_euclid(DAY))
}

/// ISO day of the week, Monday 1 … Sunday 7.
fn day_of_week(days: i64) -> i64 {
    (days + 3).rem_euclid(7) + 1
}

/// (ISO week-numbering year, ISO week).
fn iso_week(days: i64) -> (i64, i64) {
    let thursday = days - day_of_week(days) + 4;
    let (y, _, _) = civil_from_days(thursday);
    (y, (thursday - days_from_civil(y, 1, 1)) / 7 + 1)
}

fn date_trunc(unit: Unit, ms: i64) -> i64 {
    if let Some(f) = unit.fixed() {
        if unit != Unit::Week {
            return ms.div_euclid(f) * f;
        }
        let days = ms.div_euclid(DAY);
        return (days - (day_of_week(days) - 1)) * DAY;
    }
    let (y, m, _, _) = split_ms(ms);
    let m = match unit {
        Unit::Month => m,
        Unit::Quarter => (m - 1) / 3 * 3 + 1,
        _ => 1,
    };
    days_from_civil(y, m, 1) * DAY
}

fn overflow() -> Error {
    user("bigint overflow")
}

fn add_months(ms: i64, n: i64) -> Result<i64> {
    let (y, m, d, tod) = split_ms(ms);
    let total = (y * 12 + m - 1).checked_add(n).ok_or_else(overflow)?;
    let (ny, nm) = (total.div_euclid(12), total.rem_euclid(12) + 1);
    if !(-300_000..=300_000).contains(&ny) {
        return Err(overflow());
    }
    let nd = d.min(days_in_month(ny, nm));
    Ok(days_from_civil(ny, nm, nd) * DAY + tod)
}

fn date_add(unit: Unit, n: i64, ms: i64) -> Result<i64> {
    match unit.fixed() {
        Some(f) => n
            .checked_mul(f)
            .and_then(|d| ms.checked_add(d))
            .ok_or_else(overflow),
        None => add_months(
            ms,
            n.checked_mul(match unit {
                Unit::Month => 1,
                Unit::Quarter => 3,
                _ => 12,
            })
            .ok_or_else(overflow)?,
        ),
    }
}

/// Whole months from `sub` to `min` (Joda's month field `getDifferenceAsLong`, which Trino uses).
fn month_diff(min: i64, sub: i64) -> i64 {
    if min < sub {
        return -month_diff(sub, min);
    }
    let (y1, m1, d1, t1) = split_ms(min);
    let (y2, m2, mut d2, t2) = split_ms(sub);
    let mut diff = (y1 - y2) * 12 + m1 - m2;
    if d1 == days_in_month(y1, m1) && d2 > d1 {
        d2 = d1;
    }
    if (d1 - 1) * DAY + t1 < (d2 - 1) * DAY + t2 {
        diff -= 1;
    }
    diff
}

/// Whole years from `sub` to `min` (Joda's `getYearDifference`).
fn year_diff(min: i64, sub: i64) -> i64 {
    if min < sub {
        return -year_diff(sub, min);
    }
    let year_start = |ms: i64| {
        let (y, _, _, _) = split_ms(ms);
        (y, days_from_civil(y, 1, 1) * DAY)
    };
    let (y1, s1) = year_start(min);
    let (y2, s2) = year_start(sub);
    let (mut r1, mut r2) = (min - s1, sub - s2);
    let feb29 = 59 * DAY;
    let leap = crate::record::is_leap;
    if r2 >= feb29 {
        if leap(y2) {
            if !leap(y1) {
                r2 -= DAY;
            }
        } else if r1 >= feb29 && leap(y1) {
            r1 -= DAY;
        }
    }
    let mut diff = y1 - y2;
    if r1 < r2 {
        diff -= 1;
    }
    diff
}

fn date_diff(unit: Unit, a: i64, b: i64) -> i64 {
    match unit.fixed() {
        Some(f) => b.wrapping_sub(a) / f,
        None => match unit {
            Unit::Month => month_diff(b, a),
            Unit::Quarter => month_diff(b, a) / 3,
            _ => year_diff(b, a),
        },
    }
}

fn iso8601(ms: i64, zone: bool) -> String {
    let mut s = String::with_capacity(24);
    crate::render::write_timestamp(&mut s, ms);
    s.replace_range(10..11, "T");
    if zone {
        s.push('Z');
    }
    s
}

fn num(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let d = b.get(at..at + n)?;
    if !d.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(d.iter().fold(0, |v, &c| v * 10 + (c - b'0') as i64))
}

/// Joda's ISO `dateTimeParser` as `from_iso8601_timestamp` uses it: `YYYY[-MM[-DD]]`, then
/// optionally `T` `HH[:MM[:SS[.fff…]]]` and an offset `Z`, `±HH`, `±HH:MM` or `±HHMM` (UTC
/// without one).
fn parse_iso8601(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let y = num(b, 0, 4)?;
    let (mut mo, mut d) = (1, 1);
    let mut i = 4;
    if b.get(i) == Some(&b'-') {
        mo = num(b, i + 1, 2)?;
        i += 3;
        if b.get(i) == Some(&b'-') {
            d = num(b, i + 1, 2)?;
            i += 3;
        }
    }
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) {
        return None;
    }
    let mut tod = 0;
    let mut offset = 0;
    if b.get(i) == Some(&b'T') {
        let h = num(b, i + 1, 2)?;
        i += 3;
        let (mut mi, mut sec, mut frac) = (0, 0, 0);
        if b.get(i) == Some(&b':') {
            mi = num(b, i + 1, 2)?;
            i += 3;
            if b.get(i) == Some(&b':') {
                sec = num(b, i + 1, 2)?;
                i += 3;
                if matches!(b.get(i), Some(b'.' | b',')) {
                    let start = i + 1;
                    i = start;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                    if i == start {
                        return None;
                    }
                    for k in 0..3 {
                        frac = frac * 10
                            + b.get(start + k)
                                .filter(|_| start + k < i)
                                .map_or(0, |c| (c - b'0') as i64);
                    }
                }
            }
        }
        if h > 23 || mi > 59 || sec > 59 {
            return None;
        }
        tod = ((h * 60 + mi) * 60 + sec) * 1000 + frac;
        match b.get(i) {
            None => {}
            Some(b'Z') => i += 1,
            Some(&c @ (b'+' | b'-')) => {
                let oh = num(b, i + 1, 2)?;
                i += 3;
                let mut om = 0;
                if b.get(i) == Some(&b':') {
                    om = num(b, i + 1, 2)?;
                    i += 3;
                } else if b.len() >= i + 2 {
                    om = num(b, i, 2)?;
                    i += 2;
                }
                if oh > 23 || om > 59 {
                    return None;
                }
                offset = (oh * 60 + om) * 60_000 * if c == b'+' { 1 } else { -1 };
            }
            _ => return None,
        }
    }
    (i == b.len()).then(|| days_from_civil(y, mo, d) * DAY + tod - offset)
}

/// Trino's cast of varchar to timestamp(3): `YYYY-M-D[ H:M[:S[.fff…]]]` (fraction rounded to
/// milliseconds), whitespace around allowed.
fn parse_timestamp_literal(s: &str) -> Option<i64> {
    let t = s.trim();
    let (date, time) = match t.split_once(|c: char| c.is_ascii_whitespace()) {
        Some((d, rest)) => (d, Some(rest.trim_start())),
        None => (t, None),
    };
    let mut dp = date.split('-');
    let (ys, ms, ds) = (dp.next()?, dp.next()?, dp.next()?);
    if dp.next().is_some()
        || ys.len() != 4
        || !(1..=2).contains(&ms.len())
        || !(1..=2).contains(&ds.len())
    {
        return None;
    }
    let all_digits = |x: &str| !x.is_empty() && x.bytes().all(|c| c.is_ascii_digit());
    if !all_digits(ys) || !all_digits(ms) || !all_digits(ds) {
        return None;
    }
    let (y, mo, d): (i64, i64, i64) = (ys.parse().ok()?, ms.parse().ok()?, ds.parse().ok()?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) {
        return None;
    }
    let mut tod = 0i64;
    if let Some(time) = time {
        let (hms, frac) = match time.split_once('.') {
            Some((a, f)) => (a, Some(f)),
            None => (time, None),
        };
        let parts: Vec<&str> = hms.split(':').collect();
        if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| !all_digits(p) || p.len() > 2) {
            return None;
        }
        if frac.is_some() && parts.len() != 3 {
            return None;
        }
        let h: i64 = parts[0].parse().ok()?;
        let mi: i64 = parts[1].parse().ok()?;
        let sec: i64 = parts.get(2).map_or(Some(0), |p| p.parse().ok())?;
        if h > 23 || mi > 59 || sec > 59 {
            return None;
        }
        let mut fms = 0i64;
        if let Some(f) = frac {
            if !all_digits(f) || f.len() > 12 {
                return None;
            }
            // Round to milliseconds, half up.
            let digits: Vec<i64> = f.bytes().map(|c| (c - b'0') as i64).collect();
            for k in 0..3 {
                fms = fms * 10 + digits.get(k).copied().unwrap_or(0);
            }
            if digits.get(3).copied().unwrap_or(0) >= 5 {
                fms += 1;
            }
        }
        tod = ((h * 60 + mi) * 60 + sec) * 1000 + fms;
    }
    Some(days_from_civil(y, mo, d) * DAY + tod)
}

const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// MySQL's date_format specifiers as Trino supports them.
fn date_format(ms: i64, fmt: &str) -> Result<String> {
    let days = ms.div_euclid(DAY);
    let (y, m, d, tod) = split_ms(ms);
    let (h, mi, s, milli) = (
        tod / 3_600_000,
        tod / 60_000 % 60,
        tod / 1000 % 60,
        tod % 1000,
    );
    let h12 = if h % 12 == 0 { 12 } else { h % 12 };
    let ampm = if h < 12 { "AM" } else { "PM" };
    let dow = day_of_week(days);
    let weekday = WEEKDAYS[(dow - 1) as usize];
    let month = MONTHS[(m - 1) as usize];
    let mut out = String::new();
    let mut it = fmt.chars();
    while let Some(c) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(f) = it.next() else {
            out.push('%');
            break;
        };
        let _ = match f {
            'a' => write!(out, "{}", &weekday[..3]),
            'b' => write!(out, "{}", &month[..3]),
            'c' => write!(out, "{m}"),
            'd' => write!(out, "{d:02}"),
            'e' => write!(out, "{d}"),
            'f' => write!(out, "{:06}", milli * 1000),
            'H' => write!(out, "{h:02}"),
            'h' | 'I' => write!(out, "{h12:02}"),
            'i' => write!(out, "{mi:02}"),
            'j' => write!(out, "{:03}", days - days_from_civil(y, 1, 1) + 1),
            'k' => write!(out, "{h}"),
            'l' => write!(out, "{h12}"),
            'M' => write!(out, "{month}"),
            'm' => write!(out, "{m:02}"),
            'p' => write!(out, "{ampm}"),
            'r' => write!(out, "{h12:02}:{mi:02}:{s:02} {ampm}"),
            'S' | 's' => write!(out, "{s:02}"),
            'T' => write!(out, "{h:02}:{mi:02}:{s:02}"),
            'v' => write!(out, "{:02}", iso_week(days).1),
            'W' => write!(out, "{weekday}"),
            'x' => write!(out, "{:04}", iso_week(days).0),
            'Y' => write!(out, "{y:04}"),
            'y' => write!(out, "{:02}", y.rem_euclid(100)),
            '%' => write!(out, "%"),
            'D' | 'U' | 'u' | 'V' | 'w' | 'X' => {
                return Err(user(format!("%{f} not supported in date format string")))
            }
            other => write!(out, "{other}"),
        };
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Casts

/// A [`LakeType`] from its `Display` text.
pub fn parse_type(s: &str) -> Option<LakeType> {
    let s = s.trim();
    let lower = s.to_ascii_lowercase();
    Some(match lower.as_str() {
        "varchar" => LakeType::Varchar,
        "bigint" => LakeType::Bigint,
        "double" => LakeType::Double,
        "boolean" => LakeType::Boolean,
        "timestamp(3)" | "timestamp" => LakeType::Timestamp,
        "timestamp(3) with time zone" | "timestamp with time zone" => LakeType::TimestampTz,
        "date" => LakeType::Date,
        "json" => LakeType::Json,
        "unknown" => LakeType::Unknown,
        _ if lower.starts_with("map(") => LakeType::Map,
        _ if lower.starts_with("array(") && s.ends_with(')') => {
            LakeType::Array(Box::new(parse_type(&s[6..s.len() - 1])?))
        }
        _ if lower.starts_with("row(") && s.ends_with(')') => {
            let inner = &s[4..s.len() - 1];
            let mut fields = Vec::new();
            let (mut depth, mut start) = (0i32, 0usize);
            let mut push = |part: &str| -> Option<()> {
                let part = part.trim();
                let (name, ty) = part.split_once(' ')?;
                fields.push((name.to_string(), parse_type(ty)?));
                Some(())
            };
            for (i, c) in inner.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    ',' if depth == 0 => {
                        push(&inner[start..i])?;
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            if !inner.trim().is_empty() {
                push(&inner[start..])?;
            }
            LakeType::Row(fields)
        }
        _ => return None,
    })
}

fn cast_bigint(v: ValueRef<'_>) -> Result<Value> {
    Ok(match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(n) => Value::Integer(n),
        ValueRef::Real(x) => {
            if x.is_nan() {
                return Err(user("Unable to cast NaN to bigint"));
            }
            let r = x.round();
            if !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&r) {
                return Err(user(format!("Out of range for bigint: {}", java_double(x))));
            }
            Value::Integer(r as i64)
        }
        ValueRef::Text(b) | ValueRef::Blob(b) => {
            let s = String::from_utf8_lossy(b);
            Value::Integer(
                s.trim()
                    .parse()
                    .map_err(|_| user(format!("Cannot cast '{s}' to BIGINT")))?,
            )
        }
    })
}

/// Java's `Double.parseDouble` on trimmed text (decimal forms, `NaN`, `Infinity`).
fn parse_java_double(s: &str) -> Option<f64> {
    let t = s.trim();
    match t {
        "NaN" | "+NaN" | "-NaN" => return Some(f64::NAN),
        "Infinity" | "+Infinity" => return Some(f64::INFINITY),
        "-Infinity" => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    let body = t.strip_suffix(['d', 'D', 'f', 'F']).unwrap_or(t);
    if !body
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    body.parse().ok()
}

fn cast_double(v: ValueRef<'_>) -> Result<Value> {
    Ok(match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(n) => Value::Real(n as f64),
        ValueRef::Real(x) => Value::Real(x),
        ValueRef::Text(b) | ValueRef::Blob(b) => {
            let s = String::from_utf8_lossy(b);
            Value::Real(
                parse_java_double(&s)
                    .ok_or_else(|| user(format!("Cannot cast '{s}' to DOUBLE")))?,
            )
        }
    })
}

fn cast_boolean(v: ValueRef<'_>) -> Result<Value> {
    Ok(match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(n) => boolean(n != 0),
        ValueRef::Real(x) => boolean(x != 0.0),
        ValueRef::Text(b) | ValueRef::Blob(b) => {
            let s = String::from_utf8_lossy(b);
            match s.to_ascii_lowercase().as_str() {
                "1" | "t" | "true" => boolean(true),
                "0" | "f" | "false" => boolean(false),
                _ => return Err(user(format!("Cannot cast '{s}' to BOOLEAN"))),
            }
        }
    })
}

fn cast_timestamp(v: ValueRef<'_>) -> Result<Value> {
    Ok(match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(n) => Value::Integer(n),
        ValueRef::Real(x) => Value::Integer(x as i64),
        ValueRef::Text(b) | ValueRef::Blob(b) => {
            let s = String::from_utf8_lossy(b);
            Value::Integer(
                parse_timestamp_literal(&s)
                    .ok_or_else(|| user(format!("Value cannot be cast to timestamp: {s}")))?,
            )
        }
    })
}

fn cast_varchar(v: ValueRef<'_>, ty: &LakeType) -> Result<Value> {
    if *ty == LakeType::Json {
        let ValueRef::Text(b) = v else {
            return Ok(render(v, ty).map_or(Value::Null, Value::Text));
        };
        let s = String::from_utf8_lossy(b);
        let raw = json::trim(&s);
        return Ok(match json::kind(raw) {
            Some(json::Kind::Null) => Value::Null,
            Some(json::Kind::Object | json::Kind::Array) => {
                return Err(user(format!("Cannot cast JSON '{raw}' to varchar")))
            }
            _ => json_scalar_text(raw).map_or(Value::Null, Value::Text),
        });
    }
    Ok(render(v, ty).map_or(Value::Null, Value::Text))
}

// ---------------------------------------------------------------------------------------------
// Comparisons

/// SQLite's ordering of values: NULL < numbers < text < blobs; numbers by value, text by
/// code point (UTF-8 bytes).
fn compare(a: ValueRef<'_>, b: ValueRef<'_>) -> Ordering {
    fn rank(v: &ValueRef<'_>) -> u8 {
        match v {
            ValueRef::Null => 0,
            ValueRef::Integer(_) | ValueRef::Real(_) => 1,
            ValueRef::Text(_) => 2,
            ValueRef::Blob(_) => 3,
        }
    }
    match (a, b) {
        (ValueRef::Integer(x), ValueRef::Integer(y)) => x.cmp(&y),
        (ValueRef::Integer(_) | ValueRef::Real(_), ValueRef::Integer(_) | ValueRef::Real(_)) => {
            let (x, y) = (real(a).unwrap_or(0.0), real(b).unwrap_or(0.0));
            x.partial_cmp(&y).unwrap_or(Ordering::Equal)
        }
        (ValueRef::Text(x), ValueRef::Text(y)) | (ValueRef::Blob(x), ValueRef::Blob(y)) => x.cmp(y),
        _ => rank(&a).cmp(&rank(&b)),
    }
}

/// Whether an array element (raw JSON) equals a value; None when the element is null.
fn element_equals(elem: &str, v: ValueRef<'_>, v_is_json: bool) -> Option<bool> {
    use json::Kind;
    let kind = json::kind(elem)?;
    if kind == Kind::Null {
        return None;
    }
    if v_is_json {
        if let ValueRef::Text(b) = v {
            let t = String::from_utf8_lossy(b);
            return Some(json::compact(elem) == json::compact(json::trim(&t)));
        }
    }
    Some(match (kind, v) {
        (Kind::String, ValueRef::Text(b)) => json::decode_str(elem).as_bytes() == b,
        (Kind::Number, ValueRef::Integer(n)) => match elem.parse::<i64>() {
            Ok(e) => e == n,
            Err(_) => elem.parse::<f64>().is_ok_and(|e| e == n as f64),
        },
        (Kind::Number, ValueRef::Real(x)) => elem.parse::<f64>().is_ok_and(|e| e == x),
        (Kind::True, ValueRef::Integer(n)) => n != 0,
        (Kind::False, ValueRef::Integer(n)) => n == 0,
        (Kind::Object | Kind::Array, ValueRef::Text(b)) => {
            let t = String::from_utf8_lossy(b);
            json::compact(elem) == json::compact(json::trim(&t))
        }
        _ => false,
    })
}

// ---------------------------------------------------------------------------------------------
// MD5 (RFC 1321), for md5().

fn md5(data: &[u8]) -> [u8; 16] {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    let k: Vec<u32> = (0..64)
        .map(|i| ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0) as u32)
        .collect();
    let (mut a0, mut b0, mut c0, mut d0) = (
        0x6745_2301u32,
        0xefcd_ab89u32,
        0x98ba_dcfeu32,
        0x1032_5476u32,
    );
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_le_bytes());
    for chunk in msg.chunks(64) {
        let m: Vec<u32> = chunk
            .chunks(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        let (mut a, mut b, mut c, mut d) = (a0, b0, c0, d0);
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f = f.wrapping_add(a).wrapping_add(k[i]).wrapping_add(m[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f.rotate_left(S[i]));
        }
        a0 = a0.wrapping_add(a);
        b0 = b0.wrapping_add(b);
        c0 = c0.wrapping_add(c);
        d0 = d0.wrapping_add(d);
    }
    let mut out = [0u8; 16];
    for (i, w) in [a0, b0, c0, d0].iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Aggregates

fn sliding(name: &str) -> Error {
    user(format!("{name} is not supported in a sliding window frame"))
}

/// arbitrary: the first non-NULL value.
struct Arbitrary;

impl Aggregate<Option<Value>, Value> for Arbitrary {
    fn init(&self, _: &mut Context<'_>) -> Result<Option<Value>> {
        Ok(None)
    }
    fn step(&self, ctx: &mut Context<'_>, acc: &mut Option<Value>) -> Result<()> {
        if acc.is_none() {
            let v = ctx.get_raw(0);
            if v != ValueRef::Null {
                *acc = Some(v.into());
            }
        }
        Ok(())
    }
    fn finalize(&self, _: &mut Context<'_>, acc: Option<Option<Value>>) -> Result<Value> {
        Ok(acc.flatten().unwrap_or(Value::Null))
    }
}

impl WindowAggregate<Option<Value>, Value> for Arbitrary {
    fn value(&self, acc: Option<&mut Option<Value>>) -> Result<Value> {
        Ok(acc.and_then(|a| a.clone()).unwrap_or(Value::Null))
    }
    fn inverse(&self, _: &mut Context<'_>, _: &mut Option<Value>) -> Result<()> {
        Err(sliding("arbitrary"))
    }
}

fn truthy(v: ValueRef<'_>) -> Option<bool> {
    match v {
        ValueRef::Null => None,
        ValueRef::Integer(n) => Some(n != 0),
        ValueRef::Real(x) => Some(x != 0.0),
        _ => Some(true),
    }
}

/// count_if: rows where the argument is true.
struct CountIf;

impl Aggregate<i64, i64> for CountIf {
    fn init(&self, _: &mut Context<'_>) -> Result<i64> {
        Ok(0)
    }
    fn step(&self, ctx: &mut Context<'_>, acc: &mut i64) -> Result<()> {
        if truthy(ctx.get_raw(0)) == Some(true) {
            *acc += 1;
        }
        Ok(())
    }
    fn finalize(&self, _: &mut Context<'_>, acc: Option<i64>) -> Result<i64> {
        Ok(acc.unwrap_or(0))
    }
}

impl WindowAggregate<i64, i64> for CountIf {
    fn value(&self, acc: Option<&mut i64>) -> Result<i64> {
        Ok(acc.map_or(0, |a| *a))
    }
    fn inverse(&self, ctx: &mut Context<'_>, acc: &mut i64) -> Result<()> {
        if truthy(ctx.get_raw(0)) == Some(true) {
            *acc -= 1;
        }
        Ok(())
    }
}

/// bool_and (`and` true) or bool_or; the state counts (true, false) inputs.
struct BoolAgg {
    and: bool,
}

impl BoolAgg {
    fn result(&self, acc: Option<&(i64, i64)>) -> Option<i64> {
        match acc {
            Some(&(t, f)) if t + f > 0 => Some(if self.and { f == 0 } else { t > 0 } as i64),
            _ => None,
        }
    }
}

impl Aggregate<(i64, i64), Option<i64>> for BoolAgg {
    fn init(&self, _: &mut Context<'_>) -> Result<(i64, i64)> {
        Ok((0, 0))
    }
    fn step(&self, ctx: &mut Context<'_>, acc: &mut (i64, i64)) -> Result<()> {
        match truthy(ctx.get_raw(0)) {
            Some(true) => acc.0 += 1,
            Some(false) => acc.1 += 1,
            None => {}
        }
        Ok(())
    }
    fn finalize(&self, _: &mut Context<'_>, acc: Option<(i64, i64)>) -> Result<Option<i64>> {
        Ok(self.result(acc.as_ref()))
    }
}

impl WindowAggregate<(i64, i64), Option<i64>> for BoolAgg {
    fn value(&self, acc: Option<&mut (i64, i64)>) -> Result<Option<i64>> {
        Ok(self.result(acc.as_deref()))
    }
    fn inverse(&self, ctx: &mut Context<'_>, acc: &mut (i64, i64)) -> Result<()> {
        match truthy(ctx.get_raw(0)) {
            Some(true) => acc.0 -= 1,
            Some(false) => acc.1 -= 1,
            None => {}
        }
        Ok(())
    }
}

/// max_by (`max` true) or min_by: the first x among the rows with the largest (smallest) y.
struct ByAgg {
    max: bool,
}

impl Aggregate<Option<(Value, Value)>, Value> for ByAgg {
    fn init(&self, _: &mut Context<'_>) -> Result<Option<(Value, Value)>> {
        Ok(None)
    }
    fn step(&self, ctx: &mut Context<'_>, acc: &mut Option<(Value, Value)>) -> Result<()> {
        let y = ctx.get_raw(1);
        if y == ValueRef::Null {
            return Ok(());
        }
        let better = match acc {
            None => true,
            Some((_, best)) => {
                let o = compare(y, ValueRef::from(&*best));
                if self.max {
                    o == Ordering::Greater
                } else {
                    o == Ordering::Less
                }
            }
        };
        if better {
            *acc = Some((ctx.get_raw(0).into(), y.into()));
        }
        Ok(())
    }
    fn finalize(&self, _: &mut Context<'_>, acc: Option<Option<(Value, Value)>>) -> Result<Value> {
        Ok(acc.flatten().map_or(Value::Null, |(x, _)| x))
    }
}

impl WindowAggregate<Option<(Value, Value)>, Value> for ByAgg {
    fn value(&self, acc: Option<&mut Option<(Value, Value)>>) -> Result<Value> {
        Ok(acc
            .and_then(|a| a.as_ref().map(|(x, _)| x.clone()))
            .unwrap_or(Value::Null))
    }
    fn inverse(&self, _: &mut Context<'_>, _: &mut Option<(Value, Value)>) -> Result<()> {
        Err(sliding(if self.max { "max_by" } else { "min_by" }))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum FreqKey {
    Int(i64),
    Text(String),
}

fn freq_key(v: ValueRef<'_>) -> Option<FreqKey> {
    Some(match v {
        ValueRef::Null => return None,
        ValueRef::Integer(n) => FreqKey::Int(n),
        ValueRef::Real(x) => FreqKey::Text(java_double(x)),
        ValueRef::Text(b) | ValueRef::Blob(b) => {
            FreqKey::Text(String::from_utf8_lossy(b).into_owned())
        }
    })
}

/// approx_most_frequent(buckets, value, capacity): exact counts; a JSON object of the
/// `buckets` most frequent values (most frequent first, ties by smaller value) → count.
struct ApproxMostFrequent;

type FreqAcc = (i64, HashMap<FreqKey, i64>);

fn most_frequent(acc: &FreqAcc) -> Value {
    let (buckets, counts) = acc;
    if counts.is_empty() {
        return Value::Null;
    }
    let mut all: Vec<(&FreqKey, i64)> = counts.iter().map(|(k, c)| (k, *c)).collect();
    all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    all.truncate((*buckets).max(0) as usize);
    let mut out = String::from("{");
    for (n, (k, c)) in all.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        match k {
            FreqKey::Int(i) => json::write_str(&mut out, &i.to_string()),
            FreqKey::Text(t) => json::write_str(&mut out, t),
        }
        let _ = write!(out, ":{c}");
    }
    out.push('}');
    Value::Text(out)
}

impl Aggregate<FreqAcc, Value> for ApproxMostFrequent {
    fn init(&self, _: &mut Context<'_>) -> Result<FreqAcc> {
        Ok((0, HashMap::new()))
    }
    fn step(&self, ctx: &mut Context<'_>, acc: &mut FreqAcc) -> Result<()> {
        let buckets = int(ctx, 0)?.unwrap_or(0);
        if buckets < 1 {
            return Err(user("buckets must be positive"));
        }
        acc.0 = buckets;
        if let Some(key) = freq_key(ctx.get_raw(1)) {
            *acc.1.entry(key).or_insert(0) += 1;
        }
        Ok(())
    }
    fn finalize(&self, _: &mut Context<'_>, acc: Option<FreqAcc>) -> Result<Value> {
        Ok(acc.as_ref().map_or(Value::Null, most_frequent))
    }
}

impl WindowAggregate<FreqAcc, Value> for ApproxMostFrequent {
    fn value(&self, acc: Option<&mut FreqAcc>) -> Result<Value> {
        Ok(acc.map_or(Value::Null, |a| most_frequent(a)))
    }
    fn inverse(&self, ctx: &mut Context<'_>, acc: &mut FreqAcc) -> Result<()> {
        if let Some(key) = freq_key(ctx.get_raw(1)) {
            if let Some(c) = acc.1.get_mut(&key) {
                *c -= 1;
                if *c <= 0 {
                    acc.1.remove(&key);
                }
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Registration

type Scalar = fn(&Context<'_>) -> Result<Value>;
type TimeField = fn(i64) -> i64;
type Cast = fn(ValueRef<'_>) -> Result<Value>;

/// Registers every function on `conn`; `current_timestamp` is `now_ms`.
pub fn register(conn: &Connection, now_ms: i64) -> Result<()> {
    let f = |name: &str, n: i32, func: Scalar| conn.create_scalar_function(name, n, pure(), func);

    // LIKE
    let like2: Patterns<Like> = Patterns::default();
    conn.create_scalar_function("lk_like", 2, pure(), move |ctx| {
        let Some(s) = text(ctx, 0) else {
            return Ok(Value::Null);
        };
        let Some(p) = like2.arg(ctx, 1, |p| Like::new(p, None))? else {
            return Ok(Value::Null);
        };
        Ok(boolean(p.matches(&s)))
    })?;
    let like3: Patterns<Like> = Patterns::default();
    conn.create_scalar_function("lk_like", 3, pure(), move |ctx| {
        let (Some(s), Some(p), Some(e)) = (text(ctx, 0), text(ctx, 1), text(ctx, 2)) else {
            return Ok(Value::Null);
        };
        let esc = escape_char(&e)?;
        let key = format!("{esc}{p}");
        let m = like3.get(&key, || Like::new(&p, Some(esc)))?;
        Ok(boolean(m.matches(&s)))
    })?;

    // Maps, arrays, rows
    f("lk_map_get", 2, |ctx| {
        let (Some(m), Some(k)) = (text(ctx, 0), text(ctx, 1)) else {
            return Ok(Value::Null);
        };
        Ok(json::members(json::trim(&m))
            .find(|(key, _)| json::key_eq(key, &k))
            .map_or(Value::Null, |(_, v)| decode_json(v)))
    })?;
    f("lk_map_subscript", 2, |ctx| {
        let (Some(m), Some(k)) = (text(ctx, 0), text(ctx, 1)) else {
            return Ok(Value::Null);
        };
        match json::members(json::trim(&m)).find(|(key, _)| json::key_eq(key, &k)) {
            Some((_, v)) => Ok(decode_json(v)),
            None => Err(user(format!("Key not present in map: {k}"))),
        }
    })?;
    f("lk_array_get", 2, |ctx| {
        let (Some(a), Some(i)) = (text(ctx, 0), int(ctx, 1)?) else {
            return Ok(Value::Null);
        };
        let a = json::trim(&a);
        if i == 0 {
            return Err(user("SQL array indices start at 1"));
        }
        let elem = if i > 0 {
            json::elements(a).nth((i - 1) as usize)
        } else {
            let all: Vec<&str> = json::elements(a).collect();
            let back = i.unsigned_abs() as usize;
            (back <= all.len()).then(|| all[all.len() - back])
        };
        Ok(elem.map_or(Value::Null, decode_json))
    })?;
    f("lk_array_subscript", 2, |ctx| {
        let (Some(a), Some(i)) = (text(ctx, 0), int(ctx, 1)?) else {
            return Ok(Value::Null);
        };
        if i == 0 {
            return Err(user("SQL array indices start at 1"));
        }
        if i < 0 {
            return Err(user(format!("Array subscript is negative: {i}")));
        }
        let a = json::trim(&a);
        let mut n = 0i64;
        for e in json::elements(a) {
            n += 1;
            if n == i {
                return Ok(decode_json(e));
            }
        }
        Err(user(format!(
            "Array subscript must be less than or equal to array length: {i} > {n}"
        )))
    })?;
    f("lk_field", 2, |ctx| {
        let (Some(r), Some(name)) = (text(ctx, 0), text(ctx, 1)) else {
            return Ok(Value::Null);
        };
        Ok(json::get_ci(json::trim(&r), &name).map_or(Value::Null, decode_json))
    })?;
    f("lk_cardinality", 1, |ctx| {
        let Some(x) = text(ctx, 0) else {
            return Ok(Value::Null);
        };
        let x = json::trim(&x);
        Ok(Value::Integer(match json::kind(x) {
            Some(json::Kind::Object) => json::members(x).count(),
            Some(json::Kind::Array) => json::elements(x).count(),
            _ => return Ok(Value::Null),
        } as i64))
    })?;
    f("lk_map_keys", 1, |ctx| {
        let Some(m) = text(ctx, 0) else {
            return Ok(Value::Null);
        };
        let mut out = String::from("[");
        for (n, (k, _)) in json::members(json::trim(&m)).enumerate() {
            if n > 0 {
                out.push(',');
            }
            json::write_string_raw(&mut out, k);
        }
        out.push(']');
        Ok(Value::Text(out))
    })?;
    f("lk_map_values", 1, |ctx| {
        let Some(m) = text(ctx, 0) else {
            return Ok(Value::Null);
        };
        let mut out = String::from("[");
        for (n, (_, v)) in json::members(json::trim(&m)).enumerate() {
            if n > 0 {
                out.push(',');
            }
            json::write_compact(&mut out, v);
        }
        out.push(']');
        Ok(Value::Text(out))
    })?;
    conn.create_scalar_function(
        "lk_contains",
        2,
        pure() | FunctionFlags::SQLITE_SUBTYPE,
        |ctx| {
            let Some(a) = text(ctx, 0) else {
                return Ok(Value::Null);
            };
            let v = ctx.get_raw(1);
            if v == ValueRef::Null {
                return Ok(Value::Null);
            }
            let is_json = ctx.get_subtype(1) == JSON_SUBTYPE;
            let mut saw_null = false;
            for e in json::elements(json::trim(&a)) {
                match element_equals(e, v, is_json) {
                    Some(true) => return Ok(boolean(true)),
                    Some(false) => {}
                    None => saw_null = true,
                }
            }
            Ok(if saw_null {
                Value::Null
            } else {
                boolean(false)
            })
        },
    )?;

    // Strings
    f("lk_split", 2, |ctx| {
        let (Some(s), Some(d)) = (text(ctx, 0), text(ctx, 1)) else {
            return Ok(Value::Null);
        };
        if d.is_empty() {
            return Err(user("The delimiter may not be the empty string"));
        }
        Ok(text_value(json_string_array(s.split(&*d))))
    })?;
    f("lk_split", 3, |ctx| {
        let (Some(s), Some(d), Some(limit)) = (text(ctx, 0), text(ctx, 1), int(ctx, 2)?) else {
            return Ok(Value::Null);
        };
        if d.is_empty() {
            return Err(user("The delimiter may not be the empty string"));
        }
        if limit <= 0 {
            return Err(user("Limit must be positive"));
        }
        Ok(text_value(json_string_array(s.splitn(limit as usize, &*d))))
    })?;
    f("lk_strpos", 2, |ctx| {
        let (Some(s), Some(sub)) = (text(ctx, 0), text(ctx, 1)) else {
            return Ok(Value::Null);
        };
        Ok(Value::Integer(match s.find(&*sub) {
            Some(i) => s[..i].chars().count() as i64 + 1,
            None => 0,
        }))
    })?;
    f("lk_strpos", 3, |ctx| {
        let (Some(s), Some(sub), Some(n)) = (text(ctx, 0), text(ctx, 1), int(ctx, 2)?) else {
            return Ok(Value::Null);
        };
        if n <= 0 {
            return Err(user("'instance' must be a positive number."));
        }
        if sub.is_empty() {
            return Ok(Value::Integer(1));
        }
        let mut from = 0;
        let mut seen = 0;
        while let Some(i) = s[from..].find(&*sub) {
            seen += 1;
            let at = from + i;
            if seen == n {
                return Ok(Value::Integer(s[..at].chars().count() as i64 + 1));
            }
            from = at + s[at..].chars().next().map_or(1, char::len_utf8);
        }
        Ok(Value::Integer(0))
    })?;
    f("lk_substr", 2, |ctx| {
        let (Some(s), Some(start)) = (text(ctx, 0), int(ctx, 1)?) else {
            return Ok(Value::Null);
        };
        Ok(text_value(substr(&s, start, i64::MAX)))
    })?;
    f("lk_substr", 3, |ctx| {
        let (Some(s), Some(start), Some(len)) = (text(ctx, 0), int(ctx, 1)?, int(ctx, 2)?) else {
            return Ok(Value::Null);
        };
        Ok(text_value(substr(&s, start, len)))
    })?;
    f("lk_lower", 1, |ctx| {
        Ok(text(ctx, 0).map_or(Value::Null, |s| text_value(map_case(&s, false))))
    })?;
    f("lk_upper", 1, |ctx| {
        Ok(text(ctx, 0).map_or(Value::Null, |s| text_value(map_case(&s, true))))
    })?;
    f("lk_length", 1, |ctx| {
        Ok(text(ctx, 0).map_or(Value::Null, |s| Value::Integer(s.chars().count() as i64)))
    })?;
    f("lk_trim", 1, |ctx| {
        Ok(text(ctx, 0).map_or(Value::Null, |s| text_value(s.trim_matches(java_whitespace))))
    })?;
    f("lk_ltrim", 1, |ctx| {
        Ok(text(ctx, 0).map_or(Value::Null, |s| {
            text_value(s.trim_start_matches(java_whitespace))
        }))
    })?;
    f("lk_rtrim", 1, |ctx| {
        Ok(text(ctx, 0).map_or(Value::Null, |s| {
            text_value(s.trim_end_matches(java_whitespace))
        }))
    })?;
    for (name, which) in [("lk_trim", 0u8), ("lk_ltrim", 1), ("lk_rtrim", 2)] {
        conn.create_scalar_function(name, 2, pure(), move |ctx| {
            let (Some(s), Some(set)) = (text(ctx, 0), text(ctx, 1)) else {
                return Ok(Value::Null);
            };
            let set: Vec<char> = set.chars().collect();
            let m = |c: char| set.contains(&c);
            Ok(text_value(match which {
                0 => s.trim_matches(m),
                1 => s.trim_start_matches(m),
                _ => s.trim_end_matches(m),
            }))
        })?;
    }
    f("lk_reverse", 1, |ctx| {
        Ok(text(ctx, 0).map_or(Value::Null, |s| {
            text_value(s.chars().rev().collect::<String>())
        }))
    })?;
    f("lk_replace", 2, |ctx| {
        let (Some(s), Some(from)) = (text(ctx, 0), text(ctx, 1)) else {
            return Ok(Value::Null);
        };
        Ok(text_value(if from.is_empty() {
            s.into_owned()
        } else {
            s.replace(&*from, "")
        }))
    })?;
    f("lk_replace", 3, |ctx| {
        let (Some(s), Some(from), Some(to)) = (text(ctx, 0), text(ctx, 1), text(ctx, 2)) else {
            return Ok(Value::Null);
        };
        Ok(text_value(s.replace(&*from, &to)))
    })?;
    f("lk_starts_with", 2, |ctx| {
        let (Some(s), Some(p)) = (text(ctx, 0), text(ctx, 1)) else {
            return Ok(Value::Null);
        };
        Ok(boolean(s.starts_with(&*p)))
    })?;
    conn.create_scalar_function("lk_concat", -1, pure(), |ctx| {
        let mut out = String::new();
        for i in 0..ctx.len() {
            match text(ctx, i) {
                Some(s) => out.push_str(&s),
                None => return Ok(Value::Null),
            }
        }
        Ok(Value::Text(out))
    })?;
    for (name, greatest) in [("lk_greatest", true), ("lk_least", false)] {
        conn.create_scalar_function(name, -1, pure(), move |ctx| {
            let mut best: Option<ValueRef<'_>> = None;
            for i in 0..ctx.len() {
                let v = ctx.get_raw(i);
                if v == ValueRef::Null {
                    return Ok(Value::Null);
                }
                if let ValueRef::Real(x) = v {
                    if x.is_nan() {
                        return Err(user("Invalid argument to greatest/least: NaN"));
                    }
                }
                best = Some(match best {
                    None => v,
                    Some(b) => {
                        let o = compare(v, b);
                        if (greatest && o == Ordering::Greater)
                            || (!greatest && o == Ordering::Less)
                        {
                            v
                        } else {
                            b
                        }
                    }
                });
            }
            Ok(best.map_or(Value::Null, Value::from))
        })?;
    }
    f("lk_sha256", 1, |ctx| {
        Ok(text(ctx, 0).map_or(Value::Null, |s| {
            text_value(hex_lower(Sha256::digest(s.as_bytes()).as_slice()))
        }))
    })?;
    f("lk_md5", 1, |ctx| {
        Ok(text(ctx, 0).map_or(Value::Null, |s| text_value(hex_lower(&md5(s.as_bytes())))))
    })?;
    f("lk_to_hex", 1, |ctx| {
        Ok(text(ctx, 0).map_or(Value::Null, |s| {
            text_value(hex_lower(s.as_bytes()).to_ascii_uppercase())
        }))
    })?;

    // Regular expressions
    let re_like: Patterns<Regex> = Patterns::default();
    conn.create_scalar_function("lk_regexp_like", 2, pure(), move |ctx| {
        let Some(s) = text(ctx, 0) else {
            return Ok(Value::Null);
        };
        let Some(re) = re_like.arg(ctx, 1, compile_regex)? else {
            return Ok(Value::Null);
        };
        Ok(boolean(re.is_match(&s)))
    })?;
    for n in [2, 3] {
        let cache: Patterns<Regex> = Patterns::default();
        conn.create_scalar_function("lk_regexp_extract", n, pure(), move |ctx| {
            let Some(s) = text(ctx, 0) else {
                return Ok(Value::Null);
            };
            let Some(re) = cache.arg(ctx, 1, compile_regex)? else {
                return Ok(Value::Null);
            };
            let g = if n == 3 {
                match int(ctx, 2)? {
                    Some(g) => g,
                    None => return Ok(Value::Null),
                }
            } else {
                0
            };
            let groups = re.captures_len() as i64 - 1;
            if g < 0 || g > groups {
                return Err(user(format!(
                    "Pattern has {groups} groups. Cannot access group {g}"
                )));
            }
            Ok(re
                .captures(&s)
                .and_then(|c| c.get(g as usize))
                .map_or(Value::Null, |m| text_value(m.as_str())))
        })?;
    }
    for n in [2, 3] {
        let cache: Patterns<Regex> = Patterns::default();
        conn.create_scalar_function("lk_regexp_replace", n, pure(), move |ctx| {
            let Some(s) = text(ctx, 0) else {
                return Ok(Value::Null);
            };
            let Some(re) = cache.arg(ctx, 1, compile_regex)? else {
                return Ok(Value::Null);
            };
            let repl = if n == 3 {
                match text(ctx, 2) {
                    Some(r) => r.into_owned(),
                    None => return Ok(Value::Null),
                }
            } else {
                String::new()
            };
            let mut out = String::with_capacity(s.len());
            let mut last = 0;
            for caps in re.captures_iter(&s) {
                let m = caps.get(0).expect("group 0");
                out.push_str(&s[last..m.start()]);
                expand_replacement(&re, &caps, &repl, &mut out)?;
                last = m.end();
            }
            out.push_str(&s[last..]);
            Ok(Value::Text(out))
        })?;
    }

    // JSON
    let paths: Patterns<Vec<String>> = Patterns::default();
    conn.create_scalar_function("lk_json_extract_scalar", 2, pure(), move |ctx| {
        let Some(steps) = paths.arg(ctx, 1, parse_json_path)? else {
            return Ok(Value::Null);
        };
        let Some(j) = json_arg(ctx, 0) else {
            return Ok(Value::Null);
        };
        Ok(json_walk(&j, &steps)
            .and_then(json_scalar_text)
            .map_or(Value::Null, Value::Text))
    })?;
    let paths: Patterns<Vec<String>> = Patterns::default();
    conn.create_scalar_function("lk_json_extract", 2, pure(), move |ctx| {
        let Some(steps) = paths.arg(ctx, 1, parse_json_path)? else {
            return Ok(Value::Null);
        };
        let Some(j) = json_arg(ctx, 0) else {
            return Ok(Value::Null);
        };
        Ok(json_walk(&j, &steps).map_or(Value::Null, |v| Value::Text(json::compact(v))))
    })?;
    let paths: Patterns<Vec<String>> = Patterns::default();
    conn.create_scalar_function("lk_json_size", 2, pure(), move |ctx| {
        let Some(steps) = paths.arg(ctx, 1, parse_json_path)? else {
            return Ok(Value::Null);
        };
        let Some(j) = json_arg(ctx, 0) else {
            return Ok(Value::Null);
        };
        Ok(json_walk(&j, &steps).map_or(Value::Null, |v| {
            Value::Integer(match json::kind(v) {
                Some(json::Kind::Object) => json::members(v).count() as i64,
                Some(json::Kind::Array) => json::elements(v).count() as i64,
                _ => 0,
            })
        }))
    })?;
    f("lk_json_parse", 1, |ctx| {
        let Some(t) = text(ctx, 0) else {
            return Ok(Value::Null);
        };
        let raw = json::trim(&t);
        if !json::is_valid(raw) {
            return Err(user(format!("Cannot convert value to JSON: '{t}'")));
        }
        Ok(Value::Text(json::compact(raw)))
    })?;
    f("lk_json_format", 1, |ctx| {
        Ok(text(ctx, 0).map_or(Value::Null, text_value))
    })?;
    f("lk_json_array_length", 1, |ctx| {
        let Some(j) = json_arg(ctx, 0) else {
            return Ok(Value::Null);
        };
        Ok(match json::kind(&j) {
            Some(json::Kind::Array) => Value::Integer(json::elements(&j).count() as i64),
            _ => Value::Null,
        })
    })?;
    f("lk_json_array_get", 2, |ctx| {
        let (Some(j), Some(i)) = (json_arg(ctx, 0), int(ctx, 1)?) else {
            return Ok(Value::Null);
        };
        if json::kind(&j) != Some(json::Kind::Array) {
            return Ok(Value::Null);
        }
        let elem = if i >= 0 {
            json::elements(&j).nth(i as usize)
        } else {
            let all: Vec<&str> = json::elements(&j).collect();
            let back = i.unsigned_abs() as usize;
            (back <= all.len()).then(|| all[all.len() - back])
        };
        // Trino's documented quirk: a string element comes back unquoted.
        Ok(elem.map_or(Value::Null, |e| match json::kind(e) {
            Some(json::Kind::String) => Value::Text(json::decode_str(e).into_owned()),
            _ => Value::Text(json::compact(e)),
        }))
    })?;
    for n in [2, 3] {
        conn.create_scalar_function("lk_json_array_contains", n, pure(), move |ctx| {
            let Some(j) = json_arg(ctx, 0) else {
                return Ok(Value::Null);
            };
            let v = ctx.get_raw(1);
            if v == ValueRef::Null || json::kind(&j) != Some(json::Kind::Array) {
                return Ok(Value::Null);
            }
            let as_boolean =
                n == 3 && text(ctx, 2).is_some_and(|t| t.eq_ignore_ascii_case("boolean"));
            let found = json::elements(&j).any(|e| {
                let k = json::kind(e);
                match v {
                    ValueRef::Integer(x) if as_boolean => {
                        (k == Some(json::Kind::True) && x != 0)
                            || (k == Some(json::Kind::False) && x == 0)
                    }
                    ValueRef::Integer(x) => {
                        k == Some(json::Kind::Number) && e.parse::<i64>() == Ok(x)
                    }
                    ValueRef::Real(x) => k == Some(json::Kind::Number) && e.parse::<f64>() == Ok(x),
                    ValueRef::Text(b) => {
                        k == Some(json::Kind::String) && json::decode_str(e).as_bytes() == b
                    }
                    _ => false,
                }
            });
            Ok(boolean(found))
        })?;
    }

    // Times
    let fields: [(&str, TimeField); 13] = [
        ("lk_year", |ms| split_ms(ms).0),
        ("lk_month", |ms| split_ms(ms).1),
        ("lk_day", |ms| split_ms(ms).2),
        ("lk_hour", |ms| ms.rem_euclid(DAY) / 3_600_000),
        ("lk_minute", |ms| ms.rem_euclid(DAY) / 60_000 % 60),
        ("lk_second", |ms| ms.rem_euclid(DAY) / 1000 % 60),
        ("lk_millisecond", |ms| ms.rem_euclid(1000)),
        ("lk_quarter", |ms| (split_ms(ms).1 - 1) / 3 + 1),
        ("lk_week", |ms| iso_week(ms.div_euclid(DAY)).1),
        ("lk_year_of_week", |ms| iso_week(ms.div_euclid(DAY)).0),
        ("lk_day_of_week", |ms| day_of_week(ms.div_euclid(DAY))),
        ("lk_day_of_year", |ms| {
            let (y, _, _, _) = split_ms(ms);
            ms.div_euclid(DAY) - days_from_civil(y, 1, 1) + 1
        }),
        ("lk_date", |ms| ms.div_euclid(DAY)),
    ];
    for (name, g) in fields {
        conn.create_scalar_function(name, 1, pure(), move |ctx| {
            Ok(int(ctx, 0)?.map_or(Value::Null, |ms| Value::Integer(g(ms))))
        })?;
    }
    f("lk_date_trunc", 2, |ctx| {
        let (Some(u), Some(ms)) = (text(ctx, 0), int(ctx, 1)?) else {
            return Ok(Value::Null);
        };
        Ok(Value::Integer(date_trunc(Unit::parse(&u)?, ms)))
    })?;
    f("lk_date_add", 3, |ctx| {
        let (Some(u), Some(n), Some(ms)) = (text(ctx, 0), int(ctx, 1)?, int(ctx, 2)?) else {
            return Ok(Value::Null);
        };
        Ok(Value::Integer(date_add(Unit::parse(&u)?, n, ms)?))
    })?;
    f("lk_date_diff", 3, |ctx| {
        let (Some(u), Some(a), Some(b)) = (text(ctx, 0), int(ctx, 1)?, int(ctx, 2)?) else {
            return Ok(Value::Null);
        };
        Ok(Value::Integer(date_diff(Unit::parse(&u)?, a, b)))
    })?;
    f("lk_to_iso8601", 1, |ctx| {
        Ok(int(ctx, 0)?.map_or(Value::Null, |ms| Value::Text(iso8601(ms, false))))
    })?;
    f("lk_to_iso8601_tz", 1, |ctx| {
        Ok(int(ctx, 0)?.map_or(Value::Null, |ms| Value::Text(iso8601(ms, true))))
    })?;
    f("lk_from_iso8601_timestamp", 1, |ctx| {
        let Some(s) = text(ctx, 0) else {
            return Ok(Value::Null);
        };
        parse_iso8601(&s)
            .map(Value::Integer)
            .ok_or_else(|| user(format!("Invalid format: \"{s}\"")))
    })?;
    f("lk_from_unixtime", 1, |ctx| {
        Ok(match ctx.get_raw(0) {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(s) => Value::Integer(s.checked_mul(1000).ok_or_else(overflow)?),
            v => match real(v) {
                Some(x) => Value::Integer((x * 1000.0 + 0.5).floor() as i64),
                None => Value::Null,
            },
        })
    })?;
    f("lk_to_unixtime", 1, |ctx| {
        Ok(int(ctx, 0)?.map_or(Value::Null, |ms| Value::Real(ms as f64 / 1000.0)))
    })?;
    conn.create_scalar_function("lk_current_timestamp", 0, pure(), move |_| {
        Ok(Value::Integer(now_ms))
    })?;
    f("lk_date_format", 2, |ctx| {
        let (Some(ms), Some(fmt)) = (int(ctx, 0)?, text(ctx, 1)) else {
            return Ok(Value::Null);
        };
        Ok(Value::Text(date_format(ms, &fmt)?))
    })?;

    // Casts
    let casts: [(&str, Cast); 4] = [
        ("bigint", cast_bigint),
        ("double", cast_double),
        ("boolean", cast_boolean),
        ("timestamp", cast_timestamp),
    ];
    for (name, cast) in casts {
        conn.create_scalar_function(format!("lk_cast_{name}").as_str(), 1, pure(), move |ctx| {
            cast(ctx.get_raw(0))
        })?;
        conn.create_scalar_function(
            format!("lk_try_cast_{name}").as_str(),
            1,
            pure(),
            move |ctx| Ok(cast(ctx.get_raw(0)).unwrap_or(Value::Null)),
        )?;
    }
    for try_ in [false, true] {
        let types: Patterns<LakeType> = Patterns::default();
        let name = if try_ {
            "lk_try_cast_varchar"
        } else {
            "lk_cast_varchar"
        };
        conn.create_scalar_function(name, 2, pure(), move |ctx| {
            let ty = types.arg(ctx, 1, |t| {
                parse_type(t).ok_or_else(|| user(format!("Unknown type: {t}")))
            })?;
            let ty = ty.map_or(LakeType::Unknown, |t| (*t).clone());
            let r = cast_varchar(ctx.get_raw(0), &ty);
            if try_ {
                Ok(r.unwrap_or(Value::Null))
            } else {
                r
            }
        })?;
    }

    // Aggregates
    let agg = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_window_function("lk_arbitrary", 1, agg, Arbitrary)?;
    conn.create_window_function("lk_count_if", 1, agg, CountIf)?;
    conn.create_window_function("lk_bool_and", 1, agg, BoolAgg { and: true })?;
    conn.create_window_function("lk_bool_or", 1, agg, BoolAgg { and: false })?;
    conn.create_window_function("lk_max_by", 2, agg, ByAgg { max: true })?;
    conn.create_window_function("lk_min_by", 2, agg, ByAgg { max: false })?;
    conn.create_window_function("lk_approx_most_frequent", 3, agg, ApproxMostFrequent)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2022-01-03 19:21:13.456 UTC (a Monday).
    const T: i64 = 1_641_237_673_456;

    fn conn() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        register(&c, T).unwrap();
        c
    }

    fn q(c: &Connection, sql: &str) -> Value {
        c.query_row(&format!("SELECT {sql}"), [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    fn t(s: &str) -> Value {
        Value::Text(s.into())
    }

    fn i(n: i64) -> Value {
        Value::Integer(n)
    }

    fn err(c: &Connection, sql: &str) -> String {
        match c.query_row(&format!("SELECT {sql}"), [], |r| r.get::<_, Value>(0)) {
            Ok(v) => panic!("{sql}: expected an error, got {v:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn like() {
        let c = conn();
        assert_eq!(q(&c, "lk_like('abc', 'a%')"), i(1));
        assert_eq!(q(&c, "lk_like('abc', 'A%')"), i(0), "case-sensitive");
        assert_eq!(q(&c, "lk_like('abc', '%b%')"), i(1));
        assert_eq!(q(&c, "lk_like('abc', '%c')"), i(1));
        assert_eq!(q(&c, "lk_like('abc', 'abc')"), i(1));
        assert_eq!(q(&c, "lk_like('abc', 'ab')"), i(0), "whole string");
        assert_eq!(q(&c, "lk_like('abc', '_b_')"), i(1));
        assert_eq!(q(&c, "lk_like('ébc', '_bc')"), i(1), "one code point");
        assert_eq!(q(&c, "lk_like('a' || char(10) || 'b', 'a%b')"), i(1));
        assert_eq!(q(&c, "lk_like('a.c', 'a.c')"), i(1));
        assert_eq!(q(&c, "lk_like('abc', 'a.c')"), i(0));
        assert_eq!(q(&c, "lk_like('', '%')"), i(1));
        assert_eq!(q(&c, "lk_like('a_c', 'a#_c', '#')"), i(1));
        assert_eq!(q(&c, "lk_like('abc', 'a#_c', '#')"), i(0));
        assert_eq!(q(&c, "lk_like('a%', '%#%', '#')"), i(1));
        assert_eq!(q(&c, "lk_like(NULL, 'a')"), Value::Null);
        assert_eq!(q(&c, "lk_like('a', NULL)"), Value::Null);
        assert!(err(&c, "lk_like('a', 'a#b', '#')").contains("Escape character must be followed"));
        assert!(err(&c, "lk_like('a', 'a', '##')").contains("single character"));
        // A pattern from a column (not constant) works too.
        c.execute_batch("CREATE TABLE p(x); INSERT INTO p VALUES ('a%'), ('%z'), ('b_');")
            .unwrap();
        let n: i64 = c
            .query_row("SELECT sum(lk_like('abz', x)) FROM p", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2);
    }

    #[test]
    fn maps_arrays_rows() {
        let c = conn();
        let m = r#"'{"a":"1","b":null,"C":"x\"y"}'"#;
        assert_eq!(q(&c, &format!("lk_map_get({m}, 'a')")), t("1"));
        assert_eq!(
            q(&c, &format!("lk_map_get({m}, 'c')")),
            Value::Null,
            "keys are case-sensitive"
        );
        assert_eq!(q(&c, &format!("lk_map_get({m}, 'C')")), t("x\"y"));
        assert_eq!(q(&c, &format!("lk_map_get({m}, 'b')")), Value::Null);
        assert_eq!(q(&c, &format!("lk_map_subscript({m}, 'b')")), Value::Null);
        assert_eq!(
            err(&c, &format!("lk_map_subscript({m}, 'zz')")),
            "Key not present in map: zz"
        );
        assert_eq!(q(&c, "lk_map_subscript(NULL, 'zz')"), Value::Null);
        assert_eq!(q(&c, &format!("lk_cardinality({m})")), i(3));
        assert_eq!(q(&c, &format!("lk_map_keys({m})")), t(r#"["a","b","C"]"#));
        assert_eq!(
            q(&c, &format!("lk_map_values({m})")),
            t(r#"["1",null,"x\"y"]"#)
        );

        let a = r#"'["x",2,2.5,true,null,{"k":[1]}]'"#;
        assert_eq!(q(&c, &format!("lk_array_get({a}, 1)")), t("x"));
        assert_eq!(q(&c, &format!("lk_array_get({a}, 2)")), i(2));
        assert_eq!(q(&c, &format!("lk_array_get({a}, 3)")), Value::Real(2.5));
        assert_eq!(q(&c, &format!("lk_array_get({a}, 4)")), i(1));
        assert_eq!(q(&c, &format!("lk_array_get({a}, 5)")), Value::Null);
        assert_eq!(q(&c, &format!("lk_array_get({a}, 6)")), t(r#"{"k":[1]}"#));
        assert_eq!(q(&c, &format!("lk_array_get({a}, 7)")), Value::Null);
        assert_eq!(q(&c, &format!("lk_array_get({a}, -1)")), t(r#"{"k":[1]}"#));
        assert_eq!(q(&c, &format!("lk_array_get({a}, -6)")), t("x"));
        assert_eq!(q(&c, &format!("lk_array_get({a}, -7)")), Value::Null);
        assert_eq!(
            err(&c, &format!("lk_array_get({a}, 0)")),
            "SQL array indices start at 1"
        );
        assert_eq!(q(&c, &format!("lk_array_subscript({a}, 2)")), i(2));
        assert_eq!(
            err(&c, &format!("lk_array_subscript({a}, 7)")),
            "Array subscript must be less than or equal to array length: 7 > 6"
        );
        assert_eq!(
            err(&c, &format!("lk_array_subscript({a}, 0)")),
            "SQL array indices start at 1"
        );
        assert_eq!(q(&c, &format!("lk_cardinality({a})")), i(6));
        assert_eq!(q(&c, "lk_cardinality('[]')"), i(0));

        let r = r#"'{"type":"Root","sessioncontext":{"x":1},"n":null}'"#;
        assert_eq!(q(&c, &format!("lk_field({r}, 'type')")), t("Root"));
        assert_eq!(q(&c, &format!("lk_field({r}, 'TYPE')")), t("Root"));
        assert_eq!(
            q(&c, &format!("lk_field({r}, 'sessioncontext')")),
            t(r#"{"x":1}"#)
        );
        assert_eq!(q(&c, &format!("lk_field({r}, 'n')")), Value::Null);
        assert_eq!(q(&c, "lk_field(NULL, 'n')"), Value::Null);
    }

    #[test]
    fn contains() {
        let c = conn();
        assert_eq!(q(&c, r#"lk_contains('["a","b"]', 'a')"#), i(1));
        assert_eq!(q(&c, r#"lk_contains('["a","b"]', 'c')"#), i(0));
        assert_eq!(q(&c, r#"lk_contains('["a",null]', 'c')"#), Value::Null);
        assert_eq!(q(&c, r#"lk_contains('["a",null]', 'a')"#), i(1));
        assert_eq!(q(&c, r#"lk_contains('["a"]', NULL)"#), Value::Null);
        assert_eq!(q(&c, "lk_contains('[1,2,3]', 2)"), i(1));
        assert_eq!(q(&c, "lk_contains('[1,2,3]', 2.0)"), i(1));
        assert_eq!(q(&c, "lk_contains('[1.5]', 1.5)"), i(1));
        assert_eq!(q(&c, r#"lk_contains('["true"]', 'true')"#), i(1));
        // booleans and rows reach it through json(), with SQLite's JSON subtype
        assert_eq!(
            q(&c, "lk_contains('[false,true]', CASE WHEN 1 IS NULL THEN NULL WHEN 1 THEN json('true') ELSE json('false') END)"),
            i(1)
        );
        assert_eq!(q(&c, r#"lk_contains('["true"]', json('true'))"#), i(0));
        assert_eq!(
            q(
                &c,
                r#"lk_contains('[{"a":"x","b":null}]', json('{"a": "x", "b": null}'))"#
            ),
            i(1)
        );
    }

    #[test]
    fn strings() {
        let c = conn();
        assert_eq!(q(&c, "lk_split('a.b.c', '.')"), t(r#"["a","b","c"]"#));
        assert_eq!(q(&c, "lk_split('a..', '.')"), t(r#"["a","",""]"#));
        assert_eq!(q(&c, "lk_split('a.b.c', '.', 2)"), t(r#"["a","b.c"]"#));
        assert_eq!(q(&c, "lk_split('a\"b', 'x')"), t(r#"["a\"b"]"#));
        assert!(err(&c, "lk_split('a', '')").contains("empty"));
        assert_eq!(q(&c, "lk_strpos('high', 'ig')"), i(2));
        assert_eq!(q(&c, "lk_strpos('high', 'x')"), i(0));
        assert_eq!(q(&c, "lk_strpos('héllo', 'l')"), i(3));
        assert_eq!(q(&c, "lk_strpos('abc', '')"), i(1));
        assert_eq!(q(&c, "lk_strpos('abcabc', 'bc', 2)"), i(5));
        assert_eq!(q(&c, "lk_strpos('abcabc', 'bc', 3)"), i(0));
        assert_eq!(q(&c, "lk_substr('Trino', 2)"), t("rino"));
        assert_eq!(q(&c, "lk_substr('Trino', -3)"), t("ino"));
        assert_eq!(q(&c, "lk_substr('Trino', 2, 2)"), t("ri"));
        assert_eq!(q(&c, "lk_substr('Trino', -3, 2)"), t("in"));
        assert_eq!(q(&c, "lk_substr('Trino', 0)"), t(""));
        assert_eq!(q(&c, "lk_substr('Trino', 6)"), t(""));
        assert_eq!(q(&c, "lk_substr('Trino', -6)"), t(""));
        assert_eq!(q(&c, "lk_substr('Trino', 5, 100)"), t("o"));
        assert_eq!(q(&c, "lk_substr('Trino', 1, 0)"), t(""));
        assert_eq!(q(&c, "lk_substr('héllo', 2, 3)"), t("éll"));
        assert_eq!(q(&c, "lk_lower('ÀBC')"), t("àbc"));
        assert_eq!(q(&c, "lk_upper('straße')"), t("STRAßE"));
        assert_eq!(q(&c, "lk_upper('àbc')"), t("ÀBC"));
        assert_eq!(q(&c, "lk_length('héllo')"), i(5));
        assert_eq!(q(&c, "lk_length('')"), i(0));
        assert_eq!(q(&c, "lk_trim('  a b ' || char(9))"), t("a b"));
        assert_eq!(q(&c, "lk_ltrim('  a  ')"), t("a  "));
        assert_eq!(q(&c, "lk_rtrim('  a  ')"), t("  a"));
        assert_eq!(q(&c, "lk_trim('xxaxx', 'x')"), t("a"));
        assert_eq!(q(&c, "lk_reverse('héllo')"), t("olléh"));
        assert_eq!(q(&c, "lk_replace('abcb', 'b')"), t("ac"));
        assert_eq!(q(&c, "lk_replace('abcb', 'b', 'xy')"), t("axycxy"));
        assert_eq!(q(&c, "lk_replace('abc', '', 'x')"), t("xaxbxcx"));
        assert_eq!(q(&c, "lk_starts_with('abc', 'ab')"), i(1));
        assert_eq!(q(&c, "lk_starts_with('abc', 'b')"), i(0));
        assert_eq!(q(&c, "lk_concat('a', 'b', 'c')"), t("abc"));
        assert_eq!(q(&c, "lk_concat('a', NULL)"), Value::Null);
        assert_eq!(q(&c, "lk_greatest(1, 3, 2)"), i(3));
        assert_eq!(q(&c, "lk_greatest(1, 2.5)"), Value::Real(2.5));
        assert_eq!(q(&c, "lk_least('b', 'a', 'c')"), t("a"));
        assert_eq!(q(&c, "lk_greatest(1, NULL)"), Value::Null);
        assert_eq!(
            q(&c, "lk_sha256('abc')"),
            t("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert_eq!(
            q(&c, "lk_md5('abc')"),
            t("900150983cd24fb0d6963f7d28e17f72")
        );
        assert_eq!(q(&c, "lk_md5('')"), t("d41d8cd98f00b204e9800998ecf8427e"));
        assert_eq!(
            q(&c, &format!("lk_md5('{}')", "a".repeat(100))),
            t("36a92cc94a9e0fa21f625f8bfb007adf")
        );
        assert_eq!(q(&c, "lk_to_hex('abc')"), t("616263"));
    }

    #[test]
    fn regexps() {
        let c = conn();
        // Trino's documentation examples.
        assert_eq!(q(&c, r"lk_regexp_like('1a 2b 14m', '\d+b')"), i(1));
        assert_eq!(q(&c, r"lk_regexp_like('1a 2b 14m', '^\d+b')"), i(0));
        assert_eq!(q(&c, r"lk_regexp_extract('1a 2b 14m', '\d+')"), t("1"));
        assert_eq!(
            q(&c, r"lk_regexp_extract('1a 2b 14m', '(\d+)([a-z]+)', 2)"),
            t("a")
        );
        assert_eq!(q(&c, r"lk_regexp_extract('abc', '\d+')"), Value::Null);
        assert_eq!(q(&c, r"lk_regexp_extract('abc', 'a(x)?', 1)"), Value::Null);
        assert_eq!(
            err(&c, r"lk_regexp_extract('abc', '(a)', 2)"),
            "Pattern has 1 groups. Cannot access group 2"
        );
        assert_eq!(
            q(&c, r"lk_regexp_replace('1a 2b 14m', '\d+[ab] ')"),
            t("14m")
        );
        assert_eq!(
            q(
                &c,
                r"lk_regexp_replace('1a 2b 14m', '(\d+)([ab]) ', '3c$2 ')"
            ),
            t("3ca 3cb 14m")
        );
        assert_eq!(
            q(&c, r"lk_regexp_replace('abc', '(b)', '\$$1$1')"),
            t("a$bbc")
        );
        assert_eq!(
            q(&c, r"lk_regexp_replace('abc', '(?<x>b)', '[${x}]')"),
            t("a[b]c")
        );
        assert_eq!(q(&c, r"lk_regexp_replace('abc', 'x*', '-')"), t("-a-b-c-"));
        assert!(err(&c, r"lk_regexp_replace('abc', '(b)', '$2')").contains("group"));
        assert!(err(&c, r"lk_regexp_like('abc', '(')").contains("Invalid regular expression"));
        assert_eq!(q(&c, r"lk_regexp_like(NULL, 'a')"), Value::Null);
    }

    #[test]
    fn json_functions() {
        let c = conn();
        let j = r#"'{"a":{"b":[1,"x",true,null,1.50]},"k y":"v"}'"#;
        let s = |p: &str| q(&c, &format!("lk_json_extract_scalar({j}, '{p}')"));
        assert_eq!(s("$.a.b[0]"), t("1"));
        assert_eq!(s("$.a.b[1]"), t("x"));
        assert_eq!(s("$.a.b[2]"), t("true"));
        assert_eq!(s("$.a.b[3]"), Value::Null);
        assert_eq!(s("$.a.b[4]"), t("1.50"));
        assert_eq!(s("$.a.b[9]"), Value::Null);
        assert_eq!(s("$.a"), Value::Null);
        assert_eq!(s("$.a.b"), Value::Null);
        assert_eq!(s("$.zz"), Value::Null);
        assert_eq!(s(r#"$["a"]["b"][1]"#), t("x"));
        assert_eq!(s(r#"$["k y"]"#), t("v"));
        assert_eq!(
            q(&c, "lk_json_extract_scalar('not json', '$.a')"),
            Value::Null
        );
        assert_eq!(q(&c, r#"lk_json_extract_scalar('"s"', '$')"#), t("s"));
        assert!(err(&c, "lk_json_extract_scalar('{}', 'a')").contains("Invalid JSON path"));
        assert_eq!(
            q(&c, &format!("lk_json_extract({j}, '$.a')")),
            t(r#"{"b":[1,"x",true,null,1.50]}"#)
        );
        assert_eq!(
            q(&c, &format!("lk_json_extract({j}, '$.a.b[3]')")),
            t("null")
        );
        assert_eq!(q(&c, &format!("lk_json_extract({j}, '$.q')")), Value::Null);
        assert_eq!(q(&c, "lk_json_parse('[1, 2, 3]')"), t("[1,2,3]"));
        assert_eq!(
            q(&c, r#"lk_json_parse(' {"a" : "b"} ')"#),
            t(r#"{"a":"b"}"#)
        );
        assert_eq!(
            err(&c, "lk_json_parse('not json')"),
            "Cannot convert value to JSON: 'not json'"
        );
        assert_eq!(q(&c, "lk_json_format('[1,2]')"), t("[1,2]"));
        assert_eq!(q(&c, "lk_json_array_length('[1, 2, 3]')"), i(3));
        assert_eq!(q(&c, "lk_json_array_length('{}')"), Value::Null);
        // Trino's documented examples: a string element comes back unquoted.
        let a = r#"'["a", [3, 9], "c"]'"#;
        assert_eq!(q(&c, &format!("lk_json_array_get({a}, 0)")), t("a"));
        assert_eq!(q(&c, &format!("lk_json_array_get({a}, 1)")), t("[3,9]"));
        assert_eq!(q(&c, &format!("lk_json_array_get({a}, -1)")), t("c"));
        assert_eq!(q(&c, &format!("lk_json_array_get({a}, 10)")), Value::Null);
        assert_eq!(q(&c, &format!("lk_json_array_get({a}, -10)")), Value::Null);
        assert_eq!(q(&c, "lk_json_array_contains('[1, 2, 3]', 2)"), i(1));
        assert_eq!(q(&c, "lk_json_array_contains('[1, 2, 3]', 4)"), i(0));
        assert_eq!(q(&c, r#"lk_json_array_contains('["a"]', 'a')"#), i(1));
        assert_eq!(
            q(&c, "lk_json_array_contains('[true]', 1, 'boolean')"),
            i(1)
        );
        assert_eq!(q(&c, "lk_json_array_contains('[true]', 1)"), i(0));
        assert_eq!(
            q(&c, r#"lk_json_size('{"x": {"a": 1, "b": 2}}', '$.x')"#),
            i(2)
        );
        assert_eq!(q(&c, r#"lk_json_size('{"x": [1, 2, 3]}', '$.x')"#), i(3));
        assert_eq!(
            q(&c, r#"lk_json_size('{"x": {"a": 1, "b": 2}}', '$.x.a')"#),
            i(0)
        );
        assert_eq!(q(&c, r#"lk_json_size('{"x": 1}', '$.y')"#), Value::Null);
    }

    #[test]
    fn time_fields() {
        let c = conn();
        let f = |name: &str, ms: i64| q(&c, &format!("{name}({ms})"));
        assert_eq!(f("lk_year", T), i(2022));
        assert_eq!(f("lk_month", T), i(1));
        assert_eq!(f("lk_day", T), i(3));
        assert_eq!(f("lk_hour", T), i(19));
        assert_eq!(f("lk_minute", T), i(21));
        assert_eq!(f("lk_second", T), i(13));
        assert_eq!(f("lk_millisecond", T), i(456));
        assert_eq!(f("lk_quarter", T), i(1));
        assert_eq!(f("lk_day_of_week", T), i(1), "Monday");
        assert_eq!(f("lk_day_of_year", T), i(3));
        assert_eq!(f("lk_week", T), i(1));
        assert_eq!(f("lk_year_of_week", T), i(2022));
        // 2022-01-01 is a Saturday in ISO week 52 of 2021.
        let jan1 = 1_640_995_200_000;
        assert_eq!(f("lk_day_of_week", jan1), i(6));
        assert_eq!(f("lk_week", jan1), i(52));
        assert_eq!(f("lk_year_of_week", jan1), i(2021));
        assert_eq!(f("lk_day_of_week", jan1 + DAY), i(7));
        assert_eq!(f("lk_date", T), i(18_995));
        assert_eq!(f("lk_date", -1), i(-1));
        assert_eq!(f("lk_hour", -1), i(23));
        assert_eq!(q(&c, "lk_year(NULL)"), Value::Null);
        assert_eq!(q(&c, "lk_current_timestamp()"), i(T));
    }

    #[test]
    fn trunc_add_diff() {
        let c = conn();
        let tr = |u: &str, ms: i64| q(&c, &format!("lk_date_trunc('{u}', {ms})"));
        assert_eq!(tr("second", T), i(T - 456));
        assert_eq!(tr("minute", T), i(T - 13_456));
        assert_eq!(tr("HOUR", T), i(T - (21 * 60 + 13) * 1000 - 456));
        assert_eq!(tr("day", T), i(1_641_168_000_000));
        // 2022-01-05 10:00 → Monday 2022-01-03
        assert_eq!(tr("week", 1_641_376_800_000), i(1_641_168_000_000));
        // 2022-01-01 (Saturday) → Monday 2021-12-27
        assert_eq!(tr("week", 1_640_995_200_000), i(1_640_563_200_000));
        assert_eq!(tr("month", T), i(1_640_995_200_000));
        // 2022-05-17 08:00 → 2022-04-01
        assert_eq!(tr("quarter", 1_652_774_400_000), i(1_648_771_200_000));
        assert_eq!(tr("year", 1_652_774_400_000), i(1_640_995_200_000));
        assert_eq!(
            err(&c, &format!("lk_date_trunc('fortnight', {T})")),
            "'fortnight' is not a valid Timestamp field"
        );
        let add = |u: &str, n: i64, ms: i64| q(&c, &format!("lk_date_add('{u}', {n}, {ms})"));
        assert_eq!(add("millisecond", 44, T), i(T + 44));
        assert_eq!(add("second", -1, T), i(T - 1000));
        assert_eq!(add("day", 1, T), i(T + DAY));
        assert_eq!(add("week", 2, T), i(T + 14 * DAY));
        // 2022-01-31 05:00 + 1 month → 2022-02-28 05:00
        assert_eq!(add("month", 1, 1_643_605_200_000), i(1_646_024_400_000));
        // 2020-02-29 + 1 year → 2021-02-28
        assert_eq!(add("year", 1, 1_582_934_400_000), i(1_614_470_400_000));
        // 2022-05-17 08:00 - 1 quarter → 2022-02-17 08:00
        assert_eq!(
            add("quarter", -1, 1_652_774_400_000),
            i(1_652_774_400_000 - 89 * DAY)
        );
        let diff = |u: &str, a: i64, b: i64| q(&c, &format!("lk_date_diff('{u}', {a}, {b})"));
        // 2022-01-01 10:00 → 2022-01-02 09:00 is 23 hours: 0 days
        assert_eq!(diff("day", 1_641_031_200_000, 1_641_114_000_000), i(0));
        assert_eq!(diff("hour", 1_641_031_200_000, 1_641_114_000_000), i(23));
        assert_eq!(diff("hour", 1_641_114_000_000, 1_641_031_200_000), i(-23));
        assert_eq!(diff("millisecond", 0, 5), i(5));
        // 2022-01-31 → 2022-02-28 is one month (the end of February counts as a whole month)
        assert_eq!(diff("month", 1_643_605_200_000, 1_646_024_400_000), i(1));
        assert_eq!(diff("month", 1_646_024_400_000, 1_643_605_200_000), i(-1));
        // 2022-01-15 → 2022-02-14: not yet a month
        assert_eq!(diff("month", 1_642_204_800_000, 1_644_796_800_000), i(0));
        // 2020-02-29 → 2021-02-28: one year
        assert_eq!(diff("year", 1_582_934_400_000, 1_614_470_400_000), i(1));
        assert_eq!(diff("year", 1_582_934_400_000, 1_614_470_400_000 - 1), i(0));
        // 2022-01-01 → 2022-05-17: 4 months, 1 quarter
        assert_eq!(diff("month", 1_640_995_200_000, 1_652_774_400_000), i(4));
        assert_eq!(diff("quarter", 1_640_995_200_000, 1_652_774_400_000), i(1));
        assert_eq!(diff("quarter", 1_652_774_400_000, 1_640_995_200_000), i(-1));
    }

    #[test]
    fn iso_and_unix() {
        let c = conn();
        assert_eq!(
            q(&c, &format!("lk_to_iso8601({T})")),
            t("2022-01-03T19:21:13.456")
        );
        assert_eq!(
            q(&c, &format!("lk_to_iso8601_tz({T})")),
            t("2022-01-03T19:21:13.456Z")
        );
        assert_eq!(
            q(
                &c,
                "lk_from_iso8601_timestamp('2020-05-11T11:15:05.055+09:00')"
            ),
            i(1_589_163_305_055)
        );
        assert_eq!(
            q(&c, "lk_from_iso8601_timestamp('2022-01-03T19:21:13.456Z')"),
            i(T)
        );
        assert_eq!(
            q(&c, "lk_from_iso8601_timestamp('2022-01-03T19:21:13.4567Z')"),
            i(T)
        );
        assert_eq!(
            q(&c, "lk_from_iso8601_timestamp('2022-01-03')"),
            i(1_641_168_000_000)
        );
        assert_eq!(
            q(&c, "lk_from_iso8601_timestamp('2022-01-03T19')"),
            i(1_641_236_400_000)
        );
        assert_eq!(
            err(&c, "lk_from_iso8601_timestamp('2022-01-03 19:21:13')"),
            "Invalid format: \"2022-01-03 19:21:13\""
        );
        assert_eq!(q(&c, "lk_from_unixtime(1641237673)"), i(1_641_237_673_000));
        assert_eq!(q(&c, "lk_from_unixtime(1641237673.4556)"), i(T));
        assert_eq!(
            q(&c, &format!("lk_to_unixtime({T})")),
            Value::Real(1_641_237_673.456)
        );
        let df = |f: &str| q(&c, &format!("lk_date_format({T}, '{f}')"));
        assert_eq!(df("%Y-%m-%d %H:%i:%s"), t("2022-01-03 19:21:13"));
        assert_eq!(df("%a %b %e %c %W %M"), t("Mon Jan 3 1 Monday January"));
        assert_eq!(df("%h %l %p %r %T"), t("07 7 PM 07:21:13 PM 19:21:13"));
        assert_eq!(df("%j %f %y %k %%"), t("003 456000 22 19 %"));
        assert_eq!(df("%x-%v"), t("2022-01"));
        assert!(err(&c, &format!("lk_date_format({T}, '%D')")).contains("not supported"));
    }

    #[test]
    fn casts() {
        let c = conn();
        assert_eq!(q(&c, "lk_cast_bigint('12')"), i(12));
        assert_eq!(q(&c, "lk_cast_bigint(' -12 ')"), i(-12));
        assert_eq!(q(&c, "lk_cast_bigint(2.5)"), i(3));
        assert_eq!(q(&c, "lk_cast_bigint(-2.5)"), i(-3));
        assert_eq!(q(&c, "lk_cast_bigint(2.4)"), i(2));
        assert_eq!(q(&c, "lk_cast_bigint(7)"), i(7));
        assert_eq!(q(&c, "lk_cast_bigint(NULL)"), Value::Null);
        assert_eq!(
            err(&c, "lk_cast_bigint('1.5')"),
            "Cannot cast '1.5' to BIGINT"
        );
        assert_eq!(
            err(&c, "lk_cast_bigint('GetObject')"),
            "Cannot cast 'GetObject' to BIGINT"
        );
        assert_eq!(q(&c, "lk_try_cast_bigint('GetObject')"), Value::Null);
        assert_eq!(q(&c, "lk_cast_double('2.5')"), Value::Real(2.5));
        assert_eq!(q(&c, "lk_cast_double(' 1e3 ')"), Value::Real(1000.0));
        assert_eq!(q(&c, "lk_cast_double(3)"), Value::Real(3.0));
        assert_eq!(
            err(&c, "lk_cast_double('abc')"),
            "Cannot cast 'abc' to DOUBLE"
        );
        assert_eq!(
            err(&c, "lk_cast_double('inf')"),
            "Cannot cast 'inf' to DOUBLE"
        );
        assert_eq!(q(&c, "lk_try_cast_double('abc')"), Value::Null);
        assert_eq!(q(&c, "lk_cast_boolean('TRUE')"), i(1));
        assert_eq!(q(&c, "lk_cast_boolean('f')"), i(0));
        assert_eq!(q(&c, "lk_cast_boolean('1')"), i(1));
        assert_eq!(q(&c, "lk_cast_boolean(5)"), i(1));
        assert_eq!(q(&c, "lk_cast_boolean(0.0)"), i(0));
        assert_eq!(
            err(&c, "lk_cast_boolean('yes')"),
            "Cannot cast 'yes' to BOOLEAN"
        );
        assert_eq!(q(&c, "lk_try_cast_boolean('yes')"), Value::Null);
        assert_eq!(q(&c, "lk_cast_varchar(2.5, 'double')"), t("2.5"));
        assert_eq!(q(&c, "lk_cast_varchar(1e7, 'double')"), t("1.0E7"));
        assert_eq!(q(&c, "lk_cast_varchar(42, 'bigint')"), t("42"));
        assert_eq!(q(&c, "lk_cast_varchar(1, 'boolean')"), t("true"));
        assert_eq!(
            q(&c, "lk_cast_varchar(1641237673000, 'timestamp(3)')"),
            t("2022-01-03 19:21:13.000")
        );
        assert_eq!(
            q(
                &c,
                "lk_cast_varchar(1641237673000, 'timestamp(3) with time zone')"
            ),
            t("2022-01-03 19:21:13.000 UTC")
        );
        assert_eq!(q(&c, "lk_cast_varchar(18995, 'date')"), t("2022-01-03"));
        assert_eq!(q(&c, "lk_cast_varchar('x', 'varchar')"), t("x"));
        assert_eq!(q(&c, r#"lk_cast_varchar('"x"', 'json')"#), t("x"));
        assert_eq!(q(&c, "lk_cast_varchar('12', 'json')"), t("12"));
        assert_eq!(q(&c, "lk_cast_varchar('null', 'json')"), Value::Null);
        assert_eq!(
            q(&c, r#"lk_cast_varchar('["a",null]', 'array(varchar)')"#),
            t("[a, null]")
        );
        assert_eq!(q(&c, "lk_cast_varchar(NULL, 'bigint')"), Value::Null);
        assert_eq!(
            q(&c, "lk_cast_timestamp('2022-01-03 19:21:13')"),
            i(1_641_237_673_000)
        );
        assert_eq!(q(&c, "lk_cast_timestamp('2022-01-03 19:21:13.456')"), i(T));
        assert_eq!(q(&c, "lk_cast_timestamp('2022-01-03 19:21:13.4555')"), i(T));
        assert_eq!(
            q(&c, "lk_cast_timestamp('2022-01-03')"),
            i(1_641_168_000_000)
        );
        assert_eq!(
            q(&c, "lk_cast_timestamp('2022-1-3 19:21')"),
            i(1_641_237_660_000)
        );
        assert_eq!(
            err(&c, "lk_cast_timestamp('2022-13-03')"),
            "Value cannot be cast to timestamp: 2022-13-03"
        );
        assert_eq!(q(&c, "lk_try_cast_timestamp('2022-13-03')"), Value::Null);
        assert_eq!(
            q(&c, "lk_try_cast_timestamp('2022-01-03T00:00:00Z')"),
            Value::Null
        );
    }

    #[test]
    fn parse_types() {
        for ty in crate::types::columns().into_iter().map(|c| c.ty) {
            assert_eq!(parse_type(&ty.to_string()), Some(ty.clone()), "{ty}");
        }
        assert_eq!(
            parse_type("timestamp(3) with time zone"),
            Some(LakeType::TimestampTz)
        );
        assert_eq!(parse_type("nonsense"), None);
    }

    #[test]
    fn decode() {
        assert_eq!(decode_json(r#""a\u0041""#), t("aA"));
        assert_eq!(decode_json("-12"), i(-12));
        assert_eq!(decode_json("1.0"), Value::Real(1.0));
        assert_eq!(decode_json("1e2"), Value::Real(100.0));
        assert_eq!(decode_json("99999999999999999999"), Value::Real(1e20));
        assert_eq!(decode_json("true"), i(1));
        assert_eq!(decode_json("false"), i(0));
        assert_eq!(decode_json("null"), Value::Null);
        assert_eq!(decode_json(r#"{ "a" : [ 1 ] }"#), t(r#"{"a":[1]}"#));
    }

    #[test]
    fn aggregates() {
        let c = conn();
        c.execute_batch(
            "CREATE TABLE e(g, s, n, b);
             INSERT INTO e VALUES
               (1, NULL, 5, 1), (1, 'x', 3, 0), (1, 'y', 9, 1), (1, 'x', 9, NULL),
               (2, NULL, NULL, NULL);",
        )
        .unwrap();
        let row = |sql: &str| -> Vec<Value> {
            let mut st = c.prepare(sql).unwrap();
            st.query_map([], |r| r.get::<_, Value>(0))
                .unwrap()
                .map(|v| v.unwrap())
                .collect()
        };
        let by_g = |agg: &str| row(&format!("SELECT {agg} FROM e GROUP BY g ORDER BY g"));
        assert_eq!(by_g("lk_arbitrary(s)"), vec![t("x"), Value::Null]);
        assert_eq!(by_g("lk_count_if(b)"), vec![i(2), i(0)]);
        assert_eq!(by_g("lk_count_if(n > 4)"), vec![i(3), i(0)]);
        assert_eq!(by_g("lk_bool_and(b)"), vec![i(0), Value::Null]);
        assert_eq!(by_g("lk_bool_or(b)"), vec![i(1), Value::Null]);
        assert_eq!(by_g("lk_bool_and(n > 2)"), vec![i(1), Value::Null]);
        assert_eq!(by_g("lk_max_by(s, n)"), vec![t("y"), Value::Null]);
        assert_eq!(by_g("lk_min_by(s, n)"), vec![t("x"), Value::Null]);
        assert_eq!(
            by_g("lk_approx_most_frequent(2, s, 100)"),
            vec![t(r#"{"x":2,"y":1}"#), Value::Null]
        );
        assert_eq!(
            by_g("lk_approx_most_frequent(3, n, 100)"),
            vec![t(r#"{"9":2,"3":1,"5":1}"#), Value::Null]
        );
        assert_eq!(row("SELECT lk_count_if(b) FROM e WHERE 0"), vec![i(0)]);
        assert_eq!(
            row("SELECT lk_arbitrary(s) FROM e WHERE 0"),
            vec![Value::Null]
        );
        // As window functions.
        assert_eq!(
            row("SELECT lk_count_if(b) OVER (PARTITION BY g) FROM e ORDER BY rowid"),
            vec![i(2), i(2), i(2), i(2), i(0)]
        );
        assert_eq!(
            row("SELECT lk_count_if(b) OVER (ORDER BY rowid ROWS 1 PRECEDING) FROM e ORDER BY rowid"),
            vec![i(1), i(1), i(1), i(1), i(0)]
        );
        assert_eq!(
            row(
                "SELECT lk_bool_or(b) OVER (ORDER BY rowid ROWS 1 PRECEDING) FROM e ORDER BY rowid"
            ),
            vec![i(1), i(1), i(1), i(1), Value::Null]
        );
        assert_eq!(
            row("SELECT lk_max_by(s, n) OVER (ORDER BY rowid) FROM e ORDER BY rowid"),
            vec![Value::Null, Value::Null, t("y"), t("y"), t("y")]
        );
        assert_eq!(
            row("SELECT lk_arbitrary(s) OVER (PARTITION BY g) FROM e ORDER BY rowid"),
            vec![t("x"), t("x"), t("x"), t("x"), Value::Null]
        );
        assert_eq!(
            row("SELECT lk_approx_most_frequent(1, s, 10) OVER (ORDER BY rowid ROWS 1 PRECEDING) FROM e ORDER BY rowid"),
            vec![Value::Null, t(r#"{"x":1}"#), t(r#"{"x":1}"#), t(r#"{"x":1}"#), t(r#"{"x":1}"#)]
        );
        let mut st = c
            .prepare("SELECT lk_max_by(s, n) OVER (ORDER BY rowid ROWS 1 PRECEDING) FROM e")
            .unwrap();
        let e = st
            .query_map([], |r| r.get::<_, Value>(0))
            .unwrap()
            .find_map(|r| r.err());
        assert!(e.unwrap().to_string().contains("sliding window"));
    }
}
