//! Pagination tokens: the engine's cursor (where the last page ended, a keyset position that
//! stays right while items are added) bound to the operation and filters that produced it.

use crate::error::{ApiError, ErrorCode};

/// The tokens of one listing request.
pub struct Tokens {
    fingerprint: u64,
    error: ErrorCode,
}

/// FNV-1a over the operation and its filters, so a token only works with the same request.
fn fingerprint(op: &str, parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for part in std::iter::once(op).chain(parts.iter().copied()) {
        for b in part.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100000001b3);
        }
    }
    h
}

impl Tokens {
    /// Tokens of `op` with these filters; a foreign or malformed token is `error`.
    pub fn new(op: &str, filters: &[&str], error: ErrorCode) -> Self {
        Tokens {
            fingerprint: fingerprint(op, filters),
            error,
        }
    }

    fn bad(&self) -> ApiError {
        ApiError::new(
            self.error,
            "A token that is not valid, or a token that was previously used in a request with different parameters.",
        )
    }

    /// The cursor inside a token given with the request, if any.
    pub fn cursor<'a>(&self, token: Option<&'a str>) -> Result<Option<&'a str>, ApiError> {
        let Some(t) = token else { return Ok(None) };
        let (fp, cursor) = t.split_once('.').ok_or_else(|| self.bad())?;
        if u64::from_str_radix(fp, 16).ok() != Some(self.fingerprint) || cursor.is_empty() {
            return Err(self.bad());
        }
        Ok(Some(cursor))
    }

    /// A cursor that is a number (a row number).
    pub fn num_cursor(&self, token: Option<&str>) -> Result<Option<i64>, ApiError> {
        self.cursor(token)?
            .map(|c| i64::from_str_radix(c, 16).map_err(|_| self.bad()))
            .transpose()
    }

    /// The token of a cursor.
    pub fn token(&self, cursor: &str) -> String {
        format!("{:016x}.{cursor}", self.fingerprint)
    }

    pub fn num_token(&self, n: i64) -> String {
        self.token(&format!("{n:x}"))
    }
}
