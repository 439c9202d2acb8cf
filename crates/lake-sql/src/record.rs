//! Reading a stored CloudTrail record's columns (lake-sql.md §4).
//!
//! [`Record::parse`] checks the record is one JSON object and indexes its top-level members
//! once (key and byte range of each raw value) without building a tree; [`Record::value`]
//! then descends a column path and converts the raw JSON found to a column's SQLite value
//! (see [`crate::types`] for the representation). [`json`] holds the small JSON scanner this,
//! [`crate::render`] and [`crate::functions`] share.

use crate::types::{Column, LakeType, Source};
use rusqlite::types::Value;
use sha2::{Digest, Sha256};

/// One stored record: its text and an index of its top-level members.
#[derive(Debug, Clone)]
pub struct Record {
    text: Box<str>,
    members: Vec<Member>,
}

#[derive(Debug, Clone, Copy)]
struct Member {
    /// The key's raw JSON string (quotes included).
    key: (u32, u32),
    key_escaped: bool,
    value: (u32, u32),
}

impl Record {
    /// Indexes a record: `None` unless `raw` is UTF-8 holding exactly one JSON object.
    pub fn parse(raw: &[u8]) -> Option<Record> {
        let text = std::str::from_utf8(raw).ok()?;
        if text.len() >= u32::MAX as usize {
            return None;
        }
        let b = text.as_bytes();
        let mut members = Vec::with_capacity(32);
        let mut i = json::skip_ws(b, 0);
        if b.get(i) != Some(&b'{') {
            return None;
        }
        i = json::skip_ws(b, i + 1);
        if b.get(i) == Some(&b'}') {
            i += 1;
        } else {
            loop {
                let k0 = i;
                let (k1, key_escaped) = json::check_string(b, i)?;
                i = json::skip_ws(b, k1);
                if b.get(i) != Some(&b':') {
                    return None;
                }
                let v0 = json::skip_ws(b, i + 1);
                let v1 = json::check_value(b, v0)?;
                members.push(Member {
                    key: (k0 as u32, k1 as u32),
                    key_escaped,
                    value: (v0 as u32, v1 as u32),
                });
                i = json::skip_ws(b, v1);
                match b.get(i) {
                    Some(b',') => i = json::skip_ws(b, i + 1),
                    Some(b'}') => {
                        i += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        if json::skip_ws(b, i) != b.len() {
            return None;
        }
        Some(Record {
            text: text.into(),
            members,
        })
    }

    /// The record's exact text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Lowercase hex SHA-256 of the record's exact bytes.
    pub fn checksum(&self) -> String {
        checksum_hex(self.text.as_bytes())
    }

    /// The raw JSON text of a top-level member, matched case-insensitively (ASCII); the first
    /// match in record order wins.
    pub fn member(&self, name: &str) -> Option<&str> {
        let t: &str = &self.text;
        for m in &self.members {
            let key = &t[m.key.0 as usize..m.key.1 as usize];
            let hit = if m.key_escaped {
                json::decode_str(key).eq_ignore_ascii_case(name)
            } else {
                key.len() == name.len() + 2 && key[1..key.len() - 1].eq_ignore_ascii_case(name)
            };
            if hit {
                return Some(&t[m.value.0 as usize..m.value.1 as usize]);
            }
        }
        None
    }

    /// The top-level members in record order: each key's raw JSON string (quotes included)
    /// and its raw value.
    pub fn members(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        let t: &str = &self.text;
        self.members.iter().map(move |m| {
            (
                &t[m.key.0 as usize..m.key.1 as usize],
                &t[m.value.0 as usize..m.value.1 as usize],
            )
        })
    }

    /// The raw JSON text at `path`: a top-level key, then object fields, all matched
    /// case-insensitively (first match wins).
    pub fn raw(&self, path: &[&str]) -> Option<&str> {
        let (first, rest) = path.split_first()?;
        let mut v = self.member(first)?;
        for name in rest {
            v = json::get_ci(v, name)?;
        }
        Some(v)
    }

    /// The value at `path` converted to `ty` (lake-sql.md §4): NULL when the path is missing,
    /// holds JSON null, or holds a JSON type that does not fit `ty`.
    pub fn value(&self, path: &[&str], ty: &LakeType) -> Value {
        match self.raw(path) {
            Some(raw) => convert(raw, ty),
            None => Value::Null,
        }
    }

    /// A column of the Lake table (lake-sql.md §4) for this record.
    pub fn column(&self, column: &Column) -> Value {
        match column.source {
            Source::Field => self.value(&[column.name], &column.ty),
            Source::Text => Value::Text(self.text.to_string()),
            Source::Checksum => Value::Text(self.checksum()),
        }
    }
}

/// The `eventjsonchecksum` of a record: lowercase hex SHA-256 of its exact bytes.
pub fn checksum_hex(bytes: &[u8]) -> String {
    hex_lower(Sha256::digest(bytes).as_slice())
}

pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

/// A raw JSON value (valid, no surrounding whitespace) converted to the SQLite representation
/// of `ty` (make_golden.py `convert`).
pub fn convert(raw: &str, ty: &LakeType) -> Value {
    use json::Kind;
    let Some(kind) = json::kind(raw) else {
        return Value::Null;
    };
    if kind == Kind::Null {
        return Value::Null;
    }
    match ty {
        LakeType::Varchar => match kind {
            Kind::String => Value::Text(json::decode_str(raw).into_owned()),
            _ => Value::Null,
        },
        LakeType::Boolean => match kind {
            Kind::True => Value::Integer(1),
            Kind::False => Value::Integer(0),
            _ => Value::Null,
        },
        LakeType::Timestamp | LakeType::TimestampTz => match kind {
            Kind::String => {
                iso_timestamp_ms(&json::decode_str(raw)).map_or(Value::Null, Value::Integer)
            }
            _ => Value::Null,
        },
        LakeType::Date => match kind {
            Kind::String => {
                iso_date_days(&json::decode_str(raw)).map_or(Value::Null, Value::Integer)
            }
            _ => Value::Null,
        },
        LakeType::Bigint => match kind {
            Kind::Number => raw.parse::<i64>().map_or(Value::Null, Value::Integer),
            _ => Value::Null,
        },
        LakeType::Double => match kind {
            Kind::Number => raw.parse::<f64>().map_or(Value::Null, Value::Real),
            _ => Value::Null,
        },
        LakeType::Map | LakeType::Row(_) | LakeType::Array(_) => {
            let fits = matches!(
                (ty, kind),
                (LakeType::Map | LakeType::Row(_), Kind::Object)
                    | (LakeType::Array(_), Kind::Array)
            );
            if !fits {
                return Value::Null;
            }
            let mut out = String::with_capacity(raw.len() + 16);
            write_form(&mut out, raw, ty);
            Value::Text(out)
        }
        LakeType::Json => {
            let mut out = String::with_capacity(raw.len());
            json::write_compact(&mut out, raw);
            Value::Text(out)
        }
        LakeType::Unknown => Value::Null,
    }
}

/// Writes the JSON form (types.rs) of a raw JSON value read as `ty`: `null` when it does not fit.
pub fn write_form(out: &mut String, raw: &str, ty: &LakeType) {
    use json::Kind;
    let kind = json::kind(raw);
    match (ty, kind) {
        (LakeType::Varchar, Some(Kind::String)) => json::write_string_raw(out, raw),
        (LakeType::Boolean, Some(Kind::True)) => out.push_str("true"),
        (LakeType::Boolean, Some(Kind::False)) => out.push_str("false"),
        (LakeType::Timestamp | LakeType::TimestampTz, Some(Kind::String)) => {
            match iso_timestamp_ms(&json::decode_str(raw)) {
                Some(ms) => {
                    use std::fmt::Write;
                    let _ = write!(out, "{ms}");
                }
                None => out.push_str("null"),
            }
        }
        (LakeType::Date, Some(Kind::String)) => match iso_date_days(&json::decode_str(raw)) {
            Some(d) => {
                use std::fmt::Write;
                let _ = write!(out, "{d}");
            }
            None => out.push_str("null"),
        },
        (LakeType::Bigint, Some(Kind::Number)) if raw.parse::<i64>().is_ok() => out.push_str(raw),
        (LakeType::Double, Some(Kind::Number)) => out.push_str(raw),
        (LakeType::Map, Some(Kind::Object)) => {
            out.push('{');
            for (n, (key, value)) in json::members(raw).enumerate() {
                if n > 0 {
                    out.push(',');
                }
                json::write_string_raw(out, key);
                out.push(':');
                match json::kind(value) {
                    Some(Kind::String) => json::write_string_raw(out, value),
                    Some(Kind::Number) => {
                        out.push('"');
                        out.push_str(value);
                        out.push('"');
                    }
                    Some(Kind::True) => out.push_str("\"true\""),
                    Some(Kind::False) => out.push_str("\"false\""),
                    Some(Kind::Object | Kind::Array) => {
                        let mut c = String::with_capacity(value.len());
                        json::write_compact(&mut c, value);
                        json::write_str(out, &c);
                    }
                    Some(Kind::Null) | None => out.push_str("null"),
                }
            }
            out.push('}');
        }
        (LakeType::Row(fields), Some(Kind::Object)) => {
            out.push('{');
            for (n, (name, fty)) in fields.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                json::write_str(out, name);
                out.push(':');
                match json::get_ci(raw, name) {
                    Some(v) => write_form(out, v, fty),
                    None => out.push_str("null"),
                }
            }
            out.push('}');
        }
        (LakeType::Array(ety), Some(Kind::Array)) => {
            out.push('[');
            for (n, v) in json::elements(raw).enumerate() {
                if n > 0 {
                    out.push(',');
                }
                write_form(out, v, ety);
            }
            out.push(']');
        }
        (LakeType::Json, Some(k)) if k != Kind::Null => json::write_compact(out, raw),
        _ => out.push_str("null"),
    }
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let mut v = 0i64;
    for &c in b.get(at..at + n)? {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as i64;
    }
    Some(v)
}

/// Days from 1970-01-01 to a proleptic Gregorian date (month 1–12, day 1–31).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The (year, month, day) of a day count from 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

pub(crate) fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

pub(crate) fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if is_leap(y) {
                29
            } else {
                28
            }
        }
    }
}

