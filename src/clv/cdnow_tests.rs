//! The CDNOW checks: the data of Fader, Hardie & Lee (2005) must give the
//! paper's BG/NBD estimates and the published Gamma-Gamma ones. The files
//! are in `tests/fixtures/cdnow` (see the README there for their source).

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{Datelike, NaiveDate};

use super::*;

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cdnow")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `cdnow_customers_summary.csv`: (ID, summary in weeks).
fn summary_file() -> Vec<(u32, Summary)> {
    let text = fixture("cdnow_customers_summary.csv");
    let mut lines = text.lines();
    assert_eq!(lines.next().map(str::trim), Some("ID,frequency,recency,T"));
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<f64> = l
                .trim()
                .split(',')
                .map(|v| v.parse().expect("number"))
                .collect();
            (
                f[0] as u32,
                Summary {
                    x: f[1],
                    t_x: f[2],
                    t: f[3],
                },
            )
        })
        .collect()
}

/// One customer's raw transactions: (day number, amount) per line.
type Transactions = BTreeMap<u32, Vec<(i64, f64)>>;

/// `CDNOW_sample.txt`: master id, sample id, yyyymmdd, quantity, amount.
fn raw_transactions() -> Transactions {
    let text = fixture("CDNOW_sample.txt");
    let mut by_customer: Transactions = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(f.len(), 5, "{line:?}");
        let id: u32 = f[1].parse().expect("sample id");
        let date = NaiveDate::parse_from_str(f[2], "%Y%m%d").expect("date");
        let amount: f64 = f[4].parse().expect("amount");
        by_customer
            .entry(id)
            .or_default()
            .push((i64::from(date.num_days_from_ce()), amount));
    }
    by_customer
}

fn calibration_end() -> i64 {
    let end = NaiveDate::from_ymd_opt(1997, 9, 30).expect("valid date");
    i64::from(end.num_days_from_ce())
}

/// Summaries built here from the raw transactions.
fn summaries_from_raw(raw: &Transactions) -> Vec<(u32, Summary)> {
    let end = calibration_end();
    raw.iter()
        .map(|(&id, tx)| {
            let days: Vec<i64> = tx.iter().map(|&(d, _)| d).collect();
            (
                id,
                Summary::from_purchase_days(&days, end, Unit::Week)
                    .expect("first purchase in calibration"),
            )
        })
        .collect()
}

/// The paper's estimates (Fader, Hardie & Lee 2005, section 5).
const PAPER: [f64; 4] = [0.243, 4.414, 0.793, 2.426];
const PAPER_LL: f64 = -9582.4;

fn assert_paper_estimates(fit: &Fit<BgNbd>) {
    let p = fit.params;
    let got = [p.r, p.alpha, p.a, p.b];
    for ((name, g), w) in ["r", "alpha", "a", "b"].iter().zip(got).zip(PAPER) {
        assert!(((g - w) / w).abs() < 0.01, "{name} = {g}, paper {w}");
    }
    assert!(fit.converged);
}

#[test]
fn the_summary_file_gives_the_papers_bgnbd_estimates() {
    let data: Vec<Summary> = summary_file().into_iter().map(|(_, s)| s).collect();
    assert_eq!(data.len(), 2357);
    let fit = fit_bgnbd(&data).expect("fits");
    assert_paper_estimates(&fit);
    // The paper reports LL = −9582.4, to one decimal (we get −9582.43;
    // the file's times are rounded to 0.01 week, which moves it by less
    // than 0.01).
    assert!(
        (fit.log_likelihood - PAPER_LL).abs() < 0.05,
        "LL = {}",
        fit.log_likelihood
    );
}

#[test]
fn summaries_built_from_the_raw_transactions_equal_the_summary_file() {
    let built = summaries_from_raw(&raw_transactions());
    let file = summary_file();
    assert_eq!(built.len(), file.len());
    for ((id, b), (file_id, f)) in built.iter().zip(&file) {
        assert_eq!(id, file_id);
        assert_eq!(b.x, f.x, "customer {id}");
        // The file rounds to two decimals.
        assert!(
            (b.t_x - f.t_x).abs() <= 0.005 + 1e-9,
            "customer {id}: t_x {} vs {}",
            b.t_x,
            f.t_x
        );
        assert!(
            (b.t - f.t).abs() <= 0.005 + 1e-9,
            "customer {id}: T {} vs {}",
            b.t,
            f.t
        );
    }
    let data: Vec<Summary> = built.into_iter().map(|(_, s)| s).collect();
    let fit = fit_bgnbd(&data).expect("fits");
    assert_paper_estimates(&fit);
    assert!(
        (fit.log_likelihood - PAPER_LL).abs() < 0.05,
        "LL = {}",
        fit.log_likelihood
    );
}

#[test]
fn cdnow_gamma_gamma_gives_the_published_estimates() {
    // Mean spend definition (as lifetimes' `summary_data_from_transaction_
    // data` and Fader & Hardie's note): a customer's purchases on one day
    // are one transaction worth their summed amount; the first day is
    // dropped; m = mean over the repeat days up to 1997-09-30. Customer 1
    // then has (29.73 + 14.96)/2 = 22.345, which lifetimes shows as 22.35.
    // Published (lifetimes docs, 946 customers): p 6.25, q 3.74, v 15.44.
    let end = calibration_end();
    let mut data = Vec::new();
    for tx in raw_transactions().values() {
        let mut per_day: BTreeMap<i64, f64> = BTreeMap::new();
        for &(day, amount) in tx.iter().filter(|&&(d, _)| d <= end) {
            *per_day.entry(day).or_default() += amount;
        }
        let repeats: Vec<f64> = per_day.values().skip(1).copied().collect();
        if !repeats.is_empty() {
            let mean = repeats.iter().sum::<f64>() / repeats.len() as f64;
            data.push((repeats.len() as u32, mean));
        }
    }
    assert_eq!(data.len(), 946);
    assert_eq!(data[0], (2, (29.73 + 14.96) / 2.0));
    let fit = fit_gamma_gamma(&data).expect("fits");
    let GammaGamma { p, q, v } = fit.params;
    for (name, got, want) in [("p", p, 6.25), ("q", q, 3.74), ("v", v, 15.44)] {
        assert!(
            ((got - want) / want).abs() < 0.01,
            "{name} = {got}, published {want}"
        );
    }
    assert!(fit.converged);
}

#[test]
fn cdnow_predictions_with_the_fitted_model() {
    // Customer 1 (x = 2, t_x = 30.43, T = 38.86) with the fitted model
    // gives the paper's 1.226 expected purchases over the 39-week holdout
    // (to the precision the published parameters carry).
    let data: Vec<Summary> = summary_file().into_iter().map(|(_, s)| s).collect();
    let fit = fit_bgnbd(&data).expect("fits");
    let c1 = data[0];
    let e = fit.params.expected_purchases(39.0, &c1);
    assert!((e - 1.226).abs() < 0.005, "{e}");
}
