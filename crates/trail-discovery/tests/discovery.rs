//! Discovery through its public boundary: keys, locations and walks over real key layouts.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use std::ops::ControlFlow;
use trail_discovery::{
    bucket_name_from, delivery_stamp, discover, discover_days, folder_days, DiscoveredPrefix,
    Found, Listing, LocalDirSource, Location, MemorySource, ObjectSource, SourceError,
    SourceErrorKind, TimeRange,
};

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Folder shapes the pruning reads: `YYYY/`, `YYYY/MM/`, `YYYY/MM/DD/`, and nothing else.
#[test]
fn folder_date_table() {
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    let cases: Vec<(&str, Option<(NaiveDate, NaiveDate)>)> = vec![
        (
            "AWSLogs/1/CloudTrail/us-east-1/2024/",
            Some((d(2024, 1, 1), d(2025, 1, 1))),
        ),
        (
            "AWSLogs/1/CloudTrail/us-east-1/2024/02/",
            Some((d(2024, 2, 1), d(2024, 3, 1))),
        ),
        (
            "AWSLogs/1/CloudTrail/us-east-1/2024/02/29/",
            Some((d(2024, 2, 29), d(2024, 3, 1))),
        ),
        (
            "AWSLogs/1/CloudTrail/us-east-1/2024/12/31/",
            Some((d(2024, 12, 31), d(2025, 1, 1))),
        ),
        ("2024/", Some((d(2024, 1, 1), d(2025, 1, 1)))),
        // Not dates: month 13, Feb 30, wrong widths, a Region, an account.
        ("x/2024/13/", None),
        ("x/2023/02/29/", None),
        ("x/24/01/", None),
        ("x/2024/1/", None),
        ("x/us-east-1/", None),
        ("AWSLogs/123456789012/", None),
        ("", None),
    ];
    for (folder, want) in cases {
        assert_eq!(folder_days(folder), want, "{folder}");
    }
}

#[test]
fn delivery_stamps() {
    assert_eq!(
        delivery_stamp("1_CloudTrail_r_20240229T2359Z_x.json.gz"),
        Some(t("2024-02-29T23:59:00Z"))
    );
    assert_eq!(
        delivery_stamp("1_CloudTrail_r_20230229T2359Z_x.json.gz"),
        None,
        "no Feb 29 in 2023"
    );
    assert_eq!(
        delivery_stamp("1_CloudTrail_r_20240101T2460Z_x.json.gz"),
        None
    );
    assert_eq!(delivery_stamp("no-stamp.json.gz"), None);
    // The AWS docs' spelling without the `_` before the unique string, and digests' seconds.
    assert_eq!(
        delivery_stamp("123456789012_CloudTrail_us-west-1_20140620T1255ZHdkvFTXOA3Vnhbc.json.gz"),
        Some(t("2014-06-20T12:55:00Z"))
    );
    assert_eq!(
        delivery_stamp(
            "976168295228_CloudTrail-Digest_eu-west-2_Bot_us-west-2_20190902T120445Z.json.gz"
        ),
        Some(t("2019-09-02T12:04:45Z"))
    );
    assert_eq!(delivery_stamp("x_2024013T1200Z_y"), None, "seven digits");
}

