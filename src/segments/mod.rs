//! Segments (DESIGN.md §5): RFM scores and named segments, lifecycle stages,
//! value tiers, breakdowns by region and city, saved segments, and the
//! movement of customers between segments since a dated snapshot.
//!
//! Each customer's order figures ([`Stats`]) are kept current by the store
//! on every order change; the percentile breakpoints are computed once per
//! [`compute`] over the whole population, and every label is a pure function
//! of a customer's figures and those breakpoints ([`figures`]). So a change
//! batch costs one recomputation of breakpoints, never one per customer.

pub mod figures;
pub mod predict;
pub mod rfm;
pub mod summary;

use chrono::NaiveDate;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

pub use figures::{Breakpoints, Derived, Figures};
pub use rfm::{Lifecycle, RfmSegment, Settings, ValueTier};
pub use summary::{Row, Tally};

use crate::model::{Customer, Stats};
use crate::search::{EvalContext, Figure, Query, SegmentKind, SegmentLookup, parse, rules};
use crate::store::{Result, Store, stats_of};

/// The figures of every live customer as of `as_of`. Orders dated after
/// `as_of` do not count (so an earlier as-of date reproduces that day's
/// figures); only customers with such orders have their order book read.
pub fn compute(store: &Store, as_of: NaiveDate, settings: Settings) -> Result<Figures> {
    let results = in_parallel(store, |ids| stats_as_of(store, ids, as_of))?;
    let mut customers = 0u64;
    let mut stats: Vec<(u64, Stats)> = Vec::new();
    for (n, part) in results {
        customers += n;
        stats.extend(part);
    }
    Ok(Figures::compute(as_of, settings, stats, customers))
}

