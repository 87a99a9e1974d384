//! A progress bar on stderr: bytes read of the file's size, rows and rows per second.
//! Hidden when stderr is not a terminal, so scripts and logs see only the summary.

use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

const TEMPLATE: &str = "{elapsed_precise} [{wide_bar}] {bytes}/{total_bytes} {msg}";

/// The bar of one import.
pub struct Progress {
    bar: ProgressBar,
    started: Instant,
}

impl Progress {
    /// A bar over `file_size` bytes.
    pub fn new(file_size: u64) -> Self {
        let bar = ProgressBar::with_draw_target(Some(file_size), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(TEMPLATE)
                .expect("the template is valid")
                .progress_chars("=> "),
        );
        Progress {
            bar,
            started: Instant::now(),
        }
    }

    /// Shows `rows` read so far and `bytes` of the file.
    pub fn update(&self, rows: u64, bytes: u64) {
        let seconds = self.started.elapsed().as_secs_f64();
        let rate = if seconds > 0.0 {
            rows as f64 / seconds
        } else {
            0.0
        };
        self.bar.set_position(bytes);
        self.bar
            .set_message(format!("{rows} rows, {rate:.0} rows/s"));
    }

    /// Removes the bar, leaving the terminal to the summary.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
