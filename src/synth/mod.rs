//! Deterministic synthetic customer data for `rolo gen`, `rolo demo`,
//! benchmarks and tests.
//!
//! The same options always give byte-identical files, on every platform and
//! with every dependency version: the generator has its own PRNG
//! ([`rng`], xoshiro256** seeded by SplitMix64) and its own `exp`/`ln`, and
//! every customer row, every customer's orders and every note draws from
//! its own stream keyed by (seed, kind, index). That is also what lets
//! [`customer_rows`] produce the rows of customers.csv without files, and
//! lets a planted duplicate regenerate its original instead of keeping every
//! earlier row in memory.
//!
//! The data is deliberately messy in the ways real customer lists are:
//! Chinese and English people side by side, phones in several real written
//! forms, mixed date formats, blanks, and about `dup_rate` of the rows are
//! dirty copies of an earlier customer (listed in duplicates_truth.csv, so
//! dedup can be scored against the truth).

mod data;
mod format;
mod notes;
mod orders;
mod person;
pub mod rng;

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter};
use std::path::Path;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};

use self::orders::Meta;
use self::person::{CUSTOMER_HEADER, DOMAIN_DUP, Person, push_ext_id};
use self::rng::Rng;

/// How often (in rows) `generate` reports progress.
const PROGRESS_EVERY: u64 = 1 << 16;

/// Which people to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locale {
    /// English speakers in the US, the UK and Australia.
    En,
    /// Chinese speakers in mainland China.
    Zh,
    /// About half of each.
    Mixed,
}

impl Locale {
    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Zh => "zh",
            Locale::Mixed => "mixed",
        }
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A locale name that is not `en`, `zh` or `mixed`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("synth: unknown locale {0:?} (expected en, zh or mixed)")]
pub struct ParseLocaleError(String);

impl FromStr for Locale {
    type Err = ParseLocaleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" => Ok(Locale::En),
            "zh" => Ok(Locale::Zh),
            "mixed" => Ok(Locale::Mixed),
            _ => Err(ParseLocaleError(s.to_owned())),
        }
    }
}

const DEFAULT_END: NaiveDate = match NaiveDate::from_ymd_opt(2026, 11, 30) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenOptions {
    /// Customer rows, planted duplicates included.
    pub customers: u64,
    /// Order rows (exact, unless there are no customers).
    pub orders: u64,
    /// Note rows (exact, unless there are no customers).
    pub notes: u64,
    /// Share of customer rows that are dirty copies of an earlier row
    /// (clamped to 0..=0.9).
    pub dup_rate: f64,
    /// Which people.
    pub locale: Locale,
    /// The seed; equal options give byte-identical files.
    pub seed: u64,
    /// The last day of the data: customers are created in the five years
    /// before it and orders fall on or before it.
    pub end: NaiveDate,
}

impl GenOptions {
    /// Defaults for `customers` rows: five orders per customer, a note for
    /// every second one, 5% duplicates, mixed locale, seed 1, data up to
    /// 2026-11-30.
    pub fn new(customers: u64) -> Self {
        Self {
            customers,
            orders: customers.saturating_mul(5),
            notes: customers / 2,
            dup_rate: 0.05,
            locale: Locale::Mixed,
            seed: 1,
            end: DEFAULT_END,
        }
    }
}

/// Rows written by [`generate`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenSummary {
    /// Customer rows, duplicates included.
    pub customers: u64,
    /// Planted duplicates (rows of duplicates_truth.csv).
    pub duplicates: u64,
    /// Order rows.
    pub orders: u64,
    /// Note rows.
    pub notes: u64,
}

/// The options as the row generators use them.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    seed: u64,
    locale: Locale,
    end_day: i32,
    dup_rate: f64,
}

impl Ctx {
    fn new(opts: &GenOptions) -> Self {
        let end = opts.end;
        let dup_rate = if opts.dup_rate.is_nan() {
            0.0
        } else {
            opts.dup_rate.clamp(0.0, 0.9)
        };
        Self {
            seed: opts.seed,
            locale: opts.locale,
            end_day: format::days_from_civil(end.year(), end.month(), end.day()),
            dup_rate,
        }
    }