#[test]
fn locations() {
    let l = Location::parse("s3://my-trail-bucket/AWSLogs/123/CloudTrail/").unwrap();
    assert_eq!(
        (l.bucket.as_str(), l.prefix.as_str()),
        ("my-trail-bucket", "AWSLogs/123/CloudTrail/")
    );
    let l = Location::parse("s3://my.trail-bucket.2").unwrap();
    assert_eq!(l.bucket, "my.trail-bucket.2");
    let l = Location::parse("s3://my-trail-bucket").unwrap();
    assert_eq!(
        (l.bucket.as_str(), l.prefix.as_str()),
        ("my-trail-bucket", "")
    );
    assert_eq!(l.object_uri("a/b"), "s3://my-trail-bucket/a/b");
    for bad in [
        "my-trail-bucket/x",
        "s3://",
        "s3:///x",
        "https://b/x",
        "s3://a b/x",
        // Not S3 bucket names.
        "s3://ab/x",
        "s3://Upper-Case/x",
        "s3://under_score/x",
        "s3://-dash-first/x",
        "s3://dots..twice/x",
        "s3://192.168.1.1/x",
        "s3://.hidden/x",
        "s3://..",
        // Keys are keys, not paths.
        "s3://trail/../../outside/",
        "s3://trail//abs/path/",
        "s3://trail/AWSLogs/./x/",
        "s3://trail/AWSLogs//x/",
        "s3://trail/a/../b/",
        "s3://trail/a\0/",
    ] {
        assert!(Location::parse(&bad.replace("\\0", "\0")).is_err(), "{bad}");
    }
    for (dir, bucket) in [
        ("trail-bucket", "trail-bucket"),
        ("My_Trails 2024", "my-trails-2024"),
        (".tmpAbC123", "tmpabc123"),
        ("ab", "bucket-ab"),
        ("x..y", "x.y"),
        ("10.0.0.1", "bucket-10.0.0.1"),
        ("", "bucket"),
    ] {
        assert_eq!(bucket_name_from(dir), bucket, "{dir}");
        assert!(
            Location::parse(&format!("s3://{bucket}/")).is_ok(),
            "{bucket}"
        );
    }
}

const ACCT: &str = "AWSLogs/111122223333";

fn log(region: &str, day: &str, stamp: &str) -> String {
    format!(
        "{ACCT}/CloudTrail/{region}/{day}/111122223333_CloudTrail_{region}_{stamp}_AAAAAAAAAAAAAAAA.json.gz"
    )
}

/// A bucket with every sibling a trail bucket holds.
fn bucket() -> MemorySource {
    let mut b = MemorySource::new("trail");
    for key in [
        format!("{ACCT}/"),
        format!("{ACCT}/CloudTrail/"),
        format!("{ACCT}/CloudTrail/us-east-1/2024/01/31/"),
        log("us-east-1", "2024/01/31", "20240131T2355Z"),
        log("us-east-1", "2024/02/01", "20240201T0000Z"),
        log("us-east-1", "2024/02/01", "20240201T0005Z"),
        log("us-east-1", "2024/02/02", "20240202T1200Z"),
        log("eu-west-1", "2024/02/01", "20240201T2359Z"),
        log("eu-west-1", "2024/03/01", "20240301T0000Z"),
        format!("{ACCT}/CloudTrail-Digest/us-east-1/2024/02/01/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20240201T000000Z.json.gz"),
        format!("{ACCT}/CloudTrail-Insight/us-east-1/2024/02/01/111122223333_CloudTrail-Insight_us-east-1_20240201T0000Z_x.json.gz"),
        format!("{ACCT}/elasticloadbalancing/us-east-1/2024/02/01/elb.log.gz"),
        "AWSLogs/o-abcdefghij/444455556666/CloudTrail/us-east-1/2024/02/01/444455556666_CloudTrail_us-east-1_20240201T0100Z_BBBBBBBBBBBBBBBB.json.gz".to_string(),
        "other-app/logs/2024/02/01/app.log".to_string(),
    ] {
        b.put(key, b"x".to_vec());
    }
    b
}

fn walk(
    source: &dyn ObjectSource,
    prefix: &str,
    range: TimeRange,
) -> (Vec<DiscoveredPrefix>, trail_discovery::DiscoveryStats) {
    let mut found = Vec::new();
    let walked = discover(source, prefix, &range, |f| {
        match f {
            Found::Folder(p) => found.push(p),
            Found::Unlistable { prefix, error } => panic!("{prefix}: {error}"),
        }
        ControlFlow::<()>::Continue(())
    })
    .unwrap();
    assert_eq!(walked.stopped, None);
    (found, walked.stats)
}

fn keys(found: &[DiscoveredPrefix]) -> Vec<String> {
    found
        .iter()
        .flat_map(|p| p.objects.iter().map(|o| o.key.clone()))
        .collect()
}

