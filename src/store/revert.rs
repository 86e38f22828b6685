//! Taking an import back: every batch's undo data is applied in reverse,
//! newest batch first, each batch atomically. An interrupted revert can be
//! run again and continues where it stopped (applied batches drop their
//! undo data in the same commit).
//!
//! A revert is refused while a customer it would restore or remove (or
//! whose order or note it would restore or remove) is part of a merge made
//! after the import started: the import's before-images predate the merge,
//! so applying them would make a merged record live again beside its
//! survivor, throw away what the survivor took in, or leave a note the
//! merge moved. The message names the merge to unmerge first; after the
//! unmerge the revert runs as usual. Imports started after a merge revert
//! normally (their before-images already include it).

use std::collections::HashMap;

use super::{Result, Store, StoreError, UndoBatch, UndoEntry};
use crate::model::CustomerId;

/// What a revert did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevertSummary {
    pub removed: u64,
    pub restored: u64,
}

impl Store {
    /// Reverts import `id` completely: records it created are removed, records
    /// it updated get their previous version back.
    pub fn revert_import(&self, id: u64) -> Result<RevertSummary> {
        let mut log = self.import_log(id)?.ok_or(StoreError::ImportNotFound(id))?;
        if log.reverted {
            return Err(StoreError::AlreadyReverted(id));
        }
        let mut summary = RevertSummary::default();
        let batches = self.begin()?.undo_batches(id)?;
        self.refuse_if_merged_since(id, &batches)?;
        for (n, batch) in batches.into_iter().rev() {
            let mut unit = self.begin()?;
            for entry in batch.entries.into_iter().rev() {
                match entry {
                    UndoEntry::Customer { id, before: None } => {
                        unit.purge_customer(id)?;
                        summary.removed += 1;
                    }
                    UndoEntry::Customer {
                        before: Some(c), ..
                    } => {
                        unit.save_customer(&c)?;
                        summary.restored += 1;
                    }
                    UndoEntry::Order {
                        order_id,
                        before: None,
                    } => {
                        unit.remove_order(&order_id)?;
                        summary.removed += 1;
                    }
                    UndoEntry::Order {
                        before: Some(o), ..
                    } => {
                        unit.save_order(&o)?;
                        summary.restored += 1;
                    }
                    UndoEntry::Note { key, .. } => {
                        unit.remove_note(&key);
                        summary.removed += 1;
                    }
                }
            }
            unit.drop_undo(id, n);
            unit.commit()?;
        }
        let mut unit = self.begin()?;
        log.reverted = true;
        unit.save_import_log(&log);
        unit.audit(
            "import_revert",
            format!(
                "reverted import #{id} ({} {}): {} removed, {} restored",
                log.kind, log.file, summary.removed, summary.restored
            ),
            Vec::new(),
            None,
            None,
        )?;
        unit.commit()?;
        Ok(summary)
    }

    /// Refuses the revert of import `id` (its undo `batches`) when one of
    /// the customers it touches was merged, by a merge still in effect,
    /// after the import started (module doc).
    fn refuse_if_merged_since(&self, id: u64, batches: &[(u64, UndoBatch)]) -> Result<()> {
        // Customer -> the newest such merge involving it.
        let mut merged: HashMap<CustomerId, u64> = HashMap::new();
        for m in self.active_merges()? {
            if id <= m.imports_before {
                for c in m.customers() {
                    merged.insert(c, m.seq);
                }
            }
        }
        if merged.is_empty() {
            return Ok(());
        }
        for (_, batch) in batches {
            for entry in &batch.entries {
                let customer = match entry {
                    UndoEntry::Customer { id, .. } => Some(*id),
                    UndoEntry::Order { before, .. } => before.as_ref().map(|o| o.customer),
                    UndoEntry::Note { note, .. } => Some(note.customer),
                };
                if let Some((c, merge)) = customer.and_then(|c| merged.get(&c).map(|m| (c, *m))) {
                    return Err(StoreError::RevertAfterMerge {
                        import: id,
                        customer: c,
                        merge,
                    });
                }
            }
        }
        Ok(())
    }
}
