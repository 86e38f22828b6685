//! The import pipeline: read a file, map its columns, normalize each row,
//! match it against existing records, and commit in atomic batches with the
//! undo data that makes `rolo import revert` possible.
//!
//! A row is rejected only when it cannot be repaired (for customers: none of
//! a name, a valid email or a valid phone; for orders: no amount, no date or
//! no such customer). A bad field only empties that field: the original text
//! is kept in the record's `invalid` list and counted as a warning.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use super::apply::{Outcome, RowCtx, apply};
use super::headers::{RecordKind, map_header};
use super::normalize::NormalizeConfig;
use super::prepare::{Layout, PreparedRow, prepare};
use super::reader::{self, Encoding, Format, ReadError, SourceRow};
use crate::store::{ImportLog, Store, StoreError, UndoBatch};

/// How to import one file.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub kind: RecordKind,
    pub encoding: Encoding,
    pub format: Format,
    /// `--map SRC=FIELD` overrides: source header to canonical field.
    pub maps: Vec<(String, &'static str)>,
    pub normalize: NormalizeConfig,
    /// Rows per atomic batch.
    pub batch_rows: usize,
    /// Where to write rejected rows; `None` puts them next to the input.
    pub rejects_path: Option<PathBuf>,
}

impl ImportOptions {
    pub fn new(kind: RecordKind) -> Self {
        ImportOptions {
            kind,
            encoding: Encoding::Auto,
            format: Format::Auto,
            maps: Vec::new(),
            normalize: NormalizeConfig::default(),
            batch_rows: 5000,
            rejects_path: None,
        }
    }
}

/// What an import did. `read == inserted + updated + rejected`, always.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    pub import_id: u64,
    pub read: u64,
    pub inserted: u64,
    pub updated: u64,
    pub rejected: u64,
    /// Rows that matched an existing record and changed nothing (part of `updated`).
    pub unchanged: u64,
    /// Fields that were emptied because their value was invalid.
    pub warnings: u64,
    pub rejects_file: Option<PathBuf>,
    pub encoding: String,
    /// Where each source column went: (header, canonical field or `attr`).
    pub columns: Vec<(String, String)>,
    /// The first warnings, for the report.
    pub warning_samples: Vec<String>,
    /// True when a signal stopped the import between batches.
    pub interrupted: bool,
}

/// Why an import could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Read { path: PathBuf, source: ReadError },
    #[error("{path}: {message}")]
    Columns { path: PathBuf, message: String },
    #[error("cannot write the rejects file {path}: {source}")]
    Rejects {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ImportError {
    /// Whether the user can fix the cause (exit 2).
    pub fn is_user_error(&self) -> bool {
        match self {
            ImportError::Store(e) => e.is_user_error(),
            _ => true,
        }
    }
}

const MAX_WARNING_SAMPLES: usize = 50;

/// Batches between flushes to disk during an import.
const FLUSH_EVERY_BATCHES: u64 = 20;

/// Imports `path` into `store`. `progress(done, total)` is called after each
/// committed batch (`total` is an estimate for CSV); `cancel` is checked
/// between batches.
///
/// Two threads share the work: one reads and prepares rows (decoding,
/// cleaning, parsing phones and dates: no database), the other matches them
/// against the database and commits each batch. The channel between them
/// holds at most two batches, so memory stays flat whatever the file size.
pub fn import_file(
    store: &Store,
    path: &Path,
    opts: &ImportOptions,
    progress: &mut dyn FnMut(u64, u64),
    cancel: &AtomicBool,
) -> Result<ImportReport, ImportError> {
    let bytes = std::fs::read(path).map_err(|source| ImportError::Io {
        path: path.to_owned(),
        source,
    })?;
    let stream =
        reader::open(bytes, opts.encoding, opts.format).map_err(|source| ImportError::Read {
            path: path.to_owned(),
            source,
        })?;
    let columns = map_columns(&stream.headers, opts).map_err(|message| ImportError::Columns {
        path: path.to_owned(),
        message,
    })?;
    check_columns(opts.kind, &columns).map_err(|message| ImportError::Columns {
        path: path.to_owned(),
        message,
    })?;

    let mut report = ImportReport {
        encoding: stream.encoding.to_owned(),
        columns: stream
            .headers
            .iter()
            .zip(&columns)
            .map(|(h, c)| (h.clone(), c.unwrap_or("attr").to_owned()))
            .collect(),
        ..ImportReport::default()
    };
    let rejects_target = opts
        .rejects_path
        .clone()
        .unwrap_or_else(|| rejects_path_for(path));
    let mut rejects = Rejects::new(&stream.headers, rejects_target);
    let layout = Layout {
        columns,
        headers: stream.headers,
    };
    let total = stream.approx_rows;
    let rows = stream.rows;
    let batch_rows = opts.batch_rows.max(1);

    let outcome = std::thread::scope(|scope| -> Result<(), ImportError> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<PreparedRow>>(2);
        let layout = &layout;
        scope.spawn(move || {
            let mut rows = rows;
            loop {
                let raw: Vec<SourceRow> = rows.by_ref().take(batch_rows).collect();
                let batch: Vec<PreparedRow> = raw
                    .into_iter()
                    .map(|row| prepare(opts.kind, row, layout, opts))
                    .collect();
                if batch.is_empty() || tx.send(batch).is_err() {
                    break;
                }
            }
        });
        let mut log: Option<ImportLog> = None;
        let mut next = rx.recv().ok();
        let mut batch_no = 0;
        while let Some(batch) = next.take() {
            if cancel.load(Ordering::Relaxed) {
                report.interrupted = true;
                break;
            }
            next = rx.recv().ok();
            let finished = next.is_none();
            let current = write_batch(
                store,
                path,
                opts,
                batch,
                batch_no,
                finished,
                log.take(),
                &mut report,
                &mut rejects,
            )?;
            log = Some(current);
            batch_no += 1;
            progress(report.read, total.max(report.read));
        }
        // Dropping the receiver stops the reader thread at its next send.
        drop(rx);
        Ok(())
    });
    outcome?;
    // Everything committed so far is on disk before anything is reported.
    store.flush()?;
    if report.rejected > 0 {
        let target = rejects
            .finish()
            .map_err(|(path, source)| ImportError::Rejects { path, source })?;
        report.rejects_file = Some(target);
    }
    Ok(report)
}

