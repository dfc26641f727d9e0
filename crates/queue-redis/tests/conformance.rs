//! The whole queue-testkit suite against a local Redis (`REDIS_URL`, else
//! `redis://127.0.0.1:6379`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::RedisFactory;

queue_testkit::conformance!(RedisFactory::default());
