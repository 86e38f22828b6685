//! Backups: one file holding every key and value of a database, and the
//! restore that turns it back into a database folder.
//!
//! ```text
//! header   "ROLOBAK\n" | backup format: u32 BE | database format: u32 BE | created: unix seconds, i64 BE
//! entries  1u8 | key length: u32 BE | key | value length: u32 BE | value      (in key order)
//! end      0u8 | number of entries: u64 BE
//! digest   SHA-256 of every byte above (32 bytes)
//! ```
//!
//! A backup is taken while the database is in use, from the process that
//! has it open (the CLI command or the workbench's `:backup`): the walk
//! holds the writer lock, so no unit commits midway and the file is one
//! consistent state. It is written to a temporary file next to the target,
//! fsynced, read back and verified, and only then renamed into place.
//!
//! SHA-256 rather than a CRC: backups are copied between machines and kept
//! for years, and a cryptographic digest has no practical blind spot for
//! damage of any shape (a CRC-32 misses one random change in four billion,
//! and is trivially forged). The digest is printed, so it can be recorded
//! elsewhere and compared. sha2 was already in the dependency tree, and it
//! hashes at several hundred MB/s: far from the bottleneck of a backup.
//!
//! A restore reads the whole file and checks its structure and digest
//! before it creates anything; then it writes the keys into a new sled
//! folder next to the target (through compaction's folder writer), hashes
//! what the new database holds, which must give the backup's digest again,
//! and moves it into place: a rename, or an atomic exchange with an
//! existing database the user agreed to replace, which is then removed.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::compact::{FolderWriter, exchange, remove_dir, sibling};
use super::open::{
    SLED_FILES, create_private_dir, is_nonempty_dir, lock_folder, set_private_umask,
};
use super::{FORMAT_VERSION, Result, Store, StoreError};

const MAGIC: &[u8; 8] = b"ROLOBAK\n";
/// The layout above; a reader refuses a higher number.
const BACKUP_VERSION: u32 = 1;
const ENTRY: u8 = 1;
const END: u8 = 0;
const DIGEST_LEN: u64 = 32;
/// Keys between progress reports.
const PROGRESS_EVERY: u64 = 10_000;

/// What `rolo backup` wrote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BackupSummary {
    pub file: PathBuf,
    pub keys: u64,
    pub bytes: u64,
    /// Hex SHA-256 of the file's content (the digest it ends with).
    pub sha256: String,
    /// The database format the keys are in.
    pub format: u32,
    pub created: DateTime<Utc>,
}

/// What `rolo restore` did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RestoreSummary {
    pub db: PathBuf,
    pub keys: u64,
    pub sha256: String,
    pub format: u32,
    /// When the backup was taken.
    pub created: DateTime<Utc>,
    /// Whether an existing database was replaced.
    pub replaced: bool,
}

