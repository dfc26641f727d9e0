//! The standalone server: the admin router behind authentication, on its own port.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::{middleware, Router};
use tokio::net::TcpListener;

use crate::auth::{self, Auth};
use crate::Admin;

/// Where and how [`serve`] listens.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// The address to listen on; port 0 picks a free one (see [`Server::local_addr`]).
    pub bind: SocketAddr,
    /// Who may call. [`Auth::None`] is refused unless `bind` is a loopback address.
    pub auth: Auth,
}

impl ServeOptions {
    /// Listen on `bind`, checking callers with `auth`.
    pub fn new(bind: SocketAddr, auth: Auth) -> Self {
        ServeOptions { bind, auth }
    }
}

/// Why the server did not start, or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// No authentication was configured and the address is reachable from other machines.
    #[error(
        "refusing to serve the queue admin without authentication on {0}, which is not a \
         loopback address: give a token (Auth::Bearer) or a user and password (Auth::Basic), \
         or bind to 127.0.0.1"
    )]
    NoAuth(SocketAddr),
    /// A token, user name or password is empty, or a user name holds a `:`.
    #[error("unusable credentials for the queue admin: {0}")]
    BadCredentials(&'static str),
    /// The address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// Serving failed after it started.
    #[error("the queue admin server failed")]
    Io(#[source] std::io::Error),
    /// The Prometheus recorder could not be installed (another recorder is installed).
    #[cfg(feature = "prometheus")]
    #[cfg_attr(docsrs, doc(cfg(feature = "prometheus")))]
    #[error(
        "cannot install the Prometheus recorder: {0}; if the process installs its own, \
         pass its handle with Admin::metrics"
    )]
    Metrics(String),
}

/// A bound admin server, not yet serving: learn its address, then run it.
pub struct Server {
    listener: TcpListener,
    app: Router,
    local_addr: SocketAddr,
    #[cfg(feature = "prometheus")]
    metrics: metrics_exporter_prometheus::PrometheusHandle,
}

