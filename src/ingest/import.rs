//! The import pipeline: read a file, map its columns, normalize each row,
//! match it against existing records, and commit in atomic batches with the
//! undo data that makes `rolo import revert` possible.
//!
//! A row is rejected only when it cannot be repaired (for customers: none of
//! a name, a valid email or a valid phone; for orders: no amount, no date or
//! no such customer). A bad field only empties that field: the original text
//! is kept in the record's `invalid` list and counted as a warning.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use super::headers::{RecordKind, map_header};
use super::normalize::{self, NormalizeConfig, clean_text};
use super::reader::{self, Encoding, Format, ReadError, SourceRow};
use crate::model::{Customer, CustomerId, Note, NoteKind, Order};
use crate::store::{ImportLog, Store, StoreError, UndoBatch, UndoEntry, Unit};

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
    let mut touched = HashSet::new();
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

enum Outcome {
    Inserted,
    Updated,
    Unchanged,
}

struct RowCtx<'u, 's> {
    unit: &'u mut Unit<'s>,
    undo: &'u mut UndoBatch,
    /// Records whose before-image this batch already holds.
    touched: &'u mut HashSet<String>,
    opts: &'u ImportOptions,
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
            for (f, what) in [("amount", "amount"), ("order_date", "order date")] {
                if !has(f) {
                    return Err(format!("no column maps to {f} (the {what}); {hint}"));
                }
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

/// The columns of the file and where each goes.
struct Layout {
    columns: Vec<Option<&'static str>>,
    headers: Vec<String>,
}

/// The cleaned values of one row: canonical fields (several columns joined
/// by a space) and custom attributes.
struct Values {
    fields: Vec<(&'static str, String)>,
    attrs: Vec<(String, String)>,
}

impl Values {
    fn of(row: &SourceRow, layout: &Layout) -> Values {
        let (columns, headers) = (&layout.columns, &layout.headers);
        let mut fields: Vec<(&'static str, String)> = Vec::new();
        let mut attrs = Vec::new();
        for (i, raw) in row.fields.iter().enumerate() {
            let v = clean_text(raw);
            if v.is_empty() {
                continue;
            }
            match columns.get(i).copied().flatten() {
                Some(f) => match fields.iter_mut().find(|(k, _)| *k == f) {
                    // Several columns on one field: text joins with a space,
                    // lists with ';'; a figure or date keeps the first value
                    // and the other column stays as an attribute.
                    Some((_, existing)) => match join_rule(f) {
                        Join::Text => {
                            existing.push(' ');
                            existing.push_str(&v);
                        }
                        Join::List => {
                            existing.push(';');
                            existing.push_str(&v);
                        }
                        Join::First => {
                            let key = headers.get(i).map(|h| clean_text(h)).unwrap_or_default();
                            attrs.push((key, v));
                        }
                    },
                    None => fields.push((f, v)),
                },
                None => {
                    let key = headers.get(i).map(|h| clean_text(h)).unwrap_or_default();
                    let key = if key.is_empty() {
                        format!("column_{}", i + 1)
                    } else {
                        key
                    };
                    attrs.push((key, v));
                }
            }
        }
        Values { fields, attrs }
    }

    fn get(&self, field: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| *k == field)
            .map(|(_, v)| v.as_str())
    }
}

enum Join {
    Text,
    List,
    First,
}

fn join_rule(field: &str) -> Join {
    match field {
        "email" | "phone" => Join::List,
        "name" | "given_name" | "family_name" | "company" | "title" | "street" | "city"
        | "region" | "country" | "source" | "text" | "channel" => Join::Text,
        _ => Join::First,
    }
}

/// Splits a cell holding several emails or phones.
fn split_list(s: &str, allow_space: bool) -> Vec<&str> {
    s.split(|c: char| {
        c == ';' || c == ',' || c == '/' || c == '|' || (allow_space && c.is_whitespace())
    })
    .map(str::trim)
    .filter(|p| !p.is_empty())
    .collect()
}

/// A row after the work that needs no database: cleaned, parsed and
/// validated. Runs on its own thread, ahead of the writer.
enum Prepared {
    Customer(Box<Customer>),
    Order(Box<Order>, Who),
    Note(Box<Note>, Who),
}

/// One source row on its way to the writer.
struct PreparedRow {
    row: SourceRow,
    result: Result<Prepared, String>,
    warnings: Vec<String>,
}

fn prepare(kind: RecordKind, row: SourceRow, layout: &Layout, opts: &ImportOptions) -> PreparedRow {
    let mut warnings = Vec::new();
    let result = match &row.problem {
        Some(p) => Err(p.clone()),
        None => match kind {
            RecordKind::Customers => prepare_customer(&row, layout, opts, &mut warnings),
            RecordKind::Orders => prepare_order(&row, layout, opts, &mut warnings),
            RecordKind::Notes => prepare_note(&row, layout, opts, &mut warnings),
        },
    };
    PreparedRow {
        row,
        result,
        warnings,
    }
}

/// Matches a prepared row against the database and writes it.
fn apply(ctx: &mut RowCtx, prepared: Prepared) -> Result<Outcome, String> {
    match prepared {
        Prepared::Customer(draft) => apply_customer(ctx, *draft),
        Prepared::Order(order, who) => apply_order(ctx, *order, &who),
        Prepared::Note(note, who) => apply_note(ctx, *note, &who),
    }
}

fn prepare_customer(
    row: &SourceRow,
    layout: &Layout,
    opts: &ImportOptions,
    warnings: &mut Vec<String>,
) -> Result<Prepared, String> {
    let v = Values::of(row, layout);
    // A row's own country decides how its phone numbers without a country
    // code are read; the configured region is the fallback.
    let mut row_cfg = opts.normalize.clone();
    if let Some(region) = v.get("country").and_then(region_of_country) {
        row_cfg.default_region = region;
    }
    let cfg = &row_cfg;
    let mut draft = Customer::default();
    let mut invalid = Vec::new();
    let mut warn = |field: &str, value: &str, why: String| {
        warnings.push(format!("{field} '{}' emptied: {why}", preview(value)));
        invalid.push((field.to_owned(), value.to_owned()));
    };
    for (field, value) in &v.fields {
        let value = value.as_str();
        match *field {
            "ext_id" => draft.ext_id = Some(value.to_owned()),
            "name" => draft.name = value.to_owned(),
            "given_name" => draft.given_name = Some(value.to_owned()),
            "family_name" => draft.family_name = Some(value.to_owned()),
            "email" => {
                for part in split_list(value, true) {
                    match normalize::email(part) {
                        Ok(e) if !draft.emails.contains(&e) => draft.emails.push(e),
                        Ok(_) => {}
                        Err(why) => warn("email", part, why),
                    }
                }
            }
            "phone" => {
                for part in split_list(value, false) {
                    match normalize::phone(part, cfg) {
                        Ok(p) if !draft.phones.contains(&p) => draft.phones.push(p),
                        Ok(_) => {}
                        Err(why) => warn("phone", part, why),
                    }
                }
            }
            "company" => draft.company = Some(value.to_owned()),
            "title" => draft.title = Some(value.to_owned()),
            "street" => draft.street = Some(value.to_owned()),
            "city" => draft.city = Some(value.to_owned()),
            "region" => draft.region = Some(value.to_owned()),
            "postcode" => draft.postcode = Some(value.to_owned()),
            "country" => draft.country = Some(value.to_owned()),
            "birth_date" => match normalize::date(value, cfg) {
                Ok(d) => draft.birth_date = Some(d),
                Err(why) => warn("birth_date", value, why),
            },
            "gender" => draft.gender = Some(normalize::gender(value)),
            "source" => draft.source = Some(value.to_owned()),
            "created_at" => match normalize::datetime(value, cfg) {
                Ok(t) => draft.created_at = Some(t),
                Err(why) => warn("created_at", value, why),
            },
            other => draft.attrs.push((other.to_owned(), value.to_owned())),
        }
    }
    draft.attrs.extend(v.attrs);
    draft.invalid = invalid;
    if draft.name.is_empty() {
        draft.name = derive_name(draft.given_name.as_deref(), draft.family_name.as_deref());
    }
    if draft.name.is_empty() && draft.emails.is_empty() && draft.phones.is_empty() {
        return Err(
            "no name, no valid email and no valid phone: nothing identifies this customer"
                .to_owned(),
        );
    }
    Ok(Prepared::Customer(Box::new(draft)))
}

fn apply_customer(ctx: &mut RowCtx, mut draft: Customer) -> Result<Outcome, String> {
    let unit = &mut *ctx.unit;
    let existing = match find_existing(unit, &draft).map_err(internal)? {
        Some(id) => unit.customer(id).map_err(internal)?,
        None => None,
    };
    match existing {
        None => {
            draft.id = unit.new_customer_id().map_err(internal)?;
            draft.updated_at = unit.now();
            if draft.created_at.is_none() {
                draft.created_at = Some(unit.now());
            }
            unit.save_customer(&draft).map_err(internal)?;
            ctx.undo.entries.push(UndoEntry::Customer {
                id: draft.id,
                before: None,
            });
            ctx.touched.insert(format!("c{}", draft.id));
            Ok(Outcome::Inserted)
        }
        Some(old) => {
            let mut merged = old.clone();
            apply_update(&mut merged, draft);
            if merged == old {
                return Ok(Outcome::Unchanged);
            }
            merged.updated_at = unit.now();
            unit.save_customer(&merged).map_err(internal)?;
            if ctx.touched.insert(format!("c{}", old.id)) {
                ctx.undo.entries.push(UndoEntry::Customer {
                    id: old.id,
                    before: Some(Box::new(old)),
                });
            }
            Ok(Outcome::Updated)
        }
    }
}

/// Identity: ext_id (following merges to the survivor), then email. An
/// email match is taken only when it does not contradict the ext_ids (the
/// source system says two ext_ids are two records; whether they are one
/// person is for duplicate review). Records that only share a phone are
/// left to duplicate review too.
fn find_existing(unit: &Unit, draft: &Customer) -> Result<Option<CustomerId>, StoreError> {
    if let Some(ext) = draft.ext_id.as_deref() {
        if let Some(id) = unit.find_ext_id(ext)? {
            return survivor(unit, id);
        }
    }
    for e in &draft.emails {
        for id in unit.find_email(e)? {
            let compatible =
                draft.ext_id.is_none() || unit.customer(id)?.is_some_and(|c| c.ext_id.is_none());
            if compatible {
                return Ok(Some(id));
            }
        }
    }
    Ok(None)
}

/// The phone region of a country as exports write it (ISO code, English or Chinese name).
pub fn region_of_country(country: &str) -> Option<phonenumber::country::Id> {
    use phonenumber::country::Id;
    let c = country.trim().to_lowercase();
    let id = match c.as_str() {
        "cn" | "chn" | "china" | "中国" | "中华人民共和国" | "prc" => Id::CN,
        "us" | "usa" | "united states" | "united states of america" | "美国" => Id::US,
        "gb" | "uk" | "united kingdom" | "england" | "scotland" | "wales" | "great britain"
        | "英国" => Id::GB,
        "au" | "aus" | "australia" | "澳大利亚" => Id::AU,
        "ca" | "canada" | "加拿大" => Id::CA,
        "hk" | "hong kong" | "香港" | "中国香港" => Id::HK,
        "tw" | "taiwan" | "台湾" | "中国台湾" => Id::TW,
        "mo" | "macau" | "macao" | "澳门" => Id::MO,
        "sg" | "singapore" | "新加坡" => Id::SG,
        "jp" | "japan" | "日本" => Id::JP,
        "kr" | "korea" | "south korea" | "韩国" => Id::KR,
        "de" | "germany" | "deutschland" | "德国" => Id::DE,
        "fr" | "france" | "法国" => Id::FR,
        "nz" | "new zealand" | "新西兰" => Id::NZ,
        "in" | "india" | "印度" => Id::IN,
        other => return other.to_ascii_uppercase().parse().ok(),
    };
    Some(id)
}

/// Follows `merged_into` to the live record.
fn survivor(unit: &Unit, mut id: CustomerId) -> Result<Option<CustomerId>, StoreError> {
    for _ in 0..64 {
        match unit.customer(id)? {
            Some(c) if c.trashed_at.is_some() => return Ok(None),
            Some(c) => match c.merged_into {
                Some(next) => id = next,
                None => return Ok(Some(id)),
            },
            None => return Ok(None),
        }
    }
    Ok(None)
}

/// Updates `c` with the non-empty values of `new`: present fields overwrite,
/// emails and phones are added to the lists, attributes are set per key.
fn apply_update(c: &mut Customer, new: Customer) {
    fn set(dst: &mut Option<String>, src: Option<String>) {
        if let Some(v) = src {
            *dst = Some(v);
        }
    }
    if c.ext_id.is_none() {
        c.ext_id = new.ext_id;
    }
    if !new.name.is_empty() {
        c.name = new.name;
    }
    set(&mut c.given_name, new.given_name);
    set(&mut c.family_name, new.family_name);
    for e in new.emails {
        if !c.emails.contains(&e) {
            c.emails.push(e);
        }
    }
    for p in new.phones {
        if !c.phones.contains(&p) {
            c.phones.push(p);
        }
    }
    set(&mut c.company, new.company);
    set(&mut c.title, new.title);
    set(&mut c.street, new.street);
    set(&mut c.city, new.city);
    set(&mut c.region, new.region);
    set(&mut c.postcode, new.postcode);
    set(&mut c.country, new.country);
    if new.birth_date.is_some() {
        c.birth_date = new.birth_date;
    }
    set(&mut c.gender, new.gender);
    set(&mut c.source, new.source);
    if new.created_at.is_some() {
        c.created_at = new.created_at;
    }
    for (k, v) in new.attrs {
        match c.attrs.iter_mut().find(|(ck, _)| *ck == k) {
            Some((_, cv)) => *cv = v,
            None => c.attrs.push((k, v)),
        }
    }
    for (f, v) in new.invalid {
        if !c.invalid.iter().any(|(cf, cv)| *cf == f && *cv == v) {
            c.invalid.push((f, v));
        }
    }
}

/// `name` from its parts: "张" + "伟" -> "张伟"; "Ann" + "Lee" -> "Ann Lee".
pub fn derive_name(given: Option<&str>, family: Option<&str>) -> String {
    match (given, family) {
        (Some(g), Some(f)) => {
            let cjk = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
            if cjk(g) || cjk(f) {
                format!("{f}{g}")
            } else {
                format!("{g} {f}")
            }
        }
        (Some(x), None) | (None, Some(x)) => x.to_owned(),
        (None, None) => String::new(),
    }
}

/// Finds the customer an order or note row refers to.
/// How an order or note row names its customer.
struct Who {
    customer: Option<String>,
    email: Option<String>,
    phone: Option<String>,
}

impl Who {
    fn of(v: &Values) -> Who {
        Who {
            customer: v.get("customer").map(str::to_owned),
            email: v.get("customer_email").map(str::to_owned),
            phone: v.get("customer_phone").map(str::to_owned),
        }
    }
}

fn resolve_customer(ctx: &RowCtx, who: &Who) -> Result<CustomerId, String> {
    let unit = &*ctx.unit;
    let mut tried = Vec::new();
    if let Some(c) = who.customer.as_deref() {
        if let Some(id) = unit.find_ext_id(c).map_err(internal)? {
            if let Some(id) = survivor(unit, id).map_err(internal)? {
                return Ok(id);
            }
        }
        if let Ok(e) = normalize::email(c) {
            if let Some(id) = unit.find_email(&e).map_err(internal)?.first() {
                return Ok(*id);
            }
        } else if let Ok(p) = normalize::phone(c, &ctx.opts.normalize) {
            if let Some(id) = unit.find_phone(&p).map_err(internal)?.first() {
                return Ok(*id);
            }
        }
        tried.push(format!("customer '{}'", preview(c)));
    }
    if let Some(e) = who.email.as_deref() {
        if let Ok(e) = normalize::email(e) {
            if let Some(id) = unit.find_email(&e).map_err(internal)?.first() {
                return Ok(*id);
            }
        }
        tried.push(format!("email '{}'", preview(e)));
    }
    if let Some(p) = who.phone.as_deref() {
        if let Ok(p) = normalize::phone(p, &ctx.opts.normalize) {
            if let Some(id) = unit.find_phone(&p).map_err(internal)?.first() {
                return Ok(*id);
            }
        }
        tried.push(format!("phone '{}'", preview(p)));
    }
    if tried.is_empty() {
        Err("no customer given (ext_id, email or phone)".to_owned())
    } else {
        Err(format!(
            "no such customer: {}; import the customers first",
            tried.join(", ")
        ))
    }
}

fn prepare_order(
    row: &SourceRow,
    layout: &Layout,
    opts: &ImportOptions,
    warnings: &mut Vec<String>,
) -> Result<Prepared, String> {
    let v = Values::of(row, layout);
    let cfg = &opts.normalize;
    let date_text = v.get("order_date").ok_or("no order date")?;
    let date = normalize::datetime(date_text, cfg)
        .map(|t| t.date_naive())
        .or_else(|_| normalize::date(date_text, cfg))
        .map_err(|why| format!("order date '{}': {why}", preview(date_text)))?;
    let amount_text = v.get("amount").ok_or("no amount")?;
    let amount_minor = normalize::amount_minor(amount_text)
        .map_err(|why| format!("amount '{}': {why}", preview(amount_text)))?;
    let quantity = match v.get("quantity") {
        Some(q) => match q.trim().parse::<f64>() {
            Ok(n) if n >= 0.0 && n.fract() == 0.0 && n <= f64::from(u32::MAX) => Some(n as u32),
            _ => {
                warnings.push(format!(
                    "quantity '{}' emptied: not a whole number",
                    preview(q)
                ));
                None
            }
        },
        None => None,
    };
    let order_id = match v.get("order_id") {
        Some(id) => id.to_owned(),
        // No order id: derive one from the row's content, so that importing
        // the same file again updates instead of duplicating.
        None => format!("auto-{:016x}", content_hash(&row.fields)),
    };
    // customer_email / customer_phone only identified the customer: the
    // order links to that customer instead of copying personal data.
    let order = Order {
        order_id,
        customer: CustomerId(0),
        date,
        amount_minor,
        quantity,
        currency: v.get("currency").map(|c| c.to_uppercase()),
        channel: v.get("channel").map(str::to_owned),
        attrs: v.attrs.clone(),
    };
    Ok(Prepared::Order(Box::new(order), Who::of(&v)))
}

fn apply_order(ctx: &mut RowCtx, mut order: Order, who: &Who) -> Result<Outcome, String> {
    order.customer = resolve_customer(ctx, who)?;
    let order_id = order.order_id.clone();
    let unit = &mut *ctx.unit;
    let old = unit.order(&order_id).map_err(internal)?;
    if old.as_ref() == Some(&order) {
        return Ok(Outcome::Unchanged);
    }
    unit.save_order(&order).map_err(internal)?;
    if ctx.touched.insert(format!("o{order_id}")) {
        ctx.undo.entries.push(UndoEntry::Order {
            order_id,
            before: old.clone(),
        });
    }
    Ok(if old.is_some() {
        Outcome::Updated
    } else {
        Outcome::Inserted
    })
}

fn prepare_note(
    row: &SourceRow,
    layout: &Layout,
    opts: &ImportOptions,
    warnings: &mut Vec<String>,
) -> Result<Prepared, String> {
    let v = Values::of(row, layout);
    let at_text = v.get("at").ok_or("no date or time")?;
    let at = normalize::datetime(at_text, &opts.normalize)
        .map_err(|why| format!("time '{}': {why}", preview(at_text)))?;
    let mut text = v.get("text").unwrap_or_default().to_owned();
    let kind = match v.get("kind") {
        Some(k) => k.parse::<NoteKind>().unwrap_or_else(|()| {
            warnings.push(format!(
                "kind '{}' is not call/email/visit/feedback/complaint: kept as other",
                preview(k)
            ));
            text = format!("[{k}] {text}");
            NoteKind::Other
        }),
        None => NoteKind::Other,
    };
    let satisfaction = match v.get("satisfaction") {
        Some(s) => match s.trim().parse::<f64>() {
            Ok(n) if (1.0..=5.0).contains(&n) && n.fract() == 0.0 => Some(n as u8),
            _ => {
                warnings.push(format!(
                    "satisfaction '{}' emptied: expected 1 to 5",
                    preview(s)
                ));
                None
            }
        },
        None => None,
    };
    if text.trim().is_empty() && satisfaction.is_none() {
        return Err("the note has neither text nor a satisfaction score".to_owned());
    }
    let note = Note {
        customer: CustomerId(0),
        at,
        kind,
        text,
        satisfaction,
    };
    Ok(Prepared::Note(Box::new(note), Who::of(&v)))
}

fn apply_note(ctx: &mut RowCtx, mut note: Note, who: &Who) -> Result<Outcome, String> {
    note.customer = resolve_customer(ctx, who)?;
    let unit = &mut *ctx.unit;
    if unit.has_note(&note).map_err(internal)? {
        return Ok(Outcome::Unchanged);
    }
    let key = unit.add_note(&note).map_err(internal)?;
    ctx.undo.entries.push(UndoEntry::Note { key, note });
    Ok(Outcome::Inserted)
}

fn content_hash(fields: &[String]) -> u64 {
    // FNV-1a: stable across runs and versions, unlike std's SipHash keys.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for f in fields {
        for b in f.as_bytes().iter().chain(std::iter::once(&0x1f)) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

fn preview(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if s.chars().count() > 40 {
        out.push('…');
    }
    out
}

fn internal(e: StoreError) -> String {
    format!("internal error: {e}")
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
