//! Predicted customer value from the stored BG/NBD and Gamma-Gamma fit:
//! the data a fit needs (per customer: repeat purchases, recency, age, mean
//! repeat spend), the fit itself, its holdout check, and per-customer
//! predictions for queries, export and the workbench.

use chrono::NaiveDate;
use serde::Serialize;

use crate::clv::{self, BgNbd, FitError, GammaGamma, Summary, Unit};
use crate::model::{Stats, days};
use crate::store::{ClvModel, Result, Store};

/// Days in a year, for an annual discount rate.
const YEAR_DAYS: f64 = 365.25;

/// The unit of a stored model.
pub fn unit_of(m: &ClvModel) -> Unit {
    if m.unit == "week" {
        Unit::Week
    } else {
        Unit::Day
    }
}

/// One customer's calibration data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitRow {
    pub id: u64,
    pub summary: Summary,
    /// Mean spend per repeat purchase day (major units); `None` without
    /// repeat purchases.
    pub mean_repeat: Option<f64>,
    /// Distinct purchase days after `until`, up to the last order (the
    /// holdout period's actual repeat purchases).
    pub holdout_days: u32,
    /// The customer's last purchase, calibration or holdout.
    pub last_order: NaiveDate,
}

/// The calibration data of every live customer whose first order is on or
/// before `until` (purchases on one day count once, as the paper does).
pub fn fit_rows(store: &Store, until: NaiveDate, unit: Unit) -> Result<Vec<FitRow>> {
    let end = i64::from(days::from_date(until));
    let parts = super::in_parallel(store, |ids| {
        let mut out = Vec::new();
        for item in store.live_with_stats_in(ids) {
            let (c, stats) = item?;
            let (Some(first), Some(last_order)) = (
                stats.and_then(|s| s.first_order),
                stats.and_then(|s| s.last_order),
            ) else {
                continue;
            };
            if first > until {
                continue;
            }
            let orders = store.orders_of(c.id)?;
            // Spend per purchase day, by day.
            let mut per_day: std::collections::BTreeMap<i64, i64> = Default::default();
            for o in &orders {
                *per_day
                    .entry(i64::from(days::from_date(o.date)))
                    .or_default() += o.amount_minor;
            }
            let calib: Vec<i64> = per_day.keys().copied().filter(|d| *d <= end).collect();
            let Some(summary) = Summary::from_purchase_days(&calib, end, unit) else {
                continue;
            };
            let repeat: Vec<i64> = per_day
                .iter()
                .filter(|(d, _)| **d <= end)
                .skip(1)
                .map(|(_, v)| *v)
                .collect();
            let mean_repeat = (!repeat.is_empty())
                .then(|| repeat.iter().sum::<i64>() as f64 / repeat.len() as f64 / 100.0);
            let holdout_days = per_day.keys().filter(|d| **d > end).count() as u32;
            out.push(FitRow {
                id: c.id.0,
                summary,
                mean_repeat,
                holdout_days,
                last_order,
            });
        }
        Ok(out)
    })?;
    Ok(parts.into_iter().flatten().collect())
}

/// What fitting found, before it is stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitOutcome {
    pub model: ClvModel,
    /// The holdout check, when there are purchases after `until`.
    pub holdout: Option<Holdout>,
}

/// Predicted against actual repeat purchases in the period after `until`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Holdout {
    /// The period's length in days (to the last order date).
    pub days: i64,
    pub predicted: f64,
    pub actual: u64,
    /// By number of repeat purchases in calibration (0..=6, then "7+"):
    /// customers, mean predicted and mean actual purchases in the period.
    pub by_calibration_purchases: Vec<HoldoutRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HoldoutRow {
    pub purchases: String,
    pub customers: u64,
    pub predicted_mean: f64,
    pub actual_mean: f64,
}

