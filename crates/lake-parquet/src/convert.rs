//! `convert`: a trail bucket straight to the Parquet layout, one day folder at a time.
//!
//! The import's own walk ([`trail_discovery::discover`]: the `CloudTrail` folders, the date
//! pruning of `--start`/`--end`, the delivery stamps) finds the day folders; a shard takes the
//! folders whose key hashes to it ([`Shard`]). Each folder's files are read and checked by the
//! import's own parser ([`trail_ingest::ingest`]: the same valid events, the same failure
//! entries), in groups of consecutive files of at most [`ConvertOptions::group_gz_bytes`]
//! compressed bytes so that memory stays bounded whatever a folder holds; each group's events
//! are sorted by partition and eventTime and written. The files of a folder are named after
//! it, so running a shard again replaces exactly its files and no other shard's.

use crate::layout::{is_day_folder, owning_folder, unit_stem, unit_with_range, Partition, Shard};
use crate::output::Output;
use crate::writer::{WriteError, WriteOptions, Writer, WrittenFile};
use std::ops::ControlFlow;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use trail_discovery::{discover_days, DiscoveredPrefix, Found, ObjectSource, TimeRange};
use trail_ingest::{ingest, FailureEntry, FileTask, IngestOptions, ParsedFile, Sink};

/// What to convert and how.
#[derive(Debug, Clone)]
pub struct ConvertOptions {
    /// Where the walk starts in the bucket (empty: the whole bucket).
    pub prefix: String,
    pub range: TimeRange,
    pub shard: Shard,
    pub write: WriteOptions,
    /// Files are read and sorted in groups of consecutive files holding at most this many
    /// compressed bytes (a group always holds at least one file).
    pub group_gz_bytes: u64,
    /// The record text a group holds before it is sorted and written early. A group of
    /// ordinary files holds far less (16 MB of objects is about 150 MB of records); files that
    /// inflate far more (gzip bombs made of valid records) are written in several runs, each
    /// sorted on its own, so memory stays bounded whatever the objects hold.
    pub run_text_bytes: u64,
    pub ingest: IngestOptions,
}

impl Default for ConvertOptions {
    fn default() -> Self {
        ConvertOptions {
            prefix: String::new(),
            range: TimeRange::default(),
            shard: Shard::ALL,
            write: WriteOptions::default(),
            group_gz_bytes: 16 << 20,
            run_text_bytes: 192 << 20,
            ingest: IngestOptions::default(),
        }
    }
}

/// What a conversion did.
#[derive(Debug, Default, Clone)]
pub struct ConvertSummary {
    /// Day folders of this shard converted, and those left to other shards (in the date range,
    /// and not listed).
    pub folders: u64,
    pub other_shards_folders: u64,
    /// Log files read (good or not).
    pub log_files: u64,
    pub events: u64,
    /// One per log file that was not converted whole (as the import reports it), and one
    /// per folder that could not be listed.
    pub failures: Vec<FailureEntry>,
    pub files: Vec<WrittenFile>,
}

/// Why a conversion stopped.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("{0}")]
    Discovery(#[from] trail_discovery::DiscoveryError),
    #[error("{0}")]
    Write(#[from] WriteError),
}

/// Files parsed and not yet written, and where they go.
struct Run<'w> {
    files: Vec<(i64, ParsedFile)>,
    text_bytes: u64,
    writer: &'w mut Writer,
    summary: &'w mut ConvertSummary,
    /// Whether rows of the folder were written already (a new run then starts new files).
    wrote: &'w mut bool,
}

/// The sink of a group's files: they are held until the group ends or holds
/// [`ConvertOptions::run_text_bytes`] of records, then sorted and written.
struct Collect<'w>(Mutex<Run<'w>>, u64);

impl Sink for Collect<'_> {
    type Error = WriteError;
    fn file(&self, task: &FileTask, mut file: ParsedFile) -> Result<(), Self::Error> {
        // What a run holds is bounded here; the budget only paces the parsers.
        drop(file.reservation.take());
        file.original = Vec::new();
        let mut run = self.0.lock().unwrap_or_else(|e| e.into_inner());
        run.text_bytes += file.text.len() as u64;
        run.files.push((task.id, file));
        if run.text_bytes >= self.1 {
            run.write()?;
        }
        Ok(())
    }
}

