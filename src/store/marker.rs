//! The commit marker: a 20-byte file next to sled's files saying how many
//! units had been committed and flushed when it was written.
//!
//! sled recovers from a torn log by keeping its longest whole prefix: right
//! after a crash that is what it should do, but when the files are damaged
//! later (a log cut short, a lost snapshot) it opens an older state without
//! a word, and rolo would show it as if nothing had happened. Every commit
//! bumps the counter `m next_commit` in its own batch; after each flush the
//! counter read *before* the flush is written here (temporary file, fsync,
//! rename), so the marker never runs ahead of what is durably on disk. On
//! open, a database whose counter is behind its marker has lost
//! acknowledged changes and is refused as damaged.
//!
//! A missing marker (a database older than the marker, a fresh copy, a
//! restore) checks nothing; a marker that cannot be written (a full disk)
//! only weakens the check, since an older marker never raises an alarm.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The marker's file name inside the database folder.
pub const FILE: &str = "rolo-commits";
const MAGIC: &[u8; 8] = b"ROLOCMT1";
const LEN: usize = 20;

/// The marker's path for a database folder.
pub fn path(db: &Path) -> PathBuf {
    db.join(FILE)
}

/// Reads the marker: `Ok(None)` when there is none, `Err(reason)` when it
/// is not a whole marker.
pub fn read(db: &Path) -> Result<Option<u64>, String> {
    let bytes = match fs::read(path(db)) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read it: {e}")),
    };
    decode(&bytes).map(Some)
}

fn decode(bytes: &[u8]) -> Result<u64, String> {
    if bytes.len() != LEN || !bytes.starts_with(MAGIC) {
        return Err(format!("{} bytes instead of a marker", bytes.len()));
    }
    let (body, crc) = bytes.split_at(16);
    let crc = u32::from_le_bytes(crc.try_into().map_err(|_| "short".to_owned())?);
    if crc32fast::hash(body) != crc {
        return Err("checksum mismatch".to_owned());
    }
    let n: [u8; 8] = body[8..].try_into().map_err(|_| "short".to_owned())?;
    Ok(u64::from_be_bytes(n))
}

fn encode(commits: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(LEN);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&commits.to_be_bytes());
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Replaces the marker with `commits` (temporary file, fsync, rename).
pub fn write(db: &Path, commits: u64) -> std::io::Result<()> {
    let tmp = db.join(format!("{FILE}.tmp"));
    let result = fs::File::create(&tmp)
        .and_then(|mut f| {
            f.write_all(&encode(commits))?;
            f.sync_all()
        })
        .and_then(|()| fs::rename(&tmp, path(db)));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip_and_damage_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(read(dir.path()), Ok(None));
        write(dir.path(), 42).expect("write");
        assert_eq!(read(dir.path()), Ok(Some(42)));
        let mut bytes = fs::read(path(dir.path())).expect("read");
        bytes[12] ^= 1;
        fs::write(path(dir.path()), &bytes).expect("damage");
        assert_eq!(read(dir.path()), Err("checksum mismatch".to_owned()));
        fs::write(path(dir.path()), &bytes[..7]).expect("cut");
        assert!(read(dir.path()).is_err_and(|e| e.contains("7 bytes")));
    }
}
