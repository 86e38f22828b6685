//! `rolo erase ID [--no-compact]`: remove a person's personal data
//! everywhere (see `store::erase` for what happens to each kind of record),
//! then rewrite the database files so no copy lingers in sled's log.

use anyhow::Result;
use clap::Args;
use serde_json::json;

use super::{Ctx, confirm};
use crate::model::CustomerId;
use crate::model::display::printable;

#[derive(Debug, Args)]
pub struct EraseArgs {
    /// The customer id
    pub id: u64,
    /// Skip the rewrite of the database files (then run `rolo compact`
    /// before the old values are gone from disk)
    #[arg(long)]
    pub no_compact: bool,
}

pub fn run(ctx: &Ctx, a: EraseArgs) -> Result<()> {
    let store = ctx.open()?;
    let id = CustomerId(a.id);
    let c = store.require_customer(id)?;
    confirm(
        ctx,
        &format!(
            "erase every personal detail of customer {id} ({}) from this database? This cannot be undone",
            printable(&c.name)
        ),
        &format!("erasing customer {id} cannot be undone"),
    )?;
    let r = store.erase_customer(id)?;
    let compacted = if a.no_compact {
        drop(store);
        None
    } else {
        Some(store.compact_and_close(&mut |_| {})?)
    };
    ctx.out.json(&json!({
        "erased": a.id,
        "seq": r.seq,
        "notes_removed": r.notes_removed,
        "orders_kept": r.orders_kept,
        "orders_stripped": r.orders_stripped,
        "audit_events_scrubbed": r.audit_events_scrubbed,
        "undo_batches_scrubbed": r.undo_batches_scrubbed,
        "mentions": r.mentions,
        "compacted": compacted.is_some(),
    }))?;
    ctx.out.line(&format!(
        "erased customer {id}: record, identity, search and tag entries, {} notes; \
         {} audit events and {} import undo batches scrubbed",
        r.notes_removed, r.audit_events_scrubbed, r.undo_batches_scrubbed
    ))?;
    if r.orders_kept > 0 {
        ctx.out.line(&format!(
            "kept {} orders (amounts and dates; {} lost their attributes) so revenue stays right",
            r.orders_kept, r.orders_stripped
        ))?;
    }
    for m in &r.mentions {
        ctx.out.line(&format!(
            "note: {} mentions one of the erased values; edit it by hand",
            printable(m)
        ))?;
    }
    match compacted {
        Some(c) => ctx.out.line(&format!(
            "rewrote the database files ({} keys), so the old values are gone from disk",
            c.keys
        )),
        None => ctx
            .out
            .line("run `rolo compact` so the old values are gone from disk too"),
    }
}
