//! The import pipeline: read a file, map its columns, normalize each row,
//! match it against existing records, and commit in atomic batches with the
//! undo data that makes `rolo import revert` possible.
//!
//! A row is rejected only when it cannot be repaired (for customers: none of
//! a name, a valid email or a valid phone; for orders: neither an amount nor
//! a unit price, no date, or no customer reference; for notes: no such
//! customer). A bad field only empties that field: the original text is kept
//! in the record's `invalid` list and counted as a warning. An order naming
//! someone the database does not hold creates that customer, unless
//! `create_customers` is off.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use super::apply::{Effects, ImportRun, Outcome, RowCtx, apply};
use super::headers::{RecordKind, map_header};
use super::normalize::NormalizeConfig;
use super::prepare::{Layout, PreparedRow, prepare};
use super::reader::{self, Encoding, Format, ReadError, SourceRow};
use crate::model::CustomerId;
use crate::store::{ImportLog, Store, StoreError, UndoBatch, UndoEntry};

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
    /// Whether an order naming a customer the database does not hold
    /// creates that customer (else the row is rejected). Notes never do.
    pub create_customers: bool,
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
            create_customers: true,
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
    /// Customers created by orders that named someone the database did not
    /// hold (not rows: they are not part of `read`).
    pub customers_created: u64,
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
    /// Customers the import inserted or changed (created by orders
    /// included), sorted: what a duplicate check compares.
    pub changed_customers: Vec<CustomerId>,
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
        let mut run = ImportRun::default();
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
                &mut run,
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
    report.changed_customers.sort_unstable();
    report.changed_customers.dedup();
    if report.rejected > 0 {
        let target = rejects
            .finish()
            .map_err(|(path, source)| ImportError::Rejects { path, source })?;
        report.rejects_file = Some(target);
    }
    Ok(report)
}

