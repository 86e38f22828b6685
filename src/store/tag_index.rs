//! The tag index: which live customers carry a tag, as one key per tag and
//! range of 4096 consecutive ids (`t`, tag, 0, chunk number) whose value
//! lists the members of that range.
//!
//! Until format 4 there was one key per (tag, customer). Tagging 100,000
//! customers then wrote 100,000 index keys besides the 100,000 records,
//! and sled's batch cost is per key: the index was half the time of a bulk
//! tag. Chunks cut that to a few hundred keys, and counting a tag's
//! members reads its chunks instead of one key per member. The chunks are
//! written in the same batch as the records they describe (see `Unit`),
//! so the two are never out of step; the records stay the source of truth
//! (`rolo check` compares, `reindex` rebuilds).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::keys;
use crate::model::{Customer, CustomerId};

/// Customer ids per tag chunk.
pub const TAG_CHUNK_IDS: u64 = 4096;

/// The tag chunk number that holds `id`.
pub fn tag_chunk_of(id: CustomerId) -> u64 {
    id.0 / TAG_CHUNK_IDS
}

/// The key of tag `tag`'s chunk `n`: `t`, the name, 0, `n` (big-endian), so
/// a tag's chunks are contiguous and in id order under
/// [`keys::multi_prefix`]`(TAG, tag)` (names hold no 0 byte).
pub fn tag_chunk_key(tag: &str, n: u64) -> Vec<u8> {
    keys::multi(keys::TAG, tag, CustomerId(n))
}

/// The tag name and chunk number of a tag chunk key.
pub fn parse_tag_chunk_key(key: &[u8]) -> Option<(&[u8], u64)> {
    let sep = key.len().checked_sub(9).filter(|s| *s >= 1)?;
    if key.first() != Some(&keys::TAG) || key.get(sep) != Some(&0) {
        return None;
    }
    let n = keys::trailing_id(key)?.0;
    Some((key.get(1..sep)?, n))
}

/// The live customers carrying one tag in one id range, ascending.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagChunk {
    ids: Vec<u64>,
}

impl TagChunk {
    /// The member ids, ascending.
    pub fn ids(&self) -> &[u64] {
        &self.ids
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Adds `id`; false when it was there already.
    pub fn insert(&mut self, id: CustomerId) -> bool {
        match self.ids.binary_search(&id.0) {
            Ok(_) => false,
            Err(at) => {
                self.ids.insert(at, id.0);
                true
            }
        }
    }

    /// Removes `id`; false when it was not there.
    pub fn remove(&mut self, id: CustomerId) -> bool {
        match self.ids.binary_search(&id.0) {
            Ok(at) => {
                self.ids.remove(at);
                true
            }
            Err(_) => false,
        }
    }

    /// Whether every id is in the chunk's range and the list is strictly
    /// ascending (what a decoded chunk must be before it is trusted).
    pub fn is_well_formed(&self, n: u64) -> bool {
        self.ids.windows(2).all(|w| w[0] < w[1])
            && self.ids.iter().all(|&id| tag_chunk_of(CustomerId(id)) == n)
    }
}

/// The tags whose membership differs between `old` and `new` (each as the
/// index sees it: only a live customer is a member): (lost, gained).
pub fn tag_moves<'a>(
    old: Option<&'a Customer>,
    new: Option<&'a Customer>,
) -> (Vec<&'a str>, Vec<&'a str>) {
    let members = |c: Option<&'a Customer>| -> &'a [String] {
        match c {
            Some(c) if c.is_live() => &c.tags,
            _ => &[],
        }
    };
    let (before, after) = (members(old), members(new));
    let lost = before
        .iter()
        .filter(|t| !after.contains(t))
        .map(String::as_str)
        .collect();
    let gained = after
        .iter()
        .filter(|t| !before.contains(t))
        .map(String::as_str)
        .collect();
    (lost, gained)
}

/// The tag chunks a set of records implies, by key: what `check` compares
/// the stored index with.
#[derive(Debug, Default)]
pub struct ExpectedTags(BTreeMap<Vec<u8>, TagChunk>);

impl ExpectedTags {
    /// Adds `c`'s tags (none unless it is live). Customers must come in
    /// ascending id order.
    pub fn add(&mut self, c: &Customer) {
        if !c.is_live() {
            return;
        }
        let n = tag_chunk_of(c.id);
        for t in &c.tags {
            self.0
                .entry(tag_chunk_key(t, n))
                .or_default()
                .ids
                .push(c.id.0);
        }
    }

    /// Takes the expected chunk stored under `key`, if any.
    pub fn take(&mut self, key: &[u8]) -> Option<TagChunk> {
        self.0.remove(key)
    }

    /// The chunks no stored key claimed.
    pub fn into_rest(self) -> impl Iterator<Item = (Vec<u8>, TagChunk)> {
        self.0.into_iter()
    }
}

