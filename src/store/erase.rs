//! Erasure: removing a person's personal data from everywhere the store
//! keeps it, in one unit of work, leaving a tombstone and one audit event.
//!
//! What each kind of record does with an erased customer (the prefixes of
//! `keys`):
//!
//! | prefix | what happens |
//! |---|---|
//! | `c` customer | deleted; an `E` tombstone (id, instant, user, audit seq) takes its place |
//! | `k` identity, `t` tags, `g` search | the customer's entries removed (as for any deleted record) |
//! | `n` notes | deleted |
//! | `o` order book | kept with each order's free-form attributes dropped: order ids, dates, amounts, quantities, currencies and channels stay, so revenue over all orders stays right |
//! | `s` figures, `O` order-id chunks | kept (derived from the orders; no personal data) |
//! | `a` audit events | events about the customer (it is their only customer, or their before/after is its record) lose their summary, before/after records and changed values, each replaced by `[erased]`; in every other event the person's identifying values (name, emails, phones, ext_id, street, and the invalid originals) are replaced by `[erased]` |
//! | `u` undo batches | the customer's entries and notes dropped; its orders' attributes dropped |
//! | `h` history links | kept (ids and sequence numbers), so the history reads "erased" |
//! | `b` tag changes, `S` snapshots, `i` import logs, `m` meta | kept: ids, tag names, segment codes, file names and counts |
//! | `T` tag infos, `v` saved segments | kept, but reported when their text mentions one of the person's values, for the user to edit |
//! | `M` merge records | deleted when they name the customer (they hold before-images); such a merge can no longer be unmerged. Records merged into the erased customer are erased first |
//! | `D` dismissed pairs | kept (two ids) |
//!
//! sled keeps overwritten values in its log files until they are reused,
//! so the caller rewrites the database afterwards (`Store::compact`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::read::decode_at;
use super::{Result, Store, StoreError, UndoBatch, UndoEntry, keys};
use crate::model::{AuditEvent, Customer, CustomerId, FieldChange};

/// The audit operation of an erasure.
pub const ERASE_OP: &str = "erase";

/// What erased values are replaced with.
pub const ERASED_MARK: &str = "[erased]";

/// What is left of an erased customer: that it existed and was erased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Erasure {
    pub id: CustomerId,
    #[serde(with = "crate::model::instant")]
    pub at: DateTime<Utc>,
    /// The OS user who erased it.
    pub user: String,
    /// The audit event of the erasure.
    pub seq: u64,
}

/// What an erasure changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ErasureReport {
    pub id: CustomerId,
    /// The audit event of the erasure.
    pub seq: u64,
    pub notes_removed: u64,
    /// Orders kept (amounts and dates), and how many of them lost attributes.
    pub orders_kept: u64,
    pub orders_stripped: u64,
    pub audit_events_scrubbed: u64,
    pub undo_batches_scrubbed: u64,
    /// Merge records naming the customer, deleted.
    pub merge_records_dropped: u64,
    /// Tag infos and saved segments whose text mentions one of the erased
    /// values (left as they are: changing a rule changes its members).
    pub mentions: Vec<String>,
}

impl Store {
    /// The tombstone of an erased customer.
    pub fn erasure(&self, id: CustomerId) -> Result<Option<Erasure>> {
        self.get_record(&keys::erased(id))
    }

    /// Every erasure, by customer id.
    pub fn erasures(&self) -> Result<Vec<Erasure>> {
        self.scan::<Erasure>(&[keys::ERASED])
            .map(|r| r.map(|(_, e)| e))
            .collect()
    }

