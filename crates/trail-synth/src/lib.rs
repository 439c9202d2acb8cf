//! Generates realistic synthetic CloudTrail buckets, with the counts an import must report.
//!
//! [`generate`] writes a bucket in the real key layout
//! (`AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_X.json.gz`)
//! to a directory: records of many services and of varied size, a few digest files and another
//! service's logs beside the trail (which an import must not read), and a handful of bad objects
//! inside it (a truncated gzip, an uncompressed `.json`, a gzip of non-JSON, a file with records
//! lacking `eventTime`). It returns [`Expected`]: what a correct import of the whole bucket reports.
//! Files are generated in parallel, each from its own seed, so the output depends only on [`Spec`].

mod records;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use flate2::write::GzEncoder;
use flate2::Compression;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What to generate.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Target uncompressed size of the valid log files, in bytes.
    pub size: u64,
    pub seed: u64,
    pub accounts: u32,
    pub regions: u32,
    pub days: u32,
    /// Records per file: uniformly between these bounds.
    pub records_per_file: (u32, u32),
    /// Whether to add the bad objects, digests and other services' logs.
    pub awkward: bool,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            size: 64 << 20,
            seed: 1,
            accounts: 2,
            regions: 3,
            days: 7,
            records_per_file: (20, 1200),
            awkward: true,
        }
    }
}

/// The statistics a correct import of the generated bucket reports, and its size.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    pub prefixes_found: u64,
    pub files_completed: u64,
    pub events_completed: u64,
    pub failed_entries: u64,
    /// Records not imported because they are not valid events.
    pub invalid_records: u64,
    /// Objects outside the `CloudTrail` folders (digests, other services).
    pub ignored_objects: u64,
    /// Inflated size of the log files in the `CloudTrail` folders.
    pub uncompressed_bytes: u64,
    pub compressed_bytes: u64,
}

pub const REGIONS: [&str; 8] = [
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "sa-east-1",
    "ca-central-1",
];

struct FilePlan {
    account: String,
    region: &'static str,
    delivered: NaiveDateTime,
    records: u32,
    seed: u64,
}

/// Writes the bucket under `out` (created if needed) and returns what an import must report.
pub fn generate(out: &Path, spec: &Spec) -> std::io::Result<Expected> {
    let mut rng = SmallRng::seed_from_u64(spec.seed);
    let accounts: Vec<String> = (0..spec.accounts.max(1))
        .map(|_| {
            format!(
                "{:012}",
                rng.random_range(100_000_000_000u64..999_999_999_999)
            )
        })
        .collect();
    let regions = &REGIONS[..(spec.regions.clamp(1, REGIONS.len() as u32) as usize)];
    let start = NaiveDate::from_ymd_opt(2024, 3, 1).expect("date");
    let days = spec.days.max(1);

    // Plan files until the expected size is reached (mean record ≈ records::MEAN_BYTES).
    let mut plans = Vec::new();
    let mut planned = 0u64;
    while planned < spec.size {
        let records = rng.random_range(spec.records_per_file.0..=spec.records_per_file.1);
        let day = start + Duration::days(rng.random_range(0..days) as i64);
        let minute = rng.random_range(0..288) * 5;
        plans.push(FilePlan {
            account: accounts[rng.random_range(0..accounts.len())].clone(),
            region: regions[rng.random_range(0..regions.len())],
            delivered: day.and_hms_opt(0, 0, 0).expect("midnight") + Duration::minutes(minute),
            records,
            seed: rng.random(),
        });
        planned += u64::from(records) * records::MEAN_BYTES;
    }

    let written: Vec<(PathBuf, u64, u64, u64)> = plans
        .par_iter()
        .map(|plan| write_log_file(out, plan))
        .collect::<std::io::Result<_>>()?;
    let mut expected = Expected::default();
    let mut prefixes = std::collections::BTreeSet::new();
    for (path, events, raw, gz) in &written {
        prefixes.insert(path.parent().map(Path::to_path_buf));
        expected.files_completed += 1;
        expected.events_completed += events;
        expected.uncompressed_bytes += raw;
        expected.compressed_bytes += gz;
    }
    if spec.awkward {
        let first = &plans[0];
        let dir = day_dir(
            out,
            &first.account,
            "CloudTrail",
            first.region,
            first.delivered,
        );
        add_awkward(
            out,
            &dir,
            &first.account,
            first,
            &mut expected,
            &mut prefixes,
        )?;
    }
    expected.prefixes_found = prefixes.len() as u64;
    Ok(expected)
}

fn day_dir(out: &Path, account: &str, folder: &str, region: &str, t: NaiveDateTime) -> PathBuf {
    out.join(format!(
        "AWSLogs/{account}/{folder}/{region}/{}",
        t.format("%Y/%m/%d")
    ))
}

fn unique(rng: &mut SmallRng) -> String {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..16)
        .map(|_| ALNUM[rng.random_range(0..ALNUM.len())] as char)
        .collect()
}

