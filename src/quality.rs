//! Data quality: how complete and how valid the customer data is, what is
//! stale or unused, and how that moved since the last visit.
//!
//! [`compute`] is a pure function of the live customers and their order
//! figures; [`scan`] runs it over a store (one thread per part of the id
//! range, as `segments` does, since reading the records is the cost).
//! Every figure carries the query (DESIGN.md §6) that lists its customers,
//! so a front end can drill down from any number to the people behind it:
//! `missing:email`, `invalid:phone`, `invalid:order_date`, `stale:365d`,
//! `missing:tags missing:orders`. The report and the queries share one
//! definition of validity ([`crate::ingest::validity`]), so a count and its
//! drill-down never disagree.
//!
//! **Scores.** A field's score is the share (0 to 100) of live customers
//! whose field is filled and valid: filled means it has a value, valid
//! means the importer recorded no invalid value for it and no stored value
//! fails its rule today. The overall score is the mean of the field scores
//! over the fields in use (filled or invalid for at least one customer), so
//! a column the data never had does not weigh on it; 0 without customers.
//!
//! **Since the last visit.** The headline figures of a report can be saved
//! ([`save`], a `QualityFigures` store record); the next report compares
//! itself with them ([`Report::compare`]). A front end decides what counts
//! as a visit: `rolo quality --save`, or opening the Quality pane.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::{Serialize, Serializer};

use crate::ingest::validity;
use crate::model::{Customer, Field, Stats};
use crate::search::{Presence, eval};
use crate::store::{FieldFigures, QualityFigures, Result, Store};

/// Records not updated for longer than this many days count as stale.
pub const DEFAULT_STALE_DAYS: u32 = 365;

/// What a report is computed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// The date validity and staleness are judged on.
    pub as_of: NaiveDate,
    /// Records last updated more than this many days before `as_of` are stale.
    pub stale_days: u32,
}

impl Options {
    /// Options for `as_of` with the default staleness threshold.
    pub fn new(as_of: NaiveDate) -> Options {
        Options {
            as_of,
            stale_days: DEFAULT_STALE_DAYS,
        }
    }
}

/// One figure: how many live customers, their share (0 to 100), and the
/// query that lists them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figure {
    pub count: u64,
    pub pct: f64,
    pub query: String,
}

impl Figure {
    fn new(count: u64, of: u64, query: String) -> Figure {
        Figure {
            count,
            pct: pct(count, of),
            query,
        }
    }
}

/// One canonical field's completeness and validity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldQuality {
    #[serde(serialize_with = "field_name")]
    pub field: Field,
    /// Customers with a value (`has:FIELD`).
    pub filled: Figure,
    /// Customers without one (`missing:FIELD`).
    pub missing: Figure,
    /// Customers with an invalid value, recorded on import or failing its
    /// rule today (`invalid:FIELD`).
    pub invalid: Figure,
    /// The share of customers whose field is filled and valid, 0 to 100.
    pub score: f64,
}

fn field_name<S: Serializer>(f: &Field, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(f.as_str())
}

/// The duplicate scan behind a report's `duplicates_pending`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DuplicatesScan {
    /// When the scan ran (RFC 3339).
    pub scanned_at: String,
    /// Its threshold: pairs scoring at least this are pending.
    pub threshold: f64,
    /// Pairs it saved (before merges, trash and dismissals).
    pub pairs_saved: u64,
}

/// A data-quality report over the live customers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub as_of: NaiveDate,
    pub stale_days: u32,
    /// Live customers.
    pub customers: u64,
    /// The mean field score over the fields in use, 0 to 100.
    pub score: f64,
    /// Every canonical field, in DESIGN.md §3 order.
    pub fields: Vec<FieldQuality>,
    /// Customers with anything invalid (any field, or an order before signup).
    pub invalid: Figure,
    /// Customers whose first order is dated before their `created_at` day.
    pub order_before_signup: Figure,
    /// Duplicate pairs waiting for review: the pairs of the last duplicate
    /// scan (`rolo dedup scan`, kept current by imports with a duplicate
    /// check) whose customers are both still live and that nobody
    /// dismissed; `pct` is per 100 customers. `None` (JSON null) before
    /// the first scan. Its `query` is empty: the pairs are listed by
    /// `rolo dedup scan`, not by a search.
    pub duplicates_pending: Option<Figure>,
    /// Which scan `duplicates_pending` comes from.
    pub duplicates_scan: Option<DuplicatesScan>,
    /// Records not updated for more than `stale_days` days.
    pub stale: Figure,
    /// Customers with neither a tag nor an order.
    pub no_tag_no_order: Figure,
}

impl Report {
    /// The field's row.
    pub fn field(&self, f: Field) -> Option<&FieldQuality> {
        self.fields.iter().find(|q| q.field == f)
    }

