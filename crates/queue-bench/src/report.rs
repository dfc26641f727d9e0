//! The markdown table and the JSON file.

use std::path::Path;

use crate::measure::Row;
use crate::Options;

/// DESIGN.md §6: drain, bulk enqueue, latency p50 / p99 targets per backend.
fn target(backend: &str) -> (&'static str, &'static str, &'static str) {
    match backend {
        "memory" => ("≥ 1,000,000", "≥ 2,000,000", "≤ 0.1 / 1"),
        "sqlite" => ("≥ 30,000", "≥ 200,000", "≤ 2 / 10"),
        "postgres" => ("≥ 35,000", "≥ 150,000", "≤ 2 / 10"),
        "redis" | "redis-cluster" => ("≥ 60,000", "≥ 200,000", "≤ 2 / 10"),
        _ => ("", "", ""),
    }
}

pub fn print(rows: &[Row], o: &Options) {
    println!(
        "\n{} jobs, concurrency {}, latency at {} jobs/s for {:?}\n",
        o.jobs, o.concurrency, o.rate, o.window
    );
    println!("| backend | drain jobs/s (target) | bulk enqueue jobs/s (target) | enqueue→start p50 / p99 ms (target) | idle worker calls/s |");
    println!("|---|---|---|---|---|");
    for r in rows {
        let (td, te, tl) = target(&r.backend);
        println!(
            "| {} | {:.0} ({td}) | {:.0} ({te}) | {:.2} / {:.2} ({tl}) | {:.1} |",
            r.backend,
            r.drain_per_s,
            r.enqueue_per_s,
            r.latency_p50_ms,
            r.latency_p99_ms,
            r.idle_calls_per_s
        );
    }
}

pub fn write_json(rows: &[Row], o: &Options) -> std::io::Result<()> {
    let path = Path::new(&o.json);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let text = serde_json::to_string_pretty(rows).map_err(std::io::Error::other)?;
    std::fs::write(path, text)?;
    eprintln!("figures written to {}", path.display());
    Ok(())
}