/// Runs `f` on parts of the customer id range, one per core (reading a
/// million records is most of the cost of a summary), and returns the
/// results in id order.
pub(crate) fn in_parallel<T: Send>(
    store: &Store,
    f: impl Fn(std::ops::Range<u64>) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    let bound = store.customer_id_bound()?;
    let parts = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4) as u64;
    let step = bound.div_ceil(parts).max(1);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..parts)
            .map(|i| {
                let ids = (i * step).min(bound)..((i + 1) * step).min(bound);
                scope.spawn(move || f(ids))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// The live customers in `ids` counted, and the order figures as of
/// `as_of` of those with orders by then.
fn stats_as_of(
    store: &Store,
    ids: std::ops::Range<u64>,
    as_of: NaiveDate,
) -> Result<(u64, Vec<(u64, Stats)>)> {
    let mut customers = 0u64;
    let mut stats = Vec::new();
    for item in store.live_with_stats_in(ids) {
        let (c, s) = item?;
        customers += 1;
        let Some(mut s) = s else { continue };
        if s.last_order.is_some_and(|d| d > as_of) {
            let mut orders = store.orders_of(c.id)?;
            orders.retain(|o| o.date <= as_of);
            s = stats_of(&orders);
        }
        if s.orders > 0 {
            stats.push((c.id.0, s));
        }
    }
    Ok((customers, stats))
}

/// What `rfm:`, `lifecycle:`, `value:` and `segment:` consult: one
/// computation of the figures and the saved segments' queries.
pub struct Lookup {
    pub figures: Figures,
    saved: HashMap<String, Query>,
    /// The fitted customer-value model, if any, and the prediction horizon.
    pub model: Option<crate::store::ClvModel>,
    pub horizon: predict::Horizon,
}

impl Lookup {
    /// Computes the figures as of `as_of` and reads the saved segments (a
    /// saved query that no longer parses matches nothing, and is logged).
    pub fn load(store: &Store, as_of: NaiveDate, settings: Settings) -> Result<Lookup> {
        let figures = compute(store, as_of, settings)?;
        Lookup::with_figures(store, figures)
    }

    /// A lookup over figures already computed.
    pub fn with_figures(store: &Store, figures: Figures) -> Result<Lookup> {
        let mut saved = HashMap::new();
        for s in store.saved_segments()? {
            match parse(&s.query) {
                Ok(q) => {
                    saved.insert(fold(&s.name), q);
                }
                Err(e) => tracing::warn!("saved segment {} does not parse: {e}", s.name),
            }
        }
        Ok(Lookup {
            figures,
            saved,
            model: store.clv_model()?,
            horizon: predict::Horizon::default(),
        })
    }

    /// The predictions of customer `id` (`None` without a model or orders).
    pub fn prediction(&self, id: crate::model::CustomerId) -> Option<predict::Prediction> {
        let model = self.model.as_ref()?;
        let stats = self.figures.stats(id)?;
        predict::predict(model, stats, self.figures.as_of, self.horizon)
    }

    /// A lookup for evaluating `q`: the figures are computed only when `q`
    /// has segment terms (they take a scan of every customer).
    pub fn for_query(
        store: &Store,
        q: &Query,
        as_of: NaiveDate,
        settings: Settings,
    ) -> Result<Lookup> {
        if needs_figures(q) {
            Lookup::load(store, as_of, settings)
        } else {
            Ok(Lookup {
                figures: Figures::compute(as_of, settings, Vec::new(), 0),
                saved: HashMap::new(),
                model: None,
                horizon: predict::Horizon::default(),
            })
        }
    }

    /// An evaluation context for `figures.as_of`.
    pub fn context(&self) -> EvalContext<'_> {
        EvalContext {
            as_of: self.figures.as_of,
            segments: self,
        }
    }
}

/// Saved segment names compare ignoring case.
fn fold(name: &str) -> String {
    name.to_lowercase()
}

impl SegmentLookup for Lookup {
    fn label(&self, c: &Customer, kind: SegmentKind) -> Option<String> {
        let d = self.figures.get(c.id);
        match kind {
            SegmentKind::Rfm => d.rfm.map(|s| s.slug().to_owned()),
            SegmentKind::Lifecycle => Some(d.lifecycle.slug().to_owned()),
            SegmentKind::Value => Some(d.value.slug().to_owned()),
        }
    }

    fn saved(&self, name: &str) -> Option<&Query> {
        self.saved.get(&fold(name))
    }

    fn predicted(&self, c: &Customer, f: Figure) -> Option<f64> {
        let p = self.prediction(c.id)?;
        match f {
            Figure::PAlive => Some(p.p_alive),
            Figure::Clv => p.clv,
            Figure::ExpectedPurchases => Some(p.expected_purchases),
            _ => None,
        }
    }
}

/// Whether answering `q` needs segment figures (`rfm:`, `lifecycle:`,
/// `value:` or `segment:` terms).
pub fn needs_figures(q: &Query) -> bool {
    match q {
        Query::Segment { .. } | Query::Saved(_) => true,
        Query::Compare { figure, .. } => figure.is_predicted(),
        Query::And(parts) | Query::Or(parts) => parts.iter().any(needs_figures),
        Query::Not(inner) => needs_figures(inner),
        _ => false,
    }
}

/// Whether `q` uses the saved segment `name` (directly).
pub fn refers_to(q: &Query, name: &str) -> bool {
    match q {
        Query::Saved(n) => fold(n) == fold(name),
        Query::And(parts) | Query::Or(parts) => parts.iter().any(|p| refers_to(p, name)),
        Query::Not(inner) => refers_to(inner, name),
        _ => false,
    }
}

/// The segmentations a summary can be by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum By {
    Rfm,
    Lifecycle,
    Value,
    Region,
    City,
    Saved,
    /// Churn warning: new and active customers whose P(alive) under the
    /// fitted model is below the setting `churn_p_alive`.
    Churn,
}

impl By {
    pub const ALL: [By; 7] = [
        By::Rfm,
        By::Lifecycle,
        By::Value,
        By::Region,
        By::City,
        By::Saved,
        By::Churn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            By::Rfm => "rfm",
            By::Lifecycle => "lifecycle",
            By::Value => "value",
            By::Region => "region",
            By::City => "city",
            By::Saved => "saved",
            By::Churn => "churn",
        }
    }

    /// Whether snapshots record this segmentation (movement is shown for it).
    pub fn code_slot(self) -> Option<usize> {
        match self {
            By::Rfm => Some(0),
            By::Lifecycle => Some(1),
            By::Value => Some(2),
            _ => None,
        }
    }
}

/// The rows of the churn-warning segmentation.
pub const CHURN_ROWS: [&str; 4] = [
    "churn warning",
    "active, likely alive",
    "not active",
    "no orders",
];

/// The churn-warning row of a customer: among the new and active ones,
/// those whose P(alive) is below the threshold. Without a model every
/// active customer is "likely alive".
pub fn churn_row(d: &Derived, p_alive: Option<f64>, threshold: f64) -> &'static str {
    match d.lifecycle {
        Lifecycle::Prospect => CHURN_ROWS[3],
        Lifecycle::New | Lifecycle::Active if p_alive.is_some_and(|p| p < threshold) => {
            CHURN_ROWS[0]
        }
        Lifecycle::New | Lifecycle::Active => CHURN_ROWS[1],
        Lifecycle::AtRisk | Lifecycle::Churned => CHURN_ROWS[2],
    }
}

