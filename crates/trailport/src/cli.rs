//! Command-line arguments.

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Exit code of a completed import.
pub const EXIT_COMPLETED: u8 = 0;
/// Exit code of an import that ended `FAILED` (some failure entries).
pub const EXIT_FAILED: u8 = 1;
/// Exit code of a usage error or an import that could not start.
pub const EXIT_USAGE: u8 = 2;
/// Exit code of an import stopped by Ctrl-C (the shell convention for SIGINT).
pub const EXIT_STOPPED: u8 = 130;

#[derive(Parser, Debug)]
#[command(
    name = "trailport",
    version,
    about = "Local emulator of the CloudTrail Lake import engine"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Import a trail bucket (a directory) into the SQLite event data store.
    Import(ImportArgs),
    /// Write a realistic synthetic trail bucket and print its expected counts.
    Synth(SynthArgs),
    /// Print stored events, raw, one per line.
    Events(EventsArgs),
    /// Serve the CloudTrail import API and the CloudWatch Logs import tasks (AWS JSON 1.1) for
    /// the AWS CLI, boto3 and the SDKs.
    Serve(ServeArgs),
    /// Measure an import end to end, per stage, on a bucket or a synthetic one.
    Bench(BenchArgs),
    /// Copy an event data store into its CloudWatch Logs group `aws/cloudtrail/<id>` (what
    /// CreateImportTask does), with a progress bar.
    LogsImport(LogsImportArgs),
    /// Read a CloudWatch Logs group that an import task wrote.
    Logs(LogsArgs),
    /// Run a CloudTrail Lake SQL query (Trino SELECT) over the stored events, offline: the
    /// same engine operation as StartQuery and GetQueryResults.
    Query(QueryArgs),
    /// Write a store's events as Lake-schema Parquet in account=/region=/date= folders, for
    /// Trino, Athena, Spark and DuckDB (or print the CREATE TABLE for them).
    Export(ExportArgs),
    /// Write a trail bucket's events as Lake-schema Parquet directly, with no store in
    /// between; `--shard I/N` splits the work among independent processes.
    Convert(ConvertArgs),
}

