//! The AWS wire format: CloudTrail's import and event data store operations over AWS JSON 1.1.
//!
//! [`router`] turns an [`App`] (the engine, the account) into an axum `Router` with one `POST /`. Requests are dispatched on
//! `X-Amz-Target` (both the botocore spelling `com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.Op`
//! and the Smithy one `CloudTrail_20131101.Op`), checked against the service model embedded
//! from botocore (`model.rs`: lengths, patterns, enums, ranges, required members), decoded into
//! the wire shapes of `wire.rs`, handled in `cloudtrail.rs` by one engine call each, and
//! encoded back. Every error goes through the one table in `error.rs` ([`ErrorCode`]: wire name and
//! HTTP status) and is written as `{"__type": ..., "Message": ...}`. This is the only crate that
//! knows wire names, epoch-second timestamps or HTTP; every rule is the engine's. `wire` is
//! public so that the command line prints exactly what the server encodes.

mod app;
mod cloudtrail;
mod error;
mod model;
mod serve;
mod token;
pub mod wire;

pub use app::{router, App, Ctx};
pub use error::{ApiError, ErrorCode};
pub use serve::{serve, ServeLimits};
