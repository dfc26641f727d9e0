use queue_core::JobArgs;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobArgs)]
#[job(kind = "email", delay = "1 hour")]
struct Words;

#[derive(Serialize, Deserialize, JobArgs)]
#[job(kind = "email", unique = "k", unique_for = "0s")]
struct Zero;

#[derive(Serialize, Deserialize, JobArgs)]
#[job(kind = "email", unique = "k", unique_for = "400000d")]
struct TooLong;

#[derive(Serialize, Deserialize, JobArgs)]
#[job(kind = "email", unique_for = "1h")]
struct WindowWithoutKey;

fn main() {}
