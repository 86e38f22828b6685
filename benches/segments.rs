//! Segments benchmark (issue 7): at 1M customers and 5M orders, a full
//! recomputation of every customer's figures and the summary of one
//! segmentation each take under 5 seconds.
//!
//! Run: `ROLO_BENCH_DATA=DIR cargo bench --bench segments` where `DIR/db` is
//! the database the import bench leaves (read only here) and `DIR/orders.csv`
//! its orders. Three rounds; medians. The peer is pandas computing the same
//! RFM definition from the order CSV (`scripts/rfm_peer.py`), when python3
//! with pandas is installed. The last line is `BENCH_SUMMARY segments {json}`.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod common;
use common::{bench_size, data_dir, status_kb};

use std::time::Instant;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use rolo::segments::{self, By, Settings};
use rolo::store::{OpenOptions, Store};

fn secs(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<()> {
    let size = bench_size();
    let dir = data_dir(size);
    let db = dir.join("db");
    if !db.exists() {
        bail!("no bench database at {}: run `cargo bench --bench import` first", db.display());
    }
    let store = Store::open(
        &db,
        &OpenOptions {
            read_only: true,
            ..OpenOptions::default()
        },
    )
    .context("opening the bench db")?;
    let as_of = NaiveDate::from_ymd_opt(2026, 1, 1).context("date")?;
    let mut compute = Vec::new();
    let mut figures = None;
    for _ in 0..3 {
        let t = Instant::now();
        figures = Some(segments::compute(&store, as_of, Settings::default())?);
        compute.push(secs(t));
    }
    let figures = figures.context("no rounds")?;
    println!(
        "== segments: {} customers, {} with orders ==",
        figures.customers(),
        figures.with_orders()
    );
    let compute = median(&mut compute);
    println!("full recomputation: median {compute:.2} s");
    let mut summary = serde_json::Map::new();
    for by in [By::Rfm, By::Lifecycle, By::Value, By::Region] {
        let mut times = Vec::new();
        for _ in 0..3 {
            let t = Instant::now();
            let s = segments::summarize(&store, &figures, by)?;
            times.push(secs(t));
            std::hint::black_box(s);
        }
        let m = median(&mut times);
        println!("summary by {}: median {m:.3} s (after the recomputation)", by.as_str());
        summary.insert(by.as_str().into(), serde_json::json!(m));
    }
    let peak_mb = status_kb("VmHWM").unwrap_or(0) / 1024;
    println!("peak memory {peak_mb} MB");
    let peer = peer(&dir.join("orders.csv"), as_of);
    if let Some(p) = &peer {
        println!("peer pandas (same definition, from orders.csv): {p}");
    }
    println!(
        "BENCH_SUMMARY segments {}",
        serde_json::json!({
            "customers": figures.customers(),
            "compute_s": compute,
            "summary_s": summary,
            "peak_mb": peak_mb,
            "peer_pandas": peer,
        })
    );
    Ok(())
}

/// pandas's timings on the same orders, if python3 with pandas is here.
fn peer(orders: &std::path::Path, as_of: NaiveDate) -> Option<serde_json::Value> {
    if !orders.exists() {
        return None;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/rfm_peer.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(orders)
        .arg(as_of.to_string())
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!("peer skipped: {}", String::from_utf8_lossy(&out.stderr).trim());
        return None;
    }
    serde_json::from_slice(&out.stdout).ok()
}