impl Run<'_> {
    /// Sorts the files held by partition and eventTime and writes their events.
    fn write(&mut self) -> Result<(), WriteError> {
        if self.files.is_empty() {
            return Ok(());
        }
        let mut files = std::mem::take(&mut self.files);
        self.text_bytes = 0;
        files.sort_by_key(|(id, _)| *id);
        let summary = &mut *self.summary;
        summary.log_files += files.len() as u64;
        for (_, file) in files.iter_mut() {
            if let Some(failure) = file.failure.take() {
                summary.failures.push(failure);
            }
        }
        // (account, Region, day, eventTime, file, record): the order rows are written in,
        // borrowing the files' strings (no copy per event).
        type Key<'a> = (Option<&'a str>, Option<&'a str>, i64, i64, usize, usize);
        let mut order: Vec<Key<'_>> = Vec::new();
        for (f, (_, file)) in files.iter().enumerate() {
            let string = |i: Option<u32>| i.map(|i| file.strings[i as usize].as_str());
            for (e, event) in file.events.iter().enumerate() {
                order.push((
                    string(event.recipient_account_id),
                    string(event.aws_region),
                    Partition::day_of(event.time_ms),
                    event.time_ms,
                    f,
                    e,
                ));
            }
        }
        if order.is_empty() {
            return Ok(());
        }
        order.sort_unstable();
        summary.events += order.len() as u64;
        if *self.wrote {
            // Sorted on its own: its rows start new files.
            self.writer.end_file()?;
        }
        *self.wrote = true;
        let mut dir = String::new();
        let mut last = None;
        for &(account, region, day, time_ms, f, e) in &order {
            if last != Some((account, region, day)) {
                dir = Partition::of(account, region, time_ms).dir();
                last = Some((account, region, day));
            }
            let file = &files[f].1;
            let event = &file.events[e];
            let text = file
                .text
                .get(event.offset as usize..(event.offset + event.len) as usize)
                .expect("an event's span lies in its file's text");
            self.writer.push(&dir, text)?;
        }
        Ok(())
    }
}

/// Converts the bucket `source` (from `opts.prefix`) into `output`. `progress` is told of
/// each folder done, with the summary so far.
pub fn convert(
    source: &dyn ObjectSource,
    opts: &ConvertOptions,
    output: Arc<dyn Output>,
    progress: &mut dyn FnMut(&ConvertSummary),
) -> Result<ConvertSummary, ConvertError> {
    let mut summary = ConvertSummary::default();
    // One writer for the whole run: its thread finishes a folder's files while the next
    // folder is read.
    let mut writer = Writer::new(output, String::new(), opts.write.clone())?;
    // Other shards' day folders are not even listed.
    let others = std::cell::Cell::new(0u64);
    let mine = |folder: &str| {
        let owned = opts.shard.owns(folder);
        if !owned {
            others.set(others.get() + 1);
        }
        owned
    };
    let walked = discover_days(source, &opts.prefix, &opts.range, &mine, |found| {
        match found {
            Found::Folder(folder) => {
                if !opts.shard.owns(&folder.prefix) {
                    summary.other_shards_folders += 1;
                    return ControlFlow::Continue(());
                }
                if let Err(e) = convert_folder(source, &folder, opts, &mut writer, &mut summary) {
                    return ControlFlow::Break(e);
                }
                summary.folders += 1;
                progress(&summary);
            }
            Found::Unlistable { prefix, error } => {
                // A folder above the day folders may hide any shard's days: every shard
                // reports it (and so ends with failures). One at or below a day folder is that
                // day's shard's.
                let in_a_day = is_day_folder(owning_folder(&prefix));
                if !in_a_day || opts.shard.owns(&prefix) {
                    summary.failures.push(FailureEntry {
                        location: format!("s3://{}/{prefix}", source.bucket()),
                        error_type: error.kind.into(),
                        error_message: error.message,
                    });
                }
            }
        }
        ControlFlow::Continue(())
    })?;
    if let Some(e) = walked.stopped {
        return Err(e.into());
    }
    summary.other_shards_folders += others.get();
    summary.files = writer.finish()?;
    Ok(summary)
}

fn convert_folder(
    source: &dyn ObjectSource,
    folder: &DiscoveredPrefix,
    opts: &ConvertOptions,
    writer: &mut Writer,
    summary: &mut ConvertSummary,
) -> Result<(), WriteError> {
    let range = (
        opts.range.start.map(|t| t.timestamp_millis()),
        opts.range.end.map(|t| t.timestamp_millis()),
    );
    let unit = format!("s3://{}/{}", source.bucket(), folder.prefix);
    let stem = unit_stem(&unit_with_range(&unit, range.0, range.1));
    writer.start_unit(stem)?;
    let tasks: Vec<FileTask> = folder
        .objects
        .iter()
        .enumerate()
        .map(|(i, o)| FileTask {
            id: i as i64,
            key: o.key.clone(),
            size: o.size,
        })
        .collect();
    let mut wrote = false;
    let mut start = 0;
    while start < tasks.len() {
        let mut end = start + 1;
        let mut bytes = tasks[start].size;
        while end < tasks.len() && bytes + tasks[end].size <= opts.group_gz_bytes {
            bytes += tasks[end].size;
            end += 1;
        }
        convert_group(
            source,
            &tasks[start..end],
            opts,
            writer,
            summary,
            &mut wrote,
        )?;
        start = end;
    }
    Ok(())
}

fn convert_group(
    source: &dyn ObjectSource,
    tasks: &[FileTask],
    opts: &ConvertOptions,
    writer: &mut Writer,
    summary: &mut ConvertSummary,
    wrote: &mut bool,
) -> Result<(), WriteError> {
    let collect = Collect(
        Mutex::new(Run {
            files: Vec::with_capacity(tasks.len()),
            text_bytes: 0,
            writer,
            summary,
            wrote,
        }),
        opts.run_text_bytes,
    );
    let stop = AtomicBool::new(false);
    ingest(source, tasks, &opts.ingest, &collect, &stop)?;
    collect
        .0
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .write()
}
