//! The last full scan, kept in the store (`store::dedup`): its model and
//! its pairs. A full scan saves it; an import with a duplicate check
//! compares only the customers it inserted or changed with everyone,
//! scoring with that model (no new fit), and replaces their pairs; the
//! quality report counts the pairs still waiting for review.
//!
//! A saved model is used only by a build with the same comparison fields
//! and levels ([`scheme`]); otherwise it counts as absent and the next
//! full scan replaces it. The custom attributes the scan compared as
//! identifiers are saved with the scheme (after a record separator), so
//! that a check of changed customers compares the same ones.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::model::CustomerId;
use crate::store::{DedupState, Store, StoreError};

use super::{CompareField, DismissedPairs, Identifiers, Model, Pair, Scan, ScanOptions};

/// Separates the scheme from the identifier names, and the names.
const IDS_SEP: char = '\u{1e}';
const NAME_SEP: char = '\u{1f}';

/// The scheme as saved with `model`: [`scheme`], then the names of the
/// attributes it compares as identifiers.
fn saved_scheme(model: &Model) -> String {
    let mut s = scheme();
    for (i, n) in model.identifiers.names().iter().enumerate() {
        s.push(if i == 0 { IDS_SEP } else { NAME_SEP });
        s.push_str(n);
    }
    s
}

/// The identifiers of a saved scheme, when its fields and levels are this
/// build's.
fn identifiers_of(saved: &str) -> Option<Identifiers> {
    let (base, names) = saved.split_once(IDS_SEP).unwrap_or((saved, ""));
    if base != scheme() {
        return None;
    }
    let names = names
        .split(NAME_SEP)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect();
    Some(Identifiers::from_names(names))
}

