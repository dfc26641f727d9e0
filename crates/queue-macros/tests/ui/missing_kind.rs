use queue_core::JobArgs;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobArgs)]
#[job(priority = 1)]
struct NoKind {
    to: String,
}

#[derive(Serialize, Deserialize, JobArgs)]
struct NoAttribute;

fn main() {}