impl Store {
    /// Writes a consistent, checksummed snapshot of the whole database to
    /// `file` (replacing it if it exists). `progress` gets the keys written.
    pub fn backup(&self, file: &Path, progress: &mut dyn FnMut(u64)) -> Result<BackupSummary> {
        let tmp = sibling(file, &format!("tmp-{}", std::process::id()));
        let result = self.write_backup(&tmp, file, progress).and_then(|header| {
            let read = read_backup(&tmp, &mut |_, _| Ok(()))?;
            if read.header != header {
                return Err(damaged(&tmp, "it reads back differently".into()));
            }
            fs::rename(&tmp, file).map_err(|source| StoreError::File {
                op: "write the backup",
                path: file.to_owned(),
                cause: source,
            })?;
            sync_parent(file);
            Ok(BackupSummary {
                file: file.to_owned(),
                keys: read.keys,
                bytes: read.bytes,
                sha256: hex(&read.digest),
                format: read.header.format,
                created: read.header.created(),
            })
        });
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    /// Writes the backup meant for `file` to `tmp` and fsyncs it; returns
    /// its header.
    fn write_backup(
        &self,
        tmp: &Path,
        file: &Path,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Header> {
        let io = |source: std::io::Error| StoreError::File {
            op: "write the backup",
            path: file.to_owned(),
            cause: source,
        };
        let _ = fs::remove_file(tmp);
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(tmp)
            .map_err(io)?;
        let mut out = HashWriter {
            inner: BufWriter::with_capacity(1 << 20, file),
            hasher: Sha256::new(),
        };
        let header = Header {
            version: BACKUP_VERSION,
            format: FORMAT_VERSION,
            created_secs: self.now().timestamp(),
        };
        out.write_all(&header.to_bytes()).map_err(io)?;
        let mut keys = 0u64;
        {
            let _guard = self.lock_writer();
            for item in self.db.iter() {
                let (k, v) = item?;
                out.entry(&k, &v).map_err(io)?;
                keys += 1;
                if keys % PROGRESS_EVERY == 0 {
                    progress(keys);
                }
            }
        }
        out.write_all(&[END]).map_err(io)?;
        out.write_all(&keys.to_be_bytes()).map_err(io)?;
        let digest = out.hasher.finalize();
        let mut inner = out.inner;
        inner.write_all(&digest).map_err(io)?;
        let file = inner.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(io)?;
        progress(keys);
        Ok(header)
    }

    /// Restores the backup `file` into the database folder `db`. The
    /// whole file is verified before anything is created. An existing
    /// database is replaced only with `replace` (and never while another
    /// rolo has it open).
    pub fn restore(
        file: &Path,
        db: &Path,
        replace: bool,
        progress: &mut dyn FnMut(u64),
    ) -> Result<RestoreSummary> {
        set_private_umask();
        let has_data = is_nonempty_dir(db);
        if has_data && !SLED_FILES.iter().any(|f| db.join(f).exists()) {
            return Err(StoreError::NotRolo(db.to_owned()));
        }
        if has_data && !replace {
            return Err(StoreError::TargetExists(db.to_owned()));
        }
        let _lock = if has_data { lock_folder(db)? } else { None };
        let verified = read_backup(file, &mut |_, _| Ok(()))?;
        verified.header.check_supported(file)?;
        let tmp = sibling(db, "restore");
        remove_dir(&tmp)?;
        let keys = write_folder(file, &tmp, &verified, progress).inspect_err(|_| {
            let _ = remove_dir(&tmp);
        })?;
        if has_data {
            exchange(db, &tmp)?;
            remove_dir(&tmp)?;
        } else {
            fs::rename(&tmp, db).map_err(|source| StoreError::Create {
                path: db.to_owned(),
                source,
            })?;
        }
        sync_parent(db);
        Ok(RestoreSummary {
            db: db.to_owned(),
            keys,
            sha256: hex(&verified.digest),
            format: verified.header.format,
            created: verified.header.created(),
            replaced: has_data,
        })
    }
}

/// Writes the backup's keys into a new sled folder `tmp` and checks that
/// the new database hashes to the backup's digest.
fn write_folder(
    file: &Path,
    tmp: &Path,
    verified: &Verified,
    progress: &mut dyn FnMut(u64),
) -> Result<u64> {
    create_private_dir(tmp)?;
    let mut copy = FolderWriter::create(tmp)?;
    let again = read_backup(file, &mut |k, v| {
        copy.put(k, v)?;
        if copy.keys % PROGRESS_EVERY == 0 {
            progress(copy.keys);
        }
        Ok(())
    })?;
    if again.digest != verified.digest {
        return Err(damaged(
            file,
            "it changed while it was being restored".into(),
        ));
    }
    let (copy, keys) = copy.finish()?;
    // What the new database holds must hash to the backup's digest.
    let mut hash = HashWriter {
        inner: std::io::sink(),
        hasher: Sha256::new(),
    };
    let sink_error = |e: std::io::Error| StoreError::File {
        op: "hash",
        path: tmp.to_owned(),
        cause: e,
    };
    hash.write_all(&verified.header.to_bytes())
        .map_err(sink_error)?;
    let mut n = 0u64;
    for item in copy.iter() {
        let (k, v) = item?;
        hash.entry(&k, &v).map_err(sink_error)?;
        n += 1;
    }
    hash.write_all(&[END]).map_err(sink_error)?;
    hash.write_all(&n.to_be_bytes()).map_err(sink_error)?;
    let restored: [u8; 32] = hash.hasher.finalize().into();
    if restored != verified.digest {
        return Err(StoreError::Damaged {
            path: tmp.to_owned(),
            reason: "the restored database differs from the backup; nothing was replaced".into(),
        });
    }
    drop(copy);
    // sled's threads let go of the files a moment after the last handle.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while lock_folder(tmp).is_err() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    progress(keys);
    Ok(keys)
}

/// The fixed start of a backup. It carries its own CRC-32, so a damaged
/// version number reads as damage, not as "written by a newer rolo".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Header {
    version: u32,
    format: u32,
    created_secs: i64,
}

impl Header {
    const LEN: usize = 28;

