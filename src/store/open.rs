//! Opening a database: folder permissions, the process lock, format checks
//! and migrations. A database that fails to open is never replaced by a
//! fresh empty one.

use chrono::{DateTime, Utc};
use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;
use std::sync::Mutex;

use super::{FORMAT_VERSION, Result, Store, StoreError, keys};

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
const SLED_FILES: [&str; 2] = ["db", "conf"];

impl Store {
    /// Opens (or creates) the database in folder `path`.
    pub fn open(path: &Path, opts: &OpenOptions) -> Result<Store> {
        let existed = is_nonempty_dir(path);
        if existed && !SLED_FILES.iter().any(|f| path.join(f).exists()) {
            return Err(StoreError::NotRolo(path.to_owned()));
        }
        if !existed {
            create_private_dir(path)?;
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
        // sled creates files with the process umask; make them private.
        set_private_umask();
        let config = sled::Config::new()
            .path(path)
            .cache_capacity(opts.cache_bytes);
        let db = config.open().map_err(|e| open_error(path, e))?;
        let store = Store {
            db,
            path: path.to_owned(),
            read_only: opts.read_only,
            writer: Mutex::new(()),
            clock: opts.clock,
            user: os_user(),
            identity: Mutex::new(None),
            order_ids: Mutex::new(None),
            rule_tags: Mutex::new(None),
            rule_marks_written: Default::default(),
        };
        if store.check_format(existed)? {
            // A migration that rewrote most keys leaves sled's emptied
            // nodes behind (a slower open, a bigger folder): start afresh.
            store.compact_and_close(&mut |_| {})?;
            return open_after_close(path, opts);
        }
        Ok(store)
    }

    /// Reads the format marker, writes it on a new database, migrates an old
    /// one. Returns whether a migration rewrote the orders (format < 3).
    fn check_format(&self, existed: bool) -> Result<bool> {
        let key = keys::meta("format");
        let found = match self.db.get(&key).map_err(|e| open_error(&self.path, e))? {
            Some(v) => {
                let bytes: [u8; 4] = v.as_ref().try_into().map_err(|_| StoreError::Damaged {
                    path: self.path.clone(),
                    reason: "the format marker is damaged".into(),
                })?;
                u32::from_be_bytes(bytes)
            }
            None if existed && self.db.iter().next().is_some() => {
                return Err(StoreError::NotRolo(self.path.clone()));
            }
            None => {
                if !self.read_only {
                    self.db.insert(&key, &FORMAT_VERSION.to_be_bytes())?;
                    self.db.flush()?;
                }
                return Ok(false);
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

fn is_nonempty_dir(path: &Path) -> bool {
    fs::read_dir(path)
        .map(|mut d| d.next().is_some())
        .unwrap_or(false)
}

fn create_private_dir(path: &Path) -> Result<()> {
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
fn set_private_umask() {
    // SAFETY: umask only swaps the process file-mode mask.
    unsafe {
        libc::umask(0o077);
    }
}

fn open_error(path: &Path, e: sled::Error) -> StoreError {
    let text = e.to_string();
    if text.contains("could not acquire lock") || text.contains("WouldBlock") {
        StoreError::Locked(path.to_owned())
    } else {
        StoreError::Damaged {
            path: path.to_owned(),
            reason: text,
        }
    }
}

fn os_user() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown".to_owned())
}
