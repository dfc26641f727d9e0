//! Postgres over TLS, on a throw-away server of this test's own with a CA made for the
//! test: `sslmode=require`, `verify-ca` and `verify-full` connect encrypted and a queue
//! round trip works; a server whose certificate another CA signed is refused with an
//! error that says so and shows no password. Without a TLS feature, such URLs are
//! refused before anything is sent.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use queue_sql::{SqlOptions, SqlQueue};

#[cfg(any(feature = "tls-rustls", feature = "tls-native"))]
mod with_tls {
    use queue_core::{Job, Queue};
    use queue_servers::{PostgresOptions, PostgresServer, TlsCerts};
    use sqlx::Connection;

    use super::*;

    /// A server with TLS on, or `None` when skipping is asked for.
    fn server() -> Option<PostgresServer> {
        let opts = PostgresOptions::default().tls(TlsCerts::generate().unwrap());
        PostgresServer::start_with_unless_skipped(opts).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Whether the connection `url` opens is encrypted, as the server sees it.
    async fn encrypted(url: &str) -> bool {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        let ssl: bool =
            sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                .fetch_one(&mut conn)
                .await
                .unwrap();
        conn.close().await.unwrap();
        ssl
    }

    #[test]
    fn every_tls_sslmode_connects_encrypted_and_a_queue_round_trip_works() {
        let Some(server) = server() else {
            return;
        };
        let ca = server.ca_file().unwrap().display().to_string();
        let base = format!("postgres://postgres@127.0.0.1:{}/test", server.port());
        queue_testkit::restart::block_on(async move {
            for mode in ["require", "verify-ca", "verify-full"] {
                let url = format!("{base}?sslmode={mode}&sslrootcert={ca}");
                assert!(
                    encrypted(&url).await,
                    "sslmode={mode} connected in clear text"
                );
            }
            assert!(!encrypted(&format!("{base}?sslmode=disable")).await);

            let url = server.url();
            assert!(url.contains("sslmode=verify-full"), "{url}");
            let queue = SqlQueue::connect_with(&url, SqlOptions::default().table("tls_jobs"))
                .await
                .unwrap();
            let id = queue
                .enqueue(Job::new("tls", serde_json::json!({"n": 1})))
                .await
                .unwrap();
            let job = queue.dequeue(&[]).await.unwrap().expect("the job is there");
            assert_eq!(job.id, id);
            queue.ack(&job.lease().unwrap()).await.unwrap();
            assert!(queue.dequeue(&[]).await.unwrap().is_none());
        });
    }

    #[test]
    fn a_certificate_from_another_ca_is_refused_without_showing_the_password() {
        let Some(server) = server() else {
            return;
        };
        let wrong = server.ca_file().unwrap().with_file_name("wrong-ca.crt");
        std::fs::write(&wrong, TlsCerts::generate().unwrap().ca_pem).unwrap();
        let url = format!(
            "postgres://postgres:hunter2secret@127.0.0.1:{}/test?sslmode=verify-full&sslrootcert={}",
            server.port(),
            wrong.display()
        );
        queue_testkit::restart::block_on(async move {
            let Err(err) = SqlQueue::connect(&url).await else {
                panic!("connected with a certificate from another CA");
            };
            let text = format!("{} {err:?}", queue_core::ErrorChain(&err));
            assert!(text.contains("certificate problem"), "{text}");
            assert!(
                text.contains(&format!("127.0.0.1:{}", server.port())),
                "{text}"
            );
            assert!(!text.contains("hunter2secret"), "{text}");
        });
    }
}

#[cfg(not(any(feature = "tls-rustls", feature = "tls-native")))]
#[test]
fn a_tls_sslmode_is_refused_without_a_tls_feature() {
    use queue_core::QueueError;

    queue_testkit::restart::block_on(async {
        let url = "postgres://app:hunter2secret@127.0.0.1:1/test?sslmode=verify-full";
        let err = SqlQueue::connect_with(url, SqlOptions::default())
            .await
            .err();
        let Some(QueueError::InvalidConfig(msg)) = err else {
            panic!("{err:?}");
        };
        assert_eq!(
            msg,
            "sslmode=verify-full needs the tls-rustls or tls-native feature of queue-sql"
        );
    });
}