/// Reads and prepares every row of a file's `bytes` as [`import_file`]
/// does (decoding, column mapping, cleaning, parsing), without a database;
/// returns how many rows were read and how many were rejected before any
/// matching. The fuzz targets use it (`crate::fuzzing`): it runs the whole
/// parse and repair path thousands of times a second.
pub(crate) fn prepare_only(bytes: Vec<u8>, opts: &ImportOptions) -> Result<(u64, u64), String> {
    let stream = reader::open(bytes, opts.encoding, opts.format).map_err(|e| e.to_string())?;
    let columns = map_columns(&stream.headers, opts)?;
    check_columns(opts.kind, &columns)?;
    let layout = Layout {
        columns,
        headers: stream.headers,
    };
    let (mut read, mut rejected) = (0, 0);
    for row in stream.rows {
        read += 1;
        if prepare(opts.kind, row, &layout, opts).result.is_err() {
            rejected += 1;
        }
    }
    Ok((read, rejected))
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
    run: &mut ImportRun,
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
        let mut effects = Effects::default();
        let outcome = result.and_then(|prepared| {
            let mut ctx = RowCtx {
                unit: &mut unit,
                undo: &mut undo,
                touched: &mut touched,
                run: &mut *run,
                effects: &mut effects,
                opts,
            };
            apply(&mut ctx, prepared)
        });
        counts.customers_created += effects.customers_created;
        for w in warnings.into_iter().chain(effects.warnings) {
            counts.warnings += 1;
            if report.warning_samples.len() < MAX_WARNING_SAMPLES {
                report
                    .warning_samples
                    .push(format!("line {}: {w}", row.line));
            }
        }
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
        let created = report.customers_created + counts.customers_created;
        let created = if created > 0 {
            format!(", {created} customers created")
        } else {
            String::new()
        };
        unit.audit(
            "import",
            format!(
                "import #{} {} {}: {} read, {} inserted, {} updated, {} rejected{created}",
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
    report.customers_created += counts.customers_created;
    report.warnings += counts.warnings;
    for e in &undo.entries {
        if let UndoEntry::Customer { id, .. } = e {
            report.changed_customers.push(*id);
        }
    }
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
    customers_created: u64,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Customer, Order};
    use crate::store::OpenOptions;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    struct Db {
        dir: tempfile::TempDir,
        store: Store,
    }

    fn db() -> Db {
        let dir = tempfile::tempdir().unwrap();
        let opts = OpenOptions {
            cache_bytes: 8 << 20,
            ..OpenOptions::default()
        };
        let store = Store::open(&dir.path().join("db"), &opts).unwrap();
        Db { dir, store }
    }

    impl Db {
        /// Imports `text` as `kind` with `opts` (batch size and all).
        fn import(&self, name: &str, text: &str, opts: &ImportOptions) -> ImportReport {
            let path = self.dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            let r = import_file(
                &self.store,
                &path,
                opts,
                &mut |_, _| {},
                &AtomicBool::new(false),
            )
            .unwrap();
            assert_eq!(r.read, r.inserted + r.updated + r.rejected, "{r:?}");
            r
        }

        fn orders(&self) -> BTreeMap<String, Order> {
            self.store
                .all_orders()
                .map(|o| o.map(|o| (o.order_id.clone(), o)).unwrap())
                .collect()
        }

        fn customers(&self) -> Vec<Customer> {
            self.store
                .all_customers()
                .collect::<Result<_, _>>()
                .unwrap()
        }

        /// Every customer with its orders and figures.
        fn state(&self) -> Vec<(Customer, Vec<Order>, crate::model::Stats)> {
            self.customers()
                .into_iter()
                .map(|c| {
                    let orders = self.store.orders_of(c.id).unwrap();
                    let stats = self.store.stats(c.id).unwrap();
                    (c, orders, stats)
                })
                .collect()
        }

        fn customer_by_ext(&self, ext: &str) -> Customer {
            let id = self.store.find_ext_id(ext).unwrap().expect(ext);
            self.store.customer(id).unwrap().unwrap()
        }
    }

    fn orders_opts(batch_rows: usize) -> ImportOptions {
        let mut o = ImportOptions::new(RecordKind::Orders);
        o.batch_rows = batch_rows;
        o
    }

    /// An Online Retail II excerpt: invoice 489434 has four lines, the
    /// fourth far from the others; C489449 is a cancellation; the row
    /// without a customer is rejected.
    const RETAIL: &str = "\
Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country
489434,85048,15CM CHRISTMAS GLASS BALL 20 LIGHTS,12,2009-12-01 07:45:00,6.95,13085,United Kingdom
489434,79323P,PINK CHERRY LIGHTS,12,2009-12-01 07:45:00,6.75,13085,United Kingdom
489434,79323W,WHITE CHERRY LIGHTS,12,2009-12-01 07:45:00,6.75,13085,United Kingdom
489435,22350,CAT BOWL,12,2009-12-01 07:46:00,2.55,13085,United Kingdom
489436,48173C,DOOR MAT BLACK FLOCK,10,2009-12-01 09:06:00,5.95,13078,United Kingdom
C489449,22087,PAPER BUNTING WHITE LACE,-12,2009-12-01 10:33:00,2.95,16321,Australia
C489449,85206A,CREAM FELT EASTER EGG BASKET,-6,2009-12-01 10:33:00,1.65,16321,Australia
489437,22111,SCOTTIE DOG HOT WATER BOTTLE,3,2009-12-01 09:08:00,4.95,,United Kingdom
489434,22041,RECORD FRAME 7\" SINGLE SIZE,48,2009-12-01 07:45:00,2.10,13085,United Kingdom
";

    #[test]
    fn line_items_add_up_across_batches_and_reimport_and_revert_are_exact() {
        let d = db();
        let empty = d.state();
        // Two rows a batch: invoice 489434 spans batches 0, 1 and 4.
        let r1 = d.import("retail.csv", RETAIL, &orders_opts(2));
        assert_eq!((r1.read, r1.rejected), (9, 1), "{r1:?}");
        assert_eq!(r1.inserted, 4, "489434, 489435, 489436, C489449: {r1:?}");
        assert_eq!(r1.updated, 4, "the further lines: {r1:?}");
        assert_eq!(r1.customers_created, 3, "{r1:?}");
        let orders = d.orders();
        let total = |id: &str| orders[id].amount_minor;
        assert_eq!(total("489434"), 12 * 695 + 12 * 675 + 12 * 675 + 48 * 210);
        assert_eq!(orders["489434"].quantity, Some(84));
        assert_eq!(total("489435"), 12 * 255);
        assert_eq!(total("C489449"), -12 * 295 - 6 * 165);
        assert_eq!(orders["C489449"].quantity, None);
        assert_eq!(
            orders["489434"].attrs,
            [("Country".to_owned(), "United Kingdom".to_owned())],
            "only what every line agrees on"
        );
        let c = d.customer_by_ext("13085");
        assert_eq!(c.name, "");
        assert_eq!(c.source.as_deref(), Some("orders import"));
        assert!(c.created_at.is_some());
        let stats = d.store.stats(c.id).unwrap();
        assert_eq!((stats.orders, stats.order_days), (2, 1));
        assert_eq!(stats.spend_minor, total("489434") + total("489435"));
        let after_first = d.state();

        // The same file again: nothing doubles, every row counts as updated.
        let r2 = d.import("retail.csv", RETAIL, &orders_opts(2));
        assert_eq!((r2.inserted, r2.updated, r2.rejected), (0, 8, 1), "{r2:?}");
        assert_eq!(r2.customers_created, 0);
        assert_eq!(d.state(), after_first);
        // In one batch too.
        let r3 = d.import("retail.csv", RETAIL, &orders_opts(5000));
        assert_eq!((r3.inserted, r3.updated), (0, 8), "{r3:?}");
        assert_eq!(d.state(), after_first);

        for r in [&r3, &r2] {
            d.store.revert_import(r.import_id).unwrap();
            assert_eq!(d.state(), after_first, "revert of import {}", r.import_id);
        }
        let s = d.store.revert_import(r1.import_id).unwrap();
        // Four orders and three customers; the lines written in later
        // batches restore the running totals of the batches before.
        assert_eq!(s.removed, 7, "{s:?}");
        assert_eq!(d.state(), empty);
        assert_eq!(d.store.live_count().unwrap(), 0);
        assert_eq!(d.store.find_ext_id("13085").unwrap(), None);
        assert_eq!(d.store.check().unwrap(), Vec::<String>::new());
    }

    #[test]
    fn an_order_stored_before_the_run_is_replaced_by_the_runs_total() {
        let d = db();
        let header = "order_id,customer,order_date,amount\n";
        d.import(
            "a.csv",
            &format!("{header}O1,C1,2024-01-05,10.00\nO2,C1,2024-01-06,1.00\n"),
            &orders_opts(5000),
        );
        let before = d.state();
        let r = d.import(
            "b.csv",
            &format!("{header}O1,C1,2024-01-05,3.00\nO1,C1,2024-01-04,4.00\n"),
            &orders_opts(1),
        );
        assert_eq!((r.inserted, r.updated, r.warnings), (0, 2, 1), "{r:?}");
        assert!(r.warning_samples[0].contains("earliest"), "{r:?}");
        let o1 = &d.orders()["O1"];
        assert_eq!(o1.amount_minor, 700, "replaced by 3 + 4, not added to 10");
        assert_eq!(o1.date.to_string(), "2024-01-04");
        d.store.revert_import(r.import_id).unwrap();
        assert_eq!(d.state(), before);
    }

    #[test]
    fn a_line_naming_another_customer_or_currency_is_rejected() {
        let d = db();
        let r = d.import(
            "o.csv",
            "order_id,customer,order_date,amount,currency\n\
             O1,C1,2024-01-05,10.00,GBP\n\
             O1,C2,2024-01-05,1.00,GBP\n\
             O1,C1,2024-01-05,2.00,EUR\n\
             O1,C1,2024-01-05,3.00,\n",
            &orders_opts(2),
        );
        assert_eq!((r.inserted, r.updated, r.rejected), (1, 1, 2), "{r:?}");
        assert_eq!(
            r.customers_created, 1,
            "C2 is not created for a rejected line"
        );
        let o1 = &d.orders()["O1"];
        assert_eq!(
            (o1.amount_minor, o1.currency.as_deref()),
            (1300, Some("GBP"))
        );
        let reasons = std::fs::read_to_string(d.dir.path().join("o.rejects.csv")).unwrap();
        assert!(reasons.contains("this line names a customer"), "{reasons}");
        assert!(reasons.contains("this line is in EUR"), "{reasons}");
    }

    #[test]
    fn no_create_customers_rejects_and_notes_never_create() {
        let d = db();
        let mut opts = orders_opts(5000);
        opts.create_customers = false;
        let r = d.import(
            "o.csv",
            "order_id,customer,order_date,amount\nO1,C1,2024-01-05,10.00\n",
            &opts,
        );
        assert_eq!((r.rejected, r.customers_created), (1, 0), "{r:?}");
        let reasons = std::fs::read_to_string(d.dir.path().join("o.rejects.csv")).unwrap();
        assert!(
            reasons.contains("no such customer: customer 'C1'"),
            "{reasons}"
        );
        let r = d.import(
            "n.csv",
            "customer,at,text\nC1,2024-01-05 10:00,called\n",
            &ImportOptions::new(RecordKind::Notes),
        );
        assert_eq!((r.rejected, r.customers_created), (1, 0), "{r:?}");
        assert!(d.customers().is_empty());
    }

    #[test]
    fn created_customers_take_the_email_and_phone_references() {
        let d = db();
        let r = d.import(
            "o.csv",
            "order_id,customer,customer_email,customer_phone,order_date,amount\n\
             O1,,Bob@Example.com,,2024-01-05,10.00\n\
             O2,,,138 0013 8000,2024-01-05,10.00\n\
             O3,ann@example.com,,,2024-01-05,10.00\n\
             O4,,not-an-email,,2024-01-05,10.00\n\
             O5,,,12,2024-01-05,10.00\n\
             O6,,bob@example.com,,2024-01-06,5.00\n\
             O7,X9,,+86 139 0013 9000,2024-01-06,5.00\n",
            &orders_opts(5000),
        );
        assert_eq!(
            (r.inserted, r.rejected, r.customers_created),
            (5, 2, 4),
            "{r:?}"
        );
        let cs = d.customers();
        let emails: Vec<&[String]> = cs.iter().map(|c| c.emails.as_slice()).collect();
        assert!(
            emails.contains(&&["bob@example.com".to_owned()][..]),
            "{cs:?}"
        );
        assert!(
            emails.contains(&&["ann@example.com".to_owned()][..]),
            "{cs:?}"
        );
        let x9 = d.customer_by_ext("X9");
        assert_eq!(x9.phones, ["+8613900139000"]);
        assert_eq!(x9.display_name(), "X9");
        let bob = d.store.find_email("bob@example.com").unwrap();
        assert_eq!(bob.len(), 1);
        assert_eq!(d.store.orders_of(bob[0]).unwrap().len(), 2);
        let reasons = std::fs::read_to_string(d.dir.path().join("o.rejects.csv")).unwrap();
        assert!(
            reasons.contains("customer email 'not-an-email' cannot create one"),
            "{reasons}"
        );
        assert!(
            reasons.contains("customer phone '12' cannot create one"),
            "{reasons}"
        );
    }

    #[test]
    fn an_ext_id_of_a_merged_record_whose_survivor_is_trashed_creates_nobody() {
        let d = db();
        d.import(
            "c.csv",
            "ext_id,name\nA1,Ann\nA2,Ann Lee\n",
            &ImportOptions::new(RecordKind::Customers),
        );
        let a1 = d.customer_by_ext("A1");
        let a2 = d.customer_by_ext("A2");
        let mut unit = d.store.begin().unwrap();
        let mut merged = a1.clone();
        merged.merged_into = Some(a2.id);
        unit.save_customer(&merged).unwrap();
        unit.commit().unwrap();
        d.store.trash_customer(a2.id).unwrap();
        let r = d.import(
            "o.csv",
            "order_id,customer,order_date,amount\nO1,A1,2024-01-05,10.00\nO2,A1,2024-01-05,10.00\n",
            &orders_opts(5000),
        );
        assert_eq!((r.rejected, r.customers_created), (2, 0), "{r:?}");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        /// Lines of a few orders in any order and any batch size: each order
        /// is the sum of its lines, a re-import changes nothing and the
        /// reverts give back the empty database.
        #[test]
        fn any_order_of_lines_and_batch_size_gives_the_sums(
            lines in prop::collection::vec((0usize..4, -5_000i64..50_000), 1..20),
            batch_rows in 1usize..7,
        ) {
            let d = db();
            let mut text = "order_id,customer,order_date,amount\n".to_owned();
            let mut want: BTreeMap<String, i64> = BTreeMap::new();
            for (o, cents) in &lines {
                let id = format!("O{o}");
                text.push_str(&format!(
                    "{id},C{},2024-01-0{},{}.{:02}\n",
                    o % 2,
                    o + 1,
                    if *cents < 0 { "-" } else { "" }.to_owned() + &(cents.abs() / 100).to_string(),
                    cents.abs() % 100
                ));
                *want.entry(id).or_default() += cents;
            }
            let r1 = d.import("o.csv", &text, &orders_opts(batch_rows));
            prop_assert_eq!(r1.inserted, want.len() as u64);
            let got: BTreeMap<String, i64> =
                d.orders().into_iter().map(|(k, o)| (k, o.amount_minor)).collect();
            prop_assert_eq!(&got, &want);
            let after = d.state();
            let r2 = d.import("o.csv", &text, &orders_opts(batch_rows + 1));
            prop_assert_eq!(r2.inserted, 0);
            prop_assert_eq!(d.state(), after);
            d.store.revert_import(r2.import_id).unwrap();
            d.store.revert_import(r1.import_id).unwrap();
            prop_assert!(d.customers().is_empty());
            prop_assert!(d.orders().is_empty());
        }
    }
}
