//! Outputs: `complete_batch` stores what a handler returned with its completed job.

use std::time::Duration;

use queue_core::{Backend, Completion, Job, JobId, JobState, Lease, QueueError, MAX_OUTPUT_BYTES};
use serde_json::{json, Value};

use crate::support::{assert_lease_lost, claim, claim_when_due, enqueue, get, job, lease_of};
use crate::{Factory, Setup};

/// A completion of `lease` with `output`.
fn with(lease: Lease, output: &Value) -> Completion {
    Completion::with_output(lease, output).expect("a JSON value always serialises")
}

/// Completes `done` in one call, which must succeed as a whole.
async fn complete(q: &dyn Backend, done: &[Completion]) -> Vec<queue_core::Result<()>> {
    let results = q
        .complete_batch(done)
        .await
        .expect("complete_batch failed as a whole");
    assert_eq!(results.len(), done.len(), "one result per completion");
    results
}

/// The job as `list_jobs` shows it, in its state and in any state.
async fn listed(q: &dyn Backend, id: JobId, state: JobState) -> (Job, Job) {
    let find = |jobs: Vec<Job>, what: &str| {
        jobs.into_iter()
            .find(|j| j.id == id)
            .unwrap_or_else(|| panic!("list_jobs({what}) misses job {id}"))
    };
    let by_state = q.list_jobs(Some(state), 0).await.expect("list_jobs failed");
    let any = q.list_jobs(None, 0).await.expect("list_jobs failed");
    (find(by_state, state.as_str()), find(any, "any state"))
}

/// Asserts that `id` is completed with `output`, as `get_job` and `list_jobs` read it.
async fn assert_output(q: &dyn Backend, id: JobId, output: Option<Value>) {
    let j = get(q, id).await;
    assert_eq!(j.state, JobState::Completed, "job {id} should be completed");
    assert_eq!(j.output, output, "get_job: output of job {id}");
    let (by_state, any) = listed(q, id, JobState::Completed).await;
    assert_eq!(
        by_state.output, output,
        "list_jobs(completed): output of {id}"
    );
    assert_eq!(any.output, output, "list_jobs(any state): output of {id}");
}

/// A JSON string whose JSON text is exactly `bytes` long (quotes included).
fn string_of_json_len(bytes: usize) -> Value {
    Value::String("x".repeat(bytes - 2))
}

/// An output is stored with the completed job, read back as the same JSON value by
/// `get_job` and `list_jobs`; jobs that are not completed have none.
pub async fn output_is_stored_and_read_back(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let id = enqueue(&*q, job("out")).await;
    let other = enqueue(&*q, job("other")).await;
    let output = json!({
        "text": "héllo \"quoted\" \\ back",
        "list": [1, -2, 3.5, true, null, "🦀"],
        "nested": {"empty": {}, "none": []},
    });
    let lease = lease_of(&claim(&*q, &["out"]).await);
    assert_eq!(
        get(&*q, id).await.output,
        None,
        "a running job has no output"
    );
    let results = complete(&*q, &[with(lease, &output)]).await;
    results
        .into_iter()
        .next()
        .unwrap()
        .expect("completing a held lease with an output failed");
    assert_output(&*q, id, Some(output)).await;
    assert_eq!(get(&*q, other).await.output, None, "a pending job has none");
    let stats = q.stats().await.expect("stats failed");
    assert_eq!((stats.running, stats.completed), (0, 1));

    // Scalars are outputs too.
    for scalar in [json!(0), json!("done"), json!(false)] {
        let id = enqueue(&*q, job("scalar")).await;
        let lease = lease_of(&claim(&*q, &["scalar"]).await);
        let r = complete(&*q, &[with(lease, &scalar)]).await;
        r.into_iter().next().unwrap().expect("completion failed");
        assert_output(&*q, id, Some(scalar)).await;
    }
}

/// A completion without output, or with a JSON `null`, completes the job and stores
/// nothing.
pub async fn completion_without_output_stores_none(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let a = enqueue(&*q, job("a")).await;
    let b = enqueue(&*q, job("b")).await;
    let la = lease_of(&claim(&*q, &["a"]).await);
    let lb = lease_of(&claim(&*q, &["b"]).await);
    let results = complete(&*q, &[Completion::new(la), with(lb, &Value::Null)]).await;
    for r in results {
        r.expect("completion without output failed");
    }
    assert_output(&*q, a, None).await;
    assert_output(&*q, b, None).await;
    let stats = q.stats().await.expect("stats failed");
    assert_eq!((stats.running, stats.completed), (0, 2));
}

