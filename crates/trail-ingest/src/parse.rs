//! One log file: inflate, split into records, validate, index.

use crate::{parse_event_time, Budget, ErrorType, FailureEntry, Reservation};
use rustc_hash::FxHashMap;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// The default cap on one object's uncompressed size: CloudTrail writes files of at most
/// 50 MB before compression, so no real trail file comes near it.
pub const DEFAULT_MAX_OBJECT_BYTES: u64 = 128 << 20;

/// Limits and filters applied while reading and parsing.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Records whose `eventTime` is earlier than this (epoch ms) are dropped, not failed.
    pub retention_cutoff_ms: Option<i64>,
    /// Records larger than this are not imported.
    pub max_record_bytes: usize,
    /// An object larger than this, or inflating to more, is a failure entry; it is never read
    /// or inflated further than this.
    pub max_object_bytes: u64,
    /// The memory every file in flight shares (read, inflated, parsed, waiting to be written).
    pub budget: Arc<Budget>,
    /// Called with each object's key before it is parsed.
    pub on_read: Option<ReadHook>,
}

/// A function called with each object's key before it is parsed.
#[derive(Clone)]
pub struct ReadHook(pub Arc<dyn Fn(&str) + Send + Sync>);

impl fmt::Debug for ReadHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReadHook")
    }
}

impl IngestOptions {
    /// The defaults, keeping only records whose `eventTime` is within the `days` days before
    /// `now_ms` (every record when `None`).
    pub fn with_retention_days(days: Option<i64>, now_ms: i64) -> Self {
        IngestOptions {
            retention_cutoff_ms: days.map(|d| now_ms - d * 86_400_000),
            ..Default::default()
        }
    }

    /// The defaults with an object cap of `max_object_bytes`, and a budget that holds two such
    /// objects and change.
    pub fn with_max_object_bytes(max_object_bytes: u64) -> Self {
        IngestOptions {
            max_object_bytes,
            budget: Budget::new(budget_for(max_object_bytes)),
            ..Default::default()
        }
    }
}

/// The memory budget that lets the largest object be read and inflated whole (its compressed
/// and inflated bytes) with room for smaller files beside it.
pub fn budget_for(max_object_bytes: u64) -> u64 {
    max_object_bytes.saturating_mul(2).saturating_add(32 << 20)
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            retention_cutoff_ms: None,
            max_record_bytes: crate::MAX_RECORD_BYTES,
            max_object_bytes: DEFAULT_MAX_OBJECT_BYTES,
            budget: Budget::new(budget_for(DEFAULT_MAX_OBJECT_BYTES)),
            on_read: None,
        }
    }
}

/// One valid event: where its raw record lies in the inflated text, and its indexed fields.
/// Source, name, Region and account repeat across a file's events, so they are indexes into
/// [`ParsedFile::strings`], which holds each distinct value once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Index of the record in the file's `Records` array.
    pub index: u32,
    pub offset: u32,
    pub len: u32,
    pub time_ms: i64,
    pub event_source: u32,
    pub event_name: u32,
    pub aws_region: Option<u32>,
    pub recipient_account_id: Option<u32>,
}

/// The result of parsing one object.
#[derive(Debug, Default)]
pub struct ParsedFile {
    /// The object's bytes exactly as read.
    pub original: Vec<u8>,
    /// The inflated text (empty when the file did not inflate or is not UTF-8, or once
    /// [`ParsedFile::release_text`] let go of it).
    pub text: String,
    /// The length of the inflated text, kept when the text is let go of.
    pub text_bytes: u64,
    pub events: Vec<Event>,
    /// The distinct source, name, Region and account values of the events.
    pub strings: Vec<String>,
    /// Records in the file (valid, invalid and expired).
    pub records: u64,
    pub invalid_records: u64,
    pub expired_records: u64,
    /// At most one per file.
    pub failure: Option<FailureEntry>,
    /// Time spent on each stage of this file.
    pub timings: StageTimes,
    /// The memory this file holds in the run's budget, given back when it is dropped.
    pub reservation: Option<Reservation>,
}

/// Time spent per stage, in nanoseconds summed over threads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StageTimes {
    /// Getting the object's bytes (local read or S3 fetch).
    pub read_ns: u64,
    pub inflate_ns: u64,
    /// Splitting, validating and indexing the records.
    pub parse_ns: u64,
}

impl ParsedFile {
    /// One of [`ParsedFile::strings`].
    pub fn string(&self, i: u32) -> &str {
        &self.strings[i as usize]
    }

