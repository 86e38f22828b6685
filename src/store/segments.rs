//! Saved segments (a name bound to a query) and dated segment snapshots
//! (each customer's segments on a day, for the movement report).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{Result, Store, keys};
use crate::model::days;

/// The audit operation of saving or deleting a saved segment.
pub const SEGMENT_OP: &str = "segment";

/// One day's snapshot: (customer id, segment codes), by id.
pub type SnapshotEntries = Vec<(u64, [u8; 3])>;

/// How many customers one snapshot chunk holds.
const SNAPSHOT_CHUNK: usize = 1 << 16;

/// A name bound to a query (`segment:NAME` in every query).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedSegment {
    pub name: String,
    pub query: String,
    #[serde(with = "crate::model::instant")]
    pub saved_at: DateTime<Utc>,
}

/// Part of one day's snapshot: (customer id, segment codes) by id. The
/// codes are the caller's (rolo stores RFM segment, lifecycle and value
/// tier as small numbers, see `segments::snapshot`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SnapshotChunk {
    pub entries: Vec<(u64, [u8; 3])>,
}

/// A fitted customer-value model (BG/NBD, and Gamma-Gamma for spend).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClvModel {
    /// `day` or `week`: the unit of the parameters.
    pub unit: String,
    /// The end of the calibration period.
    #[serde(with = "crate::model::days::req")]
    pub until: NaiveDate,
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
    pub log_likelihood: f64,
    pub converged: bool,
    /// Customers the model was fitted on.
    pub customers: u64,
    /// Gamma-Gamma p, q, v, when the spend model could be fitted.
    pub gamma_gamma: Option<[f64; 3]>,
    #[serde(with = "crate::model::instant")]
    pub fitted_at: DateTime<Utc>,
}

impl Store {
    /// The stored customer-value model, if one was fitted.
    pub fn clv_model(&self) -> Result<Option<ClvModel>> {
        self.get_record(&keys::meta("clv_model"))
    }

    /// Stores a fitted model (replacing the previous one) in one unit.
    pub fn save_clv_model(&self, m: &ClvModel) -> Result<()> {
        let mut unit = self.begin()?;
        unit.put_record(keys::meta("clv_model"), m);
        let summary = format!(
            "clv model fitted on {} customers until {} (r {:.4}, alpha {:.4}, a {:.4}, b {:.4})",
            m.customers, m.until, m.r, m.alpha, m.a, m.b
        );
        unit.audit("clv", summary, Vec::new(), None, None)?;
        unit.commit()
    }

    /// Every saved segment, by name.
    pub fn saved_segments(&self) -> Result<Vec<SavedSegment>> {
        self.scan::<SavedSegment>(&[keys::SAVED_SEGMENT])
            .map(|r| r.map(|(_, s)| s))
            .collect()
    }

    /// Saves (or replaces) a saved segment; returns the one replaced. The
    /// caller checks that the query parses.
    pub fn save_segment(&self, name: &str, query: &str) -> Result<Option<SavedSegment>> {
        let mut unit = self.begin()?;
        let key = keys::saved_segment(name);
        let old: Option<SavedSegment> = unit.get_record(&key)?;
        let seg = SavedSegment {
            name: name.to_owned(),
            query: query.to_owned(),
            saved_at: unit.now(),
        };
        unit.put_record(key, &seg);
        let summary = match &old {
            Some(o) => format!("segment {name}: query '{}' replaced by '{query}'", o.query),
            None => format!("segment {name} saved: '{query}'"),
        };
        unit.audit(SEGMENT_OP, summary, Vec::new(), None, None)?;
        unit.commit()?;
        Ok(old)
    }

