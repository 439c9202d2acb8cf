//! Writing sorted rows into rolling Parquet files, one partition at a time.
//!
//! A [`Writer`] takes records already sorted by partition and eventTime, turns each chunk of
//! them into record batches on the rayon pool, and appends the batches to the open file of
//! their partition, which it closes (and commits) once it holds about
//! [`WriteOptions::target_file_bytes`]. Files are zstd-compressed, carry page-level statistics
//! and page indexes, and record that they are sorted by `eventtime`. When the writer finishes,
//! files of its unit left in the partitions it wrote by an earlier run (one that wrote more
//! files) are removed, so a rerun replaces exactly its own files.

use crate::batch::to_batch;
use crate::layout::{file_name, is_file_of};
use crate::output::{Output, PendingFile};
use crate::schema::{arrow_schema, leaf_index};
use arrow_array::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::SortingColumn;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use rayon::prelude::*;
use std::collections::BTreeMap;

/// Record text per record batch at most (a batch's strings stay far below 2 GiB).
const BATCH_TEXT_BYTES: usize = 8 << 20;
/// Record text gathered before a chunk is converted.
const CHUNK_TEXT_BYTES: usize = 32 << 20;

/// How files are written.
#[derive(Debug, Clone)]
pub struct WriteOptions {
    /// A file is closed once it holds about this many bytes.
    pub target_file_bytes: u64,
    /// Rows per row group at most.
    pub row_group_rows: usize,
    /// Encoded bytes per row group at most (what a file being written holds in memory).
    pub row_group_bytes: usize,
    pub zstd_level: i32,
    /// Rows per record batch (the unit of parallel conversion, and of a file's size check).
    pub batch_rows: usize,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            target_file_bytes: 128 << 20,
            row_group_rows: 1 << 20,
            row_group_bytes: 64 << 20,
            zstd_level: 3,
            batch_rows: 4096,
        }
    }
}

/// An error writing files.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    #[error("{0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("{0}")]
    Arrow(#[from] arrow_schema::ArrowError),
}

/// One file written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFile {
    /// Relative to the output root.
    pub path: String,
    pub rows: u64,
    pub bytes: u64,
}

struct OpenFile {
    dir: String,
    rel: String,
    writer: ArrowWriter<Counting>,
    rows: u64,
}

/// A file being written, counting its bytes.
struct Counting {
    file: Box<dyn PendingFile>,
    bytes: u64,
}

impl std::io::Write for Counting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// The properties every file is written with.
pub fn writer_properties(opts: &WriteOptions) -> Result<WriterProperties, WriteError> {
    let mut b = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(opts.zstd_level)?))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(opts.row_group_rows))
        .set_max_row_group_bytes(Some(opts.row_group_bytes))
        .set_created_by(format!("trailport {}", env!("CARGO_PKG_VERSION")));
    if let Some(at) = leaf_index("eventtime") {
        b = b.set_sorting_columns(Some(vec![SortingColumn {
            column_idx: at as i32,
            descending: false,
            nulls_first: false,
        }]));
    }
    // Values that are (nearly) unique per event gain nothing from a dictionary.
    for column in [
        "eventjson",
        "eventjsonchecksum",
        "eventid",
        "requestid",
        "sharedeventid",
    ] {
        b = b.set_column_dictionary_enabled(ColumnPath::from(column), false);
    }
    Ok(b.build())
}

/// Writes the files of one unit of work (a store, or a bucket folder).
pub struct Writer<'a> {
    output: &'a dyn Output,
    stem: String,
    opts: WriteOptions,
    props: WriterProperties,
    open: Option<OpenFile>,
    /// Per partition folder written: the next file number.
    next: BTreeMap<String, u32>,
    written: Vec<WrittenFile>,
    /// Rows waiting to be converted, all of `pending_dir`.
    pending: Vec<String>,
    pending_dir: Option<String>,
    pending_bytes: usize,
}

impl<'a> Writer<'a> {
    /// A writer of files named `<stem>-NNNNN.parquet`.
    pub fn new(
        output: &'a dyn Output,
        stem: String,
        opts: WriteOptions,
    ) -> Result<Self, WriteError> {
        Ok(Writer {
            output,
            stem,
            props: writer_properties(&opts)?,
            opts,
            open: None,
            next: BTreeMap::new(),
            written: Vec::new(),
            pending: Vec::new(),
            pending_dir: None,
            pending_bytes: 0,
        })
    }

