//! Merging duplicate customers into one survivor, taking a merge back
//! exactly (unmerge), and remembering the pairs a person said are not
//! duplicates. Detection (which records look alike) lives in `dedup`; this
//! module only changes the database, each change one unit of work with one
//! audit event.
//!
//! **A merge** ([`Store::merge`]) keeps every record: the survivor takes
//! the values of the merged records, their orders and notes; each other
//! record is kept unchanged but hidden (`merged_into` names the survivor),
//! so that an import of its ext_id still finds the survivor and an unmerge
//! can bring it back. The before-images of every record involved and the
//! list of what moved are stored in a [`MergeRecord`] (`M` + the audit seq
//! of the merge), which is all an unmerge needs.
//!
//! **Field values** of the survivor: a picked field takes the picked
//! record's value as it is (even an empty one: the person chose it).
//! Otherwise the survivor keeps its own non-empty value, else takes the
//! non-empty value of the most recently updated other record (plan order
//! breaks ties). Exceptions: `created_at` is the earliest of all records
//! (the person has been a customer since then) unless picked; `ext_id` is
//! how a source system finds the survivor, so a pick that would replace the
//! survivor's own ext_id is refused (make that record the survivor
//! instead). Emails and phones are the union, the survivor's first (a pick
//! of `email` or `phone` puts that record's primary first); tags are the
//! union without the others' rule tags (a rule decides its members: the
//! next rule refresh, which every change triggers, puts the survivor right);
//! custom attributes are the survivor's plus the others' keys it lacks
//! (keys compared case-insensitively); invalid originals are the union.
//!
//! **Orders** keep their ids and move to the survivor's book (one order-id
//! chunk places them there, so lookups find them); figures are recomputed
//! at commit. **Notes** are keyed by customer, so a moved note gets the key
//! `n` + survivor + the same instant and sequence number: the record keeps
//! the key suffixes, which map each note back.
//!
//! **An unmerge** ([`Store::unmerge`]) restores each other record exactly
//! (its before-image), moves the orders and notes that came from it back,
//! and restores the survivor from its before-image with every change made
//! to it *since* the merge re-applied (a three-way merge per field: a field
//! the survivor changed since the merge keeps its current value; list
//! values keep what was added since and lose what was removed since). So
//! when nothing touched the survivor since, every record, order, note, tag
//! and index entry is byte-for-byte what it was before the merge; orders
//! and notes added to the survivor since stay with it; moved orders or
//! notes removed since stay removed. It is refused, naming the reason, when
//! the survivor is no longer live (merged again or in the trash) or a
//! merged record was changed since.
//!
//! **Interactions.** Undo and redo of single changes do not reach across a
//! merge or an unmerge for the customers it involved (see `edit`); an
//! import revert that would touch a customer merged after the import is
//! refused until that merge is unmerged (see `revert`).
//!
//! **Dismissed pairs** (`D` + lower id + higher id, no value) record "not a
//! duplicate"; ids are stable (a re-import matches the same records), so a
//! dismissal holds across restarts and re-imports.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::orders::order_hash;
use super::{OrderIdChunk, Result, Store, StoreError, Unit, keys};
use crate::model::{Customer, CustomerId, Field, Note, TagInfo};

/// The audit operation of a merge.
pub const MERGE_OP: &str = "merge";
/// The audit operation of an unmerge.
pub const UNMERGE_OP: &str = "unmerge";
/// The audit operation of a dismissed pair.
pub const DISMISS_OP: &str = "dismiss";

/// What to merge: `others` into `survivor`, with a per-field choice.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MergePlan {
    /// The record that stays visible and takes everything.
    pub survivor: CustomerId,
    /// The records merged into it (at least one), hidden afterwards.
    pub others: Vec<CustomerId>,
    /// Take this field's value from that record (the survivor or one of
    /// the others). Fields not listed follow the default rule (module doc).
    pub picks: Vec<(Field, CustomerId)>,
}