    #[cfg(test)]
    fn for_test(locale: Locale) -> Self {
        let mut opts = GenOptions::new(0);
        opts.locale = locale;
        Self::new(&opts)
    }

    /// The earlier row that row `index` was copied from, if it is a copy
    /// (possibly itself a copy).
    fn copied_from(&self, index: u64) -> Option<u64> {
        if index == 0 || self.dup_rate <= 0.0 {
            return None;
        }
        let mut r = Rng::stream(self.seed, DOMAIN_DUP, index);
        if !r.chance(self.dup_rate) {
            return None;
        }
        Some(r.below(index))
    }

    /// The clean original of a planted duplicate (copies of copies lead
    /// back to the first clean row), or `None` for a clean row.
    fn original_of(&self, index: u64) -> Option<u64> {
        let mut j = self.copied_from(index)?;
        while let Some(k) = self.copied_from(j) {
            j = k;
        }
        Some(j)
    }
}

fn csv_writer(path: &Path) -> io::Result<csv::Writer<BufWriter<File>>> {
    let file = File::create(path)?;
    Ok(csv::Writer::from_writer(BufWriter::with_capacity(
        1 << 16,
        file,
    )))
}

/// Writes customers.csv, orders.csv, notes.csv and duplicates_truth.csv
/// into `dir` (created if missing). `progress` is called now and then with
/// the number of rows written so far (all files together), and once at the
/// end with the total.
pub fn generate(
    opts: &GenOptions,
    dir: &Path,
    progress: &mut dyn FnMut(u64),
) -> io::Result<GenSummary> {
    std::fs::create_dir_all(dir)?;
    let ctx = Ctx::new(opts);
    let mut summary = GenSummary::default();

    let mut customers = csv_writer(&dir.join("customers.csv"))?;
    let mut truth = csv_writer(&dir.join("duplicates_truth.csv"))?;
    customers.write_record(CUSTOMER_HEADER)?;
    truth.write_record(["ext_id_a", "ext_id_b"])?;
    let cap = usize::try_from(opts.customers).unwrap_or(0).min(1 << 26);
    let mut metas = Vec::with_capacity(cap);
    let mut person = Person::default();
    let mut original_id = String::new();
    for i in 0..opts.customers {
        person.fill(&ctx, i);
        customers.write_record(person.fields())?;
        if let Some(orig) = person.original {
            original_id.clear();
            push_ext_id(&mut original_id, orig);
            truth.write_record([original_id.as_str(), person.ext_id.as_str()])?;
            summary.duplicates += 1;
        }
        metas.push(Meta {
            created_day: person.created_day,
            nation: person.nation,
            is_dup: person.original.is_some(),
        });
        summary.customers += 1;
        if summary.customers % PROGRESS_EVERY == 0 {
            progress(summary.customers);
        }
    }
    customers.flush()?;
    truth.flush()?;
    drop(person);

    let mut out = csv_writer(&dir.join("orders.csv"))?;
    summary.orders = orders::write_orders(
        &ctx,
        opts.orders,
        &metas,
        &mut out,
        summary.customers,
        progress,
    )?;
    out.flush()?;

    let mut out = csv_writer(&dir.join("notes.csv"))?;
    let before = summary.customers + summary.orders;
    summary.notes = notes::write_notes(&ctx, opts.notes, &metas, &mut out, before, progress)?;
    out.flush()?;

    progress(summary.customers + summary.orders + summary.notes);
    Ok(summary)
}

/// The header of customers.csv.
pub fn customer_header() -> &'static [&'static str] {
    CUSTOMER_HEADER
}

/// The rows of customers.csv, without the header and without writing
/// files: the same rows [`generate`] writes for the same options.
pub fn customer_rows(opts: &GenOptions) -> impl Iterator<Item = Vec<String>> + use<> {
    let ctx = Ctx::new(opts);
    let mut person = Person::default();
    (0..opts.customers).map(move |i| {
        person.fill(&ctx, i);
        person.fields().iter().map(|s| (*s).to_owned()).collect()
    })
}

#[cfg(test)]
mod tests;
