//! Handlers as plain functions: the job (or its typed arguments) first, then any of
//! [`JobContext`] and [`Data<T>`], in any order.

use std::any::TypeId;
use std::future::Future;
use std::sync::Arc;

use serde::Serialize;

use super::context::JobContext;
use super::data::{Data, DataKey};
use super::handler::{output_of, HandlerFuture, JobError};
use crate::{Job, JobArgs};

/// A handler argument made from the job's context: [`JobContext`] or [`Data<T>`].
pub trait FromContext: Sized + Send + 'static + sealed::Sealed {
    /// The argument for the job of `ctx`.
    fn from_context(ctx: &JobContext) -> Result<Self, JobError>;

    /// The shared data type this argument needs registered, with its name.
    fn needs() -> Option<(TypeId, &'static str)> {
        None
    }
}

impl sealed::Sealed for JobContext {}

impl FromContext for JobContext {
    fn from_context(ctx: &JobContext) -> Result<Self, JobError> {
        Ok(ctx.clone())
    }
}

impl<T: Send + Sync + 'static> sealed::Sealed for Data<T> {}

impl<T: Send + Sync + 'static> FromContext for Data<T> {
    fn from_context(ctx: &JobContext) -> Result<Self, JobError> {
        // `Worker::start` checked that every type asked for is registered.
        ctx.data.get::<T>().ok_or_else(|| {
            JobError::retry(format!(
                "no shared data of type {}",
                std::any::type_name::<T>()
            ))
        })
    }

    fn needs() -> Option<(TypeId, &'static str)> {
        let key = DataKey::of::<T>();
        Some((key.id, key.name))
    }
}

/// A function or closure the worker can run for a job: `First` (the [`Job`] for
/// [`Worker::handle`](super::Worker::handle), the typed arguments for
/// [`Worker::handle_typed`](super::Worker::handle_typed)) followed by up to three
/// [`FromContext`] arguments, returning a future of `Result<T, JobError>`. A `T` other
/// than `()` is stored with the completed job as its output (JSON, see
/// [`Job::output`](crate::Job::output)). `Args` only tells the implementations apart; it
/// is inferred.
///
/// ```
/// # use queue_core::{Data, Job, JobContext, JobError};
/// async fn a(job: Job) -> Result<(), JobError> { Ok(()) }
/// async fn b(job: Job, ctx: JobContext) -> Result<(), JobError> { Ok(()) }
/// async fn c(job: Job, db: Data<String>, ctx: JobContext) -> Result<(), JobError> { Ok(()) }
/// let d = |job: Job, ctx: JobContext| async move { Ok::<(), JobError>(()) };
/// // An output, stored with the completed job:
/// async fn e(job: Job) -> Result<serde_json::Value, JobError> {
///     Ok(serde_json::json!({"sent": 3}))
/// }
/// ```
pub trait Handler<First, Args>: Send + Sync + 'static + sealed::SealedHandler<First, Args> {
    /// Starts the handler for `first`, taking its other arguments from `ctx`.
    fn call(&self, first: First, ctx: &JobContext) -> HandlerFuture;

    /// The shared data types its arguments need registered.
    fn needs() -> Vec<(TypeId, &'static str)>;
}

macro_rules! handler_impls {
    ($($arg:ident),*) => {
        impl<F, Fut, Out, First, $($arg,)*> sealed::SealedHandler<First, ($($arg,)*)> for F
        where
            F: Fn(First $(, $arg)*) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = Result<Out, JobError>> + Send + 'static,
            Out: Serialize + 'static,
            $($arg: FromContext,)*
        {
        }

        impl<F, Fut, Out, First, $($arg,)*> Handler<First, ($($arg,)*)> for F
        where
            F: Fn(First $(, $arg)*) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = Result<Out, JobError>> + Send + 'static,
            Out: Serialize + 'static,
            $($arg: FromContext,)*
        {
            #[allow(non_snake_case, unused_variables)]
            fn call(&self, first: First, ctx: &JobContext) -> HandlerFuture {
                $(
                    let $arg = match $arg::from_context(ctx) {
                        Ok(v) => v,
                        Err(e) => return Box::pin(std::future::ready(Err(e))),
                    };
                )*
                let run = self(first $(, $arg)*);
                Box::pin(async move { run.await.map(output_of) })
            }

            #[allow(unused_mut)]
            fn needs() -> Vec<(TypeId, &'static str)> {
                let mut needs = Vec::new();
                $(needs.extend($arg::needs());)*
                needs
            }
        }
    };
}

handler_impls!();
handler_impls!(A);
handler_impls!(A, B);
handler_impls!(A, B, C);

mod sealed {
    /// Only this crate's argument types.
    pub trait Sealed {}
    /// Only the implementations for functions and closures.
    pub trait SealedHandler<First, Args> {}
}

/// A handler with its arguments erased: what the worker stores per kind.
pub(crate) type DynHandler = Arc<dyn Fn(Job, &JobContext) -> HandlerFuture + Send + Sync>;

/// A registered handler and the shared data it needs.
pub(crate) struct Registered {
    pub run: DynHandler,
    pub needs: Vec<DataKey>,
}

fn keys(needs: Vec<(TypeId, &'static str)>) -> Vec<DataKey> {
    needs
        .into_iter()
        .map(|(id, name)| DataKey { id, name })
        .collect()
}

pub(crate) fn untyped<F, Args>(f: F) -> Registered
where
    F: Handler<Job, Args>,
{
    Registered {
        needs: keys(F::needs()),
        run: Arc::new(move |job, ctx| f.call(job, ctx)),
    }
}

pub(crate) fn typed<T, F, Args>(f: F) -> Registered
where
    T: JobArgs,
    F: Handler<T, Args>,
{
    Registered {
        needs: keys(F::needs()),
        run: Arc::new(move |job: Job, ctx| match job.args::<T>() {
            Ok(args) => f.call(args, ctx),
            // A payload that does not decode will not decode on retry either.
            Err(e) => Box::pin(std::future::ready(Err(JobError::Discard(
                crate::ErrorChain(&e).to_string(),
            )))),
        }),
    }
}
