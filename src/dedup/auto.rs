//! Automatic merging (`rolo dedup auto`): which record of each cluster
//! survives, and the merge plans of a scan's clusters.
//!
//! **The survivor** of a cluster is its most complete record: the one with
//! the most filled fields ([`completeness`]: each canonical field with a
//! value counts one, and every email and phone beyond the first one more).
//! Among equally complete records, the most recently updated one survives
//! (its values are the freshest), then the lowest id (the oldest record).
//! Nothing is lost either way: the merge fills the survivor's empty fields
//! from the others, keeps every email and phone, and moves every order and
//! note (see `store::merge`); `rolo dedup unmerge` takes any merge back.

use std::collections::HashMap;

use crate::model::{Customer, CustomerId, Field};
use crate::store::{MergePlan, Store, StoreError};

use super::Scan;

/// How much a customer record holds: one per canonical field with a value
/// (emails and phones count one per value).
pub fn completeness(c: &Customer) -> usize {
    let fields = Field::ALL
        .iter()
        .filter(|f| !matches!(f, Field::Email | Field::Phone))
        .filter(|f| c.value(**f).is_some())
        .count();
    fields + c.emails.len() + c.phones.len()
}

/// The record of `customers` that survives a merge of them all (module
/// doc); `None` for an empty slice.
pub fn survivor(customers: &[Customer]) -> Option<CustomerId> {
    customers
        .iter()
        .max_by(|a, b| {
            completeness(a)
                .cmp(&completeness(b))
                .then(a.updated_at.cmp(&b.updated_at))
                .then(b.id.cmp(&a.id))
        })
        .map(|c| c.id)
}

/// One cluster to merge.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoMerge {
    /// What the store will do: the survivor and the others, no picks.
    pub plan: MergePlan,
    /// The highest and the lowest score of the cluster's linking pairs.
    pub best_score: f64,
    pub worst_score: f64,
}

impl AutoMerge {
    /// Every record of the cluster, the survivor first.
    pub fn members(&self) -> impl Iterator<Item = CustomerId> + '_ {
        std::iter::once(self.plan.survivor).chain(self.plan.others.iter().copied())
    }
}

/// The merges of a scan's clusters, strongest first (by best score, then
/// by the survivor's id), each with its survivor chosen by [`survivor`]
/// from the records as the store has them.
pub fn plan(scan: &Scan, store: &Store) -> Result<Vec<AutoMerge>, StoreError> {
    let mut cluster_of: HashMap<CustomerId, usize> = HashMap::new();
    for (i, c) in scan.clusters.iter().enumerate() {
        for id in c {
            cluster_of.insert(*id, i);
        }
    }
    let mut scores: Vec<(f64, f64)> = vec![(0.0, 1.0); scan.clusters.len()];
    for p in &scan.pairs {
        if let (Some(&i), Some(&j)) = (cluster_of.get(&p.a), cluster_of.get(&p.b)) {
            if i == j {
                let s = &mut scores[i];
                *s = (s.0.max(p.score), s.1.min(p.score));
            }
        }
    }
    let mut out = Vec::with_capacity(scan.clusters.len());
    for (ids, (best, worst)) in scan.clusters.iter().zip(scores) {
        let mut customers = Vec::with_capacity(ids.len());
        for id in ids {
            customers.push(store.require_customer(*id)?);
        }
        let Some(keep) = survivor(&customers) else {
            continue;
        };
        out.push(AutoMerge {
            plan: MergePlan {
                survivor: keep,
                others: ids.iter().copied().filter(|id| *id != keep).collect(),
                picks: Vec::new(),
            },
            best_score: best,
            worst_score: worst.min(best),
        });
    }
    out.sort_by(|x, y| {
        y.best_score
            .total_cmp(&x.best_score)
            .then(x.plan.survivor.cmp(&y.plan.survivor))
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn customer(id: u64, f: impl FnOnce(&mut Customer)) -> Customer {
        let mut c = Customer {
            id: CustomerId(id),
            name: format!("Person {id}"),
            ..Customer::default()
        };
        f(&mut c);
        c
    }

    #[test]
    fn the_most_complete_record_survives() {
        let sparse = customer(1, |c| c.emails = vec!["a@x.com".into()]);
        let full = customer(2, |c| {
            c.emails = vec!["a@x.com".into()];
            c.phones = vec!["+8613800138000".into()];
            c.city = Some("上海".into());
        });
        assert_eq!(
            survivor(&[sparse.clone(), full.clone()]),
            Some(CustomerId(2))
        );
        assert_eq!(
            survivor(&[full, sparse]),
            Some(CustomerId(2)),
            "order does not matter"
        );
        // A second email counts as much as a field.
        let two_emails = customer(3, |c| c.emails = vec!["a@x.com".into(), "b@y.com".into()]);
        let one_city = customer(4, |c| {
            c.emails = vec!["a@x.com".into()];
            c.city = Some("北京".into());
        });
        assert_eq!(completeness(&two_emails), completeness(&one_city));
        assert_eq!(survivor(&[]), None);
    }

    #[test]
    fn ties_go_to_the_most_recently_updated_then_the_lowest_id() {
        let at = |d: u32| {
            chrono::Utc
                .with_ymd_and_hms(2025, 1, d, 0, 0, 0)
                .single()
                .unwrap()
        };
        let old = customer(5, |c| c.updated_at = at(1));
        let new = customer(9, |c| c.updated_at = at(20));
        assert_eq!(survivor(&[old.clone(), new.clone()]), Some(CustomerId(9)));
        let twin = customer(3, |c| c.updated_at = at(20));
        assert_eq!(survivor(&[new, twin, old]), Some(CustomerId(3)));
    }
}
