//! Room on the disk before a batch is written.
//!
//! sled 0.34 does not keep its batches whole when the disk fills up in the
//! middle of one: after an `ENOSPC` it recovers, in about half the cases,
//! part of the batch it was writing (some customers of an import batch
//! without their search and identity chunks). So rolo does not let sled run
//! into a full disk of its own making: before each unit's batch it asks the
//! file system how much room is left, and stops with the disk-full error,
//! having written nothing, when the batch might not fit. What the batch
//! needs is an estimate: sled writes every value to its log, rewrites the
//! tree nodes holding it, and keeps old versions until it cleans a segment,
//! so it takes a few times the batch's own bytes, plus whole log buffers.
//!
//! A disk filled by another program during a batch can still tear it. A
//! failed write therefore leaves an empty file, [`FAILED_WRITE`], in the
//! database folder (it needs no data blocks, so it can be made on a full
//! disk); the next open runs `check` and rebuilds the indexes and derived
//! figures from the records if anything is out of step, then removes it.

use super::{Result, Store};
use std::path::{Path, PathBuf};

/// The file a failed write leaves in the database folder.
pub const FAILED_WRITE: &str = "rolo-write-failed";

fn failed_write(db: &Path) -> PathBuf {
    db.join(FAILED_WRITE)
}

/// Leaves the failed-write file (best effort: nothing more can be done).
pub(super) fn note_failed_write(db: &Path) {
    if let Err(e) = std::fs::File::create(failed_write(db)) {
        tracing::warn!("cannot leave the failed-write mark: {e}");
    }
}

impl Store {
    /// After a write failed in an earlier process: checks the database and
    /// rebuilds what is derivable if a torn batch left it out of step.
    /// Returns the problems repaired (none when nothing failed). A
    /// read-only open checks nothing: it leaves the mark for the next.
    pub(super) fn recover_failed_write(&self) -> Result<Vec<String>> {
        let mark = failed_write(&self.path);
        if self.read_only || !mark.exists() {
            return Ok(Vec::new());
        }
        let problems = self.check()?;
        if !problems.is_empty() {
            tracing::warn!(
                "a write failed earlier; {} problems, rebuilding indexes",
                problems.len()
            );
            self.reindex(&mut |_| {})?;
        }
        if let Err(e) = std::fs::remove_file(&mark) {
            tracing::warn!("cannot remove the failed-write mark: {e}");
        }
        Ok(problems)
    }
}

/// How many times its own size a batch may take on disk.
const AMPLIFICATION: u64 = 4;
/// Room always kept free: sled's log buffers and segments, its snapshot,
/// the commit marker.
const MARGIN: u64 = 8 << 20;

/// Bytes a batch of `batch` bytes needs free before it is written.
pub fn needed(batch: u64) -> u64 {
    batch.saturating_mul(AMPLIFICATION).saturating_add(MARGIN)
}

/// Bytes an unprivileged process may still write on the file system
/// holding `path`; `None` when the file system does not say.
#[expect(
    unsafe_code,
    reason = "statvfs(3) has no safe wrapper in std; the struct is read only after success"
)]
pub fn available(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::zeroed();
    // SAFETY: `c` is a NUL-terminated path and `st` points to writable
    // memory the size of a `statvfs`, which the call fills on success.
    let rc = unsafe { libc::statvfs(c.as_ptr(), st.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: statvfs returned 0, so it filled the struct.
    let st = unsafe { st.assume_init() };
    #[allow(clippy::unnecessary_cast)] // the field types differ by platform
    Some((st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
}

/// `Err` (disk full, nothing written) when a batch of `batch` bytes might
/// not fit on the disk holding `path`.
/// `ROLO_NO_SPACE_GUARD` (set by a test) turns the check off, so that sled
/// itself runs into the full disk.
pub fn ensure(path: &Path, batch: u64) -> std::io::Result<()> {
    if std::env::var_os("ROLO_NO_SPACE_GUARD").is_some() {
        return Ok(());
    }
    match available(path) {
        Some(free) if free < needed(batch) => Err(std::io::Error::new(
            std::io::ErrorKind::StorageFull,
            format!(
                "{} MB free, the change needs about {} MB",
                free >> 20,
                needed(batch).div_ceil(1 << 20)
            ),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_needs_a_margin_and_a_multiple_of_its_size() {
        assert_eq!(needed(0), MARGIN);
        assert_eq!(needed(1 << 20), (4 << 20) + MARGIN);
        assert_eq!(needed(u64::MAX), u64::MAX);
    }

    #[test]
    fn the_temporary_folder_has_room_for_a_small_batch_not_for_an_absurd_one() {
        let dir = std::env::temp_dir();
        assert!(available(&dir).is_some_and(|free| free > 0));
        assert!(ensure(&dir, 1).is_ok());
        let err = ensure(&dir, u64::MAX / 8).unwrap_err();
        assert!(crate::store::error::is_disk_full(&err), "{err}");
        assert!(err.to_string().contains("MB free"), "{err}");
    }

    #[test]
    fn a_path_that_does_not_exist_is_not_refused() {
        assert_eq!(available(Path::new("/no/such/folder/anywhere")), None);
        assert!(ensure(Path::new("/no/such/folder/anywhere"), u64::MAX).is_ok());
    }
}
