//! Opening a database: folder permissions, the process lock, format checks
//! and migrations, and the defences against damaged files (sled's
//! unfinished snapshots, its panics, an emptied log, lost commits: see
//! `marker`). A database that fails to open is never replaced by a fresh
//! empty one: new databases are built beside their path and renamed in.

use chrono::{DateTime, Utc};
use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;
use std::sync::Mutex;

use super::error::sled_reason;
use super::{FORMAT_VERSION, Result, Store, StoreError, keys, marker};

/// How to open a database.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Refuse every change.
    pub read_only: bool,
    /// sled's page cache in bytes (sled's own default is 1 GiB). It fills
    /// only as pages are read: [`DEFAULT_CACHE_BYTES`] keeps the records a
    /// bulk change or an undo touches across a 1M-customer database in
    /// memory (100k customers tagged: 5.9 s at 128 MiB, 3.1 s at 512 MiB);
    /// imports, which write in key order, use [`IMPORT_CACHE_BYTES`] to
    /// keep their peak under 1 GB.
    pub cache_bytes: u64,
    /// A fixed clock for reproducible tests.
    pub clock: Option<DateTime<Utc>>,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            read_only: false,
            cache_bytes: DEFAULT_CACHE_BYTES,
            clock: None,
        }
    }
}

/// sled's cache for interactive use and bulk changes.
pub const DEFAULT_CACHE_BYTES: u64 = 512 << 20;
/// sled's cache for imports.
pub const IMPORT_CACHE_BYTES: u64 = 128 << 20;

/// The files sled keeps in a database folder; their presence tells a sled
/// database from some other folder.
pub(super) const SLED_FILES: [&str; 2] = ["db", "conf"];

impl Store {
    /// Opens (or creates) the database in folder `path`.
    pub fn open(path: &Path, opts: &OpenOptions) -> Result<Store> {
        let existed = is_nonempty_dir(path);
        if existed && !SLED_FILES.iter().any(|f| path.join(f).exists()) {
            return Err(StoreError::NotRolo(path.to_owned()));
        }
        // sled creates files with the process umask; make them private.
        set_private_umask();
        if !existed {
            create_new(path)?;
        } else if let Ok(meta) = fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!("database folder {} is readable by others", path.display());
                eprintln!(
                    "warning: database folder {} can be read by other users; run `chmod 700 {}`",
                    path.display(),
                    path.display()
                );
            }
        }
        remove_unfinished_snapshots(path)?;
        let db = open_sled(path, opts.cache_bytes)?;
        let marked = check_marker(path, &db)?;
        let store = Store {
            db,
            io_failed: Default::default(),
            path: path.to_owned(),
            read_only: opts.read_only,
            writer: Mutex::new(()),
            clock: opts.clock,
            user: os_user(),
            identity: Mutex::new(None),
            order_ids: Mutex::new(None),
            rule_tags: Mutex::new(None),
            rule_marks_written: Default::default(),
            marked: Mutex::new(marked),
        };
        if store.check_format()? {
            // A migration that rewrote most keys leaves sled's emptied
            // nodes behind (a slower open, a bigger folder): start afresh.
            store.compact_and_close(&mut |_| {})?;
            return open_after_close(path, opts);
        }
        let repaired = store.recover_failed_write()?;
        if !repaired.is_empty() {
            eprintln!(
                "warning: a write to {} failed last time (a full disk?) and left {} index entries \
                 out of step; they were rebuilt from the records",
                path.display(),
                repaired.len()
            );
        }
        Ok(store)
    }

    /// Reads the format marker and migrates an old database. Returns
    /// whether a migration rewrote the orders (format < 3).
    fn check_format(&self) -> Result<bool> {
        let key = keys::meta("format");
        let damaged = |reason: &str| StoreError::Damaged {
            path: self.path.clone(),
            reason: reason.to_owned(),
        };
        let found = match self.db.get(&key).map_err(|e| open_error(&self.path, e))? {
            Some(v) => {
                let bytes: [u8; 4] = v
                    .as_ref()
                    .try_into()
                    .map_err(|_| damaged("the format marker is damaged"))?;
                u32::from_be_bytes(bytes)
            }
            // A new database gets its marker before it is moved into place
            // (`create_new`), so sled files without one were damaged (or
            // belong to another program). Writing a marker now would pass
            // what is left off as the user's database.
            None if self.db.iter().next().is_some() => {
                return Err(damaged(
                    "its files hold data but no rolo format marker \
                     (another program's sled database, or a damaged rolo database)",
                ));
            }
            None => {
                return Err(damaged(
                    "its files hold no data: they were cut short or lost their start",
                ));
            }
        };
        if found > FORMAT_VERSION {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found,
                supported: FORMAT_VERSION,
            });
        }
        if found < FORMAT_VERSION {
            self.migrate(found)?;
            return Ok(found < 3);
        }
        Ok(false)
    }

    /// Brings a database of format `from` up to [`FORMAT_VERSION`]. Records
    /// carry their own versions too (see `codec`), so most shape changes need
    /// no step here: old records are read and upgraded as they are met.
    ///
    /// - 1 -> 2: identity lookups moved from one sled key per ext_id, email
    ///   and phone to identity chunks; `reindex` drops the old keys and
    ///   builds the chunks from the records (the records do not change).
    /// - 2 -> 3: a customer's orders moved from one key per order (and one
    ///   per order id) into one order book per customer, with order-id
    ///   chunks for lookups (see `orders`); the books are folded, then
    ///   `reindex` drops the old order-id keys and writes the chunks.
    /// - 3 -> 4: the tag index moved from one key per (tag, customer) to
    ///   tag chunks (see `tag_index`); rebuilt from the old keys in one
    ///   batch (before 3, `reindex` builds them from the records).
    ///
    /// The marker is bumped only after the steps completed, so an
    /// interrupted migration runs again on the next open.
    fn migrate(&self, from: u32) -> Result<()> {
        if self.read_only {
            return Err(StoreError::ReadOnly);
        }
        tracing::info!(
            "migrating {} from format {from} to {FORMAT_VERSION}",
            self.path.display()
        );
        if from < 3 {
            let folded = self.fold_legacy_orders()?;
            tracing::info!("folded {folded} orders into order books");
            self.reindex(&mut |_| {})?;
        } else if from == 3 {
            let chunks = self.chunk_tag_index()?;
            tracing::info!("tag index rewritten as {chunks} tag chunks");
        }
        self.db
            .insert(keys::meta("format"), &FORMAT_VERSION.to_be_bytes())?;
        self.db.flush()?;
        Ok(())
    }
}

