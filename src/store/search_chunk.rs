//! Search chunks: the persisted free-text index, grouped by id range.
//!
//! One key per customer would cost a random sled insert per customer; one
//! key per 1024 consecutive ids keeps the index write to a few keys per
//! import batch, and lets the search engine load a million haystacks with
//! about a thousand reads. A chunk is rewritten in the same batch as the
//! records it describes, so the two are never out of step.
//!
//! The layout is columnar (ids, end offsets, character masks, one text
//! blob) so that loading a chunk is a few copies rather than a thousand
//! string allocations: `rolo search` as a one-shot command reads them all.

use serde::{Deserialize, Serialize};

use crate::model::CustomerId;
use crate::model::searchable::{initials_of, mask_of};

/// Customers per chunk.
pub const CHUNK_IDS: u64 = 1024;

/// The chunk number that holds `id`.
pub fn chunk_of(id: CustomerId) -> u64 {
    id.0 / CHUNK_IDS
}

/// The haystacks (see `model::searchable`) of the live customers in one id
/// range, sorted by id, with their character masks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchChunk {
    ids: Vec<u64>,
    /// End offset of each haystack in `text`.
    ends: Vec<u32>,
    masks: Vec<u64>,
    /// Character masks of each segment's first character.
    initials: Vec<u64>,
    text: String,
}

impl SearchChunk {
    fn span(&self, at: usize) -> (usize, usize) {
        let start = if at == 0 {
            0
        } else {
            self.ends[at - 1] as usize
        };
        (start, self.ends[at] as usize)
    }

    /// Sets or replaces the haystack of `id`.
    pub fn set(&mut self, id: CustomerId, haystack: String) {
        let mask = mask_of(&haystack);
        let initials = initials_of(&haystack);
        match self.ids.binary_search(&id.0) {
            Ok(at) => {
                let (a, b) = self.span(at);
                let old_len = b - a;
                self.text.replace_range(a..b, &haystack);
                let delta = haystack.len() as i64 - old_len as i64;
                for e in &mut self.ends[at..] {
                    *e = (*e as i64 + delta) as u32;
                }
                self.masks[at] = mask;
                self.initials[at] = initials;
            }
            Err(at) => {
                let a = if at == 0 {
                    0
                } else {
                    self.ends[at - 1] as usize
                };
                self.text.insert_str(a, &haystack);
                let len = haystack.len() as u32;
                for e in &mut self.ends[at..] {
                    *e += len;
                }
                self.ids.insert(at, id.0);
                self.ends.insert(at, a as u32 + len);
                self.masks.insert(at, mask);
                self.initials.insert(at, initials);
            }
        }
    }

    /// Removes `id`; returns whether it was there.
    pub fn remove(&mut self, id: CustomerId) -> bool {
        let Ok(at) = self.ids.binary_search(&id.0) else {
            return false;
        };
        let (a, b) = self.span(at);
        self.text.replace_range(a..b, "");
        let len = (b - a) as u32;
        for e in &mut self.ends[at + 1..] {
            *e -= len;
        }
        self.ids.remove(at);
        self.ends.remove(at);
        self.masks.remove(at);
        self.initials.remove(at);
        true
    }

    /// The haystack of `id`, if in this chunk.
    pub fn get(&self, id: CustomerId) -> Option<&str> {
        let at = self.ids.binary_search(&id.0).ok()?;
        let (a, b) = self.span(at);
        self.text.get(a..b)
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Appends a customer with a higher id than any in the chunk (for
    /// building a chunk in id order).
    pub fn push(&mut self, id: CustomerId, haystack: &str) {
        debug_assert!(self.ids.last().is_none_or(|last| *last < id.0));
        self.text.push_str(haystack);
        self.ids.push(id.0);
        self.ends.push(self.text.len() as u32);
        self.masks.push(mask_of(haystack));
        self.initials.push(initials_of(haystack));
    }

    /// The parts, for loading into an index: ids, end offsets into the text,
    /// character masks, initials masks, and the text.
    pub fn parts(&self) -> (&[u64], &[u32], &[u64], &[u64], &str) {
        (
            &self.ids,
            &self.ends,
            &self.masks,
            &self.initials,
            &self.text,
        )
    }

    /// Whether the parts are consistent (lengths agree, offsets ascend and
    /// fall on character boundaries): a decoded chunk that is not would
    /// make the index slice wrongly.
    pub fn is_well_formed(&self) -> bool {
        self.ids.len() == self.ends.len()
            && self.ids.len() == self.masks.len()
            && self.ids.len() == self.initials.len()
            && self.ends.windows(2).all(|w| w[0] <= w[1])
            && self
                .ends
                .last()
                .is_none_or(|e| *e as usize == self.text.len())
            && self
                .ends
                .iter()
                .all(|e| self.text.is_char_boundary(*e as usize))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn set_keeps_ids_sorted_and_unique() {
        let mut c = SearchChunk::default();
        c.set(CustomerId(5), "e".into());
        c.set(CustomerId(2), "b".into());
        c.set(CustomerId(5), "e2".into());
        assert_eq!(c.get(CustomerId(2)), Some("b"));
        assert_eq!(c.get(CustomerId(5)), Some("e2"));
        assert!(c.remove(CustomerId(2)));
        assert!(!c.remove(CustomerId(2)));
        assert_eq!(c.get(CustomerId(5)), Some("e2"));
        assert_eq!(c.len(), 1);
        assert!(c.is_well_formed());
    }

    proptest! {
        /// Any sequence of sets and removes equals building the final state
        /// from scratch in id order.
        #[test]
        fn edits_equal_a_fresh_build(ops in proptest::collection::vec((0u64..20, proptest::option::of("[a-z张伟\\n]{0,6}")), 0..60)) {
            let mut chunk = SearchChunk::default();
            let mut model = std::collections::BTreeMap::new();
            for (id, hay) in ops {
                match hay {
                    Some(h) => {
                        chunk.set(CustomerId(id), h.clone());
                        model.insert(id, h);
                    }
                    None => {
                        chunk.remove(CustomerId(id));
                        model.remove(&id);
                    }
                }
            }
            let mut fresh = SearchChunk::default();
            for (id, h) in &model {
                fresh.push(CustomerId(*id), h);
            }
            prop_assert!(chunk.is_well_formed());
            prop_assert_eq!(chunk, fresh);
        }
    }
}
