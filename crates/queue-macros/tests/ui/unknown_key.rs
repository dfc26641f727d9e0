use queue_core::JobArgs;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobArgs)]
#[job(kind = "email", queue = "mail")]
struct Unknown;

#[derive(Serialize, Deserialize, JobArgs)]
#[job(kind = "email", kind = "mail")]
struct Twice;

#[derive(Serialize, Deserialize, JobArgs)]
#[job(kind = "email", priority)]
struct NoValue;

fn main() {}
