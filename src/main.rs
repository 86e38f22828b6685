//! The `rolo` binary: parse arguments, set up logging and signals, dispatch
//! to `rolo::cli`, and turn the outcome into an exit code. No logic here.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    rolo::cli::install_panic_hook();
    let args = rolo::cli::Cli::parse();
    rolo::cli::init_logging();
    match rolo::cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => rolo::cli::report(&e),
    }
}
