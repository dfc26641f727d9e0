//! The printed report (a paragraph and markdown tables ready for the README) and the
//! JSON file.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::args::Options;
use crate::machine::Machine;
use crate::measure::{LimitCost, Row, KEYS};

/// The least drain at the largest backlog, as a percentage of the smallest, that counts
/// as flat.
pub const FLAT_TARGET_PCT: f64 = 85.0;

/// The project's targets (README, Performance): drain, bulk enqueue, latency p50 / p99.
fn target(backend: &str) -> (&'static str, &'static str, &'static str) {
    match backend {
        "memory" => ("≥ 1,500,000", "≥ 3,000,000", "≤ 0.05 / 0.5"),
        "sqlite" => ("≥ 60,000", "≥ 400,000", "≤ 1 / 5"),
        "postgres" => ("≥ 50,000", "≥ 250,000", "≤ 2 / 10"),
        "redis" | "redis-cluster" => ("≥ 95,000", "≥ 400,000", "≤ 1 / 5"),
        "mysql" => ("≥ 30,000", "≥ 140,000", "≤ 2 / 10"),
        _ => ("", "", ""),
    }
}

/// The name a backend goes by in the tables.
fn display(backend: &str) -> &str {
    match backend {
        "sqlite" => "SQLite (file, WAL)",
        "postgres" => "Postgres",
        "redis" => "Redis",
        "mysql" => "MySQL",
        other => other,
    }
}

/// A backend's server and its version in the machine paragraph. MariaDB answers the
/// `mysql` backend with versions like `10.11.19-MariaDB-0+deb12u1`.
fn server(backend: &str, version: &str) -> String {
    let name = match backend {
        "postgres" => "PostgreSQL",
        "sqlite" => "SQLite",
        "redis" => "Redis",
        "mysql" => match version.split_once("-MariaDB") {
            Some((short, _)) => return format!("MariaDB {short}"),
            None => "MySQL",
        },
        other => other,
    };
    format!("{name} {version}")
}

/// `1234567.8` as `1,234,568`.
pub fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if x < 0.0 && digits.chars().any(|c| c != '0') {
        out.insert(0, '-');
    }
    out
}

/// A job count as people write it: `10k`, `1M`, or with separators.
pub fn count_label(n: usize) -> String {
    if n >= 1_000_000 && n % 1_000_000 == 0 {
        format!("{}M", n / 1_000_000)
    } else if n >= 1_000 && n % 1_000 == 0 {
        format!("{}k", thousands((n / 1_000) as f64))
    } else {
        thousands(n as f64)
    }
}

/// A percentage cell: `41%`, or a dash when there is nothing to compare with.
fn pct_cell(p: Option<f64>) -> String {
    p.map_or_else(|| "—".to_string(), |p| format!("{p:.0}%"))
}

/// `items` as `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The paragraph before the tables: the machine, the servers and what was measured.
pub fn intro(m: &Machine, o: &Options) -> String {
    let mut s = format!(
        "Measured on {}: {}, {} logical cores, {:.0} GiB RAM, {}",
        m.date, m.cpu, m.cores, m.ram_gib, m.os
    );
    if !m.servers.is_empty() {
        let servers: Vec<String> = m.servers.iter().map(|(b, v)| server(b, v)).collect();
        let _ = write!(s, "; {}", and_list(&servers));
    }
    let drains: Vec<String> = o.drain_sizes().into_iter().map(count_label).collect();
    let _ = write!(
        s,
        ". Bulk enqueue of {} jobs in batches of 1,000; drain of {} queued no-op jobs \
         through a `Worker` at concurrency {}; enqueue→start latency at {} jobs/s for {} s",
        thousands(o.jobs as f64),
        and_list(&drains),
        o.concurrency,
        thousands(f64::from(o.rate)),
        o.window.as_secs_f64(),
    );
    if !o.backlogs.is_empty() {
        let backlogs: Vec<String> = o.backlogs.iter().copied().map(count_label).collect();
        let _ = write!(
            s,
            " beside {} jobs scheduled an hour ahead in the same queue",
            and_list(&backlogs)
        );
    }
    if o.repeat > 1 {
        let _ = write!(
            s,
            "; enqueue and drain figures are the median of {} runs",
            o.repeat
        );
    }
    s.push_str(
        ". \"% of raw\" compares with the same work done by the client directly on the \
         same server: multi-row inserts of 1,000 into a two-column table, and connections \
         deleting the oldest 100 rows per statement (`FOR UPDATE SKIP LOCKED` on Postgres, \
         one writer on SQLite; on MySQL a transaction selecting them `FOR UPDATE SKIP \
         LOCKED`, then deleting them); on Redis a hash per job and a sorted set, filled by \
         pipelines and drained by `ZPOPMIN` then `HGET` + `DEL`.",
    );
    s
}

