//! Running cargo from xtask.

use std::process::{Command, Stdio};
use std::sync::Mutex;

/// Variables every cargo we start gets: the URLs of the services found or started for
/// the tests. Kept here rather than in our own environment, which is shared with threads.
static EXPORTS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

/// Passes `name=value` to every cargo started from now on.
pub fn export(name: &str, value: &str) {
    let mut exports = EXPORTS.lock().unwrap_or_else(|p| p.into_inner());
    exports.retain(|(n, _)| n != name);
    exports.push((name.to_string(), value.to_string()));
}

/// The cargo that runs us, so toolchain overrides carry through.
fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    for (name, value) in EXPORTS.lock().unwrap_or_else(|p| p.into_inner()).iter() {
        cmd.env(name, value);
    }
    cmd
}

/// Runs `cargo <args>` with inherited output; fails on a non-zero exit.
pub fn run(args: &[&str]) -> Result<(), String> {
    eprintln!("+ cargo {}", args.join(" "));
    let status = cargo()
        .args(args)
        .status()
        .map_err(|e| format!("cannot start cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo {} failed ({status})", args.join(" ")))
    }
}

/// Runs `cargo <args>`, echoing and returning stdout; stderr passes through.
/// Returns the output even when the command fails, with its success flag.
pub fn capture(args: &[&str]) -> Result<(bool, String), String> {
    eprintln!("+ cargo {}", args.join(" "));
    let out = cargo()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot start cargo: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    print!("{text}");
    Ok((out.status.success(), text))
}
