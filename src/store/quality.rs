//! The quality figures saved at the last visit, so that the next quality
//! report can say how each figure moved since (see `crate::quality`).
//!
//! One record under the meta key `quality_last`, in the versioned envelope
//! like every other value; saving replaces it, in one unit with an audit
//! event (`quality`).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{Result, Store, keys};

/// The audit operation of saving quality figures.
pub const QUALITY_OP: &str = "quality";

/// The meta key the last saved figures live under.
const QUALITY_KEY: &str = "quality_last";

/// The headline figures of one quality report, as saved (counts of live
/// customers; scores 0 to 100).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityFigures {
    #[serde(with = "crate::model::instant")]
    pub saved_at: DateTime<Utc>,
    /// The as-of date the report was computed for.
    #[serde(with = "crate::model::days::req")]
    pub as_of: NaiveDate,
    pub customers: u64,
    pub score: f64,
    /// Per canonical field, in `Field::ALL` order.
    pub fields: Vec<FieldFigures>,
    /// Customers with any invalid value (or an order before signup).
    pub invalid: u64,
    pub order_before_signup: u64,
    /// The staleness threshold the `stale` count used.
    pub stale_days: u32,
    pub stale: u64,
    pub no_tag_no_order: u64,
}

/// One field's saved figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldFigures {
    pub field: String,
    pub filled: u64,
    pub invalid: u64,
    pub score: f64,
}

impl Store {
    /// The quality figures saved last, if any.
    pub fn quality_figures(&self) -> Result<Option<QualityFigures>> {
        self.get_record(&keys::meta(QUALITY_KEY))
    }

    /// Saves `figures` as the last visit's (replacing the previous ones),
    /// in one unit with an audit event.
    pub fn save_quality_figures(&self, figures: &QualityFigures) -> Result<()> {
        let mut unit = self.begin()?;
        unit.put_record(keys::meta(QUALITY_KEY), figures);
        let summary = format!(
            "quality figures saved: score {:.1} over {} customers as of {}",
            figures.score, figures.customers, figures.as_of
        );
        unit.audit(QUALITY_OP, summary, Vec::new(), None, None)?;
        unit.commit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_store;

    #[test]
    fn saved_figures_round_trip_and_replace() {
        let (_dir, store) = test_store();
        assert_eq!(store.quality_figures().ok(), Some(None));
        let mut f = QualityFigures {
            saved_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
            as_of: NaiveDate::from_ymd_opt(2024, 6, 30).unwrap_or_default(),
            customers: 10,
            score: 71.25,
            fields: vec![FieldFigures {
                field: "email".into(),
                filled: 8,
                invalid: 1,
                score: 70.0,
            }],
            invalid: 2,
            order_before_signup: 1,
            stale_days: 365,
            stale: 3,
            no_tag_no_order: 4,
        };
        store
            .save_quality_figures(&f)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(store.quality_figures().ok().flatten().as_ref(), Some(&f));
        f.score = 80.0;
        store
            .save_quality_figures(&f)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(store.quality_figures().ok().flatten(), Some(f));
        let ops: Vec<String> = store
            .audit_log()
            .map(|e| e.map(|e| e.op).unwrap_or_default())
            .collect();
        assert_eq!(ops, [QUALITY_OP, QUALITY_OP]);
    }
}
