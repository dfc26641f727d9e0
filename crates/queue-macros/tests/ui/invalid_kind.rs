use queue_core::JobArgs;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobArgs)]
#[job(kind = "")]
struct Empty;

#[derive(Serialize, Deserialize, JobArgs)]
#[job(kind = " email")]
struct Spaces;

#[derive(Serialize, Deserialize, JobArgs)]
#[job(kind = "e\tmail")]
struct Control;

#[derive(Serialize, Deserialize, JobArgs)]
#[job(kind = "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk")]
struct TooLong;

fn main() {}