    fn to_bytes(self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        out[..8].copy_from_slice(MAGIC);
        out[8..12].copy_from_slice(&self.version.to_be_bytes());
        out[12..16].copy_from_slice(&self.format.to_be_bytes());
        out[16..24].copy_from_slice(&self.created_secs.to_be_bytes());
        let crc = crc32fast::hash(&out[..24]);
        out[24..].copy_from_slice(&crc.to_be_bytes());
        out
    }

    /// Reads a header: `Err(true)` when it is damaged, `Err(false)` when
    /// the bytes are not a backup's at all.
    fn from_bytes(bytes: &[u8; Self::LEN]) -> std::result::Result<Header, bool> {
        let (body, crc) = bytes.split_at(24);
        let crc = u32::from_be_bytes(crc.try_into().map_err(|_| false)?);
        let mut fixed = [0u8; 24];
        fixed.copy_from_slice(body);
        fixed[..8].copy_from_slice(MAGIC);
        if crc32fast::hash(&fixed) != crc {
            // With rolo's magic the header would be whole, or the magic
            // is there: a backup that was damaged. Otherwise some other file.
            return Err(body.starts_with(MAGIC));
        }
        if !body.starts_with(MAGIC) {
            return Err(true);
        }
        let field =
            |at: usize| -> [u8; 4] { [fixed[at], fixed[at + 1], fixed[at + 2], fixed[at + 3]] };
        let mut created = [0u8; 8];
        created.copy_from_slice(&fixed[16..24]);
        Ok(Header {
            version: u32::from_be_bytes(field(8)),
            format: u32::from_be_bytes(field(12)),
            created_secs: i64::from_be_bytes(created),
        })
    }

    fn created(self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.created_secs, 0).unwrap_or_default()
    }

    /// A database format newer than this rolo's cannot be restored (an
    /// older one is migrated when the restored database is first opened).
    fn check_supported(self, file: &Path) -> Result<()> {
        if self.format > FORMAT_VERSION {
            return Err(StoreError::BackupTooNew {
                path: file.to_owned(),
                what: "database format",
                found: self.format,
                supported: FORMAT_VERSION,
            });
        }
        Ok(())
    }
}

/// What receives each (key, value) of a backup as it is read.
type EntrySink<'a> = dyn FnMut(&[u8], &[u8]) -> Result<()> + 'a;

/// A backup read to its end with a matching digest.
struct Verified {
    header: Header,
    keys: u64,
    bytes: u64,
    digest: [u8; 32],
}

