//! Filling a store in chunks of [`BATCH`], several in flight.

use std::future::Future;

use tokio::task::JoinSet;

use crate::Error;

/// Jobs or rows per enqueue call or statement, the size of the queue's own bulk chunks.
pub const BATCH: usize = 1_000;

/// Calls `chunk(first, len)` for consecutive chunks covering `0..n`, with up to
/// `in_flight` of them running at once; stops at the first error.
pub async fn in_chunks<F, Fut>(n: usize, in_flight: usize, chunk: F) -> Result<(), Error>
where
    F: Fn(usize, usize) -> Fut,
    Fut: Future<Output = Result<(), Error>> + Send + 'static,
{
    let mut running = JoinSet::new();
    let mut next = 0;
    while next < n || !running.is_empty() {
        while next < n && running.len() < in_flight.max(1) {
            let len = BATCH.min(n - next);
            running.spawn(chunk(next, len));
            next += len;
        }
        if let Some(done) = running.join_next().await {
            done??;
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[tokio::test]
    async fn chunks_cover_the_range_once() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        in_chunks(2_500, 3, move |first, len| {
            let s = s.clone();
            async move {
                s.lock().unwrap().push((first, len));
                Ok(())
            }
        })
        .await
        .unwrap();
        let mut got = seen.lock().unwrap().clone();
        got.sort_unstable();
        assert_eq!(got, [(0, 1_000), (1_000, 1_000), (2_000, 500)]);
    }

    #[tokio::test]
    async fn the_first_error_stops_the_fill() {
        let r = in_chunks(5_000, 1, |first, _| async move {
            if first == 1_000 {
                Err("full".into())
            } else {
                Ok(())
            }
        })
        .await;
        assert_eq!(r.unwrap_err().to_string(), "full");
    }
}
