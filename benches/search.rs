//! Search benchmark (issue 3): in-process latency of queries typed one key
//! at a time against N customers (default 1,000,000, `rolo gen --locale
//! mixed`, seed 1).
//!
//! Run: `cargo bench --bench search`, or `ROLO_BENCH_SIZE=10000 cargo bench
//! --bench search` for a smoke check. It uses the database the import bench
//! leaves at `./bench-data/n<SIZE>/db` (or `$ROLO_BENCH_DATA/db`) and builds
//! it through the library when missing.
//!
//! What it measures:
//! - `Store::open` and `Index::load` (three loads, median), the index's
//!   `memory_bytes` and its persisted size next to the customer records;
//! - 40 targets sampled deterministically from the data (5 each of Latin
//!   names, Chinese names, full pinyin, spaced pinyin, pinyin initials,
//!   email local parts, phone last-4 digits and company words); each is typed
//!   one character at a time (prefixes of 1..=8 characters) and every
//!   keystroke runs `Index::search(.., limit 50, previous narrowing)`;
//! - the same keystrokes cold (no narrowing), for comparison;
//! - the cost of loading the 50 hit records for display (outside the target).
//!
//! Targets (issue 3): p50 <= 16 ms and p99 <= 50 ms per keystroke, with
//! narrowing. The last line is `BENCH_SUMMARY search {json}`.

// The same allocator as the `rolo` binary, so the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod common;
use common::{bench_size, data_dir, mb, status_kb};

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use pinyin::ToPinyin;
use serde_json::json;

use rolo::ingest::headers::RecordKind;
use rolo::ingest::{ImportOptions, import_file};
use rolo::model::Customer;
use rolo::search::engine::{Index, Narrowing};
use rolo::search::{EvalContext, parse};
use rolo::store::{OpenOptions, Store};
use rolo::synth::{GenOptions, Locale, generate};

const PER_KIND: usize = 5;
const MAX_KEYS: usize = 8;
const LIMIT: usize = 50;
const TARGET_P50_MS: f64 = 16.0;
const TARGET_P99_MS: f64 = 50.0;

const KINDS: [&str; 8] = [
    "latin_name",
    "han_name",
    "pinyin_full",
    "pinyin_spaced",
    "pinyin_initials",
    "email",
    "phone_last4",
    "company",
];

struct Target {
    kind: &'static str,
    text: String,
    id: u64,
}

/// One measured keystroke.
struct Sample {
    kind: &'static str,
    len: usize,
    ms: f64,
    total: usize,
}

