//! An S3 server for tests: s3s-fs in-process with fault injection, or an external server.
//!
//! [`TestS3::start`] runs an s3s-fs server on a free loopback port, on a runtime of its own,
//! checking SigV4 with a fixed key pair, unless `S3_TEST_ENDPOINT` (with `S3_TEST_ACCESS_KEY`,
//! `S3_TEST_SECRET_KEY`, optionally `S3_TEST_REGION`) names a real server such as MinIO or
//! SeaweedFS, in which case nothing is started and every bucket gets a unique name.
//! [`TestS3::in_process`] always starts one, for tests that need [`Faults`]: failing the next
//! N `GetObject`s with 500, and answering `AccessDenied` for keys containing `denied` and
//! `InvalidObjectState` for keys containing `archived`. Buckets are seeded through the S3 API
//! (or, in-process, by writing files straight into the server's directory, which is faster).
//! The in-process server lists zero-byte folder markers (`x/` keys) as S3 does, which s3s-fs
//! alone would not.

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use s3s::dto::*;
use s3s::{s3_error, S3Request, S3Response, S3Result, S3};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::runtime::Runtime;

const ACCESS_KEY: &str = "trailport-test-key";
const SECRET_KEY: &str = "trailport-test-secret";

/// Faults the in-process server injects.
#[derive(Debug, Default)]
pub struct Faults {
    /// The next this many `GetObject`s fail with 500 InternalError.
    pub fail_gets: AtomicU32,
    /// `GetObject`s received, failed or not.
    pub gets: AtomicU64,
    /// `ListObjectsV2` calls received.
    pub lists: AtomicU64,
}

struct Faulty {
    fs: s3s_fs::FileSystem,
    faults: Arc<Faults>,
    /// Zero-byte folder markers (keys ending in `/`), by bucket: s3s-fs would make them
    /// directories, which it never lists, where real servers list them as objects.
    markers: std::sync::Mutex<std::collections::BTreeSet<(String, String)>>,
}

#[async_trait::async_trait]
impl S3 for Faulty {
    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        self.faults.gets.fetch_add(1, Ordering::SeqCst);
        let fail = self
            .faults
            .fail_gets
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if fail {
            return Err(s3_error!(InternalError, "injected failure"));
        }
        if req.input.key.contains("denied") {
            return Err(s3_error!(AccessDenied, "Access Denied"));
        }
        if req.input.key.contains("archived") {
            return Err(s3_error!(
                InvalidObjectState,
                "The operation is not valid for the object's storage class"
            ));
        }
        self.fs.get_object(req).await
    }
    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        self.faults.lists.fetch_add(1, Ordering::SeqCst);
        let bucket = req.input.bucket.clone();
        let prefix = req.input.prefix.clone().unwrap_or_default();
        let first_page = req.input.continuation_token.is_none();
        let delimited = req.input.delimiter.as_deref() == Some("/");
        let mut resp = self.fs.list_objects_v2(req).await?;
        if !first_page {
            return Ok(resp);
        }
        // Markers as S3 lists them: the one equal to the prefix is an object of the listing;
        // one a folder further down rolls up into that folder's common prefix.
        let markers: Vec<String> = self
            .markers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(b, k)| *b == bucket && k.starts_with(&prefix))
            .map(|(_, k)| k.clone())
            .collect();
        let out = &mut resp.output;
        for key in markers {
            let rest = &key[prefix.len()..];
            if rest.is_empty() || !delimited {
                let contents = out.contents.get_or_insert_with(Vec::new);
                contents.push(Object {
                    key: Some(key.clone()),
                    size: Some(0),
                    ..Default::default()
                });
                contents.sort_by(|a, b| a.key.cmp(&b.key));
            } else {
                let folder = format!("{prefix}{}/", rest.split('/').next().unwrap_or(""));
                let common = out.common_prefixes.get_or_insert_with(Vec::new);
                if !common
                    .iter()
                    .any(|c| c.prefix.as_deref() == Some(folder.as_str()))
                {
                    common.push(CommonPrefix {
                        prefix: Some(folder),
                    });
                    common.sort_by(|a, b| a.prefix.cmp(&b.prefix));
                }
            }
        }
        let count = out.contents.as_ref().map_or(0, Vec::len)
            + out.common_prefixes.as_ref().map_or(0, Vec::len);
        out.key_count = Some(count as i32);
        Ok(resp)
    }
    async fn list_objects(
        &self,
        req: S3Request<ListObjectsInput>,
    ) -> S3Result<S3Response<ListObjectsOutput>> {
        self.fs.list_objects(req).await
    }
    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        if req.input.key.ends_with('/') {
            self.markers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert((req.input.bucket.clone(), req.input.key.clone()));
            return Ok(S3Response::new(PutObjectOutput::default()));
        }
        self.fs.put_object(req).await
    }
    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        self.fs.delete_object(req).await
    }
    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        self.fs.head_object(req).await
    }
    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        self.fs.create_bucket(req).await
    }
    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        self.fs.head_bucket(req).await
    }
    async fn list_buckets(
        &self,
        req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        self.fs.list_buckets(req).await
    }
    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        self.fs.create_multipart_upload(req).await
    }
    async fn upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        self.fs.upload_part(req).await
    }
    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        self.fs.complete_multipart_upload(req).await
    }
    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        self.fs.abort_multipart_upload(req).await
    }
}

