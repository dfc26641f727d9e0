//! `queue-chaos [--quick] [--only TEXT] [--jobs N] [--keep]`: runs the chaos scenarios on
//! throw-away servers and prints one table; fails unless every scenario passed.
//! Run by `cargo xtask chaos`; `chaos-worker` must sit next to this binary.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use queue_chaos::report;
use queue_chaos::scenario::{self, Servers, Settings};

struct Options {
    quick: bool,
    only: Vec<String>,
    jobs: Option<usize>,
    keep: bool,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        quick: false,
        only: Vec::new(),
        jobs: None,
        keep: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--quick" => o.quick = true,
            "--keep" => o.keep = true,
            "--only" => o.only.push(value()?.to_lowercase()),
            "--jobs" => o.jobs = Some(value()?.parse().map_err(|e| format!("--jobs: {e}"))?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(o)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("queue-chaos: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<bool, String> {
    let opts = parse(args)?;
    let worker_bin = std::env::current_exe()
        .map_err(|e| format!("cannot find this program: {e}"))?
        .with_file_name("chaos-worker");
    if !worker_bin.is_file() {
        return Err(format!(
            "{} is missing: build it with `cargo build -p queue-chaos --bins`",
            worker_bin.display()
        ));
    }
    let scenarios: Vec<_> = scenario::catalogue()
        .into_iter()
        .filter(|s| {
            let name = format!("{} {}", s.backend.name(), s.name).to_lowercase();
            (s.quick || !opts.quick)
                && (opts.only.is_empty() || opts.only.iter().any(|o| name.contains(o)))
        })
        .collect();
    if scenarios.is_empty() {
        return Err("no scenario matches --only".into());
    }
    let dir = std::env::temp_dir().join(format!("queue-chaos-{}", std::process::id()));
    let settings = Settings {
        jobs: opts.jobs.unwrap_or(if opts.quick { 500 } else { 3_000 }),
        deadline: Duration::from_secs(if opts.quick { 45 } else { 120 }),
        lease: Duration::from_secs(1),
        handler_ms: (1, 5),
        long_every: Some(if opts.quick { 100 } else { 50 }),
        long_ms: (1_500, 2_500),
        worker_bin,
        dir: dir.clone(),
        lying_heartbeat: false,
        keep: opts.keep,
    };
    ctrlc::set_handler(|| {
        eprintln!("queue-chaos: interrupted: stopping the throw-away servers");
        queue_servers::stop_all();
        std::process::exit(130);
    })
    .map_err(|e| format!("cannot install the Ctrl-C handler: {e}"))?;

    let began = Instant::now();
    // Started and stopped outside the runtime: they block.
    let servers = Servers::start_for(&scenarios)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot build a tokio runtime: {e}"))?;
    let rows = runtime.block_on(async {
        let mut rows = Vec::new();
        for (i, scn) in scenarios.iter().enumerate() {
            eprintln!("== {} / {} ==", scn.backend.name(), scn.name);
            let row = scenario::run(scn, &settings, &servers, i).await;
            eprintln!(
                "   {} enqueued, {} completed, {} lost, {} overlapping, {:.1}s: {}",
                row.enqueued,
                row.completed,
                row.lost,
                row.overlapping,
                row.secs,
                row.failure.as_deref().unwrap_or("ok")
            );
            rows.push(row);
        }
        rows
    });
    drop(runtime);
    drop(servers);
    if !opts.keep {
        let _ = std::fs::remove_dir(&dir);
    } else {
        eprintln!("queue-chaos: ledgers and logs kept in {}", dir.display());
    }
    print!("{}", report::table(&rows));
    println!(
        "\n{} scenarios, {} jobs each, in {:.1}s",
        rows.len(),
        settings.jobs,
        began.elapsed().as_secs_f64()
    );
    Ok(rows.iter().all(|r| r.failure.is_none()))
}