/// Where Parquet goes and how it is written.
#[derive(Args, Debug)]
pub struct ParquetOutArgs {
    /// A directory, or `s3://BUCKET/PREFIX`.
    #[arg(long)]
    pub out: String,
    /// Close a file once it holds about this much.
    #[arg(long, value_parser = parse_size, default_value = "128MiB")]
    pub file_size: u64,
    /// The S3 endpoint for `s3://` locations (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL,
    /// or AWS itself). A custom endpoint uses path-style addressing.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// The part size of S3 uploads (S3 takes parts of 5 MiB or more but the last).
    #[arg(long, hide = true, value_parser = parse_size, default_value = "8MiB")]
    pub part_size: u64,
    #[command(flatten)]
    pub s3: S3Args,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The SQLite database.
    #[arg(long, default_value = "trailport.db")]
    pub db: PathBuf,
    /// The event data store: its ARN, ID or name (default: the store `trailport import`
    /// fills).
    #[arg(long)]
    pub store: Option<String>,
    /// Only events at or after this eventTime (RFC 3339).
    #[arg(long, value_parser = parse_time)]
    pub start: Option<DateTime<Utc>>,
    /// Only events at or before this eventTime (RFC 3339).
    #[arg(long, value_parser = parse_time)]
    pub end: Option<DateTime<Utc>>,
    /// Print the CREATE TABLE statement of this engine for the files at --out, and write
    /// nothing. Athena's uses partition projection over the store's accounts and Regions.
    #[arg(long, value_enum, value_name = "ENGINE")]
    pub print_ddl: Option<DdlEngine>,
    /// The table name in the printed DDL.
    #[arg(long, default_value = "cloudtrail")]
    pub table: String,
    #[command(flatten)]
    pub out: ParquetOutArgs,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DdlEngine {
    Trino,
    Athena,
    Spark,
}

#[derive(Args, Debug)]
pub struct ConvertArgs {
    /// A directory served as the bucket root, optionally followed by a prefix inside it, or
    /// `s3://BUCKET[/PREFIX]` (as `trailport import` takes it).
    pub source: String,
    /// Only files delivered at or after this time (RFC 3339), as the import's --start.
    #[arg(long, value_parser = parse_time)]
    pub start: Option<DateTime<Utc>>,
    /// Only files delivered at or before this time (RFC 3339), as the import's --end.
    #[arg(long, value_parser = parse_time)]
    pub end: Option<DateTime<Utc>>,
    /// Convert only the day folders of shard I of N (0 <= I < N), split by a stable hash of
    /// the folder's key; N processes with I = 0..N-1 together convert each folder once.
    #[arg(long, value_name = "I/N", default_value = "0/1")]
    pub shard: String,
    /// The largest object read, compressed or inflated (larger: a failure entry).
    #[arg(long, value_name = "MB", default_value_t = 128, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub max_object_mb: u64,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Abort the process once this many Parquet files are written (a crash, for tests).
    #[arg(long, hide = true, value_name = "N")]
    pub abort_after_files: Option<u64>,
    #[command(flatten)]
    pub out: ParquetOutArgs,
}

#[derive(Args, Debug)]
pub struct QueryArgs {
    /// The statement, e.g. `SELECT eventName, count(*) FROM trailport GROUP BY 1`. FROM takes a
    /// store's ID, as in Lake, or here also its name (`trailport` is the store `trailport
    /// import` fills).
    pub statement: String,
    /// The SQLite database.
    #[arg(long, default_value = "trailport.db")]
    pub db: PathBuf,
    /// How to print the rows: an aligned table (widths from the first 1000 rows), JSON lines
    /// (each row as GetQueryResults gives it: a list of one-key objects), or CSV with a header.
    #[arg(long, value_enum, default_value_t = QueryFormat::Table)]
    pub format: QueryFormat,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryFormat {
    Table,
    Json,
    Csv,
}

#[derive(Args, Debug)]
pub struct LogsImportArgs {
    /// The event data store: its ARN, ID or name (default: the store `trailport import`
    /// fills).
    #[arg(long)]
    pub store: Option<String>,
    /// Only events at or after this eventTime (RFC 3339).
    #[arg(long, value_parser = parse_time)]
    pub start: Option<DateTime<Utc>>,
    /// Only events at or before this eventTime (RFC 3339).
    #[arg(long, value_parser = parse_time)]
    pub end: Option<DateTime<Utc>>,
    /// The SQLite database.
    #[arg(long, default_value = "trailport.db")]
    pub db: PathBuf,
    /// Skip events older than this many days (default: only the 2023 floor applies).
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..=36500))]
    pub retention_days: Option<i64>,
    /// Print exactly the DescribeImportTasks-shaped JSON object of the task on stdout.
    #[arg(long)]
    pub json: bool,
    /// Finish a task that was interrupted (the process ended) instead of starting a new one.
    #[arg(long, value_name = "IMPORT_ID", conflicts_with_all = ["store", "start", "end"])]
    pub resume: Option<String>,
    /// Sleep this many milliseconds per batch (for testing).
    #[arg(long, value_name = "MS")]
    pub pace_per_batch: Option<u64>,
    /// Abort the process right after its Nth batch (a crash, for tests).
    #[arg(long, hide = true, value_name = "N")]
    pub abort_after_batches: Option<u64>,
}

