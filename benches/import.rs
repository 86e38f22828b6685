//! Import benchmark (issue 2): generate N customers and 5N orders with
//! `rolo::synth` (mixed locale, seed 1), import customers then orders into a
//! fresh database, and report rows/s, database size against CSV size and
//! peak memory.
//!
//! Run: `cargo bench --bench import` (N = 1,000,000), or
//! `ROLO_BENCH_SIZE=10000 cargo bench --bench import` for a smoke check.
//!
//! Environment:
//! - `ROLO_BENCH_SIZE`  customers (default 1,000,000; orders are 5x that)
//! - `ROLO_BENCH_DATA`  data folder (default `./bench-data/n<SIZE>`, gitignored);
//!   generated CSVs there are reused when complete
//! - `ROLO_BENCH_CHILD=0` skip the second pass through the release binary
//! - `ROLO_BENCH_KEEP=1` keep the library-import database (`db-lib`)
//!
//! Two passes:
//! 1. in-process, through the library (`ingest::import_file` on a
//!    `store::Store`): rows/s per kind, on-disk size per kind, and VmHWM of
//!    this process reset per phase (`/proc/self/clear_refs` = 5);
//! 2. as child processes `rolo import customers|orders FILE --db DB` of the
//!    release binary under `/usr/bin/time -v`: rows/s and the child's peak
//!    RSS (the authoritative peak figure). Its database is left at
//!    `<data>/db` (with `<data>/db.complete`) for the search bench and
//!    `scripts/bench.sh`.
//!
//! The last line is machine-readable: `BENCH_SUMMARY import {json}`.

// The same allocator as the `rolo` binary, so the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod common;
use common::proc_status_kb;
use common::{bench_size, data_dir, mb, status_kb};

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::json;

use rolo::ingest::headers::RecordKind;
use rolo::ingest::{ImportOptions, ImportReport, import_file};
use rolo::store::{OpenOptions, Store};
use rolo::synth::{GenOptions, Locale, generate};

const TARGET_ROWS_PER_S: f64 = 50_000.0;
const TARGET_DB_RATIO: f64 = 4.0;
const TARGET_PEAK_BYTES: u64 = 1 << 30;

