//! Postgres, Redis and MySQL (MariaDB) for the tests and benchmarks (README, "Services
//! for the tests"). Each service is found or started, first that works: its URL variable; a server on the default local port;
//! `docker compose`; throw-away local servers; else an error naming what to install.
//! The URLs go to every child cargo (`cargo::export`).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use queue_servers::{host, MariaDbServer, PostgresServer, RedisServer};

use crate::throwaway::Throwaway;
use crate::{cargo, mysql, postgres};

/// Set to 1 to use throw-away servers even when others are there (to test that path).
const FORCE_VAR: &str = "QUEUE_THROWAWAY_SERVICES";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    Postgres,
    Redis,
    /// MySQL or MariaDB: queue-sql's `mysql` dialect.
    MySql,
}

/// Every service, for commands that run every backend.
pub const ALL: &[Service] = &[Service::Postgres, Service::Redis, Service::MySql];

impl Service {
    fn name(self) -> &'static str {
        match self {
            Service::Postgres => "postgres",
            Service::Redis => "redis",
            Service::MySql => "mysql",
        }
    }

    /// The service's name in docker-compose.yml.
    fn compose_service(self) -> &'static str {
        match self {
            Service::MySql => "mariadb",
            other => other.name(),
        }
    }

    /// The variable the tests read (crates/queue-{sql,redis}/tests/support).
    fn env_var(self) -> &'static str {
        match self {
            Service::Postgres => "DATABASE_URL",
            Service::Redis => "REDIS_URL",
            Service::MySql => "MYSQL_URL",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Service::Postgres => 5432,
            Service::Redis => 6379,
            Service::MySql => 3306,
        }
    }

    /// What the tests use when the variable is unset.
    fn default_url(self) -> String {
        match self {
            Service::Postgres => "postgres://postgres@127.0.0.1:5432/test".into(),
            Service::Redis => "redis://127.0.0.1:6379".into(),
            Service::MySql => "mysql://root@127.0.0.1:3306/test".into(),
        }
    }

    fn binaries(self) -> &'static str {
        match self {
            Service::Postgres => queue_servers::postgres::BINARIES,
            Service::Redis => queue_servers::redis::BINARIES,
            Service::MySql => queue_servers::mariadb::BINARIES,
        }
    }

    fn debian_package(self) -> &'static str {
        match self {
            Service::Postgres => queue_servers::postgres::DEBIAN_PACKAGE,
            Service::Redis => queue_servers::redis::DEBIAN_PACKAGE,
            Service::MySql => queue_servers::mariadb::DEBIAN_PACKAGE,
        }
    }

    fn brew_package(self) -> &'static str {
        match self {
            Service::Postgres => queue_servers::postgres::BREW_PACKAGE,
            Service::Redis => queue_servers::redis::BREW_PACKAGE,
            Service::MySql => queue_servers::mariadb::BREW_PACKAGE,
        }
    }

    fn has_binaries(self) -> bool {
        match self {
            Service::Postgres => PostgresServer::is_available(),
            Service::Redis => RedisServer::is_available(),
            Service::MySql => MariaDbServer::is_available(),
        }
    }
}

/// How a service is had.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    FromEnv,
    Listening,
    Docker,
    Throwaway,
    Missing,
}

/// The first source that applies. The probes are closures so that the slow ones (asking
/// Docker) run only when the earlier ones said no.
pub fn choose(
    forced: bool,
    env_set: bool,
    listening: impl FnOnce() -> bool,
    docker: impl FnOnce() -> bool,
    binaries: impl FnOnce() -> bool,
) -> Source {
    if forced {
        return if binaries() {
            Source::Throwaway
        } else {
            Source::Missing
        };
    }
    if env_set {
        Source::FromEnv
    } else if listening() {
        Source::Listening
    } else if docker() {
        Source::Docker
    } else if binaries() {
        Source::Throwaway
    } else {
        Source::Missing
    }
}

/// The services in use; dropping it stops and removes the throw-away ones.
pub struct Services {
    _throwaway: Option<Throwaway>,
}