#[derive(Args, Debug)]
pub struct LogsArgs {
    #[command(subcommand)]
    pub command: LogsCommand,
    /// The SQLite database.
    #[arg(long, default_value = "trailport.db", global = true)]
    pub db: PathBuf,
    /// The group of this event data store (ARN, ID or name; default: the store `trailport
    /// import` fills).
    #[arg(long, global = true)]
    pub store: Option<String>,
    /// A log group by name instead (in the offline account and Region).
    #[arg(long, global = true, conflicts_with = "store")]
    pub group: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum LogsCommand {
    /// List the log groups: name, class, stored bytes.
    Groups,
    /// Print the messages matching a filter pattern, oldest first, one per line.
    Filter {
        /// A CloudWatch Logs filter pattern, e.g. '{ $.eventName = "ConsoleLogin" }'.
        #[arg(long)]
        pattern: Option<String>,
        /// Only events at or after this time (RFC 3339).
        #[arg(long, value_parser = parse_time)]
        start: Option<DateTime<Utc>>,
        /// Only events at or before this time (RFC 3339).
        #[arg(long, value_parser = parse_time)]
        end: Option<DateTime<Utc>>,
        /// Only these streams (repeat the flag for more).
        #[arg(long)]
        stream: Vec<String>,
        /// At most this many events.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Print every message of one stream, oldest first.
    Get {
        /// The stream, `ACCOUNT_CloudTrail_REGION`.
        #[arg(long)]
        stream: String,
    },
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// A bucket (directory or s3://); default: a synthetic one of --size.
    pub source: Option<String>,
    /// Size of the synthetic bucket.
    #[arg(long, value_parser = parse_size, default_value = "1GiB")]
    pub size: u64,
    /// The database to import into (default: a temporary file, deleted afterwards).
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
    /// The S3 endpoint for an `s3://` source.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    #[command(flatten)]
    pub s3: S3Args,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:4599")]
    pub addr: std::net::SocketAddr,
    /// The SQLite database.
    #[arg(long, default_value = "trailport.db")]
    pub db: PathBuf,
    /// Directory whose sub-directories are the buckets `s3://BUCKET/...` names.
    #[arg(long, default_value = ".")]
    pub buckets_dir: PathBuf,
    /// The account every request acts for.
    #[arg(long, default_value = "123456789012", value_parser = parse_account)]
    pub account_id: String,
    /// Sleep this many milliseconds per file, so clients can watch status transitions.
    #[arg(long, value_name = "MS")]
    pub pace_per_file: Option<u64>,
    /// Read buckets not found under --buckets-dir over S3 at this endpoint (MinIO,
    /// SeaweedFS...); `aws` for AWS itself.
    #[arg(long, value_name = "URL")]
    pub s3_endpoint: Option<String>,
    /// The largest object an import reads, compressed or inflated (larger: a failure entry).
    #[arg(long, value_name = "MB", default_value_t = 128, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub max_object_mb: u64,
    /// Connections open at once; more are closed as soon as they are accepted.
    #[arg(long, default_value_t = 4096)]
    pub max_connections: usize,
    /// Seconds a client has to send a request's headers, and that a connection may sit idle.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub header_timeout: u64,
    /// Seconds a client has to send a request's body.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub body_timeout: u64,
    /// Sleep this many milliseconds per Logs import batch, so clients can watch and cancel.
    #[arg(long, value_name = "MS")]
    pub pace_per_batch: Option<u64>,
    /// Refuse FilterLogEvents on imported (INFREQUENT_ACCESS) groups, as AWS does.
    #[arg(long)]
    pub strict_log_class: bool,
    #[command(flatten)]
    pub s3: S3Args,
    #[command(flatten)]
    pub hooks: TestHooks,
}

/// Controls for tests that must stop a run at an exact point, whatever the machine's speed.
#[derive(Args, Debug, Clone, Default)]
pub struct TestHooks {
    /// Commit at most this many files per transaction.
    #[arg(long, hide = true, value_name = "N")]
    pub batch_files: Option<usize>,
    /// After each commit, wait while this file exists (or until the run is stopped).
    #[arg(long, hide = true, value_name = "PATH")]
    pub gate_file: Option<PathBuf>,
    /// Abort the process when about to parse an object whose key holds this text (a crash).
    #[arg(long, hide = true, value_name = "TEXT")]
    pub abort_on_key: Option<String>,
    /// Abort the process right after its Nth commit (a crash with files in flight).
    #[arg(long, hide = true, value_name = "N")]
    pub abort_after_commits: Option<u64>,
}

/// How to reach buckets over S3, as the AWS CLI's options and environment say.
#[derive(Args, Debug, Clone)]
pub struct S3Args {
    /// The bucket's Region (default: AWS_REGION or the profile's, else us-east-1).
    #[arg(long)]
    pub region: Option<String>,
    /// A named profile from ~/.aws/config.
    #[arg(long)]
    pub profile: Option<String>,
    /// Checksums only where required, for S3-compatible stores that get them wrong.
    #[arg(long)]
    pub relaxed_checksums: bool,
    /// S3 requests in flight at once: objects fetched, folders listed.
    #[arg(long, default_value_t = s3_source::DEFAULT_CONCURRENCY)]
    pub s3_concurrency: usize,
}

fn parse_account(s: &str) -> Result<String, String> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_string())
    } else {
        Err("an account ID is 12 digits".into())
    }
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// A directory served as the bucket root, optionally followed by a prefix inside it
    /// (`DIR` or `DIR/AWSLogs/123456789012/CloudTrail/`), or `s3://BUCKET[/PREFIX]`.
    pub source: String,
    /// Only files delivered at or after this time (RFC 3339).
    #[arg(long, value_parser = parse_time)]
    pub start: Option<DateTime<Utc>>,
    /// Only files delivered at or before this time (RFC 3339).
    #[arg(long, value_parser = parse_time)]
    pub end: Option<DateTime<Utc>>,
    /// The SQLite database.
    #[arg(long, default_value = "trailport.db")]
    pub db: PathBuf,
    /// Drop records older than this many days (default: keep everything).
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..=36500))]
    pub retention_days: Option<i64>,
    /// Print exactly the GetImport-shaped JSON object on stdout.
    #[arg(long)]
    pub json: bool,
    /// Finish an interrupted or stopped import instead of starting a new one.
    #[arg(long, value_name = "IMPORT_ID")]
    pub resume: Option<String>,
    /// Sleep this many milliseconds per file, to watch status transitions (for testing).
    #[arg(long, value_name = "MS")]
    pub pace_per_file: Option<u64>,
    /// Count what an import would find and import, without writing anything.
    #[arg(long, conflicts_with = "resume")]
    pub dry_run: bool,
    /// The largest object read, compressed or inflated (larger: a failure entry).
    #[arg(long, value_name = "MB", default_value_t = 128, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub max_object_mb: u64,
    #[command(flatten)]
    pub hooks: TestHooks,
    /// The S3 endpoint for an `s3://` source (default: AWS_ENDPOINT_URL_S3,
    /// AWS_ENDPOINT_URL, or AWS itself). A custom endpoint uses path-style addressing.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    #[command(flatten)]
    pub s3: S3Args,
}

