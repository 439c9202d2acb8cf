//! The app: one `POST /`, dispatched on `X-Amz-Target`.

use crate::error::{ApiError, ErrorCode};
use crate::model::{Model, CLOUDTRAIL_MODEL, LOGS_MODEL};
use crate::ServeLimits;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use http_body_util::BodyExt;
use import_engine::{Engine, Scope};
use regex::Regex;
use serde_json::{json, Value};
use std::sync::{Arc, LazyLock};

const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
const CLOUDTRAIL_PREFIXES: [&str; 2] = [
    "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101",
    "CloudTrail_20131101",
];
const LOGS_PREFIX: &str = "Logs_20140328";

/// The services on the one port, told apart by the `X-Amz-Target` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Service {
    CloudTrail,
    Logs,
}

impl Service {
    fn of(prefix: &str) -> Option<Service> {
        if CLOUDTRAIL_PREFIXES.contains(&prefix) {
            Some(Service::CloudTrail)
        } else if prefix == LOGS_PREFIX {
            Some(Service::Logs)
        } else {
            None
        }
    }

    /// Whether this server answers `op` of the service.
    fn serves(self, op: &str) -> bool {
        let served = match self {
            Service::CloudTrail => crate::cloudtrail::OPERATIONS,
            Service::Logs => crate::logs::OPERATIONS,
        };
        served.contains(&op) && self.model().has_operation(op)
    }

    fn model(self) -> &'static Model {
        match self {
            Service::CloudTrail => &CLOUDTRAIL_MODEL,
            Service::Logs => &LOGS_MODEL,
        }
    }

    /// The member an error's message is in: CloudTrail writes `Message`, Logs `message`.
    fn message_key(self) -> &'static str {
        match self {
            Service::CloudTrail => "Message",
            Service::Logs => "message",
        }
    }
}

static SIGV4_SCOPE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"Credential=[^/,\s]+/\d{8}/([a-z0-9-]+)/").expect("scope regex"));

/// What the server serves: the engine (with its buckets and clock), for one account.
pub struct App {
    pub engine: Arc<Engine>,
    /// The account every request acts for.
    pub account: String,
    /// What one client may hold of the server.
    pub limits: ServeLimits,
}

impl App {
    /// The app of `engine` for `account`, with the default limits.
    pub fn new(engine: Arc<Engine>, account: impl Into<String>) -> App {
        App {
            engine,
            account: account.into(),
            limits: ServeLimits::default(),
        }
    }
}

/// Who a request acts for.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub account: String,
    /// From the request's SigV4 credential scope; `us-east-1` when unsigned.
    pub region: String,
}

impl Ctx {
    /// The engine's scope of this request.
    pub fn scope(&self) -> Scope {
        Scope::new(self.account.clone(), self.region.clone())
    }
}

/// The router: `POST /` for every operation.
pub fn router(app: Arc<App>) -> Router {
    Router::new().route("/", post(handle)).with_state(app)
}

async fn handle(State(app): State<Arc<App>>, headers: HeaderMap, body: Body) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let (prefix, op) = target.rsplit_once('.').unwrap_or(("", &target));
    let service = Service::of(prefix);
    let result = match (service, read_body(&app.limits, body).await) {
        (Some(service), Ok(body)) if service.serves(op) => {
            answer(app, service, op, &headers, body).await
        }
        (_, Err(e)) => Err(e),
        _ => Err(ApiError::new(
            ErrorCode::UnknownOperation,
            format!("Unknown operation {target:?}."),
        )),
    };
    let key = service.unwrap_or(Service::CloudTrail).message_key();
    let (status, body) = match result {
        Ok(v) => (StatusCode::OK, v),
        Err(e) => (
            StatusCode::from_u16(e.code.status()).unwrap_or(StatusCode::BAD_REQUEST),
            json!({"__type": e.code.as_str(), key: e.message}),
        ),
    };
    let mut resp = (status, body.to_string()).into_response();
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static(CONTENT_TYPE));
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        h.insert("x-amzn-requestid", v);
    }
    resp
}

/// The request body, within the size cap and the body deadline.
async fn read_body(limits: &ServeLimits, body: Body) -> Result<Bytes, ApiError> {
    let limited = http_body_util::Limited::new(body, limits.max_body_bytes);
    match tokio::time::timeout(limits.body_timeout, limited.collect()).await {
        Err(_) => Err(ApiError::new(
            ErrorCode::RequestTimeout,
            format!(
                "The request body did not arrive within {} seconds.",
                limits.body_timeout.as_secs()
            ),
        )),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(ApiError::new(
            ErrorCode::RequestEntityTooLarge,
            format!(
                "The request body is larger than {} bytes.",
                limits.max_body_bytes
            ),
        )),
        Ok(Err(e)) => Err(ApiError::new(
            ErrorCode::Serialization,
            format!("The request body could not be read: {e}"),
        )),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}

async fn answer(
    app: Arc<App>,
    service: Service,
    op: &str,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Value, ApiError> {
    let input: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(
                ErrorCode::Serialization,
                format!("The request body is not valid JSON: {e}"),
            )
        })?
    };
    if !input.is_object() {
        return Err(ApiError::new(
            ErrorCode::Serialization,
            "The request body must be a JSON object.",
        ));
    }
    let own_page_error = match op {
        "ListEventDataStores" | "ListQueries" => Some("MaxResults"),
        "GetQueryResults" => Some("MaxQueryResults"),
        _ => None,
    };
    if let (Service::CloudTrail, Some(member)) = (service, own_page_error) {
        // The operations that declare their own error for a bad page size.
        if let Some(n) = input.get(member).and_then(Value::as_i64) {
            if !(1..=1000).contains(&n) {
                return Err(ApiError::new(
                    ErrorCode::InvalidMaxResults,
                    format!("{member} {n} is not valid: it must be between 1 and 1000."),
                ));
            }
        }
    }
    if service == Service::CloudTrail && op == "ListQueries" {
        if let Some(s) = input.get("QueryStatus").and_then(Value::as_str) {
            if crate::wire::parse_query_status(s).is_none() {
                return Err(ApiError::new(
                    ErrorCode::InvalidQueryStatus,
                    format!("The query status {s} is not valid."),
                ));
            }
        }
    }
    service.model().validate(op, &input)?;
    let region = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|a| SIGV4_SCOPE.captures(a))
        .map_or_else(|| "us-east-1".to_string(), |c| c[1].to_string());
    let ctx = Ctx {
        account: app.account.clone(),
        region,
    };
    let op = op.to_string();
    tokio::task::spawn_blocking(move || match service {
        Service::CloudTrail => crate::cloudtrail::dispatch(&app, &ctx, &op, input),
        Service::Logs => crate::logs::dispatch(&app, &ctx, &op, input),
    })
    .await
    .map_err(|e| ApiError::new(ErrorCode::InternalFailure, e.to_string()))?
}
