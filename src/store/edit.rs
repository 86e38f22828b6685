//! Single-customer changes (edit, create, trash, restore, add a note) and
//! their undo and redo (undo and redo also replay tag changes, see `tags`).
//! Each is one unit of work with an audit event that
//! says enough to take it back, so undo works from the audit log alone, also
//! after a restart: record changes carry the whole record before and after;
//! a note's event carries the note in its summary (see [`NoteSummary`]),
//! because the stored `AuditEvent` shape is frozen and a unit computes an
//! event's `changes` from the records it is given.
//!
//! Undo and redo never reach across a merge or an unmerge (see `merge`):
//! each one drops, from both stacks, every event that touched one of the
//! customers it involved. Undoing an edit made before a merge would write
//! the pre-merge record over the survivor (losing what it took in) or make
//! a merged record live again while its orders sit with the survivor; the
//! way back over a merge is `unmerge` (the `U` key), never `u`.

use std::collections::{HashMap, HashSet};

use chrono::DateTime;

use super::merge::{MERGE_OP, UNMERGE_OP};
use super::{Result, Store, StoreError, TagChange, keys};
use crate::model::{AuditEvent, Customer, CustomerId, FieldChange, Note, NoteKind, Stats};

/// Operations that undo can take back.
const UNDOABLE: [&str; 5] = ["edit", "create", "trash", "restore", "note"];

/// The audit operation of a note added by hand.
const NOTE_OP: &str = "note";

/// The summary of a note event, which is also how undo and redo read the
/// note back: `added a KIND note (S/5): TEXT`, the score part only when
/// given. KIND is one fixed lower-case word and the text is everything after
/// the first `": "`, so any text parses back exactly.
pub struct NoteSummary;

impl NoteSummary {
    /// The summary of an event adding `n`.
    pub fn of(n: &Note) -> String {
        let score = n
            .satisfaction
            .map(|s| format!(" ({s}/5)"))
            .unwrap_or_default();
        format!("added a {} note{score}: {}", n.kind, n.text)
    }

