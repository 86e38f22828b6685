//! `rolo clv` end to end on the CDNOW sample of Fader, Hardie and Lee (2005)
//! (tests/fixtures/cdnow): imported as a user would, fitted with a 39-week
//! calibration in weeks, it gives the paper's parameters; the predictions
//! reach queries and export.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

/// The raw sample (master id, sample id, yyyymmdd, quantity, amount) as the
/// order and customer CSVs a user would prepare.
fn write_cdnow(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let raw = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cdnow/CDNOW_sample.txt"),
    )
    .unwrap();
    let mut orders = String::from("order_id,customer,order_date,amount\n");
    let mut ids = std::collections::BTreeSet::new();
    for (i, line) in raw.lines().enumerate() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 5 {
            continue;
        }
        orders.push_str(&format!("T{i},{},{},{}\n", f[1], f[2], f[4]));
        ids.insert(f[1].to_owned());
    }
    let mut customers = String::from("ext_id,name\n");
    for id in &ids {
        customers.push_str(&format!("{id},customer {id}\n"));
    }
    let (o, c) = (dir.join("orders.csv"), dir.join("customers.csv"));
    std::fs::write(&o, orders).unwrap();
    std::fs::write(&c, customers).unwrap();
    (o, c)
}

#[test]
fn cdnow_gives_the_published_parameters_and_predictions_reach_queries() {
    let env = common::Env::new();
    let (orders, customers) = write_cdnow(env.dir.path());
    env.import("customers", &customers);
    let report = env.import("orders", &orders);
    assert_eq!(report["rejected"], 0);

    let fit = env.json(&["clv", "fit", "--until", "1997-09-30", "--unit", "week"]);
    assert_eq!(fit["customers"], 2357);
    for (name, published) in [("r", 0.243), ("alpha", 4.414), ("a", 0.793), ("b", 2.426)] {
        let got = fit["params"][name].as_f64().unwrap();
        assert!(
            (got - published).abs() / published < 0.01,
            "{name}: {got} vs the paper's {published}"
        );
    }
    let ll = fit["log_likelihood"].as_f64().unwrap();
    assert!((ll - -9582.4).abs() < 0.5, "log-likelihood {ll}");
    // The 39-week holdout: predicted and actual repeat purchases are close.
    let h = &fit["holdout"];
    assert_eq!(h["days"], 273);
    let (p, a) = (
        h["predicted"].as_f64().unwrap(),
        h["actual"].as_f64().unwrap(),
    );
    assert!((p - a).abs() / a < 0.2, "holdout predicted {p} actual {a}");

    // Predictions as of the end of the data reach queries and export.
    let pred = env.json(&["--as-of", "1998-06-30", "clv", "predict", "--limit", "0"]);
    let all = pred["customers"].as_array().unwrap();
    assert_eq!(all.len(), 2357);
    let low: Vec<u64> = all
        .iter()
        .filter(|c| c["p_alive"].as_f64().unwrap() < 0.3)
        .map(|c| c["id"].as_u64().unwrap())
        .collect();
    let hits = env.json(&[
        "--as-of",
        "1998-06-30",
        "search",
        "p_alive<0.3",
        "--limit",
        "100000",
    ]);
    let mut found: Vec<u64> = hits["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_u64().unwrap())
        .collect();
    found.sort_unstable();
    let mut low = low;
    low.sort_unstable();
    assert!(!low.is_empty());
    assert_eq!(found, low);
    let rows = env.json(&[
        "--as-of",
        "1998-06-30",
        "export",
        "customers",
        "--format",
        "json",
    ]);
    let first = &all[0];
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == first["id"])
        .unwrap();
    assert_eq!(row["clv"], first["clv"]);
    assert_eq!(row["p_alive"], first["p_alive"]);
}

#[test]
fn predict_without_a_model_and_fit_without_orders_say_why() {
    let env = common::Env::new();
    for (args, needle) in [
        (vec!["clv", "predict"], "rolo clv fit"),
        (vec!["clv", "fit"], "cannot fit"),
    ] {
        let err = env.user_error(&args);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}
