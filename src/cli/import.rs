//! `rolo import customers|orders|notes FILE`, `import list`, `import revert ID`.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde_json::json;
use std::path::PathBuf;

use super::{Ctx, user_error};
use crate::ingest::headers::{RecordKind, parse_override};
use crate::ingest::reader::{Encoding, Format};
use crate::ingest::{ImportOptions, ImportReport, import_file};
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub enum ImportCmd {
    /// Import customers from CSV, TSV, JSON or JSON Lines
    Customers(CustomersArgs),
    /// Import orders (each row names its customer by ext_id, email or phone;
    /// rows sharing an order id add up to one order)
    Orders(OrdersArgs),
    /// Import notes and interactions
    Notes(FileArgs),
    /// List past imports
    List,
    /// Take an import back completely (created records removed, updated ones restored)
    Revert {
        /// The import id (see `rolo import list`)
        id: u64,
    },
}

#[derive(Debug, Args)]
pub struct FileArgs {
    /// The file to import
    pub file: PathBuf,
    /// Map a source column onto a field: --map "Cell Phone=phone" (repeatable)
    #[arg(long = "map", value_name = "SRC=FIELD")]
    pub maps: Vec<String>,
    /// Text encoding of the file
    #[arg(long, default_value = "auto", value_parser = |s: &str| s.parse::<Encoding>())]
    pub encoding: Encoding,
    /// File format
    #[arg(long, default_value = "auto", value_parser = |s: &str| s.parse::<Format>())]
    pub format: Format,
    /// Read ambiguous dates like 03/05/2024 as day/month
    #[arg(long)]
    pub day_first: bool,
    /// Region for phone numbers without a country code (ISO code, e.g. CN, US, GB)
    #[arg(long, default_value = "CN", value_name = "CC")]
    pub phone_region: String,
    /// Where to write rejected rows [default: FILE.rejects.csv next to the input]
    #[arg(long, value_name = "PATH")]
    pub rejects: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CustomersArgs {
    #[command(flatten)]
    pub file: FileArgs,
    /// After the import, compare the inserted and changed customers with
    /// everyone, with the model of the last `rolo dedup scan` (reads every
    /// customer once)
    #[arg(long)]
    pub check_duplicates: bool,
}

#[derive(Debug, Args)]
pub struct OrdersArgs {
    #[command(flatten)]
    pub file: FileArgs,
    /// Reject orders naming a customer the database does not hold, instead
    /// of creating that customer
    #[arg(long)]
    pub no_create_customers: bool,
}

pub fn run(ctx: &Ctx, cmd: ImportCmd) -> Result<()> {
    match cmd {
        ImportCmd::Customers(a) => import_customers(ctx, a),
        ImportCmd::Orders(a) => import(ctx, RecordKind::Orders, a.file, !a.no_create_customers),
        ImportCmd::Notes(a) => import(ctx, RecordKind::Notes, a, false),
        ImportCmd::List => list(ctx),
        ImportCmd::Revert { id } => revert(ctx, id),
    }
}

/// Builds import options from the command line.
pub fn options(kind: RecordKind, a: &FileArgs) -> Result<ImportOptions> {
    let mut opts = ImportOptions::new(kind);
    opts.encoding = a.encoding;
    opts.format = a.format;
    opts.rejects_path = a.rejects.clone();
    for spec in &a.maps {
        opts.maps
            .push(parse_override(kind, spec).map_err(user_error)?);
    }
    if a.day_first {
        opts.normalize.day_month = crate::ingest::normalize::DayMonth::DayFirst;
    }
    opts.normalize.default_region = a.phone_region.to_ascii_uppercase().parse().map_err(|_| {
        user_error(format!(
            "unknown phone region '{}'; use an ISO code such as CN, US or GB",
            a.phone_region
        ))
    })?;
    Ok(opts)
}

/// `rolo import customers FILE [--check-duplicates]`.
fn import_customers(ctx: &Ctx, a: CustomersArgs) -> Result<()> {
    if !a.file.file.is_file() {
        return Err(user_error(format!(
            "{} is not a file; check the path",
            a.file.file.display()
        )));
    }
    let opts = options(RecordKind::Customers, &a.file)?;
    let store = ctx.open_for_import()?;
    let report = run_import(ctx, &store, &a.file.file, &opts)?;
    let check = if a.check_duplicates {
        crate::dedup::state::check_changed(&store, &report.changed_customers)
            .context("checking the imported customers for duplicates")?
    } else {
        None
    };
    let mut doc = report_json(&report);
    if let (Some(c), Some(obj)) = (&check, doc.as_object_mut()) {
        obj.insert("possible_duplicates".into(), json!(c.pairs.len()));
    }
    ctx.out.json(&doc)?;
    print_text(ctx, RecordKind::Customers, &a.file.file, &report)?;
    if a.check_duplicates {
        match &check {
            Some(c) if !c.pairs.is_empty() => ctx.out.line(&format!(
                "{} possible duplicates among the imported customers: rolo dedup scan",
                c.pairs.len()
            ))?,
            Some(_) => ctx
                .out
                .line("no possible duplicates among the imported customers")?,
            None => ctx.out.line(
                "no duplicate scan yet to check against: run `rolo dedup scan` once, then imports with --check-duplicates compare their customers with it",
            )?,
        }
    }
    interrupted(&report)
}

/// The error of an import a signal stopped (after its report is printed).
fn interrupted(report: &ImportReport) -> Result<()> {
    if report.interrupted {
        return Err(user_error(format!(
            "interrupted after {} rows; every committed batch is kept (import #{}); run the same import again to finish",
            report.read, report.import_id
        )));
    }
    Ok(())
}

fn import(ctx: &Ctx, kind: RecordKind, a: FileArgs, create_customers: bool) -> Result<()> {
    if !a.file.is_file() {
        return Err(user_error(format!(
            "{} is not a file; check the path",
            a.file.display()
        )));
    }
    let mut opts = options(kind, &a)?;
    opts.create_customers = create_customers;
    let store = ctx.open_for_import()?;
    let report = run_import(ctx, &store, &a.file, &opts)?;
    ctx.out.json(&report_json(&report))?;
    print_text(ctx, kind, &a.file, &report)?;
    interrupted(&report)
}

/// Runs one import with a progress bar.
pub fn run_import(
    ctx: &Ctx,
    store: &Store,
    file: &std::path::Path,
    opts: &ImportOptions,
) -> Result<ImportReport> {
    let bar = ctx
        .out
        .progress(0, &format!("importing {}", file.display()));
    let report = import_file(
        store,
        file,
        opts,
        &mut |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        },
        &ctx.cancel,
    )
    .with_context(|| {
        format!(
            "import of {} stopped; nothing of the unfinished batch was kept",
            file.display()
        )
    })?;
    bar.finish_and_clear();
    Ok(report)
}

