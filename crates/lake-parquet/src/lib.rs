//! Lake-schema Parquet: a store's or a bucket's events as Hive-partitioned files for Trino, Athena, Spark and DuckDB.
//!
//! The files hold the Lake table's columns with the Lake types ([`schema`], derived from
//! [`lake_sql::types::columns`], the query engine's own definition), one row per event, read
//! from each record as the query engine reads it ([`batch`]). They lie in
//! `account=/region=/date=` folders ([`layout`]), sorted by `eventtime` within each file,
//! zstd-compressed with page statistics and indexes, about 128 MB each ([`writer`]), and appear
//! only whole ([`output`]). [`export()`] writes a store's events; [`convert()`] a bucket's,
//! with no store in between, one shard of its day folders at a time.

pub mod batch;
pub mod convert;
pub mod export;
pub mod layout;
pub mod output;
pub mod schema;
pub mod writer;

pub use convert::{convert, ConvertError, ConvertOptions, ConvertSummary};
pub use export::{export, ExportError, ExportOptions, ExportSummary};
pub use layout::{Partition, Shard};
pub use output::{LocalDir, Output, PendingFile};
pub use schema::{arrow_schema, ddl, Dialect, TableLocation};
pub use writer::{WriteError, WriteOptions, Writer, WrittenFile};