/// One batch may mix completions with and without outputs; each job gets its own.
pub async fn mixed_batch_stores_each_output(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let ids: Vec<JobId> = q
        .enqueue_batch((0..4).map(|i| job("mix").priority(-i)).collect())
        .await
        .expect("enqueue_batch failed");
    let jobs = q
        .dequeue_batch(&["mix"], 4)
        .await
        .expect("dequeue_batch failed");
    assert_eq!(jobs.iter().map(|j| j.id).collect::<Vec<_>>(), ids);
    let outputs = [Some(json!({"n": 0})), None, Some(json!([2])), None];
    let done: Vec<Completion> = jobs
        .iter()
        .zip(&outputs)
        .map(|(j, o)| match o {
            Some(o) => with(lease_of(j), o),
            None => Completion::new(lease_of(j)),
        })
        .collect();
    for (i, r) in complete(&*q, &done).await.into_iter().enumerate() {
        r.unwrap_or_else(|e| {
            panic!(
                "completion {i} of the batch failed: {}",
                queue_core::ErrorChain(&e)
            )
        });
    }
    for (id, output) in ids.iter().zip(outputs) {
        assert_output(&*q, *id, output).await;
    }
    let stats = q.stats().await.expect("stats failed");
    assert_eq!((stats.running, stats.completed), (0, 4));
    assert!(complete(&*q, &[]).await.is_empty());
}

/// A stale lease with an output changes nothing and fails with `LeaseLost`, next to a
/// current one that succeeds; completing a completed job again keeps its first output.
pub async fn stale_completion_changes_nothing(f: &dyn Factory) {
    let q = f
        .make(Setup::default().lease(Duration::from_millis(150)))
        .await;
    let id = enqueue(&*q, job("stale")).await;
    let other = enqueue(&*q, job("fresh")).await;
    let stale = lease_of(&claim(&*q, &["stale"]).await);
    q.set_lease_timeout(Duration::from_secs(30));
    let current =
        lease_of(&claim_when_due(&*q, &["stale"], id, "the expired lease to be reclaimed").await);
    let fresh = lease_of(&claim(&*q, &["fresh"]).await);

    let results = complete(
        &*q,
        &[with(stale, &json!("stale")), with(fresh, &json!("fresh"))],
    )
    .await;
    let mut results = results.into_iter();
    assert_lease_lost(results.next().unwrap(), id, "a stale lease with an output");
    results.next().unwrap().expect("the current lease failed");
    let j = get(&*q, id).await;
    assert_eq!(
        j.state,
        JobState::Running,
        "a stale completion moved the job"
    );
    assert_eq!(j.output, None, "a stale completion stored its output");
    assert_eq!(j.lease.map(|l| l.token), Some(current.token));
    assert_output(&*q, other, Some(json!("fresh"))).await;

    let r = complete(&*q, &[with(current, &json!("current"))]).await;
    r.into_iter()
        .next()
        .unwrap()
        .expect("the current lease failed");
    assert_output(&*q, id, Some(json!("current"))).await;
    let again = complete(&*q, &[with(current, &json!("again"))]).await;
    assert_lease_lost(
        again.into_iter().next().unwrap(),
        id,
        "completing a completed job",
    );
    assert_output(&*q, id, Some(json!("current"))).await;
    let stats = q.stats().await.expect("stats failed");
    assert_eq!((stats.running, stats.completed), (0, 2));
}

