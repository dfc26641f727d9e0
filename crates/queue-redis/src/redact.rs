//! Keeping passwords out of errors, logs and `Debug` output: a Redis URL may carry one in
//! its user info (`redis://user:password@host`) or in a query parameter
//! (`?password=…`, `?sentinelPassword=…`).

/// What a hidden password is shown as.
const MASK: &str = "***";

/// `url` with every password replaced by `***`: the user-info password (`user:pw@` →
/// `user:***@`) and the value of each query parameter whose name contains "password"
/// (any case). Works on text that is not a valid URL too, erring on hiding too much: the
/// user info ends at the last `@`, even if that `@` sits in the query.
pub(crate) fn url(url: &str) -> String {
    queue_core::redact_url(url)
}

/// The passwords in `url`, as written and percent-decoded, so that they can be scrubbed
/// from text that a driver built from the URL (an error message, say).
pub(crate) fn secrets(url: &str) -> Vec<String> {
    let (_, rest) = split_scheme(url);
    let mut found = Vec::new();
    if let Some(at) = rest.rfind('@') {
        if let Some((_, password)) = rest[..at].split_once(':') {
            found.push(password.to_string());
        }
    }
    if let Some((_, query)) = rest.split_once('?') {
        for pair in query.split('&') {
            if let Some((name, value)) = pair.split_once('=') {
                if is_password(name) {
                    found.push(value.to_string());
                }
            }
        }
    }
    let decoded: Vec<String> = found.iter().map(|s| percent_decode(s)).collect();
    found.extend(decoded);
    found.retain(|s| !s.is_empty());
    found.sort_unstable();
    found.dedup();
    found
}

/// `text` with every occurrence of each of `secrets` replaced by `***`.
pub(crate) fn scrub(text: &str, secrets: &[String]) -> String {
    // Longest first: a secret that contains another is replaced whole.
    let mut ordered: Vec<&String> = secrets.iter().collect();
    ordered.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_string();
    for s in ordered {
        out = out.replace(s.as_str(), MASK);
    }
    out
}

/// (`scheme://`, the rest); no scheme when there is no `://`.
fn split_scheme(url: &str) -> (&str, &str) {
    match url.find("://") {
        Some(i) => url.split_at(i + 3),
        None => ("", url),
    }
}

fn is_password(name: &str) -> bool {
    name.to_ascii_lowercase().contains("password")
}

/// `%XX` escapes decoded; anything malformed is kept as written.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_user_info_passwords() {
        assert_eq!(
            url("redis://user:s3cret@host:6379/0"),
            "redis://user:***@host:6379/0"
        );
        assert_eq!(url("redis://:s3cret@host"), "redis://:***@host");
        assert_eq!(url("redis://:p@ss:w@rd@host:1"), "redis://:***@host:1");
        assert_eq!(url("user:s3cret@host"), "user:***@host");
        assert_eq!(url("redis://host:6379/0"), "redis://host:6379/0");
        assert_eq!(url("redis://user@host"), "redis://user@host");
    }

    #[test]
    fn hides_password_parameters() {
        assert_eq!(
            url("redis-sentinel://h:1/x?sentinelPassword=s3cret&node=h2:2&PASSWORD=x"),
            "redis-sentinel://h:1/x?sentinelPassword=***&node=h2:2&PASSWORD=***"
        );
        assert_eq!(url("redis://h/?password=s3cret"), "redis://h/?password=***");
    }

    #[test]
    fn finds_and_scrubs_secrets() {
        let s = secrets("redis://u:s3%63ret@h:1/?sentinelPassword=other");
        for expected in ["s3%63ret", "s3cret", "other"] {
            assert!(s.iter().any(|x| x == expected), "{s:?}");
        }
        assert_eq!(
            scrub("bad s3cret, s3%63ret and other", &s),
            "bad ***, *** and ***"
        );
        assert!(secrets("redis://h:1/0").is_empty());
    }

    #[test]
    fn percent_decoding_keeps_malformed_escapes() {
        assert_eq!(percent_decode("a%20b%2"), "a b%2");
        assert_eq!(percent_decode("%zz%"), "%zz%");
    }
}