/// What a merge did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeOutcome {
    /// The audit event of the merge; [`Store::unmerge`] takes it.
    pub seq: u64,
    pub survivor: CustomerId,
    /// Orders and notes moved to the survivor.
    pub orders_moved: u64,
    pub notes_moved: u64,
}

/// What an unmerge did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmergeOutcome {
    /// The audit event of the unmerge.
    pub seq: u64,
    /// The merge it took back.
    pub merge_seq: u64,
    pub survivor: CustomerId,
    /// The records visible again.
    pub restored: Vec<CustomerId>,
    /// Orders and notes moved back to the records they came from.
    pub orders_returned: u64,
    pub notes_returned: u64,
    /// Moved orders and notes that were no longer with the survivor
    /// (removed or reassigned since the merge), left where they are.
    pub orders_missing: u64,
    pub notes_missing: u64,
}

/// One merge that has not been unmerged, for the unmerge list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeSummary {
    /// The audit event of the merge (what [`Store::unmerge`] takes).
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub user: String,
    pub survivor: CustomerId,
    pub others: Vec<CustomerId>,
    /// The survivor's display name right after the merge.
    pub name: String,
    /// Why [`Store::unmerge`] would refuse now (`None`: it would succeed).
    pub blocker: Option<String>,
}

/// One record merged away, as the merge found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergedRecord {
    /// The record exactly as it was before the merge.
    pub before: Customer,
    /// The ids of the orders moved from its book, in book order.
    pub orders: Vec<String>,
    /// The key suffixes (instant, sequence number) of the notes moved from
    /// it: the note was at `n` + its id + suffix and is at `n` + the
    /// survivor + suffix.
    pub notes: Vec<Vec<u8>>,
}

/// Everything an unmerge needs, stored under `M` + the merge's audit seq.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeRecord {
    /// The audit event of the merge.
    pub seq: u64,
    #[serde(with = "crate::model::instant")]
    pub at: DateTime<Utc>,
    pub user: String,
    /// The survivor before and right after the merge (the three-way base).
    pub survivor_before: Customer,
    pub survivor_after: Customer,
    /// The records merged away, in plan order.
    pub others: Vec<MergedRecord>,
    /// The order-id chunk the merge wrote (when it moved orders); an
    /// unmerge deletes it when it still holds exactly those placements.
    pub order_chunk: Option<u64>,
    /// The import counter at the time of the merge: imports up to this id
    /// started before it (a revert of one of them must wait for an unmerge).
    pub imports_before: u64,
    /// The audit event of the unmerge, once unmerged.
    pub unmerged_by: Option<u64>,
}

impl MergeRecord {
    /// The survivor and every merged record.
    pub fn customers(&self) -> Vec<CustomerId> {
        let mut out = vec![self.survivor_before.id];
        out.extend(self.others.iter().map(|o| o.before.id));
        out
    }

    /// Whether the merge is still in effect.
    pub fn is_active(&self) -> bool {
        self.unmerged_by.is_none()
    }
}

/// Sets `dst`'s value of `field` to `src`'s (emails and phones are lists:
/// [`merge_list`] handles them).
fn take_field(dst: &mut Customer, src: &Customer, field: Field) {
    match field {
        Field::ExtId => dst.ext_id.clone_from(&src.ext_id),
        Field::Name => dst.name.clone_from(&src.name),
        Field::GivenName => dst.given_name.clone_from(&src.given_name),
        Field::FamilyName => dst.family_name.clone_from(&src.family_name),
        Field::Company => dst.company.clone_from(&src.company),
        Field::Title => dst.title.clone_from(&src.title),
        Field::Street => dst.street.clone_from(&src.street),
        Field::City => dst.city.clone_from(&src.city),
        Field::Region => dst.region.clone_from(&src.region),
        Field::Postcode => dst.postcode.clone_from(&src.postcode),
        Field::Country => dst.country.clone_from(&src.country),
        Field::BirthDate => dst.birth_date = src.birth_date,
        Field::Gender => dst.gender.clone_from(&src.gender),
        Field::Source => dst.source.clone_from(&src.source),
        Field::CreatedAt => dst.created_at = src.created_at,
        Field::Email | Field::Phone => {}
    }
}

