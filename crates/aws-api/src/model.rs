//! Request validation driven by the service model: every length, pattern, enum, range and
//! required member the botocore model declares, checked before a handler runs.

use crate::error::{ApiError, ErrorCode};
use regex::Regex;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::LazyLock;

/// The CloudTrail 2013-11-01 model (botocore 1.44.5, documentation stripped).
const CLOUDTRAIL: &str = include_str!("../model/cloudtrail-2013-11-01.json");
/// The CloudWatch Logs 2014-03-28 model (botocore 1.44.5, documentation stripped).
const LOGS: &str = include_str!("../model/logs-2014-03-28.json");

/// A service model: its operations' input shapes and every shape's constraints.
pub struct Model {
    shapes: Map<String, Value>,
    inputs: HashMap<String, String>,
    patterns: HashMap<String, Option<Regex>>,
}

pub static CLOUDTRAIL_MODEL: LazyLock<Model> = LazyLock::new(|| Model::parse(CLOUDTRAIL));
pub static LOGS_MODEL: LazyLock<Model> = LazyLock::new(|| Model::parse(LOGS));

impl Model {
    fn parse(json: &str) -> Model {
        let v: Value = serde_json::from_str(json).expect("embedded model");
        let shapes = v["shapes"].as_object().cloned().unwrap_or_default();
        let inputs = v["operations"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(op, o)| Some((op.clone(), o["input"]["shape"].as_str()?.to_string())))
            .collect();
        // A value must match a pattern whole, as the service's (Java) validation has it.
        // Java-style patterns that Rust's regex cannot compile (surrogate ranges) all end in
        // `*` and so match every string; they are skipped.
        let patterns = shapes
            .values()
            .filter_map(|s| s["pattern"].as_str())
            .map(|p| (p.to_string(), Regex::new(&format!("^(?:{p})$")).ok()))
            .collect();
        Model {
            shapes,
            inputs,
            patterns,
        }
    }

    /// Whether the model has this operation.
    pub fn has_operation(&self, op: &str) -> bool {
        self.inputs.contains_key(op)
    }

    /// Checks `input` against the operation's input shape. Type mismatches are
    /// `SerializationException`; constraint violations `InvalidParameterException` with a
    /// message in AWS's "1 validation error detected: ..." form.
    pub fn validate(&self, op: &str, input: &Value) -> Result<(), ApiError> {
        let Some(shape) = self.inputs.get(op) else {
            return Ok(());
        };
        let mut errors = Vec::new();
        self.check(shape, input, "", &mut errors)?;
        if errors.is_empty() {
            return Ok(());
        }
        let n = errors.len();
        let noun = if n == 1 { "error" } else { "errors" };
        Err(ApiError::new(
            ErrorCode::InvalidParameter,
            format!("{n} validation {noun} detected: {}", errors.join("; ")),
        ))
    }

    fn check(
        &self,
        shape_name: &str,
        v: &Value,
        path: &str,
        errors: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        let Some(shape) = self.shapes.get(shape_name) else {
            return Ok(());
        };
        let ty = shape["type"].as_str().unwrap_or("");
        let wrong = |what: &str| {
            ApiError::new(
                ErrorCode::Serialization,
                format!("Expected {what} at '{}'", path),
            )
        };
        if v.is_null() {
            return Ok(());
        }
        match ty {
            "structure" => {
                let obj = v.as_object().ok_or_else(|| wrong("an object"))?;
                let members = shape["members"].as_object();
                for req in shape["required"].as_array().into_iter().flatten() {
                    let req = req.as_str().unwrap_or("");
                    if obj.get(req).is_none_or(Value::is_null) {
                        errors.push(format!(
                            "Value null at '{}' failed to satisfy constraint: Member must not be null",
                            join(path, req)
                        ));
                    }
                }
                for (name, value) in obj {
                    if let Some(m) = members.and_then(|m| m.get(name)) {
                        let target = m["shape"].as_str().unwrap_or("");
                        self.check(target, value, &join(path, name), errors)?;
                    }
                }
            }
            "list" => {
                let items = v.as_array().ok_or_else(|| wrong("a list"))?;
                self.length(shape, items.len(), &format!("{v}"), path, errors);
                let member = shape["member"]["shape"].as_str().unwrap_or("");
                for (i, item) in items.iter().enumerate() {
                    self.check(member, item, &format!("{path}.{}.member", i + 1), errors)?;
                }
            }
            "map" => {
                let obj = v.as_object().ok_or_else(|| wrong("an object"))?;
                self.length(shape, obj.len(), &format!("{v}"), path, errors);
            }
            "string" => {
                let s = v.as_str().ok_or_else(|| wrong("a string"))?;
                let shown = format!("'{s}'");
                self.length(shape, s.chars().count(), &shown, path, errors);
                if let Some(values) = shape["enum"].as_array() {
                    if !values.iter().any(|e| e.as_str() == Some(s)) {
                        let set: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
                        errors.push(format!(
                            "Value {shown} at '{}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                            path,
                            set.join(", ")
                        ));
                    }
                }
                if let Some(p) = shape["pattern"].as_str() {
                    if let Some(Some(re)) = self.patterns.get(p) {
                        if !re.is_match(s) {
                            errors.push(format!(
                                "Value {shown} at '{}' failed to satisfy constraint: Member must satisfy regular expression pattern: {p}",
                                path
                            ));
                        }
                    }
                }
            }
            "integer" | "long" => {
                let n = v.as_i64().ok_or_else(|| wrong("an integer"))?;
                if let Some(min) = shape["min"].as_i64() {
                    if n < min {
                        errors.push(format!(
                            "Value '{n}' at '{}' failed to satisfy constraint: Member must have value greater than or equal to {min}",
                            path
                        ));
                    }
                }
                if let Some(max) = shape["max"].as_i64() {
                    if n > max {
                        errors.push(format!(
                            "Value '{n}' at '{}' failed to satisfy constraint: Member must have value less than or equal to {max}",
                            path
                        ));
                    }
                }
            }
            "boolean" => {
                v.as_bool().ok_or_else(|| wrong("a boolean"))?;
            }
            "timestamp" => {
                v.as_f64()
                    .ok_or_else(|| wrong("a timestamp in epoch seconds"))?;
            }
            _ => {}
        }
        Ok(())
    }

    fn length(&self, shape: &Value, len: usize, shown: &str, path: &str, errors: &mut Vec<String>) {
        if let Some(min) = shape["min"].as_u64() {
            if (len as u64) < min {
                errors.push(format!(
                    "Value {shown} at '{}' failed to satisfy constraint: Member must have length greater than or equal to {min}",
                    path
                ));
            }
        }
        if let Some(max) = shape["max"].as_u64() {
            if (len as u64) > max {
                errors.push(format!(
                    "Value {shown} at '{}' failed to satisfy constraint: Member must have length less than or equal to {max}",
                    path
                ));
            }
        }
    }
}

/// Paths are written as AWS writes them: `importSource.s3.s3LocationUri`, lower camel case.
fn join(path: &str, member: &str) -> String {
    let mut m = member.to_string();
    if let Some(first) = m.get(0..1) {
        m.replace_range(0..1, &first.to_ascii_lowercase());
    }
    if path.is_empty() {
        m
    } else {
        format!("{path}.{m}")
    }
}
