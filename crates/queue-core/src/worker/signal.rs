//! Waiting for the signal that asks a worker process to stop.

/// Returns once the process gets SIGTERM (on unix) or Ctrl-C (SIGINT).
pub(crate) async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = ctrl_c() => {}
                }
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; waiting for Ctrl-C only")
            }
        }
    }
    ctrl_c().await
}

/// Ctrl-C; if it cannot be listened for, never (the worker then runs until dropped).
async fn ctrl_c() {
    if let Err(e) = tokio::signal::ctrl_c().await {
        tracing::warn!(error = %e, "cannot listen for Ctrl-C");
        std::future::pending::<()>().await
    }
}
