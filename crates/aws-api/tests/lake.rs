//! Lake queries driven by the real AWS SDK for Rust (`aws-sdk-cloudtrail`) against the server
//! on a loopback port: start → poll DescribeQuery → page GetQueryResults, cancel, and every
//! error the five operations declare, with its exact name and HTTP 400. Expected rows come
//! from the golden corpus (`fixtures/lake-queries`, computed by DuckDB).

use aws_sdk_cloudtrail::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudtrail::types::{ImportSource, QueryStatus, S3ImportSource};
use import_engine::{DirResolver, Engine, EngineConfig, FixedClock};
use serde_json::Value;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

const NOW: &str = "2025-01-01T00:00:00Z";
const ROLE: &str = "arn:aws:iam::123456789012:role/import";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Server {
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

async fn server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let buckets = dir.path().join("buckets");
    std::fs::create_dir(&buckets).unwrap();
    std::os::unix::fs::symlink(
        root().join("fixtures/trail-bucket"),
        buckets.join("trail-bucket"),
    )
    .unwrap();
    let config = EngineConfig {
        clock: Arc::new(FixedClock::at(NOW).unwrap()),
        resolver: Arc::new(DirResolver { root: buckets }),
        background: true,
        retention: import_engine::RetentionPolicy::KeepAll,
        ..Default::default()
    };
    let engine = Arc::new(Engine::open(dir.path().join("t.db"), config).unwrap());
    let app = aws_api::App::new(engine, "123456789012");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(aws_api::serve(
        listener,
        Arc::new(app),
        std::future::pending(),
    ));
    Server { addr, _dir: dir }
}

fn client(addr: SocketAddr) -> aws_sdk_cloudtrail::Client {
    let conf = aws_sdk_cloudtrail::Config::builder()
        .behavior_version(aws_sdk_cloudtrail::config::BehaviorVersion::latest())
        .region(aws_sdk_cloudtrail::config::Region::new("us-east-1"))
        .endpoint_url(format!("http://{addr}"))
        .credentials_provider(aws_sdk_cloudtrail::config::Credentials::new(
            "AKIDEXAMPLE",
            "secret",
            None,
            None,
            "test",
        ))
        .build();
    aws_sdk_cloudtrail::Client::from_conf(conf)
}

fn error<R, E: ProvideErrorMetadata>(
    r: Result<R, SdkError<E, aws_sdk_cloudtrail::config::http::HttpResponse>>,
) -> (String, u16) {
    match r {
        Ok(_) => ("no error".into(), 200),
        Err(e) => (
            e.code().unwrap_or("no code").to_string(),
            e.raw_response().map_or(0, |r| r.status().as_u16()),
        ),
    }
}

/// The fixture bucket imported into a store; its ID.
async fn store(s: &Server) -> String {
    let ct = client(s.addr);
    let created = ct
        .create_event_data_store()
        .name("all")
        .retention_period(3653)
        .termination_protection_enabled(false)
        .send()
        .await
        .unwrap();
    let arn = created.event_data_store_arn.unwrap();
    let import = ct
        .start_import()
        .destinations(&arn)
        .import_source(
            ImportSource::builder()
                .s3(S3ImportSource::builder()
                    .s3_location_uri("s3://trail-bucket/")
                    .s3_bucket_region("us-east-1")
                    .s3_bucket_access_role_arn(ROLE)
                    .build()
                    .unwrap())
                .build(),
        )
        .send()
        .await
        .unwrap()
        .import_id
        .unwrap();
    // The server runs it in the background; wait for it, with a deadline.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let i = ct.get_import().import_id(&import).send().await.unwrap();
        // The fixture holds broken files on purpose: the import ends FAILED, with every good
        // record stored.
        if matches!(
            i.import_status().map(|s| s.as_str()),
            Some("COMPLETED" | "FAILED")
        ) {
            assert_eq!(i.import_statistics().unwrap().events_completed(), Some(339));
            break;
        }
        assert!(Instant::now() < deadline, "the import did not end");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    arn.rsplit('/').next().unwrap().to_string()
}

