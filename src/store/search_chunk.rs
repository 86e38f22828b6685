//! Search chunks: the persisted free-text index, grouped by id range.
//!
//! One key per customer would cost a sled insert per customer per gram; one
//! key per 1024 consecutive ids keeps the index write to a few keys per
//! import batch, and lets the search engine load a million haystacks with
//! about a thousand reads. A chunk is rewritten in the same batch as the
//! records it describes, so the two are never out of step.

use serde::{Deserialize, Serialize};

use crate::model::CustomerId;

/// Customers per chunk.
pub const CHUNK_IDS: u64 = 1024;

/// The chunk number that holds `id`.
pub fn chunk_of(id: CustomerId) -> u64 {
    id.0 / CHUNK_IDS
}

/// The haystacks (see `model::searchable`) of the live customers in one id range, sorted by id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchChunk {
    pub entries: Vec<(u64, String)>,
}

impl SearchChunk {
    /// Sets or replaces the haystack of `id`.
    pub fn set(&mut self, id: CustomerId, haystack: String) {
        match self.entries.binary_search_by_key(&id.0, |(i, _)| *i) {
            Ok(at) => self.entries[at].1 = haystack,
            Err(at) => self.entries.insert(at, (id.0, haystack)),
        }
    }

    /// Removes `id`; returns whether it was there.
    pub fn remove(&mut self, id: CustomerId) -> bool {
        match self.entries.binary_search_by_key(&id.0, |(i, _)| *i) {
            Ok(at) => {
                self.entries.remove(at);
                true
            }
            Err(_) => false,
        }
    }

    pub fn get(&self, id: CustomerId) -> Option<&str> {
        self.entries
            .binary_search_by_key(&id.0, |(i, _)| *i)
            .ok()
            .map(|at| self.entries[at].1.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_keeps_ids_sorted_and_unique() {
        let mut c = SearchChunk::default();
        c.set(CustomerId(5), "e".into());
        c.set(CustomerId(2), "b".into());
        c.set(CustomerId(5), "e2".into());
        assert_eq!(c.entries, vec![(2, "b".to_string()), (5, "e2".to_string())]);
        assert!(c.remove(CustomerId(2)));
        assert!(!c.remove(CustomerId(2)));
        assert_eq!(c.get(CustomerId(5)), Some("e2"));
    }
}
