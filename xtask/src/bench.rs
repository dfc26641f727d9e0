//! `cargo xtask bench`: the release-built benchmark binary, with the same arguments.

use crate::cargo;
use crate::services::{self, Service};

pub fn run(args: &[String]) -> Result<(), String> {
    let _services = services::ensure(&needs(args))?;
    let mut cmd: Vec<&str> = vec!["run", "--release", "--quiet", "-p", "queue-bench", "--"];
    cmd.extend(args.iter().map(String::as_str));
    cargo::run(&cmd)
}

/// The services the chosen backends need: all of them when none is named.
fn needs(args: &[String]) -> Vec<Service> {
    let named: Vec<&str> = args
        .windows(2)
        .filter(|w| w[0] == "--backend")
        .map(|w| w[1].as_str())
        .collect();
    let wants = |backends: &[&str]| named.is_empty() || named.iter().any(|n| backends.contains(n));
    let mut out = Vec::new();
    if wants(&["postgres"]) {
        out.push(Service::Postgres);
    }
    if wants(&["redis", "cluster"]) {
        out.push(Service::Redis);
    }
    if wants(&["mysql"]) {
        out.push(Service::MySql);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn needs_follow_the_named_backends() {
        assert_eq!(needs(&args(&["--quick"])), services::ALL);
        assert_eq!(needs(&args(&["--backend", "memory"])), []);
        assert_eq!(
            needs(&args(&["--backend", "sqlite", "--backend", "postgres"])),
            [Service::Postgres]
        );
        assert_eq!(
            needs(&args(&["--backend", "redis", "--jobs", "5"])),
            [Service::Redis]
        );
        assert_eq!(
            needs(&args(&["--backend", "mysql", "--backend", "memory"])),
            [Service::MySql]
        );
    }

    #[test]
    fn backlog_arguments_do_not_change_the_needs() {
        assert_eq!(
            needs(&args(&["--backlog", "10000", "--backlog", "1M"])),
            services::ALL
        );
        assert_eq!(
            needs(&args(&[
                "--sweep",
                "--backend",
                "postgres",
                "--backlog",
                "10k"
            ])),
            [Service::Postgres]
        );
        assert_eq!(
            needs(&args(&["--backend", "sqlite", "--sweep", "--quick"])),
            []
        );
    }
}
