//! `limit`: set, replace or clear a kind's limit, held by every worker of every process
//! (`Queue::set_limit`); without a kind, list the limits stored.

use std::collections::BTreeMap;
use std::time::Duration;

use queue_core::Limit;
use serde::Serialize;

use super::Ctx;
use crate::cli::after_help;
use crate::error::CliError;
use crate::output::{self, Table};

/// Options of `limit`.
#[derive(clap::Args)]
#[command(after_help = after_help!(
    "  queuectl limit                                  # list the limits\n  \
     queuectl limit resize --concurrency 4\n  \
     queuectl limit email --per-key 1 --rate 100/1m\n  \
     queuectl limit email --clear\n  \
     queuectl limit --json    # {\"limits\":{\"email\":{\"key_concurrency\":1}}}\n\n\
     A limit replaces the kind's whole limit: parts not given are not kept. Per-key parts \
     count jobs by their concurrency key; jobs without one are held by the kind-wide parts \
     only."
))]
pub struct Args {
    /// The kind to limit; without it, the stored limits are listed.
    kind: Option<String>,

    /// At most N jobs of the kind running at once.
    #[arg(long, value_name = "N")]
    concurrency: Option<u32>,

    /// At most N running at once per concurrency key.
    #[arg(long, value_name = "N")]
    per_key: Option<u32>,

    /// At most COUNT starts of the kind per PERIOD (a sliding window), e.g. 100/1m.
    #[arg(long, value_name = "COUNT/PERIOD", value_parser = parse_rate)]
    rate: Option<(u32, Duration)>,

    /// At most COUNT starts per concurrency key per PERIOD, e.g. 5/1s.
    #[arg(long, value_name = "COUNT/PERIOD", value_parser = parse_rate)]
    rate_per_key: Option<(u32, Duration)>,

    /// Remove the kind's limit.
    #[arg(long, conflicts_with_all = ["concurrency", "per_key", "rate", "rate_per_key"])]
    clear: bool,
}

/// Parses `COUNT/PERIOD`, the period as `duration` takes it (`100/1m`, `5/1s`).
fn parse_rate(text: &str) -> Result<(u32, Duration), String> {
    let bad = || format!("expected COUNT/PERIOD such as 100/1m or 5/1s, not {text:?}");
    let (count, period) = text.split_once('/').ok_or_else(bad)?;
    let count = count.trim().parse().map_err(|_| bad())?;
    Ok((count, crate::duration::parse(period)?))
}

impl Args {
    /// The limit the options spell, if any part was given.
    fn limit(&self) -> Limit {
        let mut limit = Limit {
            concurrency: self.concurrency,
            key_concurrency: self.per_key,
            ..Limit::default()
        };
        if let Some((count, period)) = self.rate {
            limit = limit.with_rate(count, period);
        }
        if let Some((count, period)) = self.rate_per_key {
            limit = limit.with_rate_per_key(count, period);
        }
        limit
    }
}

/// One kind's limit after the command, as JSON; `limit` is null once cleared.
#[derive(Serialize)]
struct KindLimit<'a> {
    kind: &'a str,
    limit: Option<&'a Limit>,
}

/// Every stored limit, as JSON.
#[derive(Serialize)]
struct Limits {
    limits: BTreeMap<String, Limit>,
}

/// Sets, clears or lists.
pub async fn run(ctx: &Ctx, args: Args) -> Result<(), CliError> {
    let Some(kind) = args.kind.as_deref() else {
        if args.clear || !args.limit().is_empty() {
            return Err(CliError::usage("name the kind to limit or clear"));
        }
        return list(ctx).await;
    };
    if args.clear {
        ctx.queue
            .clear_limit(kind)
            .await
            .map_err(|e| CliError::from(e).context("limit"))?;
        if ctx.json {
            return output::json(&KindLimit { kind, limit: None });
        }
        return output::line(&format!("{kind}: no limit"));
    }
    let limit = args.limit();
    if limit.is_empty() {
        return Err(CliError::usage(
            "give at least one of --concurrency, --per-key, --rate, --rate-per-key, or --clear",
        ));
    }
    // Refused here as a usage error, before the queue would refuse it.
    limit
        .check()
        .map_err(|e| CliError::usage(queue_core::ErrorChain(&e).to_string()))?;
    ctx.queue
        .set_limit(kind, limit.clone())
        .await
        .map_err(|e| CliError::from(e).context("limit"))?;
    if ctx.json {
        return output::json(&KindLimit {
            kind,
            limit: Some(&limit),
        });
    }
    output::line(&format!(
        "{kind}: {limit}, across every worker of every process"
    ))
}

/// Prints the stored limits: a table, or JSON by kind.
async fn list(ctx: &Ctx) -> Result<(), CliError> {
    let limits = ctx
        .queue
        .limits()
        .await
        .map_err(|e| CliError::from(e).context("limit"))?;
    if ctx.json {
        return output::json(&Limits { limits });
    }
    if limits.is_empty() {
        return output::line("no kind is limited");
    }
    let mut table = Table::new(&["KIND", "LIMIT"]);
    for (kind, limit) in &limits {
        table.row(vec![kind.clone(), limit.to_string()]);
    }
    output::write_out(table.render().as_bytes())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_or_say_what_is_expected() {
        assert_eq!(parse_rate("100/1m"), Ok((100, Duration::from_secs(60))));
        assert_eq!(parse_rate("5/250ms"), Ok((5, Duration::from_millis(250))));
        assert!(parse_rate("100").unwrap_err().contains("COUNT/PERIOD"));
        assert!(parse_rate("x/1s").unwrap_err().contains("COUNT/PERIOD"));
        assert!(parse_rate("5/soon").is_err());
    }
}
