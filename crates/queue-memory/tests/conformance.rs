//! The queue-testkit conformance suite against [`MemoryQueue`].

use std::sync::Arc;

use queue_memory::MemoryQueue;
use queue_testkit::{Factory, Setup};

/// A fresh in-process queue per check: nothing is shared, so no namespace is needed.
struct MemoryFactory;

#[async_trait::async_trait]
impl Factory for MemoryFactory {
    async fn make(&self, setup: Setup) -> Arc<dyn queue_core::Backend> {
        Arc::new(
            MemoryQueue::builder()
                .lease_timeout(setup.lease_timeout)
                .retry(setup.retry)
                .build(),
        )
    }
}

queue_testkit::conformance!(MemoryFactory);
