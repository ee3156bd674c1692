//! Paging of the JetStream list APIs: replies carry `total`, `offset` and `limit`, and the
//! next page is asked for with `{"offset": offset + what this page covered}` until `total`
//! is reached or a page comes back empty.

use serde::{Deserialize, Serialize};

/// The paging fields of a reply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub(crate) struct Page {
    #[serde(default)]
    pub(crate) total: usize,
    #[serde(default)]
    pub(crate) offset: usize,
}

impl Page {
    /// The offset of the next page after this one, which covered `covered` items (those
    /// listed plus those the server skipped but counted, such as offline streams); `None`
    /// when this was the last page.
    pub(crate) fn next_offset(&self, covered: usize) -> Option<usize> {
        if covered == 0 {
            return None;
        }
        let next = self.offset.saturating_add(covered);
        (next < self.total).then_some(next)
    }
}

/// The body asking for the page at `offset`, with an optional subject filter.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct PageRequest<'a> {
    #[serde(skip_serializing_if = "is_zero")]
    pub(crate) offset: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) subject: Option<&'a str>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page of `total` items at `offset`; the server's page size does not matter.
    fn page(total: usize, offset: usize, _limit: usize) -> Page {
        Page { total, offset }
    }

    #[test]
    fn pages_advance_by_what_they_covered_until_total() {
        // 300 streams listed 256 at a time.
        assert_eq!(page(300, 0, 256).next_offset(256), Some(256));
        assert_eq!(page(300, 256, 256).next_offset(44), None);
        // A page the server cut short still advances by what it covered.
        assert_eq!(page(1100, 0, 1024).next_offset(1000), Some(1000));
        assert_eq!(page(1100, 1000, 1024).next_offset(100), None);
    }

    #[test]
    fn an_empty_or_past_the_end_page_stops() {
        assert_eq!(page(10, 0, 256).next_offset(0), None);
        assert_eq!(page(0, 0, 0).next_offset(0), None);
        // Streams deleted between pages shrink the total: no endless loop.
        assert_eq!(page(5, 4, 256).next_offset(3), None);
        assert_eq!(page(usize::MAX, usize::MAX, 1).next_offset(1), None);
    }

    #[test]
    fn the_first_request_sends_nothing_it_need_not() {
        let json = serde_json::to_string(&PageRequest::default()).expect("serializes");
        assert_eq!(json, "{}");
        let json = serde_json::to_string(&PageRequest {
            offset: 256,
            subject: Some("orders.*"),
        })
        .expect("serializes");
        assert_eq!(json, r#"{"offset":256,"subject":"orders.*"}"#);
    }
}
