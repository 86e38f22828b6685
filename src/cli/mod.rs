//! The command-line front end: argument definitions (DESIGN.md §4), the
//! database location, error reporting and exit codes. One file per
//! subcommand; each is a thin layer over library calls.

mod audit;
mod backup;
mod clv;
mod dedup;
mod demo;
mod erase;
mod export;
mod import;
mod maintenance;
mod output;
mod quality;
mod search;
mod segments;
mod synth;
mod tag;
mod trash;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::store::{OpenOptions, Store, StoreError};

pub use output::Output;

/// rolo: a keyboard-driven customer-data workbench.
///
/// Run without a command to open the workbench on the default database.
#[derive(Debug, Parser)]
#[command(name = "rolo", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// The database folder [default: $ROLO_DB, else the XDG data dir]
    #[arg(long, global = true, env = "ROLO_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Print one JSON document on stdout instead of text
    #[arg(long, global = true)]
    pub json: bool,
    /// Refuse every change (for reviewers)
    #[arg(long, global = true)]
    pub read_only: bool,
    /// The date derived figures are computed for [default: today]
    #[arg(long, global = true, value_name = "DATE", value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    /// Answer yes to confirmations (needed without a terminal)
    #[arg(long, global = true)]
    pub yes: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create (once) and open a demo database of synthetic customers
    Demo(demo::DemoArgs),
    /// Write synthetic customers, orders, notes and a duplicates truth file
    Gen(synth::GenArgs),
    /// Import customers, orders or notes; list or revert imports
    #[command(subcommand)]
    Import(import::ImportCmd),
    /// Export customers (with derived figures) as CSV or JSON
    #[command(subcommand)]
    Export(export::ExportCmd),
    /// Search customers with the query language (an empty query matches all)
    Search(search::SearchArgs),
    /// Tag customers by hand or by rule; list, rename, merge and delete tags
    #[command(subcommand)]
    Tag(tag::TagCmd),
    /// Summaries by RFM segment, lifecycle, value tier, region, city or
    /// saved segment; save segments; snapshots and movement
    Segments(segments::SegmentsArgs),
    /// Predicted customer value: fit BG/NBD and Gamma-Gamma, predict per customer
    #[command(subcommand)]
    Clv(clv::ClvCmd),
    /// Data quality: completeness and validity per field, stale and unused
    /// records, each figure with the query that lists its customers
    Quality(quality::QualityArgs),
    /// Find duplicate customers: pairs scored field by field, and clusters
    #[command(subcommand)]
    Dedup(dedup::DedupCmd),
    /// Show the change history of a customer
    History {
        /// The customer id
        id: u64,
    },
    /// List audit events, newest first, by user, operation and date
    Audit(audit::AuditArgs),
    /// Remove a person's personal data everywhere (cannot be undone)
    Erase(erase::EraseArgs),
    /// List, restore or purge trashed customers
    #[command(subcommand)]
    Trash(trash::TrashCmd),
    /// Rebuild every index from the records
    Reindex,
    /// Rewrite the database into fresh files (reclaims space; old values
    /// stop lingering in sled's log)
    Compact,
    /// Verify the database's invariants
    Check {
        /// Rebuild what is derivable (indexes, derived figures)
        #[arg(long)]
        repair: bool,
    },
    /// Write a consistent, checksummed backup of the database to FILE
    Backup(backup::BackupArgs),
    /// Restore a backup into the database folder --db (the backup is
    /// verified first; an existing database is replaced only with --yes)
    Restore(backup::RestoreArgs),
    /// Anything else: reported as an unknown command, in one line
    #[command(external_subcommand)]
    Other(Vec<String>),
}

/// Opens the TUI when stdout is a terminal (and not `--json`); otherwise
/// prints the database summary, so scripts and pipes get text.
pub fn open_workbench(ctx: &Ctx, store: Store) -> Result<()> {
    use std::io::IsTerminal;
    if ctx.out.is_json() || !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return maintenance::summary(ctx, &store);
    }
    crate::tui::run(store, ctx.today(), Arc::clone(&ctx.cancel))
}

/// Parses a calendar date in the forms the importer accepts.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    crate::ingest::normalize::date(s, &crate::ingest::normalize::NormalizeConfig::default())
}

