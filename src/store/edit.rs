//! Single-customer changes (edit, create, trash, restore) and their undo
//! and redo. Each is one unit of work with an audit event carrying the whole
//! record before and after, so undo works from the audit log alone, also
//! after a restart.

use super::{Result, Store, StoreError};
use crate::model::{AuditEvent, Customer, CustomerId, FieldChange};

/// Operations that undo can take back.
const UNDOABLE: [&str; 4] = ["edit", "create", "trash", "restore"];

impl Store {
    /// Replaces a customer's record with `new` (same id); returns the audit seq.
    pub fn update_customer(&self, new: &Customer) -> Result<u64> {
        let mut unit = self.begin()?;
        let old = unit.customer(new.id)?.ok_or(StoreError::NotFound(new.id))?;
        let mut new = new.clone();
        new.updated_at = unit.now();
        unit.save_customer(&new)?;
        let fields: Vec<String> = FieldChange::diff(&old, &new)
            .into_iter()
            .map(|c| c.field)
            .collect();
        let seq = unit.audit(
            "edit",
            format!("edited {}", fields.join(", ")),
            vec![new.id],
            Some(old),
            Some(new),
        )?;
        unit.commit()?;
        Ok(seq)
    }

    /// Creates a customer from `draft` (its id is assigned); returns the new id.
    pub fn create_customer(&self, draft: &Customer) -> Result<CustomerId> {
        let mut unit = self.begin()?;
        let mut c = draft.clone();
        c.id = unit.new_customer_id()?;
        c.updated_at = unit.now();
        c.created_at = c.created_at.or(Some(unit.now()));
        unit.save_customer(&c)?;
        unit.audit(
            "create",
            "created".into(),
            vec![c.id],
            None,
            Some(c.clone()),
        )?;
        unit.commit()?;
        Ok(c.id)
    }

    /// Moves a customer to the trash (orders, notes and tags stay with the record).
    pub fn trash_customer(&self, id: CustomerId) -> Result<()> {
        self.set_trashed(id, true)
    }

    /// Brings a customer back from the trash, exactly as it was.
    pub fn restore_customer(&self, id: CustomerId) -> Result<()> {
        self.set_trashed(id, false)
    }

    fn set_trashed(&self, id: CustomerId, trash: bool) -> Result<()> {
        let mut unit = self.begin()?;
        let old = unit.customer(id)?.ok_or(StoreError::NotFound(id))?;
        if old.trashed_at.is_some() == trash {
            return Ok(());
        }
        let mut new = old.clone();
        new.trashed_at = trash.then(|| unit.now());
        unit.save_customer(&new)?;
        let op = if trash { "trash" } else { "restore" };
        unit.audit(
            op,
            format!("{op} {}", new.name),
            vec![id],
            Some(old),
            Some(new),
        )?;
        unit.commit()
    }

    /// Deletes trashed customers for good (with their orders and notes) in
    /// one unit; customers not in the trash are skipped. Returns how many.
    pub fn purge_trashed(&self, ids: &[CustomerId]) -> Result<u64> {
        let mut unit = self.begin()?;
        let mut n = 0;
        for id in ids {
            if unit.customer(*id)?.is_some_and(|c| c.trashed_at.is_some()) {
                unit.purge_customer(*id)?;
                n += 1;
            }
        }
        unit.audit(
            "purge",
            format!("purged {n} customers from the trash"),
            Vec::new(),
            None,
            None,
        )?;
        unit.commit()?;
        Ok(n)
    }

    /// The customers in the trash.
    pub fn trashed(&self) -> impl Iterator<Item = Result<Customer>> + use<> {
        self.all_customers()
            .filter(|r| r.as_ref().map_or(true, |c| c.trashed_at.is_some()))
    }

    /// The undo and redo stacks, replayed from the audit log: (done, undone),
    /// top last.
    fn undo_stacks(&self) -> Result<(Vec<u64>, Vec<u64>)> {
        let mut done = Vec::new();
        let mut undone = Vec::new();
        for e in self.audit_log() {
            let e = e?;
            match (e.op.as_str(), e.undoes) {
                ("undo", Some(x)) => {
                    done.retain(|s| *s != x);
                    undone.push(x);
                }
                ("redo", Some(x)) => {
                    undone.retain(|s| *s != x);
                    done.push(x);
                }
                (op, _) if UNDOABLE.contains(&op) => {
                    done.push(e.seq);
                    undone.clear();
                }
                _ => {}
            }
        }
        Ok((done, undone))
    }

    /// Takes back the newest change that is not undone yet; returns it.
    pub fn undo(&self) -> Result<Option<AuditEvent>> {
        let (done, _) = self.undo_stacks()?;
        let Some(seq) = done.last().copied() else {
            return Ok(None);
        };
        self.apply_version(seq, "undo", true)
    }

    /// Re-applies the newest undone change; returns it.
    pub fn redo(&self) -> Result<Option<AuditEvent>> {
        let (_, undone) = self.undo_stacks()?;
        let Some(seq) = undone.last().copied() else {
            return Ok(None);
        };
        self.apply_version(seq, "redo", false)
    }

    /// Writes the `before` (undo) or `after` (redo) version of event `seq`.
    fn apply_version(&self, seq: u64, op: &str, before: bool) -> Result<Option<AuditEvent>> {
        let Some(event) = self.audit_event(seq)? else {
            return Ok(None);
        };
        let Some(&id) = event.customers.first() else {
            return Ok(None);
        };
        let target = if before {
            event.before.clone()
        } else {
            event.after.clone()
        };
        let mut unit = self.begin()?;
        let current = unit.customer(id)?;
        match &target {
            Some(c) => {
                unit.save_customer(c)?;
            }
            // Undoing a create: the record did not exist before.
            None => {
                unit.purge_customer(id)?;
            }
        }
        unit.audit_undo(op, seq, id, current, target)?;
        unit.commit()?;
        Ok(Some(event))
    }
}