/// An output of up to `MAX_OUTPUT_BYTES` of JSON is stored; a longer one, or one holding
/// a NUL character, fails its entry with `InvalidJob` and changes nothing: the job stays
/// running under its lease, and the rest of the batch completes.
pub async fn oversized_output_is_refused(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let ids: Vec<JobId> = q
        .enqueue_batch((0..4).map(|i| job("big").priority(-i)).collect())
        .await
        .expect("enqueue_batch failed");
    let jobs = q
        .dequeue_batch(&["big"], 4)
        .await
        .expect("dequeue_batch failed");
    let leases: Vec<Lease> = jobs.iter().map(lease_of).collect();
    let at_limit = string_of_json_len(MAX_OUTPUT_BYTES);
    let over = string_of_json_len(MAX_OUTPUT_BYTES + 1);
    let nul = json!({"text": "a\u{0}b"});
    let results = complete(
        &*q,
        &[
            with(leases[0], &over),
            with(leases[1], &at_limit),
            with(leases[2], &nul),
            Completion::new(leases[3]),
        ],
    )
    .await;
    let mut results = results.into_iter();
    for what in ["an output over the limit", "", "an output holding NUL", ""] {
        let r = results.next().unwrap();
        if what.is_empty() {
            r.expect("a valid completion next to refused ones failed");
        } else {
            assert!(
                matches!(r, Err(QueueError::InvalidJob(_))),
                "{what}: expected InvalidJob, got {r:?}"
            );
        }
    }
    assert_output(&*q, ids[1], Some(at_limit)).await;
    assert_output(&*q, ids[3], None).await;
    for (i, what) in [(0, "over the limit"), (2, "holding NUL")] {
        let j = get(&*q, ids[i]).await;
        assert_eq!(
            j.state,
            JobState::Running,
            "the job whose output was {what}"
        );
        assert_eq!(j.output, None);
    }
    let stats = q.stats().await.expect("stats failed");
    assert_eq!((stats.running, stats.completed), (2, 2));

    // Its lease still holds: the caller completes it without the output.
    let held = q
        .heartbeat(&[leases[0], leases[2]])
        .await
        .expect("heartbeat failed");
    assert_eq!(
        held,
        vec![queue_core::LeaseStatus::Held; 2],
        "a refused completion ended a lease"
    );
    let r = complete(
        &*q,
        &[Completion::new(leases[0]), Completion::new(leases[2])],
    )
    .await;
    for r in r {
        r.expect("completing without the refused output failed");
    }
    assert_output(&*q, ids[0], None).await;
    assert_output(&*q, ids[2], None).await;
}

/// A worker's handlers return outputs: a value is stored with its completed job, `()`
/// stores none, and an output the backend refuses (over its size limit) still completes
/// the job, without the output.
pub async fn handler_outputs_are_stored(f: &dyn Factory) {
    let q = f.make(Setup::default()).await;
    let receipt = enqueue(&*q, job("receipt")).await;
    let plain = enqueue(&*q, job("plain")).await;
    let huge = enqueue(&*q, job("huge")).await;
    let report = queue_core::Worker::new(crate::support::as_queue(&q))
        .handle("receipt", |job: Job| async move {
            Ok(json!({ "id": job.id.to_string(), "sent": 3 }))
        })
        .handle("plain", |_job: Job| async { Ok(()) })
        .handle("huge", |_job: Job| async {
            Ok(string_of_json_len(MAX_OUTPUT_BYTES + 10))
        })
        .run_until_idle()
        .await
        .expect("run_until_idle failed");
    assert_eq!(report.completed, 3, "{report:?}");
    assert_output(
        &*q,
        receipt,
        Some(json!({ "id": receipt.to_string(), "sent": 3 })),
    )
    .await;
    assert_output(&*q, plain, None).await;
    assert_output(&*q, huge, None).await;
}

/// For a queue built with an output limit of 8 bytes (`max_output_bytes(8)`) whose
/// pending jobs `ids` of `kind` are claimed in that order: an output of 8 bytes of JSON
/// is stored; one of 9 is refused with `InvalidJob` naming the limit, and its job stays
/// running with no output.
pub async fn assert_output_limit_of_eight(q: &dyn Backend, kind: &str, ids: [JobId; 2]) {
    let jobs = q.dequeue_batch(&[kind], 2).await.expect("claim failed");
    assert_eq!(
        jobs.iter().map(|j| j.id).collect::<Vec<_>>(),
        ids,
        "claim order"
    );
    let done = [
        Completion::with_output(lease_of(&jobs[0]), "123456").expect("serialises"),
        Completion::with_output(lease_of(&jobs[1]), "1234567").expect("serialises"),
    ];
    let results = complete(q, &done).await;
    assert!(results[0].is_ok(), "{results:?}");
    assert!(
        matches!(&results[1], Err(QueueError::InvalidJob(m)) if m.contains("limit is 8")),
        "{results:?}"
    );
    assert_eq!(get(q, ids[0]).await.output, Some(json!("123456")));
    let second = get(q, ids[1]).await;
    assert_eq!((second.state, second.output), (JobState::Running, None));
}
