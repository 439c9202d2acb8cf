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
use crate::layout::{file_name, file_number};
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
use std::sync::Arc;

/// Record text per record batch at most (a batch's strings stay far below 2 GiB).
const BATCH_TEXT_BYTES: usize = 8 << 20;

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
    /// Record text gathered before it is converted (in parallel) and handed to the files.
    pub chunk_bytes: usize,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            target_file_bytes: 128 << 20,
            row_group_rows: 1 << 20,
            row_group_bytes: 32 << 20,
            zstd_level: 1,
            batch_rows: 4096,
            chunk_bytes: 16 << 20,
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

/// What the converting side tells the thread that writes the files.
enum Msg {
    /// Rows of the partition folder `.0`, sorted, after the ones sent before.
    Batch(String, RecordBatch),
    /// Close the open file (the next rows start a new one).
    EndFile,
    /// The unit is done (clean up after its earlier runs); the next rows are of the unit
    /// with this stem.
    Unit(String),
    /// Everything was sent: close the last file and clean up. A queue that closes without it
    /// was abandoned (an error upstream): the open file is dropped, never committed, and
    /// nothing of an earlier run is removed.
    Finish,
}

/// Record batches converted and waiting for the file-writing thread, at most.
const QUEUED_BATCHES: usize = 4;

/// Writes the files of one unit of work (a store, or a bucket folder). Records are converted
/// on the rayon pool while a thread of the writer's own encodes and compresses the batches
/// before them into the files, so the two overlap.
pub struct Writer {
    opts: WriteOptions,
    tx: Option<std::sync::mpsc::SyncSender<Msg>>,
    thread: Option<std::thread::JoinHandle<Result<Vec<WrittenFile>, WriteError>>>,
    /// Rows waiting to be converted, all of `pending_dir`: their text one after the other,
    /// and where each ends (one copy per record, no allocation per record).
    pending: String,
    pending_ends: Vec<usize>,
    pending_dir: Option<String>,
}

/// The file-writing side: the open file and what has been written.
struct Files {
    output: Arc<dyn Output>,
    stem: String,
    target_file_bytes: u64,
    props: WriterProperties,
    open: Option<OpenFile>,
    /// Per partition folder written: the next file number.
    next: BTreeMap<String, u32>,
    written: Vec<WrittenFile>,
}

impl Writer {
    /// A writer of files named `<stem>-NNNNN.parquet`.
    pub fn new(
        output: Arc<dyn Output>,
        stem: String,
        opts: WriteOptions,
    ) -> Result<Self, WriteError> {
        let mut files = Files {
            output,
            stem,
            target_file_bytes: opts.target_file_bytes,
            props: writer_properties(&opts)?,
            open: None,
            next: BTreeMap::new(),
            written: Vec::new(),
        };
        let (tx, rx) = std::sync::mpsc::sync_channel::<Msg>(QUEUED_BATCHES);
        let thread = std::thread::Builder::new()
            .name("parquet-writer".into())
            .spawn(move || {
                for msg in rx {
                    match msg {
                        Msg::Batch(dir, batch) => files.write_batch(&dir, &batch)?,
                        Msg::EndFile => files.close()?,
                        Msg::Unit(stem) => {
                            files.end_unit()?;
                            files.stem = stem;
                        }
                        Msg::Finish => return files.finish(),
                    }
                }
                Err(WriteError::Io(
                    "the writer".into(),
                    std::io::Error::other("abandoned before it finished"),
                ))
            })
            .map_err(|e| WriteError::Io("starting the writer thread".into(), e))?;
        Ok(Writer {
            opts,
            tx: Some(tx),
            thread: Some(thread),
            pending: String::new(),
            pending_ends: Vec::new(),
            pending_dir: None,
        })
    }

    /// Appends one record of the partition folder `dir`. Records must come sorted by
    /// folder (all of one folder together) and, within a folder, by eventTime.
    pub fn push(&mut self, dir: &str, record: &str) -> Result<(), WriteError> {
        if self.pending_dir.as_deref() != Some(dir) {
            self.flush_pending()?;
            self.send(Msg::EndFile)?;
            self.pending_dir = Some(dir.to_string());
        }
        if self.pending.is_empty() {
            // Room for a chunk and the record that ends it (the import keeps none larger),
            // so the buffer, kept from chunk to chunk, never doubles past it.
            let last = trail_ingest::MAX_RECORD_BYTES.max(record.len());
            self.pending.reserve_exact(self.opts.chunk_bytes + last);
        }
        self.pending.push_str(record);
        self.pending_ends.push(self.pending.len());
        if self.pending.len() >= self.opts.chunk_bytes {
            self.flush_pending()?;
        }
        Ok(())
    }

