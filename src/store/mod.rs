//! The embedded database: one sled keyspace, versioned records, atomic units
//! of work, migrations and the indexes that must never drift from records.
//!
//! Only this module names sled or bincode. Every change goes through a
//! [`Unit`]: it collects records, their index entries, the search chunks and
//! the audit event, and commits them as one sled batch followed by a flush,
//! so a change is either entirely on disk or not at all.

mod audit;
mod codec;
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
mod merge;
mod open;
mod orders;
mod quality;
mod read;
mod revert;
mod search_chunk;
mod segments;
mod tags;
mod unit;

pub use audit::AuditFilter;
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
pub use search_chunk::{CHUNK_IDS, SearchChunk, chunk_of};
pub use segments::{ClvModel, SavedSegment, SnapshotChunk, SnapshotEntry};
pub use tags::{RULE_REFRESH_OP, TagChange, TagOutcome, TagSummary};
pub use unit::Unit;

use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// The format version this build writes. Opening an older database migrates
/// it; a newer one is refused.
pub const FORMAT_VERSION: u32 = 3;

/// Result alias of this module.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// An open rolo database. One process at a time: sled holds a file lock.
pub struct Store {
    db: sled::Db,
    path: PathBuf,
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

    /// Writes everything to disk. Called after every commit; also on exit.
    pub fn flush(&self) -> Result<()> {
        self.db.flush()?;
        Ok(())
    }

    /// Bytes the database occupies on disk (sled's own estimate).
    pub fn size_on_disk(&self) -> Result<u64> {
        Ok(self.db.size_on_disk()?)
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Err(e) = self.db.flush() {
            tracing::error!("flush on close failed: {e}");
        }
    }
}

/// A fresh store in a temporary folder (kept alive by the returned guard).
#[cfg(test)]
pub(crate) fn test_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let store = Store::open(&dir.path().join("db"), &OpenOptions::default())
        .unwrap_or_else(|e| panic!("open: {e}"));
    (dir, store)
}
