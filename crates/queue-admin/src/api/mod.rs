//! The JSON API, under `api/`. Every route takes `?queue=NAME` (the first queue when
//! absent); the crate docs list the routes.

pub(crate) mod actions;
pub(crate) mod jobs;
pub(crate) mod limits;
pub(crate) mod params;
pub(crate) mod stats;

/// The most jobs one list page, one bulk replay or one purge call handles.
pub const MAX_BATCH: usize = 500;
