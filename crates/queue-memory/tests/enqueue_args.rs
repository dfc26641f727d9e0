//! `EnqueueArgs::enqueue_args` through `Arc<dyn Queue>`: one call, the type's defaults,
//! and nothing stored for a value that does not serialise.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use queue_core::prelude::*;
use queue_memory::MemoryQueue;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobArgs)]
#[job(kind = "email", priority = 3, max_attempts = 7, unique = "email:{to}")]
struct Email {
    to: String,
}

/// JSON maps need string keys, so this never serialises.
#[derive(Serialize, Deserialize, JobArgs)]
#[job(kind = "report")]
struct Unserialisable {
    by_bytes: BTreeMap<Vec<u8>, u32>,
}

#[tokio::test]
async fn enqueues_with_the_type_defaults_through_a_dyn_queue() {
    let memory = Arc::new(MemoryQueue::new());
    let queue: Arc<dyn Queue> = memory.clone();

    let id = queue
        .enqueue_args(Email {
            to: "a@example.com".into(),
        })
        .await
        .unwrap();
    // The unique key is the type's, so a second enqueue returns the first job.
    let again = queue
        .enqueue_args(Email {
            to: "a@example.com".into(),
        })
        .await
        .unwrap();
    assert_eq!(again, id);

    let job = memory.assert_enqueued("email", |job| job.payload["to"] == "a@example.com");
    assert_eq!(job.id, id);
    assert_eq!((job.priority, job.max_attempts), (3, 7));
    assert_eq!(memory.enqueued("email").len(), 1);
}

#[tokio::test]
async fn a_value_that_does_not_serialise_is_a_payload_error_and_stores_nothing() {
    let memory = Arc::new(MemoryQueue::new());
    let queue: Arc<dyn Queue> = memory.clone();
    let value = Unserialisable {
        by_bytes: BTreeMap::from([(vec![1, 2], 3)]),
    };

    let err = queue.enqueue_args(value).await.unwrap_err();
    assert!(
        matches!(err, QueueError::Payload { id: None, .. }),
        "{err:?}"
    );
    assert_eq!(memory.stats().await.unwrap().pending, 0);
}
