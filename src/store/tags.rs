//! Tag operations: tagging and untagging a set of customers, rename, merge,
//! delete, tag info (colour, description) and rule tags, each one unit of
//! work with one audit event, undoable and redoable from the log alone.
//!
//! History: events touching up to 64 customers are linked into each one's
//! history as usual; larger ones are found through their stored change
//! ([`Store::history_of`] consults both), because writing a history key
//! per customer doubled the cost of tagging 100,000 customers.
//!
//! A tag lives on each member's record (`Customer::tags`), and
//! `Unit::save_customer` keeps the `t` index in step, so this module never
//! writes index entries itself. The stored `AuditEvent` shape is frozen and
//! names at most 64 customers, so every tag event also stores a
//! [`TagChange`] under `b` + its sequence number: exactly which customers
//! gained and lost which tags, and each touched tag's info before and after.
//! Undo applies it reversed, redo as it was. Only the effective edits are
//! recorded (a customer who already had the tag is not listed), so undo
//! never takes away what the operation did not add.
//!
//! The store does not evaluate queries (the search layer depends on the
//! store, not the other way round): a rule tag's members are computed by
//! `search::rules` and handed to [`Store::set_tag_rule`] and
//! [`Store::refresh_rule_tags`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::tag_index::parse_tag_chunk_key;
use super::{Result, Store, StoreError, TagChunk, Unit, keys};
use crate::model::{AuditEvent, Customer, CustomerId, TagInfo, tag_name_problem};

/// The audit operations of tag changes that undo takes back.
pub(super) const TAG_OPS: [&str; 9] = [
    "tag_add",
    "tag_create",
    "tag_remove",
    "tag_rename",
    "tag_merge",
    "tag_delete",
    "tag_info",
    "tag_rule_set",
    "tag_rule_delete",
];

/// The audit operation of a rule refresh. Not undoable: undoing it would
/// only make a rule tag disagree with its rule.
pub const RULE_REFRESH_OP: &str = "tag_rule_refresh";

/// The meta key of [`Store::rules_mark`].
pub(super) const RULES_MARK: &str = "rules_fresh";

/// What one tag operation changed, stored for undo and redo.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TagChange {
    /// Per tag, the ids of the customers that gained it, ascending.
    pub gained: Vec<(String, Vec<u64>)>,
    /// Per tag, the ids of the customers that lost it, ascending.
    pub lost: Vec<(String, Vec<u64>)>,
    /// Per tag name, its info before and after (`None`: no info).
    pub infos: Vec<(String, Option<TagInfo>, Option<TagInfo>)>,
    /// For `tag_rule_set`: per tag, the customers that carried it before
    /// and kept it. With `lost` this is the membership before the rule,
    /// which undo restores exactly, whatever refreshes did since.
    pub kept: Vec<(String, Vec<u64>)>,
}

impl TagChange {
    /// The change that takes this one back.
    pub fn reversed(&self) -> TagChange {
        TagChange {
            gained: self.lost.clone(),
            lost: self.gained.clone(),
            infos: self
                .infos
                .iter()
                .map(|(n, b, a)| (n.clone(), a.clone(), b.clone()))
                .collect(),
            kept: Vec::new(),
        }
    }

    /// How many (customer, tag) pairs were added and removed.
    pub fn counts(&self) -> (u64, u64) {
        let n = |v: &[(String, Vec<u64>)]| v.iter().map(|(_, ids)| ids.len() as u64).sum();
        (n(&self.gained), n(&self.lost))
    }

    /// Every customer the change touches, ascending.
    pub fn customers(&self) -> Vec<CustomerId> {
        let mut out: Vec<u64> = self
            .gained
            .iter()
            .chain(&self.lost)
            .flat_map(|(_, ids)| ids.iter().copied())
            .collect();
        out.sort_unstable();
        out.dedup();
        out.into_iter().map(CustomerId).collect()
    }
}

/// One tag as `rolo tag list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagSummary {
    pub name: String,
    /// Live customers carrying it.
    pub count: u64,
    pub info: Option<TagInfo>,
}

impl TagSummary {
    /// The rule query of a rule tag.
    pub fn rule(&self) -> Option<&str> {
        self.info.as_ref().and_then(|i| i.rule.as_deref())
    }
}

/// What a tag operation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TagOutcome {
    /// The audit event, when anything was written.
    pub seq: Option<u64>,
    /// (customer, tag) pairs added.
    pub gained: u64,
    /// (customer, tag) pairs removed.
    pub lost: u64,
}

