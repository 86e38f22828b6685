//! The `rolo` binary: parse arguments, set up logging and signals, dispatch
//! to `rolo::cli`, and turn the outcome into an exit code. No logic here.

use clap::Parser;
use std::process::ExitCode;

// glibc's malloc serialises frees of memory allocated on another thread;
// the importer hands every row from its reader thread to its writer.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    rolo::cli::install_panic_hook();
    let args = rolo::cli::Cli::parse();
    rolo::cli::init_logging();
    match rolo::cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => rolo::cli::report(&e),
    }
}