fn valid_date(y: i64, m: i64, d: i64) -> bool {
    (1..=9999).contains(&y) && (1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)
}

/// An ISO-8601 timestamp `YYYY-MM-DD[T ]HH:MM:SS[.f{1,9}][Z|±HH:MM|±HHMM]` → milliseconds since
/// the epoch, UTC (the fraction truncated to milliseconds); make_golden.py `iso_timestamp`.
pub fn iso_timestamp_ms(s: &str) -> Option<i64> {
    let mut b = s.as_bytes();
    // Python's `$` also matches before one final newline.
    if b.last() == Some(&b'\n') {
        b = &b[..b.len() - 1];
    }
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b'T' || b[10] == b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let y = digits(b, 0, 4)?;
    let mo = digits(b, 5, 2)?;
    let d = digits(b, 8, 2)?;
    let h = digits(b, 11, 2)?;
    let mi = digits(b, 14, 2)?;
    let sec = digits(b, 17, 2)?;
    let mut i = 19;
    let mut ms = 0i64;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        let mut j = start;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        let n = j - start;
        if n == 0 || n > 9 {
            return None;
        }
        for k in 0..3 {
            ms = ms * 10
                + if k < n {
                    (b[start + k] - b'0') as i64
                } else {
                    0
                };
        }
        i = j;
    }
    let mut offset_min = 0i64;
    match b.get(i) {
        None => {}
        Some(b'Z') if i + 1 == b.len() => {}
        Some(&c @ (b'+' | b'-')) => {
            let rest = &b[i + 1..];
            let (hh, mm) = match rest.len() {
                5 if rest[2] == b':' => (digits(rest, 0, 2)?, digits(rest, 3, 2)?),
                4 => (digits(rest, 0, 2)?, digits(rest, 2, 2)?),
                _ => return None,
            };
            offset_min = (hh * 60 + mm) * if c == b'+' { 1 } else { -1 };
        }
        _ => return None,
    }
    if !valid_date(y, mo, d) || h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    Some(days * 86_400_000 + ((h * 60 + mi - offset_min) * 60 + sec) * 1000 + ms)
}