fn main() -> Result<()> {
    // `cargo bench` passes `--bench`; nothing to parse.
    let size = bench_size();
    let dir = data_dir(size);
    println!(
        "== rolo import benchmark: {size} customers, {} orders ==",
        size * 5
    );
    println!("data folder: {}", dir.display());

    let gen_secs = ensure_data(size, &dir)?;
    let customers_csv = dir.join("customers.csv");
    let orders_csv = dir.join("orders.csv");
    let customers_csv_bytes = file_len(&customers_csv)?;
    let orders_csv_bytes = file_len(&orders_csv)?;
    println!(
        "CSV: customers.csv {} , orders.csv {}",
        mb(customers_csv_bytes),
        mb(orders_csv_bytes)
    );

    // ---- pass 1: in-process through the library ----
    println!("\n-- pass 1: in-process (rolo::ingest::import_file) --");
    let lib_db = dir.join("db-lib");
    remove_dir(&lib_db)?;
    let opts = OpenOptions {
        cache_bytes: rolo::store::IMPORT_CACHE_BYTES,
        ..OpenOptions::default()
    };
    let store = Store::open(&lib_db, &opts).context("opening db-lib")?;
    let cust = lib_import(&store, &customers_csv, RecordKind::Customers)?;
    print_phase("customers", &cust);
    let after_customers = dir_size(&lib_db)?;
    let ord = lib_import(&store, &orders_csv, RecordKind::Orders)?;
    print_phase("orders", &ord);
    let t = Instant::now();
    drop(store);
    let close_secs = t.elapsed().as_secs_f64();
    let after_orders = dir_size(&lib_db)?;
    let lib_hwm_total = status_kb("VmHWM").map(|k| k * 1024);
    println!("close (final flush): {close_secs:.2} s");
    println!(
        "db after customers: {} apparent, {} allocated ({:.2}x customers.csv)",
        mb(after_customers.0),
        mb(after_customers.1),
        after_customers.0 as f64 / customers_csv_bytes as f64
    );
    println!(
        "db after orders:    {} apparent, {} allocated ({:.2}x customers.csv + orders.csv)",
        mb(after_orders.0),
        mb(after_orders.1),
        after_orders.0 as f64 / (customers_csv_bytes + orders_csv_bytes) as f64
    );
    let logical = logical_breakdown(&lib_db)?;
    println!("logical bytes (key + value) by key prefix:");
    let logical_total: u64 = logical.values().map(|(_, b)| b).sum();
    for (prefix, (n, bytes)) in &logical {
        println!(
            "  {:<14} {:>10} entries {:>12}  ({:.1}%)",
            prefix_name(*prefix),
            n,
            mb(*bytes),
            100.0 * *bytes as f64 / logical_total.max(1) as f64
        );
    }
    println!(
        "  total          {:>12}  (on disk {:.2}x of logical)",
        mb(logical_total),
        after_orders.0 as f64 / logical_total.max(1) as f64
    );
    if std::env::var("ROLO_BENCH_KEEP").as_deref() != Ok("1") {
        remove_dir(&lib_db)?;
    }

    // ---- pass 2: the release binary as a child process ----
    let child = if std::env::var("ROLO_BENCH_CHILD").as_deref() == Ok("0") {
        None
    } else {
        println!("\n-- pass 2: child process (release `rolo import`) --");
        let db = dir.join("db");
        remove_dir(&db)?;
        let _ = std::fs::remove_file(dir.join("db.complete"));
        let c = child_import(&db, "customers", &customers_csv)?;
        print_child("customers", &c);
        let o = child_import(&db, "orders", &orders_csv)?;
        print_child("orders", &o);
        let sizes = dir_size(&db)?;
        std::fs::write(dir.join("db.complete"), format!("{size}\n"))?;
        println!(
            "db: {} apparent ({:.2}x both CSVs); left for the search bench at {}",
            mb(sizes.0),
            sizes.0 as f64 / (customers_csv_bytes + orders_csv_bytes) as f64,
            db.display()
        );
        Some((c, o, sizes))
    };

    // ---- verdicts ----
    println!("\n-- against the targets of issue 2 --");
    let cust_ratio = after_customers.0 as f64 / customers_csv_bytes as f64;
    let all_ratio = after_orders.0 as f64 / (customers_csv_bytes + orders_csv_bytes) as f64;
    let peak = child
        .as_ref()
        .and_then(|(c, o, _)| Some(c.peak_bytes?.max(o.peak_bytes?)));
    let lib_peak = cust.hwm_bytes.max(ord.hwm_bytes);
    verdict(
        "customer rows/s (library)",
        cust.rows_per_s(),
        ">=",
        TARGET_ROWS_PER_S,
    );
    if let Some((c, _, _)) = &child {
        verdict(
            "customer rows/s (child)",
            c.rows_per_s(),
            ">=",
            TARGET_ROWS_PER_S,
        );
    }
    verdict(
        "db / CSV (customers only)",
        cust_ratio,
        "<=",
        TARGET_DB_RATIO,
    );
    verdict(
        "db / CSV (customers+orders)",
        all_ratio,
        "<=",
        TARGET_DB_RATIO,
    );
    match peak {
        Some(p) => verdict(
            "peak RSS MB (child, time -v)",
            p as f64 / 1e6,
            "<",
            TARGET_PEAK_BYTES as f64 / 1e6,
        ),
        None => verdict(
            "peak RSS MB (in-process VmHWM)",
            lib_peak.unwrap_or(0) as f64 / 1e6,
            "<",
            TARGET_PEAK_BYTES as f64 / 1e6,
        ),
    }

    let summary = json!({
        "bench": "import",
        "customers": size,
        "orders": size * 5,
        "generate_s": gen_secs,
        "customers_csv_bytes": customers_csv_bytes,
        "orders_csv_bytes": orders_csv_bytes,
        "lib": {
            "customers": cust.json(),
            "orders": ord.json(),
            "close_s": close_secs,
            "db_bytes_after_customers": after_customers.0,
            "db_bytes_after_orders": after_orders.0,
            "db_alloc_bytes_after_orders": after_orders.1,
            "logical_bytes": logical.iter().map(|(p, (n, b))| (prefix_name(*p).to_owned(), json!({"entries": n, "bytes": b}))).collect::<serde_json::Map<_, _>>(),
            "process_vmhwm_bytes": lib_hwm_total,
        },
        "child": child.as_ref().map(|(c, o, s)| json!({
            "peak_method": "/usr/bin/time -v (max RSS of the child)",
            "customers": c.json(),
            "orders": o.json(),
            "db_bytes": s.0,
        })),
        "db_ratio_customers": cust_ratio,
        "db_ratio_all": all_ratio,
        "peak_rss_bytes": peak.or(lib_peak),
        "targets": {
            "customer_rows_per_s": TARGET_ROWS_PER_S,
            "db_ratio": TARGET_DB_RATIO,
            "peak_bytes": TARGET_PEAK_BYTES,
        },
    });
    println!("BENCH_SUMMARY import {summary}");
    Ok(())
}

