//! `cargo xtask chaos [--quick] [--only TEXT] [--jobs N]`: the chaos harness (crate
//! queue-chaos), which starts throw-away servers of its own, since it stops and restarts
//! them: the shared servers are never touched.

use crate::cargo;

pub fn run(args: &[String]) -> Result<(), String> {
    // Both binaries: the runner finds `chaos-worker` next to itself.
    cargo::run(&["build", "--quiet", "-p", "queue-chaos", "--bins"])?;
    let mut cmd: Vec<&str> = vec![
        "run",
        "--quiet",
        "-p",
        "queue-chaos",
        "--bin",
        "queue-chaos",
        "--",
    ];
    cmd.extend(args.iter().map(String::as_str));
    cargo::run(&cmd)
}
