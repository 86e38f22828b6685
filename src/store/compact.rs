//! Rewriting a database into fresh files.
//!
//! sled never merges tree nodes that deletes emptied, and old values linger
//! in its log segments until they are reused. A copy of every live key into
//! a new sled folder, swapped in atomically, drops both: after a migration
//! that rewrote millions of keys (format 2 -> 3) and, later, after an erasure
//! whose values must not stay on disk.
//!
//! The copy is made next to the database (`<db>.compact`) while the source
//! stays open and locked, checked (same number of keys, same bytes), flushed,
//! and then exchanged with the database folder in one `renameat2(2)`
//! `RENAME_EXCHANGE`, so that at every instant the database path holds a
//! whole database: the old one or the new one. A crash before the exchange
//! leaves a stale `.compact` folder that the next compaction removes.
//!
//! Backups and restores (`backup`) reuse the writer lock around the walk,
//! the folder writer, the exchange and the sibling folders.

use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::{OpenOptions, Result, Store, StoreError};

/// What a compaction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CompactReport {
    pub keys: u64,
    pub bytes_before: u64,
    pub bytes_after: u64,
}

/// Keys per batch written to the copy (sequential keys: sled's fast path).
const BATCH: usize = 20_000;

impl Store {
    /// Rewrites the database in `path` into fresh files. The database must
    /// not be open elsewhere (this opens it, and holds its lock throughout).
    pub fn compact(path: &Path, progress: &mut dyn FnMut(u64)) -> Result<CompactReport> {
        let store = super::open::open_after_close(path, &OpenOptions::default())?;
        store.compact_and_close(progress)
    }

    /// Copies this open database into fresh files, swaps them in, closes
    /// the old ones and removes them. Consumes the store: its handle points
    /// at the old files once swapped.
    pub(crate) fn compact_and_close(self, progress: &mut dyn FnMut(u64)) -> Result<CompactReport> {
        let path = self.path.clone();
        let bytes_before = dir_bytes(&path);
        let tmp = sibling(&path, "compact");
        remove_dir(&tmp)?;
        let keys = self.copy_into(&tmp, progress)?;
        exchange(&path, &tmp)?;
        drop(self);
        remove_dir(&tmp)?;
        Ok(CompactReport {
            keys,
            bytes_before,
            bytes_after: dir_bytes(&path),
        })
    }

    /// Writes every key into a new sled folder `tmp` and checks the copy.
    fn copy_into(&self, tmp: &Path, progress: &mut dyn FnMut(u64)) -> Result<u64> {
        let _guard = self.lock_writer();
        let mut copy = FolderWriter::create(tmp)?;
        for item in self.db.iter() {
            let (k, v) = item?;
            copy.put(&k, &v)?;
            if copy.keys % BATCH as u64 == 0 {
                progress(copy.keys);
            }
        }
        let (copy, keys) = copy.finish()?;
        // The copy must hold exactly what the source holds.
        let mut src = self.db.iter();
        let mut dst = copy.iter();
        loop {
            let same = match (src.next(), dst.next()) {
                (None, None) => return Ok(keys),
                (Some(a), Some(b)) => a? == b?,
                _ => false,
            };
            if !same {
                return Err(StoreError::Damaged {
                    path: tmp.to_owned(),
                    reason: "the compacted copy differs from the database; \
                             the database was left as it was"
                        .into(),
                });
            }
        }
    }

    /// Holds the writer lock: no unit commits until the guard drops, so a
    /// walk over every key sees one consistent state (compaction, backup).
    pub(super) fn lock_writer(&self) -> std::sync::MutexGuard<'_, ()> {
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Fills a new sled folder with keys given in key order, in batches
/// (sequential keys are sled's fast path). Compaction and restore write
/// their copies through it.
pub(super) struct FolderWriter {
    db: sled::Db,
    batch: sled::Batch,
    in_batch: usize,
    /// Keys written so far.
    pub(super) keys: u64,
}

impl FolderWriter {
    /// Creates the sled folder `dir` (which must not hold a database).
    pub(super) fn create(dir: &Path) -> Result<FolderWriter> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(64 << 20)
            .open()
            .map_err(|e| match StoreError::from(e) {
                StoreError::DiskFull(io) => StoreError::DiskFull(io),
                other => StoreError::Create {
                    path: dir.to_owned(),
                    source: std::io::Error::other(other.to_string()),
                },
            })?;
        Ok(FolderWriter {
            db,
            batch: sled::Batch::default(),
            in_batch: 0,
            keys: 0,
        })
    }

