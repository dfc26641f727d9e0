//! The machine and servers the figures were measured on, for the report's first paragraph.

use serde::Serialize;

/// Where the benchmark ran.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Machine {
    /// The day of the run, `YYYY-MM-DD` (UTC).
    pub date: String,
    /// The CPU's model name.
    pub cpu: String,
    /// Logical CPUs.
    pub cores: usize,
    /// Total memory, GiB.
    pub ram_gib: f64,
    /// The distribution's name and the kernel release.
    pub os: String,
    /// `(backend, server version)` of each durable backend measured.
    pub servers: Vec<(String, String)>,
}

impl Machine {
    /// This machine, read from `/proc` and `/etc/os-release`; unknown parts stay empty.
    pub fn here() -> Machine {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        let (cpu, cores) = cpu(&read("/proc/cpuinfo"));
        let os = os(
            &read("/etc/os-release"),
            read("/proc/sys/kernel/osrelease").trim(),
        );
        let date = time::OffsetDateTime::now_utc().date();
        Machine {
            date: format!(
                "{:04}-{:02}-{:02}",
                date.year(),
                u8::from(date.month()),
                date.day()
            ),
            cpu,
            cores,
            ram_gib: ram_gib(&read("/proc/meminfo")),
            os,
            servers: Vec::new(),
        }
    }
}

/// The first model name and the number of processors in `/proc/cpuinfo`.
pub fn cpu(cpuinfo: &str) -> (String, usize) {
    let field = |l: &str, name: &str| {
        l.split_once(':')
            .filter(|(k, _)| k.trim() == name)
            .map(|(_, v)| v.trim().to_string())
    };
    let model = cpuinfo
        .lines()
        .find_map(|l| field(l, "model name"))
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = cpuinfo
        .lines()
        .filter(|l| field(l, "processor").is_some())
        .count();
    let cores = if cores == 0 {
        std::thread::available_parallelism().map_or(0, usize::from)
    } else {
        cores
    };
    (model, cores)
}

/// `MemTotal` of `/proc/meminfo`, in GiB.
pub fn ram_gib(meminfo: &str) -> f64 {
    meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kib| kib / (1024.0 * 1024.0))
}

/// `PRETTY_NAME` of `/etc/os-release` and the kernel release.
pub fn os(os_release: &str, kernel: &str) -> String {
    let name = os_release
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim().trim_matches('"').to_string())
        .unwrap_or_else(|| std::env::consts::OS.to_string());
    if kernel.is_empty() {
        name
    } else {
        format!("{name}, kernel {kernel}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_model_and_count() {
        let info = "processor\t: 0\nmodel name\t: AMD EPYC 7B13\nflags\t\t: fpu\n\n\
                    processor\t: 1\nmodel name\t: AMD EPYC 7B13\n";
        assert_eq!(cpu(info), ("AMD EPYC 7B13".to_string(), 2));
    }

    #[test]
    fn ram_in_gib() {
        let info = "MemTotal:       24576000 kB\nMemFree:         1000 kB\n";
        assert!((ram_gib(info) - 23.4375).abs() < 1e-9);
        assert_eq!(ram_gib(""), 0.0);
    }

    #[test]
    fn os_name_and_kernel() {
        let rel = "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n";
        assert_eq!(
            os(rel, "6.1.0-18-amd64"),
            "Debian GNU/Linux 12 (bookworm), kernel 6.1.0-18-amd64"
        );
        assert_eq!(os(rel, ""), "Debian GNU/Linux 12 (bookworm)");
    }
}