    /// Deletes a saved segment; returns it, or `None` if there was none.
    pub fn delete_segment(&self, name: &str) -> Result<Option<SavedSegment>> {
        let mut unit = self.begin()?;
        let key = keys::saved_segment(name);
        let old: Option<SavedSegment> = unit.get_record(&key)?;
        if let Some(o) = &old {
            unit.del(key);
            let summary = format!("segment {name} deleted (was '{}')", o.query);
            unit.audit(SEGMENT_OP, summary, Vec::new(), None, None)?;
            unit.commit()?;
        }
        Ok(old)
    }

    /// Stores `entries` (sorted by id) as the snapshot of `day`, replacing
    /// any earlier snapshot of that day, in one unit.
    pub fn save_snapshot(&self, day: NaiveDate, entries: &[(u64, [u8; 3])]) -> Result<()> {
        let d = days::from_date(day);
        let mut unit = self.begin()?;
        for item in self.db.scan_prefix(keys::snapshot_day(d)).keys() {
            unit.del(item?.to_vec());
        }
        for (n, part) in entries.chunks(SNAPSHOT_CHUNK).enumerate() {
            let chunk = SnapshotChunk {
                entries: part.to_vec(),
            };
            unit.put_record(keys::snapshot_chunk(d, n as u32), &chunk);
        }
        let summary = format!("segment snapshot of {day}: {} customers", entries.len());
        unit.audit(SEGMENT_OP, summary, Vec::new(), None, None)?;
        unit.commit()
    }

    /// The snapshot of `day`, if one was taken.
    pub fn snapshot(&self, day: NaiveDate) -> Result<Option<SnapshotEntries>> {
        let mut out = Vec::new();
        let mut any = false;
        for item in self.scan::<SnapshotChunk>(&keys::snapshot_day(days::from_date(day))) {
            let (_, chunk) = item?;
            any = true;
            out.extend(chunk.entries);
        }
        Ok(any.then_some(out))
    }

    /// The days with a snapshot, oldest first.
    pub fn snapshot_days(&self) -> Result<Vec<NaiveDate>> {
        let mut out: Vec<NaiveDate> = Vec::new();
        for key in self.db.scan_prefix([keys::SNAPSHOT]).keys() {
            let Some(d) = keys::snapshot_day_of(&key?) else {
                continue;
            };
            let day = days::to_date(d);
            if out.last() != Some(&day) {
                out.push(day);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use crate::store::test_store;

    #[test]
    fn saved_segments_round_trip_and_replace() {
        let (_dir, store) = test_store();
        assert_eq!(store.save_segment("big", "spend>1000").ok(), Some(None));
        let old = store.save_segment("big", "spend>2000").ok().flatten();
        assert_eq!(old.map(|o| o.query).as_deref(), Some("spend>1000"));
        let all = store.saved_segments().unwrap_or_default();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].query, "spend>2000");
        assert!(store.delete_segment("big").ok().flatten().is_some());
        assert!(store.delete_segment("big").ok().flatten().is_none());
        assert!(store.saved_segments().unwrap_or_default().is_empty());
    }

    #[test]
    fn snapshots_are_replaced_whole_and_span_chunks() {
        let (_dir, store) = test_store();
        let day = chrono::NaiveDate::from_ymd_opt(2024, 5, 1).unwrap_or_default();
        let big: Vec<(u64, [u8; 3])> = (0..(super::SNAPSHOT_CHUNK as u64 + 5))
            .map(|i| (i, [1, 2, 3]))
            .collect();
        store
            .save_snapshot(day, &big)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            store.snapshot(day).ok().flatten().map(|v| v.len()),
            Some(big.len())
        );
        store
            .save_snapshot(day, &[(9, [0, 0, 0])])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            store.snapshot(day).ok().flatten(),
            Some(vec![(9, [0, 0, 0])])
        );
        assert_eq!(store.snapshot_days().unwrap_or_default(), vec![day]);
        let other = chrono::NaiveDate::from_ymd_opt(2023, 1, 1).unwrap_or_default();
        assert_eq!(store.snapshot(other).ok().flatten(), None);
    }
}
