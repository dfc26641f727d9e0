//! Where each job of an enqueue batch ends up: inserted under its own id, or, for a unique
//! key held already (or given twice in the batch), the id of the key's holder.

use std::collections::HashMap;

use queue_core::JobId;

/// What to do for each job of the batch, in order.
pub(crate) enum Slot {
    /// Inserted under this id (unless its unique key turns out to be held).
    Insert(JobId, Option<String>),
    /// Same unique key as an earlier job of this batch: that job's slot.
    SameAs(usize),
}

/// The id of each job of the batch, given who holds each unique key after the insert.
pub(crate) fn resolve(slots: &[Slot], holders: &HashMap<String, JobId>) -> Vec<JobId> {
    let mut ids: Vec<JobId> = Vec::with_capacity(slots.len());
    for slot in slots {
        let id = match slot {
            Slot::Insert(id, Some(key)) => holders.get(key).copied().unwrap_or(*id),
            Slot::Insert(id, None) => *id,
            Slot::SameAs(i) => ids[*i],
        };
        ids.push(id);
    }
    ids
}
