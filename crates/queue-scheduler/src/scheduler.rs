//! The scheduler: its queues, clock and registered schedules, inspection, and start/stop.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use queue_core::Queue;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use crate::builder::ScheduleBuilder;
use crate::clock::{Clock, SystemClock};
use crate::schedule::{Cadence, Definition, ScheduleId};
use crate::{runner, ScheduleError};

/// Runs recurring jobs: interval and cron schedules that enqueue a job per tick.
///
/// Cheap to clone; clones share the schedules, so one clone can register while another
/// runs. Each schedule targets **one** queue: the first by default, another with
/// [`ScheduleBuilder::on_queue`]. (The Go original enqueued every tick onto every queue
/// with unrelated ids; a job meant for several queues is several schedules.)
#[derive(Clone)]
pub struct Scheduler {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) queues: Vec<Arc<dyn Queue>>,
    pub(crate) clock: Arc<dyn Clock>,
    state: Mutex<BTreeMap<ScheduleId, Entry>>,
    /// Poked when the schedules change, so the run loop recomputes its sleep.
    pub(crate) wake: Notify,
    running: AtomicBool,
}

/// A registered schedule and its progress.
struct Entry {
    def: Arc<Definition>,
    next_run: Option<DateTime<Utc>>,
    last_enqueued: Option<DateTime<Utc>>,
    pending: usize,
}

/// What [`Scheduler::schedules`] reports about one schedule.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ScheduleInfo {
    /// Its id.
    pub id: ScheduleId,
    /// The kind of job it enqueues.
    pub kind: String,
    /// When it fires.
    pub cadence: Cadence,
    /// Index of the queue it enqueues onto.
    pub queue: usize,
    /// The next tick not yet fired. `None` only if no further tick can be computed
    /// (logged as an error when it happens).
    pub next_run: Option<DateTime<Utc>>,
    /// The newest tick whose job was accepted by the queue (by this scheduler; a replica
    /// that enqueued it first counts too, since the queue answers with that job's id).
    pub last_enqueued: Option<DateTime<Utc>>,
    /// Ticks fired but not yet accepted by the queue (being enqueued or retried).
    pub pending: usize,
}

/// A fire of one schedule: the ticks to enqueue now, oldest first.
pub(crate) struct Fire {
    pub(crate) def: Arc<Definition>,
    pub(crate) ticks: Vec<DateTime<Utc>>,
    /// Retry enqueue failures until this instant (the schedule's next tick).
    pub(crate) deadline: DateTime<Utc>,
}

/// How long failed enqueues are retried when a schedule has no further tick.
const DEADLINE_WITHOUT_NEXT_TICK: Duration = Duration::from_secs(60);

impl Scheduler {
    /// A scheduler over `queues`, using the system clock. Schedules go to the first queue
    /// unless they pick another with [`ScheduleBuilder::on_queue`].
    pub fn new(queues: Vec<Arc<dyn Queue>>) -> Self {
        Self::with_clock(queues, SystemClock)
    }

    /// A scheduler over a single queue.
    pub fn for_queue(queue: Arc<dyn Queue>) -> Self {
        Self::new(vec![queue])
    }

    /// A scheduler that reads and waits on `clock` (a [`crate::ManualClock`] in tests).
    pub fn with_clock(queues: Vec<Arc<dyn Queue>>, clock: impl Clock) -> Self {
        Scheduler {
            inner: Arc::new(Inner {
                queues,
                clock: Arc::new(clock),
                state: Mutex::new(BTreeMap::new()),
                wake: Notify::new(),
                running: AtomicBool::new(false),
            }),
        }
    }

    /// Starts an interval schedule: a job every `interval`, on a grid aligned to the Unix
    /// epoch (see [`Cadence::Every`]); the first tick is the first grid point after
    /// registration.
    pub fn every(&self, interval: Duration) -> ScheduleBuilder {
        ScheduleBuilder::new(self.clone(), crate::builder::CadenceInput::Every(interval))
    }

    /// Starts a cron schedule: `min hour day month weekday`, optionally with a leading
    /// seconds field, or `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`,
    /// `@midnight`, `@hourly`. Evaluated in UTC unless
    /// [`ScheduleBuilder::time_zone`] says otherwise; see the crate docs for the
    /// daylight-saving rules.
    pub fn cron(&self, spec: impl Into<String>) -> ScheduleBuilder {
        ScheduleBuilder::new(
            self.clone(),
            crate::builder::CadenceInput::Cron(spec.into()),
        )
    }

    /// Every registered schedule, ordered by id.
    pub fn schedules(&self) -> Vec<ScheduleInfo> {
        self.inner
            .lock()
            .values()
            .map(|e| ScheduleInfo {
                id: e.def.id.clone(),
                kind: e.def.kind.clone(),
                cadence: e.def.cadence.clone(),
                queue: e.def.queue,
                next_run: e.next_run,
                last_enqueued: e.last_enqueued,
                pending: e.pending,
            })
            .collect()
    }

    /// One schedule, by id.
    pub fn schedule(&self, id: &ScheduleId) -> Option<ScheduleInfo> {
        self.schedules().into_iter().find(|s| &s.id == id)
    }