fn main() -> Result<()> {
    let size = bench_size();
    let dir = data_dir(size);
    let db = dir.join("db");
    println!("== rolo search benchmark: {size} customers ==");
    ensure_db(size, &dir, &db)?;

    let t = Instant::now();
    let store = Store::open(&db, &OpenOptions::default()).context("opening the bench db")?;
    let open_ms = ms(t);
    let rss_before = status_kb("VmRSS").unwrap_or(0) * 1024;
    let mut load_ms = Vec::new();
    let mut index = Index::default();
    for _ in 0..3 {
        drop(index);
        let t = Instant::now();
        index = Index::load(&store)?;
        load_ms.push(ms(t));
    }
    let t = Instant::now();
    index.warm();
    let warm_ms = ms(t);
    let rss_after = status_kb("VmRSS").unwrap_or(0) * 1024;
    let load_med = percentile(&load_ms, 50.0);
    println!(
        "Store::open {open_ms:.1} ms; Index::load {load_ms:.1?} ms (median {load_med:.1} ms); \
         Index::warm (short-query keys, built once after load) {warm_ms:.1} ms"
    );
    println!(
        "index: {} customers, memory_bytes {} ({:.1} bytes/customer); process RSS +{} after loading",
        index.len(),
        mb(index.memory_bytes() as u64),
        index.memory_bytes() as f64 / index.len().max(1) as f64,
        mb(rss_after.saturating_sub(rss_before))
    );

    let targets = sample_targets(&store, &index)?;
    println!("{} targets:", targets.len());
    for kind in KINDS {
        let texts: Vec<&str> = targets
            .iter()
            .filter(|t| t.kind == kind)
            .map(|t| t.text.as_str())
            .collect();
        println!("  {kind:<16} {texts:?}");
    }

    let as_of = GenOptions::new(0).end;
    let ctx = EvalContext::new(as_of);
    // Warm up the page cache, the allocator and the thread pool.
    for q in ["a", "zh", "1234"] {
        index.search(
            &store,
            &parse(q).map_err(|e| anyhow!("{e}"))?,
            &ctx,
            LIMIT,
            None,
        )?;
    }

    let mut narrowed = Vec::new();
    let mut cold = Vec::new();
    let mut fetch_ms = Vec::new();
    let mut found = 0;
    let mut found_by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    let mut parse_errors = 0;
    for t in &targets {
        let chars: Vec<char> = t.text.chars().collect();
        let mut prev: Option<Narrowing> = None;
        let mut last_hit = false;
        for len in 1..=chars.len().min(MAX_KEYS) {
            let prefix: String = chars[..len].iter().collect();
            let Ok(query) = parse(&prefix) else {
                parse_errors += 1;
                prev = None;
                continue;
            };
            let t0 = Instant::now();
            let (res, nar) = index.search(&store, &query, &ctx, LIMIT, prev.as_ref())?;
            let dt = ms(t0);
            narrowed.push(Sample {
                kind: t.kind,
                len,
                ms: dt,
                total: res.total,
            });
            let t1 = Instant::now();
            let mut shown: Vec<Customer> = Vec::with_capacity(res.hits.len());
            for h in &res.hits {
                if let Some(c) = store.customer(h.id)? {
                    shown.push(c);
                }
            }
            fetch_ms.push(ms(t1));
            last_hit = res.hits.iter().any(|h| h.id.0 == t.id);
            prev = Some(nar);
        }
        if last_hit {
            found += 1;
            *found_by_kind.entry(t.kind).or_insert(0) += 1;
        }
    }
    for t in &targets {
        let chars: Vec<char> = t.text.chars().collect();
        for len in 1..=chars.len().min(MAX_KEYS) {
            let prefix: String = chars[..len].iter().collect();
            let Ok(query) = parse(&prefix) else { continue };
            let t0 = Instant::now();
            let (res, _) = index.search(&store, &query, &ctx, LIMIT, None)?;
            cold.push(Sample {
                kind: t.kind,
                len,
                ms: ms(t0),
                total: res.total,
            });
        }
    }

    println!(
        "\nkeystrokes: {} (parse errors skipped: {parse_errors}); target in the top {LIMIT} at its last keystroke: {found}/{}",
        narrowed.len(),
        targets.len()
    );
    println!("\nper query length (ms; matches = median total):");
    println!(
        "  {:>3} {:>5} | {:>8} {:>8} {:>8} | {:>8} {:>8} {:>8} | {:>9}",
        "len", "n", "p50", "p99", "max", "cold p50", "cold p99", "cold max", "matches"
    );
    let mut per_len = serde_json::Map::new();
    for len in 1..=MAX_KEYS {
        let a: Vec<&Sample> = narrowed.iter().filter(|s| s.len == len).collect();
        let c: Vec<&Sample> = cold.iter().filter(|s| s.len == len).collect();
        if a.is_empty() {
            continue;
        }
        let (a50, a99, amax) = stats(&a);
        let (c50, c99, cmax) = stats(&c);
        let totals: Vec<f64> = a.iter().map(|s| s.total as f64).collect();
        let m = percentile(&totals, 50.0);
        println!(
            "  {len:>3} {:>5} | {a50:>8.2} {a99:>8.2} {amax:>8.2} | {c50:>8.2} {c99:>8.2} {cmax:>8.2} | {m:>9.0}",
            a.len()
        );
        per_len.insert(
            len.to_string(),
            json!({"n": a.len(), "p50_ms": a50, "p99_ms": a99, "max_ms": amax,
                   "cold_p50_ms": c50, "cold_p99_ms": c99, "cold_max_ms": cmax,
                   "median_matches": m}),
        );
    }
    println!("\nper target kind (narrowed, ms):");
    let mut per_kind = serde_json::Map::new();
    for kind in KINDS {
        let a: Vec<&Sample> = narrowed.iter().filter(|s| s.kind == kind).collect();
        if a.is_empty() {
            continue;
        }
        let (p50, p99, max) = stats(&a);
        println!(
            "  {kind:<16} n={:<4} p50 {p50:>8.2}  p99 {p99:>8.2}  max {max:>8.2}  target in top {LIMIT} at last key: {}/{PER_KIND}",
            a.len(),
            found_by_kind.get(kind).copied().unwrap_or(0)
        );
        let hits = found_by_kind.get(kind).copied().unwrap_or(0);
        per_kind.insert(
            kind.to_owned(),
            json!({"n": a.len(), "p50_ms": p50, "p99_ms": p99, "max_ms": max, "found_in_top": hits}),
        );
    }
    let all: Vec<&Sample> = narrowed.iter().collect();
    let all_cold: Vec<&Sample> = cold.iter().collect();
    let (p50, p99, max) = stats(&all);
    let (c50, c99, cmax) = stats(&all_cold);
    let f50 = percentile(&fetch_ms, 50.0);
    let f99 = percentile(&fetch_ms, 99.0);
    println!("\noverall, typing with narrowing: p50 {p50:.2} ms  p99 {p99:.2} ms  max {max:.2} ms");
    println!("overall, cold (no narrowing):   p50 {c50:.2} ms  p99 {c99:.2} ms  max {cmax:.2} ms");
    println!("loading the <= {LIMIT} hit records for display: p50 {f50:.2} ms  p99 {f99:.2} ms");
    println!("\n-- against the targets of issue 3 --");
    println!(
        "  keystroke p50 {p50:>8.2} ms  target <= {TARGET_P50_MS} ms  {}",
        if p50 <= TARGET_P50_MS {
            "MET"
        } else {
            "MISSED"
        }
    );
    println!(
        "  keystroke p99 {p99:>8.2} ms  target <= {TARGET_P99_MS} ms  {}",
        if p99 <= TARGET_P99_MS {
            "MET"
        } else {
            "MISSED"
        }
    );

    let index_len = index.len();
    let index_mem = index.memory_bytes() as u64;
    drop(index);
    drop(store);
    let sizes = logical_sizes(&db)?;
    let chunk_bytes = sizes.get(&b'g').copied().unwrap_or_default();
    let customer_bytes = sizes.get(&b'c').copied().unwrap_or_default();
    let db_bytes = dir_size(&db)?;
    println!(
        "\nsizes: index in memory {} ; search chunks {} in {} keys (logical key+value); customer records {} in {} keys; whole db on disk {}",
        mb(index_mem),
        mb(chunk_bytes.1),
        chunk_bytes.0,
        mb(customer_bytes.1),
        customer_bytes.0,
        mb(db_bytes)
    );

    let summary = json!({
        "bench": "search",
        "customers": size,
        "indexed": index_len,
        "open_ms": open_ms,
        "index_load_ms": load_ms,
        "index_load_median_ms": load_med,
        "index_warm_ms": warm_ms,
        "index_memory_bytes": index_mem,
        "index_rss_growth_bytes": rss_after.saturating_sub(rss_before),
        "keystrokes": narrowed.len(),
        "found_in_top": found,
        "targets": targets.len(),
        "p50_ms": p50, "p99_ms": p99, "max_ms": max,
        "cold_p50_ms": c50, "cold_p99_ms": c99, "cold_max_ms": cmax,
        "fetch_p50_ms": f50, "fetch_p99_ms": f99,
        "per_len": per_len,
        "per_kind": per_kind,
        "search_chunk_bytes": chunk_bytes.1,
        "search_chunk_keys": chunk_bytes.0,
        "customer_record_bytes": customer_bytes.1,
        "db_bytes": db_bytes,
        "target_p50_ms": TARGET_P50_MS,
        "target_p99_ms": TARGET_P99_MS,
    });
    println!("BENCH_SUMMARY search {summary}");
    Ok(())
}

