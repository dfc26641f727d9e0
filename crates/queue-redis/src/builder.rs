//! Building a [`RedisQueue`]: where Redis is, and the queue's settings.

use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;
use std::time::Duration;

use fred::prelude::{Client, Config, Pool, Server, ServerConfig};
use queue_core::{
    CancelNotifier, Notifier, QueueError, Result, RetryPolicy, DEFAULT_LEASE_TIMEOUT,
    MAX_OUTPUT_BYTES,
};

use crate::connect::{connect, Connect};
use crate::conns::Conns;
use crate::keys::{validate_name, Keys};
use crate::queue::Inner;
use crate::scripts::Scripts;
use crate::{maintenance, redact, tls, wake, RedisQueue};

/// Completed (and cancelled) jobs kept by default for inspection.
pub const DEFAULT_KEEP_LAST_COMPLETED: u64 = 1_000;
/// Failed jobs kept by default for inspection and replay.
pub const DEFAULT_KEEP_LAST_FAILED: u64 = 10_000;

/// Connect timeout by default.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the connection comes from.
enum Source {
    Url(String),
    Cluster(Vec<String>),
    Client(Client),
    Pool(Pool),
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Url(url) => f.debug_tuple("Url").field(&redact::url(url)).finish(),
            Source::Cluster(nodes) => f.debug_tuple("Cluster").field(nodes).finish(),
            Source::Client(_) => f.write_str("Client"),
            Source::Pool(_) => f.write_str("Pool"),
        }
    }
}

/// Configures and connects a [`RedisQueue`]; start with [`RedisQueue::builder`].
///
/// ```no_run
/// # async fn run() -> queue_core::Result<()> {
/// use std::time::Duration;
/// use queue_redis::RedisQueue;
/// let queue = RedisQueue::builder("emails")
///     .url("redis://127.0.0.1:6379")
///     .lease_timeout(Duration::from_secs(60))
///     .keep_last_completed(100)
///     .build()
///     .await?;
/// # Ok(()) }
/// ```
///
/// Its `Debug` output shows a URL with its password replaced by `***`.
#[must_use]
#[derive(Debug)]
pub struct RedisQueueBuilder {
    name: String,
    source: Option<Source>,
    lease_timeout: Duration,
    retry: RetryPolicy,
    keep_completed: u64,
    keep_failed: u64,
    max_output: usize,
    pool_size: usize,
    command_timeout: Duration,
    connect_timeout: Duration,
    wake_ups: bool,
    tls_ca: Option<CaPem>,
}

/// A CA certificate in PEM; its `Debug` shows only its size.
struct CaPem(Vec<u8>);

impl std::fmt::Debug for CaPem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CaPem({} bytes)", self.0.len())
    }
}

impl RedisQueueBuilder {
    pub(crate) fn new(name: impl Into<String>) -> Self {
        RedisQueueBuilder {
            name: name.into(),
            source: None,
            lease_timeout: DEFAULT_LEASE_TIMEOUT,
            retry: RetryPolicy::default(),
            keep_completed: DEFAULT_KEEP_LAST_COMPLETED,
            keep_failed: DEFAULT_KEEP_LAST_FAILED,
            max_output: MAX_OUTPUT_BYTES,
            pool_size: 4,
            command_timeout: Duration::from_secs(10),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            wake_ups: true,
            tls_ca: None,
        }
    }