/// Generates the CSVs unless a complete set is there; returns the seconds spent.
fn ensure_data(size: u64, dir: &Path) -> Result<Option<f64>> {
    let marker = dir.join("gen.complete");
    if marker.is_file() && std::fs::read_to_string(&marker)?.trim() == size.to_string() {
        println!("reusing generated data ({})", marker.display());
        return Ok(None);
    }
    let mut opts = GenOptions::new(size);
    opts.locale = Locale::Mixed;
    opts.seed = 1;
    println!("generating (rolo::synth, locale mixed, seed 1)...");
    let t = Instant::now();
    let s = generate(&opts, dir, &mut |_| {})
        .with_context(|| format!("generating into {}", dir.display()))?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "generated {} customers ({} planted duplicates), {} orders, {} notes in {secs:.1} s",
        s.customers, s.duplicates, s.orders, s.notes
    );
    std::fs::write(&marker, format!("{size}\n"))?;
    Ok(Some(secs))
}

struct Phase {
    report: ImportReport,
    secs: f64,
    /// VmHWM of this process during the phase (reset before it), if the
    /// kernel allowed the reset; else the process-lifetime peak.
    hwm_bytes: Option<u64>,
    hwm_was_reset: bool,
}

impl Phase {
    fn rows_per_s(&self) -> f64 {
        self.report.read as f64 / self.secs
    }

    fn json(&self) -> serde_json::Value {
        json!({
            "read": self.report.read,
            "inserted": self.report.inserted,
            "updated": self.report.updated,
            "rejected": self.report.rejected,
            "warnings": self.report.warnings,
            "secs": self.secs,
            "rows_per_s": self.rows_per_s(),
            "vmhwm_bytes": self.hwm_bytes,
            "vmhwm_reset_per_phase": self.hwm_was_reset,
        })
    }
}

fn lib_import(store: &Store, file: &Path, kind: RecordKind) -> Result<Phase> {
    let hwm_was_reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let mut opts = ImportOptions::new(kind);
    opts.rejects_path = Some(file.with_extension("rejects.csv"));
    let cancel = AtomicBool::new(false);
    let t = Instant::now();
    let report = import_file(store, file, &opts, &mut |_, _| {}, &cancel)
        .with_context(|| format!("importing {}", file.display()))?;
    let secs = t.elapsed().as_secs_f64();
    Ok(Phase {
        report,
        secs,
        hwm_bytes: status_kb("VmHWM").map(|k| k * 1024),
        hwm_was_reset,
    })
}

fn print_phase(name: &str, p: &Phase) {
    let r = &p.report;
    println!(
        "{name:<9}: {} read, {} inserted, {} updated, {} rejected, {} warnings in {:.2} s = {:.0} rows/s; VmHWM {}{}",
        r.read,
        r.inserted,
        r.updated,
        r.rejected,
        r.warnings,
        p.secs,
        p.rows_per_s(),
        p.hwm_bytes.map_or("?".into(), mb),
        if p.hwm_was_reset {
            " (reset for this phase)"
        } else {
            " (process lifetime)"
        }
    );
}

struct Child {
    rows: u64,
    secs: f64,
    peak_bytes: Option<u64>,
    method: &'static str,
}

impl Child {
    fn rows_per_s(&self) -> f64 {
        self.rows as f64 / self.secs
    }

    fn json(&self) -> serde_json::Value {
        json!({
            "read": self.rows,
            "secs": self.secs,
            "rows_per_s": self.rows_per_s(),
            "peak_rss_bytes": self.peak_bytes,
            "peak_method": self.method,
        })
    }
}