#[test]
fn default_scope_reads_only_cloudtrail_folders() {
    let b = bucket();
    let (found, stats) = walk(&b, "", TimeRange::default());
    let prefixes: Vec<&str> = found.iter().map(|p| p.prefix.as_str()).collect();
    assert_eq!(
        prefixes,
        [
            "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/02/01/",
            "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/03/01/",
            "AWSLogs/111122223333/CloudTrail/us-east-1/2024/01/31/",
            "AWSLogs/111122223333/CloudTrail/us-east-1/2024/02/01/",
            "AWSLogs/111122223333/CloudTrail/us-east-1/2024/02/02/",
            "AWSLogs/o-abcdefghij/444455556666/CloudTrail/us-east-1/2024/02/01/",
        ]
    );
    assert_eq!(stats.prefixes_found, 6);
    assert_eq!(stats.files_found, 7);
    // The markers `CloudTrail/` and `.../2024/01/31/` are listed as objects of their own folder
    // and skipped; `AWSLogs/111122223333/` is outside the scope and never looked at.
    assert_eq!(stats.folder_markers, 2);
    assert!(keys(&found).iter().all(|k| k.contains("/CloudTrail/")));
}

#[test]
fn explicit_prefixes() {
    let b = bucket();
    // Outside the AWSLogs layout, everything under the prefix is a candidate.
    let (found, _) = walk(&b, "other-app", TimeRange::default());
    assert_eq!(keys(&found), ["other-app/logs/2024/02/01/app.log"]);
    // At or below a CloudTrail folder, everything under it.
    let (found, _) = walk(&b, &format!("{ACCT}/CloudTrail"), TimeRange::default());
    assert_eq!(
        keys(&found).len(),
        6,
        "the prefix names a folder: CloudTrail-Digest is not under it"
    );
    // Inside AWSLogs but above CloudTrail, the default rule: digests, Insights and other
    // services' logs beside the trail's folder are not read.
    let (found, _) = walk(&b, &format!("{ACCT}/"), TimeRange::default());
    assert_eq!(keys(&found).len(), 6);
    assert!(keys(&found).iter().all(|k| k.contains("/CloudTrail/")));
    let (found, _) = walk(
        &b,
        &format!("{ACCT}/CloudTrail-Digest/"),
        TimeRange::default(),
    );
    assert_eq!(keys(&found), Vec::<String>::new());
}

/// A trail with an S3 key prefix delivers to `PREFIX/AWSLogs/...`: naming `PREFIX/` reads the
/// trail's logs, not its digests or other services' logs beside them.
#[test]
fn a_trail_key_prefix_reads_only_the_trail_logs_below_it() {
    let mut b = MemorySource::new("b");
    let logs = [
        "team/trails/AWSLogs/111122223333/CloudTrail/us-east-1/2024/02/01/111122223333_CloudTrail_us-east-1_20240201T0000Z_a.json.gz",
        "team/trails/AWSLogs/o-abcdefghij/444455556666/CloudTrail/eu-west-1/2024/02/01/444455556666_CloudTrail_eu-west-1_20240201T0000Z_b.json.gz",
        "team/trails/notes.json.gz",
    ];
    for key in logs {
        b.put(key, b"x".to_vec());
    }
    for key in [
        "team/trails/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/02/01/d.json.gz",
        "team/trails/AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2024/02/01/i.json.gz",
        "team/trails/AWSLogs/111122223333/elasticloadbalancing/us-east-1/2024/02/01/e.log.gz",
        "team/other/x.json.gz",
    ] {
        b.put(key, b"x".to_vec());
    }
    let (found, stats) = walk(&b, "team/trails/", TimeRange::default());
    let mut got = keys(&found);
    got.sort();
    let mut want: Vec<String> = logs.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(
        got, want,
        "the stray file beside AWSLogs/ is a candidate, as any file under a prefix"
    );
    assert_eq!(stats.prefixes_found, 3);
}