    /// Ends the current unit (its files are complete, and what earlier runs of it left is
    /// removed) and starts the unit whose files are named `<stem>-NNNNN.parquet`. The writing
    /// thread does this in order, so the caller goes on converting at once.
    pub fn start_unit(&mut self, stem: String) -> Result<(), WriteError> {
        self.flush_pending()?;
        self.pending_dir = None;
        self.send(Msg::Unit(stem))
    }

    /// Ends the current file even if it is not full (the next record starts a new one).
    pub fn end_file(&mut self) -> Result<(), WriteError> {
        self.flush_pending()?;
        self.send(Msg::EndFile)
    }

    /// Hands a message to the writing thread; if that thread stopped, its error.
    fn send(&mut self, msg: Msg) -> Result<(), WriteError> {
        let sent = self.tx.as_ref().is_some_and(|tx| tx.send(msg).is_ok());
        if sent {
            return Ok(());
        }
        self.tx = None;
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(Err(e))) => Err(e),
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            _ => Err(WriteError::Io(
                "the writer thread".into(),
                std::io::Error::other("stopped"),
            )),
        }
    }

    /// Converts the pending records (in parallel) and hands them to the writing thread.
    fn flush_pending(&mut self) -> Result<(), WriteError> {
        if self.pending_ends.is_empty() {
            return Ok(());
        }
        let dir = self
            .pending_dir
            .clone()
            .expect("pending rows have a folder");
        let text = std::mem::take(&mut self.pending);
        let ends = std::mem::take(&mut self.pending_ends);
        let mut start = 0;
        let rows: Vec<&str> = ends
            .iter()
            .map(|&end| {
                let row = &text[start..end];
                start = end;
                row
            })
            .collect();
        let mut chunks: Vec<&[&str]> = Vec::new();
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
        let convert = |c: &&[&str]| to_batch(c);
        // On a rayon thread (a sink writing early, holding its lock), convert here: a nested
        // parallel job would let this thread pick up other work meanwhile, and that work may
        // want the same lock.
        let batches: Vec<Result<RecordBatch, _>> = if rayon::current_thread_index().is_some() {
            chunks.iter().map(convert).collect()
        } else {
            chunks.par_iter().map(convert).collect()
        };
        drop(chunks);
        drop(rows);
        // The buffers' room is kept for the next chunk.
        self.pending = text;
        self.pending.clear();
        self.pending_ends = ends;
        self.pending_ends.clear();
        for batch in batches {
            self.send(Msg::Batch(dir.clone(), batch?))?;
        }
        Ok(())
    }

    /// Closes the last file and removes what earlier runs of this unit left in the partitions
    /// written: files numbered past the ones written now, and temporary files of runs that
    /// died; returns the files written.
    pub fn finish(mut self) -> Result<Vec<WrittenFile>, WriteError> {
        self.flush_pending()?;
        self.send(Msg::Finish)?;
        self.tx = None;
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(result)) => result,
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => Err(WriteError::Io(
                "the writer thread".into(),
                std::io::Error::other("stopped"),
            )),
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Abandoned (no `Finish` sent): the thread drops the open file uncommitted (its
        // temporary file is removed, its upload aborted) and ends.
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Files {
    fn write_batch(&mut self, dir: &str, batch: &RecordBatch) -> Result<(), WriteError> {
        if self.open.as_ref().is_some_and(|o| o.dir != dir) {
            self.close()?;
        }
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
        open.writer.write(batch)?;
        open.rows += batch.num_rows() as u64;
        let size = open.writer.bytes_written() + open.writer.in_progress_size();
        if size as u64 >= self.target_file_bytes {
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

    fn finish(mut self) -> Result<Vec<WrittenFile>, WriteError> {
        self.end_unit()?;
        Ok(self.written)
    }

    /// Closes the unit's last file and removes what its earlier runs left in the partitions
    /// it wrote.
    fn end_unit(&mut self) -> Result<(), WriteError> {
        self.close()?;
        for (dir, next) in std::mem::take(&mut self.next) {
            let names = self
                .output
                .list(&dir)
                .map_err(|e| WriteError::Io(dir.clone(), e))?;
            for name in names {
                // A temporary file of this unit is what a run that died left behind.
                let dead = name.starts_with(&format!("_{}-", self.stem)) && name.ends_with(".tmp");
                let stale = dead || file_number(&self.stem, &name).is_some_and(|n| n >= next);
                if stale {
                    let rel = format!("{dir}{name}");
                    self.output
                        .remove(&rel)
                        .map_err(|e| WriteError::Io(rel.clone(), e))?;
                }
            }
        }
        Ok(())
    }
}
