//! The last duplicate scan, kept so that an import can compare its new
//! and changed customers with everyone else without fitting a model again
//! (`rolo import customers --check-duplicates`), and so that the quality
//! report can count the pairs waiting for review.
//!
//! One record under the meta key `dedup_last`, in the versioned envelope
//! like every other value: the fitted model's tables (as plain numbers:
//! the store knows nothing of `dedup`, which converts them and checks
//! their `scheme`), the threshold, and the pairs at or above it as ids and
//! scores (no personal data). Saving replaces it, in one unit with an
//! audit event (`dedup_scan`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Result, Store, keys};

/// The audit operation of saving a scan's state.
pub const DEDUP_SCAN_OP: &str = "dedup_scan";

/// The meta key the state lives under.
const DEDUP_KEY: &str = "dedup_last";

/// A fitted duplicate model, as numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredModel {
    /// Which fields and levels the tables are for (written and checked by
    /// `dedup`): a model of other comparison levels is not used.
    pub scheme: String,
    /// m, u and weight per field and level code, row after row.
    pub m: Vec<f64>,
    pub u: Vec<f64>,
    pub w: Vec<f64>,
    pub prior: f64,
    pub candidate_match_rate: f64,
    pub em_iterations: u32,
    pub u_pairs: u64,
}

/// What the last duplicate scan found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DedupState {
    #[serde(with = "crate::model::instant")]
    pub scanned_at: DateTime<Utc>,
    /// Pairs scoring at least this are pending.
    pub threshold: f64,
    /// Customers the full scan read.
    pub customers: u64,
    pub model: StoredModel,
    /// Pairs at or above the threshold: (lower id, higher id, score),
    /// sorted by ids. Imports with a duplicate check replace the pairs of
    /// the customers they changed.
    pub pending: Vec<(u64, u64, f32)>,
}

impl Store {
    /// The state of the last duplicate scan, if any.
    pub fn dedup_state(&self) -> Result<Option<DedupState>> {
        self.get_record(&keys::meta(DEDUP_KEY))
    }

    /// Saves `state` (replacing the previous one) in one unit with an
    /// audit event whose summary is `summary`.
    pub fn save_dedup_state(&self, state: &DedupState, summary: String) -> Result<()> {
        let mut unit = self.begin()?;
        unit.put_record(keys::meta(DEDUP_KEY), state);
        unit.audit(DEDUP_SCAN_OP, summary, Vec::new(), None, None)?;
        unit.commit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_store;

    #[test]
    fn the_state_round_trips_and_is_replaced() {
        let (_dir, store) = test_store();
        assert_eq!(store.dedup_state().ok(), Some(None));
        let mut s = DedupState {
            scanned_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
            threshold: 0.9,
            customers: 3,
            model: StoredModel {
                scheme: "name:exact,different".into(),
                m: vec![0.0, 0.9, 0.1],
                u: vec![0.0, 0.01, 0.99],
                w: vec![0.0, 6.5, -3.3],
                prior: 1e-4,
                candidate_match_rate: 0.2,
                em_iterations: 7,
                u_pairs: 3,
            },
            pending: vec![(1, 2, 0.97)],
        };
        store
            .save_dedup_state(&s, "scan".into())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(store.dedup_state().ok().flatten().as_ref(), Some(&s));
        s.pending.clear();
        store
            .save_dedup_state(&s, "again".into())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(store.dedup_state().ok().flatten(), Some(s));
        let ops: Vec<String> = store
            .audit_log()
            .map(|e| e.map(|e| e.op).unwrap_or_default())
            .collect();
        assert_eq!(ops, [DEDUP_SCAN_OP, DEDUP_SCAN_OP]);
    }
}
