//! Connection strings carry passwords; everything that shows one to a person goes through
//! [`redact_url`] first.

/// What a hidden password reads as.
const HIDDEN: &str = "***";

/// Parameters whose values are secrets, besides any whose name contains "password"
/// (`sslpassword`, `sentinelPassword`, …).
const SECRET_KEYS: [&str; 2] = ["pass", "pwd"];

/// `url` with every password replaced by `***`: the one in the user info
/// (`postgres://user:pw@host/db`, `redis://:pw@host`) and the values of `password=`-like
/// parameters (`?password=pw`, or a `key=value` string such as `host=h password=pw`).
/// Everything else (scheme, user, host, port, path) is kept, so the result still says
/// where a connection went. A string that is not a URL comes back with the same rules
/// applied.
///
/// ```
/// use queue_core::redact_url;
/// assert_eq!(
///     redact_url("postgres://app:s3cret@db:5432/jobs"),
///     "postgres://app:***@db:5432/jobs"
/// );
/// assert_eq!(redact_url("redis://:s3cret@127.0.0.1:6379"), "redis://:***@127.0.0.1:6379");
/// assert_eq!(redact_url("postgres://db/jobs?password=s3cret&sslmode=require"),
///     "postgres://db/jobs?password=***&sslmode=require");
/// ```
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(i) => url.split_at(i + 3),
        None => ("", url),
    };
    // The user info ends at the last `@`, wherever it is: a password holding `/` or `@`
    // unescaped must still be hidden, so this errs on hiding too much.
    let rest = match rest.rfind('@') {
        Some(at) => {
            let (userinfo, host) = rest.split_at(at);
            match userinfo.find(':') {
                Some(colon) => format!("{}:{HIDDEN}{host}", &userinfo[..colon]),
                None => rest.to_owned(),
            }
        }
        None => rest.to_owned(),
    };
    redact_params(&format!("{scheme}{rest}"))
}

/// Hides the values of secret `key=value` parameters, separated by `&`, `;`, `?` or
/// whitespace.
fn redact_params(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(eq) = rest.find('=') {
        let (before, after) = rest.split_at(eq);
        let key_start = before
            .char_indices()
            .rev()
            .find(|&(_, c)| matches!(c, '&' | ';' | '?' | '/') || c.is_whitespace())
            .map_or(0, |(i, c)| i + c.len_utf8());
        let key = &before[key_start..];
        out.push_str(before);
        out.push('=');
        let value = &after[1..];
        let value_end = value
            .find(|c: char| matches!(c, '&' | ';' | '#') || c.is_whitespace())
            .unwrap_or(value.len());
        if key.to_ascii_lowercase().contains("password")
            || SECRET_KEYS.iter().any(|k| key.eq_ignore_ascii_case(k))
        {
            out.push_str(HIDDEN);
        } else {
            out.push_str(&value[..value_end]);
        }
        rest = &value[value_end..];
    }
    out.push_str(rest);
    out
}