    /// The headline figures to save as this visit's (see [`save`]).
    pub fn figures(&self, saved_at: chrono::DateTime<chrono::Utc>) -> QualityFigures {
        QualityFigures {
            saved_at,
            as_of: self.as_of,
            customers: self.customers,
            score: self.score,
            fields: self
                .fields
                .iter()
                .map(|q| FieldFigures {
                    field: q.field.as_str().to_owned(),
                    filled: q.filled.count,
                    invalid: q.invalid.count,
                    score: q.score,
                })
                .collect(),
            invalid: self.invalid.count,
            order_before_signup: self.order_before_signup.count,
            stale_days: self.stale_days,
            stale: self.stale.count,
            no_tag_no_order: self.no_tag_no_order.count,
        }
    }

    /// How this report's figures moved since `previous` (now minus then).
    pub fn compare(&self, previous: &QualityFigures) -> Changes {
        let diff = |now: u64, then: u64| now as i64 - then as i64;
        let fields = self
            .fields
            .iter()
            .filter_map(|q| {
                let then = previous
                    .fields
                    .iter()
                    .find(|p| p.field == q.field.as_str())?;
                Some(FieldChange {
                    field: q.field,
                    filled: diff(q.filled.count, then.filled),
                    invalid: diff(q.invalid.count, then.invalid),
                    score: round1(q.score - then.score),
                })
            })
            .collect();
        Changes {
            score: round1(self.score - previous.score),
            customers: diff(self.customers, previous.customers),
            invalid: diff(self.invalid.count, previous.invalid),
            order_before_signup: diff(self.order_before_signup.count, previous.order_before_signup),
            stale: (self.stale_days == previous.stale_days)
                .then(|| diff(self.stale.count, previous.stale)),
            no_tag_no_order: diff(self.no_tag_no_order.count, previous.no_tag_no_order),
            fields,
        }
    }
}

/// How the figures moved since the last saved visit (now minus then).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Changes {
    pub score: f64,
    pub customers: i64,
    pub invalid: i64,
    pub order_before_signup: i64,
    /// `None` when the two reports used different staleness thresholds.
    pub stale: Option<i64>,
    pub no_tag_no_order: i64,
    /// Fields present in both reports.
    pub fields: Vec<FieldChange>,
}

/// How one field's figures moved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    #[serde(serialize_with = "field_name")]
    pub field: Field,
    pub filled: i64,
    pub invalid: i64,
    pub score: f64,
}

const FIELDS: usize = Field::ALL.len();

/// Counts over customers; two tallies over disjoint customers merge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    customers: u64,
    filled: [u64; FIELDS],
    invalid: [u64; FIELDS],
    /// Filled and valid.
    good: [u64; FIELDS],
    any_invalid: u64,
    order_before_signup: u64,
    stale: u64,
    no_tag_no_order: u64,
}

impl Tally {
    /// Counts one live customer (`stats`: `None` without orders).
    pub fn add(&mut self, c: &Customer, stats: Option<&Stats>, opts: &Options) {
        self.customers += 1;
        // `validity::has_any_problem`, without validating each value twice.
        let mut any = !c.invalid.is_empty();
        for (i, f) in Field::ALL.into_iter().enumerate() {
            let filled = eval::is_present(&Presence::Field(f), c, stats);
            let invalid = validity::is_invalid(c, f, opts.as_of);
            any |= invalid;
            self.filled[i] += u64::from(filled);
            self.invalid[i] += u64::from(invalid);
            self.good[i] += u64::from(filled && !invalid);
        }
        let early_order = validity::has_order_before_signup(c, stats);
        self.any_invalid += u64::from(any || early_order);
        self.order_before_signup += u64::from(early_order);
        let age = (opts.as_of - c.updated_at.date_naive()).num_days();
        self.stale += u64::from(age > i64::from(opts.stale_days));
        let has_orders = stats.is_some_and(|s| s.orders > 0);
        self.no_tag_no_order += u64::from(c.tags.is_empty() && !has_orders);
    }

    /// Adds the counts of another tally (over other customers).
    pub fn merge(&mut self, other: &Tally) {
        self.customers += other.customers;
        for i in 0..FIELDS {
            self.filled[i] += other.filled[i];
            self.invalid[i] += other.invalid[i];
            self.good[i] += other.good[i];
        }
        self.any_invalid += other.any_invalid;
        self.order_before_signup += other.order_before_signup;
        self.stale += other.stale;
        self.no_tag_no_order += other.no_tag_no_order;
    }

