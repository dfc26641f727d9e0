//! `#[derive(JobArgs)]`: a serde type becomes a typed job, with its kind and its defaults
//! (priority, attempts, delay, unique key) written next to it and checked at compile time.
//!
//! Use it through `queue-core`, which re-exports it (cargo feature `derive`, on by
//! default) under the same name as the trait it implements:
//!
//! ```
//! use queue_core::JobArgs;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, JobArgs)]
//! #[job(kind = "email", priority = 1, max_attempts = 5, unique = "email:{to}", unique_for = "1h")]
//! struct SendEmail {
//!     to: String,
//! }
//!
//! let job = SendEmail { to: "a@example.com".into() }.to_job()?;
//! assert_eq!(job.kind, "email");
//! assert_eq!((job.priority, job.max_attempts), (1, 5));
//! let unique = job.unique.expect("a unique key");
//! assert_eq!(unique.key, "email:a@example.com");
//! assert_eq!(unique.window, Some(std::time::Duration::from_secs(3600)));
//! # Ok::<(), queue_core::QueueError>(())
//! ```
//!
//! See [`JobArgs`](derive@JobArgs) for every key.

// docs.rs (`--cfg docsrs`) badges the items behind cargo features.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod attrs;
mod duration;
mod expand;
mod kind;
mod template;

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput};

/// Implements `queue_core::JobArgs` for a struct or enum that also derives `Serialize` and
/// `Deserialize`.
///
/// Keys of `#[job(...)]` (several `#[job]` attributes add up; each key at most once):
///
/// | key | value | effect on `to_job()` |
/// |---|---|---|
/// | `kind` (required) | string: 1 to 255 bytes, no control characters, no surrounding spaces | `JobArgs::KIND` |
/// | `priority` | integer (`i32`, may be negative) | `NewJob::priority` |
/// | `max_attempts` | integer, at least 1 | `NewJob::max_attempts` |
/// | `delay` | duration | `NewJob::delay` |
/// | `unique` | key template, see below | `NewJob::unique`: held until the job ends |
/// | `unique_for` | duration (needs `unique`) | `NewJob::unique_for`: held for this long from enqueue instead |
/// | `crate` | path as a string | where `queue_core` is, when it is renamed (default `::queue_core`) |
///
/// A duration is a string of whole numbers with units `d`, `h`, `m`, `s`, `ms`
/// (`"90s"`, `"1h30m"`, `"500ms"`) or an integer of seconds (`unique_for = 3600`); it
/// must be longer than zero and at most `queue_core::MAX_DELAY`.
///
/// A unique key template is text in which `{field}` (or `{0}` in a tuple struct) is
/// replaced by that field, formatted with `Display`; `{{` and `}}` stand for braces. A
/// template without fields is a fixed key: one such job at a time. Fields are checked at
/// compile time; a field that is not `Display` is reported at the template.
///
/// The values become the job's defaults: `to_job()` applies them through
/// `JobArgs::defaults`, and builder calls on the returned `NewJob` still override them.
///
/// ```
/// use queue_core::JobArgs;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize, JobArgs)]
/// #[job(kind = "report.daily", delay = "10m", unique = "report:{0}")]
/// struct DailyReport(u32);
///
/// let job = DailyReport(7).to_job()?.priority(-1);
/// assert_eq!(job.unique.map(|u| u.key), Some("report:7".to_owned()));
/// assert_eq!(job.priority, -1);
/// # Ok::<(), queue_core::QueueError>(())
/// ```
#[proc_macro_derive(JobArgs, attributes(job))]
pub fn derive_job_args(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