/// Confirms a destructive command: `--yes` answers for the user; otherwise
/// a terminal is asked on stderr (stdout stays one JSON document), and
/// without one the command is refused with `refusal` and a hint to pass
/// `--yes` (DESIGN.md §4).
pub fn confirm(ctx: &Ctx, question: &str, refusal: &str) -> Result<()> {
    use std::io::{BufRead, IsTerminal, Write};
    if ctx.yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Err(user_error(format!(
            "{refusal}; run again with --yes to confirm"
        )));
    }
    let mut err = std::io::stderr().lock();
    write!(err, "{} [y/N] ", crate::model::display::printable(question))?;
    err.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if matches!(answer.trim().to_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(user_error("cancelled; nothing was changed"))
    }
}

/// An error whose cause is the user's input (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UserError(pub String);

/// Shorthand for a user error.
pub fn user_error(msg: impl Into<String>) -> anyhow::Error {
    UserError(msg.into()).into()
}

/// What global options every command needs.
pub struct Ctx {
    pub db: PathBuf,
    pub out: Output,
    pub read_only: bool,
    pub as_of: Option<NaiveDate>,
    pub yes: bool,
    /// Set by SIGINT, SIGTERM and SIGHUP: long work stops at the next batch boundary.
    pub cancel: Arc<AtomicBool>,
}

impl Ctx {
    /// A copy sharing the cancel flag.
    pub fn clone_shallow(&self) -> Ctx {
        Ctx {
            db: self.db.clone(),
            out: self.out,
            read_only: self.read_only,
            as_of: self.as_of,
            yes: self.yes,
            cancel: Arc::clone(&self.cancel),
        }
    }

    /// Opens the database, creating it if it does not exist, and brings
    /// rule tags up to date if anything changed since their last refresh
    /// (or the as-of date moved).
    pub fn open(&self) -> Result<Store> {
        self.open_store(crate::store::DEFAULT_CACHE_BYTES, true)
    }

    /// Opens the database and leaves rule tags as they are (for the
    /// workbench, which refreshes them in the background).
    pub fn open_without_rule_refresh(&self) -> Result<Store> {
        self.open_store(crate::store::DEFAULT_CACHE_BYTES, false)
    }

    /// [`Ctx::open`] with sled's cache sized for an import.
    pub fn open_for_import(&self) -> Result<Store> {
        self.open_store(crate::store::IMPORT_CACHE_BYTES, true)
    }

    fn open_store(&self, cache_bytes: u64, refresh_rules: bool) -> Result<Store> {
        let opts = OpenOptions {
            read_only: self.read_only,
            cache_bytes,
            ..OpenOptions::default()
        };
        let store = Store::open(&self.db, &opts)?;
        if refresh_rules {
            let ectx = crate::search::EvalContext::new(self.today());
            crate::search::rules::refresh_if_stale(&store, &ectx)
                .context("refreshing the rule tags")?;
        }
        Ok(store)
    }

    /// The as-of date: `--as-of` or today.
    pub fn today(&self) -> NaiveDate {
        self.as_of
            .unwrap_or_else(|| chrono::Utc::now().date_naive())
    }
}

/// Where the database lives when neither `--db` nor `$ROLO_DB` says.
pub fn default_db_path() -> Result<PathBuf> {
    let dirs = directories::ProjectDirs::from("", "", "rolo").ok_or_else(|| {
        user_error("cannot find a home directory for the database; pass --db PATH")
    })?;
    Ok(dirs.data_dir().join("db"))
}