    /// The report of the counted customers.
    pub fn report(&self, opts: &Options) -> Report {
        let n = self.customers;
        let fields: Vec<FieldQuality> = Field::ALL
            .into_iter()
            .enumerate()
            .map(|(i, f)| FieldQuality {
                field: f,
                filled: Figure::new(self.filled[i], n, format!("has:{f}")),
                missing: Figure::new(n - self.filled[i], n, format!("missing:{f}")),
                invalid: Figure::new(self.invalid[i], n, format!("invalid:{f}")),
                score: pct(self.good[i], n),
            })
            .collect();
        let in_use: Vec<f64> = fields
            .iter()
            .filter(|q| q.filled.count > 0 || q.invalid.count > 0)
            .map(|q| q.score)
            .collect();
        let score = if in_use.is_empty() {
            0.0
        } else {
            round1(in_use.iter().sum::<f64>() / in_use.len() as f64)
        };
        Report {
            as_of: opts.as_of,
            stale_days: opts.stale_days,
            customers: n,
            score,
            fields,
            invalid: Figure::new(self.any_invalid, n, "invalid:any".into()),
            order_before_signup: Figure::new(
                self.order_before_signup,
                n,
                "invalid:order_date".into(),
            ),
            duplicates_pending: None,
            duplicates_scan: None,
            stale: Figure::new(self.stale, n, format!("stale:{}d", opts.stale_days)),
            no_tag_no_order: Figure::new(
                self.no_tag_no_order,
                n,
                "missing:tags missing:orders".into(),
            ),
        }
    }
}

/// The report over `customers` (live ones, with their order figures).
pub fn compute<'a>(
    customers: impl IntoIterator<Item = (&'a Customer, Option<&'a Stats>)>,
    opts: &Options,
) -> Report {
    let mut tally = Tally::default();
    for (c, s) in customers {
        tally.add(c, s, opts);
    }
    tally.report(opts)
}

/// The report over the store's live customers, with the duplicate pairs
/// of the last duplicate scan still pending.
pub fn scan(store: &Store, opts: &Options) -> Result<Report> {
    let saved = crate::dedup::state::load(store)?;
    let wanted: HashSet<u64> = saved
        .iter()
        .flat_map(|s| s.pending.iter().flat_map(|(a, b, _)| [a.0, b.0]))
        .collect();
    let parts = crate::segments::in_parallel(store, |ids| {
        let mut tally = Tally::default();
        let mut live = Vec::new();
        for item in store.live_with_stats_in(ids) {
            let (c, s) = item?;
            tally.add(&c, s.as_ref(), opts);
            if wanted.contains(&c.id.0) {
                live.push(c.id.0);
            }
        }
        Ok((tally, live))
    })?;
    let mut tally = Tally::default();
    let mut live: HashSet<u64> = HashSet::new();
    for (part, ids) in &parts {
        tally.merge(part);
        live.extend(ids);
    }
    let mut report = tally.report(opts);
    if let Some(saved) = saved {
        let dismissed = store.dismissed_pairs()?;
        let pending =
            crate::dedup::state::still_pending(&saved, &dismissed, |c| live.contains(&c.0));
        report.duplicates_pending = Some(Figure::new(pending, report.customers, String::new()));
        report.duplicates_scan = Some(DuplicatesScan {
            scanned_at: saved.scanned_at.to_rfc3339(),
            threshold: saved.threshold,
            pairs_saved: saved.pending.len() as u64,
        });
    }
    Ok(report)
}

/// Saves the report's figures as this visit's, for the next comparison.
pub fn save(store: &Store, report: &Report) -> Result<()> {
    store.save_quality_figures(&report.figures(store.now()))
}