/// Opens a database this process has just closed: sled's background
/// threads let go of the file lock a moment after the last handle drops.
pub(crate) fn open_after_close(path: &Path, opts: &OpenOptions) -> Result<Store> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        match Store::open(path, opts) {
            Err(StoreError::Locked(_)) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// Creates a new database: sled's files and the format marker are written
/// in `<path>.new-PID`, which is renamed into place once flushed and
/// closed. So a kill midway never leaves sled files without a marker at
/// `path` (which `open` refuses as damaged), only a stray `.new-PID` folder.
/// An empty folder that cannot be replaced (a mount point) is filled in
/// place.
fn create_new(path: &Path) -> Result<()> {
    let tmp = super::compact::sibling(path, &format!("new-{}", std::process::id()));
    super::compact::remove_dir(&tmp)?;
    create_private_dir(&tmp)?;
    write_format_marker(&tmp)?;
    match fs::rename(&tmp, path) {
        Ok(()) => Ok(()),
        // Another rolo created it first: use that one.
        Err(_) if is_nonempty_dir(path) => super::compact::remove_dir(&tmp),
        Err(_) if path.is_dir() => {
            super::compact::remove_dir(&tmp)?;
            create_private_dir(path)?;
            write_format_marker(path)
        }
        Err(source) => Err(StoreError::Create {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Opens sled in `dir`, writes the format marker, flushes and closes.
fn write_format_marker(dir: &Path) -> Result<()> {
    {
        let db = open_sled(dir, 8 << 20)?;
        db.insert(keys::meta("format"), &FORMAT_VERSION.to_be_bytes())?;
        db.flush()?;
    }
    // sled's threads finish with the files a moment after the last handle
    // drops; its lock tells when.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while lock_folder(dir).is_err() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    Ok(())
}

pub(super) fn is_nonempty_dir(path: &Path) -> bool {
    fs::read_dir(path)
        .map(|mut d| d.next().is_some())
        .unwrap_or(false)
}

pub(super) fn create_private_dir(path: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(|source| StoreError::Create {
            path: path.to_owned(),
            source,
        })?;
    // An existing empty folder keeps its mode: tighten it.
    fs::set_permissions(path, fs::Permissions::from_mode(0o700)).map_err(|source| {
        StoreError::Create {
            path: path.to_owned(),
            source,
        }
    })
}

#[expect(
    unsafe_code,
    reason = "umask(2) has no safe wrapper in std; it cannot fail"
)]
pub(super) fn set_private_umask() {
    // SAFETY: umask only swaps the process file-mode mask.
    unsafe {
        libc::umask(0o077);
    }
}

fn open_error(path: &Path, e: sled::Error) -> StoreError {
    let text = e.to_string();
    if text.contains("could not acquire lock") || text.contains("WouldBlock") {
        return StoreError::Locked(path.to_owned());
    }
    let reason = sled_reason(&e);
    match StoreError::from(e) {
        StoreError::DiskFull(io) => StoreError::DiskFull(io),
        _ => StoreError::Damaged {
            path: path.to_owned(),
            reason,
        },
    }
}

/// Opens sled. Some damaged files make sled panic rather than return an
/// error; that is caught here (with the panic message silenced) and
/// reported as damage, never as a crash.
fn open_sled(path: &Path, cache_bytes: u64) -> Result<sled::Db> {
    let config = sled::Config::new().path(path).cache_capacity(cache_bytes);
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| config.open()));
    std::panic::set_hook(hook);
    match opened {
        Ok(db) => db.map_err(|e| open_error(path, e)),
        Err(_) => Err(StoreError::Damaged {
            path: path.to_owned(),
            reason: "sled stopped on damaged data while reading its files".into(),
        }),
    }
}

/// sled writes a snapshot as `snap.N.generating` and renames it once
/// whole; a crash or a full disk in between leaves the unfinished file,
/// which sled 0.34 then reads as the newest snapshot and reports as
/// corruption on every later open. Such a file never holds anything the
/// log does not, so it is removed, under sled's own file lock so that a
/// snapshot another process is writing is never touched.
fn remove_unfinished_snapshots(path: &Path) -> Result<()> {
    let Ok(entries) = fs::read_dir(path) else {
        return Ok(());
    };
    let unfinished: Vec<_> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("snap.") && n.ends_with(".generating"))
        })
        .collect();
    if unfinished.is_empty() {
        return Ok(());
    }
    let _lock = lock_folder(path)?;
    for p in unfinished {
        tracing::warn!("removing sled's unfinished snapshot {}", p.display());
        fs::remove_file(&p).map_err(|source| StoreError::File {
            op: "remove sled's unfinished snapshot",
            path: p.clone(),
            cause: source,
        })?;
    }
    Ok(())
}