/// The comparison fields and levels of this build, as text: "name:exact,
/// same_reading,...;email:...". A saved model is only used under the same
/// scheme.
pub fn scheme() -> String {
    CompareField::ALL
        .iter()
        .map(|f| {
            let levels: Vec<&str> = f.levels().iter().map(|l| l.as_str()).collect();
            format!("{}:{}", f.as_str(), levels.join(","))
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// The last full scan, read back.
#[derive(Debug, Clone)]
pub struct SavedScan {
    pub scanned_at: DateTime<Utc>,
    pub threshold: f64,
    /// Customers the full scan read.
    pub customers: u64,
    pub model: Model,
    /// Pairs at or above the threshold: (lower id, higher id, score).
    pub pending: Vec<(CustomerId, CustomerId, f64)>,
}

fn pending_of(pairs: &[Pair]) -> Vec<(u64, u64, f32)> {
    let mut out: Vec<(u64, u64, f32)> = pairs
        .iter()
        .map(|p| (p.a.0.min(p.b.0), p.a.0.max(p.b.0), p.score as f32))
        .collect();
    out.sort_by_key(|x| (x.0, x.1));
    out.dedup_by(|x, y| (x.0, x.1) == (y.0, y.1));
    out
}

/// Saves a full scan run at `threshold` as the last one.
pub fn save(store: &Store, scan: &Scan, threshold: f64) -> Result<(), StoreError> {
    let state = DedupState {
        scanned_at: Utc::now(),
        threshold,
        customers: scan.customers,
        model: scan.model.to_stored(saved_scheme(&scan.model)),
        pending: pending_of(&scan.pairs),
    };
    let summary = format!(
        "duplicate scan of {} customers: {} pairs at or above {threshold}",
        scan.customers,
        state.pending.len()
    );
    store.save_dedup_state(&state, summary)
}

/// The last full scan, if there is one this build can use.
pub fn load(store: &Store) -> Result<Option<SavedScan>, StoreError> {
    let Some(state) = store.dedup_state()? else {
        return Ok(None);
    };
    let Some(identifiers) = identifiers_of(&state.model.scheme) else {
        return Ok(None);
    };
    let Some(mut model) = Model::from_stored(&state.model) else {
        return Ok(None);
    };
    model.identifiers = identifiers;
    Ok(Some(SavedScan {
        scanned_at: state.scanned_at,
        threshold: state.threshold,
        customers: state.customers,
        model,
        pending: state
            .pending
            .iter()
            .map(|&(a, b, s)| (CustomerId(a), CustomerId(b), f64::from(s)))
            .collect(),
    }))
}

/// What a duplicate check of changed customers found.
#[derive(Debug, Clone)]
pub struct ChangeCheck {
    /// The customers checked (the changed ones still live).
    pub checked: u64,
    /// Candidate pairs compared.
    pub candidates: u64,
    /// Pairs with a changed customer at or above the last scan's
    /// threshold, highest first.
    pub pairs: Vec<Pair>,
    /// When the model was fitted.
    pub model_from: DateTime<Utc>,
}

/// Compares the customers `changed` (inserted or updated, e.g. by an
/// import) with every live customer, scoring with the last full scan's
/// model at its threshold, and replaces their pairs in the saved state.
/// `None` when no usable scan was saved (then nothing is read).
pub fn check_changed(
    store: &Store,
    changed: &[CustomerId],
) -> Result<Option<ChangeCheck>, StoreError> {
    let Some(saved) = load(store)? else {
        return Ok(None);
    };
    let ids: HashSet<CustomerId> = changed.iter().copied().collect();
    let (changed_records, existing): (Vec<_>, Vec<_>) = super::read_records(store)?
        .into_iter()
        .partition(|r| ids.contains(&r.id));
    let checked = changed_records.len() as u64;
    let dismissed: DismissedPairs = store
        .dismissed_pairs()?
        .into_iter()
        .map(|(a, b)| (CustomerId(a), CustomerId(b)))
        .collect();
    let opts = ScanOptions {
        threshold: saved.threshold,
        ..ScanOptions::default()
    };
    let scan = super::scan_incremental(existing, changed_records, &dismissed, &opts, &saved.model);
    let mut pending: Vec<(u64, u64, f32)> = saved
        .pending
        .iter()
        .filter(|(a, b, _)| !ids.contains(a) && !ids.contains(b))
        .map(|&(a, b, s)| (a.0, b.0, s as f32))
        .collect();
    pending.extend(pending_of(&scan.pairs));
    pending.sort_by_key(|x| (x.0, x.1));
    pending.dedup_by(|x, y| (x.0, x.1) == (y.0, y.1));
    let state = DedupState {
        scanned_at: saved.scanned_at,
        threshold: saved.threshold,
        customers: saved.customers,
        model: saved.model.to_stored(saved_scheme(&saved.model)),
        pending,
    };
    let summary = format!(
        "duplicate check of {checked} changed customers: {} pairs at or above {}",
        scan.pairs.len(),
        saved.threshold
    );
    store.save_dedup_state(&state, summary)?;
    Ok(Some(ChangeCheck {
        checked,
        candidates: scan.candidates,
        pairs: scan.pairs,
        model_from: saved.scanned_at,
    }))
}

/// The saved pairs still waiting for review: both customers live (not
/// merged away, not in the trash) and the pair not dismissed since.
/// `live` says whether a customer is live.
pub fn still_pending(
    saved: &SavedScan,
    dismissed: &HashSet<(u64, u64)>,
    live: impl Fn(CustomerId) -> bool,
) -> u64 {
    saved
        .pending
        .iter()
        .filter(|(a, b, _)| {
            live(*a) && live(*b) && !dismissed.contains(&(a.0.min(b.0), a.0.max(b.0)))
        })
        .count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Customer;
    use crate::store::test_store;

    #[test]
    fn a_saved_scan_comes_back_with_the_same_model() {
        let (_dir, store) = test_store();
        let people: Vec<Customer> = (0..40)
            .map(|i| Customer {
                id: CustomerId(i),
                name: format!("Person{} Example{}", i / 2, i / 2),
                emails: vec![format!("p{}@example.com", i / 2)],
                ..Customer::default()
            })
            .collect();
        let scan =
            super::super::scan_customers(&people, &DismissedPairs::new(), &ScanOptions::default());
        assert!(!scan.pairs.is_empty());
        save(&store, &scan, 0.9).unwrap_or_else(|e| panic!("{e}"));
        let back = load(&store)
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("saved"));
        assert_eq!(back.threshold, 0.9);
        assert_eq!(back.pending.len(), scan.pairs.len());
        assert_eq!(back.model.m, scan.model.m);
        assert_eq!(back.model.w, scan.model.w);
        assert_eq!(back.model.prior, scan.model.prior);
        // Scores under the saved model equal the scan's.
        let a = &people[0];
        let b = &people[1];
        let pop: Vec<super::super::Record> = people.iter().map(super::super::Record::new).collect();
        let p1 = super::super::explain_pair(a, b, &scan.model, &pop);
        let p2 = super::super::explain_pair(a, b, &back.model, &pop);
        assert_eq!(p1.score, p2.score);

        // Another scheme's model is not used.
        let mut state = store
            .dedup_state()
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("state"));
        state.model.scheme.push_str(";extra:exact");
        store
            .save_dedup_state(&state, "other".into())
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(load(&store).ok().flatten().is_none());
    }

    #[test]
    fn the_identifiers_compared_are_saved_with_the_model() {
        let (_dir, store) = test_store();
        let people: Vec<Customer> = (0..40)
            .map(|i| Customer {
                id: CustomerId(i),
                name: format!("Person{} Example{}", i / 2, i / 2),
                attrs: vec![("member_no".into(), format!("{:07}", 1_000_000 + i / 2))],
                ..Customer::default()
            })
            .collect();
        let scan =
            super::super::scan_customers(&people, &DismissedPairs::new(), &ScanOptions::default());
        assert_eq!(scan.model.identifiers.names(), ["member_no"]);
        save(&store, &scan, 0.9).unwrap_or_else(|e| panic!("{e}"));
        let back = load(&store)
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("saved"));
        assert_eq!(back.model.identifiers, scan.model.identifiers);
        // A check of changed customers compares the same attribute.
        let pop: Vec<super::super::Record> = people.iter().map(super::super::Record::new).collect();
        let p = super::super::explain_pair(&people[0], &people[1], &back.model, &pop);
        assert!(
            p.fields
                .iter()
                .any(|f| f.name == "attr:member_no" && f.level == super::super::Level::Exact),
            "{:?}",
            p.fields
        );
    }

    #[test]
    fn pending_pairs_drop_merged_trashed_and_dismissed_records() {
        let saved = SavedScan {
            scanned_at: Utc::now(),
            threshold: 0.9,
            customers: 6,
            model: Model::default(),
            pending: vec![
                (CustomerId(1), CustomerId(2), 0.99),
                (CustomerId(3), CustomerId(4), 0.95),
                (CustomerId(5), CustomerId(6), 0.93),
            ],
        };
        let all = |_: CustomerId| true;
        assert_eq!(still_pending(&saved, &HashSet::new(), all), 3);
        let dismissed: HashSet<(u64, u64)> = [(3, 4)].into_iter().collect();
        assert_eq!(still_pending(&saved, &dismissed, all), 2);
        assert_eq!(still_pending(&saved, &dismissed, |c| c.0 != 6), 1);
    }
}