/// The union of `lists` in order without repeats, `primary` first.
fn merge_list<'a>(
    primary: Option<&String>,
    lists: impl Iterator<Item = &'a [String]>,
) -> Vec<String> {
    let mut out: Vec<String> = primary.cloned().into_iter().collect();
    for v in lists.flatten() {
        if !out.contains(v) {
            out.push(v.clone());
        }
    }
    out
}

/// The survivor after merging `others` into it (`module doc`). `rule_tags`
/// names the tags whose members a rule decides.
fn merged_survivor(
    survivor: &Customer,
    others: &[Customer],
    picks: &[(Field, CustomerId)],
    rule_tags: &HashSet<String>,
    now: DateTime<Utc>,
) -> Customer {
    let all: Vec<&Customer> = std::iter::once(survivor).chain(others).collect();
    let by_id = |id: CustomerId| all.iter().copied().find(|c| c.id == id);
    let picked = |f: Field| {
        picks
            .iter()
            .find(|(pf, _)| *pf == f)
            .and_then(|(_, id)| by_id(*id))
    };
    // The others, most recently updated first (stable: plan order breaks ties).
    let mut recent: Vec<&Customer> = others.iter().collect();
    recent.sort_by_key(|c| std::cmp::Reverse(c.updated_at));

    let mut c = survivor.clone();
    for f in Field::ALL {
        if matches!(f, Field::Email | Field::Phone) {
            continue;
        }
        if let Some(src) = picked(f) {
            take_field(&mut c, src, f);
        } else if f == Field::CreatedAt {
            c.created_at = all.iter().filter_map(|x| x.created_at).min();
        } else if c.value(f).is_none() {
            if let Some(src) = recent.iter().find(|o| o.value(f).is_some()) {
                take_field(&mut c, src, f);
            }
        }
    }
    c.emails = merge_list(
        picked(Field::Email).and_then(|p| p.emails.first()),
        all.iter().map(|x| x.emails.as_slice()),
    );
    c.phones = merge_list(
        picked(Field::Phone).and_then(|p| p.phones.first()),
        all.iter().map(|x| x.phones.as_slice()),
    );
    for o in others {
        for t in o.tags.iter().filter(|t| !rule_tags.contains(*t)) {
            c.add_tag(t);
        }
        for (k, v) in &o.attrs {
            if c.attr(k).is_none() {
                c.attrs.push((k.clone(), v.clone()));
            }
        }
        for inv in &o.invalid {
            if !c.invalid.contains(inv) {
                c.invalid.push(inv.clone());
            }
        }
    }
    c.updated_at = now;
    c
}

/// `current` if it changed since `after`, else `before`.
fn pick3<T: Clone + PartialEq>(before: &T, after: &T, current: &T) -> T {
    if current != after {
        current.clone()
    } else {
        before.clone()
    }
}

/// `before` with the additions and removals from `after` to `current`.
fn list3<T: Clone + PartialEq>(before: &[T], after: &[T], current: &[T]) -> Vec<T> {
    if current == after {
        return before.to_vec();
    }
    let mut out: Vec<T> = before
        .iter()
        .filter(|x| !after.contains(x) || current.contains(x))
        .cloned()
        .collect();
    for x in current {
        if !after.contains(x) && !out.contains(x) {
            out.push(x.clone());
        }
    }
    out
}

/// [`list3`] for emails and phones: a primary changed since stays primary.
fn primary3(before: &[String], after: &[String], current: &[String]) -> Vec<String> {
    let mut out = list3(before, after, current);
    if current.first() != after.first() {
        if let Some(at) = current
            .first()
            .and_then(|p| out.iter().position(|x| x == p))
        {
            let p = out.remove(at);
            out.insert(0, p);
        }
    }
    out
}