    /// Erases customer `id`'s personal data everywhere (see the module
    /// docs), in one unit with one `erase` audit event. Live, trashed and
    /// merged records can be erased; erasing twice is refused.
    pub fn erase_customer(&self, id: CustomerId) -> Result<ErasureReport> {
        // Records merged into this one are the same person: erased first
        // (each in its own unit), so no copy of the person stays behind.
        let merged_in: Vec<CustomerId> = self
            .merge_records()?
            .iter()
            .filter(|m| m.is_active() && m.survivor_before.id == id)
            .flat_map(|m| m.others.iter().map(|o| o.before.id))
            .collect();
        for other in merged_in {
            if self.get_record::<Erasure>(&keys::erased(other))?.is_none() {
                self.erase_customer(other)?;
            }
        }
        let mut unit = self.begin()?;
        if unit.get_record::<Erasure>(&keys::erased(id))?.is_some() {
            return Err(StoreError::Erased(id));
        }
        let old = unit.drop_record(id)?.ok_or(StoreError::NotFound(id))?;
        let mut report = ErasureReport {
            id,
            ..ErasureReport::default()
        };
        report.notes_removed = unit.remove_notes(id)?;
        (report.orders_kept, report.orders_stripped) = unit.strip_order_attrs(id)?;

        let mut values = Values::default();
        values.add_customer(&old);
        // The writer lock is held: what is on disk is what the unit sees,
        // except for the keys it wrote above (none of `u` and `a`).
        for item in self.db.scan_prefix([keys::UNDO]) {
            let (k, v) = item?;
            let mut batch: UndoBatch = decode_at(&k, &v)?;
            if scrub_undo(&mut batch, id, &mut values) {
                report.undo_batches_scrubbed += 1;
                unit.put_record(k.to_vec(), &batch);
            }
        }
        let mut events = Vec::new();
        for item in self.db.scan_prefix([keys::AUDIT]) {
            let (k, v) = item?;
            let e: AuditEvent = decode_at(&k, &v)?;
            for c in [&e.before, &e.after].into_iter().flatten() {
                if c.id == id {
                    values.add_customer(c);
                }
            }
            events.push((k.to_vec(), e));
        }
        let values = values.finish();
        for (k, mut e) in events {
            let changed = if is_about(&e, id) {
                scrub_event(&mut e);
                true
            } else {
                replace_in_event(&mut e, &values)
            };
            if changed {
                report.audit_events_scrubbed += 1;
                unit.put_record(k, &e);
            }
        }
        report.mentions = self.mentions(&values)?;
        // Merge records hold before-images of every record they joined:
        // those naming the person go (such a merge can no longer be undone).
        for m in self.merge_records()? {
            if m.customers().contains(&id) {
                unit.del(keys::id_key(keys::MERGE, m.seq));
                report.merge_records_dropped += 1;
            }
        }

        let seq = unit.audit(
            ERASE_OP,
            format!("erased the personal data of customer {id}"),
            vec![id],
            None,
            None,
        )?;
        report.seq = seq;
        let tombstone = Erasure {
            id,
            at: unit.now(),
            user: self.user().to_owned(),
            seq,
        };
        unit.put_record(keys::erased(id), &tombstone);
        unit.commit()?;
        Ok(report)
    }

    /// The tag infos and saved segments whose text holds one of `values`.
    fn mentions(&self, values: &[String]) -> Result<Vec<String>> {
        let hit = |text: &str| {
            let folded = text.to_lowercase();
            values.iter().any(|v| folded.contains(&v.to_lowercase()))
        };
        let mut out = Vec::new();
        for info in self.tag_infos()? {
            let texts = [info.rule.as_deref(), info.description.as_deref()];
            if hit(&info.name) || texts.into_iter().flatten().any(hit) {
                out.push(format!("tag {}", info.name));
            }
        }
        for s in self.saved_segments()? {
            if hit(&s.name) || hit(&s.query) {
                out.push(format!("saved segment {}", s.name));
            }
        }
        Ok(out)
    }
}

/// Whether an event is about customer `id` alone: it names only that
/// customer, or carries its record before or after.
fn is_about(e: &AuditEvent, id: CustomerId) -> bool {
    e.customers == [id]
        || [&e.before, &e.after]
            .into_iter()
            .flatten()
            .any(|c| c.id == id)
}

