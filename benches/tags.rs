//! Bulk tagging benchmark (issue 5): adding one tag to 100,000 customers of
//! the 1M-customer bench database is one atomic operation, undone by one
//! undo. Target: under 2 seconds.
//!
//! Run: `ROLO_BENCH_DATA=DIR cargo bench --bench tags` where `DIR/db` is the
//! database the import bench leaves (it is changed and changed back: the tag
//! is added, undone, redone and undone again). Three rounds; medians.
//! The last line is `BENCH_SUMMARY tags {json}`.

// The same allocator as the `rolo` binary, so the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod common;
use common::{bench_size, data_dir};

use std::time::Instant;

use anyhow::{Context, Result, bail};
use rolo::model::CustomerId;
use rolo::store::{OpenOptions, Store};

const TAGGED: usize = 100_000;
const TAG: &str = "bench/bulk";

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<()> {
    let size = bench_size();
    let db = data_dir(size).join("db");
    if !db.exists() {
        bail!(
            "no bench database at {}: run `cargo bench --bench import` first",
            db.display()
        );
    }
    let opts = OpenOptions {
        cache_bytes: std::env::var("ROLO_BENCH_CACHE_MB")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .map_or(OpenOptions::default().cache_bytes, |mb| mb << 20),
        ..OpenOptions::default()
    };
    let store = Store::open(&db, &opts).context("opening the bench db")?;
    // Every tenth customer, so the tagged records are spread over the keyspace.
    let ids: Vec<CustomerId> = store
        .customers()
        .filter_map(|c| c.ok().map(|c| c.id))
        .step_by(10)
        .take(TAGGED)
        .collect();
    println!("== bulk tagging: {} of {size} customers ==", ids.len());
    let (mut add, mut undo, mut redo) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..3 {
        let t = Instant::now();
        let out = store.add_tag(TAG, &ids)?;
        add.push(ms(t));
        if store.find_tag(TAG)?.len() != ids.len() {
            bail!("round {round}: the tag is not on every customer: {out:?}");
        }
        let t = Instant::now();
        store.undo()?;
        undo.push(ms(t));
        if !store.find_tag(TAG)?.is_empty() {
            bail!("round {round}: one undo did not take the whole tag back");
        }
        let t = Instant::now();
        store.redo()?;
        redo.push(ms(t));
        store.undo()?;
    }
    let (a, u, r) = (median(&mut add), median(&mut undo), median(&mut redo));
    println!(
        "add tag to {} customers: median {a:.0} ms {add:.0?}",
        ids.len()
    );
    println!("undo (one step): median {u:.0} ms {undo:.0?}");
    println!("redo: median {r:.0} ms {redo:.0?}");
    println!(
        "target: under 2000 ms and one undo: {}",
        if a < 2000.0 { "MET" } else { "MISSED" }
    );
    println!(
        "BENCH_SUMMARY tags {{\"customers\":{size},\"tagged\":{},\"add_ms\":{a:.1},\"undo_ms\":{u:.1},\"redo_ms\":{r:.1}}}",
        ids.len()
    );
    Ok(())
}