fn log_name(
    account: &str,
    region: &str,
    t: NaiveDateTime,
    rng: &mut SmallRng,
    ext: &str,
) -> String {
    format!(
        "{account}_CloudTrail_{region}_{}_{}{ext}",
        t.format("%Y%m%dT%H%MZ"),
        unique(rng)
    )
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut enc = GzEncoder::new(Vec::with_capacity(bytes.len() / 6), Compression::new(6));
    enc.write_all(bytes)?;
    enc.finish()
}

fn write_log_file(out: &Path, plan: &FilePlan) -> std::io::Result<(PathBuf, u64, u64, u64)> {
    let mut rng = SmallRng::seed_from_u64(plan.seed);
    let dir = day_dir(
        out,
        &plan.account,
        "CloudTrail",
        plan.region,
        plan.delivered,
    );
    std::fs::create_dir_all(&dir)?;
    let mut body = String::with_capacity(plan.records as usize * 1800 + 16);
    body.push_str("{\"Records\":[");
    for i in 0..plan.records {
        if i > 0 {
            body.push(',');
        }
        let at = plan.delivered - Duration::seconds(rng.random_range(1..600));
        records::write_record(&mut body, &mut rng, &plan.account, plan.region, at);
    }
    body.push_str("]}");
    let gz = gzip(body.as_bytes())?;
    let path = dir.join(log_name(
        &plan.account,
        plan.region,
        plan.delivered,
        &mut rng,
        ".json.gz",
    ));
    std::fs::write(&path, &gz)?;
    Ok((
        path,
        u64::from(plan.records),
        body.len() as u64,
        gz.len() as u64,
    ))
}

/// The bad objects, digests and other services' logs.
fn add_awkward(
    out: &Path,
    dir: &Path,
    account: &str,
    plan: &FilePlan,
    expected: &mut Expected,
    prefixes: &mut std::collections::BTreeSet<Option<PathBuf>>,
) -> std::io::Result<()> {
    let mut rng = SmallRng::seed_from_u64(plan.seed ^ 0xa5a5);
    let t = plan.delivered;
    let mut record = String::new();
    records::write_record(
        &mut record,
        &mut rng,
        account,
        plan.region,
        t - Duration::seconds(30),
    );
    let good = format!("{{\"Records\":[{record}]}}");
    let mut other = String::new();
    records::write_record(
        &mut other,
        &mut rng,
        account,
        plan.region,
        t - Duration::seconds(20),
    );

    // Bad objects in the trail's own folder: each one failure entry, no events.
    let truncated = gzip(good.as_bytes())?;
    let bad: Vec<(String, Vec<u8>)> = vec![
        (
            log_name(account, plan.region, t, &mut rng, ".json.gz"),
            truncated[..truncated.len() / 2].to_vec(),
        ),
        (
            log_name(account, plan.region, t, &mut rng, ".json"),
            good.clone().into_bytes(),
        ),
        (
            log_name(account, plan.region, t, &mut rng, ".json.gz"),
            gzip(b"this is not json\n")?,
        ),
    ];
    for (name, bytes) in bad {
        std::fs::write(dir.join(name), &bytes)?;
        expected.files_completed += 1;
        expected.failed_entries += 1;
        expected.compressed_bytes += bytes.len() as u64;
    }
    // A file with two good records around one without eventTime: one entry, two events.
    let no_time = record.replacen("\"eventTime\":", "\"eventTimeX\":", 1);
    let mixed = format!("{{\"Records\":[{record},{no_time},{other}]}}");
    let gz = gzip(mixed.as_bytes())?;
    std::fs::write(
        dir.join(log_name(account, plan.region, t, &mut rng, ".json.gz")),
        &gz,
    )?;
    expected.files_completed += 1;
    expected.failed_entries += 1;
    expected.invalid_records += 1;
    expected.events_completed += 2;
    expected.uncompressed_bytes += mixed.len() as u64;
    expected.compressed_bytes += gz.len() as u64;
    prefixes.insert(Some(dir.to_path_buf()));

    // Siblings never read: a digest and an Insight file beside the trail, another service's logs.
    for folder in ["CloudTrail-Digest", "CloudTrail-Insight"] {
        let d = day_dir(out, account, folder, plan.region, t);
        std::fs::create_dir_all(&d)?;
        let name = format!(
            "{account}_{folder}_{}_trail_{}_{}.json.gz",
            plan.region,
            plan.region,
            t.format("%Y%m%dT%H%M%SZ")
        );
        std::fs::write(
            d.join(name),
            gzip(b"{\"awsAccountId\":\"0\",\"logFiles\":[]}")?,
        )?;
        expected.ignored_objects += 1;
    }
    let elb = out.join(format!(
        "AWSLogs/{account}/elasticloadbalancing/{}/{}",
        plan.region,
        t.format("%Y/%m/%d")
    ));
    std::fs::create_dir_all(&elb)?;
    std::fs::write(
        elb.join("elb.log.gz"),
        gzip(b"http 2024-03-01T00:00:00Z app/x 1.2.3.4:1 - 0 0 0 200\n")?,
    )?;
    expected.ignored_objects += 1;
    Ok(())
}
