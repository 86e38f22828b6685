//! The population's figures as of a date: breakpoints computed once over
//! every customer with orders, then each customer's scores and labels
//! derived from their own order figures and those breakpoints.

use chrono::NaiveDate;
use serde::Serialize;

use super::rfm::{
    Lifecycle, RfmSegment, Settings, ValueTier, percentile, quintile_breaks, score_down, score_up,
};
use crate::model::{CustomerId, Stats};

/// The percentile breakpoints of one computation (monetary in minor units).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Breakpoints {
    pub recency_days: [f64; 4],
    pub frequency: [f64; 4],
    pub monetary_minor: [f64; 4],
    /// Spend above which a customer is in the `high` tier (minor units).
    pub high_minor: f64,
    /// Spend above which a customer is at least `mid` (minor units).
    pub mid_minor: f64,
}

/// One customer's derived figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Derived {
    /// Days from the last order to the as-of date; `None` without orders.
    pub recency_days: Option<i64>,
    /// Distinct days with an order.
    pub frequency: u32,
    /// Total spend in minor units.
    pub monetary_minor: i64,
    /// Number of orders.
    pub orders: u32,
    /// R, F and M scores 1..=5; `None` without orders.
    pub scores: Option<[u8; 3]>,
    pub rfm: Option<RfmSegment>,
    pub lifecycle: Lifecycle,
    pub value: ValueTier,
}

impl Derived {
    /// The figures of a customer without orders.
    pub const NONE: Derived = Derived {
        recency_days: None,
        frequency: 0,
        monetary_minor: 0,
        orders: 0,
        scores: None,
        rfm: None,
        lifecycle: Lifecycle::Prospect,
        value: ValueTier::None,
    };

    /// Total spend in major units.
    pub fn monetary(&self) -> f64 {
        self.monetary_minor as f64 / 100.0
    }
}

/// The figures of every live customer with orders, as of one date.
#[derive(Debug, Clone)]
pub struct Figures {
    pub as_of: NaiveDate,
    pub settings: Settings,
    /// `None` when no customer has an order.
    pub breakpoints: Option<Breakpoints>,
    /// Order figures of the customers with orders by the as-of date, by id.
    stats: Vec<(u64, Stats)>,
    /// Live customers counted, with or without orders.
    customers: u64,
}

impl Figures {
    /// Computes the breakpoints over `stats` (the live customers with
    /// orders by `as_of`, each with its figures as of that date) out of
    /// `customers` live customers in all.
    pub fn compute(
        as_of: NaiveDate,
        settings: Settings,
        mut stats: Vec<(u64, Stats)>,
        customers: u64,
    ) -> Figures {
        stats.retain(|(_, s)| s.orders > 0 && s.last_order.is_some());
        stats.sort_unstable_by_key(|(id, _)| *id);
        let sorted = |f: &dyn Fn(&Stats) -> f64| {
            let mut v: Vec<f64> = stats.iter().map(|(_, s)| f(s)).collect();
            v.sort_unstable_by(f64::total_cmp);
            v
        };
        let breakpoints = (!stats.is_empty()).then(|| {
            let recency = sorted(&|s| recency_of(s, as_of).unwrap_or(0) as f64);
            let frequency = sorted(&|s| f64::from(s.order_days));
            let monetary = sorted(&|s| s.spend_minor as f64);
            let high_q = 1.0 - settings.high_share;
            let mid_q = high_q - settings.mid_share;
            Breakpoints {
                recency_days: quintile_breaks(&recency),
                frequency: quintile_breaks(&frequency),
                monetary_minor: quintile_breaks(&monetary),
                high_minor: percentile(&monetary, high_q).unwrap_or(0.0),
                mid_minor: percentile(&monetary, mid_q).unwrap_or(0.0),
            }
        });
        Figures {
            as_of,
            settings,
            breakpoints,
            customers: customers.max(stats.len() as u64),
            stats,
        }
    }

    /// Live customers counted, with or without orders.
    pub fn customers(&self) -> u64 {
        self.customers
    }