/// How a stored chunk differs from the expected one, as problems naming
/// the tag and each customer.
pub fn chunk_problems(tag: &str, stored: &TagChunk, expected: &TagChunk) -> Vec<String> {
    let tag = crate::model::display::printable(tag);
    let mut out = Vec::new();
    for id in stored.ids() {
        if expected.ids.binary_search(id).is_err() {
            out.push(format!(
                "index entry tag '{tag}' of customer {id} has no matching live record"
            ));
        }
    }
    for id in expected.ids() {
        if stored.ids.binary_search(id).is_err() {
            out.push(format!("missing index entry tag '{tag}' of customer {id}"));
        }
    }
    out
}

impl super::Store {
    /// Format 3 -> 4: rewrites the per-(tag, customer) keys as tag chunks,
    /// in one batch (the old and new keys share a shape, so a half-done
    /// rewrite must never be seen) that also sets the format marker to 4;
    /// returns the number of chunks.
    pub(super) fn chunk_tag_index(&self) -> super::Result<usize> {
        let mut batch = sled::Batch::default();
        let mut chunks: BTreeMap<Vec<u8>, TagChunk> = BTreeMap::new();
        for item in self.db.scan_prefix([keys::TAG]) {
            let (k, v) = item?;
            if !v.is_empty() {
                // Already a chunk: not a format-3 key.
                continue;
            }
            batch.remove(k.clone());
            let Some((name, id)) = parse_tag_chunk_key(&k) else {
                continue;
            };
            let Ok(name) = std::str::from_utf8(name) else {
                continue;
            };
            let id = CustomerId(id);
            chunks
                .entry(tag_chunk_key(name, tag_chunk_of(id)))
                .or_default()
                .insert(id);
        }
        let n = chunks.len();
        for (k, chunk) in chunks {
            batch.insert(k, super::codec::encode(&chunk));
        }
        // The marker moves in the same batch, so the rewrite never runs
        // twice.
        batch.insert(keys::meta("format"), &4u32.to_be_bytes());
        // Changes made before format 4 left no rule markers: the next
        // refresh of rule tags must be a full one.
        batch.remove(keys::meta(super::tags::RULES_MARK));
        self.db.apply_batch(batch)?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer(id: u64, tags: &[&str]) -> Customer {
        Customer {
            id: CustomerId(id),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            ..Customer::default()
        }
    }

    #[test]
    fn keys_round_trip_and_sort_by_tag_then_chunk() {
        let k = tag_chunk_key("interest/sports", 7);
        assert_eq!(parse_tag_chunk_key(&k), Some((&b"interest/sports"[..], 7)));
        // "vip" sorts before "vip2" whatever the chunk numbers.
        assert!(tag_chunk_key("vip", u64::MAX) < tag_chunk_key("vip2", 0));
        assert!(tag_chunk_key("vip", 1) < tag_chunk_key("vip", 2));
        assert_eq!(parse_tag_chunk_key(b"t"), None);
        assert_eq!(parse_tag_chunk_key(b"x\0\0\0\0\0\0\0\0\0"), None);
    }

    #[test]
    fn insert_and_remove_keep_ids_sorted_and_unique() {
        let mut c = TagChunk::default();
        assert!(c.insert(CustomerId(9)));
        assert!(c.insert(CustomerId(3)));
        assert!(!c.insert(CustomerId(9)));
        assert_eq!(c.ids(), &[3, 9]);
        assert!(c.remove(CustomerId(3)));
        assert!(!c.remove(CustomerId(3)));
        assert_eq!(c.ids(), &[9]);
        assert!(c.is_well_formed(0));
        assert!(!c.is_well_formed(1));
    }

    #[test]
    fn moves_count_only_live_membership() {
        let a = customer(1, &["a", "b"]);
        let b = customer(1, &["b", "c"]);
        assert_eq!(tag_moves(Some(&a), Some(&b)), (vec!["a"], vec!["c"]));
        assert_eq!(tag_moves(None, Some(&a)), (vec![], vec!["a", "b"]));
        let mut trashed = b.clone();
        trashed.trashed_at = Some(chrono::Utc::now());
        assert_eq!(
            tag_moves(Some(&b), Some(&trashed)),
            (vec!["b", "c"], vec![])
        );
    }

    #[test]
    fn problems_name_the_tag_and_each_customer() {
        let mut stored = TagChunk::default();
        stored.insert(CustomerId(1));
        stored.insert(CustomerId(2));
        let mut expected = TagChunk::default();
        expected.insert(CustomerId(2));
        expected.insert(CustomerId(3));
        assert_eq!(
            chunk_problems("vip", &stored, &expected),
            vec![
                "index entry tag 'vip' of customer 1 has no matching live record".to_owned(),
                "missing index entry tag 'vip' of customer 3".to_owned(),
            ]
        );
    }
}
