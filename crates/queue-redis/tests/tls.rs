//! `rediss://` against a throw-away Redis serving TLS only, with a CA made for the test:
//! a round trip over TLS, and a server whose certificate another CA signed is refused
//! with an error that says so and shows no password. Without a TLS feature, the URL is
//! refused before anything is sent.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use queue_core::QueueError;
use queue_redis::RedisQueue;

#[cfg(any(feature = "tls-rustls", feature = "tls-native"))]
mod with_tls {
    use std::time::Duration;

    use queue_core::{Job, Queue};
    use queue_servers::{RedisOptions, RedisServer, TlsCerts};

    use super::*;

    /// A TLS-only server with fresh certificates, or `None` when skipping is asked for.
    fn server() -> Option<(RedisServer, TlsCerts)> {
        let certs = TlsCerts::generate().unwrap();
        let opts = RedisOptions::default().tls(certs.clone());
        let server = RedisServer::start_unless_skipped(opts).unwrap_or_else(|e| panic!("{e}"))?;
        Some((server, certs))
    }

    fn open(url: &str, ca_pem: &str) -> queue_redis::RedisQueueBuilder {
        RedisQueue::builder("tls")
            .url(url)
            .tls_ca_pem(ca_pem)
            .pool_size(2)
            .connect_timeout(Duration::from_secs(10))
    }

    #[test]
    fn enqueue_claim_and_ack_over_tls() {
        let Some((server, certs)) = server() else {
            return;
        };
        assert!(server.url().starts_with("rediss://"));
        queue_testkit::restart::block_on(async move {
            let queue = open(&server.url(), &certs.ca_pem).build().await.unwrap();
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
        let Some((server, _)) = server() else {
            return;
        };
        let wrong_ca = TlsCerts::generate().unwrap().ca_pem;
        let url = format!("rediss://:hunter2secret@127.0.0.1:{}", server.port());
        queue_testkit::restart::block_on(async move {
            let Err(err) = open(&url, &wrong_ca).build().await else {
                panic!("connected with a certificate from another CA");
            };
            let text = format!("{err} {err:?}");
            assert!(text.contains("a certificate problem"), "{text}");
            assert!(
                text.contains(&format!("127.0.0.1:{}", server.port())),
                "{text}"
            );
            assert!(!text.contains("hunter2secret"), "{text}");
        });
    }

    #[test]
    fn the_system_roots_do_not_trust_a_private_ca() {
        let Some((server, _)) = server() else {
            return;
        };
        queue_testkit::restart::block_on(async move {
            let Err(err) = RedisQueue::builder("tls").url(server.url()).build().await else {
                panic!("a private CA was trusted by default");
            };
            let text = queue_core::ErrorChain(&err).to_string();
            assert!(text.contains("certificate"), "{text}");
        });
    }

    #[test]
    fn a_ca_for_a_plain_url_or_a_bad_pem_is_a_configuration_error() {
        queue_testkit::restart::block_on(async {
            let ca = TlsCerts::generate().unwrap().ca_pem;
            let plain = open("redis://127.0.0.1:1", &ca).build().await.err();
            assert!(
                matches!(&plain, Some(QueueError::InvalidConfig(m)) if m.contains("rediss://")),
                "{plain:?}"
            );
            let bad = open("rediss://127.0.0.1:1", "not a pem")
                .build()
                .await
                .err();
            assert!(
                matches!(&bad, Some(QueueError::InvalidConfig(m)) if m.contains("tls_ca_pem")),
                "{bad:?}"
            );
        });
    }
}

#[cfg(not(any(feature = "tls-rustls", feature = "tls-native")))]
#[test]
fn a_tls_url_is_refused_without_a_tls_feature() {
    queue_testkit::restart::block_on(async {
        let err = RedisQueue::builder("tls")
            .url("rediss://:hunter2secret@127.0.0.1:1")
            .build()
            .await
            .err();
        let Some(QueueError::InvalidConfig(msg)) = err else {
            panic!("{err:?}");
        };
        assert_eq!(
            msg,
            "rediss:// needs the tls-rustls or tls-native feature of queue-redis"
        );
    });
}
