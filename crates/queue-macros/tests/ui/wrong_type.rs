use queue_core::JobArgs;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobArgs)]
#[job(kind = email)]
struct KindNotAString;

#[derive(Serialize, Deserialize, JobArgs)]
#[job(kind = 5)]
struct KindANumber;

#[derive(Serialize, Deserialize, JobArgs)]
#[job(kind = "email", priority = "high")]
struct PriorityAString;

#[derive(Serialize, Deserialize, JobArgs)]
#[job(kind = "email", priority = 3000000000)]
struct PriorityTooBig;

#[derive(Serialize, Deserialize, JobArgs)]
#[job(kind = "email", max_attempts = 0)]
struct NoAttempts;

#[derive(Serialize, Deserialize, JobArgs)]
#[job(kind = "email", max_attempts = -1)]
struct NegativeAttempts;

#[derive(Serialize, Deserialize, JobArgs)]
#[job(kind = "email", delay = true)]
struct DelayABool;

fn main() {}