    /// Live customers with orders by the as-of date.
    pub fn with_orders(&self) -> usize {
        self.stats.len()
    }

    /// The order figures of `id` as of the as-of date (`None`: no orders).
    pub fn stats(&self, id: CustomerId) -> Option<&Stats> {
        self.stats
            .binary_search_by_key(&id.0, |(i, _)| *i)
            .ok()
            .map(|at| &self.stats[at].1)
    }

    /// The derived figures of `id` (those of a customer without orders
    /// when it has none, or is not counted here).
    pub fn get(&self, id: CustomerId) -> Derived {
        match (self.stats(id), &self.breakpoints) {
            (Some(s), Some(b)) => self.derive(s, b),
            _ => Derived::NONE,
        }
    }

    /// Every customer with orders and its derived figures, by id.
    pub fn iter(&self) -> impl Iterator<Item = (CustomerId, Derived)> + '_ {
        self.stats.iter().filter_map(|(id, s)| {
            let b = self.breakpoints.as_ref()?;
            Some((CustomerId(*id), self.derive(s, b)))
        })
    }

    fn derive(&self, s: &Stats, b: &Breakpoints) -> Derived {
        let recency = recency_of(s, self.as_of);
        let since_first = s.first_order.map(|d| (self.as_of - d).num_days());
        let r = score_down(recency.unwrap_or(0) as f64, &b.recency_days);
        let f = score_up(f64::from(s.order_days), &b.frequency);
        let m = score_up(s.spend_minor as f64, &b.monetary_minor);
        Derived {
            recency_days: recency,
            frequency: s.order_days,
            monetary_minor: s.spend_minor,
            orders: s.orders,
            scores: Some([r, f, m]),
            rfm: Some(RfmSegment::of(r, f)),
            lifecycle: Lifecycle::of(since_first, recency, &self.settings),
            value: ValueTier::of(Some(s.spend_minor as f64), b.high_minor, b.mid_minor),
        }
    }
}

