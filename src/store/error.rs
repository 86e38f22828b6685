//! Errors of the store, worded for the person who has to act on them.

use std::path::PathBuf;
use thiserror::Error;

use super::CodecError;
use crate::model::CustomerId;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error(
        "database {0} is in use by another rolo process; close that rolo (or wait for it to finish) and try again"
    )]
    Locked(PathBuf),
    #[error(
        "database {path} could not be opened: {reason}. rolo wrote no data to it and did not replace it; restore the last backup with `rolo restore FILE --db NEW_PATH` (`rolo check --db {path}` lists the damaged records of a database that still opens)"
    )]
    Damaged { path: PathBuf, reason: String },
    #[error(
        "{0} is not a rolo database (the folder holds other files); choose an empty or new folder with --db"
    )]
    NotRolo(PathBuf),
    #[error(
        "database {path} was written by a newer rolo (format {found}; this rolo reads up to {supported}); upgrade rolo to open it"
    )]
    TooNew {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("cannot create the database folder {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the database is open read-only (--read-only); this command would change data")]
    ReadOnly,
    #[error("store: customer {0} not found")]
    NotFound(CustomerId),
    #[error(
        "store: customer {0}'s personal data was erased; only its history and order amounts remain (`rolo history {0}`)"
    )]
    Erased(CustomerId),
    #[error("store: import {0} not found; `rolo import list` shows the imports")]
    ImportNotFound(u64),
    #[error("import {0} was already reverted")]
    AlreadyReverted(u64),
    #[error(
        "store: damaged {what} at key {key}: {source}; run `rolo check` to see every damaged record, and restore the last backup (`rolo restore FILE --db NEW_PATH`) if records are damaged"
    )]
    Corrupt {
        what: &'static str,
        key: String,
        source: CodecError,
    },
    #[error("tag '{0}' does not exist; `rolo tag list` shows the tags")]
    UnknownTag(String),
    #[error("tag '{0}' already exists; `rolo tag merge` combines two tags")]
    TagExists(String),
    #[error(
        "tag '{tag}' is a rule tag (its members are the customers matching `{rule}`), so it cannot be added or removed by hand; change the rule with `rolo tag rule set`, or make it manual with `rolo tag rule delete {tag}`"
    )]
    RuleTag { tag: String, rule: String },
    #[error("tag '{0}' has no rule; `rolo tag rule list` shows the rule tags")]
    NoRule(String),
    #[error("'{name}' is not a valid tag name: {reason}")]
    BadTagName { name: String, reason: &'static str },
    #[error("cannot merge: {0}")]
    BadMerge(String),
    #[error(
        "merge #{0} not found; the merges that can be unmerged are listed in the Duplicates pane (`U`)"
    )]
    MergeNotFound(u64),
    #[error("merge #{merge} was already unmerged (by change #{by})")]
    AlreadyUnmerged { merge: u64, by: u64 },
    #[error("cannot unmerge #{merge}: {reason}")]
    CannotUnmerge { merge: u64, reason: String },
    #[error("a customer cannot be dismissed as a duplicate of itself (customer {0})")]
    SelfPair(CustomerId),
    #[error(
        "import #{import} touched customer {customer}, which was merged afterwards (merge #{merge}); unmerge it first (`rolo dedup unmerge {merge}`), then revert the import"
    )]
    RevertAfterMerge {
        import: u64,
        customer: CustomerId,
        merge: u64,
    },
    #[error(
        "the database files are damaged ({0}); nothing more was changed. Run `rolo check` to see what still reads, and restore the last backup with `rolo restore FILE --db NEW_PATH`"
    )]
    Corrupted(String),
    #[error(
        "the disk holding the database is full ({0}); free space (or move the database and pass --db) and run the command again: what was committed before is kept"
    )]
    DiskFull(std::io::Error),
    #[error("cannot {op} {path}: {cause}")]
    File {
        op: &'static str,
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error(
        "{0} is not a rolo backup (it lacks the header `rolo backup` writes); check the file name"
    )]
    NotBackup(PathBuf),
    #[error(
        "backup {path} is damaged: {reason}. Nothing was restored or created; use another backup (or another copy of this one)"
    )]
    BackupDamaged { path: PathBuf, reason: String },
    #[error(
        "backup {path} was written by a newer rolo ({what} {found}; this rolo reads up to {supported}); upgrade rolo to restore it"
    )]
    BackupTooNew {
        path: PathBuf,
        what: &'static str,
        found: u32,
        supported: u32,
    },
    #[error(
        "{0} exists and holds data; restoring would replace it: pass --yes to replace it, or choose a new folder with --db"
    )]
    TargetExists(PathBuf),
    #[error("store: {0}")]
    Sled(sled::Error),
}