    /// The bytes this file holds: its object, its text and its index.
    pub fn memory(&self) -> u64 {
        (self.original.capacity()
            + self.text.capacity()
            + self.events.capacity() * std::mem::size_of::<Event>()
            + self
                .strings
                .iter()
                .map(|s| s.capacity() + 24)
                .sum::<usize>()) as u64
    }

    /// Lets go of the inflated text once nothing but the store needs the file (no event
    /// points into it), and shrinks the file's memory reservation to what is left (mostly the
    /// object's bytes, an eighth of the text). A file waiting for the writer then holds
    /// little, so many can wait. [`ParsedFile::raw`] is empty afterwards.
    pub fn release_text(&mut self) {
        self.text = String::new();
        self.shrink_reservation();
    }

    /// Lets go of the object's bytes once they are kept elsewhere, and shrinks the file's
    /// memory reservation to what is left.
    pub fn release_original(&mut self) {
        self.original = Vec::new();
        self.shrink_reservation();
    }

    fn shrink_reservation(&mut self) {
        let left = self.memory();
        if let Some(r) = &mut self.reservation {
            r.shrink_to(left);
        }
    }

    /// The raw record of one of this file's events, byte for byte as in the file.
    pub fn raw(&self, e: &Event) -> &[u8] {
        &self.text.as_bytes()[e.offset as usize..(e.offset + e.len) as usize]
    }

    fn fail(mut self, location: &str, error_type: ErrorType, message: String) -> Self {
        self.failure = Some(FailureEntry {
            location: location.to_string(),
            error_type,
            error_message: message,
        });
        self
    }
}

/// A log file read by serde_json the way `#[derive(Deserialize)]` would read a struct with one
/// field `Records: Vec<&RawValue>` (same errors, same positions), except that each record is
/// handed to `each` as it is read instead of being collected.
struct LogFile<'f, F>(&'f mut F);

impl<'de, F: FnMut(&'de RawValue)> de::DeserializeSeed<'de> for LogFile<'_, F> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_struct("LogFile", &["Records"], self)
    }
}

impl<'de, F: FnMut(&'de RawValue)> Visitor<'de> for LogFile<'_, F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("struct LogFile")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = false;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key != "Records" {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            if seen {
                return Err(de::Error::duplicate_field("Records"));
            }
            seen = true;
            map.next_value_seed(Records(&mut *self.0))?;
        }
        if !seen {
            return Err(de::Error::missing_field("Records"));
        }
        Ok(())
    }
}

/// The `Records` array, each element handed on as it is read.
struct Records<'f, F>(&'f mut F);

impl<'de, F: FnMut(&'de RawValue)> de::DeserializeSeed<'de> for Records<'_, F> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, F: FnMut(&'de RawValue)> Visitor<'de> for Records<'_, F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(raw) = seq.next_element::<&'de RawValue>()? {
            (self.0)(raw);
        }
        Ok(())
    }
}

/// One element of a file's `Records` array: its exact span in the text and what it is.
#[derive(Debug, PartialEq)]
pub(crate) struct Element<'a> {
    pub start: usize,
    pub end: usize,
    pub shape: Shape<'a>,
}

#[derive(Debug, PartialEq)]
pub(crate) enum Shape<'a> {
    NotObject,
    /// An object serde_json would not read as a [`Record`] (an indexed field twice).
    Invalid,
    Record(Record<'a>),
}

/// The record fields the import reads. Every field accepts any JSON value; only strings count.
#[derive(Deserialize, Default, Debug, PartialEq)]
#[allow(non_snake_case)]
pub(crate) struct Record<'a> {
    #[serde(borrow, default)]
    pub eventVersion: Lenient<'a>,
    #[serde(borrow, default)]
    pub eventTime: Lenient<'a>,
    #[serde(borrow, default)]
    pub eventSource: Lenient<'a>,
    #[serde(borrow, default)]
    pub eventName: Lenient<'a>,
    #[serde(borrow, default)]
    pub awsRegion: Lenient<'a>,
    #[serde(borrow, default)]
    pub recipientAccountId: Lenient<'a>,
    /// Not stored (a query reads it from the record), but read as before, so that a record
    /// giving it twice is still refused like one that repeats any other of these fields.
    #[serde(borrow, default)]
    pub eventID: Lenient<'a>,
}

/// A JSON value read as a string when it is one, and skipped otherwise.
#[derive(Default, Debug, PartialEq)]
pub(crate) enum Lenient<'a> {
    #[default]
    Absent,
    NotString,
    Str(Cow<'a, str>),
}