/// The import's JSON document (DESIGN.md §4, with keys added).
fn report_json(r: &ImportReport) -> serde_json::Value {
    json!({
        "read": r.read,
        "inserted": r.inserted,
        "updated": r.updated,
        "rejected": r.rejected,
        "rejects_file": r.rejects_file,
        "import_id": r.import_id,
        "unchanged": r.unchanged,
        "customers_created": r.customers_created,
        "warnings": r.warnings,
        "warning_samples": r.warning_samples,
        "encoding": r.encoding,
        "columns": r.columns.iter().map(|(h, f)| json!({"source": h, "field": f})).collect::<Vec<_>>(),
        "interrupted": r.interrupted,
    })
}

/// The import's text report.
fn print_text(ctx: &Ctx, kind: RecordKind, file: &std::path::Path, r: &ImportReport) -> Result<()> {
    let created = if kind == RecordKind::Orders {
        format!(", {} customers created", r.customers_created)
    } else {
        String::new()
    };
    ctx.out.line(&format!(
        "import #{} of {} ({}): {} read, {} inserted, {} updated ({} unchanged), {} rejected, {} warnings{created}",
        r.import_id,
        file.display(),
        r.encoding,
        r.read,
        r.inserted,
        r.updated,
        r.unchanged,
        r.rejected,
        r.warnings
    ))?;
    let attrs: Vec<&str> = r
        .columns
        .iter()
        .filter(|(_, f)| f == "attr")
        .map(|(h, _)| h.as_str())
        .collect();
    if !attrs.is_empty() {
        ctx.out
            .line(&format!("kept as custom attributes: {}", attrs.join(", ")))?;
    }
    for w in r.warning_samples.iter().take(10) {
        ctx.out.line(&format!("  warning: {w}"))?;
    }
    if r.warnings > 10 {
        ctx.out.line(&format!(
            "  ... {} more warnings (see --json)",
            r.warnings - 10
        ))?;
    }
    if let Some(p) = &r.rejects_file {
        ctx.out.line(&format!(
            "rejected rows with their reasons: {}",
            p.display()
        ))?;
    }
    if r.import_id > 0 {
        ctx.out
            .line(&format!("undo with: rolo import revert {}", r.import_id))?;
    }
    Ok(())
}

fn list(ctx: &Ctx) -> Result<()> {
    let store = ctx.open()?;
    let logs = store.imports()?;
    ctx.out
        .json(&json!({ "imports": logs.iter().map(|l| json!({
        "id": l.id, "kind": l.kind, "file": l.file, "at": l.at.to_rfc3339(), "user": l.user,
        "read": l.read, "inserted": l.inserted, "updated": l.updated, "rejected": l.rejected,
        "finished": l.finished, "reverted": l.reverted,
    })).collect::<Vec<_>>() }))?;
    if logs.is_empty() {
        ctx.out.line("no imports yet")?;
    }
    for l in &logs {
        let state = if l.reverted {
            "reverted"
        } else if !l.finished {
            "unfinished"
        } else {
            "done"
        };
        ctx.out.line(&format!(
            "#{:<4} {} {:<9} {:<10} {} read, {} inserted, {} updated, {} rejected  {}",
            l.id,
            l.at.format("%Y-%m-%d %H:%M"),
            l.kind,
            state,
            l.read,
            l.inserted,
            l.updated,
            l.rejected,
            l.file
        ))?;
    }
    Ok(())
}

fn revert(ctx: &Ctx, id: u64) -> Result<()> {
    let store = ctx.open()?;
    let s = store.revert_import(id)?;
    ctx.out
        .json(&json!({ "import_id": id, "removed": s.removed, "restored": s.restored }))?;
    ctx.out.line(&format!(
        "reverted import #{id}: {} records removed, {} restored",
        s.removed, s.restored
    ))
}