/// Polls DescribeQuery until the query ends, with a deadline.
async fn wait(ct: &aws_sdk_cloudtrail::Client, id: &str) -> QueryStatus {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let d = ct.describe_query().query_id(id).send().await.unwrap();
        let s = d.query_status.unwrap();
        if !matches!(s, QueryStatus::Queued | QueryStatus::Running) {
            return s;
        }
        assert!(Instant::now() < deadline, "the query did not end");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn cell_rows(
    rows: &[Vec<std::collections::HashMap<String, String>>],
) -> Vec<Vec<(String, String)>> {
    rows.iter()
        .map(|r| {
            r.iter()
                .map(|m| {
                    assert_eq!(m.len(), 1, "each cell is a single-key map");
                    let (k, v) = m.iter().next().unwrap();
                    (k.clone(), v.clone())
                })
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(deprecated)]
async fn start_poll_and_page_through_the_sdk() {
    let s = server().await;
    let eds = store(&s).await;
    let ct = client(s.addr);
    let golden = root().join("fixtures/lake-queries");
    let sql = std::fs::read_to_string(golden.join("queries/003-doc3-api-count.sql"))
        .unwrap()
        .replace("$EDS", &eds);
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(golden.join("expected/003-doc3-api-count.json")).unwrap(),
    )
    .unwrap();
    let columns: Vec<String> = serde_json::from_value(expected["columns"].clone()).unwrap();
    let want: Vec<Vec<(String, String)>> =
        serde_json::from_value::<Vec<Vec<String>>>(expected["rows"].clone())
            .unwrap()
            .into_iter()
            .map(|r| columns.iter().cloned().zip(r).collect())
            .collect();
    let id = ct
        .start_query()
        .query_statement(&sql)
        .send()
        .await
        .unwrap()
        .query_id
        .unwrap();
    assert_eq!(id.len(), 36);
    assert_eq!(wait(&ct, &id).await, QueryStatus::Finished);
    let d = ct.describe_query().query_id(&id).send().await.unwrap();
    assert_eq!(d.query_string(), Some(sql.as_str()));
    let st = d.query_statistics().unwrap();
    // The time condition narrows the scan on the eventTime index: only the events after
    // 2022-01-01 are scanned (counted from the fixture's own list of eventTimes).
    let times: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("fixtures/trail-bucket.expected.json")).unwrap(),
    )
    .unwrap();
    let later = times["EventTimes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t.as_str().unwrap() > "2022-01-01T00:00:00Z")
        .count() as i64;
    assert_eq!(st.events_scanned(), Some(later));
    assert!(st.bytes_scanned().unwrap() > 0);
    assert!(st.events_matched().unwrap() <= st.events_scanned().unwrap());
    assert_eq!(st.creation_time().unwrap().secs(), 1_735_689_600);
    for page in [1, 7, 1000] {
        let mut rows = Vec::new();
        let mut token: Option<String> = None;
        let mut pages = 0;
        loop {
            let r = ct
                .get_query_results()
                .query_id(&id)
                // Deprecated, still sent by clients (TEAM): accepted.
                .event_data_store(&eds)
                .max_query_results(page)
                .set_next_token(token.clone())
                .send()
                .await
                .unwrap();
            pages += 1;
            assert_eq!(r.query_status, Some(QueryStatus::Finished));
            let stats = r.query_statistics.unwrap();
            let got = r.query_result_rows.unwrap_or_default();
            assert_eq!(stats.results_count, Some(got.len() as i32));
            assert_eq!(stats.total_results_count, Some(want.len() as i32));
            rows.extend(cell_rows(&got));
            token = r.next_token;
            if token.is_none() {
                break;
            }
        }
        assert_eq!(rows, want, "MaxQueryResults {page}");
        assert_eq!(pages, want.len().div_ceil(page as usize).max(1));
    }
    // ListQueries knows it.
    let listed = ct
        .list_queries()
        .event_data_store(&eds)
        .send()
        .await
        .unwrap();
    let q = &listed.queries()[0];
    assert_eq!(q.query_id(), Some(id.as_str()));
    assert_eq!(q.query_status(), Some(&QueryStatus::Finished));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_a_long_query() {
    let s = server().await;
    let eds = store(&s).await;
    let ct = client(s.addr);
    let sql =
        format!("SELECT count(*) FROM {eds} a, {eds} b, {eds} c WHERE a.eventName <> c.eventName");
    let id = ct
        .start_query()
        .query_statement(sql)
        .send()
        .await
        .unwrap()
        .query_id
        .unwrap();
    let c = ct.cancel_query().query_id(&id).send().await.unwrap();
    assert_eq!(c.query_status, QueryStatus::Cancelled);
    assert_eq!(c.query_id, id);
    assert_eq!(wait(&ct, &id).await, QueryStatus::Cancelled);
    let r = ct.get_query_results().query_id(&id).send().await.unwrap();
    assert_eq!(r.query_status, Some(QueryStatus::Cancelled));
    assert!(r.query_result_rows.unwrap_or_default().is_empty());
    assert_eq!(
        error(ct.cancel_query().query_id(&id).send().await),
        ("InactiveQueryException".into(), 400)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_by_name() {
    let s = server().await;
    let eds = store(&s).await;
    let ct = client(s.addr);
    let unknown = "00000000-0000-4000-8000-000000000000";
    let start = |sql: String| ct.start_query().query_statement(sql).send();
    assert_eq!(
        error(start(format!("SELECT noSuchColumn FROM {eds}")).await),
        ("InvalidQueryStatementException".into(), 400)
    );
    assert_eq!(
        error(start(format!("DELETE FROM {eds}")).await),
        ("InvalidQueryStatementException".into(), 400)
    );
    assert_eq!(
        error(start(format!("SELECT eventName FROM {unknown}")).await),
        ("EventDataStoreNotFoundException".into(), 400)
    );
    assert_eq!(
        error(
            ct.start_query()
                .query_statement(format!("SELECT 1 FROM {eds}"))
                .query_alias("dash")
                .send()
                .await
        ),
        ("UnsupportedOperationException".into(), 400)
    );
    assert_eq!(
        error(ct.describe_query().query_id(unknown).send().await),
        ("QueryIdNotFoundException".into(), 400)
    );
    assert_eq!(
        error(ct.get_query_results().query_id(unknown).send().await),
        ("QueryIdNotFoundException".into(), 400)
    );
    assert_eq!(
        error(ct.cancel_query().query_id(unknown).send().await),
        ("QueryIdNotFoundException".into(), 400)
    );
    let id = start(format!("SELECT eventName FROM {eds}"))
        .await
        .unwrap()
        .query_id
        .unwrap();
    assert_eq!(wait(&ct, &id).await, QueryStatus::Finished);
    for bad in [0, 1001] {
        assert_eq!(
            error(
                ct.get_query_results()
                    .query_id(&id)
                    .max_query_results(bad)
                    .send()
                    .await
            ),
            ("InvalidMaxResultsException".into(), 400)
        );
        assert_eq!(
            error(
                ct.list_queries()
                    .event_data_store(&eds)
                    .max_results(bad)
                    .send()
                    .await
            ),
            ("InvalidMaxResultsException".into(), 400)
        );
    }
    assert_eq!(
        error(
            ct.get_query_results()
                .query_id(&id)
                .next_token("forged-token")
                .send()
                .await
        ),
        ("InvalidNextTokenException".into(), 400)
    );
    assert_eq!(
        error(ct.cancel_query().query_id(&id).send().await),
        ("InactiveQueryException".into(), 400)
    );
    let t = |s: i64| aws_sdk_cloudtrail::primitives::DateTime::from_secs(s);
    assert_eq!(
        error(
            ct.list_queries()
                .event_data_store(&eds)
                .start_time(t(1_735_689_600))
                .end_time(t(1_735_000_000))
                .send()
                .await
        ),
        ("InvalidDateRangeException".into(), 400)
    );
    assert_eq!(
        error(
            ct.list_queries()
                .event_data_store(&eds)
                .query_status(QueryStatus::from("DONE"))
                .send()
                .await
        ),
        ("InvalidQueryStatusException".into(), 400)
    );
    assert_eq!(
        error(ct.list_queries().event_data_store(unknown).send().await),
        ("EventDataStoreNotFoundException".into(), 400)
    );
    // A run-time error: FAILED with its message, through GetQueryResults too.
    let bad = start(format!(
        "SELECT CAST(eventName AS bigint) FROM {eds} WHERE eventName = 'DeleteBucket'"
    ))
    .await
    .unwrap()
    .query_id
    .unwrap();
    assert_eq!(wait(&ct, &bad).await, QueryStatus::Failed);
    let r = ct.get_query_results().query_id(&bad).send().await.unwrap();
    assert!(r.error_message().unwrap().contains("DeleteBucket"), "{r:?}");
    // Ten active queries at most: the eleventh is refused.
    let long = format!("SELECT count(*) FROM {eds} a, {eds} b, {eds} c, {eds} d");
    let mut ids = Vec::new();
    let mut refused = None;
    for _ in 0..11 {
        match start(long.clone()).await {
            Ok(r) => ids.push(r.query_id.unwrap()),
            Err(e) => {
                refused = Some(error::<(), _>(Err(e)));
                break;
            }
        }
    }
    assert_eq!(
        refused,
        Some(("MaxConcurrentQueriesException".into(), 400)),
        "started {}",
        ids.len()
    );
    for id in ids {
        let _ = ct.cancel_query().query_id(id).send().await;
    }
}