    /// Connect to this URL: `redis://host:port/db`, `rediss://…` for TLS (needs the
    /// `tls-rustls` or `tls-native` feature, else [`build`](Self::build) refuses it), or
    /// `redis-cluster://host:port?node=host2:port2` (`rediss-cluster://…`) for Redis
    /// Cluster. TLS verifies the server's certificate against the system's roots, or
    /// against [`tls_ca_pem`](Self::tls_ca_pem).
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.source = Some(Source::Url(url.into()));
        self
    }

    /// Connect to a Redis Cluster through these `host:port` seed nodes.
    pub fn cluster<S: Into<String>>(mut self, nodes: impl IntoIterator<Item = S>) -> Self {
        self.source = Some(Source::Cluster(nodes.into_iter().map(Into::into).collect()));
        self
    }

    /// Use an existing fred client. It must be connected (`init()` called); its own
    /// reconnect policy and timeouts apply.
    pub fn client(mut self, client: Client) -> Self {
        self.source = Some(Source::Client(client));
        self
    }

    /// Use an existing fred pool. It must be connected; its own settings apply.
    pub fn pool(mut self, pool: Pool) -> Self {
        self.source = Some(Source::Pool(pool));
        self
    }

    /// How long a claim holds a job before it may be reclaimed (default 30 s; at least
    /// 10 ms).
    pub fn lease_timeout(mut self, d: Duration) -> Self {
        self.lease_timeout = d;
        self
    }

    /// Backoff between failed attempts (default [`RetryPolicy::default`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// How many completed jobs are kept, newest ones, for inspection (default 1,000; 0
    /// deletes a job as soon as it completes). Cancelled jobs are bounded the same way.
    pub fn keep_last_completed(mut self, n: u64) -> Self {
        self.keep_completed = n;
        self
    }

    /// The longest output `complete_batch` stores with a job, in bytes of JSON (default
    /// [`MAX_OUTPUT_BYTES`], 64 KiB); a longer one is refused with
    /// [`queue_core::QueueError::InvalidJob`] and its job stays running.
    pub fn max_output_bytes(mut self, n: usize) -> Self {
        self.max_output = n;
        self
    }

    /// How many failed jobs are kept, newest ones, for inspection and replay (default
    /// 10,000). Older ones are deleted as new ones fail.
    pub fn keep_last_failed(mut self, n: u64) -> Self {
        self.keep_failed = n;
        self
    }

    /// Connections opened when connecting from a URL or cluster nodes (default 4): claims
    /// use the first, settlements (ack, nack, heartbeat…) the second, everything else
    /// the others in turn (with fewer, they share).
    pub fn pool_size(mut self, n: usize) -> Self {
        self.pool_size = n.max(1);
        self
    }

    /// Longest wait for one command when connecting from a URL or cluster nodes (default
    /// 10 s). While Redis is unreachable, calls fail after at most this long.
    pub fn command_timeout(mut self, d: Duration) -> Self {
        self.command_timeout = d;
        self
    }

    /// Longest wait for a connection when connecting from a URL or cluster nodes (default
    /// 5 s): TCP and TLS, `AUTH` and `SELECT`, and the server's first answer. A server
    /// that refuses the connection or does not answer in time fails
    /// [`build`](Self::build) with an error naming it. Reconnects use it too. Zero means
    /// no limit.
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Trust only this CA (one or more PEM certificates) for a `rediss://` URL, instead
    /// of the system's roots: for a private CA. The server's name is still checked.
    /// [`build`](Self::build) fails with [`QueueError::InvalidConfig`] when the PEM holds
    /// no certificate, when the URL is not a TLS one, or when no TLS feature is on.
    pub fn tls_ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.tls_ca = Some(CaPem(pem.into()));
        self
    }

    /// Subscribe to the queue's wake-up channel so idle workers start at once (default
    /// on). Off, workers poll.
    pub fn wake_ups(mut self, on: bool) -> Self {
        self.wake_ups = on;
        self
    }

    /// Connects, loads the scripts, and starts the queue's reclaim timer and wake-up
    /// listener. Errors never show a password: a URL in them has it replaced by `***`.
    pub async fn build(mut self) -> Result<RedisQueue> {
        validate_name(&self.name)?;
        if self.lease_timeout < Duration::from_millis(10) {
            return Err(QueueError::InvalidConfig(
                "lease timeout must be at least 10 ms".into(),
            ));
        }
        let pool = match self.source.take() {
            None => {
                return Err(QueueError::InvalidConfig(
                    "no Redis given: call url(), cluster(), client() or pool()".into(),
                ))
            }
            Some(Source::Url(url)) => {
                let secrets = queue_core::url_secrets(&url);
                let bad_url = |why: &dyn std::fmt::Display| {
                    QueueError::InvalidConfig(queue_core::scrub_secrets(
                        &format!("bad Redis URL {:?}: {why}", redact::url(&url)),
                        &secrets,
                    ))
                };
                check_scheme(&url).map_err(|why| bad_url(&why))?;
                tls::check_url(&url)?;
                let mut config = Config::from_url(&url).map_err(|e| bad_url(&e))?;
                if let Some(ca) = &self.tls_ca {
                    tls::use_ca(&mut config, &ca.0)?;
                }
                connect(config, &self.connect_with(&secrets)).await?
            }
            Some(Source::Cluster(nodes)) => {
                let hosts = nodes
                    .iter()
                    .map(|n| parse_node(n))
                    .collect::<Result<Vec<_>>>()?;
                if hosts.is_empty() {
                    return Err(QueueError::InvalidConfig("no cluster nodes given".into()));
                }
                let mut config = Config {
                    server: ServerConfig::Clustered {
                        hosts,
                        policy: Default::default(),
                    },
                    ..Config::default()
                };
                if let Some(ca) = &self.tls_ca {
                    tls::use_ca(&mut config, &ca.0)?;
                }
                connect(config, &self.connect_with(&[])).await?
            }
            Some(Source::Client(_) | Source::Pool(_)) if self.tls_ca.is_some() => {
                return Err(QueueError::InvalidConfig(
                    "tls_ca_pem applies to url(): a client or pool brings its own TLS".into(),
                ))
            }
            Some(Source::Client(client)) => {
                Pool::from_clients(vec![client]).map_err(QueueError::backend)?
            }
            Some(Source::Pool(pool)) => pool,
        };
        let keys = Keys::new(&self.name);
        let scripts = Scripts::new();
        scripts.load(&pool).await?;
        let notifier = Notifier::new();
        let cancels = CancelNotifier::new();
        let listener = if self.wake_ups {
            let (channel, told) = (keys.wake().to_string(), cancels.clone());
            Some(wake::listen(pool.next(), channel, notifier.clone(), told).await?)
        } else {
            None
        };
        let inner = Arc::new(Inner {
            name: self.name,
            conns: Conns::new(pool),
            keys,
            scripts,
            lease_ms: AtomicU64::new(duration_ms(self.lease_timeout).max(1)),
            retry: self.retry,
            keep_completed: self.keep_completed,
            keep_failed: self.keep_failed,
            max_output: self.max_output,
            closed: AtomicBool::new(false),
            notifier,
            retimed: Arc::default(),
            cancels,
            _listener: listener,
        });
        maintenance::spawn(Arc::downgrade(&inner), inner.retimed.clone());
        Ok(RedisQueue { inner })
    }
}