/// The survivor after an unmerge: `before` (as it was before the merge)
/// with every change from `after` (right after the merge) to `current`.
fn unmerged_survivor(
    before: &Customer,
    after: &Customer,
    current: &Customer,
    now: DateTime<Utc>,
) -> Customer {
    let (b, a, n) = (before, after, current);
    let mut tags = list3(&b.tags, &a.tags, &n.tags);
    tags.sort_unstable();
    tags.dedup();
    // Every field is named, so that a new field cannot be forgotten here.
    let mut out = Customer {
        id: b.id,
        ext_id: pick3(&b.ext_id, &a.ext_id, &n.ext_id),
        name: pick3(&b.name, &a.name, &n.name),
        given_name: pick3(&b.given_name, &a.given_name, &n.given_name),
        family_name: pick3(&b.family_name, &a.family_name, &n.family_name),
        emails: primary3(&b.emails, &a.emails, &n.emails),
        phones: primary3(&b.phones, &a.phones, &n.phones),
        company: pick3(&b.company, &a.company, &n.company),
        title: pick3(&b.title, &a.title, &n.title),
        street: pick3(&b.street, &a.street, &n.street),
        city: pick3(&b.city, &a.city, &n.city),
        region: pick3(&b.region, &a.region, &n.region),
        postcode: pick3(&b.postcode, &a.postcode, &n.postcode),
        country: pick3(&b.country, &a.country, &n.country),
        birth_date: pick3(&b.birth_date, &a.birth_date, &n.birth_date),
        gender: pick3(&b.gender, &a.gender, &n.gender),
        source: pick3(&b.source, &a.source, &n.source),
        created_at: pick3(&b.created_at, &a.created_at, &n.created_at),
        attrs: list3(&b.attrs, &a.attrs, &n.attrs),
        invalid: list3(&b.invalid, &a.invalid, &n.invalid),
        tags,
        updated_at: b.updated_at,
        merged_into: pick3(&b.merged_into, &a.merged_into, &n.merged_into),
        trashed_at: pick3(&b.trashed_at, &a.trashed_at, &n.trashed_at),
    };
    if out != *before {
        out.updated_at = now;
    }
    out
}

/// The note key of `customer` with a moved note's key suffix.
fn note_key(customer: CustomerId, suffix: &[u8]) -> Vec<u8> {
    let mut k = keys::id_key(keys::NOTE, customer.0);
    k.extend_from_slice(suffix);
    k
}

