//! `serve`: the web dashboard and its JSON API (the `queue-admin` crate) over the queue,
//! behind a token or a user and password, with Prometheus gauges of the queue at
//! `/metrics`. Runs until Ctrl-C.

use std::net::SocketAddr;
use std::time::Duration;

use queue_admin::{Admin, Auth, ServeOptions, Server};

use super::Ctx;
use crate::cli::after_help;
use crate::duration;
use crate::error::CliError;

/// Options of `serve`.
#[derive(clap::Args)]
#[command(after_help = after_help!(
    "  queuectl --url sqlite:jobs.db serve --token s3cret    # open http://127.0.0.1:8080/\n  QUEUECTL_TOKEN=s3cret queuectl serve --bind 0.0.0.0:8080\n  queuectl serve --user ops --password s3cret\n  queuectl serve    # no authentication: only on a loopback address\n\nScripts call the JSON API with `Authorization: Bearer TOKEN`; a browser gets a login \
     prompt (any user name, the token as password). Actions from scripts also need the \
     CSRF token: GET api/csrf, then send it as the x-csrf-token header."
))]
pub struct Args {
    /// The address to listen on; port 0 picks a free one. The line
    /// "listening on http://ADDR/" on stdout tells where.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    bind: SocketAddr,
    /// Require this bearer token (browsers: any user name, the token as password).
    #[arg(
        long,
        env = "QUEUECTL_TOKEN",
        hide_env_values = true,
        conflicts_with_all = ["user", "password"]
    )]
    token: Option<String>,
    /// Require HTTP Basic credentials: this user name, with --password.
    #[arg(long, requires = "password")]
    user: Option<String>,
    /// The password for --user.
    #[arg(
        long,
        env = "QUEUECTL_PASSWORD",
        hide_env_values = true,
        requires = "user"
    )]
    password: Option<String>,
    /// How often the gauges at /metrics (jobs per state, the oldest due job's age) are
    /// sampled.
    #[arg(long, default_value = "15s", value_parser = duration::parse, value_name = "DURATION")]
    gauges_every: Duration,
}

/// Serves the dashboard until Ctrl-C, then lets open requests finish.
pub async fn run(ctx: &Ctx, args: Args) -> Result<(), CliError> {
    let auth = match (args.token, args.user, args.password) {
        (Some(token), _, _) => Auth::Bearer(token),
        (None, Some(user), Some(password)) => Auth::Basic { user, password },
        _ => Auth::None,
    };
    let name = ctx.queue.name().to_owned();
    let admin = Admin::new().queue(name.clone(), ctx.queue.clone());
    let server = Server::bind(admin, ServeOptions::new(args.bind, auth))
        .await
        .map_err(|e| CliError::failed(format!("serve: {}", queue_core::ErrorChain(&e))))?;
    // This process runs no worker: the gauges are what it can tell of the queue.
    let gauges = tokio::spawn(queue_core::metrics::sample_gauges(
        name.into(),
        ctx.queue.clone(),
        args.gauges_every,
    ));
    crate::output::write_out(
        format!(
            "listening on http://{}/ for {} (Ctrl-C stops)\n",
            server.local_addr(),
            ctx.location.label()
        )
        .as_bytes(),
    )?;
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let served = server.run_until(stop).await;
    gauges.abort();
    served.map_err(|e| CliError::failed(format!("serve: {}", queue_core::ErrorChain(&e))))
}