impl RedisQueueBuilder {
    /// The connection settings, with the passwords to keep out of errors.
    fn connect_with<'a>(&self, secrets: &'a [String]) -> Connect<'a> {
        Connect {
            size: self.pool_size,
            command_timeout: self.command_timeout,
            connect_timeout: self.connect_timeout,
            secrets,
        }
    }
}

/// A duration in whole milliseconds, saturating.
pub(crate) fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// URL schemes fred understands.
const SCHEMES: [&str; 12] = [
    "redis",
    "rediss",
    "redis-cluster",
    "rediss-cluster",
    "redis-sentinel",
    "rediss-sentinel",
    "redis+unix",
    "valkey",
    "valkeys",
    "valkey-cluster",
    "valkeys-cluster",
    "valkey+unix",
];

/// Checks the scheme; the error says what was expected (and shows no part of the URL).
fn check_scheme(url: &str) -> std::result::Result<(), &'static str> {
    match url.split_once("://") {
        Some((scheme, _)) if SCHEMES.contains(&scheme) => Ok(()),
        _ => Err("expected redis://, rediss:// or redis-cluster://"),
    }
}

fn parse_node(node: &str) -> Result<Server> {
    let bad = || QueueError::InvalidConfig(format!("cluster node {node:?} is not host:port"));
    let (host, port) = node.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    if host.is_empty() {
        return Err(bad());
    }
    Ok(Server::new(host, port))
}