/// Reads a whole backup, calling `each` for every entry in order, and
/// checks its structure, entry count and digest.
fn read_backup(file: &Path, each: &mut EntrySink<'_>) -> Result<Verified> {
    let handle = fs::File::open(file).map_err(|source| StoreError::File {
        op: "read the backup",
        path: file.to_owned(),
        cause: source,
    })?;
    let len = handle
        .metadata()
        .map_err(|source| StoreError::File {
            op: "read the backup",
            path: file.to_owned(),
            cause: source,
        })?
        .len();
    let mut r = HashReader {
        inner: BufReader::with_capacity(1 << 20, handle),
        hasher: Sha256::new(),
        pos: 0,
        len,
        path: file,
    };
    let mut head = [0u8; Header::LEN];
    if len < Header::LEN as u64 {
        let mut start = vec![0u8; usize::try_from(len).unwrap_or(0)];
        r.read(&mut start, "the header")?;
        return Err(if MAGIC.starts_with(&start) || start.starts_with(MAGIC) {
            damaged(file, format!("it is cut short: only {len} bytes"))
        } else {
            StoreError::NotBackup(file.to_owned())
        });
    }
    r.read(&mut head, "the header")?;
    let header = Header::from_bytes(&head).map_err(|is_damaged| {
        if is_damaged {
            damaged(file, "its header is damaged".into())
        } else {
            StoreError::NotBackup(file.to_owned())
        }
    })?;
    if header.version > BACKUP_VERSION {
        return Err(StoreError::BackupTooNew {
            path: file.to_owned(),
            what: "backup format",
            found: header.version,
            supported: BACKUP_VERSION,
        });
    }
    let mut keys = 0u64;
    let (mut key, mut value) = (Vec::new(), Vec::new());
    loop {
        let at = r.pos;
        let mut tag = [0u8; 1];
        r.read(&mut tag, "an entry")?;
        match tag[0] {
            ENTRY => {
                r.read_sized(&mut key)?;
                r.read_sized(&mut value)?;
                each(&key, &value)?;
                keys += 1;
            }
            END => break,
            other => {
                return Err(damaged(
                    file,
                    format!("byte {at} holds {other:#04x} where an entry or the end should start"),
                ));
            }
        }
    }
    let mut count = [0u8; 8];
    r.read(&mut count, "the entry count")?;
    let count = u64::from_be_bytes(count);
    let computed: [u8; 32] = r.hasher.clone().finalize().into();
    let mut stored = [0u8; 32];
    r.read(&mut stored, "the checksum")?;
    if stored != computed {
        return Err(damaged(
            file,
            "checksum mismatch: its content does not hash to the SHA-256 it ends with".into(),
        ));
    }
    if count != keys {
        return Err(damaged(
            file,
            format!("its end says {count} entries but it holds {keys}"),
        ));
    }
    if r.pos != len {
        return Err(damaged(
            file,
            format!("{} bytes follow its checksum", len - r.pos),
        ));
    }
    Ok(Verified {
        header,
        keys,
        bytes: len,
        digest: stored,
    })
}

fn damaged(file: &Path, reason: String) -> StoreError {
    StoreError::BackupDamaged {
        path: file.to_owned(),
        reason,
    }
}

/// Reads through the hash, knowing where the file ends.
struct HashReader<'p, R> {
    inner: R,
    hasher: Sha256,
    pos: u64,
    len: u64,
    path: &'p Path,
}

impl<R: Read> HashReader<'_, R> {
    fn read(&mut self, buf: &mut [u8], what: &str) -> Result<()> {
        if self.pos + buf.len() as u64 > self.len {
            return Err(damaged(
                self.path,
                format!(
                    "it is cut short: {what} at byte {} runs past its end ({} bytes)",
                    self.pos, self.len
                ),
            ));
        }
        self.inner
            .read_exact(buf)
            .map_err(|source| StoreError::File {
                op: "read the backup",
                path: self.path.to_owned(),
                cause: source,
            })?;
        self.hasher.update(&*buf);
        self.pos += buf.len() as u64;
        Ok(())
    }

    /// A u32 length, then that many bytes into `buf`. A damaged length is
    /// caught by the file's size before anything is allocated.
    fn read_sized(&mut self, buf: &mut Vec<u8>) -> Result<()> {
        let mut n = [0u8; 4];
        self.read(&mut n, "an entry")?;
        let n = u32::from_be_bytes(n);
        let left = self.len.saturating_sub(self.pos + DIGEST_LEN);
        if u64::from(n) > left {
            return Err(damaged(
                self.path,
                format!(
                    "it is cut short or damaged: an entry of {n} bytes at byte {} \
                     runs past its end ({} bytes)",
                    self.pos, self.len
                ),
            ));
        }
        buf.resize(n as usize, 0);
        self.read(buf, "an entry")
    }
}