/// Walks `src` and breaks off at the second folder: the walk says so and saw two.
fn stop_at_the_second_folder(src: &dyn ObjectSource) {
    let mut seen = 0;
    let walked = discover(src, "", &TimeRange::default(), |_| {
        seen += 1;
        if seen == 2 {
            ControlFlow::Break("enough")
        } else {
            ControlFlow::Continue(())
        }
    })
    .unwrap();
    assert_eq!(walked.stopped, Some("enough"));
    assert_eq!(walked.stats.prefixes_found, 2);
    assert_eq!(seen, 2);
}

#[test]
fn the_caller_stops_the_walk() {
    stop_at_the_second_folder(&bucket());
}

#[test]
fn time_range_prunes_days_and_filters_files_at_the_boundaries() {
    let b = bucket();
    let range = TimeRange::new(
        Some(t("2024-02-01T00:00:00Z")),
        Some(t("2024-02-01T23:59:00Z")),
    );
    let (found, stats) = walk(&b, &format!("{ACCT}/CloudTrail/"), range);
    assert_eq!(
        keys(&found),
        [
            log("eu-west-1", "2024/02/01", "20240201T2359Z"),
            log("us-east-1", "2024/02/01", "20240201T0000Z"),
            log("us-east-1", "2024/02/01", "20240201T0005Z"),
        ],
        "both ends inclusive"
    );
    assert_eq!(stats.prefixes_found, 2);
    assert_eq!(
        stats.files_out_of_range, 0,
        "the other days were never listed"
    );

    // One minute later at the start, one minute earlier at the end: both boundary files drop.
    let range = TimeRange::new(
        Some(t("2024-02-01T00:01:00Z")),
        Some(t("2024-02-01T23:58:59Z")),
    );
    let (found, stats) = walk(&b, &format!("{ACCT}/CloudTrail/"), range);
    assert_eq!(
        keys(&found),
        [log("us-east-1", "2024/02/01", "20240201T0005Z")]
    );
    assert_eq!(stats.files_out_of_range, 2);
    assert_eq!(stats.prefixes_found, 1);
}

#[test]
fn pruning_saves_list_calls() {
    let mut b = MemorySource::new("big");
    for day in 1..=28 {
        for month in 1..=12 {
            b.put(
                log(
                    "us-east-1",
                    &format!("2023/{month:02}/{day:02}"),
                    &format!("2023{month:02}{day:02}T1200Z"),
                ),
                b"x".to_vec(),
            );
        }
    }
    let (_, all) = walk(&b, "", TimeRange::default());
    assert_eq!(all.prefixes_found, 336);
    // The root, AWSLogs, account, CloudTrail, region, year; 12 months; 336 days.
    assert_eq!(all.list_calls, 6 + 12 + 336);
    let range = TimeRange::new(
        Some(t("2023-06-10T00:00:00Z")),
        Some(t("2023-06-11T23:59:59Z")),
    );
    let before = b.list_calls();
    let (found, pruned) = walk(&b, "", range);
    assert_eq!(found.len(), 2);
    // The same first six levels, one month (June), two days.
    assert_eq!(pruned.list_calls, 6 + 1 + 2);
    assert_eq!(b.list_calls() - before, pruned.list_calls);
}

/// A share of the day folders (a shard) is found without listing the others.
#[test]
fn unwanted_days_are_not_listed() {
    let mut b = MemorySource::new("big");
    for day in 1..=28 {
        b.put(
            log(
                "us-east-1",
                &format!("2023/02/{day:02}"),
                &format!("202302{day:02}T1200Z"),
            ),
            b"x".to_vec(),
        );
    }
    let wanted = |folder: &str| folder.ends_with("/07/") || folder.ends_with("/21/");
    let mut found = Vec::new();
    let walked = discover_days(&b, "", &TimeRange::default(), &wanted, |f| {
        if let Found::Folder(p) = f {
            found.push(p.prefix);
        }
        ControlFlow::<()>::Continue(())
    })
    .unwrap();
    assert_eq!(
        found,
        [
            format!("{ACCT}/CloudTrail/us-east-1/2023/02/07/"),
            format!("{ACCT}/CloudTrail/us-east-1/2023/02/21/")
        ]
    );
    // The root, AWSLogs, account, CloudTrail, region, year, month; two days.
    assert_eq!(walked.stats.list_calls, 7 + 2);
}