/// Takes the lock sled takes (an exclusive `flock` on the `db` file), so
/// that no other rolo has the database open while the guard lives. A
/// folder without a `db` file has nothing to lock.
pub(super) fn lock_folder(path: &Path) -> Result<Option<fs::File>> {
    let file = match fs::OpenOptions::new().read(true).open(path.join("db")) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(StoreError::File {
                op: "open",
                path: path.join("db"),
                cause: source,
            });
        }
    };
    if try_flock(&file) {
        Ok(Some(file))
    } else {
        Err(StoreError::Locked(path.to_owned()))
    }
}

#[expect(
    unsafe_code,
    reason = "flock(2) has no safe wrapper in std at rolo's MSRV"
)]
fn try_flock(file: &fs::File) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is open for the duration of the call; the
    // lock is released when the file is closed.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

/// Compares the database's commit counter with its commit marker (see
/// `marker`). Returns the marker's count, which the store keeps current.
fn check_marker(path: &Path, db: &sled::Db) -> Result<u64> {
    let damaged = |reason: String| StoreError::Damaged {
        path: path.to_owned(),
        reason,
    };
    let marked = match marker::read(path) {
        Ok(m) => m,
        Err(why) => {
            return Err(damaged(format!(
                "its commit marker {} is damaged ({why}), so rolo cannot tell whether \
                 committed changes were lost; if `rolo check` finds nothing after you \
                 delete that file, the database is whole",
                marker::path(path).display()
            )));
        }
    };
    let commits = db
        .get(keys::meta(super::COMMIT_COUNTER))
        .map_err(|e| open_error(path, e))?
        .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
        .map_or(0, u64::from_be_bytes);
    match marked {
        Some(m) if m > commits => Err(damaged(format!(
            "it holds {commits} committed changes but {m} were written and confirmed, \
             so the newest were lost (its files were damaged or cut short); \
             to open what is left anyway, delete {} and run `rolo check --repair`",
            marker::path(path).display()
        ))),
        m => Ok(m.unwrap_or(0)),
    }
}

fn os_user() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown".to_owned())
}