/// A running (or external) S3 server and an admin client for it.
pub struct TestS3 {
    rt: Option<Runtime>,
    pub endpoint: String,
    pub access_key: String,
    pub secret_key: String,
    pub region: String,
    root: Option<tempfile::TempDir>,
    pub faults: Arc<Faults>,
    admin: aws_sdk_s3::Client,
}

impl Drop for TestS3 {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

static BUCKETS: AtomicU32 = AtomicU32::new(0);

impl TestS3 {
    /// The server `S3_TEST_ENDPOINT` names, or a new in-process one.
    pub fn start() -> TestS3 {
        match std::env::var("S3_TEST_ENDPOINT") {
            Ok(endpoint) if !endpoint.is_empty() => {
                let var = |k: &str| {
                    std::env::var(k)
                        .unwrap_or_else(|_| panic!("{k} must be set with S3_TEST_ENDPOINT"))
                };
                let region = std::env::var("S3_TEST_REGION").unwrap_or_else(|_| "us-east-1".into());
                TestS3::new(
                    endpoint,
                    var("S3_TEST_ACCESS_KEY"),
                    var("S3_TEST_SECRET_KEY"),
                    region,
                    None,
                    Arc::default(),
                    runtime(),
                )
            }
            _ => TestS3::in_process(),
        }
    }