/// Empties an event about an erased customer of everything it said about
/// them: the summary (it may quote a name or a note), the records before and
/// after, and the changed values (field names stay). The operation, its
/// time, user and customer id stay, so the history reads "erased".
fn scrub_event(e: &mut AuditEvent) {
    e.summary = ERASED_MARK.to_owned();
    e.before = None;
    e.after = None;
    for ch in &mut e.changes {
        mark(&mut ch.before);
        mark(&mut ch.after);
    }
}

fn mark(v: &mut Option<String>) {
    if v.is_some() {
        *v = Some(ERASED_MARK.to_owned());
    }
}

/// Replaces the erased values in another event's texts; returns whether
/// anything changed. Other customers' records in it are not the person's.
fn replace_in_event(e: &mut AuditEvent, values: &[String]) -> bool {
    let mut changed = replace_values(&mut e.summary, values);
    for FieldChange { before, after, .. } in &mut e.changes {
        for v in [before, after].into_iter().flatten() {
            changed |= replace_values(v, values);
        }
    }
    changed
}

/// Replaces every occurrence of each value (longest first) by the mark.
fn replace_values(text: &mut String, values: &[String]) -> bool {
    let mut changed = false;
    for v in values {
        if text.contains(v.as_str()) {
            *text = text.replace(v.as_str(), ERASED_MARK);
            changed = true;
        }
    }
    changed
}

/// Drops the customer's entries (and notes) from an undo batch and the
/// attributes of its orders; collects the values of its old versions.
/// Returns whether the batch changed.
fn scrub_undo(batch: &mut UndoBatch, id: CustomerId, values: &mut Values) -> bool {
    let before = batch.entries.len();
    let mut stripped = false;
    batch.entries.retain_mut(|entry| match entry {
        UndoEntry::Customer { id: c, before } if *c == id => {
            if let Some(old) = before {
                values.add_customer(old);
            }
            false
        }
        UndoEntry::Note { note, .. } => note.customer != id,
        UndoEntry::Order {
            before: Some(o), ..
        } if o.customer == id => {
            if !o.attrs.is_empty() {
                o.attrs.clear();
                stripped = true;
            }
            true
        }
        _ => true,
    });
    stripped || batch.entries.len() != before
}

/// The identifying values of a person, gathered from every version of its
/// record that the store held.
#[derive(Default)]
struct Values(Vec<String>);

impl Values {
    fn add_customer(&mut self, c: &Customer) {
        let singles = [
            Some(c.name.as_str()),
            c.given_name.as_deref(),
            c.family_name.as_deref(),
            c.ext_id.as_deref(),
            c.street.as_deref(),
        ];
        self.0
            .extend(singles.into_iter().flatten().map(str::to_owned));
        self.0.extend(c.emails.iter().cloned());
        for p in &c.phones {
            self.0.push(p.clone());
            self.0
                .extend(crate::model::searchable::phone_digit_forms(p));
        }
        self.0.extend(c.invalid.iter().map(|(_, v)| v.clone()));
    }

    /// The values long enough to be distinctive (three characters, or two
    /// for non-ASCII text such as a Chinese name), longest first.
    fn finish(mut self) -> Vec<String> {
        self.0.retain(|v| {
            let n = v.trim().chars().count();
            n >= 3 || (n == 2 && !v.is_ascii())
        });
        self.0
            .sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        self.0.dedup();
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Note, NoteKind};
    use crate::store::test_store;

    fn person() -> Customer {
        Customer {
            name: "Zebulon Quartermaine".into(),
            emails: vec!["zeb.q@example.org".into()],
            phones: vec!["+8613912345678".into()],
            street: Some("9 Quiet Lane".into()),
            tags: vec!["vip".into()],
            ..Customer::default()
        }
    }

