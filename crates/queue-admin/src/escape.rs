//! Escaping for the server-rendered pages: every value that came from a job, a request or a
//! backend goes through one of these before it is written into HTML or a URL.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `s` safe as HTML text and as a quoted attribute value: `&`, `<`, `>`, `"` and `'` are
/// replaced by character references.
pub fn html(s: &str) -> Cow<'_, str> {
    if !s.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `s` percent-encoded as one URL path segment or query value: everything but the
/// unreserved characters (letters, digits, `-`, `.`, `_`, `~`) is encoded, byte by byte.
pub fn url_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A relative query-only reference (`?a=1&b=x`) from `pairs`, leaving out empty values;
/// `?` alone when none is left. Resolved against the page's own URL, so it works under any
/// prefix the router is mounted at.
pub fn query(pairs: &[(&str, &str)]) -> String {
    let mut out = String::from("?");
    for (key, value) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        if out.len() > 1 {
            out.push('&');
        }
        out.push_str(&url_component(key));
        out.push('=');
        out.push_str(&url_component(value));
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn markup_stays_text() {
        assert_eq!(
            html(r#"<script>alert("x")</script>"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
        );
        assert_eq!(html("a & b's"), "a &amp; b&#39;s");
        assert_eq!(html("&amp;"), "&amp;amp;");
    }

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        assert!(matches!(
            html("email.send 42 ü"),
            Cow::Borrowed("email.send 42 ü")
        ));
        assert_eq!(html(""), "");
    }

    #[test]
    fn url_components_encode_everything_but_unreserved() {
        assert_eq!(url_component("a-b_c.d~e09"), "a-b_c.d~e09");
        assert_eq!(url_component("a b/c?d&e=f#g"), "a%20b%2Fc%3Fd%26e%3Df%23g");
        assert_eq!(url_component("\"><script>"), "%22%3E%3Cscript%3E");
        assert_eq!(url_component("é"), "%C3%A9");
    }

    #[test]
    fn queries_skip_empty_values() {
        assert_eq!(query(&[]), "?");
        assert_eq!(query(&[("state", ""), ("kind", "")]), "?");
        assert_eq!(
            query(&[("queue", "b&c"), ("state", ""), ("kind", "a b")]),
            "?queue=b%26c&kind=a%20b"
        );
    }
}