impl Store {
    /// Merges `plan.others` into `plan.survivor` as one unit with one audit
    /// event (op `merge`), as the module doc describes: the survivor takes
    /// the picked and default field values, the union of emails, phones,
    /// tags (but not the others' rule tags) and the attributes it lacks,
    /// and every order and note of the others; each other record is kept,
    /// hidden, with `merged_into` = the survivor. Refused (nothing
    /// written) when a record is missing, not live, named twice, or a pick
    /// names a record outside the plan or would replace the survivor's
    /// ext_id.
    pub fn merge(&self, plan: &MergePlan) -> Result<MergeOutcome> {
        let mut unit = self.begin()?;
        let (survivor, others) = Self::merge_inputs(&unit, plan)?;
        let rule_tags: HashSet<String> = self
            .tag_infos()?
            .into_iter()
            .filter(TagInfo::is_rule)
            .map(|i| i.name)
            .collect();
        let sid = survivor.id;
        let after = merged_survivor(&survivor, &others, &plan.picks, &rule_tags, unit.now());
        let imports_before = self.counter("next_import")?;
        let next_chunk = self.counter("next_order_chunk")? + 1;

        let mut merged = Vec::with_capacity(others.len());
        let (mut orders_moved, mut notes_moved) = (0u64, 0u64);
        for other in &others {
            let book = std::mem::take(unit.book(other.id)?);
            unit.touch_book(other.id);
            let mut order_ids = Vec::with_capacity(book.orders.len());
            for mut o in book.orders {
                if unit.book(sid)?.get(&o.order_id).is_some() {
                    return Err(StoreError::BadMerge(format!(
                        "order {} is stored for both customer {sid} and customer {}; run `rolo check`",
                        o.order_id, other.id
                    )));
                }
                order_ids.push(o.order_id.clone());
                unit.place(&o.order_id, sid);
                o.customer = sid;
                unit.book(sid)?.upsert(o);
            }
            if !order_ids.is_empty() {
                unit.touch_book(sid);
            }
            orders_moved += order_ids.len() as u64;
            let mut notes = Vec::new();
            for (k, v) in unit.scan_merged(&keys::id_key(keys::NOTE, other.id.0))? {
                let mut note: Note = super::read::decode_at(&k, &v)?;
                let suffix = k.get(9..).unwrap_or_default().to_vec();
                note.customer = sid;
                unit.put_record(note_key(sid, &suffix), &note);
                unit.del(k);
                notes.push(suffix);
            }
            notes_moved += notes.len() as u64;
            let mut hidden = other.clone();
            hidden.merged_into = Some(sid);
            hidden.updated_at = unit.now();
            unit.save_customer(&hidden)?;
            merged.push(MergedRecord {
                before: other.clone(),
                orders: order_ids,
                notes,
            });
        }
        unit.save_customer(&after)?;
        let mut involved = vec![sid];
        involved.extend(others.iter().map(|o| o.id));
        let names: Vec<String> = others.iter().map(|o| o.id.to_string()).collect();
        let seq = unit.audit(
            MERGE_OP,
            format!(
                "merged customers {} into {sid} ({}): {orders_moved} orders, {notes_moved} notes moved",
                names.join(", "),
                after.display_name()
            ),
            involved,
            Some(survivor.clone()),
            Some(after.clone()),
        )?;
        let record = MergeRecord {
            seq,
            at: unit.now(),
            user: self.user().to_owned(),
            survivor_before: survivor,
            survivor_after: after,
            others: merged,
            order_chunk: (orders_moved > 0).then_some(next_chunk),
            imports_before,
            unmerged_by: None,
        };
        unit.put_record(keys::merge(seq), &record);
        unit.commit()?;
        Ok(MergeOutcome {
            seq,
            survivor: sid,
            orders_moved,
            notes_moved,
        })
    }

    /// Validates a plan and reads its records (survivor, others in plan order).
    fn merge_inputs(unit: &Unit<'_>, plan: &MergePlan) -> Result<(Customer, Vec<Customer>)> {
        let bad = |m: String| Err(StoreError::BadMerge(m));
        if plan.others.is_empty() {
            return bad("name at least one customer to merge into the survivor".into());
        }
        let mut seen = HashSet::new();
        for id in std::iter::once(&plan.survivor).chain(&plan.others) {
            if !seen.insert(*id) {
                return bad(format!("customer {id} is named twice"));
            }
        }
        let read = |id: CustomerId| -> Result<Customer> {
            let c = unit.customer(id)?.ok_or(StoreError::NotFound(id))?;
            if let Some(into) = c.merged_into {
                return Err(StoreError::BadMerge(format!(
                    "customer {id} was already merged into customer {into}"
                )));
            }
            if c.trashed_at.is_some() {
                return Err(StoreError::BadMerge(format!(
                    "customer {id} is in the trash; restore it first"
                )));
            }
            Ok(c)
        };
        let survivor = read(plan.survivor)?;
        let others = plan
            .others
            .iter()
            .map(|id| read(*id))
            .collect::<Result<Vec<_>>>()?;
        let mut fields = HashSet::new();
        for (f, id) in &plan.picks {
            if !seen.contains(id) {
                return bad(format!(
                    "the {f} pick names customer {id}, who is not in the merge"
                ));
            }
            if !fields.insert(*f) {
                return bad(format!("{f} is picked twice"));
            }
            let from = others.iter().find(|o| o.id == *id).unwrap_or(&survivor);
            if *f == Field::ExtId
                && survivor.value(Field::ExtId).is_some()
                && from.ext_id != survivor.ext_id
            {
                return bad(format!(
                    "the survivor's ext_id {} is how the source system finds it and cannot be replaced; make customer {id} the survivor instead",
                    survivor.ext_id.as_deref().unwrap_or_default()
                ));
            }
        }
        Ok((survivor, others))
    }