/// Fits BG/NBD on `rows` (and Gamma-Gamma on the repeat buyers' mean
/// spend, when it can be fitted), and checks the fit on the period from
/// `until` to the customers' last purchase when that period has purchases.
pub fn fit(
    rows: &[FitRow],
    until: NaiveDate,
    unit: Unit,
    fitted_at: chrono::DateTime<chrono::Utc>,
) -> std::result::Result<FitOutcome, FitError> {
    let last_day = rows.iter().map(|r| r.last_order).max();
    let summaries: Vec<Summary> = rows.iter().map(|r| r.summary).collect();
    let bg = clv::fit_bgnbd(&summaries)?;
    let spend: Vec<(u32, f64)> = rows
        .iter()
        .filter_map(|r| Some((r.summary.x as u32, r.mean_repeat?)))
        .filter(|(x, m)| *x > 0 && *m > 0.0)
        .collect();
    let gg = clv::fit_gamma_gamma(&spend).ok();
    let p = bg.params;
    let model = ClvModel {
        unit: match unit {
            Unit::Day => "day".into(),
            Unit::Week => "week".into(),
        },
        until,
        r: p.r,
        alpha: p.alpha,
        a: p.a,
        b: p.b,
        log_likelihood: bg.log_likelihood,
        converged: bg.converged,
        customers: rows.len() as u64,
        gamma_gamma: gg.map(|g| [g.params.p, g.params.q, g.params.v]),
        fitted_at,
    };
    let holdout = last_day
        .filter(|d| *d > until)
        .map(|last| holdout(&p, rows, unit, (last - until).num_days()));
    Ok(FitOutcome { model, holdout })
}

fn holdout(bg: &BgNbd, rows: &[FitRow], unit: Unit, days: i64) -> Holdout {
    let horizon = unit.from_days(days as f64);
    let mut groups = [(0u64, 0.0f64, 0u64); 8];
    let (mut predicted, mut actual) = (0.0, 0u64);
    for r in rows {
        let p = bg.expected_purchases(horizon, &r.summary);
        let g = &mut groups[(r.summary.x as usize).min(7)];
        g.0 += 1;
        if p.is_finite() {
            g.1 += p;
            predicted += p;
        }
        g.2 += u64::from(r.holdout_days);
        actual += u64::from(r.holdout_days);
    }
    let by_calibration_purchases = groups
        .iter()
        .enumerate()
        .filter(|(_, g)| g.0 > 0)
        .map(|(i, (n, p, a))| HoldoutRow {
            purchases: if i == 7 { "7+".into() } else { i.to_string() },
            customers: *n,
            predicted_mean: p / *n as f64,
            actual_mean: *a as f64 / *n as f64,
        })
        .collect();
    Holdout {
        days,
        predicted,
        actual,
        by_calibration_purchases,
    }
}

/// One customer's predictions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Prediction {
    /// Expected purchases (purchase days) in the horizon.
    pub expected_purchases: f64,
    /// Probability that the customer is still active.
    pub p_alive: f64,
    /// Expected spend per purchase (Gamma-Gamma); `None` without a spend model.
    pub expected_value: Option<f64>,
    /// Expected spend over the horizon, discounted; `None` without a spend model.
    pub clv: Option<f64>,
}

/// How far ahead predictions look, and the annual discount rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Horizon {
    pub days: f64,
    pub annual_discount: f64,
}

impl Default for Horizon {
    fn default() -> Self {
        Horizon {
            days: 365.0,
            annual_discount: 0.0,
        }
    }
}

/// The predictions for a customer with order figures `s` as of `as_of`
/// (their whole history up to that day), under `model`. The customer's
/// mean spend per purchase day stands in for the Gamma-Gamma mean of
/// repeat purchases (the kept figures do not separate the first day).
pub fn predict(model: &ClvModel, s: &Stats, as_of: NaiveDate, h: Horizon) -> Option<Prediction> {
    let unit = unit_of(model);
    let first = s.first_order?;
    let last = s.last_order?;
    if last > as_of || s.order_days == 0 {
        return None;
    }
    let summary = Summary {
        x: f64::from(s.order_days - 1),
        t_x: unit.from_days((last - first).num_days() as f64),
        t: unit.from_days((as_of - first).num_days() as f64),
    };
    let bg = BgNbd {
        r: model.r,
        alpha: model.alpha,
        a: model.a,
        b: model.b,
    };
    let horizon = unit.from_days(h.days);
    let expected_purchases = bg.expected_purchases(horizon, &summary);
    let p_alive = bg.p_alive(&summary);
    let (expected_value, clv) = match model.gamma_gamma {
        Some([p, q, v]) => {
            let gg = GammaGamma { p, q, v };
            let mean = s.spend() / f64::from(s.order_days);
            let value = gg.expected_average_value(s.order_days - 1, mean);
            (
                Some(value),
                Some(discounted(&bg, &summary, unit, h) * value),
            )
        }
        None => (None, None),
    };
    Some(Prediction {
        expected_purchases,
        p_alive,
        expected_value,
        clv,
    })
}

