//! `rolo backup FILE` and `rolo restore FILE --db NEW`.

use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

use super::{Ctx, confirm, user_error};
use crate::store::{Store, StoreError};

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The backup file to write (replaced only with --yes)
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup file written by `rolo backup`
    pub file: PathBuf,
}

/// Writes a consistent, checksummed backup of the database.
pub fn backup(ctx: &Ctx, a: BackupArgs) -> Result<()> {
    if !holds_data(&ctx.db) {
        return Err(user_error(format!(
            "there is no database at {} to back up; pass --db PATH",
            ctx.db.display()
        )));
    }
    if a.file.exists() {
        let shown = a.file.display();
        confirm(
            ctx,
            &format!("{shown} exists; replace it with a new backup?"),
            &format!("{shown} exists and a backup does not replace a file unasked"),
        )?;
    }
    // Opened without refreshing rule tags: a backup changes nothing.
    let store = ctx.open_without_rule_refresh()?;
    let bar = ctx.out.progress(0, "backing up");
    let s = store.backup(&a.file, &mut |n| bar.set_position(n))?;
    bar.finish_and_clear();
    ctx.out.json(&s)?;
    ctx.out.line(&format!(
        "backed up {} keys ({:.1} MB) of {} to {}",
        s.keys,
        s.bytes as f64 / 1e6,
        store.path().display(),
        s.file.display()
    ))?;
    ctx.out.line(&format!("sha256 {}", s.sha256))?;
    ctx.out.line(&format!(
        "restore it with: rolo restore {} --db NEW_PATH",
        s.file.display()
    ))
}

/// Verifies a backup and restores it into the database folder `--db`.
pub fn restore(ctx: &Ctx, a: RestoreArgs) -> Result<()> {
    if ctx.read_only {
        return Err(StoreError::ReadOnly.into());
    }
    let replace = holds_data(&ctx.db);
    if replace {
        let db = ctx.db.display();
        confirm(
            ctx,
            &format!(
                "replace the database {db} with the backup {}? Its current data will be gone",
                a.file.display()
            ),
            &format!("database {db} exists and holds data; restoring would replace it"),
        )?;
    }
    let bar = ctx.out.progress(0, "restoring");
    let r = Store::restore(&a.file, &ctx.db, replace, &mut |n| bar.set_position(n))?;
    bar.finish_and_clear();
    ctx.out.json(&r)?;
    ctx.out.line(&format!(
        "restored {} keys from {} (backup of {}) into {}{}",
        r.keys,
        a.file.display(),
        r.created.format("%Y-%m-%d %H:%M UTC"),
        r.db.display(),
        if r.replaced {
            ", replacing the database that was there"
        } else {
            ""
        }
    ))?;
    ctx.out.line(&format!("sha256 {} verified", r.sha256))
}

fn holds_data(dir: &std::path::Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some())
}
