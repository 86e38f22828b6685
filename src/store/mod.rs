//! The embedded database: one sled keyspace, versioned records, atomic units
//! of work, migrations and the indexes that must never drift from records.
//!
//! Only this module names sled or bincode. Every change goes through a
//! [`Unit`]: it collects records, their index entries, the search chunks and
//! the audit event, and commits them as one sled batch followed by a flush,
//! so a change is either entirely on disk or not at all.

mod audit;
mod backup;
pub(crate) mod codec;
mod compact;
mod dedup;
mod edit;
mod erase;
mod error;
mod identity;
mod imports;
pub mod keys;
mod legacy;
mod maintenance;
mod marker;
mod merge;
mod open;
mod orders;
mod quality;
mod read;
mod revert;
mod rule_marks;
mod search_chunk;
mod segments;
mod space;
mod tag_index;
mod tags;
mod unit;

pub use audit::AuditFilter;
pub use backup::{BackupSummary, RestoreSummary};
pub use codec::CodecError;
pub use compact::CompactReport;
pub use dedup::{DEDUP_SCAN_OP, DedupState, StoredModel};
pub use erase::{ERASE_OP, ERASED_MARK, Erasure, ErasureReport};
pub use error::StoreError;
pub use identity::{IdKey, IdentityChunk};
pub use imports::{ImportLog, UndoBatch, UndoEntry};
pub use maintenance::stats_of;
pub use merge::{
    DISMISS_OP, MERGE_OP, MergeOutcome, MergePlan, MergeRecord, MergeSummary, MergedRecord,
    UNMERGE_OP, UnmergeOutcome,
};
pub use open::{DEFAULT_CACHE_BYTES, IMPORT_CACHE_BYTES, OpenOptions};
pub use orders::{OrderBook, OrderIdChunk};
pub use quality::{FieldFigures, QUALITY_OP, QualityFigures};
pub use revert::RevertSummary;
pub use rule_marks::{MARK_ALL_ABOVE, RuleDirt};
pub use search_chunk::{CHUNK_IDS, SearchChunk, chunk_of};
pub use segments::{ClvModel, SavedSegment, SnapshotChunk, SnapshotEntry};
pub use tag_index::{TAG_CHUNK_IDS, TagChunk};
pub use tags::{RULE_REFRESH_OP, TagChange, TagOutcome, TagSummary};
pub use unit::Unit;

use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// The format version this build writes. Opening an older database migrates
/// it; a newer one is refused.
pub const FORMAT_VERSION: u32 = 4;

/// Result alias of this module.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// An open rolo database. One process at a time: sled holds a file lock.
pub struct Store {
    db: sled::Db,
    path: PathBuf,
    /// A write or flush failed (a full disk): closing must not flush.
    io_failed: std::sync::atomic::AtomicBool,
    read_only: bool,
    /// Serializes units of work: each reads, then writes one batch.
    writer: Mutex<()>,
    /// A fixed "now" for reproducible tests; `None` reads the system clock.
    clock: Option<DateTime<Utc>>,
    user: String,
    /// Identity key hashes to ids, built from the identity chunks on first use.
    identity: Mutex<Option<identity::IdentityMap>>,
    /// Order-id hashes to customers, built from the order-id chunks on first use.
    order_ids: Mutex<Option<identity::IdentityMap>>,
    /// Whether any tag has a rule, once known (see `rule_marks`).
    rule_tags: Mutex<Option<bool>>,
    /// Rule markers written by this process since the last refresh.
    rule_marks_written: std::sync::atomic::AtomicU64,
    /// The commit count the marker file holds (see `marker`); held while
    /// flushing so markers are written in order.
    marked: Mutex<u64>,
}

impl Store {
    /// The folder the database lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether every change is refused (`--read-only`).
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The current instant (fixed in tests).
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.unwrap_or_else(Utc::now)
    }

    /// The OS user recorded in audit events.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// Starts a unit of work. It holds the writer lock until committed or dropped.
    pub fn begin(&self) -> Result<Unit<'_>> {
        if self.read_only {
            return Err(StoreError::ReadOnly);
        }
        let guard = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        Ok(Unit::new(self, guard))
    }

    /// The identity map, loaded from the identity chunks if needed.
    pub(crate) fn identity(&self) -> Result<MutexGuard<'_, Option<identity::IdentityMap>>> {
        let mut guard = self.identity.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none() {
            let mut map = identity::IdentityMap::default();
            for item in self.db.scan_prefix([keys::IDENTITY]) {
                let (k, v) = item?;
                let chunk: IdentityChunk = read::decode_at(&k, &v)?;
                for (id, stored) in chunk.entries {
                    for key in &stored {
                        if let Some(h) = identity::hash_stored(key) {
                            map.add(h, id);
                        }
                    }
                }
            }
            *guard = Some(map);
        }
        Ok(guard)
    }

    /// Forgets the identity map (after a reindex rewrote the chunks).
    pub(crate) fn reset_identity(&self) {
        *self.identity.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Writes everything to disk, then the commit marker. Called after
    /// every commit; also on exit.
    pub fn flush(&self) -> Result<()> {
        let mut marked = self.marked.lock().unwrap_or_else(|e| e.into_inner());
        // Read before the flush: every commit counted is then on disk.
        let commits = self.counter(COMMIT_COUNTER)?;
        if let Err(e) = self.db.flush() {
            self.note_io_failure();
            return Err(e.into());
        }
        if commits > *marked {
            match marker::write(&self.path, commits) {
                Ok(()) => *marked = commits,
                // An older marker only weakens the check (see `marker`).
                Err(e) => tracing::warn!("cannot write the commit marker: {e}"),
            }
        }
        Ok(())
    }

    /// Bytes the database occupies on disk (sled's own estimate).
    pub fn size_on_disk(&self) -> Result<u64> {
        Ok(self.db.size_on_disk()?)
    }
}

impl Store {
    /// Records that sled failed to write: it then waits forever for a
    /// flush that cannot finish, so closing must not flush or drop it.
    /// It also leaves a mark so that the next open checks the database:
    /// sled may keep part of the batch that failed (see `space`).
    pub(crate) fn note_io_failure(&self) {
        if !self
            .io_failed
            .swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            space::note_failed_write(&self.path);
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        if self.io_failed.load(std::sync::atomic::Ordering::Relaxed) {
            // sled 0.34 blocks for good flushing after a failed write (a
            // full disk): keep one handle alive to the process's end so its
            // own closing flush never runs. Every committed unit was
            // flushed when it committed.
            tracing::error!("a write failed; closing without a final flush");
            std::mem::forget(self.db.clone());
            return;
        }
        if let Err(e) = self.flush() {
            tracing::error!("flush on close failed: {e}");
        }
    }
}

/// The meta counter every commit bumps in its batch (see `marker`).
pub(crate) const COMMIT_COUNTER: &str = "next_commit";

/// A fresh store in a temporary folder (kept alive by the returned guard).
#[cfg(test)]
pub(crate) fn test_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let store = Store::open(&dir.path().join("db"), &OpenOptions::default())
        .unwrap_or_else(|e| panic!("open: {e}"));
    (dir, store)
}
