//! Keeping the password of the queue URL out of everything the tool prints.
//!
//! Where the tool shows the URL itself it uses [`queue_core::redact_url`]. Errors are a
//! different matter: a driver may build its message from any part of the URL, percent
//! escapes decoded or not, so every error text is scrubbed of the URL's secrets as well.

use queue_core::{redact_url, scrub_secrets, url_secrets};

/// The URL the tool was given, and the secrets in it.
#[derive(Clone, Debug, Default)]
pub struct Scrubber {
    url: String,
    secrets: Vec<String>,
}

impl Scrubber {
    /// A scrubber for `url`; an empty URL hides nothing.
    pub fn new(url: &str) -> Scrubber {
        Scrubber {
            url: url.to_owned(),
            secrets: url_secrets(url),
        }
    }

    /// `text` with the URL shown redacted and every secret of it replaced by `***`.
    pub fn scrub(&self, text: &str) -> String {
        let out = if self.url.is_empty() {
            text.to_owned()
        } else {
            text.replace(&self.url, &redact_url(&self.url))
        };
        scrub_secrets(&out, &self.secrets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_and_its_passwords_never_survive() {
        let url = "postgres://app:p%40ss%2Fw0rd@db.example:5432/jobs?sslpassword=k3y&x=1";
        let s = Scrubber::new(url);
        let text = format!(
            "failed: {url}; auth for app with p@ss/w0rd; key k3y; raw p%40ss%2Fw0rd; at db.example"
        );
        let shown = s.scrub(&text);
        for secret in ["p@ss/w0rd", "p%40ss%2Fw0rd", "k3y"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(
            shown.contains("postgres://app:***@db.example:5432/jobs"),
            "{shown}"
        );
        assert!(shown.contains("at db.example"), "{shown}");
    }

    #[test]
    fn mysql_urls_are_shown_redacted() {
        let url = "mariadb://app:s3cret@db.example:3306/jobs";
        let shown = Scrubber::new(url).scrub(&format!("cannot open {url}: denied for s3cret"));
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(
            shown.contains("mariadb://app:***@db.example:3306/jobs"),
            "{shown}"
        );
    }

    #[test]
    fn every_form_of_secret_is_found() {
        for (url, secret) in [
            ("redis://:s3cret@127.0.0.1:6379", "s3cret"),
            ("redis://user:s3cret@h/0", "s3cret"),
            ("rediss://u:a@b@h", "a@b"),
            ("postgres://h/db?password=s3cret&sslmode=require", "s3cret"),
            ("host=h user=u password=s3cret", "s3cret"),
            ("redis://h/0?sentinelPassword=s3cret", "s3cret"),
            ("postgres://h/db?pwd=s3cret#frag", "s3cret"),
            ("postgres://h/db?password=s3/cret&x=1", "s3/cret"),
            ("mysql://root:s3cret@127.0.0.1:3306/test", "s3cret"),
            (
                "mariadb://app:p%40ss@db:3306/jobs?ssl-mode=REQUIRED",
                "p@ss",
            ),
            ("mysql://app:s3cret@h/db?ssl-mode=VERIFY_CA", "s3cret"),
        ] {
            let shown = Scrubber::new(url).scrub(&format!("{url} and {secret}"));
            assert!(!shown.contains(secret), "{url}: {shown}");
        }
    }

    #[test]
    fn urls_without_secrets_are_left_alone() {
        for url in [
            "postgres://postgres@127.0.0.1:5432/test",
            "mysql://root@127.0.0.1:3306/test",
            "sqlite:jobs.db",
            "",
        ] {
            let s = Scrubber::new(url);
            let text = format!("cannot open {url}: refused");
            assert_eq!(s.scrub(&text), text);
        }
    }

    #[test]
    fn odd_escapes_never_panic() {
        for url in [
            "redis://:%@h",
            "redis://:%4@h",
            "redis://:%zz@h",
            "redis://:%e2%82@h",
        ] {
            let s = Scrubber::new(url);
            let _ = s.scrub("text");
        }
    }
}
