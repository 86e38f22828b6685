//! Summaries of a segmentation: per segment, how many customers, their
//! share, revenue and revenue share, average order value and average
//! recency (DESIGN.md §4 `segments` JSON).

use serde::Serialize;
use std::collections::BTreeMap;

use super::figures::Derived;

/// One row of a summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub segment: String,
    pub customers: u64,
    /// Of all live customers (0..1).
    pub share: f64,
    /// Total spend of the segment's customers, in major units.
    pub revenue: f64,
    /// Of all customers' revenue (0..1; 0 when there is none).
    pub revenue_share: f64,
    /// Revenue / number of orders; `None` without orders.
    pub avg_order_value: Option<f64>,
    /// Mean days since the last order over the segment's customers with
    /// orders; `None` when none has an order.
    pub avg_recency_days: Option<f64>,
    /// Number of orders.
    pub orders: u64,
}

/// Running sums of one segment.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Acc {
    customers: u64,
    revenue_minor: i128,
    orders: u64,
    recency_sum: i128,
    recency_n: u64,
}

impl Acc {
    fn add(&mut self, d: &Derived) {
        self.customers += 1;
        self.revenue_minor += i128::from(d.monetary_minor);
        self.orders += u64::from(d.orders);
        if let Some(r) = d.recency_days {
            self.recency_sum += i128::from(r);
            self.recency_n += 1;
        }
    }
}

/// Tallies customers into named segments, keeping a fixed row order:
/// the names given up front first (even when empty), then others as met,
/// sorted by name.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    order: Vec<String>,
    accs: BTreeMap<String, Acc>,
}

impl Tally {
    /// A tally whose rows start with `names`, in that order.
    pub fn with_rows<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Tally {
        let mut t = Tally::default();
        for n in names {
            let n = n.into();
            t.accs.entry(n.clone()).or_default();
            t.order.push(n);
        }
        t
    }

    /// Counts one customer in `segment`.
    pub fn add(&mut self, segment: &str, d: &Derived) {
        match self.accs.get_mut(segment) {
            Some(acc) => acc.add(d),
            None => {
                let mut acc = Acc::default();
                acc.add(d);
                self.accs.insert(segment.to_owned(), acc);
            }
        }
    }

    /// Adds the counts of another tally (its rows not yet here come after).
    pub fn absorb(&mut self, other: Tally) {
        for (name, acc) in other.accs {
            if !self.accs.contains_key(&name) && other.order.contains(&name) {
                self.order.push(name.clone());
            }
            let mine = self.accs.entry(name).or_default();
            mine.customers += acc.customers;
            mine.revenue_minor += acc.revenue_minor;
            mine.orders += acc.orders;
            mine.recency_sum += acc.recency_sum;
            mine.recency_n += acc.recency_n;
        }
    }

    /// Makes sure `segment` has a row, even if nobody is counted in it.
    pub fn add_empty(&mut self, segment: &str) {
        if !self.accs.contains_key(segment) {
            self.accs.insert(segment.to_owned(), Acc::default());
            self.order.push(segment.to_owned());
        }
    }

    /// The rows, with shares of `customers` and of `revenue_minor` (the
    /// whole population's, which need not be the sum of the rows: a
    /// customer may be in several saved segments or in none).
    pub fn rows(&self, customers: u64, revenue_minor: i128) -> Vec<Row> {
        let fixed = self.order.iter();
        let rest = self.accs.keys().filter(|k| !self.order.contains(k));
        fixed
            .chain(rest)
            .filter_map(|name| {
                let a = self.accs.get(name)?;
                Some(row(name, a, customers, revenue_minor))
            })
            .collect()
    }
}

fn ratio(part: f64, whole: f64) -> f64 {
    if whole == 0.0 { 0.0 } else { part / whole }
}

fn row(name: &str, a: &Acc, customers: u64, revenue_minor: i128) -> Row {
    let revenue = a.revenue_minor as f64 / 100.0;
    Row {
        segment: name.to_owned(),
        customers: a.customers,
        share: ratio(a.customers as f64, customers as f64),
        revenue,
        revenue_share: ratio(a.revenue_minor as f64, revenue_minor as f64),
        avg_order_value: (a.orders > 0).then(|| revenue / a.orders as f64),
        avg_recency_days: (a.recency_n > 0).then(|| a.recency_sum as f64 / a.recency_n as f64),
        orders: a.orders,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(recency: Option<i64>, spend: i64, orders: u32) -> Derived {
        Derived {
            recency_days: recency,
            monetary_minor: spend,
            orders,
            ..Derived::NONE
        }
    }

    #[test]
    fn rows_keep_their_order_and_compute_shares() {
        let mut t = Tally::with_rows(["b", "a"]);
        t.add("a", &d(Some(10), 1000, 2));
        t.add("a", &d(Some(20), 3000, 2));
        t.add("zz", &d(None, 0, 0));
        let rows = t.rows(4, 4000);
        let names: Vec<&str> = rows.iter().map(|r| r.segment.as_str()).collect();
        assert_eq!(names, ["b", "a", "zz"]);
        assert_eq!(rows[0].customers, 0);
        assert_eq!(rows[0].avg_order_value, None);
        let a = &rows[1];
        assert_eq!(a.customers, 2);
        assert_eq!(a.share, 0.5);
        assert_eq!(a.revenue, 40.0);
        assert_eq!(a.revenue_share, 1.0);
        assert_eq!(a.avg_order_value, Some(10.0));
        assert_eq!(a.avg_recency_days, Some(15.0));
        assert_eq!(rows[2].avg_recency_days, None);
        assert_eq!(rows[2].revenue_share, 0.0);
    }
}
