use queue_core::JobArgs;

#[derive(JobArgs)]
#[job(kind = "bits")]
union Bits {
    int: u32,
    float: f32,
}

fn main() {}