/// A date `YYYY-MM-DD` (or an ISO-8601 timestamp, its UTC day) → days since the epoch.
fn iso_date_days(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        let (y, m, d) = (digits(b, 0, 4)?, digits(b, 5, 2)?, digits(b, 8, 2)?);
        return valid_date(y, m, d).then(|| days_from_civil(y, m, d));
    }
    iso_timestamp_ms(s).map(|ms| ms.div_euclid(86_400_000))
}

/// A small JSON scanner over text. [`json::check_value`] and [`json::check_string`] validate;
/// everything else assumes valid JSON (as indexed by [`Record::parse`], produced by this crate
/// or validated first), never panics on invalid input, and stops early on it.
pub mod json {
    use std::borrow::Cow;

    /// The JSON type of a raw value, from its first byte.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Kind {
        Object,
        Array,
        String,
        Number,
        True,
        False,
        Null,
    }

    /// The kind of a raw value (no leading whitespace).
    pub fn kind(raw: &str) -> Option<Kind> {
        Some(match raw.as_bytes().first()? {
            b'{' => Kind::Object,
            b'[' => Kind::Array,
            b'"' => Kind::String,
            b't' => Kind::True,
            b'f' => Kind::False,
            b'n' => Kind::Null,
            b'-' | b'0'..=b'9' => Kind::Number,
            _ => return None,
        })
    }

    #[inline]
    pub fn skip_ws(b: &[u8], mut i: usize) -> usize {
        while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
            i += 1;
        }
        i
    }

    /// `s` without JSON whitespace around it.
    pub fn trim(s: &str) -> &str {
        s.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
    }

    /// Whether `s` is exactly one JSON value (whitespace around it allowed).
    pub fn is_valid(s: &str) -> bool {
        let b = s.as_bytes();
        let i = skip_ws(b, 0);
        match check_value(b, i) {
            Some(end) => skip_ws(b, end) == b.len(),
            None => false,
        }
    }

    // Bytes that end a run of plain string content: '"', '\\' and control characters.
    const fn string_stops() -> [bool; 256] {
        let mut t = [false; 256];
        let mut i = 0;
        while i < 0x20 {
            t[i] = true;
            i += 1;
        }
        t[b'"' as usize] = true;
        t[b'\\' as usize] = true;
        t
    }
    static STOP: [bool; 256] = string_stops();

    /// The first index at or after `j` holding a '"', '\\' or control byte (or `b.len()`).
    #[inline]
    fn skip_plain(b: &[u8], mut j: usize) -> usize {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        // Eight bytes at a time while none of them can stop the run.
        while let Some(chunk) = b.get(j..j + 8) {
            let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
            let quote = x ^ (ONES * b'"' as u64);
            let slash = x ^ (ONES * b'\\' as u64);
            let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
            let control = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
            if zero(quote) | zero(slash) | control != 0 {
                break;
            }
            j += 8;
        }
        while j < b.len() && !STOP[b[j] as usize] {
            j += 1;
        }
        j
    }

    /// Validates the string starting at `b[i] == '"'`: its end (after the closing quote) and
    /// whether it holds escapes.
    pub fn check_string(b: &[u8], i: usize) -> Option<(usize, bool)> {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let mut j = i + 1;
        let mut escaped = false;
        loop {
            j = skip_plain(b, j);
            match *b.get(j)? {
                b'"' => return Some((j + 1, escaped)),
                b'\\' => {
                    escaped = true;
                    match *b.get(j + 1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => j += 2,
                        b'u' => {
                            let hex = b.get(j + 2..j + 6)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return None;
                            }
                            j += 6;
                        }
                        _ => return None,
                    }
                }
                _ => return None, // a control character
            }
        }
    }

    fn check_number(b: &[u8], mut i: usize) -> Option<usize> {
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
            }
            _ => return None,
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            let s = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == s {
                return None;
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            let s = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == s {
                return None;
            }
        }
        Some(i)
    }

    const MAX_DEPTH: usize = 1024;

    /// Validates the JSON value starting at `b[i]` (no leading whitespace): its end.
    pub fn check_value(b: &[u8], mut i: usize) -> Option<usize> {
        // One bit per open container: 1 an object, 0 an array.
        let mut stack = [0u64; MAX_DEPTH / 64];
        let mut depth = 0usize;
        let top = |stack: &[u64; MAX_DEPTH / 64], depth: usize| {
            let d = depth - 1;
            stack[d / 64] >> (d % 64) & 1 == 1
        };
        loop {
            // A value at i.
            i = skip_ws(b, i);
            match *b.get(i)? {
                c @ (b'{' | b'[') => {
                    let close = if c == b'{' { b'}' } else { b']' };
                    let j = skip_ws(b, i + 1);
                    if b.get(j) == Some(&close) {
                        i = j + 1;
                    } else {
                        if depth == MAX_DEPTH {
                            return None;
                        }
                        let (w, bit) = (depth / 64, depth % 64);
                        if c == b'{' {
                            stack[w] |= 1 << bit;
                        } else {
                            stack[w] &= !(1 << bit);
                        }
                        depth += 1;
                        i = j;
                        if c == b'{' {
                            i = check_string(b, i)?.0;
                            i = skip_ws(b, i);
                            if b.get(i) != Some(&b':') {
                                return None;
                            }
                            i += 1;
                        }
                        continue;
                    }
                }
                b'"' => i = check_string(b, i)?.0,
                b't' => i = literal(b, i, b"true")?,
                b'f' => i = literal(b, i, b"false")?,
                b'n' => i = literal(b, i, b"null")?,
                _ => i = check_number(b, i)?,
            }
            // After a value: separators and closing brackets.
            loop {
                if depth == 0 {
                    return Some(i);
                }
                i = skip_ws(b, i);
                let in_object = top(&stack, depth);
                match *b.get(i)? {
                    b',' => {
                        i += 1;
                        if in_object {
                            i = skip_ws(b, i);
                            i = check_string(b, i)?.0;
                            i = skip_ws(b, i);
                            if b.get(i) != Some(&b':') {
                                return None;
                            }
                            i += 1;
                        }
                        break;
                    }
                    b'}' if in_object => {
                        depth -= 1;
                        i += 1;
                    }
                    b']' if !in_object => {
                        depth -= 1;
                        i += 1;
                    }
                    _ => return None,
                }
            }
        }
    }

    fn literal(b: &[u8], i: usize, lit: &[u8]) -> Option<usize> {
        (b.get(i..i + lit.len())? == lit).then_some(i + lit.len())
    }

    /// End of the (valid) string starting at `b[i] == '"'`.
    fn string_end(b: &[u8], i: usize) -> usize {
        let mut j = i + 1;
        while j < b.len() {
            match b[j] {
                b'"' => return j + 1,
                b'\\' => j += 2,
                _ => j += 1,
            }
        }
        b.len()
    }

    /// End of the (valid) value starting at `b[i]`.
    fn value_end(b: &[u8], i: usize) -> usize {
        match b.get(i) {
            None => i,
            Some(b'"') => string_end(b, i),
            Some(b'{' | b'[') => {
                let mut depth = 0usize;
                let mut j = i;
                while j < b.len() {
                    match b[j] {
                        b'"' => {
                            j = string_end(b, j);
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                return j + 1;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                b.len()
            }
            Some(_) => {
                let mut j = i;
                while j < b.len()
                    && !matches!(b[j], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
                {
                    j += 1;
                }
                j
            }
        }
    }

    /// The members of a raw object: (raw key string, raw value). Empty for a non-object.
    pub fn members(raw: &str) -> Members<'_> {
        let start = if raw.as_bytes().first() == Some(&b'{') {
            1
        } else {
            raw.len()
        };
        Members { s: raw, i: start }
    }

    pub struct Members<'a> {
        s: &'a str,
        i: usize,
    }

    impl<'a> Iterator for Members<'a> {
        type Item = (&'a str, &'a str);

        fn next(&mut self) -> Option<Self::Item> {
            let b = self.s.as_bytes();
            let mut i = skip_ws(b, self.i);
            if b.get(i) == Some(&b',') {
                i = skip_ws(b, i + 1);
            }
            if b.get(i) != Some(&b'"') {
                self.i = b.len();
                return None;
            }
            let k1 = string_end(b, i);
            let key = self.s.get(i..k1);
            let mut j = skip_ws(b, k1);
            if b.get(j) != Some(&b':') {
                self.i = b.len();
                return None;
            }
            j = skip_ws(b, j + 1);
            let v1 = value_end(b, j);
            let value = self.s.get(j..v1);
            match (key, value) {
                (Some(k), Some(v)) if v1 > j => {
                    self.i = v1;
                    Some((k, v))
                }
                _ => {
                    self.i = b.len();
                    None
                }
            }
        }
    }

    /// The elements of a raw array. Empty for a non-array.
    pub fn elements(raw: &str) -> Elements<'_> {
        let start = if raw.as_bytes().first() == Some(&b'[') {
            1
        } else {
            raw.len()
        };
        Elements { s: raw, i: start }
    }

    pub struct Elements<'a> {
        s: &'a str,
        i: usize,
    }

    impl<'a> Iterator for Elements<'a> {
        type Item = &'a str;

        fn next(&mut self) -> Option<&'a str> {
            let b = self.s.as_bytes();
            let mut i = skip_ws(b, self.i);
            if b.get(i) == Some(&b',') {
                i = skip_ws(b, i + 1);
            }
            match b.get(i) {
                None | Some(b']' | b'}' | b',' | b':') => {
                    self.i = b.len();
                    return None;
                }
                _ => {}
            }
            let end = value_end(b, i);
            match self.s.get(i..end) {
                Some(v) if end > i => {
                    self.i = end;
                    Some(v)
                }
                _ => {
                    self.i = b.len();
                    None
                }
            }
        }
    }

    /// Whether a raw key string equals `name` exactly (after decoding).
    pub fn key_eq(key: &str, name: &str) -> bool {
        let inner = inner(key);
        if inner.contains('\\') {
            decode_str(key) == name
        } else {
            inner == name
        }
    }

    /// Whether a raw key string equals `name` ignoring ASCII case (after decoding).
    pub fn key_eq_ci(key: &str, name: &str) -> bool {
        let inner = inner(key);
        if inner.len() == name.len() && inner.eq_ignore_ascii_case(name) {
            return true;
        }
        inner.contains('\\') && decode_str(key).eq_ignore_ascii_case(name)
    }

    /// A field of a raw object, matched case-insensitively; the first match wins.
    pub fn get_ci<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
        members(raw)
            .find(|(k, _)| key_eq_ci(k, name))
            .map(|(_, v)| v)
    }

    /// A field of a raw object, matched exactly; the first match wins.
    pub fn get<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
        members(raw).find(|(k, _)| key_eq(k, name)).map(|(_, v)| v)
    }

    fn inner(raw: &str) -> &str {
        if raw.len() >= 2 {
            raw.get(1..raw.len() - 1).unwrap_or("")
        } else {
            ""
        }
    }

    /// The text of a raw JSON string (quotes included).
    pub fn decode_str(raw: &str) -> Cow<'_, str> {
        let inner = inner(raw);
        if !inner.contains('\\') {
            return Cow::Borrowed(inner);
        }
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.char_indices();
        let b = inner.as_bytes();
        let hex4 = |at: usize| -> Option<u32> {
            let h = inner.get(at..at + 4)?;
            u32::from_str_radix(h, 16).ok()
        };
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some((_, e)) = chars.next() else { break };
            match e {
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                'u' => {
                    let Some(u) = hex4(i + 2) else { break };
                    for _ in 0..4 {
                        chars.next();
                    }
                    if (0xD800..0xDC00).contains(&u)
                        && b.get(i + 6) == Some(&b'\\')
                        && b.get(i + 7) == Some(&b'u')
                    {
                        if let Some(lo) = hex4(i + 8) {
                            if (0xDC00..0xE000).contains(&lo) {
                                for _ in 0..6 {
                                    chars.next();
                                }
                                let c = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                                out.push(char::from_u32(c).unwrap_or('\u{FFFD}'));
                                continue;
                            }
                        }
                    }
                    out.push(char::from_u32(u).unwrap_or('\u{FFFD}'));
                }
                other => out.push(other),
            }
        }
        Cow::Owned(out)
    }

    /// Writes `s` as a JSON string, escaped minimally (as serde_json and Python's
    /// `json.dumps(ensure_ascii=False)` do).
    pub fn write_str(out: &mut String, s: &str) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        out.push('"');
        let b = s.as_bytes();
        let mut start = 0;
        for (i, &c) in b.iter().enumerate() {
            if !super::json::STOP[c as usize] {
                continue;
            }
            out.push_str(&s[start..i]);
            match c {
                b'"' => out.push_str("\\\""),
                b'\\' => out.push_str("\\\\"),
                b'\n' => out.push_str("\\n"),
                b'\r' => out.push_str("\\r"),
                b'\t' => out.push_str("\\t"),
                8 => out.push_str("\\b"),
                12 => out.push_str("\\f"),
                _ => {
                    out.push_str("\\u00");
                    out.push(HEX[(c >> 4) as usize] as char);
                    out.push(HEX[(c & 15) as usize] as char);
                }
            }
            start = i + 1;
        }
        out.push_str(&s[start..]);
        out.push('"');
    }

    /// Writes a raw JSON string re-escaped minimally.
    pub fn write_string_raw(out: &mut String, raw: &str) {
        if raw.contains('\\') {
            write_str(out, &decode_str(raw));
        } else {
            out.push_str(raw);
        }
    }

    /// Writes a raw JSON value compactly: no whitespace, keys in order, numbers as written,
    /// strings re-escaped minimally.
    pub fn write_compact(out: &mut String, raw: &str) {
        let b = raw.as_bytes();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'"' => {
                    let end = string_end(b, i);
                    match raw.get(i..end) {
                        Some(s) => write_string_raw(out, s),
                        None => return,
                    }
                    i = end;
                }
                b' ' | b'\t' | b'\n' | b'\r' => i += 1,
                _ => {
                    let s = i;
                    while i < b.len() && !matches!(b[i], b'"' | b' ' | b'\t' | b'\n' | b'\r') {
                        i += 1;
                    }
                    match raw.get(s..i) {
                        Some(t) => out.push_str(t),
                        None => return,
                    }
                }
            }
        }
    }

    /// The compact text of a raw JSON value.
    pub fn compact(raw: &str) -> String {
        let mut out = String::with_capacity(raw.len());
        write_compact(&mut out, raw);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::columns;

    fn rec(s: &str) -> Record {
        Record::parse(s.as_bytes()).expect("parses")
    }

    fn text(v: Value) -> String {
        match v {
            Value::Text(s) => s,
            other => panic!("not text: {other:?}"),
        }
    }

    #[test]
    fn parse_accepts_objects_only() {
        assert!(Record::parse(b"{}").is_some());
        assert!(Record::parse(b" { \"a\" : 1 } \n").is_some());
        for bad in [
            &b"[]"[..],
            b"",
            b"{",
            b"{\"a\":1,}",
            b"{\"a\":1} x",
            b"{\"a\" 1}",
            b"{\"a\":01}",
            b"{\"a\":[1,]}",
            b"{\"a\":\"\x01\"}",
            b"{\"a\":\"\\x\"}",
            b"{\"a\":tru}",
            b"{\"a\":\xff}",
            b"{\"a\":{\"b\":1]}",
            b"\"s\"",
        ] {
            assert!(
                Record::parse(bad).is_none(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn validator_agrees_with_serde_json() {
        let cases = [
            r#"{"a":[1,2,{"b":null}],"c":"\u00e9\ud83d\ude00","d":-0.5e+3}"#,
            r#"[]"#,
            r#"[[[[]]]]"#,
            r#"{"a":{}}"#,
            r#"{"a":1e5,"b":1E-2,"c":0}"#,
            r#"{"a":-}"#,
            r#"{"a":1.}"#,
            r#"{"a":.5}"#,
            r#"{"a":1e}"#,
            r#"{"a":"x"]"#,
            r#"[1 2]"#,
            r#"{"a" :1 , "b":[ true ,false,null ] }"#,
            r#"{"a":"\u12"}"#,
            r#"{1:2}"#,
            r#"[1,,2]"#,
            r#"nul"#,
            r#"-01"#,
            r#""tab	in""#,
        ];
        for c in cases {
            let ours = json::is_valid(c);
            let serde = serde_json::from_str::<&serde_json::value::RawValue>(c).is_ok();
            assert_eq!(ours, serde, "{c}");
        }
    }

    #[test]
    fn text_and_checksum() {
        let r = rec(r#"{"a":1}"#);
        assert_eq!(r.text(), r#"{"a":1}"#);
        // sha256 of "abc" is well known; here: python3 -c 'import hashlib;print(hashlib.sha256(b"{\"a\":1}").hexdigest())'
        let r2 = rec("{}");
        assert_eq!(
            r2.checksum(),
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert_eq!(r.checksum().len(), 64);
    }

    #[test]
    fn varchar_boolean_and_missing() {
        let r = rec(
            r#"{"eventName":"Get\"Object\u00e9","readOnly":true,"managementEvent":"true","n":3,"z":null}"#,
        );
        assert_eq!(
            r.value(&["eventname"], &LakeType::Varchar),
            Value::Text("Get\"Objecté".into())
        );
        assert_eq!(
            r.value(&["READONLY"], &LakeType::Boolean),
            Value::Integer(1)
        );
        // a string "true" is not a boolean (make_golden.py STRING_BOOLEANS = False)
        assert_eq!(
            r.value(&["managementevent"], &LakeType::Boolean),
            Value::Null
        );
        assert_eq!(r.value(&["n"], &LakeType::Varchar), Value::Null);
        assert_eq!(r.value(&["z"], &LakeType::Varchar), Value::Null);
        assert_eq!(r.value(&["missing"], &LakeType::Varchar), Value::Null);
        assert_eq!(r.value(&["readonly"], &LakeType::Varchar), Value::Null);
    }

    #[test]
    fn first_case_insensitive_match_wins() {
        let r = rec(r#"{"EventName":"a","eventName":"b","e\u0076entname":"c"}"#);
        assert_eq!(
            r.value(&["eventname"], &LakeType::Varchar),
            Value::Text("a".into())
        );
        let r = rec(r#"{"e\u0076entName":"c","eventName":"b"}"#);
        assert_eq!(
            r.value(&["eventname"], &LakeType::Varchar),
            Value::Text("c".into())
        );
    }

    #[test]
    fn timestamps() {
        // 2022-01-03T19:21:13Z = 1641237673 s
        let t = |s: &str| iso_timestamp_ms(s);
        assert_eq!(t("2022-01-03T19:21:13Z"), Some(1_641_237_673_000));
        assert_eq!(t("2022-01-03 19:21:13"), Some(1_641_237_673_000));
        assert_eq!(t("2022-01-03T19:21:13.123456789Z"), Some(1_641_237_673_123));
        assert_eq!(t("2022-01-03T19:21:13.5Z"), Some(1_641_237_673_500));
        assert_eq!(t("2022-01-03T20:21:13+01:00"), Some(1_641_237_673_000));
        assert_eq!(t("2022-01-03T18:21:13-0100"), Some(1_641_237_673_000));
        assert_eq!(t("2022-01-03T19:21:13.1234567890Z"), None);
        assert_eq!(t("2022-01-03T19:21:13.Z"), None);
        assert_eq!(t("2022-02-30T00:00:00Z"), None);
        assert_eq!(t("2022-01-03T24:00:00Z"), None);
        assert_eq!(t("2022-01-03"), None);
        assert_eq!(t("2022-01-03T19:21:13ZZ"), None);
        assert_eq!(t("1969-12-31T23:59:59.999Z"), Some(-1));
        assert_eq!(t("2000-02-29T00:00:00Z"), Some(951_782_400_000));
        let r = rec(r#"{"eventTime":"2022-01-03T19:21:13Z","x":5,"y":"nope"}"#);
        assert_eq!(
            r.value(&["eventtime"], &LakeType::Timestamp),
            Value::Integer(1_641_237_673_000)
        );
        assert_eq!(r.value(&["x"], &LakeType::Timestamp), Value::Null);
        assert_eq!(r.value(&["y"], &LakeType::Timestamp), Value::Null);
    }

    #[test]
    fn civil_round_trip() {
        for d in [-800_000i64, -719_468, -1, 0, 1, 59, 10_957, 2_932_896] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m as i64, dd as i64), d);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_000), (2022, 1, 8));
    }

    #[test]
    fn maps() {
        let r = rec(
            r#"{"requestParameters":{"bucketName":"b","n":22,"f":1.50,"t":true,"x":false,"z":null,
               "o":{ "groupId" : "sg-1", "a":[1, "x\/y"] },"s":"q\"\n\u00e9"}}"#,
        );
        assert_eq!(
            text(r.value(&["requestparameters"], &LakeType::Map)),
            r#"{"bucketName":"b","n":"22","f":"1.50","t":"true","x":"false","z":null,"o":"{\"groupId\":\"sg-1\",\"a\":[1,\"x/y\"]}","s":"q\"\né"}"#
        );
        let r = rec(r#"{"requestParameters":"str","b":[]}"#);
        assert_eq!(r.value(&["requestparameters"], &LakeType::Map), Value::Null);
        assert_eq!(r.value(&["b"], &LakeType::Map), Value::Null);
        let r = rec(r#"{"m":{}}"#);
        assert_eq!(text(r.value(&["m"], &LakeType::Map)), "{}");
    }

    #[test]
    fn rows_and_arrays() {
        let cols = columns();
        let ui = &cols.iter().find(|c| c.name == "useridentity").unwrap().ty;
        let res = &cols.iter().find(|c| c.name == "resources").unwrap().ty;
        let r = rec(
            r#"{"userIdentity":{"type":"AssumedRole","principalId":"P:x","ARN":"arn:a","accountId":"1",
              "sessionContext":{"attributes":{"creationDate":"2022-01-03T19:21:13Z","mfaAuthenticated":"false"},
              "webIdFederationData":{"attributes":{"k":1}}},"extra":1},
              "resources":[{"ARN":"arn:r","accountId":"1","type":"AWS::S3::Bucket"},"bad",null]}"#,
        );
        assert_eq!(
            text(r.value(&["useridentity"], ui)),
            concat!(
                r#"{"type":"AssumedRole","principalid":"P:x","arn":"arn:a","accountid":"1","accesskeyid":null,"username":null,"#,
                r#""sessioncontext":{"attributes":{"creationdate":1641237673000,"mfaauthenticated":"false"},"#,
                r#""sessionissuer":null,"webidfederationdata":{"federatedprovider":null,"attributes":{"k":"1"}},"#,
                r#""sourceidentity":null,"ec2roledelivery":null,"ec2issuedinvpc":null},"onbehalfof":null,"inscopeof":null,"#,
                r#""invokedby":null,"identityprovider":null}"#
            )
        );
        assert_eq!(
            text(r.value(&["resources"], res)),
            r#"[{"accountid":"1","type":"AWS::S3::Bucket","arn":"arn:r","arnprefix":null},null,null]"#
        );
        assert_eq!(
            r.value(
                &[
                    "useridentity",
                    "SESSIONCONTEXT",
                    "attributes",
                    "creationdate"
                ],
                &LakeType::Timestamp
            ),
            Value::Integer(1_641_237_673_000)
        );
        assert_eq!(
            r.value(&["useridentity", "principalid"], &LakeType::Varchar),
            Value::Text("P:x".into())
        );
        assert_eq!(
            r.value(&["useridentity", "nothere"], &LakeType::Varchar),
            Value::Null
        );
        assert_eq!(
            r.value(&["resources", "arn"], &LakeType::Varchar),
            Value::Null
        );
        let arr = LakeType::Array(Box::new(LakeType::Varchar));
        let r = rec(r#"{"a":["x",1,null,"y\u0041"],"b":{}}"#);
        assert_eq!(text(r.value(&["a"], &arr)), r#"["x",null,null,"yA"]"#);
        assert_eq!(r.value(&["b"], &arr), Value::Null);
    }

    #[test]
    fn json_helpers() {
        assert_eq!(
            json::compact(r#" { "a" : [ 1 , 2.0e1 ] , "b" : "\u0041 \/" } "#),
            r#"{"a":[1,2.0e1],"b":"A /"}"#
        );
        let mut s = String::new();
        json::write_str(&mut s, "a\"b\\c\n\u{1}\u{7f}é");
        assert_eq!(s, "\"a\\\"b\\\\c\\n\\u0001\u{7f}é\"");
        assert_eq!(json::decode_str(r#""\ud83d\ude00\ud800x""#), "😀\u{FFFD}x");
        let m: Vec<_> = json::members(r#"{"a":1,"b":{"c":[1,2]},"d":"}"}"#).collect();
        assert_eq!(
            m,
            vec![
                (r#""a""#, "1"),
                (r#""b""#, r#"{"c":[1,2]}"#),
                (r#""d""#, r#""}""#)
            ]
        );
        let e: Vec<_> = json::elements(r#"[1, "a,b" ,[2,3],{"x":[]}]"#).collect();
        assert_eq!(e, vec!["1", r#""a,b""#, "[2,3]", r#"{"x":[]}"#]);
        assert_eq!(json::elements("[]").count(), 0);
        assert_eq!(json::members("{}").count(), 0);
        assert_eq!(json::members("[1]").count(), 0);
    }

    /// `cargo test -p lake-sql --release -- --ignored record_speed --nocapture`
    #[test]
    #[ignore]
    fn record_speed() {
        let raw = br#"{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:alice","arn":"arn:aws:sts::123456789012:assumed-role/Admin/alice","accountId":"123456789012","accessKeyId":"ASIAEXAMPLE","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLE","arn":"arn:aws:iam::123456789012:role/Admin","accountId":"123456789012","userName":"Admin"},"webIdFederationData":{},"attributes":{"creationDate":"2023-01-22T16:00:00Z","mfaAuthenticated":"false"}}},"eventTime":"2023-01-22T16:53:53Z","eventSource":"s3.amazonaws.com","eventName":"CreateBucket","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.12","userAgent":"[aws-cli/2.9.0 Python/3.9.11 Linux/5.15.0 exe/x86_64.ubuntu.22 prompt/off command/s3api.create-bucket]","requestParameters":{"bucketName":"example-bucket","Host":"example-bucket.s3.amazonaws.com","x-amz-acl":"private"},"responseElements":null,"additionalEventData":{"SignatureVersion":"SigV4","CipherSuite":"ECDHE-RSA-AES128-GCM-SHA256","bytesTransferredIn":0,"AuthenticationMethod":"AuthHeader","x-amz-id-2":"EXAMPLEid2EXAMPLEid2EXAMPLEid2EXAMPLEid2EXAMPLEid2=","bytesTransferredOut":0},"requestID":"EXAMPLE0123456789","eventID":"5b5b0d3c-0d3c-4d3c-8d3c-0d3c0d3c0d3c","readOnly":false,"resources":[{"accountId":"123456789012","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::example-bucket"}],"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.2","cipherSuite":"ECDHE-RSA-AES128-GCM-SHA256","clientProvidedHostHeader":"example-bucket.s3.amazonaws.com"}}"#;
        println!("record of {} bytes", raw.len());
        let n = 1_000_000;
        let start = std::time::Instant::now();
        let mut hits = 0usize;
        for _ in 0..n {
            let r = Record::parse(std::hint::black_box(raw)).unwrap();
            if let Value::Text(_) = r.value(&["useridentity", "arn"], &LakeType::Varchar) {
                hits += 1;
            }
            if let Value::Text(_) = r.value(&["awsregion"], &LakeType::Varchar) {
                hits += 1;
            }
        }
        let el = start.elapsed();
        assert_eq!(hits, 2 * n);
        let t = std::time::Instant::now();
        for _ in 0..n {
            std::hint::black_box(std::str::from_utf8(std::hint::black_box(raw)).is_ok());
        }
        println!("utf8 {:?}/rec", t.elapsed() / n as u32);
        let t = std::time::Instant::now();
        for _ in 0..n {
            std::hint::black_box(json::is_valid(
                std::str::from_utf8(std::hint::black_box(raw)).unwrap(),
            ));
        }
        println!("validate {:?}/rec", t.elapsed() / n as u32);
        let t = std::time::Instant::now();
        for _ in 0..n {
            std::hint::black_box(Record::parse(std::hint::black_box(raw)));
        }
        println!("parse {:?}/rec", t.elapsed() / n as u32);
        println!("{:.0} records/s", n as f64 / el.as_secs_f64());
    }
}
