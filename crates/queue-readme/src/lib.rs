//! The workspace README's Rust blocks as doctests: `cargo test -p queue-readme --doc`
//! compiles every block and runs those that need no server (the others are `no_run`).
//!
//! Nothing here is for use; the crate is not published.

/// The README, included only when rustdoc collects doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct Readme;
