//! A progress line on stderr while a statement runs: objects to read and read,
//! bytes, events and the rate, drawn by indicatif from the counters tables
//! keep in the shared [`Report`]. By default (`--progress auto`) it appears
//! only when stderr is a terminal and the statement has run for half a
//! second, and is cleared before the result prints, so piped output and short
//! queries get nothing extra.
//!
//! Of trailsql it imports `read`.

use std::io::IsTerminal;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::read::Report;

/// When to show progress (`--progress`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ProgressMode {
    /// On a terminal, for statements that take more than half a second.
    #[default]
    Auto,
    /// Always, from the start, on stderr; the last state is left in place.
    Always,
    /// Never.
    Never,
}

/// How long a statement runs before `auto` shows progress.
const AUTO_DELAY: Duration = Duration::from_millis(500);
const REFRESH: Duration = Duration::from_millis(200);

/// Progress for one statement; stops (and, but for `always`, clears) when
/// dropped.
pub struct Progress {
    bar: Arc<Mutex<Option<ProgressBar>>>,
    task: Option<tokio::task::JoinHandle<()>>,
    report: Arc<Report>,
    started: Instant,
    mode: ProgressMode,
}

impl Progress {
    /// Start showing `report`'s counters as `mode` says. Must be called
    /// within the tokio runtime.
    pub fn start(report: Arc<Report>, mode: ProgressMode) -> Progress {
        let started = Instant::now();
        let bar: Arc<Mutex<Option<ProgressBar>>> = Arc::default();
        let shown = match mode {
            ProgressMode::Never => None,
            ProgressMode::Auto if !std::io::stderr().is_terminal() => None,
            ProgressMode::Auto => Some((ProgressDrawTarget::stderr(), AUTO_DELAY)),
            ProgressMode::Always => Some((
                ProgressDrawTarget::term_like(Box::new(console::Term::stderr())),
                Duration::ZERO,
            )),
        };
        let task = shown.map(|(target, delay)| {
            let (slot, report) = (bar.clone(), report.clone());
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                let style = ProgressStyle::with_template("{elapsed:>4} [{bar:24}] {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> ");
                let new = ProgressBar::with_draw_target(None, target).with_style(style);
                *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(new.clone());
                loop {
                    update(&new, &report, started.elapsed());
                    tokio::time::sleep(REFRESH).await;
                }
            })
        });
        Progress {
            bar,
            task,
            report,
            started,
            mode,
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
        let bar = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(bar) = bar {
            if self.mode == ProgressMode::Always {
                update(&bar, &self.report, self.started.elapsed());
                bar.abandon();
                // What follows starts on a line of its own.
                eprintln!();
            } else {
                bar.finish_and_clear();
            }
        }
    }
}

/// The line: `read/to read` on the bar, then what was listed, the bytes,
/// events and their rate.
fn update(bar: &ProgressBar, report: &Report, elapsed: Duration) {
    let listed = report.files_listed.load(Relaxed);
    let to_read = listed.saturating_sub(report.files_pruned.load(Relaxed));
    let done = report.files_read.load(Relaxed) + report.files_failed.load(Relaxed);
    let events = report.records.load(Relaxed);
    let bytes = report.bytes_read.load(Relaxed);
    let rate = events as f64 / elapsed.as_secs_f64().max(0.001);
    // Nothing listed yet: an empty bar, not a full one.
    bar.set_length(to_read.max(1));
    bar.set_position(done);
    bar.set_message(if listed == 0 && done == 0 {
        "listing log files".to_string()
    } else {
        format!(
            "{done}/{to_read} objects ({listed} listed), {}, {events} events, {:.0} events/s",
            HumanBytes(bytes),
            rate
        )
    });
}