#[test]
fn files_without_a_stamp_are_not_attempted_when_a_range_is_set() {
    let mut b = MemorySource::new("b");
    b.put("in/2024/02/01/nostamp.json.gz", b"x".to_vec());
    b.put(
        "in/2024/02/01/1_CloudTrail_r_20240201T0100Z_x.json.gz",
        b"x".to_vec(),
    );
    let (found, _) = walk(&b, "in/", TimeRange::default());
    assert_eq!(keys(&found).len(), 2);
    let range = TimeRange::new(Some(t("2024-01-01T00:00:00Z")), None);
    let (found, stats) = walk(&b, "in/", range);
    assert_eq!(
        keys(&found),
        ["in/2024/02/01/1_CloudTrail_r_20240201T0100Z_x.json.gz"]
    );
    assert_eq!(stats.files_out_of_range, 1);
}

#[test]
fn folder_like_dates_that_are_not_dates_are_not_pruned() {
    let range = TimeRange::new(
        Some(Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap()),
        None,
    );
    assert!(range.admits_folder("x/2024/13/"));
    assert!(!range.admits_folder("x/2023/"));
    assert!(!range.admits_folder("x/2023/12/"));
    assert!(!range.admits_folder("x/2023/12/31/"));
    assert!(range.admits_folder("x/2024/"));
    assert!(range.admits_folder("x/us-east-1/"));
}

#[test]
fn a_directory_lists_like_s3() {
    let dir = tempfile::tempdir().unwrap();
    let b = bucket();
    for key in b.list("", "").unwrap().objects.iter().map(|o| &o.key) {
        if key.ends_with('/') {
            continue;
        }
        let p = dir.path().join(key);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b"x").unwrap();
    }
    let local = LocalDirSource::new(dir.path()).unwrap();
    let (mem_found, _) = walk(&b, "", TimeRange::default());
    let (dir_found, _) = walk(&local, "", TimeRange::default());
    assert_eq!(keys(&mem_found), keys(&dir_found));
    let root = local.list("AWSLogs/111122223333/Cloud", "/").unwrap();
    assert_eq!(
        root.common_prefixes,
        [
            "AWSLogs/111122223333/CloudTrail-Digest/",
            "AWSLogs/111122223333/CloudTrail-Insight/",
            "AWSLogs/111122223333/CloudTrail/",
        ]
    );
    assert_eq!(
        local
            .read(&log("us-east-1", "2024/02/02", "20240202T1200Z"), 1)
            .unwrap(),
        b"x"
    );
    let missing = local.read("AWSLogs/nope", 10).unwrap_err();
    assert_eq!(missing.kind, trail_discovery::SourceErrorKind::NoSuchKey);
    assert!(LocalDirSource::new(dir.path().join("nope")).is_err());
}

/// A bucket directory next to a secret: nothing outside the root can be named, listed or read.
struct Sandbox {
    dir: tempfile::TempDir,
    source: LocalDirSource,
}

const DAY: &str = "AWSLogs/111122223333/CloudTrail/us-east-1/2024/02/01/";

