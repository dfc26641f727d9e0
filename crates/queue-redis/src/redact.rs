//! Keeping passwords out of errors, logs and `Debug` output: a Redis URL may carry one in
//! its user info (`redis://user:password@host`) or in a query parameter
//! (`?password=…`, `?sentinelPassword=…`).

/// `url` with every password replaced by `***`: the user-info password (`user:pw@` →
/// `user:***@`) and the value of each query parameter whose name contains "password"
/// (any case). Works on text that is not a valid URL too, erring on hiding too much: the
/// user info ends at the last `@`, even if that `@` sits in the query.
pub(crate) fn url(url: &str) -> String {
    queue_core::redact_url(url)
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
}