/// Matches and writes one batch in one unit of work, with its undo data and
/// the running import log; returns the updated log.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site; the pieces are the import's running state"
)]
fn write_batch(
    store: &Store,
    path: &Path,
    opts: &ImportOptions,
    batch: Vec<PreparedRow>,
    batch_no: u64,
    finished: bool,
    log: Option<ImportLog>,
    report: &mut ImportReport,
    rejects: &mut Rejects,
) -> Result<ImportLog, ImportError> {
    let mut unit = store.begin()?;
    let mut current = match log {
        Some(l) => l,
        None => ImportLog {
            id: unit.new_import_id()?,
            kind: kind_name(opts.kind).to_owned(),
            file: path.display().to_string(),
            at: unit.now(),
            user: store.user().to_owned(),
            read: 0,
            inserted: 0,
            updated: 0,
            rejected: 0,
            batches: 0,
            finished: false,
            reverted: false,
        },
    };
    let mut undo = UndoBatch::default();
    let mut touched = foldhash::HashSet::default();
    let mut counts = Counts::default();
    for PreparedRow {
        row,
        result,
        warnings,
    } in batch
    {
        counts.read += 1;
        for w in warnings {
            counts.warnings += 1;
            if report.warning_samples.len() < MAX_WARNING_SAMPLES {
                report
                    .warning_samples
                    .push(format!("line {}: {w}", row.line));
            }
        }
        let outcome = result.and_then(|prepared| {
            let mut ctx = RowCtx {
                unit: &mut unit,
                undo: &mut undo,
                touched: &mut touched,
                opts,
            };
            apply(&mut ctx, prepared)
        });
        match outcome {
            Ok(Outcome::Inserted) => counts.inserted += 1,
            Ok(Outcome::Updated) => counts.updated += 1,
            Ok(Outcome::Unchanged) => {
                counts.updated += 1;
                counts.unchanged += 1;
            }
            Err(reason) => {
                counts.rejected += 1;
                rejects
                    .push(&row, &reason)
                    .map_err(|(path, source)| ImportError::Rejects { path, source })?;
            }
        }
    }
    current.read += counts.read;
    current.inserted += counts.inserted;
    current.updated += counts.updated;
    current.rejected += counts.rejected;
    current.batches += 1;
    current.finished = finished;
    if !undo.entries.is_empty() {
        unit.save_undo(current.id, batch_no, &undo);
    }
    unit.save_import_log(&current);
    if finished {
        unit.audit(
            "import",
            format!(
                "import #{} {} {}: {} read, {} inserted, {} updated, {} rejected",
                current.id,
                current.kind,
                current.file,
                current.read,
                current.inserted,
                current.updated,
                current.rejected
            ),
            Vec::new(),
            None,
            None,
        )?;
    }
    // Flushing every batch would wait for the disk ~200 times per million
    // rows; sled keeps batches atomic regardless, so flush at checkpoints
    // (and at the end, before anything is reported).
    if finished || batch_no % FLUSH_EVERY_BATCHES == FLUSH_EVERY_BATCHES - 1 {
        unit.commit()?;
    } else {
        unit.commit_unflushed()?;
    }
    report.import_id = current.id;
    report.read += counts.read;
    report.inserted += counts.inserted;
    report.updated += counts.updated;
    report.rejected += counts.rejected;
    report.unchanged += counts.unchanged;
    report.warnings += counts.warnings;
    Ok(current)
}

