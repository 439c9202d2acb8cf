//! The AWS wire format: CloudTrail's import and event data store operations and CloudWatch
//! Logs' import tasks and log-group reads, over AWS JSON 1.1 on one port.
//!
//! [`router`] turns an [`App`] (the engine, the account) into an axum `Router` with one `POST /`.
//! Requests are dispatched on `X-Amz-Target`: CloudTrail's (both the botocore spelling
//! `com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.Op` and the Smithy one
//! `CloudTrail_20131101.Op`) and Logs' (`Logs_20140328.Op`). Each is checked against its
//! service model embedded from botocore (`model.rs`: lengths, patterns, enums, ranges,
//! required members), decoded into the wire shapes of `wire.rs` or `logs_wire.rs`, handled in
//! `cloudtrail.rs` or `logs.rs` by one engine call each, and encoded back. Every error goes
//! through the one table in `error.rs` ([`ErrorCode`]: wire name and HTTP status) and is
//! written as `{"__type": ..., "Message": ...}` (Logs: `"message"`). This is the only crate
//! that knows wire names, epoch-second timestamps or HTTP; every rule is the engine's. `wire`
//! and `logs_wire` are public so that the command line prints exactly what the server encodes.

mod app;
mod cloudtrail;
mod error;
mod logs;
pub mod logs_wire;
mod model;
mod serve;
mod token;
pub mod wire;

pub use app::{router, App, Ctx};
pub use error::{ApiError, ErrorCode};
pub use serve::{serve, ServeLimits};