impl<'a> Lenient<'a> {
    fn non_empty(&self) -> Option<&str> {
        match self {
            Lenient::Str(s) if !s.is_empty() => Some(s),
            _ => None,
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Lenient<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Lenient<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Lenient::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Lenient::Str(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Lenient::Str(Cow::Owned(v)))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Lenient::NotString)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Lenient::NotString)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Lenient::NotString)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Lenient::NotString)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Lenient::NotString)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Lenient::NotString)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Lenient::NotString)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// Parses one object read from `location` (an `s3://` URI used in failure entries), inflating
/// it up to the object cap.
pub fn parse_file(original: Vec<u8>, location: &str, opts: &IngestOptions) -> ParsedFile {
    // Within the object cap there is no "more room" to hand back for.
    parse_within(original, location, opts, opts.max_object_bytes).unwrap_or_else(|original| {
        ParsedFile {
            original,
            ..Default::default()
        }
    })
}

/// Parses one object whose text may take at most `text_limit` bytes. `Err` (the object's bytes
/// back) when the text would be larger and `text_limit` is below the object cap: the caller
/// may try again with more room.
pub(crate) fn parse_within(
    original: Vec<u8>,
    location: &str,
    opts: &IngestOptions,
    text_limit: u64,
) -> Result<ParsedFile, Vec<u8>> {
    let out = ParsedFile {
        original,
        ..Default::default()
    };
    if out.original.len() < 2 || out.original[..2] != [0x1f, 0x8b] {
        let what = if out.original.is_empty() {
            "an empty object"
        } else {
            "not gzip-compressed"
        };
        return Ok(out.fail(
            location,
            ErrorType::InvalidFileFormat,
            format!("The log file is {what}; CloudTrail imports only gzip-compressed log files."),
        ));
    }
    let started = std::time::Instant::now();
    let limit = text_limit.min(opts.max_object_bytes);
    let inflated = inflate(&out.original, limit);
    let mut out = out;
    out.timings.inflate_ns = started.elapsed().as_nanos() as u64;
    let bytes = match inflated {
        Ok(bytes) => bytes,
        Err(Inflate::OverLimit) if limit < opts.max_object_bytes => return Err(out.original),
        Err(Inflate::OverLimit) => {
            let msg = format!(
                "The log file inflates to more than {} bytes, the largest object this import takes.",
                opts.max_object_bytes
            );
            return Ok(out.fail(location, ErrorType::InvalidFileFormat, msg));
        }
        Err(Inflate::Corrupt(msg)) => {
            return Ok(out.fail(location, ErrorType::InvalidFileFormat, msg))
        }
    };
    let started = std::time::Instant::now();
    // Validated once here, so the parser need not check every string again.
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let msg = format!(
                "The log file is not UTF-8 text (invalid byte at offset {}).",
                e.utf8_error().valid_up_to()
            );
            return Ok(out.fail(location, ErrorType::InvalidFileFormat, msg));
        }
    };
    let result = index_records(&text, location, opts, &mut out);
    out.text_bytes = text.len() as u64;
    out.text = text;
    out.timings.parse_ns = started.elapsed().as_nanos() as u64;
    Ok(match result {
        Ok(()) => out,
        Err(msg) => {
            out.events.clear();
            out.strings.clear();
            out.fail(location, ErrorType::InvalidFileFormat, msg)
        }
    })
}

enum Inflate {
    /// The text would be larger than the limit.
    OverLimit,
    Corrupt(String),
}

/// Inflates every gzip member into at most `limit` bytes, growing the buffer in steps rather
/// than doubling, so it never holds much more than the text. Zero bytes after the last member
/// are padding, as `gzip -d` takes them; anything else after it is an error. zlib-rs checks
/// each member's header and CRC and says where the member ends.
fn inflate(gz: &[u8], limit: u64) -> Result<Vec<u8>, Inflate> {
    use flate2::{Decompress, FlushDecompress, Status};
    // The last member's ISIZE (size mod 2^32) is a good first guess for the buffer.
    let hint = gz
        .len()
        .checked_sub(4)
        .map(|i| u32::from_le_bytes(gz[i..].try_into().expect("4 bytes")) as u64)
        .unwrap_or(0)
        .max(gz.len() as u64)
        .min(64 << 20)
        .min(limit) as usize;
    let corrupt = |why: &dyn fmt::Display| {
        Inflate::Corrupt(format!("The log file is not a valid gzip stream: {why}."))
    };
    let mut text: Vec<u8> = Vec::with_capacity(hint + 1);
    let mut rest: &[u8] = gz;
    loop {
        let mut member = Decompress::new_gzip(15);
        loop {
            if text.len() == text.capacity() {
                if text.len() as u64 > limit {
                    return Err(Inflate::OverLimit);
                }
                let step = (text.len() / 4).max(1 << 20);
                text.reserve_exact(step.min(limit as usize + 1 - text.len()).max(1));
            }
            let (read, wrote) = (member.total_in(), text.len());
            let input = &rest[read as usize..];
            let status = member
                .decompress_vec(input, &mut text, FlushDecompress::None)
                .map_err(|e| corrupt(&e))?;
            if text.len() as u64 > limit {
                return Err(Inflate::OverLimit);
            }
            match status {
                Status::StreamEnd => break,
                _ if member.total_in() == read && text.len() == wrote => {
                    // No progress with room to write: the input ended inside the member.
                    return Err(corrupt(&"it ends inside a member"));
                }
                _ => {}
            }
        }
        rest = &rest[member.total_in() as usize..];
        if rest.iter().all(|&b| b == 0) {
            return Ok(text);
        }
        if !rest.starts_with(&[0x1f, 0x8b]) {
            return Err(corrupt(&"data after the last member"));
        }
    }
}

