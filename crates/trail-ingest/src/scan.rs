//! The one-pass reader of a log file: validates the JSON, finds each record's span and reads
//! the indexed fields of its top level, all in one walk over the text.
//!
//! It is the fast path of [`crate::parse`], not a second definition of what a log file is: it
//! answers only for files it can read with certainty — strict JSON (RFC 8259), a `Records`
//! array, indexed fields that are plain strings without escapes, no duplicate indexed field —
//! and returns `None` for anything else, which the reference path (serde_json) then decides.
//! So whatever it accepts, serde_json accepts and reads the same way; the property tests in
//! `tests/ingest.rs` hold it to that.

use crate::parse::{Element, Lenient, Record, Shape};
use std::borrow::Cow;

/// Deeper nesting than this is left to the reference path (whose own limit is 128).
const MAX_DEPTH: u32 = 100;

/// Hands the elements of the file's `Records` array to `each`, in order; `None` when the file
/// is not one this path reads with certainty (`each` may have seen some elements by then).
pub(crate) fn records<'a>(text: &'a str, mut each: impl FnMut(Element<'a>)) -> Option<()> {
    let mut s = Scan {
        t: text,
        b: text.as_bytes(),
        i: 0,
    };
    s.ws();
    s.eat(b'{')?;
    let mut found = false;
    s.ws();
    if s.peek()? == b'}' {
        return None; // no Records: the reference path words the error
    }
    loop {
        s.ws();
        let (k0, k1, escaped) = s.string()?;
        if escaped {
            return None;
        }
        s.ws();
        s.eat(b':')?;
        s.ws();
        if &s.b[k0..k1] == b"Records" {
            if found {
                return None;
            }
            found = true;
            s.records(&mut each)?;
        } else {
            s.skip_value(2)?;
        }
        s.ws();
        match s.next()? {
            b',' => continue,
            b'}' => break,
            _ => return None,
        }
    }
    s.ws();
    if s.i != s.b.len() || !found {
        return None;
    }
    Some(())
}

