//! Segment figures after imports equal an independent computation of
//! DESIGN.md §5 from the orders themselves (property test), and the
//! `rolo segments` CLI reports them.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::{Duration, NaiveDate};
use proptest::prelude::*;
use rolo::ingest::headers::RecordKind;
use rolo::ingest::{ImportOptions, import_file};
use rolo::model::CustomerId;
use rolo::segments::{self, Settings};
use rolo::store::{OpenOptions, Store};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::AtomicBool;

const CUSTOMERS: usize = 12;

fn base_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, 1).unwrap()
}

/// One order line: (customer index, order id number, day offset, cents).
type Line = (usize, u8, i64, i64);

fn import(store: &Store, dir: &std::path::Path, name: &str, kind: RecordKind, text: &str) {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let report = import_file(
        store,
        &path,
        &ImportOptions::new(kind),
        &mut |_, _| {},
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(report.rejected, 0, "{name}: {report:?}");
}

// ---- the oracle: DESIGN.md §5 written out plainly ----

fn pct(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

const TABLE: [[&str; 5]; 5] = [
    // R = 1
    [
        "Hibernating",
        "Hibernating",
        "At Risk",
        "At Risk",
        "Can't Lose Them",
    ],
    [
        "Hibernating",
        "Hibernating",
        "At Risk",
        "At Risk",
        "Can't Lose Them",
    ],
    [
        "About to Sleep",
        "About to Sleep",
        "Need Attention",
        "Loyal Customers",
        "Loyal Customers",
    ],
    [
        "Promising",
        "Potential Loyalists",
        "Potential Loyalists",
        "Loyal Customers",
        "Loyal Customers",
    ],
    [
        "New Customers",
        "Potential Loyalists",
        "Potential Loyalists",
        "Champions",
        "Champions",
    ],
];

#[derive(Debug, PartialEq)]
struct Expected {
    recency: i64,
    frequency: u32,
    monetary: i64,
    scores: [u8; 3],
    rfm: &'static str,
    lifecycle: &'static str,
    value: &'static str,
}

/// One customer's distinct order days and total spend in cents.
type History = (BTreeSet<NaiveDate>, i64);

/// Per customer ext id: the expected figures as of `as_of`, from the final
/// order set (order id -> (customer, date, cents)).
fn oracle(
    orders: &BTreeMap<u8, (usize, NaiveDate, i64)>,
    as_of: NaiveDate,
) -> BTreeMap<usize, Expected> {
    let mut per: BTreeMap<usize, History> = BTreeMap::new();
    for (who, date, cents) in orders.values() {
        if *date <= as_of {
            let e = per.entry(*who).or_default();
            e.0.insert(*date);
            e.1 += cents;
        }
    }
    let col = |f: &dyn Fn(&History) -> f64| {
        let mut v: Vec<f64> = per.values().map(f).collect();
        v.sort_by(f64::total_cmp);
        v
    };
    let rec = col(&|(d, _)| (as_of - *d.last().unwrap()).num_days() as f64);
    let freq = col(&|(d, _)| d.len() as f64);
    let mon = col(&|(_, m)| *m as f64);
    let q = [0.2, 0.4, 0.6, 0.8];
    let mut out = BTreeMap::new();
    for (who, (days, m)) in &per {
        let r_val = (as_of - *days.last().unwrap()).num_days();
        let above = |v: f64, col: &[f64]| q.iter().filter(|q| v > pct(col, **q)).count() as u8;
        let r = 5 - above(r_val as f64, &rec);
        let f = 1 + above(days.len() as f64, &freq);
        let ms = 1 + above(*m as f64, &mon);
        let since_first = (as_of - *days.first().unwrap()).num_days();
        let lifecycle = if since_first <= 30 {
            "new"
        } else if r_val <= 90 {
            "active"
        } else if r_val <= 180 {
            "at_risk"
        } else {
            "churned"
        };
        let value = if *m <= 0 {
            "none"
        } else if *m as f64 > pct(&mon, 0.8) {
            "high"
        } else if *m as f64 > pct(&mon, 0.5) {
            "mid"
        } else {
            "low"
        };
        out.insert(
            *who,
            Expected {
                recency: r_val,
                frequency: days.len() as u32,
                monetary: *m,
                scores: [r, f, ms],
                rfm: TABLE[usize::from(r - 1)][usize::from(f - 1)],
                lifecycle,
                value,
            },
        );
    }
    out
}

fn order_csv(lines: &[Line]) -> String {
    let mut s = String::from("order_id,customer,order_date,amount\n");
    // Order ids are unique within a file; a later file may reuse one (an update).
    let mut seen = BTreeSet::new();
    for (who, id, day, cents) in lines {
        if !seen.insert(*id) {
            continue;
        }
        let date = base_day() + Duration::days(*day);
        s.push_str(&format!(
            "O{id},C{who},{date},{}.{:02}\n",
            cents / 100,
            cents % 100
        ));
    }
    s
}

fn line() -> impl Strategy<Value = Line> {
    // Few days and amounts, so ties and same-day orders are common.
    (
        0..CUSTOMERS,
        0u8..40,
        0i64..400,
        prop_oneof![Just(1000i64), Just(2550), 1i64..50_000],
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    #[test]
    fn figures_after_imports_equal_an_independent_computation(
        batches in proptest::collection::vec(proptest::collection::vec(line(), 0..25), 1..5),
        as_of_day in 100i64..500,
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(&tmp.path().join("db"), &OpenOptions::default()).unwrap();
        let mut customers = String::from("ext_id,name\n");
        for i in 0..CUSTOMERS {
            customers.push_str(&format!("C{i},Customer {i}\n"));
        }
        import(&store, tmp.path(), "customers.csv", RecordKind::Customers, &customers);
        let ids: Vec<CustomerId> = (0..CUSTOMERS)
            .map(|i| store.find_ext_id(&format!("C{i}")).unwrap().unwrap())
            .collect();
        let mut truth: BTreeMap<u8, (usize, NaiveDate, i64)> = BTreeMap::new();
        let as_of = base_day() + Duration::days(as_of_day);
        for (n, batch) in batches.iter().enumerate() {
            let csv = order_csv(batch);
            import(&store, tmp.path(), &format!("orders{n}.csv"), RecordKind::Orders, &csv);
            let mut seen = BTreeSet::new();
            for (who, id, day, cents) in batch {
                if seen.insert(*id) {
                    truth.insert(*id, (*who, base_day() + Duration::days(*day), *cents));
                }
            }
            // After every import, not just the last.
            let figures = segments::compute(&store, as_of, Settings::default()).unwrap();
            let want = oracle(&truth, as_of);
            prop_assert_eq!(figures.customers(), CUSTOMERS as u64);
            prop_assert_eq!(figures.with_orders(), want.len());
            for (i, id) in ids.iter().enumerate() {
                let d = figures.get(*id);
                match want.get(&i) {
                    None => {
                        prop_assert_eq!(d, segments::Derived::NONE);
                    }
                    Some(w) => {
                        let got = Expected {
                            recency: d.recency_days.unwrap(),
                            frequency: d.frequency,
                            monetary: d.monetary_minor,
                            scores: d.scores.unwrap(),
                            rfm: d.rfm.unwrap().name(),
                            lifecycle: d.lifecycle.slug(),
                            value: d.value.slug(),
                        };
                        prop_assert_eq!(&got, w, "customer C{} after batch {}", i, n);
                    }
                }
            }
        }
    }
}

#[test]
fn cli_summary_saved_segments_snapshot_and_movement() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db");
    let customers = tmp.path().join("c.csv");
    std::fs::write(
        &customers,
        "ext_id,name,city\nA,Ann,上海\nB,Bob,上海\nC,Cy,Paris\nD,Di,\n",
    )
    .unwrap();
    let orders = tmp.path().join("o.csv");
    std::fs::write(
        &orders,
        "order_id,customer,order_date,amount\n1,A,2024-06-01,100\n2,A,2024-06-20,50\n3,B,2023-01-01,10\n4,C,2024-05-01,30\n",
    )
    .unwrap();
    let rolo = |args: &[&str]| {
        let out = common::rolo()
            .arg("--db")
            .arg(&db)
            .args(["--as-of", "2024-06-30", "--json"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    rolo(&["import", "customers", customers.to_str().unwrap()]);
    rolo(&["import", "orders", orders.to_str().unwrap()]);
    let life = rolo(&["segments", "--by", "lifecycle"]);
    let count = |v: &serde_json::Value, seg: &str| {
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["segment"] == seg)
            .map_or(0, |r| r["customers"].as_u64().unwrap())
    };
    // A: last order 10 days ago, first 29 days ago -> new. B: churned.
    // C: 60 days -> active. D: prospect.
    assert_eq!(count(&life, "new"), 1);
    assert_eq!(count(&life, "active"), 1);
    assert_eq!(count(&life, "churned"), 1);
    assert_eq!(count(&life, "prospect"), 1);
    assert_eq!(life["customers"], 4);
    assert_eq!(life["revenue"], 190.0);
    let city = rolo(&["segments", "--by", "city"]);
    assert_eq!(city["rows"][0]["segment"], "上海");
    assert_eq!(city["rows"][0]["customers"], 2);
    assert_eq!(city["rows"][0]["revenue"], 160.0);
    assert_eq!(city["rows"][0]["avg_order_value"], 160.0 / 3.0);

    // Saved segments work in every query, and in the summary.
    rolo(&["segments", "save", "Shanghai buyers", "city:上海 orders>=1"]);
    let hits = rolo(&["search", "segment:\"shanghai buyers\""]);
    assert_eq!(hits["total"], 2);
    let hits = rolo(&["search", "lifecycle:churned"]);
    assert_eq!(hits["total"], 1);
    assert_eq!(hits["hits"][0]["ext_id"], "B");
    let saved = rolo(&["segments", "--by", "saved"]);
    assert_eq!(count(&saved, "Shanghai buyers"), 2);

    // Snapshot, then more orders: movement shows who moved.
    rolo(&["segments", "snapshot"]);
    let more = tmp.path().join("o2.csv");
    std::fs::write(
        &more,
        "order_id,customer,order_date,amount\n5,B,2024-06-29,10\n",
    )
    .unwrap();
    rolo(&["import", "orders", more.to_str().unwrap()]);
    let moves = rolo(&[
        "segments",
        "--by",
        "lifecycle",
        "--since-snapshot",
        "2024-06-30",
    ]);
    let moved: Vec<(String, String, u64)> = moves["moves"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["from"] != m["to"])
        .map(|m| {
            (
                m["from"].as_str().unwrap().to_owned(),
                m["to"].as_str().unwrap().to_owned(),
                m["customers"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(moved, vec![("churned".to_owned(), "active".to_owned(), 1)]);

    // Export carries the per-customer figures.
    let out = common::rolo()
        .arg("--db")
        .arg(&db)
        .args([
            "--as-of",
            "2024-06-30",
            "export",
            "customers",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let a = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ext_id"] == "A")
        .unwrap();
    assert_eq!(a["recency_days"], 10);
    assert_eq!(a["frequency"], 2);
    assert_eq!(a["monetary"], 150.0);
    assert_eq!(a["lifecycle"], "new");
    let d = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ext_id"] == "D")
        .unwrap();
    assert_eq!(d["rfm_segment"], serde_json::Value::Null);
    assert_eq!(d["value_tier"], "none");
}

#[test]
fn bad_segment_commands_say_why() {
    let env = common::Env::new();
    for (args, needle) in [
        (vec!["segments", "save", "x", "city:("], "query"),
        (vec!["segments", "save", "x", "segment:x"], "itself"),
        (vec!["segments", "delete", "nope"], "no saved segment"),
        (
            vec!["segments", "--since-snapshot", "2024-01-01"],
            "no snapshot",
        ),
        (
            vec![
                "segments",
                "--by",
                "region",
                "--since-snapshot",
                "2024-01-01",
            ],
            "movement",
        ),
    ] {
        let err = env.user_error(&args);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}