/// Expected purchases over the horizon, each month's discounted at the
/// annual rate (one evaluation when there is no discount).
fn discounted(bg: &BgNbd, s: &Summary, unit: Unit, h: Horizon) -> f64 {
    if h.annual_discount == 0.0 {
        return bg.expected_purchases(unit.from_days(h.days), s);
    }
    let months = (h.days / (YEAR_DAYS / 12.0)).ceil().max(1.0) as u32;
    let step = h.days / f64::from(months);
    let (mut total, mut before) = (0.0, 0.0);
    for k in 1..=months {
        let t = step * f64::from(k);
        let upto = bg.expected_purchases(unit.from_days(t), s);
        total += (upto - before) / (1.0 + h.annual_discount).powf(t / YEAR_DAYS);
        before = upto;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> ClvModel {
        ClvModel {
            unit: "week".into(),
            until: NaiveDate::from_ymd_opt(1997, 9, 30).unwrap_or_default(),
            r: 0.243,
            alpha: 4.414,
            a: 0.793,
            b: 2.426,
            log_likelihood: 0.0,
            converged: true,
            customers: 1,
            gamma_gamma: Some([6.25, 3.74, 15.44]),
            fitted_at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    fn stats(first: &str, last: &str, days: u32, spend: i64) -> Stats {
        Stats {
            orders: days,
            order_days: days,
            spend_minor: spend,
            first_order: first.parse().ok(),
            last_order: last.parse().ok(),
        }
    }

    #[test]
    fn predictions_follow_the_model() {
        let as_of: NaiveDate = "1997-09-30".parse().unwrap_or_default();
        // A one-time buyer is alive for sure by the model's definition.
        let once = predict(
            &model(),
            &stats("1997-01-01", "1997-01-01", 1, 1000),
            as_of,
            Horizon::default(),
        );
        assert_eq!(once.map(|p| p.p_alive), Some(1.0));
        // Frequent and recent beats frequent and long gone.
        let recent = predict(
            &model(),
            &stats("1997-01-01", "1997-09-20", 6, 6000),
            as_of,
            Horizon::default(),
        );
        let gone = predict(
            &model(),
            &stats("1997-01-01", "1997-02-01", 6, 6000),
            as_of,
            Horizon::default(),
        );
        let (recent, gone) = (
            recent.unwrap_or_else(|| panic!()),
            gone.unwrap_or_else(|| panic!()),
        );
        assert!(
            recent.p_alive > 0.8 && gone.p_alive < 0.2,
            "{recent:?} {gone:?}"
        );
        assert!(recent.expected_purchases > gone.expected_purchases);
        assert!(recent.clv > gone.clv);
        // Discounting lowers the value, and no horizon is worth nothing.
        let h = Horizon {
            days: 365.0,
            annual_discount: 0.1,
        };
        let disc = predict(
            &model(),
            &stats("1997-01-01", "1997-09-20", 6, 6000),
            as_of,
            h,
        );
        assert!(disc.and_then(|p| p.clv) < recent.clv);
        let none = predict(
            &model(),
            &stats("1997-01-01", "1997-09-20", 6, 6000),
            as_of,
            Horizon {
                days: 0.0,
                annual_discount: 0.0,
            },
        );
        assert_eq!(none.and_then(|p| p.clv), Some(0.0));
        // An order after the as-of date: no prediction from the future.
        assert_eq!(
            predict(
                &model(),
                &stats("1997-01-01", "1997-10-20", 2, 100),
                as_of,
                Horizon::default()
            ),
            None
        );
    }
}