    /// Adds one key.
    pub(super) fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.batch.insert(key, value);
        self.keys += 1;
        self.in_batch += 1;
        if self.in_batch == BATCH {
            self.db.apply_batch(std::mem::take(&mut self.batch))?;
            self.in_batch = 0;
        }
        Ok(())
    }

    /// Writes the last batch and flushes; returns the database and the
    /// number of keys written.
    pub(super) fn finish(mut self) -> Result<(sled::Db, u64)> {
        self.db.apply_batch(std::mem::take(&mut self.batch))?;
        self.db.flush()?;
        Ok((self.db, self.keys))
    }
}

/// `<path>.<suffix>`, next to the database folder.
pub(super) fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".");
    name.push(suffix);
    path.with_file_name(name)
}

pub(super) fn remove_dir(dir: &Path) -> Result<()> {
    match fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(StoreError::Create {
            path: dir.to_owned(),
            source,
        }),
    }
}

/// Swaps two folders atomically (`renameat2` with `RENAME_EXCHANGE`).
#[expect(
    unsafe_code,
    reason = "renameat2(2) has no safe wrapper in std or libc"
)]
pub(super) fn exchange(a: &Path, b: &Path) -> Result<()> {
    let to_c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes()).map_err(|_| StoreError::Create {
            path: p.to_owned(),
            source: std::io::Error::other("path contains a NUL byte"),
        })
    };
    let (ca, cb) = (to_c(a)?, to_c(b)?);
    // SAFETY: both pointers are valid NUL-terminated strings for the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(StoreError::Create {
            path: a.to_owned(),
            source: std::io::Error::last_os_error(),
        })
    }
}

/// Bytes of the files directly in a folder and its subfolders.
fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_bytes(&e.path()),
            _ => e.metadata().map_or(0, |m| m.len()),
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Customer;

    #[test]
    fn compaction_keeps_every_key_and_swaps_in_place() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("db");
        {
            let store = Store::open(&path, &OpenOptions::default()).expect("open");
            for i in 0..300 {
                let c = Customer {
                    name: format!("Customer {i}"),
                    emails: vec![format!("c{i}@example.com")],
                    ..Customer::default()
                };
                store.create_customer(&c).expect("create");
            }
            let all: Vec<_> = store.all_customers().collect();
            let mut unit = store.begin().expect("begin");
            for c in all.into_iter().take(250) {
                unit.purge_customer(c.expect("customer").id).expect("purge");
            }
            unit.commit().expect("commit");
        }
        let before: Vec<(Vec<u8>, Vec<u8>)> = {
            let store =
                crate::store::open::open_after_close(&path, &OpenOptions::default()).expect("open");
            store
                .db
                .iter()
                .map(|kv| kv.map(|(k, v)| (k.to_vec(), v.to_vec())).expect("kv"))
                .collect()
        };
        let report = Store::compact(&path, &mut |_| {}).expect("compact");
        assert!(report.bytes_after > 0);
        assert_eq!(report.keys, before.len() as u64);
        assert!(
            !sibling(&path, "compact").exists(),
            "the old files are removed"
        );
        let store =
            crate::store::open::open_after_close(&path, &OpenOptions::default()).expect("reopen");
        let after: Vec<(Vec<u8>, Vec<u8>)> = store
            .db
            .iter()
            .map(|kv| kv.map(|(k, v)| (k.to_vec(), v.to_vec())).expect("kv"))
            .collect();
        assert_eq!(after, before);
        assert_eq!(store.check().expect("check"), Vec::<String>::new());
        assert_eq!(store.live_count().expect("count"), 50);
    }

    #[test]
    fn compaction_refuses_a_database_in_use() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("db");
        let _open = Store::open(&path, &OpenOptions::default()).expect("open");
        match Store::compact(&path, &mut |_| {}) {
            Err(StoreError::Locked(_)) => {}
            other => panic!("expected Locked, got {other:?}"),
        }
    }
}