    /// Removes a schedule; it fires no more ticks (a tick already being enqueued
    /// finishes). Returns whether it existed.
    pub fn remove(&self, id: &ScheduleId) -> bool {
        let removed = self.inner.lock().remove(id).is_some();
        if removed {
            self.inner.wake.notify_one();
        }
        removed
    }

    /// Whether the run loop is running.
    pub fn is_running(&self) -> bool {
        self.inner.running.load(Ordering::SeqCst)
    }

    /// Starts the run loop on the current Tokio runtime.
    ///
    /// Schedules registered before `start` count their ticks from their registration:
    /// ticks that passed before the start are missed ticks, collapsed into one run (or
    /// caught up, per [`ScheduleBuilder::catch_up`]).
    pub fn start(&self) -> Result<SchedulerHandle, ScheduleError> {
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| ScheduleError::NoRuntime)?;
        if self
            .inner
            .running
            .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return Err(ScheduleError::AlreadyRunning);
        }
        let (stop_tx, stop_rx) = watch::channel(false);
        let inner = self.inner.clone();
        let task = runtime.spawn(async move {
            runner::run(inner.clone(), stop_rx).await;
            inner.running.store(false, Ordering::SeqCst);
        });
        Ok(SchedulerHandle {
            stop: stop_tx,
            task: Some(task),
        })
    }
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("queues", &self.inner.queues.len())
            .field("schedules", &self.inner.lock().len())
            .field("running", &self.is_running())
            .finish()
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<ScheduleId, Entry>> {
        // Nothing panics while holding the lock; if something ever did, the map is
        // still consistent (each update is a single assignment), so keep going.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a schedule whose first tick is `next_run`.
    pub(crate) fn insert(
        &self,
        def: Definition,
        next_run: DateTime<Utc>,
    ) -> Result<ScheduleId, ScheduleError> {
        let id = def.id.clone();
        {
            let mut state = self.lock();
            if state.contains_key(&id) {
                return Err(ScheduleError::DuplicateId(id));
            }
            state.insert(
                id.clone(),
                Entry {
                    def: Arc::new(def),
                    next_run: Some(next_run),
                    last_enqueued: None,
                    pending: 0,
                },
            );
        }
        self.wake.notify_one();
        Ok(id)
    }

    /// Takes every schedule due at `now`: advances its `next_run` past `now` and returns
    /// the ticks to enqueue, plus the earliest `next_run` left (when to wake next).
    ///
    /// Only arithmetic happens under the lock; the enqueues run outside it.
    pub(crate) fn take_due(&self, now: DateTime<Utc>) -> (Vec<Fire>, Option<DateTime<Utc>>) {
        let mut fires = Vec::new();
        let mut wake_at: Option<DateTime<Utc>> = None;
        let mut state = self.lock();
        for entry in state.values_mut() {
            if let Some(first) = entry.next_run.filter(|t| *t <= now) {
                let def = &entry.def;
                let ticks = def.timing.due_ticks(first, now, def.keep);
                let next = def.timing.next_after(now);
                if next.is_none() {
                    tracing::error!(schedule = %def.id, "scheduler: no further tick can be computed; the schedule stops firing");
                }
                let deadline = next.unwrap_or_else(|| {
                    chrono::Duration::from_std(DEADLINE_WITHOUT_NEXT_TICK)
                        .ok()
                        .and_then(|d| now.checked_add_signed(d))
                        .unwrap_or(now)
                });
                entry.next_run = next;
                entry.pending += ticks.len();
                if !ticks.is_empty() {
                    fires.push(Fire {
                        def: def.clone(),
                        ticks,
                        deadline,
                    });
                }
            }
            if let Some(t) = entry.next_run {
                wake_at = Some(wake_at.map_or(t, |w| w.min(t)));
            }
        }
        (fires, wake_at)
    }

    /// Records the outcome of one tick of a fire.
    pub(crate) fn settle_tick(&self, def: &Arc<Definition>, tick: DateTime<Utc>, enqueued: bool) {
        let mut state = self.lock();
        // The schedule may have been removed, or replaced under the same id, meanwhile.
        if let Some(entry) = state.get_mut(&def.id).filter(|e| Arc::ptr_eq(&e.def, def)) {
            entry.pending = entry.pending.saturating_sub(1);
            if enqueued && entry.last_enqueued.is_none_or(|t| t < tick) {
                entry.last_enqueued = Some(tick);
            }
        }
    }
}

/// Controls a started [`Scheduler`].
///
/// Dropping it stops the run loop too, without waiting; [`SchedulerHandle::stop`] also
/// waits for the ticks being enqueued.
#[derive(Debug)]
pub struct SchedulerHandle {
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl SchedulerHandle {
    /// Stops the run loop and waits until it has ended. Ticks already fired make their
    /// current enqueue attempt; their backoff retries are cut short and any tick left
    /// unenqueued is logged as an error.
    pub async fn stop(mut self) {
        self.stop.send_replace(true);
        if let Some(task) = self.task.take() {
            if let Err(e) = task.await {
                tracing::error!(error = %e, "scheduler: run loop ended abnormally");
            }
        }
    }

    /// Whether the run loop has ended.
    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_none_or(|t| t.is_finished())
    }
}

impl Drop for SchedulerHandle {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}
