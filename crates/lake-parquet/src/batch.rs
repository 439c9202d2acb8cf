//! Records → Arrow record batches of the Lake table.
//!
//! Every value is read from the record as the query engine reads it ([`lake_sql::record`]):
//! a missing path, a JSON `null` or a value of the wrong JSON type is NULL; scalars go through
//! [`lake_sql::record::convert`] itself; a map's values are its strings decoded, numbers and
//! booleans as their text and nested objects and arrays as compact JSON text, as
//! `element_at(requestparameters, 'k')` returns them. Columns are built one at a time over the
//! whole batch (a struct from its fields' columns, a list from its elements'), never row by row.

use crate::schema::{arrow_schema, map_entries, struct_fields};
use arrow_array::builder::StringBuilder;
use arrow_array::{
    ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, ListArray, MapArray,
    RecordBatch, StringArray, StructArray, TimestampMillisecondArray,
};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_schema::{ArrowError, Field};
use lake_sql::record::{convert, json, Record};
use lake_sql::types::{LakeType, Source};
use rusqlite::types::Value;
use std::sync::Arc;

/// Matches raw JSON keys to a list of names, ignoring ASCII case as the query engine does
/// (the first member of a name wins).
struct Names {
    lower: Vec<String>,
    /// Indexes into `lower` by name length.
    by_len: Vec<Vec<usize>>,
}

impl Names {
    fn new<'a>(names: impl Iterator<Item = &'a str>) -> Names {
        let lower: Vec<String> = names.map(|n| n.to_ascii_lowercase()).collect();
        let mut by_len = vec![Vec::new(); lower.iter().map(String::len).max().unwrap_or(0) + 1];
        for (i, n) in lower.iter().enumerate() {
            by_len[n.len()].push(i);
        }
        Names { lower, by_len }
    }

    /// Which name a raw key string is, if any.
    fn find(&self, key: &str) -> Option<usize> {
        let inner = &key[1..key.len() - 1];
        if inner.contains('\\') {
            let decoded = json::decode_str(key);
            return self
                .lower
                .iter()
                .position(|n| n.eq_ignore_ascii_case(&decoded));
        }
        self.by_len
            .get(inner.len())?
            .iter()
            .copied()
            .find(|&i| self.lower[i].eq_ignore_ascii_case(inner))
    }

    /// The raw value of each name among an object's members.
    fn slots<'a>(
        &self,
        members: impl Iterator<Item = (&'a str, &'a str)>,
        out: &mut [Option<&'a str>],
    ) {
        out.fill(None);
        for (key, value) in members {
            if let Some(i) = self.find(key) {
                if out[i].is_none() {
                    out[i] = Some(value);
                }
            }
        }
    }
}

/// One batch of records (each one JSON object, exactly as stored) as a record batch of the
/// Lake table. A record that is not one JSON object gets NULL in every column but `eventjson`
/// and `eventjsonchecksum` (the import never stores such a record).
pub fn to_batch(records: &[&str]) -> Result<RecordBatch, ArrowError> {
    let columns_def = lake_sql::types::columns();
    let names = Names::new(columns_def.iter().map(|c| c.name));
    // The raw value of every column of every record, column by column.
    let mut values: Vec<Vec<Option<&str>>> =
        vec![Vec::with_capacity(records.len()); names.lower.len()];
    let parsed: Vec<Option<Record>> = records
        .iter()
        .map(|r| Record::parse(r.as_bytes()))
        .collect();
    let mut slots = vec![None; names.lower.len()];
    for p in &parsed {
        match p {
            Some(record) => names.slots(record.members(), &mut slots),
            None => slots.fill(None),
        }
        for (column, v) in values.iter_mut().zip(&slots) {
            column.push(*v);
        }
    }
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (column, values) in columns_def.iter().zip(&values) {
        let array: ArrayRef = match column.source {
            Source::Field => build(&column.ty, values)?,
            Source::Text => Arc::new(StringArray::from_iter_values(records.iter())),
            Source::Checksum => Arc::new(StringArray::from_iter_values(
                records
                    .iter()
                    .map(|r| lake_sql::record::checksum_hex(r.as_bytes())),
            )),
        };
        columns.push(array);
    }
    RecordBatch::try_new(arrow_schema(), columns)
}

/// Whether a raw value is a JSON object.
fn is_object(raw: &str) -> bool {
    json::kind(raw) == Some(json::Kind::Object)
}