struct Scan<'a> {
    t: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Scan<'a> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline]
    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    #[inline]
    fn eat(&mut self, c: u8) -> Option<()> {
        (self.next()? == c).then_some(())
    }

    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    /// The `Records` array, the cursor on its `[`.
    fn records(&mut self, each: &mut impl FnMut(Element<'a>)) -> Option<()> {
        self.eat(b'[')?;
        self.ws();
        if self.peek()? == b']' {
            self.i += 1;
            return Some(());
        }
        loop {
            self.ws();
            let start = self.i;
            let shape = if self.peek()? == b'{' {
                Shape::Record(self.record()?)
            } else {
                self.skip_value(3)?;
                Shape::NotObject
            };
            each(Element {
                start,
                end: self.i,
                shape,
            });
            self.ws();
            match self.next()? {
                b',' => continue,
                b']' => return Some(()),
                _ => return None,
            }
        }
    }

    /// One record object, the cursor on its `{`: its indexed fields, every other value checked
    /// and skipped.
    fn record(&mut self) -> Option<Record<'a>> {
        self.i += 1;
        let mut r = Record::default();
        self.ws();
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(r);
        }
        loop {
            self.ws();
            let (k0, k1, escaped) = self.string()?;
            if escaped {
                return None;
            }
            self.ws();
            self.eat(b':')?;
            self.ws();
            let slot = match &self.b[k0..k1] {
                b"eventVersion" => Some(&mut r.eventVersion),
                b"eventTime" => Some(&mut r.eventTime),
                b"eventSource" => Some(&mut r.eventSource),
                b"eventName" => Some(&mut r.eventName),
                b"awsRegion" => Some(&mut r.awsRegion),
                b"recipientAccountId" => Some(&mut r.recipientAccountId),
                b"eventID" => Some(&mut r.eventID),
                _ => None,
            };
            match slot {
                None => self.skip_value(4)?,
                Some(slot) => {
                    // Duplicates and values that are not plain strings: the reference path.
                    if !matches!(slot, Lenient::Absent) || self.peek()? != b'"' {
                        return None;
                    }
                    let (v0, v1, escaped) = self.string()?;
                    if escaped {
                        return None;
                    }
                    *slot = Lenient::Str(Cow::Borrowed(&self.t[v0..v1]));
                }
            }
            self.ws();
            match self.next()? {
                b',' => continue,
                b'}' => return Some(r),
                _ => return None,
            }
        }
    }

    /// A string, the cursor on its opening quote: the span of its contents and whether it has
    /// escapes. Control characters are refused (as JSON does).
    #[inline]
    fn string(&mut self) -> Option<(usize, usize, bool)> {
        self.eat(b'"')?;
        let start = self.i;
        let mut escaped = false;
        loop {
            self.i += special_offset(&self.b[self.i..])?;
            match self.b[self.i] {
                b'"' => {
                    self.i += 1;
                    return Some((start, self.i - 1, escaped));
                }
                b'\\' => {
                    escaped = true;
                    self.i += 1;
                    match self.next()? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                        b'u' => {
                            let hex = self.b.get(self.i..self.i + 4)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return None;
                            }
                            self.i += 4;
                        }
                        _ => return None,
                    }
                }
                _ => return None, // a control character
            }
        }
    }

    /// Any JSON value, checked and skipped; `depth` is the nesting it sits at.
    fn skip_value(&mut self, depth: u32) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b'{' => {
                self.i += 1;
                self.ws();
                if self.peek()? == b'}' {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.ws();
                    self.string()?;
                    self.ws();
                    self.eat(b':')?;
                    self.ws();
                    self.skip_value(depth + 1)?;
                    self.ws();
                    match self.next()? {
                        b',' => continue,
                        b'}' => return Some(()),
                        _ => return None,
                    }
                }
            }
            b'[' => {
                self.i += 1;
                self.ws();
                if self.peek()? == b']' {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.ws();
                    self.skip_value(depth + 1)?;
                    self.ws();
                    match self.next()? {
                        b',' => continue,
                        b']' => return Some(()),
                        _ => return None,
                    }
                }
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number(),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if self.b.get(self.i..self.i + word.len())? != word {
            return None;
        }
        self.i += word.len();
        Some(())
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Option<()> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.next()? {
            b'0' => {}
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            self.digit()?;
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            self.digit()?;
            self.digits();
        }
        // What follows a number must end it ("01", "1x" are not numbers).
        match self.peek() {
            Some(b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') => None,
            _ => Some(()),
        }
    }

    fn digit(&mut self) -> Option<()> {
        self.next()?.is_ascii_digit().then_some(())
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.b.get(self.i) {
            self.i += 1;
        }
    }
}