/// The row name of customers without orders in the RFM summary.
pub const NO_ORDERS: &str = "No Orders";
/// The row name of customers without a region or city.
pub const UNKNOWN_PLACE: &str = "(unknown)";

/// A segmentation's summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub by: By,
    pub as_of: NaiveDate,
    /// Live customers in all.
    pub customers: u64,
    /// Their total revenue (major units).
    pub revenue: f64,
    pub rows: Vec<Row>,
    /// RFM only: customers by R score (rows, 5 first) and F score (columns, 1 first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grid: Option<[[u64; 5]; 5]>,
    /// Customers by days since their last order, in [`RECENCY_BUCKETS`].
    pub recency_histogram: Vec<(String, u64)>,
}

/// Upper bounds (inclusive, days) of the recency histogram's buckets; the
/// last bucket is everything older.
pub const RECENCY_BUCKETS: [i64; 7] = [30, 60, 90, 180, 365, 730, i64::MAX];

fn bucket_names() -> Vec<String> {
    let mut lo = 0;
    RECENCY_BUCKETS
        .iter()
        .map(|&hi| {
            let name = if hi == i64::MAX {
                format!(">{}d", lo - 1)
            } else {
                format!("{lo}-{hi}d")
            };
            lo = hi + 1;
            name
        })
        .collect()
}

/// The label of `d` in one of the figure-based segmentations.
pub fn label_of(by: By, d: &Derived) -> &'static str {
    match by {
        By::Rfm => d.rfm.map_or(NO_ORDERS, RfmSegment::name),
        By::Lifecycle => d.lifecycle.slug(),
        By::Value => d.value.slug(),
        By::Region | By::City | By::Saved | By::Churn => "",
    }
}

/// The fixed rows of a figure-based segmentation, in display order.
fn fixed_rows(by: By) -> Vec<&'static str> {
    match by {
        By::Rfm => RfmSegment::ALL
            .iter()
            .map(|s| s.name())
            .chain([NO_ORDERS])
            .collect(),
        By::Lifecycle => Lifecycle::ALL.iter().map(|l| l.slug()).collect(),
        By::Value => ValueTier::ALL.iter().map(|v| v.slug()).collect(),
        By::Churn => CHURN_ROWS.to_vec(),
        By::Region | By::City | By::Saved => Vec::new(),
    }
}

/// Summarises `figures` by `by`. Region, city and saved segmentations read
/// the customer records (and evaluate each saved query once).
pub fn summarize(store: &Store, figures: &Figures, by: By) -> Result<Summary> {
    let mut revenue_minor: i128 = 0;
    let mut grid = [[0u64; 5]; 5];
    let mut hist = vec![0u64; RECENCY_BUCKETS.len()];
    for (_, d) in figures.iter() {
        revenue_minor += i128::from(d.monetary_minor);
        if let Some([r, f, _]) = d.scores {
            grid[usize::from(5 - r)][usize::from(f - 1)] += 1;
        }
        if let Some(rec) = d.recency_days {
            let at = RECENCY_BUCKETS
                .iter()
                .position(|hi| rec <= *hi)
                .unwrap_or(RECENCY_BUCKETS.len() - 1);
            hist[at] += 1;
        }
    }
    let mut tally = Tally::with_rows(fixed_rows(by));
    match by {
        By::Rfm | By::Lifecycle | By::Value => {
            for (_, d) in figures.iter() {
                tally.add(label_of(by, &d), &d);
            }
            let prospects = figures.customers() - figures.with_orders() as u64;
            for _ in 0..prospects {
                tally.add(label_of(by, &Derived::NONE), &Derived::NONE);
            }
        }
        By::Region | By::City => {
            let parts = in_parallel(store, |ids| {
                let mut part = Tally::default();
                for item in store.live_with_stats_in(ids) {
                    let (c, _) = item?;
                    let place = if by == By::Region { &c.region } else { &c.city };
                    let name = place.as_deref().filter(|p| !p.is_empty());
                    part.add(name.unwrap_or(UNKNOWN_PLACE), &figures.get(c.id));
                }
                Ok(part)
            })?;
            for part in parts {
                tally.absorb(part);
            }
        }
        By::Churn => {
            let model = store.clv_model()?;
            let threshold = figures.settings.churn_p_alive;
            for (id, d) in figures.iter() {
                let p = model.as_ref().and_then(|m| {
                    let s = figures.stats(id)?;
                    predict::predict(m, s, figures.as_of, predict::Horizon::default())
                });
                tally.add(churn_row(&d, p.map(|p| p.p_alive), threshold), &d);
            }
            let prospects = figures.customers() - figures.with_orders() as u64;
            for _ in 0..prospects {
                tally.add(CHURN_ROWS[3], &Derived::NONE);
            }
        }
        By::Saved => {
            let lookup = Lookup::with_figures(store, figures.clone())?;
            let ctx = lookup.context();
            for s in store.saved_segments()? {
                tally.add_empty(&s.name);
                let Some(q) = lookup.saved(&s.name) else {
                    continue;
                };
                for id in rules::members(store, q, &ctx)? {
                    tally.add(&s.name, &figures.get(id));
                }
            }
        }
    }
    let mut rows = tally.rows(figures.customers(), revenue_minor);
    if matches!(by, By::Region | By::City) {
        // Biggest places first; the unknown one last.
        rows.sort_by(|a, b| {
            (a.segment == UNKNOWN_PLACE)
                .cmp(&(b.segment == UNKNOWN_PLACE))
                .then(b.customers.cmp(&a.customers))
                .then(a.segment.cmp(&b.segment))
        });
    }
    Ok(Summary {
        by,
        as_of: figures.as_of,
        customers: figures.customers(),
        revenue: revenue_minor as f64 / 100.0,
        rows,
        grid: (by == By::Rfm).then_some(grid),
        recency_histogram: bucket_names().into_iter().zip(hist).collect(),
    })
}

