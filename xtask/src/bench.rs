//! `cargo xtask bench`: the release-built benchmark binary, with the same arguments.

use crate::cargo;

pub fn run(args: &[String]) -> Result<(), String> {
    let mut cmd: Vec<&str> = vec!["run", "--release", "--quiet", "-p", "queue-bench", "--"];
    cmd.extend(args.iter().map(String::as_str));
    cargo::run(&cmd)
}