    #[test]
    fn erasure_leaves_a_tombstone_and_no_values() {
        let (_dir, store) = test_store();
        let id = store
            .create_customer(&person())
            .unwrap_or_else(|e| panic!("{e}"));
        let other = store
            .create_customer(&Customer {
                name: "Other".into(),
                ..Customer::default()
            })
            .unwrap_or_else(|e| panic!("{e}"));
        let mut edited = store.require_customer(id).unwrap_or_else(|e| panic!("{e}"));
        edited.city = Some("Quartermaine Town".into());
        store
            .update_customer(&edited)
            .unwrap_or_else(|e| panic!("{e}"));
        store
            .add_customer_note(id, NoteKind::Call, "Zebulon liked it", Some(5))
            .unwrap_or_else(|e| panic!("{e}"));
        store
            .save_segment("zeb", "email:zeb.q@example.org")
            .unwrap_or_else(|e| panic!("{e}"));

        let r = store.erase_customer(id).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.notes_removed, 1);
        assert_eq!(r.mentions, ["saved segment zeb"]);
        assert!(store.customer(id).unwrap_or_default().is_none());
        assert!(matches!(
            store.require_customer(id),
            Err(StoreError::Erased(_))
        ));
        assert_eq!(store.erasure(id).ok().flatten().map(|e| e.seq), Some(r.seq));
        assert!(
            store
                .find_email("zeb.q@example.org")
                .unwrap_or_default()
                .is_empty()
        );
        assert!(store.find_tag("vip").unwrap_or_default().is_empty());
        assert!(store.notes_of(id).unwrap_or_default().is_empty());
        assert_eq!(store.check().unwrap_or_default(), Vec::<String>::new());
        let history = store.history_of(id).unwrap_or_default();
        assert_eq!(history.last().map(|e| e.op.as_str()), Some(ERASE_OP));
        for e in store.audit_log() {
            let text = format!("{:?}", e.unwrap_or_else(|e| panic!("{e}")));
            for v in ["Zebulon", "zeb.q@", "13912345678", "Quiet Lane"] {
                assert!(!text.contains(v), "{v} in {text}");
            }
        }
        // Nothing about it can be undone any more: the newest undoable
        // change is now the other customer's creation.
        let undone = store.undo().unwrap_or_default();
        assert_eq!(undone.map(|e| e.customers), Some(vec![other]));
        assert_eq!(store.undo().unwrap_or_default().map(|e| e.op), None);
        assert!(matches!(
            store.erase_customer(id),
            Err(StoreError::Erased(_))
        ));
        assert!(matches!(
            store.erase_customer(CustomerId(999)),
            Err(StoreError::NotFound(_))
        ));
    }

    #[test]
    fn undo_batches_lose_the_person_and_keep_the_rest() {
        let mut values = Values::default();
        let id = CustomerId(3);
        let mut batch = UndoBatch {
            entries: vec![
                UndoEntry::Customer {
                    id,
                    before: Some(Box::new(person())),
                },
                UndoEntry::Customer {
                    id: CustomerId(4),
                    before: None,
                },
                UndoEntry::Note {
                    key: Vec::new(),
                    note: Note {
                        customer: id,
                        text: "secret".into(),
                        ..Note::default()
                    },
                },
            ],
        };
        assert!(scrub_undo(&mut batch, id, &mut values));
        assert_eq!(batch.entries.len(), 1);
        let values = values.finish();
        assert!(values.contains(&"zeb.q@example.org".to_owned()));
        assert!(values.contains(&"13912345678".to_owned()));
        assert!(!scrub_undo(&mut batch, id, &mut Values::default()));
        let mut text = "segment x saved: 'zeb.q@example.org OR Zebulon Quartermaine'".to_owned();
        assert!(replace_values(&mut text, &values));
        assert_eq!(text, "segment x saved: '[erased] OR [erased]'");
    }
}