/// Snapshot codes of a customer: RFM segment (0 = no orders, else 1 + its
/// index in [`RfmSegment::ALL`]), lifecycle and value tier (their index in
/// `ALL`).
pub fn codes_of(d: &Derived) -> [u8; 3] {
    let rfm = d
        .rfm
        .and_then(|s| RfmSegment::ALL.iter().position(|x| *x == s))
        .map_or(0, |i| i as u8 + 1);
    let life = Lifecycle::ALL
        .iter()
        .position(|x| *x == d.lifecycle)
        .unwrap_or(0) as u8;
    let value = ValueTier::ALL
        .iter()
        .position(|x| *x == d.value)
        .unwrap_or(0) as u8;
    [rfm, life, value]
}

/// The name of a snapshot code in segmentation `by`.
pub fn code_name(by: By, code: u8) -> &'static str {
    let i = usize::from(code);
    match by {
        By::Rfm => match i {
            0 => NO_ORDERS,
            n => RfmSegment::ALL.get(n - 1).map_or("?", |s| s.name()),
        },
        By::Lifecycle => Lifecycle::ALL.get(i).map_or("?", |l| l.slug()),
        By::Value => ValueTier::ALL.get(i).map_or("?", |v| v.slug()),
        By::Region | By::City | By::Saved | By::Churn => "?",
    }
}

/// Every live customer's snapshot codes, by id (customers without orders
/// included).
pub fn snapshot_entries(store: &Store, figures: &Figures) -> Result<Vec<(u64, [u8; 3])>> {
    let mut out = Vec::new();
    for c in store.customers() {
        let c = c?;
        out.push((c.id.0, codes_of(&figures.get(c.id))));
    }
    Ok(out)
}

/// Stores today's (the as-of date's) segments of every live customer.
/// Returns how many customers it recorded.
pub fn take_snapshot(store: &Store, figures: &Figures) -> Result<usize> {
    let entries = snapshot_entries(store, figures)?;
    store.save_snapshot(figures.as_of, &entries)?;
    Ok(entries.len())
}

/// Customers who were in one segment at the snapshot and are in another
/// (or the same) now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Move {
    pub from: String,
    pub to: String,
    pub customers: u64,
}

/// The row name of customers absent from the snapshot (created since).
pub const NOT_IN_SNAPSHOT: &str = "(new since)";
/// The row name of customers in the snapshot who are gone now (trashed,
/// merged or purged).
pub const GONE: &str = "(gone)";