/// `customers.csv` -> `customers.rejects.csv`, next to the input.
pub fn rejects_path_for(input: &Path) -> PathBuf {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "import".into());
    input.with_file_name(format!("{stem}.rejects.csv"))
}

fn kind_name(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Customers => "customers",
        RecordKind::Orders => "orders",
        RecordKind::Notes => "notes",
    }
}

#[derive(Default)]
struct Counts {
    read: u64,
    inserted: u64,
    updated: u64,
    rejected: u64,
    unchanged: u64,
    warnings: u64,
}

/// The canonical field of each column (`None`: a custom attribute).
fn map_columns(
    headers: &[String],
    opts: &ImportOptions,
) -> Result<Vec<Option<&'static str>>, String> {
    for (src, _) in &opts.maps {
        if !headers
            .iter()
            .any(|h| h == src || h.eq_ignore_ascii_case(src))
        {
            return Err(format!(
                "--map names a column '{src}' that the file does not have; its columns are: {}",
                headers.join(", ")
            ));
        }
    }
    Ok(headers
        .iter()
        .map(|h| {
            opts.maps
                .iter()
                .find(|(src, _)| src == h || src.eq_ignore_ascii_case(h))
                .map(|(_, f)| *f)
                .or_else(|| map_header(opts.kind, h))
        })
        .collect())
}

/// Refuses files that cannot yield a single valid row, naming the fix.
fn check_columns(kind: RecordKind, columns: &[Option<&'static str>]) -> Result<(), String> {
    let has = |f: &str| columns.contains(&Some(f));
    let hint = "name the columns with --map SRC=FIELD";
    match kind {
        RecordKind::Customers => {
            if !["name", "given_name", "family_name", "email", "phone"]
                .iter()
                .any(|f| has(f))
            {
                return Err(format!(
                    "no column maps to name, email or phone, so no row could be imported; {hint}"
                ));
            }
        }
        RecordKind::Orders => {
            if !has("order_date") {
                return Err(format!(
                    "no column maps to order_date (the order date); {hint}"
                ));
            }
            if !has("amount") && !has("unit_price") {
                return Err(format!(
                    "no column maps to amount (the order's total) or unit_price (amount = unit price x quantity); {hint}"
                ));
            }
            if !["customer", "customer_email", "customer_phone"]
                .iter()
                .any(|f| has(f))
            {
                return Err(format!(
                    "no column identifies the customer (customer, customer_email or customer_phone); {hint}"
                ));
            }
        }
        RecordKind::Notes => {
            if !["customer", "customer_email", "customer_phone"]
                .iter()
                .any(|f| has(f))
            {
                return Err(format!(
                    "no column identifies the customer (customer, customer_email or customer_phone); {hint}"
                ));
            }
        }
    }
    Ok(())
}

/// The rejected rows, streamed to a CSV file as they come: the original
/// row, then `extra` (cells beyond the header's width, joined by commas, so
/// nothing is lost and every later column stays under its header), `line`
/// and `reason`. The file is created on the first reject only.
struct Rejects {
    headers: Vec<String>,
    target: PathBuf,
    writer: Option<csv::Writer<std::fs::File>>,
}

type RejectsError = (PathBuf, std::io::Error);

impl Rejects {
    fn new(headers: &[String], target: PathBuf) -> Self {
        Rejects {
            headers: headers.to_vec(),
            target,
            writer: None,
        }
    }

    fn push(&mut self, row: &SourceRow, reason: &str) -> Result<(), RejectsError> {
        let target = self.target.clone();
        let err = move |e: csv::Error| (target.clone(), std::io::Error::other(e));
        let width = self.headers.len();
        let writer = match &mut self.writer {
            Some(w) => w,
            None => {
                let mut w = csv::Writer::from_path(&self.target).map_err(&err)?;
                let mut header = self.headers.clone();
                header.extend(["extra".to_owned(), "line".to_owned(), "reason".to_owned()]);
                w.write_record(&header).map_err(&err)?;
                self.writer.insert(w)
            }
        };
        let mut rec: Vec<String> = row.fields.iter().take(width).cloned().collect();
        rec.resize(width, String::new());
        rec.push(
            row.fields
                .get(width..)
                .map(|extra| extra.join(","))
                .unwrap_or_default(),
        );
        rec.push(row.line.to_string());
        rec.push(reason.to_owned());
        writer.write_record(&rec).map_err(&err)
    }

    /// Flushes the file; returns its path.
    fn finish(mut self) -> Result<PathBuf, RejectsError> {
        if let Some(w) = self.writer.as_mut() {
            w.flush().map_err(|e| (self.target.clone(), e))?;
        }
        Ok(self.target)
    }
}
