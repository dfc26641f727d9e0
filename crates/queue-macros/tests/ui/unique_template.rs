use queue_core::JobArgs;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JobArgs)]
#[job(kind = "email", unique = "email:{too}")]
struct UnknownField {
    to: String,
    subject: String,
}

#[derive(Serialize, Deserialize, JobArgs)]
#[job(kind = "report", unique = "report:{1}")]
struct UnknownIndex(u32);

#[derive(Serialize, Deserialize, JobArgs)]
#[job(kind = "email", unique = "email:{to")]
struct Unclosed {
    to: String,
}

#[derive(Serialize, Deserialize, JobArgs)]
#[job(kind = "email", unique = "")]
struct EmptyKey;

#[derive(Serialize, Deserialize, JobArgs)]
#[job(kind = "refresh", unique = "refresh:{key}")]
enum EnumField {
    One { key: String },
}

#[derive(Serialize, Deserialize)]
struct Address {
    host: String,
}

#[derive(Serialize, Deserialize, JobArgs)]
#[job(kind = "email", unique = "email:{to}")]
struct NotDisplay {
    to: Address,
}

fn main() {}