    /// The kind, text and score written by [`NoteSummary::of`].
    pub fn parse(summary: &str) -> Option<(NoteKind, String, Option<u8>)> {
        let rest = summary.strip_prefix("added a ")?;
        let (head, text) = rest.split_once(": ")?;
        let (kind, score) = match head.split_once(" note") {
            Some((kind, "")) => (kind, None),
            Some((kind, score)) => {
                let s = score.strip_prefix(" (")?.strip_suffix("/5)")?;
                (kind, Some(s.parse::<u8>().ok()?))
            }
            None => return None,
        };
        let kind = NoteKind::ALL.into_iter().find(|k| k.as_str() == kind)?;
        Some((kind, text.to_owned(), score))
    }
}

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

    /// Adds a note to a customer, stamped with the current instant (whole
    /// seconds, as notes are stored), in one unit with its audit event;
    /// `u` takes it back. `satisfaction` is 1 to 5 when given (callers
    /// validate it, as the importer does). Returns the note as stored.
    pub fn add_customer_note(
        &self,
        id: CustomerId,
        kind: NoteKind,
        text: &str,
        satisfaction: Option<u8>,
    ) -> Result<Note> {
        let mut unit = self.begin()?;
        if unit.customer(id)?.is_none() {
            return Err(StoreError::NotFound(id));
        }
        let note = Note {
            customer: id,
            at: DateTime::from_timestamp(unit.now().timestamp(), 0).unwrap_or_default(),
            kind,
            text: text.to_owned(),
            satisfaction,
        };
        unit.add_note(&note)?;
        unit.audit(NOTE_OP, NoteSummary::of(&note), vec![id], None, None)?;
        unit.commit()?;
        Ok(note)
    }

    /// The note a note event added: its customer and instant from the
    /// event, the rest from its summary.
    fn note_of_event(event: &AuditEvent) -> Option<Note> {
        let (kind, text, satisfaction) = NoteSummary::parse(&event.summary)?;
        Some(Note {
            customer: *event.customers.first()?,
            at: DateTime::from_timestamp(event.at.timestamp(), 0)?,
            kind,
            text,
            satisfaction,
        })
    }

    /// Every customer's derived figures, in id order, in one scan (only
    /// customers with orders have any). For sorting a whole list by a
    /// figure, where a lookup per customer would be a million reads.
    pub fn all_stats(&self) -> impl Iterator<Item = Result<(CustomerId, Stats)>> + use<> {
        self.scan::<Stats>(&[keys::STATS])
            .map(|r| r.map(|(k, s)| (CustomerId(keys::id_of(&k).unwrap_or(0)), s)))
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
    /// top last. An erasure takes every change of the erased customer off
    /// both stacks: its events no longer say what to restore, and restoring
    /// would bring personal data back.
    fn undo_stacks(&self) -> Result<(Vec<u64>, Vec<u64>)> {
        let mut done = Vec::new();
        let mut undone = Vec::new();
        // The customer each record or note change was about, by seq.
        let mut about: std::collections::HashMap<u64, CustomerId> = Default::default();
        // The customers each undoable event names; `None` for a bulk tag
        // event (its stored change names them, read only when a merge asks).
        let mut named: HashMap<u64, Option<Vec<CustomerId>>> = HashMap::new();
        for e in self.audit_log() {
            let e = e?;
            if e.op == super::ERASE_OP {
                for id in &e.customers {
                    done.retain(|s| about.get(s) != Some(id));
                    undone.retain(|s| about.get(s) != Some(id));
                }
                continue;
            }
            if UNDOABLE.contains(&e.op.as_str()) {
                if let Some(id) = e.customers.first() {
                    about.insert(e.seq, *id);
                }
            }
            match (e.op.as_str(), e.undoes) {
                (op, _) if op == MERGE_OP || op == UNMERGE_OP => {
                    let involved: HashSet<CustomerId> = e.customers.iter().copied().collect();
                    for stack in [&mut done, &mut undone] {
                        let mut kept = Vec::with_capacity(stack.len());
                        for seq in stack.drain(..) {
                            if !self.event_touches(seq, named.get(&seq), &involved)? {
                                kept.push(seq);
                            }
                        }
                        *stack = kept;
                    }
                }
                (op, _) if super::tags::TAG_OPS.contains(&op) => {
                    let listed = (!e.customers.is_empty()).then(|| e.customers.clone());
                    named.insert(e.seq, listed);
                    done.push(e.seq);
                    undone.clear();
                }
                ("undo", Some(x)) => {
                    done.retain(|s| *s != x);
                    undone.push(x);
                }
                ("redo", Some(x)) => {
                    undone.retain(|s| *s != x);
                    done.push(x);
                }
                (op, _) if UNDOABLE.contains(&op) => {
                    named.insert(e.seq, Some(e.customers.clone()));
                    done.push(e.seq);
                    undone.clear();
                }
                _ => {}
            }
        }
        Ok((done, undone))
    }

    /// Whether event `seq` (naming `named`, see `undo_stacks`) touched one
    /// of `involved`.
    fn event_touches(
        &self,
        seq: u64,
        named: Option<&Option<Vec<CustomerId>>>,
        involved: &HashSet<CustomerId>,
    ) -> Result<bool> {
        Ok(match named {
            Some(Some(ids)) => ids.iter().any(|id| involved.contains(id)),
            Some(None) => self
                .get_record::<TagChange>(&keys::id_key(keys::TAG_CHANGE, seq))?
                .is_some_and(|c| c.customers().iter().any(|id| involved.contains(id))),
            None => false,
        })
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
        // Tag events may name no customer (their stored change lists them).
        if super::tags::TAG_OPS.contains(&event.op.as_str()) {
            return self
                .replay_tag_change(&event, op, before)
                .map(|()| Some(event));
        }
        let Some(&id) = event.customers.first() else {
            return Ok(None);
        };
        if event.op == NOTE_OP {
            return self.apply_note(&event, op, before).map(|()| Some(event));
        }
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

    /// Undoes (removes) or redoes (adds again) the note of a note event.
    /// An undo whose note is already gone (its customer was purged) is
    /// still logged, so the undo stack moves on; a redo needs the customer.
    fn apply_note(&self, event: &AuditEvent, op: &str, remove: bool) -> Result<()> {
        let Some(note) = Self::note_of_event(event) else {
            return Err(StoreError::Corrupt {
                what: "note event",
                key: super::error::show_key(&keys::id_key(keys::AUDIT, event.seq)),
                source: super::CodecError::Payload(format!(
                    "note event summary {:?} does not name a note",
                    event.summary
                )),
            });
        };
        let id = note.customer;
        let mut unit = self.begin()?;
        if remove {
            // The writer lock is held: what is on disk is what the unit sees.
            let mut found = None;
            for item in self.scan::<Note>(&keys::id_key(keys::NOTE, id.0)) {
                let (k, n) = item?;
                if n == note {
                    found = Some(k);
                }
            }
            if let Some(k) = found {
                unit.remove_note(&k);
            }
        } else {
            if unit.customer(id)?.is_none() {
                return Err(StoreError::NotFound(id));
            }
            unit.add_note(&note)?;
        }
        unit.audit_undo(op, event.seq, id, None, None)?;
        unit.commit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn note_summaries_parse_back_exactly() {
        for (kind, text, score) in [
            (NoteKind::Call, "回访：很满意", Some(5)),
            (NoteKind::Complaint, "late: again (2/5): sigh", None),
            (NoteKind::Other, ": note ", Some(1)),
            (NoteKind::Email, "", None),
        ] {
            let n = Note {
                kind,
                text: text.to_owned(),
                satisfaction: score,
                ..Note::default()
            };
            let s = NoteSummary::of(&n);
            assert_eq!(
                NoteSummary::parse(&s),
                Some((kind, text.to_owned(), score)),
                "{s}"
            );
        }
        assert_eq!(NoteSummary::parse("edited city"), None);
        assert_eq!(NoteSummary::parse("added a fax note: x"), None);
    }
}
