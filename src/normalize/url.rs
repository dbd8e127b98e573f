//! URL shapes: scheme, host and port kept (calls to different services must
//! differ), id-like path segments replaced by `*`, a query string reduced to
//! `?*`, the fragment dropped. Sentry's N+1 API detector groups calls the
//! same way, except that it keeps path ids (it misses `/users/1`, `/users/2`
//! loops; critpath does not).

/// The shape of `url` (absolute, or a bare path or route).
#[cfg(test)]
pub fn shape(url: &str) -> String {
    shape_scoped(url).0
}

/// The shape of `full` (absolute, or a bare path or route), and whether it
/// is the shape of every URL with the same digit template
/// ([`super::digits`]): whether each standalone digit run is a whole path
/// segment (an id, `*` whatever its digits) or after the path (in a query,
/// `?*` whatever it holds, or a fragment, dropped). A run in the host or
/// port, or in part of a segment, is kept in the shape.
pub fn shape_scoped(full: &str) -> (String, bool) {
    // Every search is for an ASCII byte, so each cut is at a character
    // boundary. Byte searches, not `str` patterns: a pattern of three bytes
    // ("://") set up a substring searcher per call, and with the host's
    // search that was about 2,000 instructions a URL.
    let url = full.trim();
    let url = memchr::memchr(b'#', url.as_bytes()).map_or(url, |i| &url[..i]);
    let (url, query) = match memchr::memchr(b'?', url.as_bytes()) {
        Some(i) => (&url[..i], i + 1 < url.len()),
        None => (url, false),
    };
    let path_start = after_scheme(url).map_or(0, |i| {
        memchr::memchr(b'/', &url.as_bytes()[i..]).map_or(url.len(), |j| i + j)
    });
    // The path's bounds in `full` (`url` is a slice of it).
    let trimmed = url.as_ptr() as usize - full.as_ptr() as usize;
    let path = trimmed + path_start..trimmed + url.len();
    let bytes = full.as_bytes();
    let scoped = super::digits::runs(bytes).all(|run| {
        run.start >= path.end
            || (run.start >= path.start
                && (run.start == path.start || bytes[run.start - 1] == b'/')
                && (run.end == path.end || bytes[run.end] == b'/'))
    });
    let shape = rendered(&url[..path_start], &url[path_start..], query);
    (shape, scoped)
}

/// A shape from a URL's parts: what precedes the path as it is, id-like
/// path segments as `*`, a query as `?*`.
fn rendered(head: &str, path: &str, query: bool) -> String {
    let mut out = String::with_capacity(head.len() + path.len() + 2);
    out.push_str(head);
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.push_str(if is_identifier(segment) { "*" } else { segment });
    }
    if query {
        out.push_str("?*");
    }
    out
}

/// Where what follows the first `://` of `url` starts.
fn after_scheme(url: &str) -> Option<usize> {
    let b = url.as_bytes();
    memchr::memchr_iter(b':', b)
        .find(|&i| b[i + 1..].starts_with(b"//"))
        .map(|i| i + 3)
}