/// The main table: one row per backend.
pub fn table(rows: &[Row], o: &Options) -> String {
    let sizes = o.drain_sizes();
    let latency_at = o.latency_backlogs();
    let mut s = String::from("| backend | bulk enqueue jobs/s (% of raw) |");
    for n in &sizes {
        let _ = write!(s, " drain jobs/s, {} queued (% of raw) |", count_label(*n));
    }
    let _ = write!(s, " flat ({}) |", flat_label(&sizes));
    for n in &latency_at {
        if *n == 0 {
            s.push_str(" enqueue→start p50 / p99 ms |");
        } else {
            let _ = write!(s, " p50 / p99 ms, {} due later |", count_label(*n));
        }
    }
    s.push_str(" idle calls/s |\n");
    let columns = 4 + sizes.len() + latency_at.len();
    s.push('|');
    s.push_str(&"---|".repeat(columns));
    s.push('\n');
    for r in rows {
        let _ = write!(
            s,
            "| {} | {} ({}) |",
            display(&r.backend),
            thousands(r.enqueue_per_s),
            pct_cell(r.enqueue_pct_of_raw)
        );
        for d in &r.drains {
            let _ = write!(s, " {} ({}) |", thousands(d.per_s), pct_cell(d.pct_of_raw));
        }
        let _ = write!(s, " {} |", pct_cell(r.flat_ratio_pct));
        for l in &r.latencies {
            let _ = write!(s, " {:.2} / {:.2} |", l.p50_ms, l.p99_ms);
        }
        let _ = writeln!(s, " {:.1} |", r.idle_calls_per_s);
    }
    s
}

/// What the flat ratio divides, as a header: `1M / 10k`.
fn flat_label(sizes: &[usize]) -> String {
    match sizes {
        [first, .., last] => format!("{} / {}", count_label(*last), count_label(*first)),
        _ => "largest / smallest backlog".into(),
    }
}

/// The raw baselines' own figures and the targets the queue's are held to.
pub fn raw_table(rows: &[Row], o: &Options) -> String {
    let sizes = o.drain_sizes();
    let mut s = String::from("| backend | server | raw enqueue rows/s |");
    for n in &sizes {
        let _ = write!(s, " raw drain rows/s, {} |", count_label(*n));
    }
    s.push_str(" raw flat | targets: drain / enqueue jobs/s, p50 / p99 ms |\n|");
    s.push_str(&"---|".repeat(5 + sizes.len()));
    s.push('\n');
    for r in rows {
        let (td, te, tl) = target(&r.backend);
        let opt = |v: Option<f64>| v.map_or_else(|| "—".to_string(), thousands);
        let _ = write!(
            s,
            "| {} | {} | {} |",
            display(&r.backend),
            r.server_version.as_deref().unwrap_or("—"),
            opt(r.raw_enqueue_per_s)
        );
        for d in &r.drains {
            let _ = write!(s, " {} |", opt(d.raw_per_s));
        }
        let _ = writeln!(
            s,
            " {} | {td} / {te}, {tl} |",
            pct_cell(r.raw_flat_ratio_pct)
        );
    }
    s
}