fn sandbox() -> Sandbox {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("bucket");
    let day = root.join(DAY);
    std::fs::create_dir_all(&day).unwrap();
    std::fs::create_dir_all(dir.path().join("outside")).unwrap();
    std::fs::write(dir.path().join("outside/secret.json.gz"), b"secret").unwrap();
    std::fs::write(day.join("good.json.gz"), b"good").unwrap();
    symlink(
        dir.path().join("outside/secret.json.gz"),
        day.join("escape.json.gz"),
    )
    .unwrap();
    symlink("/dev/zero", day.join("zero.json.gz")).unwrap();
    symlink(day.join("nowhere"), day.join("dangling.json.gz")).unwrap();
    symlink(day.join("loop-b.json.gz"), day.join("loop-a.json.gz")).unwrap();
    symlink(day.join("loop-a.json.gz"), day.join("loop-b.json.gz")).unwrap();
    symlink(day.join("good.json.gz"), day.join("inside.json.gz")).unwrap();
    symlink("good.json.gz", day.join("relative.json.gz")).unwrap();
    // Through a `/proc` magic link, to the file outside.
    symlink(
        format!(
            "/proc/self/root{}",
            dir.path().join("outside/secret.json.gz").display()
        ),
        day.join("proc.json.gz"),
    )
    .unwrap();
    symlink(root.join("AWSLogs"), day.join("dir-link")).unwrap();
    symlink(
        dir.path().join("outside"),
        root.join("AWSLogs/outside-link"),
    )
    .unwrap();
    {
        use std::os::unix::ffi::OsStrExt;
        let name = std::ffi::OsStr::from_bytes(b"bad-\xff-name.json.gz");
        std::fs::write(day.join(name), b"x").unwrap();
    }
    let status = std::process::Command::new("mkfifo")
        .arg(day.join("fifo.json.gz"))
        .status()
        .unwrap();
    assert!(status.success());
    let source = LocalDirSource::new(&root).unwrap();
    Sandbox { dir, source }
}

#[test]
fn a_directory_bucket_never_reads_outside_its_root() {
    let sb = sandbox();
    let src = &sb.source;
    // Keys that are paths name nothing.
    for key in [
        "../outside/secret.json.gz",
        "AWSLogs/../../outside/secret.json.gz",
        "/etc/passwd",
        "AWSLogs//111122223333/x",
        "./AWSLogs/x",
        "AWSLogs/outside-link/secret.json.gz",
    ] {
        let err = src.read(key, 100).unwrap_err();
        assert!(
            matches!(
                err.kind,
                SourceErrorKind::NoSuchKey | SourceErrorKind::AccessDenied
            ),
            "{key}: {err}"
        );
    }
    for prefix in ["../", "../outside/", "AWSLogs/outside-link/", "/"] {
        assert_eq!(
            src.list(prefix, "/").unwrap(),
            Listing::default(),
            "{prefix}"
        );
    }
    // The day folder lists its regular files and its links (names in the bucket), not the
    // FIFO, and not the link to a directory.
    let listed: Vec<String> = src
        .list(DAY, "/")
        .unwrap()
        .objects
        .into_iter()
        .map(|o| o.key.trim_start_matches(DAY).to_string())
        .collect();
    assert_eq!(
        listed,
        [
            "bad-\u{FFFD}-name.json.gz",
            "dangling.json.gz",
            "escape.json.gz",
            "good.json.gz",
            "inside.json.gz",
            "loop-a.json.gz",
            "loop-b.json.gz",
            "proc.json.gz",
            "relative.json.gz",
            "zero.json.gz"
        ]
    );
    let read = |name: &str| src.read(&format!("{DAY}{name}"), 1 << 20);
    assert_eq!(read("good.json.gz").unwrap(), b"good");
    assert_eq!(
        read("inside.json.gz").unwrap(),
        b"good",
        "a link inside the root is read"
    );
    assert_eq!(read("relative.json.gz").unwrap(), b"good");
    for (name, kind) in [
        ("escape.json.gz", SourceErrorKind::AccessDenied),
        ("proc.json.gz", SourceErrorKind::AccessDenied),
        ("zero.json.gz", SourceErrorKind::AccessDenied),
        ("dangling.json.gz", SourceErrorKind::NoSuchKey),
        ("bad-\u{FFFD}-name.json.gz", SourceErrorKind::NoSuchKey),
        ("loop-a.json.gz", SourceErrorKind::Other),
        ("fifo.json.gz", SourceErrorKind::Other),
    ] {
        let err = read(name).unwrap_err();
        assert_eq!(err.kind, kind, "{name}: {err}");
        assert!(err.message.contains(name), "{err}");
        if name.contains('\u{FFFD}') {
            assert!(err.message.contains("not valid UTF-8"), "{err}");
        }
    }
    assert!(!sb
        .dir
        .path()
        .join("outside/secret.json.gz")
        .metadata()
        .unwrap()
        .permissions()
        .readonly());
    // The walk finds every listed name and never leaves the root.
    let (found, stats) = walk(src, "", TimeRange::default());
    assert_eq!(keys(&found).len(), 10);
    assert_eq!(stats.prefixes_found, 1);
}

