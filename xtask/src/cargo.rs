//! Running cargo from xtask.

use std::process::{Command, Stdio};

/// The cargo that runs us, so toolchain overrides carry through.
fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
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
