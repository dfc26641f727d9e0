//! LISTEN for the queues' channels and wake their idle workers.
//!
//! Each pool gets one listener task with its own connection, outside the pool: a LISTEN
//! connection is held for good, and one per queue would leave nothing for enqueues and
//! claims on a small pool. Every queue built on that pool subscribes its channel to the
//! same task. The task reconnects on its own and, after a reconnect, wakes every queue
//! once, since notifications sent meanwhile were lost.
//!
//! A notification with an empty payload means "jobs may be ready"; one with the payload
//! `cancel <id>` (see notify_cancel.sql) is a cancel request for a running job.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, PoisonError, Weak};
use std::time::Duration;

use queue_core::{CancelNotifier, JobId, Notifier, QueueError, Result};
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

use super::connect::target;
use super::row::db_err;

/// The pause before the task tries again after its connection failed.
const RETRY_PAUSE: Duration = Duration::from_secs(1);

/// Live hubs by pool. The key is the address of the pool's connect options, which the
/// hub keeps alive, so it cannot be reused while the hub lives.
static HUBS: LazyLock<Mutex<HashMap<usize, Weak<Hub>>>> = LazyLock::new(Default::default);

/// Who to tell per channel, shared by the hub's handles and its task.
type Routes = Arc<Mutex<HashMap<String, Vec<(u64, Route)>>>>;

/// Where a queue hears its channel's notifications.
#[derive(Clone)]
pub(crate) struct Route {
    /// Woken when jobs may be ready.
    pub wake: Notifier,
    /// Told of cancel requests.
    pub cancels: CancelNotifier,
}

/// The payload prefix of a cancel request; the job id follows.
const CANCEL_PREFIX: &str = "cancel ";

/// One listener task and what it routes.
struct Hub {
    commands: mpsc::UnboundedSender<Command>,
    routes: Routes,
    next_id: AtomicU64,
    /// Keeps the key of [`HUBS`] unique while the hub lives.
    _options: Arc<PgConnectOptions>,
}

enum Command {
    Listen(String, oneshot::Sender<Result<()>>),
    Unlisten(String),
}

/// A queue's subscription; dropping it stops the wake-ups (and the task, with the last).
pub(crate) struct Listening {
    hub: Arc<Hub>,
    channel: String,
    id: u64,
}

impl Drop for Listening {
    fn drop(&mut self) {
        let mut routes = self
            .hub
            .routes
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(list) = routes.get_mut(&self.channel) {
            list.retain(|(id, _)| *id != self.id);
            if list.is_empty() {
                routes.remove(&self.channel);
            }
        }
        drop(routes);
        // A closed task needs no UNLISTEN.
        let _ = self
            .hub
            .commands
            .send(Command::Unlisten(self.channel.clone()));
    }
}

/// Routes every NOTIFY of `channel` to `route`. Returns once the LISTEN is in place, so
/// no insert after it is missed.
pub(crate) async fn subscribe(
    pool: &PgPool,
    channel: &str,
    route: Route,
    connect_timeout: Duration,
) -> Result<Listening> {
    // A hub whose task ended with its runtime is replaced, once.
    for _ in 0..2 {
        let hub = hub_for(pool, connect_timeout);
        let id = hub.next_id.fetch_add(1, Ordering::Relaxed);
        hub.routes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(channel.to_owned())
            .or_default()
            .push((id, route.clone()));
        // From here on, dropping the handle undoes the route (and the LISTEN).
        let listening = Listening {
            hub,
            channel: channel.to_owned(),
            id,
        };
        let (reply, answer) = oneshot::channel();
        if listening
            .hub
            .commands
            .send(Command::Listen(channel.to_owned(), reply))
            .is_err()
        {
            continue;
        }
        match answer.await {
            Ok(Ok(())) => return Ok(listening),
            Ok(Err(e)) => return Err(e),
            Err(_) => continue,
        }
    }
    Err(QueueError::backend(std::io::Error::other(
        "the LISTEN task stopped while subscribing",
    )))
}

/// The live hub of `pool`, or a new one with its task.
fn hub_for(pool: &PgPool, connect_timeout: Duration) -> Arc<Hub> {
    let options = pool.connect_options();
    let key = Arc::as_ptr(&options) as usize;
    let mut hubs = HUBS.lock().unwrap_or_else(PoisonError::into_inner);
    hubs.retain(|_, hub| hub.strong_count() > 0);
    if let Some(hub) = hubs.get(&key).and_then(Weak::upgrade) {
        if !hub.commands.is_closed() {
            return hub;
        }
    }
    let (commands, rx) = mpsc::unbounded_channel();
    let routes = Routes::default();
    // One connection, kept for good, and re-opened by PgListener when it drops.
    let listener_pool = PgPoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .max_lifetime(None)
        .idle_timeout(None)
        .acquire_timeout(connect_timeout)
        .connect_lazy_with((*options).clone());
    tokio::spawn(run(listener_pool, target(&options), rx, routes.clone()));
    let hub = Arc::new(Hub {
        commands,
        routes,
        next_id: AtomicU64::new(0),
        _options: options,
    });
    hubs.insert(key, Arc::downgrade(&hub));
    hub
}