/// The column of type `ty` for these raw JSON values (`None`: the path is missing).
fn build(ty: &LakeType, values: &[Option<&str>]) -> Result<ArrayRef, ArrowError> {
    let converted = || {
        values
            .iter()
            .map(|v| v.map_or(Value::Null, |raw| convert(raw, ty)))
    };
    Ok(match ty {
        LakeType::Varchar => {
            // convert()'s rule for varchar (a JSON string, decoded), without its copy.
            let bytes: usize = values.iter().map(|v| v.map_or(0, str::len)).sum();
            let mut b = StringBuilder::with_capacity(values.len(), bytes);
            for v in values {
                match v {
                    Some(raw) if json::kind(raw) == Some(json::Kind::String) => {
                        b.append_value(json::decode_str(raw))
                    }
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        LakeType::Json | LakeType::Unknown => {
            let bytes: usize = values.iter().map(|v| v.map_or(0, str::len)).sum();
            let mut b = StringBuilder::with_capacity(values.len(), bytes);
            for v in converted() {
                match v {
                    Value::Text(s) => b.append_value(s),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        LakeType::Bigint
        | LakeType::Boolean
        | LakeType::Timestamp
        | LakeType::TimestampTz
        | LakeType::Date => {
            let ints: Vec<Option<i64>> = converted()
                .map(|v| match v {
                    Value::Integer(i) => Some(i),
                    _ => None,
                })
                .collect();
            match ty {
                LakeType::Bigint => Arc::new(Int64Array::from(ints)),
                LakeType::Boolean => Arc::new(BooleanArray::from(
                    ints.iter().map(|i| i.map(|i| i != 0)).collect::<Vec<_>>(),
                )),
                LakeType::Date => Arc::new(Date32Array::from(
                    ints.iter()
                        .map(|i| i.and_then(|d| i32::try_from(d).ok()))
                        .collect::<Vec<_>>(),
                )),
                _ => Arc::new(TimestampMillisecondArray::from(ints)),
            }
        }
        LakeType::Double => Arc::new(Float64Array::from(
            converted()
                .map(|v| match v {
                    Value::Real(f) => Some(f),
                    Value::Integer(i) => Some(i as f64),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        )),
        LakeType::Row(fields) => {
            let objects: Vec<Option<&str>> =
                values.iter().map(|v| v.filter(|r| is_object(r))).collect();
            let names = Names::new(fields.iter().map(|(n, _)| n.as_str()));
            let mut child_values: Vec<Vec<Option<&str>>> =
                vec![Vec::with_capacity(values.len()); fields.len()];
            let mut slots = vec![None; fields.len()];
            for o in &objects {
                match o {
                    Some(raw) => names.slots(json::members(raw), &mut slots),
                    None => slots.fill(None),
                }
                for (child, v) in child_values.iter_mut().zip(&slots) {
                    child.push(*v);
                }
            }
            let mut children = Vec::with_capacity(fields.len());
            for ((_, fty), child) in fields.iter().zip(&child_values) {
                children.push(build(fty, child)?);
            }
            let nulls = NullBuffer::from(objects.iter().map(Option::is_some).collect::<Vec<_>>());
            Arc::new(StructArray::try_new(
                struct_fields(fields),
                children,
                Some(nulls),
            )?)
        }
        LakeType::Array(ety) => {
            let arrays: Vec<Option<&str>> = values
                .iter()
                .map(|v| v.filter(|r| json::kind(r) == Some(json::Kind::Array)))
                .collect();
            let mut lengths = Vec::with_capacity(values.len());
            let mut elements = Vec::new();
            for a in &arrays {
                let before = elements.len();
                if let Some(raw) = a {
                    elements.extend(json::elements(raw).map(Some));
                }
                lengths.push(elements.len() - before);
            }
            let child = build(ety, &elements)?;
            let field = Arc::new(Field::new("element", child.data_type().clone(), true));
            let nulls = NullBuffer::from(arrays.iter().map(Option::is_some).collect::<Vec<_>>());
            Arc::new(ListArray::try_new(
                field,
                OffsetBuffer::from_lengths(lengths),
                child,
                Some(nulls),
            )?)
        }
        LakeType::Map => {
            let objects: Vec<Option<&str>> =
                values.iter().map(|v| v.filter(|r| is_object(r))).collect();
            let mut lengths = Vec::with_capacity(values.len());
            let mut keys = StringBuilder::new();
            let mut vals = StringBuilder::new();
            let mut scratch = String::new();
            let mut seen: std::collections::HashSet<std::borrow::Cow<str>> = Default::default();
            for o in &objects {
                let mut n = 0;
                if let Some(raw) = o {
                    seen.clear();
                    for (key, value) in json::members(raw) {
                        // A key given twice: the first, as element_at reads it (engines
                        // refuse maps with duplicate keys).
                        let key = json::decode_str(key);
                        if seen.contains(&key) {
                            continue;
                        }
                        keys.append_value(&key);
                        seen.insert(key);
                        match json::kind(value) {
                            Some(json::Kind::String) => vals.append_value(json::decode_str(value)),
                            Some(json::Kind::Number | json::Kind::True | json::Kind::False) => {
                                vals.append_value(value)
                            }
                            Some(json::Kind::Object | json::Kind::Array) => {
                                scratch.clear();
                                json::write_compact(&mut scratch, value);
                                vals.append_value(&scratch);
                            }
                            Some(json::Kind::Null) | None => vals.append_null(),
                        }
                        n += 1;
                    }
                }
                lengths.push(n);
            }
            let entries_field = map_entries();
            let arrow_schema::DataType::Struct(entry_fields) = entries_field.data_type() else {
                unreachable!("map entries are a struct")
            };
            let entries = StructArray::try_new(
                entry_fields.clone(),
                vec![Arc::new(keys.finish()), Arc::new(vals.finish())],
                None,
            )?;
            let nulls = NullBuffer::from(objects.iter().map(Option::is_some).collect::<Vec<_>>());
            Arc::new(MapArray::try_new(
                entries_field,
                OffsetBuffer::from_lengths(lengths),
                entries,
                Some(nulls),
                false,
            )?)
        }
    })
}