/// `count` of `of` as a percentage rounded to one decimal (0 when `of` is 0).
fn pct(count: u64, of: u64) -> f64 {
    if of == 0 {
        0.0
    } else {
        round1(count as f64 * 100.0 / of as f64)
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::{EvalContext, matches, parse};
    use chrono::{TimeZone, Utc};

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    fn opts() -> Options {
        Options::new(day(2024, 6, 30))
    }

    fn people() -> Vec<(Customer, Option<Stats>)> {
        let recent = Utc
            .with_ymd_and_hms(2024, 6, 1, 0, 0, 0)
            .single()
            .unwrap_or_default();
        let old = Utc
            .with_ymd_and_hms(2022, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default();
        let bought = |first: NaiveDate| Stats {
            orders: 1,
            order_days: 1,
            spend_minor: 100,
            first_order: Some(first),
            last_order: Some(first),
        };
        vec![
            // Complete and valid, tagged, recent.
            (
                Customer {
                    name: "Ann".into(),
                    emails: vec!["ann@example.com".into()],
                    phones: vec!["+8613800138000".into()],
                    tags: vec!["vip".into()],
                    updated_at: recent,
                    ..Customer::default()
                },
                None,
            ),
            // An invalid phone kept by the importer, a birth date ahead.
            (
                Customer {
                    name: "Bob".into(),
                    emails: vec!["bob@example.com".into()],
                    invalid: vec![("phone".into(), "12345".into())],
                    birth_date: Some(day(2030, 1, 1)),
                    updated_at: recent,
                    ..Customer::default()
                },
                Some(bought(day(2024, 1, 1))),
            ),
            // Stale, untagged, no orders, a malformed stored email.
            (
                Customer {
                    name: "Cy".into(),
                    emails: vec!["not-an-email".into()],
                    updated_at: old,
                    ..Customer::default()
                },
                None,
            ),
            // Ordered before signing up.
            (
                Customer {
                    name: "Di".into(),
                    created_at: Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).single(),
                    updated_at: recent,
                    ..Customer::default()
                },
                Some(bought(day(2024, 2, 1))),
            ),
        ]
    }

    fn report() -> Report {
        let data = people();
        compute(data.iter().map(|(c, s)| (c, s.as_ref())), &opts())
    }

    #[test]
    fn counts_completeness_validity_staleness_and_scores() {
        let r = report();
        assert_eq!(r.customers, 4);
        let email = r
            .field(Field::Email)
            .cloned()
            .unwrap_or_else(|| panic!("email"));
        assert_eq!((email.filled.count, email.invalid.count), (3, 1));
        assert_eq!(email.filled.pct, 75.0);
        assert_eq!(email.score, 50.0);
        assert_eq!(email.invalid.query, "invalid:email");
        let phone = r
            .field(Field::Phone)
            .cloned()
            .unwrap_or_else(|| panic!("phone"));
        assert_eq!((phone.filled.count, phone.invalid.count), (1, 1));
        assert_eq!(phone.score, 25.0);
        let birth = r
            .field(Field::BirthDate)
            .cloned()
            .unwrap_or_else(|| panic!("birth"));
        assert_eq!(
            (birth.filled.count, birth.invalid.count, birth.score),
            (1, 1, 0.0)
        );
        assert_eq!(r.field(Field::Name).map(|q| q.score), Some(100.0));
        assert_eq!(r.invalid.count, 3);
        assert_eq!(r.order_before_signup.count, 1);
        assert_eq!(r.stale.count, 1);
        assert_eq!(r.stale.query, "stale:365d");
        assert_eq!(r.no_tag_no_order.count, 1);
        assert_eq!(r.duplicates_pending, None);
        // In use: name 100, email 50, phone 25, birth_date 0, created_at 25.
        assert_eq!(r.score, 40.0);
    }

    /// Every figure's query finds exactly the customers the figure counts.
    #[test]
    fn every_figure_drills_down_to_its_customers() {
        let data = people();
        let r = report();
        let ctx = EvalContext::new(opts().as_of);
        let count = |q: &str| {
            let q = parse(q).unwrap_or_else(|e| panic!("{q}: {e}"));
            data.iter()
                .filter(|(c, s)| {
                    let hay = crate::model::searchable::haystack(c);
                    matches(&q, c, s.as_ref(), &hay, &ctx)
                })
                .count() as u64
        };
        let mut figures = vec![
            &r.invalid,
            &r.order_before_signup,
            &r.stale,
            &r.no_tag_no_order,
        ];
        for q in &r.fields {
            figures.extend([&q.filled, &q.missing, &q.invalid]);
        }
        for f in figures {
            assert_eq!(count(&f.query), f.count, "{}", f.query);
        }
    }

    #[test]
    fn tallies_merge_like_one_pass_and_changes_compare_saved_figures() {
        let data = people();
        let mut a = Tally::default();
        let mut b = Tally::default();
        for (i, (c, s)) in data.iter().enumerate() {
            if i % 2 == 0 { &mut a } else { &mut b }.add(c, s.as_ref(), &opts());
        }
        a.merge(&b);
        assert_eq!(a.report(&opts()), report());

        let then = report().figures(Utc::now());
        let now = compute(data.iter().take(2).map(|(c, s)| (c, s.as_ref())), &opts());
        let d = now.compare(&then);
        assert_eq!(d.customers, -2);
        assert_eq!(d.order_before_signup, -1);
        assert_eq!(d.stale, Some(-1));
        let email = d.fields.iter().find(|f| f.field == Field::Email);
        assert_eq!(email.map(|f| (f.filled, f.invalid)), Some((-1, -1)));
        let other = compute(
            data.iter().map(|(c, s)| (c, s.as_ref())),
            &Options {
                stale_days: 30,
                ..opts()
            },
        );
        assert_eq!(other.compare(&then).stale, None);
        assert_eq!(compute(std::iter::empty(), &opts()).score, 0.0);
    }
}