#[derive(Args, Debug)]
pub struct SynthArgs {
    /// Directory to write the bucket into.
    #[arg(long)]
    pub out: PathBuf,
    /// Uncompressed size of the logs, e.g. `64MiB`, `1GiB`, `500MB`.
    #[arg(long, value_parser = parse_size)]
    pub size: u64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[arg(long, default_value_t = 2)]
    pub accounts: u32,
    #[arg(long, default_value_t = 3)]
    pub regions: u32,
    #[arg(long, default_value_t = 7)]
    pub days: u32,
    /// Only valid log files: no bad objects, digests or other services' logs (for tools that
    /// stop at the first bad file, in benchmarks).
    #[arg(long)]
    pub clean: bool,
    /// How many records each log file holds, `MIN-MAX` (drawn uniformly). Trails write a file
    /// per Region every few minutes, so real buckets are mostly small files: `1-100` gives
    /// files of ~70 KB uncompressed; the default gives ~850 KB.
    #[arg(long, value_parser = parse_range, default_value = "20-1200")]
    pub records_per_file: (u32, u32),
}

fn parse_range(s: &str) -> Result<(u32, u32), String> {
    let (a, b) = s.split_once('-').ok_or("expected MIN-MAX, e.g. 1-100")?;
    let (a, b): (u32, u32) = (
        a.trim().parse().map_err(|e| format!("{a}: {e}"))?,
        b.trim().parse().map_err(|e| format!("{b}: {e}"))?,
    );
    if a == 0 || a > b {
        return Err("expected 1 <= MIN <= MAX".into());
    }
    Ok((a, b))
}

#[derive(Args, Debug)]
pub struct EventsArgs {
    /// The SQLite database.
    #[arg(long, default_value = "trailport.db")]
    pub db: PathBuf,
    /// Only the event(s) with this eventID.
    #[arg(long)]
    pub event_id: Option<String>,
    /// Only events of this import.
    #[arg(long)]
    pub import_id: Option<String>,
    /// At most this many events.
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("expected an RFC 3339 time such as 2024-03-01T00:00:00Z: {e}"))
}

/// `1GiB`, `512MiB`, `500MB`, `10K`, `123`.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().map_err(|_| format!("not a size: {s:?}"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        other => return Err(format!("unknown size unit {other:?}")),
    };
    Ok((n * mult as f64) as u64)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("500MB"), Ok(500_000_000));
        assert_eq!(parse_size("1.5KiB"), Ok(1536));
        assert_eq!(parse_size("42"), Ok(42));
        assert!(parse_size("12 parsecs").is_err());
    }
}