fn check_name(name: &str) -> Result<()> {
    match tag_name_problem(name) {
        Some(reason) => Err(StoreError::BadTagName {
            name: name.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

fn ids_of(ids: &[CustomerId]) -> Vec<u64> {
    let mut v: Vec<u64> = ids.iter().map(|c| c.0).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Applies `change` in `unit` and returns the part of it that changed
/// something (the effective change, which is what undo must take back).
/// `strict` refuses ids that do not exist; undo and redo skip them (a
/// customer purged since).
fn put_rules_mark(unit: &mut Unit<'_>, seq: u64, as_of_day: i32) {
    let mut mark = seq.to_be_bytes().to_vec();
    mark.extend_from_slice(&as_of_day.to_be_bytes());
    unit.put(keys::meta(RULES_MARK), mark);
}

/// The ids in `want` but not in `have`, and in `have` but not in `want`
/// (both ascending).
fn diff(want: &[u64], have: &[u64]) -> (Vec<u64>, Vec<u64>) {
    let gained = want
        .iter()
        .filter(|id| have.binary_search(id).is_err())
        .copied()
        .collect();
    let lost = have
        .iter()
        .filter(|id| want.binary_search(id).is_err())
        .copied()
        .collect();
    (gained, lost)
}

fn apply(unit: &mut Unit<'_>, change: &TagChange, strict: bool) -> Result<TagChange> {
    let mut per: BTreeMap<u64, Vec<(usize, bool)>> = BTreeMap::new();
    for (i, (_, ids)) in change.gained.iter().enumerate() {
        for id in ids {
            per.entry(*id).or_default().push((i, true));
        }
    }
    for (i, (_, ids)) in change.lost.iter().enumerate() {
        for id in ids {
            per.entry(*id).or_default().push((i, false));
        }
    }
    let mut gained: Vec<Vec<u64>> = vec![Vec::new(); change.gained.len()];
    let mut lost: Vec<Vec<u64>> = vec![Vec::new(); change.lost.len()];
    let ids: Vec<CustomerId> = per.keys().map(|&id| CustomerId(id)).collect();
    let records = unit.customers_of(&ids)?;
    for ((id, edits), old) in per.into_iter().zip(records) {
        let Some(old) = old else {
            if strict {
                return Err(StoreError::NotFound(CustomerId(id)));
            }
            continue;
        };
        let mut c = old.clone();
        let mut changed = false;
        for (i, add) in edits {
            if add {
                if c.add_tag(&change.gained[i].0) {
                    gained[i].push(id);
                    changed = true;
                }
            } else if c.remove_tag(&change.lost[i].0) {
                lost[i].push(id);
                changed = true;
            }
        }
        if changed {
            unit.save_customer_over(&old, &c)?;
        }
    }
    for (name, _, after) in &change.infos {
        match after {
            Some(info) => unit.put_record(keys::tag_info(name), info),
            None => unit.del(keys::tag_info(name)),
        }
    }
    let keep = |src: &[(String, Vec<u64>)], ids: Vec<Vec<u64>>| -> Vec<(String, Vec<u64>)> {
        src.iter()
            .zip(ids)
            .filter(|(_, ids)| !ids.is_empty())
            .map(|((t, _), ids)| (t.clone(), ids))
            .collect()
    };
    Ok(TagChange {
        gained: keep(&change.gained, gained),
        lost: keep(&change.lost, lost),
        infos: change
            .infos
            .iter()
            .filter(|(_, b, a)| b != a)
            .cloned()
            .collect(),
        kept: change.kept.clone(),
    })
}

impl Store {
    /// A tag's info (colour, description, rule), if it has any.
    pub fn tag_info(&self, name: &str) -> Result<Option<TagInfo>> {
        self.get_record(&keys::tag_info(name))
    }

    /// Every tag info, by name.
    pub fn tag_infos(&self) -> Result<Vec<TagInfo>> {
        self.scan::<TagInfo>(&[keys::TAG_INFO])
            .map(|r| r.map(|(_, i)| i))
            .collect()
    }

    /// The rule tags, by name.
    pub fn tag_rules(&self) -> Result<Vec<TagInfo>> {
        Ok(self
            .tag_infos()?
            .into_iter()
            .filter(TagInfo::is_rule)
            .collect())
    }

    /// Every tag carried by a live customer or holding an info, by name,
    /// with its number of live members (one scan of the tag index).
    pub fn tags(&self) -> Result<Vec<TagSummary>> {
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        let mut last: Option<(Vec<u8>, u64)> = None;
        for item in self.scan::<TagChunk>(&[keys::TAG]) {
            let (k, chunk) = item?;
            let Some((name, _)) = parse_tag_chunk_key(&k) else {
                continue;
            };
            let n = chunk.len() as u64;
            match &mut last {
                Some((prev, c)) if prev.as_slice() == name => *c += n,
                _ => {
                    if let Some((prev, c)) = last.take() {
                        counts.insert(String::from_utf8_lossy(&prev).into_owned(), c);
                    }
                    last = Some((name.to_vec(), n));
                }
            }
        }
        if let Some((prev, c)) = last {
            counts.insert(String::from_utf8_lossy(&prev).into_owned(), c);
        }
        counts.retain(|_, c| *c > 0);
        let mut infos: BTreeMap<String, TagInfo> = self
            .tag_infos()?
            .into_iter()
            .map(|i| (i.name.clone(), i))
            .collect();
        for name in infos.keys() {
            counts.entry(name.clone()).or_insert(0);
        }
        Ok(counts
            .into_iter()
            .map(|(name, count)| {
                let info = infos.remove(&name);
                TagSummary { name, count, info }
            })
            .collect())
    }

    /// Whether any live customer carries `tag` or it has an info.
    pub fn tag_exists(&self, tag: &str) -> Result<bool> {
        Ok(self.tag_info(tag)?.is_some()
            || self
                .db
                .scan_prefix(keys::multi_prefix(keys::TAG, tag))
                .next()
                .transpose()?
                .is_some())
    }

    fn require_tag(&self, tag: &str) -> Result<()> {
        if self.tag_exists(tag)? {
            Ok(())
        } else {
            Err(StoreError::UnknownTag(tag.to_owned()))
        }
    }

    fn refuse_rule_tag(info: Option<&TagInfo>) -> Result<()> {
        match info {
            Some(TagInfo {
                name,
                rule: Some(rule),
                ..
            }) => Err(StoreError::RuleTag {
                tag: name.clone(),
                rule: rule.clone(),
            }),
            _ => Ok(()),
        }
    }

    /// A fresh manual info for `name`.
    fn new_info(&self, name: &str) -> TagInfo {
        TagInfo {
            name: name.to_owned(),
            created_at: self.now(),
            ..TagInfo::default()
        }
    }

    /// Applies `change` as one unit with one audit event `op` and its
    /// stored change (for undo); nothing is written when nothing changes.
    fn commit_change(
        &self,
        unit: &mut Unit<'_>,
        op: &str,
        summary: impl FnOnce(&TagChange) -> String,
        change: &TagChange,
    ) -> Result<TagOutcome> {
        let done = apply(unit, change, true)?;
        let (gained, lost) = done.counts();
        if gained == 0 && lost == 0 && done.infos.is_empty() {
            return Ok(TagOutcome::default());
        }
        let customers = done.customers();
        let bulk = customers.len() > 64;
        let listed = if bulk { Vec::new() } else { customers };
        let seq = unit.audit(op, summary(&done), listed, None, None)?;
        // Undo replays tag events from this record; history finds bulk
        // events (of any op) through it.
        if op != RULE_REFRESH_OP || bulk {
            unit.put_record(keys::id_key(keys::TAG_CHANGE, seq), &done);
        }
        Ok(TagOutcome {
            seq: Some(seq),
            gained,
            lost,
        })
    }

    /// Adds `tag` to each of `ids` as one atomic operation with one audit
    /// event; customers who already carry it are left alone. A new tag is
    /// created as a manual tag. Refused for a rule tag.
    pub fn add_tag(&self, tag: &str, ids: &[CustomerId]) -> Result<TagOutcome> {
        check_name(tag)?;
        let mut unit = self.begin()?;
        let info: Option<TagInfo> = unit.get_record(&keys::tag_info(tag))?;
        Self::refuse_rule_tag(info.as_ref())?;
        let mut change = TagChange {
            gained: vec![(tag.to_owned(), ids_of(ids))],
            ..TagChange::default()
        };
        if info.is_none() {
            change
                .infos
                .push((tag.to_owned(), None, Some(self.new_info(tag))));
        }
        let out = self.commit_change(
            &mut unit,
            "tag_add",
            |d| {
                let (g, _) = d.counts();
                format!("added tag {tag} to {g} customers")
            },
            &change,
        )?;
        unit.commit()?;
        Ok(out)
    }

    /// Removes `tag` from each of `ids` (those carrying it) as one atomic
    /// operation. Refused for a rule tag or a tag that does not exist.
    pub fn remove_tag(&self, tag: &str, ids: &[CustomerId]) -> Result<TagOutcome> {
        self.require_tag(tag)?;
        let mut unit = self.begin()?;
        let info: Option<TagInfo> = unit.get_record(&keys::tag_info(tag))?;
        Self::refuse_rule_tag(info.as_ref())?;
        let change = TagChange {
            lost: vec![(tag.to_owned(), ids_of(ids))],
            ..TagChange::default()
        };
        let out = self.commit_change(
            &mut unit,
            "tag_remove",
            |d| {
                let (_, l) = d.counts();
                format!("removed tag {tag} from {l} customers")
            },
            &change,
        )?;
        unit.commit()?;
        Ok(out)
    }

    /// Renames a tag on every live customer carrying it, with its info
    /// (a rule tag keeps its rule). `new` must not exist yet.
    pub fn rename_tag(&self, old: &str, new: &str) -> Result<TagOutcome> {
        check_name(new)?;
        self.require_tag(old)?;
        if old == new {
            return Ok(TagOutcome::default());
        }
        if self.tag_exists(new)? {
            return Err(StoreError::TagExists(new.to_owned()));
        }
        let mut unit = self.begin()?;
        let members = ids_of(&self.find_tag(old)?);
        let before: Option<TagInfo> = unit.get_record(&keys::tag_info(old))?;
        let mut after = before.clone().unwrap_or_else(|| self.new_info(new));
        after.name = new.to_owned();
        let change = TagChange {
            gained: vec![(new.to_owned(), members.clone())],
            lost: vec![(old.to_owned(), members)],
            infos: vec![
                (old.to_owned(), before, None),
                (new.to_owned(), None, Some(after)),
            ],
            ..TagChange::default()
        };
        let out = self.commit_change(
            &mut unit,
            "tag_rename",
            |d| {
                let (g, _) = d.counts();
                format!("renamed tag {old} to {new} on {g} customers")
            },
            &change,
        )?;
        unit.commit()?;
        Ok(out)
    }

    /// Merges tag `from` into `into`: every customer carrying `from`
    /// carries `into` instead, and `from` is gone. `into` may be new; it
    /// may not be a rule tag (its members follow its rule).
    pub fn merge_tags(&self, from: &str, into: &str) -> Result<TagOutcome> {
        check_name(into)?;
        self.require_tag(from)?;
        if from == into {
            return Ok(TagOutcome::default());
        }
        let mut unit = self.begin()?;
        let into_info: Option<TagInfo> = unit.get_record(&keys::tag_info(into))?;
        Self::refuse_rule_tag(into_info.as_ref())?;
        let members = ids_of(&self.find_tag(from)?);
        let from_info: Option<TagInfo> = unit.get_record(&keys::tag_info(from))?;
        let mut change = TagChange {
            gained: vec![(into.to_owned(), members.clone())],
            lost: vec![(from.to_owned(), members)],
            infos: vec![(from.to_owned(), from_info, None)],
            ..TagChange::default()
        };
        if into_info.is_none() {
            change
                .infos
                .push((into.to_owned(), None, Some(self.new_info(into))));
        }
        let out = self.commit_change(
            &mut unit,
            "tag_merge",
            |d| {
                let (_, l) = d.counts();
                format!("merged tag {from} ({l} customers) into {into}")
            },
            &change,
        )?;
        unit.commit()?;
        Ok(out)
    }

    /// Deletes a tag (and its rule) from every live customer; returns how
    /// many lost it in `lost`.
    pub fn delete_tag(&self, tag: &str) -> Result<TagOutcome> {
        self.require_tag(tag)?;
        let mut unit = self.begin()?;
        let members = ids_of(&self.find_tag(tag)?);
        let info: Option<TagInfo> = unit.get_record(&keys::tag_info(tag))?;
        let change = TagChange {
            lost: vec![(tag.to_owned(), members)],
            infos: vec![(tag.to_owned(), info, None)],
            ..TagChange::default()
        };
        let out = self.commit_change(
            &mut unit,
            "tag_delete",
            |d| {
                let (_, l) = d.counts();
                format!("deleted tag {tag} from {l} customers")
            },
            &change,
        )?;
        unit.commit()?;
        Ok(out)
    }

    /// Sets a tag's colour and description (`None` leaves one as it is,
    /// an empty text clears it). The tag must exist.
    pub fn set_tag_look(
        &self,
        tag: &str,
        colour: Option<&str>,
        description: Option<&str>,
    ) -> Result<TagOutcome> {
        self.require_tag(tag)?;
        let mut unit = self.begin()?;
        let before: Option<TagInfo> = unit.get_record(&keys::tag_info(tag))?;
        let mut after = before.clone().unwrap_or_else(|| self.new_info(tag));
        let text = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
        if let Some(c) = colour {
            after.colour = text(c);
        }
        if let Some(d) = description {
            after.description = text(d);
        }
        let change = TagChange {
            infos: vec![(tag.to_owned(), before, Some(after))],
            ..TagChange::default()
        };
        let out = self.commit_change(
            &mut unit,
            "tag_info",
            |_| format!("described tag {tag}"),
            &change,
        )?;
        unit.commit()?;
        Ok(out)
    }

    /// Binds `tag` to the rule query `rule` and makes its members exactly
    /// `members` (the live customers matching it, as `search::rules`
    /// evaluated them), in one undoable unit. A manual tag becomes a rule
    /// tag; a new tag is created.
    pub fn set_tag_rule(
        &self,
        tag: &str,
        rule: &str,
        members: &[CustomerId],
    ) -> Result<TagOutcome> {
        check_name(tag)?;
        let mut unit = self.begin()?;
        // The members are the rule's own evaluation: nothing to mark.
        unit.quiet_rules = true;
        let before: Option<TagInfo> = unit.get_record(&keys::tag_info(tag))?;
        let mut after = before.clone().unwrap_or_else(|| self.new_info(tag));
        after.rule = Some(rule.to_owned());
        let (gained, lost) = self.membership_diff(tag, members)?;
        let want = ids_of(members);
        let kept = ids_of(&self.find_tag(tag)?)
            .into_iter()
            .filter(|id| want.binary_search(id).is_ok())
            .collect();
        let change = TagChange {
            gained: vec![(tag.to_owned(), gained)],
            lost: vec![(tag.to_owned(), lost)],
            infos: vec![(tag.to_owned(), before, Some(after))],
            kept: vec![(tag.to_owned(), kept)],
        };
        let out = self.commit_change(
            &mut unit,
            "tag_rule_set",
            |d| {
                let (g, l) = d.counts();
                format!("rule of tag {tag} set to `{rule}`: {g} gained, {l} lost")
            },
            &change,
        )?;
        unit.commit()?;
        Ok(out)
    }

    /// The ids that would gain and lose `tag` if its members became
    /// exactly `members` (both ascending).
    pub fn membership_diff(
        &self,
        tag: &str,
        members: &[CustomerId],
    ) -> Result<(Vec<u64>, Vec<u64>)> {
        Ok(diff(&ids_of(members), &ids_of(&self.find_tag(tag)?)))
    }

    /// Drops the rule of a rule tag: it becomes a manual tag and keeps its
    /// current members.
    pub fn delete_tag_rule(&self, tag: &str) -> Result<TagOutcome> {
        let mut unit = self.begin()?;
        let before: Option<TagInfo> = unit.get_record(&keys::tag_info(tag))?;
        let Some(mut after) = before.clone().filter(TagInfo::is_rule) else {
            return Err(if self.tag_exists(tag)? {
                StoreError::NoRule(tag.to_owned())
            } else {
                StoreError::UnknownTag(tag.to_owned())
            });
        };
        after.rule = None;
        let change = TagChange {
            infos: vec![(tag.to_owned(), before, Some(after))],
            ..TagChange::default()
        };
        let out = self.commit_change(
            &mut unit,
            "tag_rule_delete",
            |_| format!("rule of tag {tag} deleted; it is a manual tag now"),
            &change,
        )?;
        unit.commit()?;
        Ok(out)
    }

    /// What the last rule refresh saw: the audit counter after it and the
    /// as-of date it evaluated for (days since 1970). Rule tags are current
    /// while both are unchanged.
    pub fn rules_mark(&self) -> Result<Option<(u64, i32)>> {
        Ok(self.raw_get(&keys::meta(RULES_MARK))?.and_then(|v| {
            let seq = <[u8; 8]>::try_from(v.get(..8)?).ok()?;
            let day = <[u8; 4]>::try_from(v.get(8..12)?).ok()?;
            Some((u64::from_be_bytes(seq), i32::from_be_bytes(day)))
        }))
    }

    /// Records that rule tags are current as of now (the audit counter)
    /// for `as_of_day` (see [`Store::rules_mark`]): for a front end that
    /// knows nothing else changed, e.g. after setting a rule while the
    /// others were fresh.
    pub fn mark_rules_fresh(&self, as_of_day: i32) -> Result<()> {
        let mut unit = self.begin()?;
        let seq = self.audit_counter()?;
        put_rules_mark(&mut unit, seq, as_of_day);
        unit.commit()
    }

    /// The audit counter: the sequence number of the newest event.
    pub fn audit_counter(&self) -> Result<u64> {
        self.counter("next_audit")
    }

    /// Brings rule tags up to date: for each (tag, members) pair, the tag's
    /// live members become exactly `members` or, when `checked` is given,
    /// its members among the `checked` customers do (`members` then lists
    /// only checked ones). One unit with one (not undoable) audit event
    /// that also clears the rule markers `seen` (see `rule_marks`); nothing
    /// but the markers and the refresh mark (see [`Store::rules_mark`],
    /// `as_of_day` is the date evaluated for) is written when nothing
    /// changes. Pairs naming a tag that is no longer a rule tag are skipped.
    pub fn refresh_rule_tags(
        &self,
        rules: &[(String, Vec<CustomerId>)],
        checked: Option<&[CustomerId]>,
        seen: &super::RuleDirt,
        as_of_day: i32,
    ) -> Result<TagOutcome> {
        let mut unit = self.begin()?;
        unit.quiet_rules = true;
        // A partial refresh compares with the checked customers' own tags.
        let carried = match checked {
            None => None,
            Some(ids) => Some(
                unit.customers_of(ids)?
                    .into_iter()
                    .flatten()
                    .filter(Customer::is_live)
                    .collect::<Vec<Customer>>(),
            ),
        };
        let mut change = TagChange::default();
        for (tag, members) in rules {
            let info: Option<TagInfo> = unit.get_record(&keys::tag_info(tag))?;
            if !info.as_ref().is_some_and(TagInfo::is_rule) {
                continue;
            }
            let (gained, lost) = match &carried {
                None => self.membership_diff(tag, members)?,
                Some(records) => {
                    let have: Vec<u64> = records
                        .iter()
                        .filter(|c| c.tags.iter().any(|t| t == tag))
                        .map(|c| c.id.0)
                        .collect();
                    let live: Vec<u64> = records.iter().map(|c| c.id.0).collect();
                    let want: Vec<u64> = ids_of(members)
                        .into_iter()
                        .filter(|id| live.binary_search(id).is_ok())
                        .collect();
                    diff(&want, &have)
                }
            };
            change.gained.push((tag.clone(), gained));
            change.lost.push((tag.clone(), lost));
        }
        unit.clear_rule_marks(seen)?;
        let out = self.commit_change(
            &mut unit,
            RULE_REFRESH_OP,
            |d| {
                let (g, l) = d.counts();
                format!("rule tags refreshed: {g} gained, {l} lost")
            },
            &change,
        )?;
        let seq = match out.seq {
            Some(seq) => seq,
            None => self.audit_counter()?,
        };
        put_rules_mark(&mut unit, seq, as_of_day);
        unit.commit()?;
        self.rule_marks_written
            .store(0, std::sync::atomic::Ordering::Relaxed);
        Ok(out)
    }

    /// Undoes (`reverse`) or redoes the tag event `event`, from its stored
    /// change.
    pub(super) fn replay_tag_change(
        &self,
        event: &AuditEvent,
        op: &str,
        reverse: bool,
    ) -> Result<()> {
        let key = keys::id_key(keys::TAG_CHANGE, event.seq);
        let Some(change) = self.get_record::<TagChange>(&key)? else {
            return Err(StoreError::Corrupt {
                what: "tag change",
                key: super::error::show_key(&key),
                source: super::CodecError::Payload(format!(
                    "tag event #{} has no stored change",
                    event.seq
                )),
            });
        };
        let change = match (reverse, change.kept.is_empty()) {
            (false, _) => change,
            (true, true) => change.reversed(),
            // Undoing a rule: the members go back to what they were before
            // it (refreshes since may have changed them).
            (true, false) => {
                let mut back = change.reversed();
                back.gained.clear();
                back.lost.clear();
                for (tag, kept) in &change.kept {
                    let mut before = kept.clone();
                    for (t, ids) in &change.lost {
                        if t == tag {
                            before.extend(ids);
                        }
                    }
                    before.sort_unstable();
                    let now = ids_of(&self.find_tag(tag)?);
                    let gained = before
                        .iter()
                        .filter(|id| now.binary_search(id).is_err())
                        .copied()
                        .collect();
                    let lost = now
                        .iter()
                        .filter(|id| before.binary_search(id).is_err())
                        .copied()
                        .collect();
                    back.gained.push((tag.clone(), gained));
                    back.lost.push((tag.clone(), lost));
                }
                back
            }
        };
        let mut unit = self.begin()?;
        let done = apply(&mut unit, &change, false)?;
        let customers = done.customers();
        let bulk = customers.len() > 64;
        let seq = unit.audit_undo_many(op, event.seq, customers)?;
        if bulk {
            unit.put_record(keys::id_key(keys::TAG_CHANGE, seq), &done);
        }
        unit.commit()
    }

    /// The tag events touching `id` that name more than 64 customers, and
    /// so are not linked into each one's history (100,000 history links
    /// would cost more than the tagging itself): found through their
    /// stored changes.
    pub(super) fn bulk_tag_events_of(&self, id: CustomerId) -> Result<Vec<u64>> {
        let mut out = Vec::new();
        for item in self.scan::<TagChange>(&[keys::TAG_CHANGE]) {
            let (k, change) = item?;
            let lists = change.gained.iter().chain(&change.lost);
            let total: usize = lists.clone().map(|(_, ids)| ids.len()).sum();
            if total > 64
                && lists
                    .clone()
                    .any(|(_, ids)| ids.binary_search(&id.0).is_ok())
            {
                out.extend(keys::id_of(&k));
            }
        }
        Ok(out)
    }
}

impl Store {
    /// Creates `tag` as an empty manual tag (its info only), so that it
    /// can be described, given a rule or picked before anyone carries it.
    /// Refused when a tag of that name exists; one undoable step.
    pub fn create_tag(&self, tag: &str) -> Result<TagOutcome> {
        check_name(tag)?;
        let mut unit = self.begin()?;
        if self.tag_exists(tag)? {
            return Err(StoreError::TagExists(tag.to_owned()));
        }
        let change = TagChange {
            infos: vec![(tag.to_owned(), None, Some(self.new_info(tag)))],
            ..TagChange::default()
        };
        let out = self.commit_change(
            &mut unit,
            "tag_create",
            |_| format!("created tag {tag}"),
            &change,
        )?;
        unit.commit()?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A created tag is listed with no members and as manual, a second
    /// create of the name is refused, and undo and redo take it back and
    /// forth.
    #[test]
    fn create_tag_makes_an_empty_manual_tag_that_undo_removes() {
        let (_dir, store) = crate::store::test_store();
        let out = store.create_tag("interest/sports").unwrap();
        assert!(out.seq.is_some());
        let tags = store.tags().unwrap();
        assert_eq!(tags.len(), 1);
        assert_eq!(
            (tags[0].name.as_str(), tags[0].count),
            ("interest/sports", 0)
        );
        assert_eq!(tags[0].rule(), None);
        assert!(matches!(
            store.create_tag("interest/sports"),
            Err(StoreError::TagExists(_))
        ));
        assert!(matches!(
            store.create_tag("bad/"),
            Err(StoreError::BadTagName { .. })
        ));
        let undone = store.undo().unwrap().unwrap();
        assert_eq!(undone.op, "tag_create");
        assert!(store.tags().unwrap().is_empty());
        store.redo().unwrap();
        assert_eq!(store.tags().unwrap().len(), 1);
        // Tagging someone with it later is an ordinary tag_add.
        let id = store
            .create_customer(&crate::model::Customer {
                name: "Ann".into(),
                ..crate::model::Customer::default()
            })
            .unwrap();
        assert_eq!(store.add_tag("interest/sports", &[id]).unwrap().gained, 1);
        assert_eq!(store.tags().unwrap()[0].count, 1);
    }
}
