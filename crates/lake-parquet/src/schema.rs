//! The Lake table as an Arrow schema, and as the `CREATE TABLE` of Trino, Athena and Spark.
//!
//! Both are derived from [`lake_sql::types::columns`], the one definition of the table the
//! query engine reads, so the files hold exactly the columns and types a Lake query sees:
//!
//! | Lake type | Arrow / Parquet |
//! |---|---|
//! | `varchar`, `json` | `Utf8` / `BYTE_ARRAY (STRING)` |
//! | `bigint`, `double`, `boolean`, `date` | `Int64`, `Float64`, `Boolean`, `Date32` |
//! | `timestamp(3)` | `Timestamp(ms)` / `INT64 TIMESTAMP(MILLIS)`, UTC wall-clock time |
//! | `map(varchar, varchar)` | `Map<Utf8, Utf8>` / `MAP` |
//! | `array(T)` | `List<T>` / `LIST` |
//! | `row(...)` | `Struct` / a group |

use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use lake_sql::types::{columns, LakeType};
use std::fmt::Write;
use std::sync::Arc;

/// The Hive partition keys of the written layout, outermost first.
pub const PARTITION_KEYS: [&str; 3] = ["account", "region", "date"];

/// The Arrow type of a Lake type.
pub fn arrow_type(ty: &LakeType) -> DataType {
    match ty {
        LakeType::Varchar | LakeType::Json | LakeType::Unknown => DataType::Utf8,
        LakeType::Bigint => DataType::Int64,
        LakeType::Double => DataType::Float64,
        LakeType::Boolean => DataType::Boolean,
        // Lake's timestamp(3) has no time zone and holds UTC: a timestamp not adjusted to
        // UTC, so no engine shifts it by its session's zone.
        LakeType::Timestamp | LakeType::TimestampTz => {
            DataType::Timestamp(TimeUnit::Millisecond, None)
        }
        LakeType::Date => DataType::Date32,
        LakeType::Map => DataType::Map(map_entries(), false),
        LakeType::Array(t) => DataType::List(Arc::new(Field::new("element", arrow_type(t), true))),
        LakeType::Row(fields) => DataType::Struct(struct_fields(fields)),
    }
}

/// The entries field of a `map(varchar, varchar)`.
pub(crate) fn map_entries() -> Arc<Field> {
    Arc::new(Field::new(
        "key_value",
        DataType::Struct(Fields::from(vec![
            Field::new("key", DataType::Utf8, false),
            Field::new("value", DataType::Utf8, true),
        ])),
        false,
    ))
}

pub(crate) fn struct_fields(fields: &[(String, LakeType)]) -> Fields {
    fields
        .iter()
        .map(|(n, t)| Field::new(n, arrow_type(t), true))
        .collect()
}

/// The Arrow schema of the files: every Lake column, nullable, in Lake's order (the partition
/// keys are folder names, not columns of the files).
pub fn arrow_schema() -> SchemaRef {
    Arc::new(Schema::new(
        columns()
            .iter()
            .map(|c| Field::new(c.name, arrow_type(&c.ty), true))
            .collect::<Vec<_>>(),
    ))
}

/// How many Parquet leaf columns a Lake type takes.
fn leaves(ty: &LakeType) -> usize {
    match ty {
        LakeType::Map => 2,
        LakeType::Array(t) => leaves(t),
        LakeType::Row(fields) => fields.iter().map(|(_, t)| leaves(t)).sum(),
        _ => 1,
    }
}

/// The Parquet leaf-column index of a top-level column (for the file's sorting metadata).
pub fn leaf_index(name: &str) -> Option<usize> {
    let mut at = 0;
    for c in columns() {
        if c.name == name {
            return Some(at);
        }
        at += leaves(&c.ty);
    }
    None
}

/// An engine whose `CREATE TABLE` [`ddl`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Trino,
    Athena,
    Spark,
}

/// What [`ddl`] needs to know of the written files.
#[derive(Debug, Clone)]
pub struct TableLocation {
    /// The table's name (as written, quoted where the dialect needs it).
    pub table: String,
    /// Where the partition folders start: `s3://bucket/prefix` or a path.
    pub location: String,
    /// For Athena's partition projection: the accounts and Regions written, and the first day.
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    pub first_date: Option<String>,
}

fn hive_type(ty: &LakeType, out: &mut String) {
    match ty {
        LakeType::Varchar | LakeType::Json | LakeType::Unknown => out.push_str("string"),
        LakeType::Bigint => out.push_str("bigint"),
        LakeType::Double => out.push_str("double"),
        LakeType::Boolean => out.push_str("boolean"),
        LakeType::Timestamp | LakeType::TimestampTz => out.push_str("timestamp"),
        LakeType::Date => out.push_str("date"),
        LakeType::Map => out.push_str("map<string,string>"),
        LakeType::Array(t) => {
            out.push_str("array<");
            hive_type(t, out);
            out.push('>');
        }
        LakeType::Row(fields) => {
            out.push_str("struct<");
            for (i, (n, t)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{n}:");
                hive_type(t, out);
            }
            out.push('>');
        }
    }
}

