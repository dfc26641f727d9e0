//! The conformance suite of the queue workspace: every behavioural rule of a backend and of
//! the worker (the README's "What every backend does" and "The worker") written down once,
//! as a check that any backend can run against itself.
//!
//! A backend crate implements [`Factory`] in one test file and lets [`conformance!`]
//! generate one `#[tokio::test]` per check:
//!
//! ```ignore
//! // crates/queue-foo/tests/conformance.rs
//! use std::sync::Arc;
//! use queue_testkit::{Factory, Setup};
//!
//! struct FooFactory;
//!
//! #[async_trait::async_trait]
//! impl Factory for FooFactory {
//!     async fn make(&self, setup: Setup) -> Arc<dyn queue_core::Backend> {
//!         // A fresh, empty queue in its own namespace (table, key prefix).
//!         Arc::new(FooQueue::builder()
//!             .lease_timeout(setup.lease_timeout)
//!             .retry(setup.retry)
//!             .build())
//!     }
//! }
//!
//! queue_testkit::conformance!(FooFactory);
//! ```
//!
//! and adds `queue-testkit` (plus `async-trait` for the impl) to its `[dev-dependencies]`.
//! `cargo test -p queue-foo --test conformance` then prints one line per check, named
//! `module::check` as listed in [`CHECKS`].
//!
//! Each check is also a plain `pub async fn check(f: &dyn Factory)` in a module named for
//! its area, so a backend can call one by hand while debugging. Checks use short real
//! durations and bounded waits that fail with a message; none asserts how long something
//! took, and none shares state with another, so they run in parallel.
//!
//! [`restart`] is a scenario rather than a check: it needs a server the test may stop
//! and start again, so backends with a server call it from a test of their own.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod factory;
pub mod intercept;
pub mod support;

pub mod admin;
pub mod batch;
pub mod browse;
pub mod cancel;
pub mod cancel_running;
pub mod close;
pub mod concurrency;
pub mod context;
pub mod drain;
pub mod enqueue;
pub mod lease;
pub mod limits;
pub mod model;
pub mod order;
pub mod output;
pub mod pause;
pub mod replay;
pub mod restart;
pub mod retry;
pub mod shutdown;
pub mod unique;
pub mod worker;
pub mod worker_errors;

pub use factory::{Factory, Setup};

/// Re-exports the generated tests need, so a backend crate does not have to name them.
#[doc(hidden)]
pub mod __private {
    pub use tokio;
}

