//! Taking an import back: every batch's undo data is applied in reverse,
//! newest batch first, each batch atomically. An interrupted revert can be
//! run again and continues where it stopped (applied batches drop their
//! undo data in the same commit).

use super::{Result, Store, StoreError, UndoEntry};

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
}