fn index_records(
    text: &str,
    location: &str,
    opts: &IngestOptions,
    out: &mut ParsedFile,
) -> Result<(), String> {
    let first = text.bytes().find(|b| !b.is_ascii_whitespace());
    if first != Some(b'{') {
        return Err("The log file is not a JSON object with a Records array.".into());
    }
    // The one-pass reader answers for ordinary files; serde_json decides the rest. Elements
    // are indexed as they are read, never collected: a file of millions of tiny elements
    // holds no more than its events.
    let mut index = Index::new(text, opts);
    if crate::scan::records(text, |el| index.add(el)).is_none() {
        index = Index::new(text, opts);
        reference_elements(text, opts, |el| index.add(el))?;
    }
    out.records = index.records;
    out.expired_records = index.expired;
    out.events = index.events;
    out.strings = index.strings;
    out.invalid_records = index.bad_count;
    if index.bad_count > 0 {
        out.failure = Some(FailureEntry {
            location: location.to_string(),
            error_type: ErrorType::InvalidEventRecord,
            error_message: describe_bad(&index.bad, index.bad_count, index.records),
        });
    }
    Ok(())
}

/// The events of a file's records, indexed one record at a time.
struct Index<'t, 'o> {
    text: &'t str,
    opts: &'o IngestOptions,
    records: u64,
    expired: u64,
    events: Vec<Event>,
    /// The distinct source, name, Region and account values, and where each is in `strings`.
    distinct: FxHashMap<String, u32>,
    strings: Vec<String>,
    /// The first invalid records (what the failure entry shows), and how many there are.
    bad: Vec<(u64, &'static str)>,
    bad_count: u64,
}

impl<'t, 'o> Index<'t, 'o> {
    fn new(text: &'t str, opts: &'o IngestOptions) -> Self {
        Index {
            text,
            opts,
            records: 0,
            expired: 0,
            events: Vec::new(),
            distinct: FxHashMap::default(),
            strings: Vec::new(),
            bad: Vec::new(),
            bad_count: 0,
        }
    }

    fn refuse(&mut self, i: u64, why: &'static str) {
        if self.bad.len() < SHOWN {
            self.bad.push((i, why));
        }
        self.bad_count += 1;
    }

    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.distinct.get(s) {
            return i;
        }
        let i = self.strings.len() as u32;
        self.strings.push(s.to_string());
        self.distinct.insert(s.to_string(), i);
        i
    }

    fn span(&self, s: &str) -> u32 {
        (s.as_ptr() as usize - self.text.as_ptr() as usize) as u32
    }

    fn add(&mut self, el: Element<'_>) {
        let i = self.records;
        self.records += 1;
        let json = &self.text[el.start..el.end];
        if json.len() > self.opts.max_record_bytes {
            return self.refuse(i, "larger than 256 KB");
        }
        let rec = match el.shape {
            Shape::NotObject => return self.refuse(i, "not a JSON object"),
            Shape::Invalid => return self.refuse(i, "has a duplicate field"),
            Shape::Record(r) => r,
        };
        let (source, name) = match (
            rec.eventVersion.non_empty(),
            rec.eventSource.non_empty(),
            rec.eventName.non_empty(),
        ) {
            (None, _, _) => return self.refuse(i, "eventVersion is missing or empty"),
            (_, None, _) => return self.refuse(i, "eventSource is missing or empty"),
            (_, _, None) => return self.refuse(i, "eventName is missing or empty"),
            (Some(_), Some(source), Some(name)) => (source, name),
        };
        let Some(time_ms) = rec.eventTime.non_empty().and_then(parse_event_time) else {
            return self.refuse(i, "eventTime is missing or not a date-time");
        };
        if self.opts.retention_cutoff_ms.is_some_and(|c| time_ms < c) {
            self.expired += 1;
            return;
        }
        let event = Event {
            index: i as u32,
            offset: self.span(json),
            len: json.len() as u32,
            time_ms,
            event_source: self.intern(source),
            event_name: self.intern(name),
            aws_region: rec.awsRegion.non_empty().map(|s| self.intern(s)),
            recipient_account_id: rec.recipientAccountId.non_empty().map(|s| self.intern(s)),
        };
        self.events.push(event);
    }
}