/// A source where one folder cannot be listed.
struct OneUnlistable(MemorySource, &'static str);

impl ObjectSource for OneUnlistable {
    fn bucket(&self) -> &str {
        self.0.bucket()
    }
    fn list(&self, prefix: &str, delimiter: &str) -> Result<Listing, SourceError> {
        if prefix == self.1 {
            return Err(SourceError::new(
                SourceErrorKind::AccessDenied,
                "Permission denied",
            ));
        }
        self.0.list(prefix, delimiter)
    }
    fn open(&self, key: &str) -> Result<Box<dyn std::io::Read + Send + '_>, SourceError> {
        self.0.open(key)
    }
}

#[test]
fn a_folder_that_cannot_be_listed_is_reported_and_the_rest_walked() {
    let bad = "AWSLogs/111122223333/CloudTrail/us-east-1/2024/02/01/";
    let src = OneUnlistable(bucket(), bad);
    let mut folders = Vec::new();
    let mut unlistable = Vec::new();
    let walked = discover(&src, "", &TimeRange::default(), |f| {
        match f {
            Found::Folder(p) => folders.push(p.prefix),
            Found::Unlistable { prefix, error } => unlistable.push((prefix, error.kind)),
        }
        ControlFlow::<()>::Continue(())
    })
    .unwrap();
    assert_eq!(
        unlistable,
        [(bad.to_string(), SourceErrorKind::AccessDenied)]
    );
    assert_eq!(folders.len(), 5, "{folders:?}");
    assert_eq!(walked.stats.prefixes_found, 5);
    // The start itself cannot be listed: the walk fails.
    let src = OneUnlistable(bucket(), "");
    assert!(discover(&src, "", &TimeRange::default(), |_| {
        ControlFlow::<()>::Continue(())
    })
    .is_err());
}

/// A source that lists `ahead` folders at once, and counts how many lists run together. With
/// a gate of two folders, neither list returns (until a deadline) before both have begun: the
/// walk passes only if it lists the second while it lists the first.
struct ListsAhead {
    inner: MemorySource,
    ahead: usize,
    gate: Option<[String; 2]>,
    /// A folder whose list panics.
    panics_on: Option<String>,
    state: std::sync::Mutex<Lists>,
    changed: std::sync::Condvar,
}

#[derive(Default)]
struct Lists {
    running: usize,
    most: usize,
    started: Vec<String>,
    /// The gate's deadline passed: the two folders were not listed at the same time.
    timed_out: bool,
}

impl ListsAhead {
    fn new(ahead: usize, gate: Option<[&str; 2]>) -> Self {
        ListsAhead {
            inner: bucket(),
            ahead,
            gate: gate.map(|g| g.map(|f| format!("{ACCT}/CloudTrail/{f}"))),
            panics_on: None,
            state: Default::default(),
            changed: Default::default(),
        }
    }
}

impl ObjectSource for ListsAhead {
    fn bucket(&self) -> &str {
        self.inner.bucket()
    }
    fn list_concurrency(&self) -> usize {
        self.ahead
    }
    fn list(&self, prefix: &str, delimiter: &str) -> Result<Listing, SourceError> {
        let mut s = self.state.lock().unwrap();
        s.running += 1;
        s.most = s.most.max(s.running);
        s.started.push(prefix.to_string());
        self.changed.notify_all();
        if let Some(gate) = self.gate.as_ref().filter(|g| g.iter().any(|f| f == prefix)) {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
            while !gate.iter().all(|f| s.started.contains(f)) {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    s.timed_out = true;
                    break;
                }
                s = self.changed.wait_timeout(s, left).unwrap().0;
            }
        }
        drop(s);
        let listing = self.inner.list(prefix, delimiter);
        self.state.lock().unwrap().running -= 1;
        if self.panics_on.as_deref() == Some(prefix) {
            panic!("listing {prefix}");
        }
        listing
    }
    fn open(&self, key: &str) -> Result<Box<dyn std::io::Read + Send + '_>, SourceError> {
        self.inner.open(key)
    }
}

