//! `rolo` (summary), `history`, `reindex`, `check`.

use anyhow::Result;
use serde_json::json;

use super::Ctx;
use crate::model::CustomerId;
use crate::model::display::printable;
use crate::store::{Store, StoreError};

/// A short summary of a database (what `rolo` prints until the TUI opens).
pub fn summary(ctx: &Ctx, store: &Store) -> Result<()> {
    let live = store.live_count()?;
    let imports = store.imports()?;
    let size = store.size_on_disk()?;
    ctx.out.json(&json!({
        "db": store.path(),
        "customers": live,
        "imports": imports.len(),
        "size_bytes": size,
    }))?;
    ctx.out
        .line(&format!("database {}", store.path().display()))?;
    ctx.out.line(&format!(
        "{live} customers, {} imports, {:.1} MB on disk",
        imports.len(),
        size as f64 / 1e6
    ))?;
    let db = store.path().display();
    ctx.out
        .line(&format!("try:  rolo search \"zhang wei\" --db {db}"))?;
    ctx.out.line(&format!(
        "      rolo export customers --query \"spend>1000\" --db {db}"
    ))?;
    ctx.out.line("run rolo in a terminal to open the workbench")
}

pub fn history(ctx: &Ctx, id: u64) -> Result<()> {
    let store = ctx.open()?;
    let who = match store.require_customer(CustomerId(id)) {
        Ok(c) => printable(&c.display_name()).into_owned(),
        Err(StoreError::Erased(_)) => "erased".to_owned(),
        Err(e) => return Err(e.into()),
    };
    let erasure = store.erasure(CustomerId(id))?;
    let events = store.history_of(CustomerId(id))?;
    ctx.out.json(&json!({
        "id": id,
        "erased": erasure.as_ref().map(|e| e.at.to_rfc3339()),
        "events": events.iter().map(|e| json!({
            "seq": e.seq, "at": e.at.to_rfc3339(), "user": e.user, "op": e.op, "summary": e.summary,
            "changes": e.changes.iter().map(|ch| json!({"field": ch.field, "before": ch.before, "after": ch.after})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    }))?;
    ctx.out.line(&format!("history of {id} ({who})"))?;
    if let Some(e) = &erasure {
        ctx.out.line(&format!(
            "  personal data erased on {} by {}; values in older events read {}",
            e.at.format("%Y-%m-%d %H:%M"),
            printable(&e.user),
            crate::store::ERASED_MARK
        ))?;
    }
    if events.is_empty() {
        ctx.out
            .line("  no recorded changes (imports are listed by `rolo import list`)")?;
    }
    for e in &events {
        ctx.out.line(&format!(
            "  {} {} {}: {}",
            e.at.format("%Y-%m-%d %H:%M"),
            e.user,
            e.op,
            printable(&e.summary)
        ))?;
        for ch in &e.changes {
            ctx.out.line(&format!(
                "      {}: {} -> {}",
                ch.field,
                printable(ch.before.as_deref().unwrap_or("(empty)")),
                printable(ch.after.as_deref().unwrap_or("(empty)"))
            ))?;
        }
    }
    Ok(())
}

pub fn reindex(ctx: &Ctx) -> Result<()> {
    let store = ctx.open()?;
    let n = store.reindex(&mut |_| {})?;
    ctx.out.json(&json!({ "customers": n }))?;
    ctx.out
        .line(&format!("rebuilt every index from {n} customer records"))
}

pub fn compact(ctx: &Ctx) -> Result<()> {
    if ctx.read_only {
        return Err(crate::store::StoreError::ReadOnly.into());
    }
    let r = Store::compact(&ctx.db, &mut |_| {})?;
    ctx.out.json(&r)?;
    ctx.out.line(&format!(
        "compacted {} keys: {:.1} MB -> {:.1} MB on disk",
        r.keys,
        r.bytes_before as f64 / 1e6,
        r.bytes_after as f64 / 1e6
    ))
}

pub fn check(ctx: &Ctx, repair: bool) -> Result<()> {
    let store = ctx.open()?;
    let problems = store.check()?;
    let repaired = if repair && !problems.is_empty() {
        store.reindex(&mut |_| {})?;
        true
    } else {
        false
    };
    ctx.out
        .json(&json!({ "problems": problems, "repaired": repaired }))?;
    if problems.is_empty() {
        ctx.out.line("no problems found")?;
    }
    for p in &problems {
        ctx.out.line(&format!("problem: {p}"))?;
    }
    if repaired {
        ctx.out
            .line("repaired: indexes and derived figures rebuilt from the records")?;
    } else if !problems.is_empty() {
        ctx.out
            .line("run `rolo check --repair` to rebuild indexes and derived figures")?;
        return Err(super::user_error(format!(
            "{} problems found; `rolo check --repair` rebuilds indexes and derived figures, \
             and damaged records need the last backup (`rolo restore FILE --db NEW_PATH`)",
            problems.len()
        )));
    }
    Ok(())
}