/// The passwords in `url` (user info and `password=`-like parameters, read as
/// [`redact_url`] reads them), as written and percent-decoded, longest first: what to
/// hide with [`scrub_secrets`] in text a driver built from the URL, which may show a
/// password in any of its forms.
///
/// ```
/// use queue_core::{scrub_secrets, url_secrets};
/// let secrets = url_secrets("postgres://app:p%40ss@db/jobs");
/// assert_eq!(scrub_secrets("auth failed for app (p@ss)", &secrets), "auth failed for app (***)");
/// ```
pub fn url_secrets(url: &str) -> Vec<String> {
    let rest = url.find("://").map_or(url, |i| &url[i + 3..]);
    let mut found = Vec::new();
    // The user info ends at the last `@`, as `redact_url` reads it.
    if let Some(at) = rest.rfind('@') {
        if let Some((_, password)) = rest[..at].split_once(':') {
            found.push(password.to_owned());
        }
    }
    // Parameters read as `redact_url` reads them: the key back to a separator, the value
    // on to `&`, `;`, `#` or a space.
    let mut text = url;
    while let Some(eq) = text.find('=') {
        let (before, after) = (&text[..eq], &text[eq + 1..]);
        let key = before
            .rsplit(|c: char| matches!(c, '&' | ';' | '?' | '/') || c.is_whitespace())
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let end = after
            .find(|c: char| matches!(c, '&' | ';' | '#') || c.is_whitespace())
            .unwrap_or(after.len());
        if key.contains("password") || SECRET_KEYS.contains(&key.as_str()) {
            found.push(after[..end].to_owned());
        }
        text = &after[end..];
    }
    let decoded: Vec<String> = found.iter().map(|s| percent_decode(s)).collect();
    found.extend(decoded);
    found.retain(|s| !s.is_empty() && s != HIDDEN);
    found.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    found.dedup();
    found
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
                out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `text` with every occurrence of each of `secrets` replaced by `***`, longest first (a
/// secret that holds another is hidden whole).
pub fn scrub_secrets(text: &str, secrets: &[String]) -> String {
    let mut ordered: Vec<&String> = secrets.iter().collect();
    ordered.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_owned();
    for secret in ordered {
        out = out.replace(secret.as_str(), HIDDEN);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{redact_url, scrub_secrets, url_secrets};

    #[test]
    fn passwords_are_hidden_and_the_rest_kept() {
        for (url, want) in [
            (
                "postgres://postgres:s3cret@127.0.0.1:1/test",
                "postgres://postgres:***@127.0.0.1:1/test",
            ),
            ("redis://:s3cret@h:6379/0", "redis://:***@h:6379/0"),
            ("rediss://user:p%40ss@h", "rediss://user:***@h"),
            ("postgres://u:a@b@h/db", "postgres://u:***@h/db"),
            (
                "postgres://h/db?user=u&password=s3cret&sslmode=require",
                "postgres://h/db?user=u&password=***&sslmode=require",
            ),
            (
                "host=h user=u password=s3cret",
                "host=h user=u password=***",
            ),
            ("postgres://u@h:5432/db", "postgres://u@h:5432/db"),
            ("sqlite:jobs.db?mode=rwc", "sqlite:jobs.db?mode=rwc"),
            ("u:s3cret@h", "u:***@h"),
            ("", ""),
        ] {
            assert_eq!(redact_url(url), want, "{url}");
        }
    }

    #[test]
    fn odd_passwords_and_parameter_names_are_hidden() {
        for url in [
            "redis://:pa/ss@127.0.0.1:6379",
            "redis://u:p@ss@host",
            "redis://host/0?sentinelPassword=s3cret",
        ] {
            let shown = redact_url(url);
            assert!(
                !shown.contains("ss@") && !shown.contains("s3cret"),
                "{shown}"
            );
        }
    }

    #[test]
    fn odd_text_never_panics_or_leaks() {
        for url in [
            "=",
            "a=",
            "password=",
            "?password",
            "://@",
            "x://:@",
            "é=é&pwd=s3cret",
        ] {
            assert!(!redact_url(url).contains("s3cret"), "{url}");
        }
    }

    #[test]
    fn secrets_are_found_written_and_decoded() {
        let found = url_secrets("redis://:a%41%@h/0?sentinelPassword=p%2Fw&pwd=x");
        for secret in ["a%41%", "aA%", "p%2Fw", "p/w", "x"] {
            assert!(found.iter().any(|s| s == secret), "{secret} in {found:?}");
        }
        assert!(url_secrets("postgres://app@db/jobs").is_empty());
        // Malformed escapes are kept as written.
        assert!(url_secrets("redis://:%zz%@h").iter().all(|s| s == "%zz%"));
        assert_eq!(
            scrub_secrets("k3y2 or k3y", &["k3y".into(), "k3y2".into()]),
            "*** or ***"
        );
    }
}