/// The offset of the first `"`, `\` or control character (below 0x20) in `b`, eight bytes
/// at a time; `None` when there is none.
#[inline]
fn special_offset(b: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut at = 0;
    while let Some(chunk) = b.get(at..at + 8) {
        let w = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        let quote = w ^ (ONES * b'"' as u64);
        let slash = w ^ (ONES * b'\\' as u64);
        // The lowest flagged byte of each test is exact (borrows only flag bytes above it).
        let hits = (quote.wrapping_sub(ONES) & !quote)
            | (slash.wrapping_sub(ONES) & !slash)
            | (w.wrapping_sub(ONES * 0x20) & !w);
        let hits = hits & HIGH;
        if hits != 0 {
            return Some(at + (hits.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    b[at..]
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|p| at + p)
}

#[cfg(test)]
mod tests {
    //! The one-pass reader against serde_json: whatever it answers, serde_json answers the same.
    use super::records;
    use crate::parse::{reference_elements, IngestOptions};
    use proptest::prelude::*;

    /// `records(text)`, checked against the reference reader; whether it answered.
    fn agrees(text: &str) -> bool {
        let opts = IngestOptions::default();
        let mut fast = Vec::new();
        if records(text, |el| fast.push(el)).is_none() {
            return false;
        }
        let mut slow = Vec::new();
        reference_elements(text, &opts, |el| slow.push(el))
            .unwrap_or_else(|e| panic!("fast path took what serde_json refuses: {e}\n{text}"));
        assert_eq!(fast, slow, "{text}");
        true
    }

    #[test]
    fn ordinary_files_take_the_fast_path() {
        for text in [
            r#"{"Records":[]}"#,
            " \n{ \"Records\" : [ ] } \r\n\t",
            r#"{"Records":[{"eventVersion":"1.08","eventTime":"2024-01-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","eventID":"e","recipientAccountId":"1","x":{"a":[1,-2.5e+3,true,false,null,"\u00e9\n"]}},3,"s",[],{}]}"#,
            r#"{"other":{"Records":1},"Records":[{"eventName":""}],"tail":[[[]]]}"#,
        ] {
            assert!(agrees(text), "{text}");
        }
    }

    #[test]
    fn unusual_files_are_left_to_serde_json() {
        for text in [
            r#"{"Records":[],"Records":[]}"#,
            r#"{"Rec\u006frds":[]}"#,
            r#"{"Records":[{"eventName":"a","eventName":"b"}]}"#,
            r#"{"Records":[{"eventName":1}]}"#,
            r#"{"Records":[{"eventName":"G\u0065t"}]}"#,
            r#"{"Records":[{"eventVersion":"\u0031"}]}"#,
            r#"{"Records":[{"event\u004eame":"x"}]}"#,
            r#"{"Records":[01]}"#,
            r#"{"Records":[1.]}"#,
            r#"{"Records":["a	b"]}"#,
            r#"{"Records":["\x"]}"#,
            r#"{"Records":[]} x"#,
            r#"{"Records":[],}"#,
            r#"{"Records":[1,]}"#,
            "\u{c}{\"Records\":[]}",
            r#"{}"#,
            r#"{"x":1}"#,
        ] {
            assert!(!agrees(text), "{text}");
        }
        let deep = format!("{{\"Records\":[{}{}]}}", "[".repeat(200), "]".repeat(200));
        assert!(!agrees(&deep));
    }

    /// A JSON value from a small alphabet with the cases that matter: escapes, numbers at the
    /// edges of the grammar, nesting, the indexed keys.
    fn value() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("null".to_string()),
            Just("true".to_string()),
            Just("-0.5e-7".to_string()),
            Just("1E400".to_string()),
            Just("18446744073709551616".to_string()),
            Just(r#""\ud800""#.to_string()),
            Just(r#""\"\\\/\b\f\n\r\t""#.to_string()),
            "[ a-zA-Z0-9:.é-]{0,10}".prop_map(|s| format!("\"{s}\"")),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            let key = prop_oneof![
                Just("eventVersion"),
                Just("eventTime"),
                Just("eventSource"),
                Just("eventName"),
                Just("awsRegion"),
                Just("eventID"),
                Just("recipientAccountId"),
                Just("Records"),
                Just("k"),
            ];
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5)
                    .prop_map(|v| format!("[{}]", v.join(","))),
                prop::collection::vec((key, inner), 0..6).prop_map(|kv| {
                    let body: Vec<String> = kv
                        .into_iter()
                        .map(|(k, v)| format!("\"{k}\":{v}"))
                        .collect();
                    format!("{{{}}}", body.join(","))
                }),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn fast_path_agrees_with_serde_json(
            records in prop::collection::vec(value(), 0..8),
            edits in prop::collection::vec(
                (any::<prop::sample::Index>(), prop::sample::select(
                    &[b'{', b'}', b'[', b']', b'"', b',', b':', b'\\', b'0', b'1', b'.', b'e',
                      b'-', b'+', b' ', b'\t', 0x0c, 0x01, b'n', b'u', b'x'][..])),
                0..3),
        ) {
            let doc = format!("{{\"Records\":[{}]}}", records.join(","));
            agrees(&doc);
            // A few bytes replaced, inserted or removed: still never a different answer.
            let mut bytes = doc.into_bytes();
            for (i, (at, b)) in edits.iter().enumerate() {
                let at = at.index(bytes.len());
                match i % 3 {
                    0 => bytes[at] = *b,
                    1 => bytes.insert(at, *b),
                    _ => { bytes.remove(at); }
                }
            }
            if let Ok(text) = String::from_utf8(bytes) {
                agrees(&text);
            }
        }
    }
}