/// How customers moved between the segments of `by` from `snapshot` to
/// `now` (both sorted by id), biggest moves first; customers who stayed
/// are listed too (from == to).
pub fn movement(by: By, snapshot: &[(u64, [u8; 3])], now: &[(u64, [u8; 3])]) -> Vec<Move> {
    let Some(slot) = by.code_slot() else {
        return Vec::new();
    };
    let mut counts: BTreeMap<(&'static str, &'static str), u64> = BTreeMap::new();
    let (mut i, mut j) = (0, 0);
    loop {
        let key = match (snapshot.get(i), now.get(j)) {
            (None, None) => break,
            (Some(a), Some(b)) if a.0 == b.0 => {
                i += 1;
                j += 1;
                (code_name(by, a.1[slot]), code_name(by, b.1[slot]))
            }
            (Some(a), Some(b)) if a.0 > b.0 => {
                j += 1;
                (NOT_IN_SNAPSHOT, code_name(by, b.1[slot]))
            }
            (None, Some(b)) => {
                j += 1;
                (NOT_IN_SNAPSHOT, code_name(by, b.1[slot]))
            }
            (Some(a), _) => {
                i += 1;
                (code_name(by, a.1[slot]), GONE)
            }
        };
        *counts.entry(key).or_default() += 1;
    }
    let mut out: Vec<Move> = counts
        .into_iter()
        .map(|((from, to), customers)| Move {
            from: from.to_owned(),
            to: to.to_owned(),
            customers,
        })
        .collect();
    out.sort_by(|a, b| {
        (a.from == a.to)
            .cmp(&(b.from == b.to))
            .then(b.customers.cmp(&a.customers))
            .then(a.from.cmp(&b.from))
            .then(a.to.cmp(&b.to))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Customer, Order};
    use crate::store::test_store;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap_or_default()
    }

    /// An as-of date before some orders: those orders do not count, and
    /// the figures are those of that day (worked by hand).
    #[test]
    fn as_of_before_an_order_ignores_it() {
        let (_dir, store) = test_store();
        let id = store
            .create_customer(&Customer {
                name: "Ann".into(),
                ..Customer::default()
            })
            .unwrap_or_else(|e| panic!("{e}"));
        let mut unit = store.begin().unwrap_or_else(|e| panic!("{e}"));
        for (n, (date, cents)) in [
            ("2024-01-01", 1000),
            ("2024-01-01", 500),
            ("2024-07-01", 9000),
        ]
        .into_iter()
        .enumerate()
        {
            let o = Order {
                order_id: format!("O{n}"),
                customer: id,
                date: day(date),
                amount_minor: cents,
                ..Order::default()
            };
            unit.save_order(&o).unwrap_or_else(|e| panic!("{e}"));
        }
        unit.commit().unwrap_or_else(|e| panic!("{e}"));

        let before = compute(&store, day("2024-03-01"), Settings::default())
            .unwrap_or_else(|e| panic!("{e}"));
        let d = before.get(id);
        assert_eq!(d.recency_days, Some(60));
        assert_eq!(d.frequency, 1, "two orders on one day");
        assert_eq!(d.monetary_minor, 1500, "the July order is not counted yet");
        assert_eq!(d.orders, 2);
        assert_eq!(d.lifecycle, Lifecycle::Active);

        let after = compute(&store, day("2024-07-31"), Settings::default())
            .unwrap_or_else(|e| panic!("{e}"));
        let d = after.get(id);
        assert_eq!(
            (d.recency_days, d.frequency, d.monetary_minor),
            (Some(30), 2, 10_500)
        );

        // Before the first order the customer has none.
        let early = compute(&store, day("2023-12-31"), Settings::default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(early.get(id), Derived::NONE);
        assert_eq!(early.customers(), 1);
    }

    #[test]
    fn rfm_slugs_are_the_query_names() {
        let slugs: Vec<&str> = RfmSegment::ALL.iter().map(|s| s.slug()).collect();
        assert_eq!(slugs, SegmentKind::Rfm.names());
        let life: Vec<&str> = Lifecycle::ALL.iter().map(|s| s.slug()).collect();
        let mut want = SegmentKind::Lifecycle.names().to_vec();
        want.sort_unstable();
        let mut got = life.clone();
        got.sort_unstable();
        assert_eq!(got, want);
        let value: Vec<&str> = ValueTier::ALL.iter().map(|s| s.slug()).collect();
        assert_eq!(value, SegmentKind::Value.names());
    }

    #[test]
    fn movement_counts_stays_moves_new_and_gone() {
        let then = [(1, [1, 0, 0]), (2, [8, 0, 0]), (3, [1, 0, 0])];
        let now = [(1, [1, 0, 0]), (3, [8, 0, 0]), (4, [0, 0, 0])];
        let moves = movement(By::Rfm, &then, &now);
        let find = |from: &str, to: &str| {
            moves
                .iter()
                .find(|m| m.from == from && m.to == to)
                .map(|m| m.customers)
        };
        assert_eq!(find("Champions", "At Risk"), Some(1));
        assert_eq!(find("At Risk", GONE), Some(1));
        assert_eq!(find(NOT_IN_SNAPSHOT, NO_ORDERS), Some(1));
        assert_eq!(find("Champions", "Champions"), Some(1));
        assert_eq!(
            moves.last().map(|m| m.from == m.to),
            Some(true),
            "stays come last"
        );
    }
}
