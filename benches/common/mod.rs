//! What the benchmarks share: the size and data folder they run on, and
//! small readings of the process and the disk.

#![allow(dead_code, reason = "each bench uses a different subset")]

use std::path::PathBuf;

/// Customers when `ROLO_BENCH_SIZE` does not say (underscores allowed: 1_000_000).
pub const DEFAULT_SIZE: u64 = 1_000_000;

/// `ROLO_BENCH_SIZE`, else [`DEFAULT_SIZE`].
pub fn bench_size() -> u64 {
    std::env::var("ROLO_BENCH_SIZE")
        .ok()
        .and_then(|s| s.replace('_', "").parse().ok())
        .unwrap_or(DEFAULT_SIZE)
}

/// `ROLO_BENCH_DATA`, else `bench-data/n<size>` in the repository (gitignored).
pub fn data_dir(size: u64) -> PathBuf {
    match std::env::var_os("ROLO_BENCH_DATA") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("bench-data")
            .join(format!("n{size}")),
    }
}

/// A `kB` field of a `/proc/<pid>/status` file (VmHWM, VmRSS, ...).
pub fn proc_status_kb(path: &str, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find_map(|l| {
        let rest = l.strip_prefix(field)?.strip_prefix(':')?;
        rest.trim().trim_end_matches("kB").trim().parse().ok()
    })
}

/// A `kB` field of this process's status.
pub fn status_kb(field: &str) -> Option<u64> {
    proc_status_kb("/proc/self/status", field)
}

/// Bytes as megabytes (10^6), one decimal.
pub fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}