/// A remote source lists the folders the walk visits next while it lists the one it is at;
/// what the walk hands over, and in which order, is what a walk one list at a time hands over.
#[test]
fn a_walk_lists_ahead_and_hands_folders_over_in_key_order() {
    let serial = ListsAhead::new(1, None);
    let (want, want_stats) = walk(&serial, "", TimeRange::default());
    assert_eq!(serial.state.lock().unwrap().most, 1);
    assert_eq!(want.len(), 6);
    for ahead in [2, 3, 8, 1000] {
        let src = ListsAhead::new(ahead, None);
        let (found, stats) = walk(&src, "", TimeRange::default());
        assert_eq!(found, want, "ahead {ahead}");
        assert_eq!(stats, want_stats, "ahead {ahead}");
        let s = src.state.lock().unwrap();
        assert!(s.most <= ahead, "ahead {ahead}: {} lists at once", s.most);
        // Every folder is listed once, however many run at once.
        assert_eq!(s.started.len() as u64, stats.list_calls, "ahead {ahead}");
    }
    // While the walk lists one day folder, the next one is being listed too.
    let src = ListsAhead::new(8, Some(["us-east-1/2024/02/01/", "us-east-1/2024/02/02/"]));
    let (found, _) = walk(&src, "", TimeRange::default());
    assert_eq!(found, want);
    let s = src.state.lock().unwrap();
    assert!(!s.timed_out, "the next folder was not listed ahead");
    assert!(s.most >= 2);
    drop(s);
    // A walk that breaks off returns what it saw; lists it had started end with it.
    let src = ListsAhead::new(8, None);
    stop_at_the_second_folder(&src);
    assert_eq!(src.state.lock().unwrap().running, 0);
    // A list that panics panics the walk when the walk comes to its folder, as one run by the
    // walk itself would; a walk that breaks off before it is not troubled by it.
    let panicking = || ListsAhead {
        // The walk's last folder.
        panics_on: Some(
            "AWSLogs/o-abcdefghij/444455556666/CloudTrail/us-east-1/2024/02/01/".into(),
        ),
        ..ListsAhead::new(8, None)
    };
    stop_at_the_second_folder(&panicking());
    let src = panicking();
    let walked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        walk(&src, "", TimeRange::default())
    }));
    assert!(walked.is_err());
}

/// Listing ahead lists only what a walk one list at a time lists: folders pruned by the time
/// range or left out by `wanted` are never listed.
#[test]
fn a_walk_that_lists_ahead_prunes_as_one_that_does_not() {
    let range = TimeRange::new(
        Some(t("2024-02-01T00:00:00Z")),
        Some(t("2024-02-28T23:59:59Z")),
    );
    let listed = |ahead| {
        let src = ListsAhead::new(ahead, None);
        let mut found = Vec::new();
        let walked = discover_days(&src, "", &range, &|day| !day.ends_with("/02/02/"), |f| {
            if let Found::Folder(p) = f {
                found.push(p.prefix);
            }
            ControlFlow::<()>::Continue(())
        })
        .unwrap();
        let mut started = src.state.lock().unwrap().started.clone();
        started.sort();
        (found, walked.stats, started)
    };
    let (found, stats, started) = listed(1);
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(!started
        .iter()
        .any(|f| f.ends_with("/02/02/") || f.contains("/2024/01/")));
    assert!(!started.iter().any(|f| f.contains("/2024/03/")));
    assert_eq!(listed(8), (found, stats, started));
}