impl Server {
    /// Checks `options` and binds the address. With the `prometheus` feature it also
    /// installs the Prometheus recorder, once per process, unless `admin` already has a
    /// handle ([`Admin::metrics`]); `metrics` then serves it.
    pub async fn bind(admin: Admin, options: ServeOptions) -> Result<Server, ServeError> {
        check(&options)?;
        #[cfg(feature = "prometheus")]
        let (admin, metrics) = match admin.metrics_handle() {
            Some(handle) => {
                let handle = handle.clone();
                (admin, handle)
            }
            None => {
                let handle = installed_recorder()?;
                (admin.metrics(handle.clone()), handle)
            }
        };
        let listener =
            TcpListener::bind(options.bind)
                .await
                .map_err(|source| ServeError::Bind {
                    addr: options.bind,
                    source,
                })?;
        let local_addr = listener.local_addr().map_err(ServeError::Io)?;
        let app = admin.router().layer(middleware::from_fn_with_state(
            Arc::new(options.auth),
            auth::require,
        ));
        Ok(Server {
            listener,
            app,
            local_addr,
            #[cfg(feature = "prometheus")]
            metrics,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until the process ends or serving fails.
    pub async fn run(self) -> Result<(), ServeError> {
        self.run_until(std::future::pending()).await
    }

    /// Serves until `shutdown` completes, then lets open requests finish.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        tracing::info!(addr = %self.local_addr, "queue admin listening");
        #[cfg(feature = "prometheus")]
        let _upkeep = Upkeep::start(self.metrics);
        axum::serve(self.listener, self.app)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(ServeError::Io)
    }
}

/// Serves `admin` as configured by `options` until the process ends: [`Server::bind`] then
/// [`Server::run`].
///
/// ```no_run
/// use std::sync::Arc;
/// use queue_admin::{serve, Admin, Auth, ServeOptions};
///
/// # async fn run(queue: Arc<dyn queue_core::Backend>) -> Result<(), queue_admin::ServeError> {
/// let options = ServeOptions::new(
///     "0.0.0.0:8080".parse().unwrap(),
///     Auth::Bearer(std::env::var("ADMIN_TOKEN").unwrap_or_default()),
/// );
/// serve(Admin::new().queue("default", queue), options).await
/// # }
/// ```
pub async fn serve(admin: Admin, options: ServeOptions) -> Result<(), ServeError> {
    Server::bind(admin, options).await?.run().await
}

fn check(options: &ServeOptions) -> Result<(), ServeError> {
    match &options.auth {
        Auth::None if !options.bind.ip().is_loopback() => Err(ServeError::NoAuth(options.bind)),
        Auth::None => Ok(()),
        Auth::Bearer(token) if token.is_empty() => {
            Err(ServeError::BadCredentials("the token is empty"))
        }
        Auth::Bearer(_) => Ok(()),
        Auth::Basic { user, .. } if user.is_empty() => {
            Err(ServeError::BadCredentials("the user name is empty"))
        }
        Auth::Basic { user, .. } if user.contains(':') => Err(ServeError::BadCredentials(
            "the user name holds a ':', which HTTP Basic cannot carry",
        )),
        Auth::Basic { password, .. } if password.is_empty() => {
            Err(ServeError::BadCredentials("the password is empty"))
        }
        Auth::Basic { .. } => Ok(()),
    }
}

/// Histogram buckets for job times, in seconds: from a tenth of a millisecond to five
/// minutes.
#[cfg(feature = "prometheus")]
const JOB_SECONDS: [f64; 14] = [
    0.000_1, 0.000_5, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0, 300.0,
];

/// The recorder this crate installed, installing it on first use: a process has one global
/// recorder, and several servers in it share it.
#[cfg(feature = "prometheus")]
fn installed_recorder() -> Result<metrics_exporter_prometheus::PrometheusHandle, ServeError> {
    use std::sync::Mutex;
    static INSTALLED: Mutex<Option<metrics_exporter_prometheus::PrometheusHandle>> =
        Mutex::new(None);
    let mut installed = INSTALLED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(handle) = installed.as_ref() {
        return Ok(handle.clone());
    }
    use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
    // Buckets rather than the exporter's default summaries for the job-time histograms
    // (`queue_job_duration_seconds`, `queue_job_wait_seconds`): they aggregate across
    // processes, and cost less per sample.
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Prefix("queue_job_".into()), &JOB_SECONDS)
        .and_then(|b| b.install_recorder())
        .map_err(|e| ServeError::Metrics(e.to_string()))?;
    *installed = Some(handle.clone());
    Ok(handle)
}

/// Runs the recorder's upkeep (draining histogram samples) while the server runs, as the
/// exporter's own HTTP listener would.
#[cfg(feature = "prometheus")]
struct Upkeep(tokio::task::JoinHandle<()>);

#[cfg(feature = "prometheus")]
impl Upkeep {
    fn start(handle: metrics_exporter_prometheus::PrometheusHandle) -> Self {
        Upkeep(tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
            loop {
                tick.tick().await;
                handle.run_upkeep();
            }
        }))
    }
}

#[cfg(feature = "prometheus")]
impl Drop for Upkeep {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn error_texts_leave_the_cause_to_the_source() {
        let addr: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let cause = || std::io::Error::other("address in use");
        for e in [
            ServeError::Bind {
                addr,
                source: cause(),
            },
            ServeError::Io(cause()),
        ] {
            let text = e.to_string();
            assert!(!text.contains("address in use"), "{text}");
            assert_eq!(
                queue_core::ErrorChain(&e).to_string(),
                format!("{text}: address in use")
            );
        }
    }

    fn opts(bind: &str, auth: Auth) -> ServeOptions {
        ServeOptions::new(bind.parse().unwrap(), auth)
    }

    #[test]
    fn no_auth_only_on_loopback() {
        assert!(check(&opts("127.0.0.1:0", Auth::None)).is_ok());
        assert!(check(&opts("[::1]:0", Auth::None)).is_ok());
        for bind in ["0.0.0.0:8080", "[::]:8080", "192.0.2.1:80"] {
            let e = check(&opts(bind, Auth::None)).unwrap_err();
            assert!(matches!(e, ServeError::NoAuth(_)), "{e}");
            assert!(e.to_string().contains("loopback"), "{e}");
        }
        assert!(check(&opts("0.0.0.0:8080", Auth::Bearer("t".into()))).is_ok());
    }

    #[test]
    fn credentials_must_be_usable() {
        let basic = |user: &str, password: &str| Auth::Basic {
            user: user.into(),
            password: password.into(),
        };
        for auth in [
            Auth::Bearer(String::new()),
            basic("", "pw"),
            basic("a:b", "pw"),
            basic("ops", ""),
        ] {
            let e = check(&opts("0.0.0.0:1", auth)).unwrap_err();
            assert!(matches!(e, ServeError::BadCredentials(_)), "{e}");
        }
        assert!(check(&opts("0.0.0.0:1", basic("ops", "pw"))).is_ok());
    }
}
