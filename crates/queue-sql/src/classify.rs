//! Which database failures are worth retrying. Callers (the worker's settle loop, the
//! scheduler) retry [`QueueError::Backend`] and give up on [`QueueError::Rejected`], so
//! an error that can never pass (a NUL byte in a text, a broken constraint) must not be
//! reported as transient, or they loop on it.

use queue_core::QueueError;

/// A dialect's rule for its own error codes: true when the code is transient.
pub(crate) type CodeRule = fn(&str) -> bool;

/// Maps a driver error: transient trouble to [`QueueError::Backend`], the rest to
/// [`QueueError::Rejected`]. Database errors are judged by the dialect's `code_rule`.
pub(crate) fn classify(e: sqlx::Error, code_rule: CodeRule) -> QueueError {
    if is_transient(&e, code_rule) {
        QueueError::backend(e)
    } else {
        QueueError::rejected(e)
    }
}

/// Maps the failure of migration `version`'s script (already classified): trouble that
/// may pass stays [`QueueError::Backend`], so the next start tries again; anything else
/// is [`QueueError::Migration`], which someone has to look at.
pub(crate) fn migration_failed(version: impl Into<i64>, e: QueueError) -> QueueError {
    match e {
        QueueError::Rejected(source) => QueueError::Migration {
            // Our own versions: small and positive.
            version: u32::try_from(version.into()).unwrap_or(u32::MAX),
            source,
        },
        other => other,
    }
}

/// True for errors that a later try may not meet: the connection, the pool and the
/// server's state, as opposed to the statement or its data.
pub(crate) fn is_transient(e: &sqlx::Error, code_rule: CodeRule) -> bool {
    match e {
        sqlx::Error::Database(db) => db.code().is_none_or(|code| code_rule(&code)),
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // Decoding, configuration, missing rows or columns: a bug or bad data, the same on
        // every try. Unknown kinds count as transient, the old default.
        sqlx::Error::Configuration(_)
        | sqlx::Error::InvalidArgument(_)
        | sqlx::Error::RowNotFound
        | sqlx::Error::TypeNotFound { .. }
        | sqlx::Error::ColumnIndexOutOfBounds { .. }
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Encode(_)
        | sqlx::Error::Decode(_)
        | sqlx::Error::AnyDriverError(_)
        | sqlx::Error::InvalidSavePointStatement
        | sqlx::Error::BeginFailed => false,
        _ => true,
    }
}

/// Transient Postgres SQLSTATEs: connection exceptions (class 08), serialization failures and
/// deadlocks (class 40), too many connections or out of resources (class 53), operator
/// intervention such as an admin shutdown or a cancelled query (class 57), system errors
/// such as I/O trouble (class 58), and lock timeouts (55P03). Every other code (data
/// exceptions 22, constraint violations 23, syntax and access rules 42, …) is a property
/// of the statement and its data, and fails again the same way.
#[cfg(feature = "postgres")]
pub(crate) fn sqlstate_is_transient(code: &str) -> bool {
    matches!(code.get(..2), Some("08" | "40" | "53" | "57" | "58")) || code == "55P03"
}

/// Transient SQLite result codes, by their primary code (the low byte): busy and locked
/// (5, 6; normally retried before they get here), out of memory (7), interrupted (9), I/O
/// errors (10), a full disk (13), a file that cannot be opened (14) and locking protocol
/// trouble (15). Every other code (SQL errors 1, constraints 19, type mismatches 20,
/// too big 18, corruption 11, read-only 8, …) fails again the same way.
#[cfg(feature = "sqlite")]
pub(crate) fn sqlite_code_is_transient(code: &str) -> bool {
    code.parse::<i32>()
        .is_ok_and(|c| matches!(c & 0xff, 5 | 6 | 7 | 9 | 10 | 13 | 14 | 15))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "postgres")]
    #[test]
    fn postgres_connection_trouble_is_transient_and_bad_data_is_not() {
        for code in [
            "08000", "08006", "08001", "40001", "40P01", "53300", "57P01", "57014", "58030",
            "55P03",
        ] {
            assert!(sqlstate_is_transient(code), "{code}");
        }
        for code in [
            "22021", "22P02", "22001", "23505", "23502", "23514", "42601", "42P01", "42883",
            "0A000", "2BP01", "",
        ] {
            assert!(!sqlstate_is_transient(code), "{code}");
        }
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn sqlite_io_trouble_is_transient_and_bad_statements_are_not() {
        for code in ["5", "6", "261", "10", "266", "13", "14"] {
            assert!(sqlite_code_is_transient(code), "{code}");
        }
        for code in ["1", "19", "2067", "20", "18", "11", "8", "", "x"] {
            assert!(!sqlite_code_is_transient(code), "{code}");
        }
    }

    #[test]
    fn driver_errors_are_split_the_same_way() {
        let rule: CodeRule = |_| false;
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(classify(sqlx::Error::Io(refused), rule).is_transient());
        assert!(classify(sqlx::Error::PoolTimedOut, rule).is_transient());
        assert!(classify(sqlx::Error::PoolClosed, rule).is_transient());
        assert!(!classify(sqlx::Error::RowNotFound, rule).is_transient());
        assert!(!classify(sqlx::Error::ColumnNotFound("x".into()), rule).is_transient());
        assert!(matches!(
            classify(sqlx::Error::Decode("bad".into()), rule),
            QueueError::Rejected(_)
        ));
    }

    #[test]
    fn a_failed_migration_is_its_own_error_unless_it_may_pass() {
        let rule: CodeRule = |_| false;
        let broken = migration_failed(3, classify(sqlx::Error::Decode("bad".into()), rule));
        assert!(
            matches!(broken, QueueError::Migration { version: 3, .. }),
            "{broken:?}"
        );
        assert!(!broken.is_transient());
        let lost = migration_failed(3, classify(sqlx::Error::PoolTimedOut, rule));
        assert!(lost.is_transient(), "{lost:?}");
    }
}