/// The one list of checks, grouped by module. [`CHECKS`] and [`conformance!`] are both
/// generated from it, so they cannot drift apart.
#[doc(hidden)]
#[macro_export]
macro_rules! __with_checks {
    ($mode:ident $args:tt) => {
        $crate::__expand_checks! { $mode $args
            enqueue {
                fills_defaults,
                rejects_invalid_jobs,
                keeps_explicit_id,
            }
            order {
                priority_then_schedule_then_id,
                nothing_eligible_is_none,
                delayed_job_waits_until_due,
                kind_filter_claims_only_listed_kinds,
                kind_filter_picks_best_across_kinds,
                empty_kind_filter_claims_any_kind,
            }
            lease {
                claim_counts_attempt_and_grants_lease,
                fresh_token_per_claim,
                expired_lease_is_reclaimed_automatically,
                expired_lease_without_attempts_fails,
                reclaim_returns_count,
                set_lease_timeout_applies_to_later_claims,
                stale_ack_is_lease_lost,
                stale_settlements_are_lease_lost,
                heartbeat_extends_lease,
            }
            retry {
                nack_reschedules_with_backoff,
                nack_without_attempts_left_fails,
                discard_fails_at_once,
                snooze_keeps_attempts,
                retry_forever_survives_many_attempts,
                far_future_jobs_stay_readable,
            }
            cancel {
                cancel_pending_job,
                cancel_of_running_job_is_requested,
                requested_job_ends_cancelled_when_given_up,
                reclaim_of_requested_job_cancels_it,
            }
            cancel_running {
                worker_hears_request_and_job_ends_cancelled,
                ignoring_handler_is_dropped_after_grace,
                success_after_request_stays_completed,
                request_reaches_worker_on_other_handle,
                waiting_job_is_handed_back_cancelled,
            }
            replay {
                replay_moves_failed_to_pending,
                replay_ignores_unknown_and_not_failed,
                replay_twice_is_noop,
                replay_retakes_free_unique_key,
            }
            browse {
                list_jobs_per_state_newest_first,
                list_jobs_limit,
                stats_counts_every_state,
            }
            admin {
                list_filters_by_state_and_kind,
                list_pages_with_the_cursor,
                run_now_makes_a_delayed_job_due,
                run_now_wakes_idle_worker,
                delete_only_finished_jobs,
                delete_frees_unique_key,
                purge_by_state_and_age,
                oldest_due_is_the_earliest_due_job,
                finished_at_follows_the_final_states,
            }
            unique {
                duplicate_returns_holder,
                unique_key_freed_when_job_ends,
                unique_window_held_then_freed,
            }
            batch {
                enqueue_batch_returns_ids_in_order,
                enqueue_batch_is_all_or_nothing,
                dequeue_batch_respects_max_and_order,
                ack_batch_reports_per_lease,
            }
            output {
                output_is_stored_and_read_back,
                completion_without_output_stores_none,
                mixed_batch_stores_each_output,
                stale_completion_changes_nothing,
                handler_outputs_are_stored,
                oversized_output_is_refused,
            }
            close {
                enqueue_after_close_fails,
                close_keeps_accepted_jobs,
            }
            concurrency {
                concurrent_consumers_get_each_job_once,
            }
            pause {
                paused_kind_is_not_claimed,
                claims_under_pause_keep_order,
                resume_makes_kind_claimable,
                pause_and_resume_are_idempotent,
                pause_validates_kind,
                paused_kinds_are_listed_sorted,
                claimed_job_outlives_pause,
                pause_is_shared_between_handles,
                resume_wakes_idle_worker,
            }
            limits {
                limits_are_stored_listed_and_cleared,
                concurrency_key_round_trips,
                kind_concurrency_holds_across_handles,
                saturated_key_does_not_block_other_keys,
                key_counts_down_one_job_at_a_time,
                rate_limit_holds_over_a_window,
                expired_lease_frees_its_slot,
                limits_hold_under_parallel_claimers,
                worker_keeps_to_the_stored_limit,
            }
            worker {
                runs_every_job,
                claims_only_handled_kinds,
                per_kind_limit,
                pause_and_resume,
                typed_handler_gets_args,
                malformed_payload_fails_typed_job,
                malformed_payload_fails_untyped_job,
                wakes_on_enqueue,
            }
            worker_errors {
                retries_until_success,
                exhausted_retries_dead_letter,
                discard_fails_after_one_attempt,
                snooze_keeps_attempts,
                panic_is_failed_attempt,
                handler_timeout_is_failed_attempt,
            }
            context {
                fields_match_the_job,
                token_fires_on_timeout,
                ok_within_grace_completes,
                token_fires_on_shutdown,
                token_fires_at_once_on_short_shutdown,
                data_reaches_handler,
                token_fires_before_lease_is_lost,
            }
            drain {
                run_until_idle_runs_every_due_job,
            }
            shutdown {
                heartbeat_keeps_long_job,
                shutdown_finishes_short_job,
                shutdown_returns_long_job,
                dropping_worker_returns_running_job,
            }
            model {
                operations_match_reference,
            }
        }
    };
}

/// Turns the list of [`__with_checks!`] into names or tests.
#[doc(hidden)]
#[macro_export]
macro_rules! __expand_checks {
    (names () $($module:ident { $($check:ident),* $(,)? })*) => {
        &[$($(concat!(stringify!($module), "::", stringify!($check)),)*)*]
    };
    (tests ($factory:expr) $($module:ident { $($check:ident),* $(,)? })*) => {
        $(
            /// Conformance checks of this area, generated by `queue_testkit::conformance!`.
            #[allow(missing_docs)]
            mod $module {
                #[allow(unused_imports)]
                use super::*;
                $(
                    #[$crate::__private::tokio::test(
                        flavor = "multi_thread",
                        worker_threads = 2,
                        crate = "::queue_testkit::__private::tokio"
                    )]
                    async fn $check() {
                        let factory = $factory;
                        $crate::$module::$check(&factory).await;
                        // Only reached when the check passed; backends sweep the rest.
                        $crate::Factory::cleanup(&factory).await;
                    }
                )*
            }
        )*
    };
}

/// Generates the whole suite against a backend: one
/// `#[tokio::test(flavor = "multi_thread", worker_threads = 2)]` per check, in a module
/// per area, each calling the check with a reference to `$factory` (an expression whose
/// type implements [`Factory`]). Use it once, at the top level of a test file.
///
/// ```ignore
/// queue_testkit::conformance!(MemoryFactory);
/// ```
#[macro_export]
macro_rules! conformance {
    ($factory:expr) => {
        $crate::__with_checks! { tests ($factory) }
    };
    ($factory:expr,) => {
        $crate::conformance!($factory);
    };
}

/// Every check, as `module::check`: the names `cargo test` prints for the tests that
/// [`conformance!`] generates (used by `cargo xtask conformance` for its table).
pub const CHECKS: &[&str] = __with_checks! { names () };

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    #[test]
    fn check_names_are_unique_and_qualified() {
        let mut seen = HashSet::new();
        for name in crate::CHECKS {
            assert!(seen.insert(name), "{name} is listed twice");
            assert_eq!(name.split("::").count(), 2, "{name} is not module::check");
        }
        assert!(crate::CHECKS.len() >= 50);
    }
}
