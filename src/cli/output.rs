//! Writing results: text for people, or exactly one JSON document on stdout
//! with `--json`. Write errors propagate, so a closed pipe ends the command
//! quietly (see `report`).

use anyhow::Result;
use serde::Serialize;
use std::io::{IsTerminal, Write};

/// How a command reports.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    json: bool,
}

impl Output {
    pub fn new(json: bool) -> Self {
        Output { json }
    }

    /// Whether `--json` was given.
    pub fn is_json(&self) -> bool {
        self.json
    }

    /// Prints a line of text (nothing in JSON mode).
    pub fn line(&self, text: &str) -> Result<()> {
        if !self.json {
            let mut out = std::io::stdout().lock();
            // Lines carry data (names, header names, warnings quoting
            // values): control characters and escape sequences from it are
            // shown as visible placeholders, never sent to the terminal.
            for (i, part) in text.split('\n').enumerate() {
                if i > 0 {
                    writeln!(out)?;
                }
                write!(out, "{}", crate::model::display::printable(part))?;
            }
            writeln!(out)?;
        }
        Ok(())
    }

    /// Prints the JSON document (only in JSON mode).
    pub fn json<T: Serialize>(&self, value: &T) -> Result<()> {
        if self.json {
            let mut out = std::io::stdout().lock();
            serde_json::to_writer(&mut out, value)?;
            writeln!(out)?;
        }
        Ok(())
    }

    /// A progress bar on stderr when stderr is a terminal; hidden otherwise.
    pub fn progress(&self, total: u64, what: &str) -> indicatif::ProgressBar {
        if !std::io::stderr().is_terminal() {
            return indicatif::ProgressBar::hidden();
        }
        let bar = indicatif::ProgressBar::new(total);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{msg} [{bar:30}] {pos}/{len} rows ({per_sec}, eta {eta})",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(what.to_owned());
        bar
    }
}