fn trino_type(ty: &LakeType, out: &mut String) {
    match ty {
        LakeType::Varchar | LakeType::Json | LakeType::Unknown => out.push_str("varchar"),
        LakeType::Timestamp | LakeType::TimestampTz => out.push_str("timestamp(3)"),
        LakeType::Map => out.push_str("map(varchar, varchar)"),
        LakeType::Array(t) => {
            out.push_str("array(");
            trino_type(t, out);
            out.push(')');
        }
        LakeType::Row(fields) => {
            out.push_str("row(");
            for (i, (n, t)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let _ = write!(out, "\"{n}\" ");
                trino_type(t, out);
            }
            out.push(')');
        }
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

fn sql_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The `CREATE TABLE` statement for files written under `at.location`, with the three
/// partition keys; Athena's uses partition projection (no `MSCK REPAIR` or crawler needed).
pub fn ddl(dialect: Dialect, at: &TableLocation) -> String {
    let cols = columns();
    let mut s = String::new();
    match dialect {
        Dialect::Trino => {
            let _ = writeln!(s, "CREATE TABLE {} (", at.table);
            for c in &cols {
                let _ = write!(s, "  \"{}\" ", c.name);
                trino_type(&c.ty, &mut s);
                s.push_str(",\n");
            }
            s.push_str("  \"account\" varchar,\n  \"region\" varchar,\n  \"date\" varchar\n)\n");
            let _ = write!(
                s,
                "WITH (\n  format = 'PARQUET',\n  external_location = {},\n  \
                 partitioned_by = ARRAY['account', 'region', 'date']\n);\n\
                 -- then, to find the partitions written: CALL system.sync_partition_metadata(\
                 '<schema>', '{}', 'ADD');\n",
                sql_string(&at.location),
                at.table.trim_matches('"'),
            );
        }
        Dialect::Athena | Dialect::Spark => {
            let external = if dialect == Dialect::Athena {
                "EXTERNAL "
            } else {
                ""
            };
            let _ = writeln!(s, "CREATE {external}TABLE {} (", at.table);
            for (i, c) in cols.iter().enumerate() {
                let _ = write!(s, "  `{}` ", c.name);
                hive_type(&c.ty, &mut s);
                s.push_str(if i + 1 < cols.len() { ",\n" } else { "\n" });
            }
            if dialect == Dialect::Spark {
                // Spark lists the partition columns with the others.
                s.truncate(s.len() - 1);
                s.push_str(",\n  `account` string,\n  `region` string,\n  `date` string\n");
            }
            if dialect == Dialect::Athena {
                s.push_str(
                    ")\nPARTITIONED BY (`account` string, `region` string, `date` string)\n",
                );
                s.push_str("STORED AS PARQUET\n");
                let _ = writeln!(s, "LOCATION {}", sql_string(&at.location));
                // A missing value's folder is listed too: projecting a folder that holds
                // nothing costs nothing.
                let enumerate = |values: &[String]| {
                    if values.is_empty() {
                        None
                    } else {
                        Some(format!(
                            "{},{}",
                            values.join(","),
                            crate::layout::DEFAULT_PARTITION
                        ))
                    }
                };
                let mut props = vec![("projection.enabled".to_string(), "true".to_string())];
                for (key, values) in [("account", &at.accounts), ("region", &at.regions)] {
                    match enumerate(values) {
                        Some(v) => {
                            props.push((format!("projection.{key}.type"), "enum".into()));
                            props.push((format!("projection.{key}.values"), v));
                        }
                        None => props.push((format!("projection.{key}.type"), "injected".into())),
                    }
                }
                let first = at.first_date.clone().unwrap_or_else(|| "2013-01-01".into());
                props.extend([
                    ("projection.date.type".to_string(), "date".to_string()),
                    ("projection.date.format".into(), "yyyy-MM-dd".into()),
                    ("projection.date.range".into(), format!("{first},NOW")),
                    ("projection.date.interval".into(), "1".into()),
                    ("projection.date.interval.unit".into(), "DAYS".into()),
                    (
                        "storage.location.template".into(),
                        format!(
                            "{}/account=${{account}}/region=${{region}}/date=${{date}}",
                            at.location.trim_end_matches('/')
                        ),
                    ),
                ]);
                s.push_str("TBLPROPERTIES (\n");
                for (i, (k, v)) in props.iter().enumerate() {
                    let _ = write!(s, "  {} = {}", sql_string(k), sql_string(v));
                    s.push_str(if i + 1 < props.len() { ",\n" } else { "\n" });
                }
                s.push_str(");\n");
            } else {
                s.push_str(")\nUSING parquet\nPARTITIONED BY (`account`, `region`, `date`)\n");
                let _ = writeln!(s, "LOCATION {};", sql_string(&at.location));
                let _ = writeln!(
                    s,
                    "-- then, to find the partitions written: MSCK REPAIR TABLE {};",
                    at.table
                );
            }
        }
    }
    s
}