impl From<sled::Error> for StoreError {
    /// Sorts sled's errors into the ones a person acts on differently: a
    /// full disk (free space), damaged files (check, restore), the rest.
    fn from(e: sled::Error) -> Self {
        match e {
            sled::Error::Io(io) if is_disk_full(&io) => StoreError::DiskFull(io),
            // sled read past the end of one of its files: it was cut short.
            sled::Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
                StoreError::Corrupted(format!("a file of the database is cut short ({io})"))
            }
            sled::Error::Corruption { .. } => StoreError::Corrupted(sled_reason(&e)),
            other => StoreError::Sled(other),
        }
    }
}

/// ENOSPC, or EDQUOT (the user's quota is used up: the same remedy).
pub(crate) fn is_disk_full(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    )
}

/// sled's error in words a user can read ("Read corrupted data at file
/// offset Some(Inline(222810)) backtrace ()" names sled's internals).
pub(crate) fn sled_reason(e: &sled::Error) -> String {
    match e {
        sled::Error::Corruption { at: Some(at), .. } => {
            format!("sled found damaged data at {at:?} in its files")
        }
        sled::Error::Corruption { at: None, .. } => {
            "sled found damaged data in its files (the log or a snapshot)".to_owned()
        }
        sled::Error::Io(io) => format!("cannot read or write its files: {io}"),
        other => other.to_string(),
    }
}

impl StoreError {
    /// Whether the cause is the user's input or situation (exit 2) rather
    /// than an internal failure (exit 1).
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            StoreError::Locked(_)
                | StoreError::NotRolo(_)
                | StoreError::TooNew { .. }
                | StoreError::ReadOnly
                | StoreError::NotFound(_)
                | StoreError::Erased(_)
                | StoreError::ImportNotFound(_)
                | StoreError::AlreadyReverted(_)
                | StoreError::Create { .. }
                | StoreError::UnknownTag(_)
                | StoreError::TagExists(_)
                | StoreError::RuleTag { .. }
                | StoreError::BadTagName { .. }
                | StoreError::NoRule(_)
                | StoreError::BadMerge(_)
                | StoreError::MergeNotFound(_)
                | StoreError::AlreadyUnmerged { .. }
                | StoreError::CannotUnmerge { .. }
                | StoreError::SelfPair(_)
                | StoreError::RevertAfterMerge { .. }
                | StoreError::DiskFull(_)
                | StoreError::File { .. }
                | StoreError::NotBackup(_)
                | StoreError::BackupDamaged { .. }
                | StoreError::BackupTooNew { .. }
                | StoreError::TargetExists(_)
        )
    }
}

/// Renders a key readably for error messages: prefix letter then hex.
pub(crate) fn show_key(key: &[u8]) -> String {
    // Tag chunk keys (`t`: tag, 0, chunk number) read as what they mean.
    if let Some((tag, n)) = super::tag_index::parse_tag_chunk_key(key) {
        if let Ok(tag) = std::str::from_utf8(tag) {
            let first = n.saturating_mul(super::TAG_CHUNK_IDS);
            return format!(
                "tag '{}' index of customers {first}..{}",
                crate::model::display::printable(tag),
                first.saturating_add(super::TAG_CHUNK_IDS - 1)
            );
        }
    }
    match key.split_first() {
        Some((p, rest)) => {
            let hex: String = rest.iter().take(24).map(|b| format!("{b:02x}")).collect();
            format!("{}:{hex}", char::from(*p))
        }
        None => "(empty)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_show_without_panicking() {
        assert_eq!(show_key(b""), "(empty)");
        assert_eq!(show_key(b"t"), "t:");
        assert_eq!(show_key(b"t12345678"), "t:3132333435363738");
        let mut k = b"tvip".to_vec();
        k.push(0);
        k.extend_from_slice(&7u64.to_be_bytes());
        assert_eq!(show_key(&k), "tag 'vip' index of customers 28672..32767");
    }

    #[test]
    fn sled_errors_are_sorted_by_what_the_user_does() {
        let io = |kind| sled::Error::Io(std::io::Error::new(kind, "x"));
        assert!(matches!(
            StoreError::from(io(std::io::ErrorKind::StorageFull)),
            StoreError::DiskFull(_)
        ));
        // A file cut short reads past its end: damage, so the message
        // points to `rolo check` and the last backup.
        let cut = StoreError::from(io(std::io::ErrorKind::UnexpectedEof));
        assert!(matches!(cut, StoreError::Corrupted(_)), "{cut}");
        assert!(cut.to_string().contains("rolo restore"), "{cut}");
        assert!(matches!(
            StoreError::from(io(std::io::ErrorKind::PermissionDenied)),
            StoreError::Sled(_)
        ));
    }
}