/// One line per backend: the drain at each backlog and the flat ratio against its target.
pub fn scaling(rows: &[Row]) -> String {
    let mut s = String::new();
    for r in rows {
        let steps: Vec<String> = r
            .drains
            .iter()
            .map(|d| format!("{} {}", count_label(d.backlog), thousands(d.per_s)))
            .collect();
        let _ = write!(s, "scaling {}: {} jobs/s", r.backend, steps.join(" → "));
        if let Some(f) = r.flat_ratio_pct {
            let verdict = if f >= FLAT_TARGET_PCT {
                "flat"
            } else {
                "NOT flat"
            };
            let _ = write!(
                s,
                "; largest / smallest {f:.0}% ({verdict}, target ≥ {FLAT_TARGET_PCT:.0}%)"
            );
        }
        if let Some(f) = r.raw_flat_ratio_pct {
            let _ = write!(s, "; raw {f:.0}%");
        }
        s.push('\n');
    }
    s
}

/// One line per backend: the drain with the worker's metrics off and on.
pub fn metrics_cost(rows: &[Row], o: &Options) -> String {
    let mut s = String::new();
    for r in rows {
        let m = &r.metrics;
        let _ = writeln!(
            s,
            "metrics {}: drain of {} {} jobs/s off, {} on ({:+.1}% cost, target ≤ 5%)",
            r.backend,
            count_label(o.jobs),
            thousands(m.off_per_s),
            thousands(m.on_per_s),
            m.cost_pct
        );
    }
    s
}

/// The share of the unlimited drain the per-key-limited one must keep.
pub const LIMITED_TARGET_PCT: f64 = 70.0;

/// One line per backend: the drain over many keys limited to one running job each,
/// beside the same drain unlimited.
pub fn limit_cost(rows: &[Row], o: &Options) -> String {
    rows.iter()
        .map(|r| limit_line(&r.backend, &r.limits, o))
        .collect()
}

/// The line of [`limit_cost`] for one backend.
pub fn limit_line(backend: &str, l: &LimitCost, o: &Options) -> String {
    format!(
        "limits {backend}: drain of {} over {} keys, one running per key, {} jobs/s; unlimited {} ({:.0}% of unlimited, target ≥ {LIMITED_TARGET_PCT:.0}%)\n",
        count_label(o.jobs),
        count_label(KEYS),
        thousands(l.limited_per_s),
        thousands(l.unlimited_per_s),
        l.pct_of_unlimited
    )
}

/// The whole printed report.
pub fn render(rows: &[Row], m: &Machine, o: &Options) -> String {
    format!(
        "{}\n\n{}\n{}\n{}\n{}\n{}",
        intro(m, o),
        table(rows, o),
        raw_table(rows, o),
        scaling(rows),
        metrics_cost(rows, o),
        limit_cost(rows, o)
    )
}

/// The JSON file: the machine, the settings and every row.
#[derive(Serialize)]
struct Results<'a> {
    machine: &'a Machine,
    jobs: usize,
    backlogs: &'a [usize],
    repeat: usize,
    concurrency: usize,
    latency_rate: u32,
    window_s: f64,
    flat_target_pct: f64,
    rows: &'a [Row],
}