/// Days from the last order to `as_of`.
fn recency_of(s: &Stats, as_of: NaiveDate) -> Option<i64> {
    s.last_order.map(|d| (as_of - d).num_days())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap_or_default()
    }

    /// Stats of one customer: (order dates, spend in major units each).
    fn stats(orders: &[(&str, i64)]) -> Stats {
        let mut dates: Vec<NaiveDate> = orders.iter().map(|(d, _)| day(d)).collect();
        dates.sort();
        let mut distinct = dates.clone();
        distinct.dedup();
        Stats {
            orders: orders.len() as u32,
            order_days: distinct.len() as u32,
            spend_minor: orders.iter().map(|(_, a)| a * 100).sum(),
            first_order: dates.first().copied(),
            last_order: dates.last().copied(),
        }
    }

    /// Five customers worked by hand, as of 2024-12-31:
    ///
    /// | id | orders | recency | freq | spend |
    /// |---|---|---|---|---|
    /// | 1 | 2024-12-30 | 1 | 1 | 50 |
    /// | 2 | 2024-12-01, 2024-12-01 (same day) | 30 | 1 | 300 |
    /// | 3 | 2024-06-01, 2024-09-01, 2024-12-21 | 10 | 3 | 200 |
    /// | 4 | 2023-01-01 | 730 | 1 | 100 |
    /// | 5 | 2024-01-01, 2024-03-01 | 305 | 2 | 100 |
    ///
    /// Recency sorted 1 10 30 305 730: breaks at 20/40/60/80% are
    /// 8.2, 22, 140, 390 (h = 0.8, 1.6, 2.4, 3.2).
    /// Frequency sorted 1 1 1 2 3: breaks 1, 1, 1.4, 2.2.
    /// Spend sorted 50 100 100 200 300: breaks 90, 100, 140, 220.
    #[test]
    fn a_small_population_by_hand() {
        let pop = vec![
            (1, stats(&[("2024-12-30", 50)])),
            (2, stats(&[("2024-12-01", 100), ("2024-12-01", 200)])),
            (
                3,
                stats(&[("2024-06-01", 50), ("2024-09-01", 50), ("2024-12-21", 100)]),
            ),
            (4, stats(&[("2023-01-01", 100)])),
            (5, stats(&[("2024-01-01", 40), ("2024-03-01", 60)])),
        ];
        let f = Figures::compute(day("2024-12-31"), Settings::default(), pop, 6);
        let b = f.breakpoints.unwrap_or_else(|| panic!("no breakpoints"));
        let close = |a: [f64; 4], b: [f64; 4]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9);
        assert!(close(b.recency_days, [8.2, 22.0, 140.0, 390.0]), "{b:?}");
        assert!(close(b.frequency, [1.0, 1.0, 1.4, 2.2]), "{b:?}");
        assert!(
            close(b.monetary_minor, [9000.0, 10000.0, 14000.0, 22000.0]),
            "{b:?}"
        );
        // id: R F M, segment, lifecycle, tier (high > P80 = 220, mid > P50 = 100)
        let want: [(u64, [u8; 3], &str, Lifecycle, ValueTier); 5] = [
            (
                1,
                [5, 1, 1],
                "New Customers",
                Lifecycle::New,
                ValueTier::Low,
            ),
            (
                2,
                [3, 1, 5],
                "About to Sleep",
                Lifecycle::New,
                ValueTier::High,
            ),
            (
                3,
                [4, 5, 4],
                "Loyal Customers",
                Lifecycle::Active,
                ValueTier::Mid,
            ),
            (
                4,
                [1, 1, 2],
                "Hibernating",
                Lifecycle::Churned,
                ValueTier::Low,
            ),
            (5, [2, 4, 2], "At Risk", Lifecycle::Churned, ValueTier::Low),
        ];
        for (id, scores, seg, life, tier) in want {
            let d = f.get(CustomerId(id));
            assert_eq!(d.scores, Some(scores), "customer {id}");
            assert_eq!(d.rfm.map(RfmSegment::name), Some(seg), "customer {id}");
            assert_eq!(d.lifecycle, life, "customer {id}");
            assert_eq!(d.value, tier, "customer {id}");
        }
        // Customer 6 exists without orders.
        assert_eq!(f.get(CustomerId(6)), Derived::NONE);
        assert_eq!(f.customers(), 6);
        assert_eq!(
            f.get(CustomerId(2)).frequency,
            1,
            "same-day orders are one day"
        );
    }

    #[test]
    fn ties_share_a_score() {
        let same = stats(&[("2024-05-01", 10)]);
        let pop: Vec<(u64, Stats)> = (1..=10).map(|id| (id, same)).collect();
        let f = Figures::compute(day("2024-06-01"), Settings::default(), pop, 10);
        let first = f.get(CustomerId(1));
        for id in 2..=10 {
            assert_eq!(f.get(CustomerId(id)), first);
        }
        // Everyone equals every breakpoint: R 5, F 1, M 1.
        assert_eq!(first.scores, Some([5, 1, 1]));
        assert_eq!(first.value, ValueTier::Low);
    }

    #[test]
    fn one_customer_one_order() {
        let pop = vec![(7, stats(&[("2024-05-01", 10)]))];
        let f = Figures::compute(day("2024-05-01"), Settings::default(), pop, 1);
        let d = f.get(CustomerId(7));
        assert_eq!(d.recency_days, Some(0));
        assert_eq!(d.scores, Some([5, 1, 1]));
        assert_eq!(d.rfm, Some(RfmSegment::NewCustomers));
        assert_eq!(d.lifecycle, Lifecycle::New);
    }

    #[test]
    fn nobody_with_orders() {
        let f = Figures::compute(day("2024-05-01"), Settings::default(), Vec::new(), 3);
        assert_eq!(f.breakpoints, None);
        assert_eq!(f.get(CustomerId(1)), Derived::NONE);
        assert_eq!(f.iter().count(), 0);
    }
}
