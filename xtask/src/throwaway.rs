//! Throw-away servers (crate queue-servers), stopped and removed when dropped, on Ctrl-C
//! and on SIGTERM / SIGHUP (a CI timeout, a closed terminal).

use std::any::Any;

use queue_servers::{MariaDbServer, PostgresServer, RedisServer};

/// The servers started so far. Dropping it stops them; a signal stops every server the
/// process started, one still starting included.
pub struct Throwaway {
    /// Held only to be dropped.
    servers: Vec<Box<dyn Any>>,
}

impl Throwaway {
    /// Installs the signal handler.
    pub fn new() -> Result<Throwaway, String> {
        ctrlc::set_handler(|| {
            eprintln!("xtask: interrupted: stopping the throw-away servers");
            queue_servers::stop_all();
            std::process::exit(130);
        })
        .map_err(|e| format!("cannot install the Ctrl-C handler: {e}"))?;
        Ok(Throwaway {
            servers: Vec::new(),
        })
    }

    /// Starts a Postgres server; returns its URL.
    pub fn postgres(&mut self) -> Result<String, String> {
        let server = PostgresServer::start()?;
        let url = server.url();
        self.servers.push(Box::new(server));
        Ok(url)
    }

    /// Starts a Redis server that keeps nothing on disk; returns its URL.
    pub fn redis(&mut self) -> Result<String, String> {
        let server = RedisServer::start()?;
        let url = server.url();
        self.servers.push(Box::new(server));
        Ok(url)
    }

    /// Starts a MariaDB server; returns its URL.
    pub fn mysql(&mut self) -> Result<String, String> {
        let server = MariaDbServer::start()?;
        let url = server.url();
        self.servers.push(Box::new(server));
        Ok(url)
    }
}