/// Writes the figures to `o.json`.
pub fn write_json(rows: &[Row], m: &Machine, o: &Options) -> std::io::Result<()> {
    let path = Path::new(&o.json);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let results = Results {
        machine: m,
        jobs: o.jobs,
        backlogs: &o.backlogs,
        repeat: o.repeat,
        concurrency: o.concurrency,
        latency_rate: o.rate,
        window_s: o.window.as_secs_f64(),
        flat_target_pct: FLAT_TARGET_PCT,
        rows,
    };
    let text = serde_json::to_string_pretty(&results).map_err(std::io::Error::other)?;
    std::fs::write(path, text)?;
    eprintln!("figures written to {}", path.display());
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::measure::{Drain, Latency};

    fn row(backend: &str, raw: bool) -> Row {
        let drains = vec![
            Drain {
                backlog: 10_000,
                per_s: 20_000.0,
                raw_per_s: raw.then_some(40_000.0),
                pct_of_raw: raw.then_some(50.0),
            },
            Drain {
                backlog: 1_000_000,
                per_s: 16_000.0,
                raw_per_s: raw.then_some(38_000.0),
                pct_of_raw: raw.then_some(42.1),
            },
        ];
        Row {
            backend: backend.into(),
            server_version: raw.then(|| "15.20".to_string()),
            jobs: 100_000,
            concurrency: 64,
            enqueue_per_s: 79_972.4,
            raw_enqueue_per_s: raw.then_some(159_944.8),
            enqueue_pct_of_raw: raw.then_some(50.0),
            drain_per_s: 20_000.0,
            drains,
            flat_ratio_pct: Some(80.0),
            raw_flat_ratio_pct: raw.then_some(95.0),
            latency_rate: 1_000,
            latency_p50_ms: 3.25,
            latency_p99_ms: 6.1,
            latencies: vec![
                Latency {
                    backlog: 10_000,
                    p50_ms: 3.25,
                    p99_ms: 6.1,
                },
                Latency {
                    backlog: 1_000_000,
                    p50_ms: 3.5,
                    p99_ms: 7.0,
                },
            ],
            idle_calls_per_s: 1.0,
            metrics: crate::measure::MetricsCost {
                off_per_s: 20_000.0,
                on_per_s: 19_600.0,
                cost_pct: 2.0,
            },
            limits: crate::measure::LimitCost {
                unlimited_per_s: 20_000.0,
                limited_per_s: 15_000.0,
                pct_of_unlimited: 75.0,
            },
        }
    }

    fn opts() -> Options {
        crate::args::parse(&["--backlog", "10k", "--backlog", "1M"].map(String::from)).unwrap()
    }

    #[test]
    fn mysql_servers_are_named_by_what_answered() {
        assert_eq!(
            server("mysql", "10.11.19-MariaDB-0+deb12u1"),
            "MariaDB 10.11.19"
        );
        assert_eq!(server("mysql", "8.4.3"), "MySQL 8.4.3");
        assert_eq!(server("postgres", "15.20"), "PostgreSQL 15.20");
        assert_eq!(display("mysql"), "MySQL");
    }

    #[test]
    fn numbers_read_like_the_readme() {
        assert_eq!(thousands(1_234_567.8), "1,234,568");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1_000.0), "1,000");
        assert_eq!(thousands(0.0), "0");
        assert_eq!(count_label(10_000), "10k");
        assert_eq!(count_label(1_000_000), "1M");
        assert_eq!(count_label(2_500_000), "2,500k");
        assert_eq!(count_label(12_345), "12,345");
        assert_eq!(count_label(500), "500");
    }

    #[test]
    fn table_has_a_column_per_backlog_and_percent_of_raw() {
        let t = table(&[row("memory", false), row("postgres", true)], &opts());
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[0],
            "| backend | bulk enqueue jobs/s (% of raw) | drain jobs/s, 10k queued (% of raw) \
             | drain jobs/s, 1M queued (% of raw) | flat (1M / 10k) | p50 / p99 ms, 10k due \
             later | p50 / p99 ms, 1M due later | idle calls/s |"
        );
        assert_eq!(lines[1], "|---|---|---|---|---|---|---|---|");
        assert_eq!(
            lines[2],
            "| memory | 79,972 (—) | 20,000 (—) | 16,000 (—) | 80% | 3.25 / 6.10 | 3.50 / 7.00 | 1.0 |"
        );
        assert_eq!(
            lines[3],
            "| Postgres | 79,972 (50%) | 20,000 (50%) | 16,000 (42%) | 80% | 3.25 / 6.10 | 3.50 / 7.00 | 1.0 |"
        );
        // Every row has as many cells as the header.
        let cells = |l: &str| l.matches('|').count();
        assert!(lines.iter().all(|l| cells(l) == cells(lines[0])));
    }

    #[test]
    fn without_backlogs_the_table_keeps_todays_columns() {
        let o = crate::args::parse(&[]).unwrap();
        let mut r = row("redis", true);
        r.drains.truncate(1);
        r.latencies.truncate(1);
        r.flat_ratio_pct = None;
        let t = table(&[r], &o);
        assert!(t.starts_with(
            "| backend | bulk enqueue jobs/s (% of raw) | drain jobs/s, 100k queued (% of raw) \
             | flat (largest / smallest backlog) | enqueue→start p50 / p99 ms | idle calls/s |"
        ));
        assert!(t.contains("| Redis | 79,972 (50%) | 20,000 (50%) | — | 3.25 / 6.10 | 1.0 |"));
    }

    #[test]
    fn metrics_cost_line() {
        let o = opts();
        assert_eq!(
            metrics_cost(&[row("postgres", true)], &o),
            "metrics postgres: drain of 100k 20,000 jobs/s off, 19,600 on (+2.0% cost, target ≤ 5%)\n"
        );
    }

    #[test]
    fn limit_cost_line() {
        assert_eq!(
            limit_cost(&[row("redis", true)], &opts()),
            "limits redis: drain of 100k over 10k keys, one running per key, 15,000 jobs/s; unlimited 20,000 (75% of unlimited, target ≥ 70%)\n"
        );
    }

    #[test]
    fn raw_table_and_scaling_lines() {
        let rows = [row("memory", false), row("postgres", true)];
        let t = raw_table(&rows, &opts());
        assert!(
            t.contains("| memory | — | — | — | — | — | ≥ 1,500,000 / ≥ 3,000,000, ≤ 0.05 / 0.5 |")
        );
        assert!(t.contains(
            "| Postgres | 15.20 | 159,945 | 40,000 | 38,000 | 95% | ≥ 50,000 / ≥ 250,000, ≤ 2 / 10 |"
        ));
        let s = scaling(&rows);
        assert!(s.contains(
            "scaling postgres: 10k 20,000 → 1M 16,000 jobs/s; largest / smallest 80% \
             (NOT flat, target ≥ 85%); raw 95%"
        ));
    }

    #[test]
    fn intro_names_machine_servers_and_method() {
        let m = Machine {
            date: "2026-11-29".into(),
            cpu: "AMD EPYC 7B13".into(),
            cores: 2,
            ram_gib: 23.4,
            os: "Debian GNU/Linux 12 (bookworm), kernel 6.1.0".into(),
            servers: vec![
                ("sqlite".into(), "3.46.0".into()),
                ("postgres".into(), "15.20".into()),
                ("redis".into(), "7.0.15".into()),
                ("mysql".into(), "10.11.19-MariaDB-0+deb12u1".into()),
            ],
        };
        let s = intro(&m, &opts());
        assert!(s.starts_with(
            "Measured on 2026-11-29: AMD EPYC 7B13, 2 logical cores, 23 GiB RAM, \
             Debian GNU/Linux 12 (bookworm), kernel 6.1.0; SQLite 3.46.0, PostgreSQL 15.20, \
             Redis 7.0.15 and MariaDB 10.11.19. Bulk enqueue of 100,000 jobs"
        ));
        assert!(s.contains("on MySQL a transaction selecting them `FOR UPDATE SKIP LOCKED`"));
        assert!(s.contains("drain of 10k and 1M queued no-op jobs"));
        assert!(s.contains("beside 10k and 1M jobs scheduled an hour ahead in the same queue. "));
        let mut o = opts();
        o.repeat = 3;
        assert!(intro(&m, &o)
            .contains("in the same queue; enqueue and drain figures are the median of 3 runs. "));
    }

    #[test]
    fn json_holds_the_machine_and_new_fields() {
        let m = Machine::default();
        let v = serde_json::to_value(Results {
            machine: &m,
            jobs: 1,
            backlogs: &[10_000],
            repeat: 1,
            concurrency: 64,
            latency_rate: 1_000,
            window_s: 5.0,
            flat_target_pct: FLAT_TARGET_PCT,
            rows: &[row("postgres", true)],
        })
        .unwrap();
        let r = &v["rows"][0];
        assert_eq!(r["enqueue_pct_of_raw"], 50.0);
        assert_eq!(r["drains"][1]["backlog"], 1_000_000);
        assert_eq!(r["flat_ratio_pct"], 80.0);
        assert_eq!(r["latencies"][1]["p99_ms"], 7.0);
        assert!(v["machine"]["cpu"].is_string());
    }
}
