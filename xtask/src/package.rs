//! `cargo package` of every published crate, without uploading anything.

use crate::cargo;

/// Workspace members with `publish = false`: `cargo package --workspace` would package
/// them too and fail on their path-only dependencies.
const UNPUBLISHED: &[&str] = &[
    "queue-bench",
    "queue-chaos",
    "queue-readme",
    "queue-servers",
    "queue-testkit",
    "xtask",
];

/// Packages the published crates as `cargo publish` would and builds each from its
/// tarball. Cargo resolves their dependencies on one another from the tarballs made in
/// the same run, so none needs to be on crates.io first. `--allow-dirty` lets it run on
/// a working tree with uncommitted changes.
pub fn check() -> Result<(), String> {
    let mut args = vec!["package", "--workspace", "--allow-dirty"];
    for name in UNPUBLISHED {
        args.extend(["--exclude", name]);
    }
    cargo::run(&args)
}