    /// Appends one record of the partition folder `dir`. Records must come sorted by
    /// folder (all of one folder together) and, within a folder, by eventTime.
    pub fn push(&mut self, dir: &str, record: String) -> Result<(), WriteError> {
        if self.pending_dir.as_deref() != Some(dir) {
            self.flush_pending()?;
            self.close()?;
            self.pending_dir = Some(dir.to_string());
        }
        self.pending_bytes += record.len();
        self.pending.push(record);
        if self.pending_bytes >= CHUNK_TEXT_BYTES {
            self.flush_pending()?;
        }
        Ok(())
    }

    /// Ends the current file even if it is not full (the next record starts a new one).
    pub fn end_file(&mut self) -> Result<(), WriteError> {
        self.flush_pending()?;
        self.close()
    }

    /// Converts the pending records (in parallel) and appends them to the open file.
    fn flush_pending(&mut self) -> Result<(), WriteError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let dir = self
            .pending_dir
            .clone()
            .expect("pending rows have a folder");
        let rows = std::mem::take(&mut self.pending);
        self.pending_bytes = 0;
        let mut chunks: Vec<&[String]> = Vec::new();
        let (mut start, mut bytes) = (0, 0);
        for (i, r) in rows.iter().enumerate() {
            if i > start
                && (i - start >= self.opts.batch_rows.max(1) || bytes + r.len() > BATCH_TEXT_BYTES)
            {
                chunks.push(&rows[start..i]);
                (start, bytes) = (i, 0);
            }
            bytes += r.len();
        }
        chunks.push(&rows[start..]);
        let batches: Vec<Result<RecordBatch, _>> = chunks
            .par_iter()
            .map(|c| to_batch(&c.iter().map(String::as_str).collect::<Vec<_>>()))
            .collect();
        drop(chunks);
        for batch in batches {
            self.write_batch(&dir, &batch?)?;
        }
        Ok(())
    }

    fn write_batch(&mut self, dir: &str, batch: &RecordBatch) -> Result<(), WriteError> {
        if self.open.is_none() {
            let n = self.next.entry(dir.to_string()).or_insert(0);
            let rel = format!("{dir}{}", file_name(&self.stem, *n));
            *n += 1;
            let file = self
                .output
                .create(&rel)
                .map_err(|e| WriteError::Io(rel.clone(), e))?;
            let file = Counting { file, bytes: 0 };
            let writer = ArrowWriter::try_new(file, arrow_schema(), Some(self.props.clone()))?;
            self.open = Some(OpenFile {
                dir: dir.to_string(),
                rel,
                writer,
                rows: 0,
            });
        }
        let open = self.open.as_mut().expect("opened above");
        debug_assert_eq!(open.dir, dir);
        open.writer.write(batch)?;
        open.rows += batch.num_rows() as u64;
        let size = open.writer.bytes_written() + open.writer.in_progress_size();
        if size as u64 >= self.opts.target_file_bytes {
            self.close()?;
        }
        Ok(())
    }

    fn close(&mut self) -> Result<(), WriteError> {
        let Some(open) = self.open.take() else {
            return Ok(());
        };
        // Writes the footer.
        let file = open.writer.into_inner()?;
        let bytes = file.bytes;
        file.file
            .commit()
            .map_err(|e| WriteError::Io(open.rel.clone(), e))?;
        self.written.push(WrittenFile {
            path: open.rel,
            rows: open.rows,
            bytes,
        });
        Ok(())
    }

    /// Closes the last file and removes what earlier runs of this unit left in the partitions
    /// written: files numbered past the ones written now, and temporary files of runs that
    /// died; returns the files written.
    pub fn finish(mut self) -> Result<Vec<WrittenFile>, WriteError> {
        self.flush_pending()?;
        self.close()?;
        for (dir, next) in &self.next {
            let names = self
                .output
                .list(dir)
                .map_err(|e| WriteError::Io(dir.clone(), e))?;
            for name in names {
                // A temporary file of this unit is what a run that died left behind.
                let dead = name.starts_with(&format!("_{}-", self.stem)) && name.ends_with(".tmp");
                let stale = dead
                    || is_file_of(&self.stem, &name)
                        && name[self.stem.len() + 1..self.stem.len() + 6]
                            .parse::<u32>()
                            .is_ok_and(|n| n >= *next);
                if stale {
                    let rel = format!("{dir}{name}");
                    self.output
                        .remove(&rel)
                        .map_err(|e| WriteError::Io(rel.clone(), e))?;
                }
            }
        }
        Ok(self.written)
    }
}
