//! Values shared by every handler of a worker, one per type.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// A value registered with [`Worker::data`](super::Worker::data), as a handler argument.
///
/// Cloning is cheap (the value is shared, not copied). A handler asking for a `Data<T>`
/// whose `T` was never registered makes [`Worker::start`](super::Worker::start) fail.
///
/// ```
/// # async fn demo(queue: std::sync::Arc<dyn queue_core::Queue>) -> queue_core::Result<()> {
/// use queue_core::{Data, Job, JobError, Worker};
///
/// #[derive(Clone)]
/// struct Mailer { from: String }
///
/// async fn send(job: Job, mailer: Data<Mailer>) -> Result<(), JobError> {
///     println!("{} sends job {}", mailer.from, job.id);
///     Ok(())
/// }
///
/// let worker = Worker::new(queue)
///     .data(Mailer { from: "noreply@example.com".into() })
///     .handle("email", send)
///     .start()?;
/// # Ok(()) }
/// ```
pub struct Data<T>(Arc<T>);

impl<T> Data<T> {
    /// The value itself: moved out when this is the last handle to it, cloned otherwise.
    pub fn into_inner(self) -> T
    where
        T: Clone,
    {
        Arc::try_unwrap(self.0).unwrap_or_else(|shared| (*shared).clone())
    }
}

impl<T> Deref for Data<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> Clone for Data<T> {
    fn clone(&self) -> Self {
        Data(self.0.clone())
    }
}

impl<T: fmt::Debug> fmt::Debug for Data<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Data").field(&self.0).finish()
    }
}

/// A type a handler asks for, named for error messages.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DataKey {
    pub id: TypeId,
    pub name: &'static str,
}

impl DataKey {
    pub fn of<T: 'static>() -> DataKey {
        DataKey {
            id: TypeId::of::<T>(),
            name: std::any::type_name::<T>(),
        }
    }
}

/// The registered values, by type.
#[derive(Default)]
pub(crate) struct DataMap(HashMap<TypeId, Arc<dyn Any + Send + Sync>>);

impl DataMap {
    /// Registers `value`, replacing an earlier value of the same type.
    pub fn insert<T: Send + Sync + 'static>(&mut self, value: T) {
        self.0.insert(TypeId::of::<T>(), Arc::new(value));
    }

    pub fn contains(&self, key: &DataKey) -> bool {
        self.0.contains_key(&key.id)
    }

    pub fn get<T: Send + Sync + 'static>(&self) -> Option<Data<T>> {
        let value = self.0.get(&TypeId::of::<T>())?.clone();
        value.downcast::<T>().ok().map(Data)
    }
}
