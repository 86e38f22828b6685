//! Which customers rule tags must look at again.
//!
//! While rule tags exist, every unit that changes a customer (its record,
//! its orders, its tags, a merge, a trash or restore) also writes a marker
//! for it (`R` + id) in the same batch, so that a crash can never lose the
//! fact that a rule needs re-evaluating there. `search::rules` evaluates
//! only the marked customers and clears their markers in the unit that
//! applies the result; a change that marks more customers than
//! [`MARK_ALL_ABOVE`] (an import of a big file) marks everything instead,
//! one key, and the next refresh is a full pass.
//!
//! Each marker holds a stamp (a counter): a refresh clears a marker only
//! if its stamp is the one it read, so a change committed while a refresh
//! was evaluating keeps its marker for the next one.

use std::collections::BTreeSet;

use super::{Result, Store, Unit, keys};
use crate::model::CustomerId;

/// Markers written in one run of the process, beyond which a unit marks
/// everything instead: the per-key cost of markers would then approach
/// the cost of the change, and a full pass is cheaper to evaluate anyway.
pub const MARK_ALL_ABOVE: u64 = 20_000;

/// The meta key saying every customer needs re-evaluating.
const ALL: &str = "rules_dirty_all";
/// The counter the stamps come from.
const STAMPS: &str = "next_rule_mark";

/// What needs re-evaluating, as read at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleDirt {
    /// Every customer (with the stamp of the mark).
    pub all: Option<u64>,
    /// Marked customers with their stamps, ascending by id.
    pub ids: Vec<(CustomerId, u64)>,
}

impl RuleDirt {
    pub fn is_clean(&self) -> bool {
        self.all.is_none() && self.ids.is_empty()
    }
}

fn stamp_of(v: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(v.try_into().ok()?))
}

impl Store {
    /// Whether any tag has a rule (cached; units that write tag infos
    /// forget the cached answer).
    pub fn has_rule_tags(&self) -> Result<bool> {
        let mut cached = self.rule_tags.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(known) = *cached {
            return Ok(known);
        }
        let known = !self.tag_rules()?.is_empty();
        *cached = Some(known);
        Ok(known)
    }

    pub(super) fn forget_rule_tags(&self) {
        *self.rule_tags.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The markers as they are now.
    pub fn rule_dirt(&self) -> Result<RuleDirt> {
        let all = self.raw_get(&keys::meta(ALL))?.and_then(|v| stamp_of(&v));
        let mut ids = Vec::new();
        for item in self.db.scan_prefix([keys::RULE_DIRTY]) {
            let (k, v) = item?;
            if let (Some(id), Some(stamp)) = (keys::id_of(&k), stamp_of(&v)) {
                ids.push((CustomerId(id), stamp));
            }
        }
        Ok(RuleDirt { all, ids })
    }
}

impl Unit<'_> {
    /// Writes markers for `touched` (see the module docs) when rule tags
    /// exist.
    pub(super) fn mark_for_rules(&mut self, touched: &BTreeSet<CustomerId>) -> Result<()> {
        if touched.is_empty() || !self.store.has_rule_tags()? {
            return Ok(());
        }
        if self.get(&keys::meta(ALL))?.is_some() {
            return Ok(());
        }
        let stamp = self.next_counter(STAMPS)?.to_be_bytes().to_vec();
        let n = touched.len() as u64;
        let before = self
            .store
            .rule_marks_written
            .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        if before.saturating_add(n) > MARK_ALL_ABOVE {
            self.put(keys::meta(ALL), stamp);
        } else {
            for id in touched {
                self.put(keys::id_key(keys::RULE_DIRTY, id.0), stamp.clone());
            }
        }
        Ok(())
    }

    /// Clears the markers of `seen` whose stamps have not changed since.
    pub(super) fn clear_rule_marks(&mut self, seen: &RuleDirt) -> Result<()> {
        if let Some(stamp) = seen.all {
            let key = keys::meta(ALL);
            if self.get(&key)?.and_then(|v| stamp_of(&v)) == Some(stamp) {
                self.del(key);
            }
        }
        for (id, stamp) in &seen.ids {
            let key = keys::id_key(keys::RULE_DIRTY, id.0);
            if self.get(&key)?.and_then(|v| stamp_of(&v)) == Some(*stamp) {
                self.del(key);
            }
        }
        Ok(())
    }
}