fn stats(samples: &[&Sample]) -> (f64, f64, f64) {
    let v: Vec<f64> = samples.iter().map(|s| s.ms).collect();
    (
        percentile(&v, 50.0),
        percentile(&v, 99.0),
        v.iter().copied().fold(0.0, f64::max),
    )
}

/// Nearest-rank percentile.
fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

fn is_han(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF)
}

/// The candidate text of `kind` for customer `c`, if it has one.
fn target_text(kind: &str, c: &Customer) -> Option<String> {
    let han = c.name.chars().any(is_han);
    let pinyin: Vec<(String, String)> = if han {
        c.name
            .chars()
            .filter(|ch| !ch.is_whitespace() && *ch != '·')
            .map(|ch| match ch.to_pinyin() {
                Some(p) => (p.plain().to_owned(), p.first_letter().to_owned()),
                None => (ch.to_lowercase().collect(), ch.to_lowercase().collect()),
            })
            .collect()
    } else {
        Vec::new()
    };
    let text = match kind {
        "latin_name" if !han && !c.name.is_empty() => c.name.to_lowercase(),
        "han_name" if han => c.name.clone(),
        "pinyin_full" if han => pinyin.iter().map(|p| p.0.as_str()).collect(),
        "pinyin_spaced" if han => pinyin
            .iter()
            .map(|p| p.0.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        "pinyin_initials" if han => pinyin.iter().map(|p| p.1.as_str()).collect(),
        "email" => c.email()?.split('@').next()?.to_owned(),
        "phone_last4" => {
            let digits: String = c.phone()?.chars().filter(char::is_ascii_digit).collect();
            digits.get(digits.len().checked_sub(4)?..)?.to_owned()
        }
        "company" => {
            let company = c.company.as_deref()?.to_lowercase();
            if company.chars().any(is_han) {
                company.chars().filter(|ch| is_han(*ch)).take(4).collect()
            } else {
                company
                    .split(|ch: char| !ch.is_alphanumeric())
                    .find(|w| w.chars().count() >= 3)?
                    .to_owned()
            }
        }
        _ => return None,
    };
    // Keep what a user would type: no query syntax characters.
    let clean = !text.is_empty()
        && !text.chars().any(|ch| {
            matches!(
                ch,
                '\'' | '"' | '(' | ')' | '|' | '^' | '$' | '!' | ':' | '<' | '>' | '='
            )
        })
        && !text.starts_with('-');
    clean.then_some(text)
}

/// Five targets of each kind from customers picked by a fixed stride with a
/// mixing hash, so the sample is deterministic and spread over the ids.
fn sample_targets(store: &Store, index: &Index) -> Result<Vec<Target>> {
    let n = index.len().max(1) as u64;
    let every = (n / 4000).max(1);
    let mut pools: BTreeMap<&'static str, Vec<Target>> = BTreeMap::new();
    let mut picked = 0usize;
    for (i, c) in store.customers().enumerate() {
        let c = c?;
        if splitmix(i as u64) % every != 0 {
            continue;
        }
        picked += 1;
        for k in 0..KINDS.len() {
            let kind = KINDS[(picked + k) % KINDS.len()];
            let pool = pools.entry(kind).or_default();
            if pool.len() >= PER_KIND {
                continue;
            }
            if let Some(text) = target_text(kind, &c) {
                pool.push(Target {
                    kind,
                    text,
                    id: c.id.0,
                });
                break;
            }
        }
        if pools.values().map(Vec::len).sum::<usize>() >= PER_KIND * KINDS.len() {
            break;
        }
    }
    let mut out = Vec::new();
    for kind in KINDS {
        out.extend(pools.remove(kind).unwrap_or_default());
    }
    Ok(out)
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Makes sure `<dir>/db` holds the imported data (as the import bench leaves it).
fn ensure_db(size: u64, dir: &Path, db: &Path) -> Result<()> {
    let done = dir.join("db.complete");
    if done.is_file() && db.is_dir() {
        println!("using {}", db.display());
        return Ok(());
    }
    let gen_marker = dir.join("gen.complete");
    if !(gen_marker.is_file() && std::fs::read_to_string(&gen_marker)?.trim() == size.to_string()) {
        println!("generating {size} customers into {}...", dir.display());
        let mut opts = GenOptions::new(size);
        opts.locale = Locale::Mixed;
        opts.seed = 1;
        generate(&opts, dir, &mut |_| {})?;
        std::fs::write(&gen_marker, format!("{size}\n"))?;
    }
    if db.exists() {
        std::fs::remove_dir_all(db)?;
    }
    println!(
        "importing into {} (run the import bench for timings)...",
        db.display()
    );
    let store = Store::open(db, &OpenOptions::default())?;
    let cancel = AtomicBool::new(false);
    for (file, kind) in [
        ("customers.csv", RecordKind::Customers),
        ("orders.csv", RecordKind::Orders),
    ] {
        let path = dir.join(file);
        let mut opts = ImportOptions::new(kind);
        opts.rejects_path = Some(path.with_extension("rejects.csv"));
        import_file(&store, &path, &opts, &mut |_, _| {}, &cancel)
            .with_context(|| format!("importing {}", path.display()))?;
    }
    drop(store);
    std::fs::write(&done, format!("{size}\n"))?;
    Ok(())
}

/// (entries, key+value bytes) per key prefix, read with sled directly.
fn logical_sizes(db: &Path) -> Result<BTreeMap<u8, (u64, u64)>> {
    let sled = sled::Config::new()
        .path(db)
        .cache_capacity(64 << 20)
        .open()
        .context("opening the database with sled for sizes")?;
    let mut out: BTreeMap<u8, (u64, u64)> = BTreeMap::new();
    for prefix in [b'c', b'g'] {
        let e = out.entry(prefix).or_default();
        for item in sled.scan_prefix([prefix]) {
            let (k, v) = item?;
            e.0 += 1;
            e.1 += (k.len() + v.len()) as u64;
        }
    }
    Ok(out)
}

fn dir_size(p: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(p)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            dir_size(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}