/// The host of an absolute URL (`https://user@host:8080/path` → `host`).
pub fn host(url: &str) -> Option<&str> {
    let rest = &url[after_scheme(url)?..];
    let end = rest
        .bytes()
        .position(|b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(rest.len());
    let authority = &rest[..end];
    let host =
        memchr::memrchr(b'@', authority.as_bytes()).map_or(authority, |i| &authority[i + 1..]);
    let host = if host.starts_with('[') {
        memchr::memchr(b']', host.as_bytes()).map_or(host, |i| &host[..=i])
    } else {
        memchr::memchr(b':', host.as_bytes()).map_or(host, |i| &host[..i])
    };
    (!host.is_empty()).then_some(host)
}

/// Whether a path segment is an id: digits, a UUID, a hex hash (8 or more
/// hex digits with at least one digit), or a long token mixing letters and
/// digits (an opaque key). Words, versions (`v2`) and routes' own
/// placeholders (`{id}`, `:id`) are kept.
fn is_identifier(segment: &str) -> bool {
    let b = segment.as_bytes();
    let hex = |s: &[u8]| s.iter().all(u8::is_ascii_hexdigit);
    let has_digit = b.iter().any(u8::is_ascii_digit);
    let digits = !b.is_empty() && b.iter().all(u8::is_ascii_digit);
    let uuid = b.len() == 36
        && [8, 13, 18, 23].iter().all(|&i| b[i] == b'-')
        && b.iter()
            .enumerate()
            .all(|(i, c)| [8, 13, 18, 23].contains(&i) || c.is_ascii_hexdigit());
    let long_hex = b.len() >= 8 && hex(b) && has_digit;
    let token = b.len() >= 16
        && has_digit
        && b.iter().any(u8::is_ascii_alphabetic)
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_');
    digits || uuid || long_hex || token
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::url_host;

    #[test]
    fn ids_queries_and_fragments() {
        let cases = [
            (
                "https://api.example.com/users/42",
                "https://api.example.com/users/*",
            ),
            (
                "https://api.example.com/users/42/orders?page=2#top",
                "https://api.example.com/users/*/orders?*",
            ),
            (
                "http://geo:8080/v2/reverse/3fa85f64-5717-4562-b3fc-2c963f66afa6",
                "http://geo:8080/v2/reverse/*",
            ),
            ("/1001/weather.json", "/*/weather.json"),
            (
                "/api/0/organizations/sentry/",
                "/api/*/organizations/sentry/",
            ),
            ("/commits/9f86d081884c7d65", "/commits/*"),
            ("/keys/AbCdEf0123456789xyZ", "/keys/*"),
            ("/users/{id}/orders", "/users/{id}/orders"),
            ("/users/:id", "/users/:id"),
            ("https://host", "https://host"),
            ("/search?", "/search"),
            ("", ""),
        ];
        for (url, want) in cases {
            assert_eq!(shape(url), want, "{url}");
        }
    }

    #[test]
    fn identifiers_and_words() {
        for id in [
            "42",
            "2f0d8a1c-6e29-4b8e-9f0a-1b2c3d4e5f60",
            "a1b2c3d4",
            "5B8EFFF798038103",
            // Not a UUID, but a long opaque token all the same.
            "2f0d8a1c-6e29-4b8e-9f0a-1b2c3d4e5f6x",
        ] {
            assert!(is_identifier(id), "{id}");
        }
        for word in ["", "users", "deadbeef", "v1", "a1b2c3", "reverse-geocoding"] {
            assert!(!is_identifier(word), "{word}");
        }
    }

    #[test]
    fn method_is_upper_cased_and_optional() {
        assert_eq!(super::super::url_shape(Some("get"), "/a/1"), "GET /a/*");
        assert_eq!(super::super::url_shape(None, "/a/1"), "/a/*");
        assert_eq!(super::super::url_shape(Some(" "), "/a"), "/a");
    }

    #[test]
    fn non_ascii_never_panics() {
        for url in ["/ü/€/1", "https://ß/𝄞?x", "://", "/a/ééééééééééééééééé1"]
        {
            let _ = shape(url);
        }
    }

    /// The searches by `str` pattern the byte searches replaced, as the
    /// reference they must agree with (the rendering is shared).
    fn host_by_patterns(url: &str) -> Option<&str> {
        let (_, rest) = url.split_once("://")?;
        let authority = rest.split(['/', '?', '#']).next()?;
        let host = authority.rsplit('@').next()?;
        let host = if host.starts_with('[') {
            host.split_inclusive(']').next()?
        } else {
            host.split(':').next()?
        };
        (!host.is_empty()).then_some(host)
    }

    fn shape_by_patterns(url: &str) -> String {
        let url = url.trim();
        let url = url.split('#').next().unwrap_or(url);
        let (url, query) = match url.split_once('?') {
            Some((path, query)) => (path, !query.is_empty()),
            None => (url, false),
        };
        let path_start = url.find("://").map_or(0, |i| {
            url[i + 3..].find('/').map_or(url.len(), |j| i + 3 + j)
        });
        rendered(&url[..path_start], &url[path_start..], query)
    }

    proptest::proptest! {
        /// URL-like text of the bytes the searches cut at, with non-ASCII
        /// among them, has the host and shape the pattern searches gave.
        #[test]
        fn byte_searches_agree_with_pattern_searches(
            url in "(https?://|:/|//|)[a-z0-9:/?#@\\[\\]. é€-]{0,40}",
        ) {
            proptest::prop_assert_eq!(host(&url), host_by_patterns(&url));
            proptest::prop_assert_eq!(shape(&url), shape_by_patterns(&url));
        }

        /// What a shape cache keyed by digit templates relies on: a shape
        /// said to hold for its template holds for other digits in it.
        #[test]
        fn a_scoped_shape_holds_for_its_digit_template(
            url in "( |)(https?://|:/|//|)[a-z0-9:/?#@. é-]{0,12}[0-9]{1,3}[a-z0-9:/?#@. é-]{0,12}( |)",
            digits in proptest::collection::vec("[0-9]{1,5}", 8),
        ) {
            let (want, scoped) = shape_scoped(&url);
            if scoped {
                let mut other = String::new();
                let mut copied = 0;
                let runs = crate::normalize::digits::runs(url.as_bytes());
                for (run, digits) in runs.zip(digits.iter().cycle()) {
                    other.push_str(&url[copied..run.start]);
                    other.push_str(digits);
                    copied = run.end;
                }
                other.push_str(&url[copied..]);
                proptest::prop_assert_eq!(shape(&other), want, "{:?} from {:?}", other, url);
            }
        }
    }

    #[test]
    fn a_shape_holds_for_its_digit_template_where_runs_are_whole_segments() {
        for (url, scoped) in [
            ("https://api/users/42/orders", true),
            ("/users/42?page=2#3", true),
            ("42/x", true),
            ("http://geo:8080/v2", false),
            ("/users/x-42", false),
            ("/v2/users", true),
        ] {
            assert_eq!(shape_scoped(url).1, scoped, "{url}");
        }
    }

    #[test]
    fn hosts_of_urls() {
        assert_eq!(
            url_host("https://geo-service.internal/v1/reverse?x=1"),
            Some("geo-service.internal")
        );
        assert_eq!(
            url_host("http://user:pw@db.example:5432/x"),
            Some("db.example")
        );
        assert_eq!(url_host("http://[::1]:80/"), Some("[::1]"));
        assert_eq!(url_host("/relative/path"), None);
        assert_eq!(url_host("https:///nohost"), None);
    }
}
