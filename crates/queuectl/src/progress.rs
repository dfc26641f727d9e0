//! Progress of the commands that loop in batches (`replay --all-failed`, `purge`): a bar
//! on stderr when a person watches, nothing in a pipe or with `--json`.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar, or nothing.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar counting toward `total` (a spinner with a count when it is not known), shown
    /// only when stderr is a terminal and the output is not JSON.
    pub fn new(json: bool, total: Option<u64>, message: &'static str) -> Progress {
        let shown = !json && std::io::stderr().is_terminal();
        let bar = match (shown, total) {
            (false, _) => ProgressBar::hidden(),
            (true, Some(total)) => {
                let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
                if let Ok(style) =
                    ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({per_sec})")
                {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar
            }
            (true, None) => {
                let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
                if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {pos}") {
                    bar.set_style(style);
                }
                bar
            }
        };
        bar.set_message(message);
        Progress { bar }
    }

    /// Counts `n` more done. The bar grows its total rather than overflow it (more jobs
    /// may arrive while it runs).
    pub fn advance(&self, n: u64) {
        if let Some(len) = self.bar.length() {
            let pos = self.bar.position() + n;
            if pos > len {
                self.bar.set_length(pos);
            }
        }
        self.bar.inc(n);
    }

    /// Removes the bar, leaving the terminal for the summary line.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
