//! An in-process backend of the queue workspace.
//!
//! [`MemoryQueue`] follows every rule every backend of the workspace follows (priorities,
//! delays, kind filters, leases with automatic reclaim, claim-token fencing, backoff, dead
//! jobs kept and replayable, unique keys, batches, a close that loses nothing) without a
//! database. Jobs live only as long as the queue, so it suits tests, development, and work
//! that may be lost with the process.
//!
//! Claims stay cheap whatever the backlog: per-kind ready sets with an index of their
//! heads, a timer set for delayed jobs and a deadline set for leases, all kept up to date
//! by the calls themselves (no background task). See [`MemoryQueue`] and
//! [`MemoryQueueBuilder`] for the settings: lease timeout, retry policy, an optional
//! capacity with back-pressure, and how many finished jobs are kept.
//!
//! ```
//! use queue_core::{Browsable, Job, JobState, Queue};
//! use queue_memory::MemoryQueue;
//!
//! let runtime = tokio::runtime::Builder::new_current_thread()
//!     .enable_all()
//!     .build()?;
//! runtime.block_on(async {
//!     let queue = MemoryQueue::new();
//!     let id = queue
//!         .enqueue(Job::new("email", serde_json::json!({"to": "a@example.com"})).priority(5))
//!         .await?;
//!
//!     let job = queue.dequeue(&["email"]).await?.expect("the job is due");
//!     assert_eq!((job.id, job.attempts), (id, 1));
//!     queue.ack(&job.lease()?).await?;
//!
//!     assert_eq!(queue.get_job(id).await?.map(|j| j.state), Some(JobState::Completed));
//!     Ok::<_, queue_core::QueueError>(())
//! })?;
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! ```
//!
//! A [`queue_core::Worker`] runs handlers on it like on any other backend:
//! `Worker::new(Arc::new(MemoryQueue::new()))`.
//!
//! For tests of code that enqueues jobs, a queue built on a [`ManualClock`] lets time jump
//! instead of passing (delays, backoff, leases, unique windows), and
//! [`MemoryQueue::assert_enqueued`] and its siblings check what was enqueued.

// docs.rs (`--cfg docsrs`) badges the items behind cargo features.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod builder;
mod clock;
mod id_hash;
mod limiter;
mod manual_clock;
mod queue;
mod ready;
mod retention;
mod sorted;
mod state;
mod testing;
mod timeline;
mod unique;

pub use builder::MemoryQueueBuilder;
pub use manual_clock::ManualClock;
pub use queue::MemoryQueue;