/// The listener task: LISTENs and UNLISTENs as queues come and go, and routes each
/// notification to the queues of its channel. Ends when the last queue is gone.
async fn run(
    pool: PgPool,
    server: String,
    mut commands: mpsc::UnboundedReceiver<Command>,
    routes: Routes,
) {
    // Opened by the first LISTEN; from then on PgListener reconnects on its own.
    let mut listener: Option<PgListener> = None;
    let mut listens: HashMap<String, usize> = HashMap::new();
    loop {
        tokio::select! {
            command = commands.recv() => match command {
                None => break,
                Some(Command::Listen(channel, reply)) => {
                    let count = listens.get(&channel).copied().unwrap_or(0);
                    let result = if count == 0 {
                        listen(&pool, &mut listener, &channel).await
                    } else {
                        Ok(())
                    };
                    if result.is_ok() {
                        listens.insert(channel, count + 1);
                    }
                    let _ = reply.send(result);
                }
                Some(Command::Unlisten(channel)) => {
                    let Some(count) = listens.get_mut(&channel) else { continue };
                    *count -= 1;
                    if *count > 0 {
                        continue;
                    }
                    listens.remove(&channel);
                    if let Some(l) = listener.as_mut() {
                        if let Err(e) = l.unlisten(&channel).await {
                            tracing::debug!(server, channel, error = %e, "UNLISTEN failed");
                        }
                    }
                }
            },
            received = next(&mut listener) => match received {
                Ok(Some(n)) => match n.payload().strip_prefix(CANCEL_PREFIX) {
                    Some(id) => cancel(&routes, n.channel(), id),
                    None => wake(&routes, Some(n.channel())),
                },
                Ok(None) => {
                    // Reconnected (and re-subscribed): what was sent meanwhile is lost.
                    tracing::warn!(server, "LISTEN connection lost; reconnected");
                    wake(&routes, None);
                }
                Err(e) => {
                    tracing::warn!(server, error = %queue_core::ErrorChain(&e), "LISTEN connection lost; reconnecting");
                    tokio::time::sleep(RETRY_PAUSE).await;
                    wake(&routes, None);
                }
            },
        }
    }
    // The listener holds the pool's one connection, and `close` waits for every
    // connection to come back: drop it first, or the task (and its connection) would
    // wait for ever.
    drop(listener);
    pool.close().await;
}

/// LISTENs on `channel`, opening the listener first if needed.
async fn listen(pool: &PgPool, listener: &mut Option<PgListener>, channel: &str) -> Result<()> {
    let l = match listener {
        Some(l) => l,
        None => listener.insert(PgListener::connect_with(pool).await.map_err(db_err)?),
    };
    l.listen(channel).await.map_err(db_err)
}

/// The next notification, `None` after a reconnect; never ready before the first LISTEN.
async fn next(
    listener: &mut Option<PgListener>,
) -> std::result::Result<Option<sqlx::postgres::PgNotification>, sqlx::Error> {
    match listener {
        Some(l) => l.try_recv().await,
        None => std::future::pending().await,
    }
}

/// Wakes the queues of `channel`, or of every channel.
fn wake(routes: &Routes, channel: Option<&str>) {
    let routes = routes.lock().unwrap_or_else(PoisonError::into_inner);
    let lists: Vec<&Vec<(u64, Route)>> = match channel {
        Some(c) => routes.get(c).into_iter().collect(),
        None => routes.values().collect(),
    };
    for (_, route) in lists.into_iter().flatten() {
        route.wake.notify();
    }
}

/// Tells the queues of `channel` of a cancel request for job `id`.
fn cancel(routes: &Routes, channel: &str, id: &str) {
    let Ok(id) = id.parse::<JobId>() else {
        tracing::debug!(
            channel,
            payload = id,
            "ignoring a malformed cancel notification"
        );
        return;
    };
    let routes = routes.lock().unwrap_or_else(PoisonError::into_inner);
    for (_, route) in routes.get(channel).into_iter().flatten() {
        route.cancels.notify(id);
    }
}
