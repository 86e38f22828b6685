//! Duplicate-detection benchmark (issue 6 item 7): `rolo dedup scan` at
//! 1M customers within 60 s and 2 GB on the 2-core machine, with its
//! precision, recall and F1 against the planted duplicates.
//!
//! Run: `cargo bench --bench dedup` (N = 1,000,000), or
//! `ROLO_BENCH_SIZE=10000 cargo bench --bench dedup` for a smoke check.
//!
//! Data: `ROLO_BENCH_DATA` (default `bench-data/n<SIZE>`). When it holds
//! the import bench's database (`db` with `db.complete`) that is used,
//! read only; otherwise customers.csv (generated here when missing:
//! `rolo gen`, mixed locale, seed 1, 5% duplicates) is imported into
//! `db-dedup` once and reused. The truth is `duplicates_truth.csv` there.
//!
//! Two passes:
//! 1. in-process through the library (`dedup::read_records`,
//!    `dedup::scan`): time per step, three rounds, medians;
//! 2. the release binary, `rolo dedup scan --read-only --json --truth ...`,
//!    as a child under `/usr/bin/time`: wall time and peak RSS of the whole
//!    process (the figures the targets are about), and its F1.
//!
//! The last line is `BENCH_SUMMARY dedup {json}`.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod common;
use common::{bench_size, data_dir, status_kb};

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::json;

use rolo::dedup::{self, DismissedPairs, ScanOptions};
use rolo::ingest::headers::RecordKind;
use rolo::ingest::{ImportOptions, import_file};
use rolo::store::{OpenOptions, Store};
use rolo::synth::{GenOptions, generate};

const TARGET_SECS: f64 = 60.0;
const TARGET_PEAK_MB: u64 = 2048;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The database to scan, imported here when the import bench left none.
fn database(size: u64, dir: &Path) -> Result<PathBuf> {
    if dir.join("db.complete").exists() && dir.join("db").exists() {
        return Ok(dir.join("db"));
    }
    let db = dir.join("db-dedup");
    let marker = dir.join("db-dedup.complete");
    if marker.exists() {
        return Ok(db);
    }
    let customers = dir.join("customers.csv");
    if !customers.exists() || !dir.join("duplicates_truth.csv").exists() {
        println!("generating {size} customers into {}", dir.display());
        let mut opts = GenOptions::new(size);
        opts.orders = 0;
        opts.notes = 0;
        generate(&opts, dir, &mut |_| {}).context("generating the bench data")?;
    }
    println!("importing {} into {}", customers.display(), db.display());
    if db.exists() {
        std::fs::remove_dir_all(&db)?;
    }
    let store = Store::open(
        &db,
        &OpenOptions {
            cache_bytes: rolo::store::IMPORT_CACHE_BYTES,
            ..OpenOptions::default()
        },
    )?;
    let cancel = AtomicBool::new(false);
    let mut opts = ImportOptions::new(RecordKind::Customers);
    opts.rejects_path = Some(dir.join("customers.rejects.csv"));
    import_file(&store, &customers, &opts, &mut |_, _| {}, &cancel)
        .context("importing the bench customers")?;
    store.flush()?;
    drop(store);
    std::fs::write(&marker, b"ok")?;
    Ok(db)
}

fn main() -> Result<()> {
    let size = bench_size();
    let dir = data_dir(size);
    std::fs::create_dir_all(&dir)?;
    let db = database(size, &dir)?;
    let truth = dir.join("duplicates_truth.csv");
    println!("== rolo dedup benchmark: {} ==", db.display());

    // ---- pass 1: the library ----
    let store = Store::open(
        &db,
        &OpenOptions {
            read_only: true,
            cache_bytes: rolo::store::IMPORT_CACHE_BYTES,
            ..OpenOptions::default()
        },
    )
    .context("opening the bench db (is another process using it?)")?;
    let mut read_s = Vec::new();
    let mut scan_s = Vec::new();
    let mut last = None;
    for _ in 0..3 {
        let t = Instant::now();
        let records = dedup::read_records(&store)?;
        read_s.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let scan = dedup::scan(records, &DismissedPairs::new(), &ScanOptions::default());
        scan_s.push(t.elapsed().as_secs_f64());
        last = Some(scan);
    }
    drop(store);
    let scan = last.context("no rounds")?;
    let (read_m, scan_m) = (median(&mut read_s), median(&mut scan_s));
    println!(
        "{} customers, {} candidate pairs, {} pairs >= 0.9, {} clusters; {} blocks capped",
        scan.customers,
        scan.candidates,
        scan.pairs.len(),
        scan.clusters.len(),
        scan.blocks.capped
    );
    println!("library: read + fold median {read_m:.2} s, scan median {scan_m:.2} s");
    println!("last round by step (ms): {:?}", scan.timings);
    let lib_peak_mb = status_kb("VmHWM").unwrap_or(0) / 1024;
    println!("library peak memory (3 rounds) {lib_peak_mb} MB");

    // ---- pass 2: the binary, as a user runs it ----
    let bin = env!("CARGO_BIN_EXE_rolo");
    let out = Command::new("/usr/bin/time")
        .args(["-f", "TIME %e %M"])
        .arg(bin)
        .args([
            "dedup",
            "scan",
            "--read-only",
            "--json",
            "--limit",
            "0",
            "--db",
        ])
        .arg(&db)
        .args(["--truth"])
        .arg(&truth)
        .output()
        .context("running rolo under /usr/bin/time")?;
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        bail!("rolo dedup scan failed: {err}");
    }
    let (wall, peak_kb) = err
        .lines()
        .find_map(|l| {
            let mut it = l.strip_prefix("TIME ")?.split(' ');
            Some((
                it.next()?.parse::<f64>().ok()?,
                it.next()?.parse::<u64>().ok()?,
            ))
        })
        .context("no /usr/bin/time line")?;
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let e = &doc["evaluation"];
    let peak_mb = peak_kb / 1024;
    println!(
        "binary: {wall:.1} s wall, peak RSS {peak_mb} MB (targets {TARGET_SECS} s, {TARGET_PEAK_MB} MB): {}",
        if wall <= TARGET_SECS && peak_mb <= TARGET_PEAK_MB {
            "met"
        } else {
            "MISSED"
        }
    );
    for what in ["pairs", "clusters"] {
        println!(
            "{what}: precision {:.4}, recall {:.4}, F1 {:.4}",
            e[what]["precision"].as_f64().unwrap_or(0.0),
            e[what]["recall"].as_f64().unwrap_or(0.0),
            e[what]["f1"].as_f64().unwrap_or(0.0)
        );
    }
    println!(
        "BENCH_SUMMARY dedup {}",
        json!({
            "customers": scan.customers,
            "candidates": scan.candidates,
            "library_read_s": read_m,
            "library_scan_s": scan_m,
            "library_peak_mb": lib_peak_mb,
            "binary_wall_s": wall,
            "binary_peak_mb": peak_mb,
            "timings_ms": doc["timings_ms"],
            "evaluation": {
                "pairs": e["pairs"],
                "clusters": e["clusters"],
                "truth_pairs": e["truth_pairs"],
            },
        })
    );
    Ok(())
}
