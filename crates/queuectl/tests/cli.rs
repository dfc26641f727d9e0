//! The command line itself, no server needed: help, usage errors and their exit code, and
//! no password in any of it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::{binary, run_command};

const COMMANDS: [&str; 15] = [
    "stats", "list", "get", "replay", "cancel", "run-now", "delete", "enqueue", "pause", "resume",
    "paused", "limit", "purge", "migrate", "watch",
];

#[test]
fn every_command_has_help_with_examples_and_exit_codes() {
    let mut cmd = binary();
    cmd.arg("--help")
        .env("QUEUE_URL", "postgres://u:s3cret-Pw@h/db");
    let top = run_command(cmd, "").ok();
    assert!(!top.stdout.contains("s3cret-Pw"), "{top:#?}");
    for command in COMMANDS {
        assert!(
            top.stdout.contains(&format!("  {command} ")),
            "{command} missing: {top:#?}"
        );
        let mut cmd = binary();
        cmd.args([command, "--help"])
            .env("QUEUE_URL", "postgres://u:s3cret-Pw@h/db");
        let help = run_command(cmd, "").ok().stdout;
        assert!(help.contains("Examples:\n  queuectl"), "{command}: {help}");
        assert!(
            help.contains(&format!("queuectl {command}")) || command == "migrate",
            "{command}: {help}"
        );
        assert!(help.contains("Exit codes: 0 ok, 1"), "{command}: {help}");
        assert!(help.contains("[env: QUEUE_URL]"), "{command}: {help}");
        assert!(!help.contains("s3cret-Pw"), "{command}: {help}");
        if command != "migrate" {
            assert!(help.contains("applies the migrations"), "{command}: {help}");
        }
    }
}

#[test]
fn usage_errors_exit_with_2() {
    let cases: [(&[&str], &str); 10] = [
        (&["stats"], "pass --url URL or set QUEUE_URL"),
        (
            &["--url", "mssql://u:s3cret-Pw@h/db", "stats"],
            "mssql://u:***@h/db",
        ),
        (&["--url", "redis://h", "stats"], "needs --queue NAME"),
        (
            &["--url", "sqlite:x.db?password=s3cret-Pw", "stats"],
            "bad SQLite URL",
        ),
        (
            &["--url", "sqlite:x.db", "--table", "Jobs", "stats"],
            "\"jobs\"",
        ),
        (
            &["--url", "sqlite:x.db", "--table", "order", "stats"],
            "reserved word",
        ),
        (
            &["--url", "sqlite:x.db", "--queue", "q", "stats"],
            "--queue is for Redis",
        ),
        (
            &["--url", "sqlite:x.db", "frobnicate"],
            "unrecognized subcommand",
        ),
        (
            &[
                "--url",
                "sqlite:x.db",
                "purge",
                "--state",
                "running",
                "--older-than",
                "1d",
            ],
            "never purged",
        ),
        (
            &["--url", "sqlite:x.db", "watch", "--interval", "5 minutes"],
            "30s",
        ),
    ];
    for (args, says) in cases {
        let mut cmd = binary();
        cmd.args(args);
        let run = run_command(cmd, "").fails(2, says);
        assert!(!run.stderr.contains("s3cret-Pw"), "{run:#?}");
        assert!(
            !std::path::Path::new("x.db").exists(),
            "a usage error created x.db"
        );
    }
}

#[test]
fn rediss_needs_a_tls_feature() {
    let mut cmd = binary();
    cmd.args([
        "--url",
        "rediss://:s3cret-Pw@127.0.0.1:1",
        "--queue",
        "q",
        "stats",
    ]);
    let run = run_command(cmd, "");
    if cfg!(any(feature = "tls-rustls", feature = "tls-native")) {
        run.fails(1, "127.0.0.1:1");
    } else {
        run.fails(2, "--features tls-rustls");
    }
}

#[test]
fn version_prints() {
    let mut cmd = binary();
    cmd.arg("--version");
    let run = run_command(cmd, "").ok();
    assert_eq!(
        run.stdout,
        format!("queuectl {}\n", env!("CARGO_PKG_VERSION"))
    );
}