/// Finds or starts each of `needed`, printing one line per service on how.
pub fn ensure(needed: &[Service]) -> Result<Services, String> {
    let forced = std::env::var(FORCE_VAR).is_ok_and(|v| v == "1");
    let mut docker: Option<bool> = None;
    let mut docker_failure: Option<String> = None;
    // Declared before the loop's errors can return, so a failure stops what started.
    let mut throwaway: Option<Throwaway> = None;
    let mut missing = Vec::new();
    for &svc in needed {
        let env = std::env::var(svc.env_var()).ok().filter(|v| !v.is_empty());
        let mut source = choose(
            forced,
            env.is_some(),
            || host::listening(svc.default_port()),
            || *docker.get_or_insert_with(docker_answers),
            || svc.has_binaries(),
        );
        let name = svc.name();
        if source == Source::Docker {
            match docker_up(svc) {
                Ok(()) => {}
                Err(e) => {
                    eprintln!("xtask: {name}: {e}; trying a throw-away local server");
                    docker_failure = Some(e);
                    // Not asked again for the next service.
                    docker = Some(false);
                    source = if svc.has_binaries() {
                        Source::Throwaway
                    } else {
                        Source::Missing
                    };
                }
            }
        }
        match source {
            Source::FromEnv => {
                // Passed on as it is, by inheritance.
                let url = redact(&env.unwrap_or_default());
                eprintln!("xtask: {name}: {} is set: {url}", svc.env_var());
            }
            Source::Listening => {
                let url = svc.default_url();
                cargo::export(svc.env_var(), &url);
                let note = match svc {
                    Service::Postgres => format!(" ({})", postgres::check_default(5432)),
                    Service::MySql => format!(" ({})", mysql::check_default(3306)),
                    Service::Redis => String::new(),
                };
                let port = svc.default_port();
                eprintln!("xtask: {name}: found a server on 127.0.0.1:{port}: {url}{note}");
            }
            Source::Docker => {
                let url = svc.default_url();
                cargo::export(svc.env_var(), &url);
                eprintln!(
                    "xtask: {name}: started with docker compose: {url} (left running; \
                     `docker compose down` stops it)"
                );
            }
            Source::Throwaway => {
                let t = match &mut throwaway {
                    Some(t) => t,
                    None => throwaway.insert(Throwaway::new()?),
                };
                let url = match svc {
                    Service::Postgres => t.postgres(),
                    Service::Redis => t.redis(),
                    Service::MySql => t.mysql(),
                }
                .map_err(|e| format!("{name}: cannot start a throw-away server: {e}"))?;
                cargo::export(svc.env_var(), &url);
                eprintln!(
                    "xtask: {name}: started a throw-away server: {url} (stopped and removed \
                     afterwards)"
                );
            }
            Source::Missing => missing.push(svc),
        }
    }
    if !missing.is_empty() {
        return Err(missing_message(&missing, forced, docker_failure.as_deref()));
    }
    Ok(Services {
        _throwaway: throwaway,
    })
}

/// Whether a Docker engine answers and has the compose plugin.
fn docker_answers() -> bool {
    let timeout = Duration::from_secs(20);
    host::succeeds_within(Command::new("docker").arg("info"), timeout)
        && host::succeeds_within(Command::new("docker").args(["compose", "version"]), timeout)
}

/// `docker compose up -d --wait SERVICE` with the repo's docker-compose.yml: only the
/// service needed, so a server already on the other port is not fought over.
fn docker_up(svc: Service) -> Result<(), String> {
    // xtask lives one level below the workspace root, where the compose file is.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("cannot find the workspace root")?;
    let file = root.join("docker-compose.yml");
    let service = svc.compose_service();
    eprintln!("+ docker compose up -d --wait {service}");
    let status = Command::new("docker")
        .arg("compose")
        .arg("-f")
        .arg(&file)
        .args(["up", "-d", "--wait", service])
        .status()
        .map_err(|e| format!("cannot run docker: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`docker compose up` failed ({status})"))
    }
}

/// What to do when a service can be neither found nor started.
fn missing_message(missing: &[Service], forced: bool, docker_failure: Option<&str>) -> String {
    let names: Vec<&str> = missing.iter().map(|s| s.name()).collect();
    let vars: Vec<&str> = missing.iter().map(|s| s.env_var()).collect();
    let bins: Vec<&str> = missing.iter().map(|s| s.binaries()).collect();
    let debian: Vec<&str> = missing.iter().map(|s| s.debian_package()).collect();
    let brew: Vec<&str> = missing.iter().map(|s| s.brew_package()).collect();
    let mut msg = if forced {
        format!(
            "{FORCE_VAR}=1 asks for throw-away {} servers, but there is no {}.\n",
            names.join(" and "),
            bins.join(" nor ")
        )
    } else {
        let ports: Vec<String> = missing
            .iter()
            .map(|s| format!("127.0.0.1:{}", s.default_port()))
            .collect();
        let docker = match docker_failure {
            Some(e) => format!("Docker failed ({e})"),
            None => "no Docker engine answers `docker info`".into(),
        };
        format!(
            "no {} for the tests: {} unset, nothing listens on {}, {docker}, and there is \
             no {}.\n",
            names.join(" nor "),
            vars.join(" / "),
            ports.join(" / "),
            bins.join(" nor ")
        )
    };
    let install = format!(
        "Install them (Debian/Ubuntu: `apt-get install {}`; macOS: `brew install {}`)",
        debian.join(" "),
        brew.join(" ")
    );
    if forced {
        msg.push_str(&format!("{install}, or unset {FORCE_VAR}."));
    } else {
        msg.push_str(&format!(
            "{install}, start Docker, or set {} to running servers.",
            vars.join(" / ")
        ));
    }
    msg.push_str(
        " (`QUEUE_SKIP_SERVERS=1 cargo xtask test` leaves out the tests that need servers.)",
    );
    msg
}