/// The elements of the `Records` array as serde_json reads them, handed to `each` in order:
/// the reference for [`crate::scan::records`], and the reader of every file that one does
/// not answer for.
pub(crate) fn reference_elements<'a>(
    text: &'a str,
    opts: &IngestOptions,
    mut each: impl FnMut(Element<'a>),
) -> Result<(), String> {
    let base = text.as_ptr() as usize;
    let mut element = |raw: &'a RawValue| {
        let json = raw.get();
        let start = json.as_ptr() as usize - base;
        // Records over the size limit are refused before they are read.
        let shape = if json.len() > opts.max_record_bytes || !json.starts_with('{') {
            Shape::NotObject
        } else {
            match serde_json::from_str(json) {
                Ok(r) => Shape::Record(r),
                Err(_) => Shape::Invalid,
            }
        };
        each(Element {
            start,
            end: start + json.len(),
            shape,
        });
    };
    let mut de = serde_json::Deserializer::from_str(text);
    de::DeserializeSeed::deserialize(LogFile(&mut element), &mut de)
        .and_then(|()| de.end())
        .map_err(|e| {
            if e.is_data() {
                format!("The log file is not a JSON object with a Records array: {e}.")
            } else {
                format!("The log file is not valid JSON: {e}.")
            }
        })
}

/// How many invalid records a failure entry names.
const SHOWN: usize = 10;

/// "2 of 10 records were not imported: record 3 eventTime is missing ...; record 7 ...".
/// `bad` holds the first of the `count` invalid records.
fn describe_bad(bad: &[(u64, &str)], count: u64, total: u64) -> String {
    let mut msg = format!(
        "{count} of {total} records are not valid CloudTrail events and were not imported (indexes "
    );
    let idx: Vec<String> = bad.iter().map(|(i, _)| i.to_string()).collect();
    msg.push_str(&idx.join(", "));
    if count > bad.len() as u64 {
        msg.push_str(&format!(" and {} more", count - bad.len() as u64));
    }
    msg.push_str("): ");
    let why: Vec<String> = bad
        .iter()
        .map(|(i, why)| format!("record {i} {why}"))
        .collect();
    msg.push_str(&why.join("; "));
    msg.push('.');
    msg
}

#[cfg(test)]
mod tests {
    use super::{reference_elements, IngestOptions};
    use serde::Deserialize;
    use serde_json::value::RawValue;

    /// What the streaming reader replaced: it must refuse the same files with the same words.
    #[derive(Deserialize)]
    struct Collected<'a> {
        #[serde(rename = "Records", borrow)]
        records: Vec<&'a RawValue>,
    }

    #[test]
    fn streaming_reader_words_errors_as_the_derived_one() {
        for text in [
            r#"{"Records":[1,{"a":2}]}"#,
            r#"{"x":1,"Records":[],"y":[1]}"#,
            r#"{"Records":[],"Records":[]}"#,
            r#"{"Rec\u006frds":[3]}"#,
            r#"{"records":[]}"#,
            r#"{}"#,
            r#"{"Records":1}"#,
            r#"{"Records":{"a":1}}"#,
            r#"{"Records":[1,]}"#,
            r#"{"Records":[]} x"#,
            r#"{"Records":["\q"]}"#,
            r#"{"Records":[1"#,
            r#"{"Records":[],"x":"\q"}"#,
        ] {
            let want = serde_json::from_str::<Collected>(text)
                .map(|c| {
                    c.records
                        .iter()
                        .map(|r| r.get().to_string())
                        .collect::<Vec<_>>()
                })
                .map_err(|e| e.to_string());
            let mut got = Vec::new();
            let result = reference_elements(text, &IngestOptions::default(), |el| {
                got.push(text[el.start..el.end].to_string())
            });
            match (want, result) {
                (Ok(want), Ok(())) => assert_eq!(got, want, "{text}"),
                (Err(want), Err(msg)) => assert!(msg.contains(&want), "{text}: {msg} vs {want}"),
                (want, result) => panic!("{text}: {want:?} vs {result:?}"),
            }
        }
    }
}