/// Writes through the hash.
struct HashWriter<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> HashWriter<W> {
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.hasher.update(bytes);
        self.inner.write_all(bytes)
    }

    fn entry(&mut self, key: &[u8], value: &[u8]) -> std::io::Result<()> {
        let len = |b: &[u8]| {
            u32::try_from(b.len())
                .map(u32::to_be_bytes)
                .map_err(|_| std::io::Error::other("a value over 4 GiB cannot be backed up"))
        };
        self.write_all(&[ENTRY])?;
        self.write_all(&len(key)?)?;
        self.write_all(key)?;
        self.write_all(&len(value)?)?;
        self.write_all(value)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Makes a rename durable (best effort: not every file system can sync a
/// folder).
fn sync_parent(path: &Path) {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if let Ok(dir) = fs::File::open(parent) {
            let _ = dir.sync_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Customer;
    use crate::store::OpenOptions;

    fn store_with(dir: &Path, n: usize) -> Store {
        let store = Store::open(&dir.join("db"), &OpenOptions::default()).expect("open");
        for i in 0..n {
            let c = Customer {
                name: format!("Customer {i}"),
                emails: vec![format!("c{i}@example.com")],
                ..Customer::default()
            };
            store.create_customer(&c).expect("create");
        }
        store
    }

    fn entries(store: &Store) -> Vec<(Vec<u8>, Vec<u8>)> {
        store.raw_entries().map(|kv| kv.expect("kv")).collect()
    }

    #[test]
    fn backup_and_restore_round_trip_every_key() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = store_with(tmp.path(), 40);
        let file = tmp.path().join("b.rolobak");
        let summary = store.backup(&file, &mut |_| {}).expect("backup");
        assert_eq!(summary.keys, entries(&store).len() as u64);
        assert_eq!(summary.bytes, fs::metadata(&file).expect("meta").len());
        let new = tmp.path().join("restored");
        let r = Store::restore(&file, &new, false, &mut |_| {}).expect("restore");
        assert_eq!(
            (r.keys, &r.sha256, r.replaced),
            (summary.keys, &summary.sha256, false)
        );
        let restored = super::super::open::open_after_close(&new, &OpenOptions::default())
            .expect("open restored");
        assert_eq!(entries(&restored), entries(&store));
        assert_eq!(restored.check().expect("check"), Vec::<String>::new());
    }

    #[test]
    fn every_single_byte_change_is_refused() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = store_with(tmp.path(), 3);
        let file = tmp.path().join("b.rolobak");
        store.backup(&file, &mut |_| {}).expect("backup");
        let good = fs::read(&file).expect("read");
        let bad = tmp.path().join("bad.rolobak");
        for i in 0..good.len() {
            let mut bytes = good.clone();
            bytes[i] ^= 0x41;
            fs::write(&bad, &bytes).expect("write");
            let err = read_backup(&bad, &mut |_, _| Ok(())).err();
            assert!(
                matches!(err, Some(StoreError::BackupDamaged { .. })),
                "byte {i}: {err:?}"
            );
        }
        for cut in [0, 5, 27, 28, good.len() / 2, good.len() - 1] {
            fs::write(&bad, &good[..cut]).expect("write");
            assert!(
                read_backup(&bad, &mut |_, _| Ok(())).is_err(),
                "cut at {cut}"
            );
        }
        let mut longer = good.clone();
        longer.push(0);
        fs::write(&bad, &longer).expect("write");
        assert!(
            read_backup(&bad, &mut |_, _| Ok(())).is_err(),
            "a trailing byte"
        );
    }
}