/// A URL with any password replaced, fit to print.
pub fn redact(url: &str) -> String {
    crate::redact::redact_url(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never() -> bool {
        panic!("probed although an earlier source applies")
    }

    #[test]
    fn takes_the_first_source_that_applies() {
        assert_eq!(choose(false, true, never, never, never), Source::FromEnv);
        assert_eq!(
            choose(false, false, || true, never, never),
            Source::Listening
        );
        assert_eq!(
            choose(false, false, || false, || true, never),
            Source::Docker
        );
        assert_eq!(
            choose(false, false, || false, || false, || true),
            Source::Throwaway
        );
        assert_eq!(
            choose(false, false, || false, || false, || false),
            Source::Missing
        );
    }

    #[test]
    fn forcing_skips_everything_but_the_binaries() {
        assert_eq!(choose(true, true, never, never, || true), Source::Throwaway);
        assert_eq!(choose(true, true, never, never, || false), Source::Missing);
    }

    #[test]
    fn missing_message_names_the_packages() {
        let msg = missing_message(ALL, false, None);
        assert!(
            msg.contains("apt-get install postgresql redis-server mariadb-server"),
            "{msg}"
        );
        assert!(
            msg.contains("brew install postgresql redis mariadb"),
            "{msg}"
        );
        assert!(
            msg.contains("DATABASE_URL / REDIS_URL / MYSQL_URL"),
            "{msg}"
        );
        assert!(msg.contains("127.0.0.1:3306"), "{msg}");
        let msg = missing_message(&[Service::MySql], true, None);
        assert!(msg.contains("throw-away mysql servers"), "{msg}");
        assert!(msg.contains("mariadb-install-db"), "{msg}");
        let msg = missing_message(&[Service::Redis], true, None);
        assert!(msg.contains("apt-get install redis-server`"), "{msg}");
        assert!(msg.contains("QUEUE_THROWAWAY_SERVICES"), "{msg}");
    }

    #[test]
    fn mysql_is_the_compose_files_mariadb() {
        assert_eq!(Service::MySql.compose_service(), "mariadb");
        assert_eq!(Service::Postgres.compose_service(), "postgres");
        assert_eq!(Service::Redis.compose_service(), "redis");
        let compose = include_str!("../../docker-compose.yml");
        for svc in ALL {
            let entry = format!("\n  {}:\n", svc.compose_service());
            assert!(
                compose.contains(&entry),
                "no {entry:?} in docker-compose.yml"
            );
        }
    }

    #[test]
    fn each_service_has_its_own_variable_port_and_url() {
        assert_eq!(Service::MySql.env_var(), "MYSQL_URL");
        assert_eq!(Service::MySql.default_port(), 3306);
        assert_eq!(
            Service::MySql.default_url(),
            "mysql://root@127.0.0.1:3306/test"
        );
        for svc in ALL {
            let port = format!(":{}", svc.default_port());
            assert!(svc.default_url().contains(&port), "{svc:?}");
        }
    }

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db?x=1"),
            "postgres://u:***@h:5432/db?x=1"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1:5432/test"),
            "postgres://postgres@127.0.0.1:5432/test"
        );
        assert_eq!(redact("redis://:pw@h:6379"), "redis://:***@h:6379");
        assert_eq!(redact("redis://h:6379/0"), "redis://h:6379/0");
        assert_eq!(
            redact("mysql://root:pw@127.0.0.1:3306/test"),
            "mysql://root:***@127.0.0.1:3306/test"
        );
        assert_eq!(
            redact("postgres://h/db?user=u&password=secret&sslmode=require"),
            "postgres://h/db?user=u&password=***&sslmode=require"
        );
    }
}