    /// Takes back the merge logged as audit event `merge_seq`, as one unit
    /// with one audit event (op `unmerge`): each merged record is restored
    /// exactly, the orders and notes that came from it move back, and the
    /// survivor gets its pre-merge record with every change made since the
    /// merge re-applied (module doc). Refused when `merge_seq` is not a
    /// merge, was unmerged already, the survivor is no longer live (merged
    /// again: unmerge that first; trashed: restore it first), or a merged
    /// record was changed since.
    pub fn unmerge(&self, merge_seq: u64) -> Result<UnmergeOutcome> {
        let mut unit = self.begin()?;
        let key = keys::merge(merge_seq);
        let mut record: MergeRecord = unit
            .get_record(&key)?
            .ok_or(StoreError::MergeNotFound(merge_seq))?;
        if let Some(by) = record.unmerged_by {
            return Err(StoreError::AlreadyUnmerged {
                merge: merge_seq,
                by,
            });
        }
        if let Some(reason) = self.unmerge_blocker(&record, |id| unit.customer(id))? {
            return Err(StoreError::CannotUnmerge {
                merge: merge_seq,
                reason,
            });
        }
        let sid = record.survivor_before.id;
        let current = unit.customer(sid)?.ok_or(StoreError::NotFound(sid))?;
        let restored = unmerged_survivor(
            &record.survivor_before,
            &record.survivor_after,
            &current,
            unit.now(),
        );
        let mut out = UnmergeOutcome {
            seq: 0,
            merge_seq,
            survivor: sid,
            restored: Vec::new(),
            orders_returned: 0,
            notes_returned: 0,
            orders_missing: 0,
            notes_missing: 0,
        };
        let mut placed_back = OrderIdChunk::default();
        for m in &record.others {
            let oid = m.before.id;
            for order_id in &m.orders {
                placed_back.push(order_id, sid.0);
                let Some(mut o) = unit.book(sid)?.remove(order_id) else {
                    out.orders_missing += 1;
                    continue;
                };
                unit.touch_book(sid);
                o.customer = oid;
                unit.book(oid)?.upsert(o);
                unit.touch_book(oid);
                // The placement from before the merge normally still
                // stands; a reindex since may have rewritten it.
                if !self
                    .order_candidates(order_hash(order_id))?
                    .contains(&oid.0)
                {
                    unit.place(order_id, oid);
                }
                out.orders_returned += 1;
            }
            for suffix in &m.notes {
                let from = note_key(sid, suffix);
                let Some(mut note) = unit.get_record::<Note>(&from)? else {
                    out.notes_missing += 1;
                    continue;
                };
                note.customer = oid;
                unit.put_record(note_key(oid, suffix), &note);
                unit.del(from);
                out.notes_returned += 1;
            }
            unit.save_customer(&m.before)?;
            out.restored.push(oid);
        }
        // The merge's order-id chunk placed exactly the moved orders with the
        // survivor; none of them is there any more, so it goes (when a
        // reindex rewrote the chunks since, it is some other chunk: kept).
        if let Some(n) = record.order_chunk {
            let chunk_key = keys::id_key(keys::ORDER_ID, n);
            if unit.get_record::<OrderIdChunk>(&chunk_key)?.as_ref() == Some(&placed_back) {
                unit.del(chunk_key);
            }
        }
        unit.save_customer(&restored)?;
        let seq = unit.audit(
            UNMERGE_OP,
            format!(
                "unmerged merge #{merge_seq}: customers {} split from {sid} again",
                out.restored
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            record.customers(),
            Some(current),
            Some(restored),
        )?;
        record.unmerged_by = Some(seq);
        unit.put_record(key, &record);
        unit.commit()?;
        out.seq = seq;
        Ok(out)
    }

    /// Why `record` cannot be unmerged now, reading records through `read`.
    fn unmerge_blocker(
        &self,
        record: &MergeRecord,
        read: impl Fn(CustomerId) -> Result<Option<Customer>>,
    ) -> Result<Option<String>> {
        let sid = record.survivor_before.id;
        let Some(s) = read(sid)? else {
            return Ok(Some(format!(
                "the survivor, customer {sid}, no longer exists"
            )));
        };
        if let Some(into) = s.merged_into {
            let later = self
                .merge_records()?
                .into_iter()
                .rev()
                .find(|m| m.is_active() && m.others.iter().any(|o| o.before.id == sid))
                .map_or_else(String::new, |m| format!(" (merge #{})", m.seq));
            return Ok(Some(format!(
                "the survivor, customer {sid}, was merged into customer {into} since{later}; unmerge that first"
            )));
        }
        if s.trashed_at.is_some() {
            return Ok(Some(format!(
                "the survivor, customer {sid}, is in the trash; restore it first"
            )));
        }
        for m in &record.others {
            let id = m.before.id;
            match read(id)? {
                Some(c) if c.merged_into == Some(sid) && c.trashed_at.is_none() => {}
                Some(_) => {
                    return Ok(Some(format!(
                        "customer {id} was changed since the merge (it is no longer a hidden part of customer {sid})"
                    )));
                }
                None => return Ok(Some(format!("customer {id} no longer exists"))),
            }
        }
        Ok(None)
    }

    /// Every merge record, oldest first (unmerged ones included).
    pub fn merge_records(&self) -> Result<Vec<MergeRecord>> {
        self.scan::<MergeRecord>(&[keys::MERGE])
            .map(|r| r.map(|(_, m)| m))
            .collect()
    }

    /// The merges not unmerged yet, newest first (for the `U` key and
    /// `rolo dedup unmerge ID`), each with the reason an unmerge would be
    /// refused now, if any (e.g. its survivor was merged again since:
    /// unmerge the newer merge first).
    pub fn merges(&self) -> Result<Vec<MergeSummary>> {
        let mut out = Vec::new();
        for m in self.merge_records()?.into_iter().rev() {
            if !m.is_active() {
                continue;
            }
            let blocker = self.unmerge_blocker(&m, |id| self.customer(id))?;
            out.push(MergeSummary {
                seq: m.seq,
                at: m.at,
                user: m.user.clone(),
                survivor: m.survivor_before.id,
                others: m.others.iter().map(|o| o.before.id).collect(),
                name: m.survivor_after.display_name().into_owned(),
                blocker,
            });
        }
        Ok(out)
    }

    /// Records that `a` and `b` are not duplicates (the pair in either
    /// order is the same), as one unit with an audit event (op `dismiss`).
    /// Returns `false`, writing nothing, when the pair was dismissed
    /// already. Both customers must exist.
    pub fn dismiss_pair(&self, a: CustomerId, b: CustomerId) -> Result<bool> {
        if a == b {
            return Err(StoreError::SelfPair(a));
        }
        let mut unit = self.begin()?;
        for id in [a, b] {
            if unit.customer(id)?.is_none() {
                return Err(StoreError::NotFound(id));
            }
        }
        let key = keys::dismissed(a, b);
        if unit.get(&key)?.is_some() {
            return Ok(false);
        }
        unit.put(key, Vec::new());
        let (lo, hi) = (a.min(b), a.max(b));
        unit.audit(
            DISMISS_OP,
            format!("customers {lo} and {hi} are not duplicates"),
            vec![lo, hi],
            None,
            None,
        )?;
        unit.commit()?;
        Ok(true)
    }

    /// Every dismissed pair as (lower id, higher id).
    pub fn dismissed_pairs(&self) -> Result<HashSet<(u64, u64)>> {
        let mut out = HashSet::new();
        for item in self.db.scan_prefix([keys::DISMISSED]) {
            let (k, _) = item?;
            out.extend(keys::dismissed_of(&k));
        }
        Ok(out)
    }

    /// Whether the pair (in either order) was dismissed as "not a duplicate".
    pub fn is_dismissed(&self, a: CustomerId, b: CustomerId) -> Result<bool> {
        Ok(self.raw_get(&keys::dismissed(a, b))?.is_some())
    }

    /// The merges still in effect, oldest first.
    pub(super) fn active_merges(&self) -> Result<Vec<MergeRecord>> {
        Ok(self
            .merge_records()?
            .into_iter()
            .filter(MergeRecord::is_active)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(s, 0).single().unwrap_or_default()
    }

    fn person(id: u64, updated: i64) -> Customer {
        Customer {
            id: CustomerId(id),
            updated_at: at(updated),
            ..Customer::default()
        }
    }

    #[test]
    fn default_rule_prefers_the_survivor_then_the_most_recent_other() {
        let mut s = person(1, 10);
        s.name = "Ann".into();
        s.emails = vec!["a@x.com".into()];
        s.created_at = Some(at(500));
        let mut old = person(2, 20);
        old.city = Some("Old".into());
        old.name = "Ann Lee".into();
        old.created_at = Some(at(100));
        old.emails = vec!["b@x.com".into(), "a@x.com".into()];
        let mut new = person(3, 30);
        new.city = Some("New".into());
        new.tags = vec!["rule".into(), "vip".into()];
        new.attrs = vec![("Tier".into(), "gold".into())];
        s.attrs = vec![("tier".into(), "silver".into())];
        let rules: HashSet<String> = ["rule".to_owned()].into();
        let m = merged_survivor(&s, &[old.clone(), new.clone()], &[], &rules, at(99));
        assert_eq!(m.name, "Ann");
        assert_eq!(m.city.as_deref(), Some("New"));
        assert_eq!(m.created_at, Some(at(100)));
        assert_eq!(m.emails, ["a@x.com", "b@x.com"]);
        assert_eq!(m.tags, ["vip"]);
        assert_eq!(m.attrs, [("tier".to_owned(), "silver".to_owned())]);
        let picks = [
            (Field::Name, old.id),
            (Field::City, old.id),
            (Field::Email, old.id),
        ];
        let m = merged_survivor(&s, &[old, new], &picks, &rules, at(99));
        assert_eq!(
            (m.name.as_str(), m.city.as_deref()),
            ("Ann Lee", Some("Old"))
        );
        assert_eq!(m.emails, ["b@x.com", "a@x.com"]);
    }

    #[test]
    fn three_way_keeps_changes_made_since_the_merge() {
        let mut before = person(1, 10);
        before.city = Some("A".into());
        before.emails = vec!["a@x.com".into()];
        before.tags = vec!["t1".into()];
        let mut after = before.clone();
        after.city = Some("B".into());
        after.emails.push("b@x.com".into());
        after.tags = vec!["t1".into(), "t2".into()];
        after.updated_at = at(20);
        assert_eq!(unmerged_survivor(&before, &after, &after, at(30)), before);
        let mut later = after.clone();
        later.company = Some("Acme".into());
        later.emails = vec!["c@x.com".into(), "a@x.com".into(), "b@x.com".into()];
        later.tags = vec!["t0".into(), "t2".into()];
        let got = unmerged_survivor(&before, &after, &later, at(30));
        assert_eq!(got.city.as_deref(), Some("A"));
        assert_eq!(got.company.as_deref(), Some("Acme"));
        assert_eq!(got.emails, ["c@x.com", "a@x.com"]);
        assert_eq!(got.tags, ["t0"]);
        assert_eq!(got.updated_at, at(30));
    }
}
