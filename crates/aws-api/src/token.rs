//! Pagination tokens: an offset bound to the request that produced it.

use crate::error::{ApiError, ErrorCode};

/// One page of a listing.
pub struct Page {
    offset: usize,
    size: usize,
    fingerprint: u64,
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

impl Page {
    /// The page a request asks for. A token that was not issued for the same operation and
    /// filters is `InvalidNextTokenException`.
    pub fn open(
        op: &str,
        filters: &[&str],
        token: Option<&str>,
        max_results: Option<usize>,
        default_size: usize,
    ) -> Result<Page, ApiError> {
        let fingerprint = fingerprint(op, filters);
        let offset = match token {
            None => 0,
            Some(t) => {
                let bad = || {
                    ApiError::new(
                        ErrorCode::InvalidNextToken,
                        "A token that is not valid, or a token that was previously used in a request with different parameters.",
                    )
                };
                let (offset, fp) = t.split_once('.').ok_or_else(bad)?;
                let offset = usize::from_str_radix(offset, 16).map_err(|_| bad())?;
                if u64::from_str_radix(fp, 16).map_err(|_| bad())? != fingerprint {
                    return Err(bad());
                }
                offset
            }
        };
        Ok(Page {
            offset,
            size: max_results.unwrap_or(default_size).max(1),
            fingerprint,
        })
    }

    /// The items of this page, and the token of the next one if there are more.
    pub fn cut<'a, T>(&self, all: &'a [T]) -> (&'a [T], Option<String>) {
        let start = self.offset.min(all.len());
        let end = (start + self.size).min(all.len());
        let next = (end < all.len()).then(|| format!("{end:04x}.{:016x}", self.fingerprint));
        (&all[start..end], next)
    }
}