/// Runs `rolo import KIND FILE --db DB --json` and measures its peak RSS.
fn child_import(db: &Path, kind: &str, file: &Path) -> Result<Child> {
    let exe = env!("CARGO_BIN_EXE_rolo");
    let time = Path::new("/usr/bin/time");
    let use_time = time.is_file();
    let mut cmd = if use_time {
        let mut c = Command::new(time);
        c.arg("-v").arg(exe);
        c
    } else {
        Command::new(exe)
    };
    cmd.arg("--db")
        .arg(db)
        .arg("--json")
        .arg("import")
        .arg(kind)
        .arg(file)
        .arg("--rejects")
        .arg(file.with_extension("rejects.csv"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let t = Instant::now();
    let mut child = cmd.spawn().with_context(|| format!("starting {exe}"))?;
    // Without time(1), poll the child's VmHWM until it exits (a lower bound).
    let pid = child.id();
    let mut polled: Option<u64> = None;
    if !use_time {
        while child.try_wait()?.is_none() {
            if let Some(kb) = proc_status_kb(&format!("/proc/{pid}/status"), "VmHWM") {
                polled = Some(polled.unwrap_or(0).max(kb * 1024));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let out = child.wait_with_output()?;
    let secs = t.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        bail!("rolo import {kind} failed: {stderr}");
    }
    let report: serde_json::Value = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .or_else(|| serde_json::from_str(&stdout).ok())
        .context("rolo import --json printed no JSON")?;
    let rows = report["read"].as_u64().unwrap_or(0);
    let (peak_bytes, method) = if use_time {
        let kb = stderr.lines().find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes):")
                .and_then(|v| v.trim().parse::<u64>().ok())
        });
        (kb.map(|k| k * 1024), "/usr/bin/time -v")
    } else {
        (polled, "polled /proc/PID/status VmHWM (lower bound)")
    };
    Ok(Child {
        rows,
        secs,
        peak_bytes,
        method,
    })
}

fn print_child(name: &str, c: &Child) {
    println!(
        "{name:<9}: {} read in {:.2} s (whole process) = {:.0} rows/s; peak RSS {} ({})",
        c.rows,
        c.secs,
        c.rows_per_s(),
        c.peak_bytes.map_or("?".into(), mb),
        c.method
    );
}

fn verdict(what: &str, value: f64, op: &str, target: f64) {
    let ok = match op {
        ">=" => value >= target,
        "<=" => value <= target,
        _ => value < target,
    };
    println!(
        "  {:<32} {:>12.2}  target {op} {:<10}  {}",
        what,
        value,
        target,
        if ok { "MET" } else { "MISSED" }
    );
}

fn file_len(p: &Path) -> Result<u64> {
    Ok(std::fs::metadata(p)
        .with_context(|| format!("reading {}", p.display()))?
        .len())
}

/// (apparent bytes, allocated bytes) of every file under `p`.
fn dir_size(p: &Path) -> Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let mut total = (0, 0);
    for entry in std::fs::read_dir(p)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        if meta.is_dir() {
            let (a, b) = dir_size(&entry.path())?;
            total.0 += a;
            total.1 += b;
        } else {
            total.0 += meta.len();
            total.1 += meta.blocks() * 512;
        }
    }
    Ok(total)
}

fn remove_dir(p: &Path) -> Result<()> {
    if p.exists() {
        std::fs::remove_dir_all(p).with_context(|| format!("removing {}", p.display()))?;
    }
    Ok(())
}

/// Entries and key+value bytes per key prefix, read with sled directly
/// (after the store is closed).
fn logical_breakdown(db: &Path) -> Result<BTreeMap<u8, (u64, u64)>> {
    let sled = sled::Config::new()
        .path(db)
        .cache_capacity(64 << 20)
        .open()
        .context("opening the database with sled for the size breakdown")?;
    let mut out: BTreeMap<u8, (u64, u64)> = BTreeMap::new();
    for item in sled.iter() {
        let (k, v) = item?;
        let e = out.entry(k.first().copied().unwrap_or(0)).or_default();
        e.0 += 1;
        e.1 += (k.len() + v.len()) as u64;
    }
    Ok(out)
}

fn prefix_name(p: u8) -> &'static str {
    match p {
        b'm' => "m meta",
        b'c' => "c customer",
        b's' => "s stats",
        b'o' => "o order",
        b'O' => "O order_id",
        b'n' => "n note",
        b'x' => "x ext_id idx",
        b'e' => "e email idx",
        b'p' => "p phone idx",
        b't' => "t tag idx",
        b'a' => "a audit",
        b'i' => "i import log",
        b'u' => "u undo",
        b'g' => "g search",
        b'h' => "h history",
        _ => "? other",
    }
}