/// Runs one command.
pub fn run(cli: Cli) -> Result<()> {
    let cancel = Arc::new(AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        // A second signal while the first is being honoured exits at once;
        // everything committed so far is already flushed.
        signal_hook::flag::register_conditional_shutdown(sig, 130, Arc::clone(&cancel))
            .context("installing signal handlers")?;
        signal_hook::flag::register(sig, Arc::clone(&cancel))
            .context("installing signal handlers")?;
    }
    let db = match cli.db {
        Some(p) => p,
        None => default_db_path()?,
    };
    let ctx = Ctx {
        db,
        out: Output::new(cli.json),
        read_only: cli.read_only,
        as_of: cli.as_of,
        yes: cli.yes,
        cancel,
    };
    match cli.command {
        None => {
            // The workbench refreshes rule tags in the background, after
            // its first frame (a refresh at 1M customers takes seconds).
            let store = ctx.open_without_rule_refresh()?;
            open_workbench(&ctx, store)
        }
        Some(Command::Demo(args)) => demo::run(&ctx, args),
        Some(Command::Gen(args)) => synth::run(&ctx, args),
        Some(Command::Import(cmd)) => import::run(&ctx, cmd),
        Some(Command::Export(cmd)) => export::run(&ctx, cmd),
        Some(Command::Search(args)) => search::run(&ctx, args),
        Some(Command::Tag(cmd)) => tag::run(&ctx, cmd),
        Some(Command::Segments(args)) => segments::run(&ctx, args),
        Some(Command::Clv(cmd)) => clv::run(&ctx, cmd),
        Some(Command::Quality(args)) => quality::run(&ctx, args),
        Some(Command::Dedup(cmd)) => dedup::run(&ctx, cmd),
        Some(Command::History { id }) => maintenance::history(&ctx, id),
        Some(Command::Audit(args)) => audit::run(&ctx, args),
        Some(Command::Erase(args)) => erase::run(&ctx, args),
        Some(Command::Trash(cmd)) => trash::run(&ctx, cmd),
        Some(Command::Reindex) => maintenance::reindex(&ctx),
        Some(Command::Compact) => maintenance::compact(&ctx),
        Some(Command::Check { repair }) => maintenance::check(&ctx, repair),
        Some(Command::Backup(args)) => backup::backup(&ctx, args),
        Some(Command::Restore(args)) => backup::restore(&ctx, args),
        Some(Command::Other(args)) => {
            let name = args.first().map(String::as_str).unwrap_or("");
            Err(user_error(format!(
                "unknown command '{name}'; run `rolo --help` for the list"
            )))
        }
    }
}

/// Prints an error as one line on stderr and picks the exit code: 2 for
/// input or usage errors, 1 for internal ones, 0 for a closed stdout pipe.
pub fn report(e: &anyhow::Error) -> ExitCode {
    // csv and serde_json wrap io errors without exposing them as a source,
    // so the text is checked too.
    let broken_pipe = e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.to_string().contains("Broken pipe (os error 32)")
    });
    if broken_pipe {
        return ExitCode::SUCCESS;
    }
    let user = e.chain().any(|c| {
        c.is::<UserError>()
            || c.downcast_ref::<StoreError>()
                .is_some_and(StoreError::is_user_error)
            || c.downcast_ref::<crate::ingest::ImportError>()
                .is_some_and(crate::ingest::ImportError::is_user_error)
    });
    let text = format!("{e:#}").replace('\n', " ");
    // Errors may quote data (a value, a header, a file name).
    eprintln!("rolo: {}", crate::model::display::printable(&text));
    let code = if user { 2 } else { 1 };
    // The message may quote data; the log only records that it happened.
    tracing::info!("exit with error, code {code}");
    ExitCode::from(code)
}

/// A panic prints one line (no backtrace) and exits 1. The TUI installs its
/// own hook on top that restores the terminal first.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let report = panic_report(info);
        tracing::error!("{report}");
        eprintln!("rolo: {report}; this is a bug, please report it");
        std::process::exit(1);
    }));
}

/// What the panic hook writes to the log and to stderr: where the panic
/// happened, never its message, which can quote data (Rust's own message
/// for a string sliced off a character boundary quotes the string).
pub fn panic_report(info: &std::panic::PanicHookInfo<'_>) -> String {
    match info.location() {
        Some(l) => format!("internal error at {}:{}", l.file(), l.line()),
        None => "internal error".to_owned(),
    }
}

/// Logs go to a file in the XDG state/cache dir (never to the terminal);
/// `ROLO_LOG` sets the filter (default `info`).
pub fn init_logging() {
    let Some(dirs) = directories::ProjectDirs::from("", "", "rolo") else {
        return;
    };
    let dir = dirs.cache_dir().to_path_buf();
    // Private from the start: the store sets a private umask only when it
    // opens, after this.
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .is_err()
    {
        return;
    }
    let path = dir.join("rolo.log");
    let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&path)
    else {
        return;
    };
    // A log created by an older rolo (0644) is made private too.
    use std::os::unix::fs::PermissionsExt;
    let _ = file.set_permissions(std::fs::Permissions::from_mode(0o600));
    let filter = tracing_subscriber::EnvFilter::try_from_env("ROLO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .try_init();
}