    /// A new in-process s3s-fs server with fault injection.
    pub fn in_process() -> TestS3 {
        let rt = runtime();
        let root = tempfile::tempdir().expect("server root");
        let faults = Arc::new(Faults::default());
        let fs = s3s_fs::FileSystem::new(root.path()).expect("s3s-fs");
        let mut b = s3s::service::S3ServiceBuilder::new(Faulty {
            fs,
            faults: faults.clone(),
            markers: Default::default(),
        });
        b.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let svc = b.build();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        rt.spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    continue;
                };
                let svc = svc.clone();
                tokio::spawn(async move {
                    let conn = hyper_util::server::conn::auto::Builder::new(
                        hyper_util::rt::TokioExecutor::new(),
                    );
                    let _ = conn
                        .serve_connection(hyper_util::rt::TokioIo::new(sock), svc)
                        .await;
                });
            }
        });
        TestS3::new(
            format!("http://{addr}"),
            ACCESS_KEY.into(),
            SECRET_KEY.into(),
            "us-east-1".into(),
            Some(root),
            faults,
            rt,
        )
    }

    fn new(
        endpoint: String,
        access_key: String,
        secret_key: String,
        region: String,
        root: Option<tempfile::TempDir>,
        faults: Arc<Faults>,
        rt: Runtime,
    ) -> TestS3 {
        let config = config(&endpoint, &access_key, &secret_key, &region);
        TestS3 {
            rt: Some(rt),
            admin: aws_sdk_s3::Client::from_conf(config),
            endpoint,
            access_key,
            secret_key,
            region,
            root,
            faults,
        }
    }

    fn rt(&self) -> &Runtime {
        self.rt.as_ref().expect("runtime")
    }

    /// Whether this is an external server (named by `S3_TEST_ENDPOINT`).
    pub fn is_external(&self) -> bool {
        self.root.is_none()
    }

    /// A client configuration for this server, built without any ambient AWS configuration.
    pub fn config(&self) -> aws_sdk_s3::Config {
        config(
            &self.endpoint,
            &self.access_key,
            &self.secret_key,
            &self.region,
        )
    }

    /// Creates a bucket: named `hint` in-process, a unique name from it on an external server.
    pub fn create_bucket(&self, hint: &str) -> String {
        let name = if self.is_external() {
            let n = BUCKETS.fetch_add(1, Ordering::SeqCst);
            let mut name = format!("tp-{}-{n}-{hint}", std::process::id());
            name.truncate(63);
            name.trim_end_matches('-').to_string()
        } else {
            hint.to_string()
        };
        self.rt()
            .block_on(self.admin.create_bucket().bucket(&name).send())
            .unwrap_or_else(|e| panic!("create bucket {name}: {e:?}"));
        name
    }

    /// Puts objects, 16 at a time (in-process: written straight into the server's directory).
    pub fn put_many(&self, bucket: &str, objects: Vec<(String, Vec<u8>)>) {
        if let Some(root) = &self.root {
            for (key, body) in objects {
                let path = root.path().join(bucket).join(&key);
                std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
                std::fs::write(path, body).expect("write");
            }
            return;
        }
        self.rt().block_on(async {
            let mut set: tokio::task::JoinSet<Result<(), String>> = tokio::task::JoinSet::new();
            for (key, body) in objects {
                while set.len() >= 16 {
                    set.join_next()
                        .await
                        .expect("task")
                        .expect("join")
                        .expect("put");
                }
                let c = self.admin.clone();
                let bucket = bucket.to_string();
                set.spawn(async move {
                    c.put_object()
                        .bucket(bucket)
                        .key(key)
                        .body(body.into())
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| format!("{e:?}"))
                });
            }
            while let Some(r) = set.join_next().await {
                r.expect("join").expect("put");
            }
        });
    }

    /// Puts one object through the S3 API (a zero-byte `x/` key is a folder marker).
    pub fn put(&self, bucket: &str, key: &str, body: &[u8]) {
        self.rt()
            .block_on(
                self.admin
                    .put_object()
                    .bucket(bucket)
                    .key(key)
                    .body(body.to_vec().into())
                    .send(),
            )
            .unwrap_or_else(|e| panic!("put {key}: {e:?}"));
    }

    pub fn delete(&self, bucket: &str, key: &str) {
        self.rt()
            .block_on(self.admin.delete_object().bucket(bucket).key(key).send())
            .unwrap_or_else(|e| panic!("delete {key}: {e:?}"));
    }

    /// Every object under `prefix`, key and bytes, in key order.
    pub fn objects(&self, bucket: &str, prefix: &str) -> Vec<(String, Vec<u8>)> {
        self.rt().block_on(async {
            let mut out = Vec::new();
            let mut token = None;
            loop {
                let page = self
                    .admin
                    .list_objects_v2()
                    .bucket(bucket)
                    .prefix(prefix)
                    .set_continuation_token(token)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("list {bucket}/{prefix}: {e:?}"));
                for o in page.contents() {
                    let key = o.key().expect("a key").to_string();
                    let body = self
                        .admin
                        .get_object()
                        .bucket(bucket)
                        .key(&key)
                        .send()
                        .await
                        .unwrap_or_else(|e| panic!("get {key}: {e:?}"))
                        .body
                        .collect()
                        .await
                        .expect("body")
                        .into_bytes()
                        .to_vec();
                    out.push((key, body));
                }
                token = page.next_continuation_token().map(str::to_string);
                if token.is_none() {
                    break;
                }
            }
            out.sort();
            out
        })
    }

    /// Uploads every file under `dir`, keyed by its path relative to `dir`.
    pub fn upload_dir(&self, bucket: &str, dir: &Path) {
        let mut objects = Vec::new();
        let mut stack: Vec<PathBuf> = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).expect("read dir") {
                let path = entry.expect("entry").path();
                let meta = std::fs::metadata(&path).expect("stat");
                if meta.is_dir() {
                    stack.push(path);
                } else {
                    let key = path
                        .strip_prefix(dir)
                        .expect("under dir")
                        .to_string_lossy()
                        .replace('\\', "/");
                    objects.push((key, std::fs::read(&path).expect("read")));
                }
            }
        }
        self.put_many(bucket, objects);
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("test runtime")
}

fn config(endpoint: &str, ak: &str, sk: &str, region: &str) -> aws_sdk_s3::Config {
    aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(ak, sk, None, None, "test"))
        .force_path_style(true)
        .build()
}
