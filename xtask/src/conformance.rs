//! `cargo xtask conformance`: the queue-testkit suite against every backend, as one table.

use std::collections::BTreeMap;

use crate::cargo;

/// A backend: its column name and the cargo test that runs the suite against it.
struct Backend {
    name: &'static str,
    package: &'static str,
    test: &'static str,
    /// More cargo arguments the test needs, such as a feature that is off by default.
    extra: &'static [&'static str],
}

impl Backend {
    /// `cargo test -p PACKAGE --test TEST` and the extra arguments.
    fn cargo_args(&self) -> Vec<&'static str> {
        let mut args = vec!["test", "-p", self.package, "--test", self.test];
        args.extend(self.extra);
        args
    }
}

const BACKENDS: &[Backend] = &[
    Backend {
        name: "memory",
        package: "queue-memory",
        test: "conformance",
        extra: &[],
    },
    Backend {
        name: "sqlite",
        package: "queue-sql",
        test: "sqlite",
        extra: &[],
    },
    Backend {
        name: "postgres",
        package: "queue-sql",
        test: "postgres",
        extra: &[],
    },
    Backend {
        name: "redis",
        package: "queue-redis",
        test: "conformance",
        extra: &[],
    },
    Backend {
        name: "cluster",
        package: "queue-redis",
        test: "cluster",
        extra: &[],
    },
    Backend {
        name: "mysql",
        package: "queue-sql",
        test: "mysql",
        // The dialect is behind a feature that is off by default.
        extra: &["--features", "mysql"],
    },
];

#[derive(Clone, Copy, PartialEq)]
enum Verdict {
    Pass,
    Fail,
}

pub fn run() -> Result<(), String> {
    let mut table: BTreeMap<String, Vec<Option<Verdict>>> = BTreeMap::new();
    let mut all_ok = true;
    for (col, b) in BACKENDS.iter().enumerate() {
        let (ok, out) = cargo::capture(&b.cargo_args())?;
        all_ok &= ok;
        let results = parse(&out);
        if results.is_empty() {
            all_ok = false;
            eprintln!("xtask: no checks ran for {}", b.name);
        }
        for (check, verdict) in results {
            table
                .entry(check)
                .or_insert_with(|| vec![None; BACKENDS.len()])[col] = Some(verdict);
        }
    }
    print_table(&table);
    if all_ok {
        Ok(())
    } else {
        Err("conformance failures (see the table)".into())
    }
}

/// Reads libtest's `test module::check ... ok|FAILED` lines. Suite checks are named
/// `area::check`; a backend's own extra tests sit at the top level and are left out.
fn parse(out: &str) -> Vec<(String, Verdict)> {
    out.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("test ")?;
            let (name, verdict) = rest.rsplit_once(" ... ")?;
            if !name.contains("::") {
                return None;
            }
            let v = match verdict.trim() {
                "ok" => Verdict::Pass,
                "FAILED" => Verdict::Fail,
                _ => return None,
            };
            Some((name.trim().to_string(), v))
        })
        .collect()
}

fn print_table(table: &BTreeMap<String, Vec<Option<Verdict>>>) {
    let width = table.keys().map(String::len).max().unwrap_or(5).max(5);
    print!("\n| {:width$} |", "check");
    for b in BACKENDS {
        print!(" {:^8} |", b.name);
    }
    print!("\n|{}|", "-".repeat(width + 2));
    for _ in BACKENDS {
        print!("{}|", "-".repeat(10));
    }
    println!();
    let mut fails = 0;
    for (check, cols) in table {
        print!("| {check:width$} |");
        for v in cols {
            let cell = match v {
                Some(Verdict::Pass) => "pass",
                Some(Verdict::Fail) => {
                    fails += 1;
                    "FAIL"
                }
                None => "-",
            };
            print!(" {cell:^8} |");
        }
        println!();
    }
    println!(
        "\n{} checks, {} backends, {fails} failures",
        table.len(),
        BACKENDS.len()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_libtest_lines() {
        let out = "running 3 tests\ntest extra_test ... ok\ntest enqueue::defaults ... ok\ntest lease::expiry ... FAILED\ntest result: FAILED.";
        let r = parse(out);
        assert_eq!(r.len(), 2);
        assert!(r[0] == ("enqueue::defaults".to_string(), Verdict::Pass));
        assert!(r[1] == ("lease::expiry".to_string(), Verdict::Fail));
    }

    #[test]
    fn mysql_runs_with_its_feature() {
        let mysql = BACKENDS.iter().find(|b| b.name == "mysql").unwrap();
        assert_eq!(
            mysql.cargo_args(),
            [
                "test",
                "-p",
                "queue-sql",
                "--test",
                "mysql",
                "--features",
                "mysql"
            ]
        );
        let memory = BACKENDS.iter().find(|b| b.name == "memory").unwrap();
        assert_eq!(
            memory.cargo_args(),
            ["test", "-p", "queue-memory", "--test", "conformance"]
        );
    }
}
