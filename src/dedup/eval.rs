//! Scoring a scan against known duplicates (the `duplicates_truth.csv` of
//! `rolo gen`: one row per planted copy, `ext_id_a,ext_id_b`).
//!
//! The truth is taken transitively: two copies of one original are
//! duplicates of each other too, so the true pairs are all pairs inside
//! each group of the truth (only ext_ids present in the scan count). A
//! found pair is right when both records are in one true group.
//! Cluster-level figures score the pairs implied by the clusters the same
//! way.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

/// Precision, recall and F1 of a set of pairs.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Figures {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub true_positives: u64,
    pub false_positives: u64,
    pub false_negatives: u64,
}

impl Figures {
    fn new(tp: u64, found: u64, truth: u64) -> Figures {
        let precision = if found == 0 {
            1.0
        } else {
            tp as f64 / found as f64
        };
        let recall = if truth == 0 {
            1.0
        } else {
            tp as f64 / truth as f64
        };
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        Figures {
            precision,
            recall,
            f1,
            true_positives: tp,
            false_positives: found - tp,
            false_negatives: truth - tp,
        }
    }
}

/// Pair-level and cluster-level figures.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// True pairs among the scanned records.
    pub truth_pairs: u64,
    /// The pairs at or above the threshold.
    pub pairs: Figures,
    /// Every pair inside a found cluster.
    pub clusters: Figures,
    /// Some true pairs not found (at most 20, as ext_ids).
    pub missed_sample: Vec<(String, String)>,
    /// Some pairs found that are not true (at most 20, as ext_ids).
    pub wrong_sample: Vec<(String, String)>,
}

/// Groups of ext_ids that are one person, from truth rows.
pub struct Truth {
    group: HashMap<String, u32>,
}

impl Truth {
    /// Builds the groups from (a, b) rows.
    pub fn new<'a>(rows: impl IntoIterator<Item = (&'a str, &'a str)>) -> Truth {
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut parent: Vec<usize> = Vec::new();
        fn find(parent: &mut [usize], mut x: usize) -> usize {
            while parent[x] != x {
                parent[x] = parent[parent[x]];
                x = parent[x];
            }
            x
        }
        let mut id = |s: &str, parent: &mut Vec<usize>| -> usize {
            *index.entry(s.to_owned()).or_insert_with(|| {
                parent.push(parent.len());
                parent.len() - 1
            })
        };
        for (a, b) in rows {
            let x = id(a, &mut parent);
            let y = id(b, &mut parent);
            let (rx, ry) = (find(&mut parent, x), find(&mut parent, y));
            if rx != ry {
                parent[rx.max(ry)] = rx.min(ry);
            }
        }
        let group = index
            .into_iter()
            .map(|(k, i)| (k, find(&mut parent, i) as u32))
            .collect();
        Truth { group }
    }

    /// Whether two ext_ids are one person.
    pub fn same(&self, a: &str, b: &str) -> bool {
        match (self.group.get(a), self.group.get(b)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        }
    }

    /// Scores found pairs and clusters (as ext_ids) against the truth,
    /// counting only true pairs whose two ext_ids are in `present`.
    pub fn evaluate(
        &self,
        pairs: &[(&str, &str)],
        clusters: &[Vec<&str>],
        present: &HashSet<&str>,
    ) -> Evaluation {
        let mut sizes: HashMap<u32, u64> = HashMap::new();
        for (ext, g) in &self.group {
            if present.contains(ext.as_str()) {
                *sizes.entry(*g).or_default() += 1;
            }
        }
        let truth_pairs: u64 = sizes.values().map(|&n| n * n.saturating_sub(1) / 2).sum();
        let tp = pairs.iter().filter(|(a, b)| self.same(a, b)).count() as u64;
        let wrong_sample = pairs
            .iter()
            .filter(|(a, b)| !self.same(a, b))
            .take(20)
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect();
        let found: HashSet<(&str, &str)> = pairs
            .iter()
            .map(|&(a, b)| if a <= b { (a, b) } else { (b, a) })
            .collect();
        let mut members: HashMap<u32, Vec<&str>> = HashMap::new();
        for (ext, g) in &self.group {
            if present.contains(ext.as_str()) {
                members.entry(*g).or_default().push(ext.as_str());
            }
        }
        let mut groups: Vec<Vec<&str>> = members.into_values().collect();
        for g in &mut groups {
            g.sort_unstable();
        }
        groups.sort_unstable();
        let mut missed_sample = Vec::new();
        'groups: for g in &groups {
            for (i, a) in g.iter().enumerate() {
                for b in &g[i + 1..] {
                    if !found.contains(&(*a, *b)) {
                        missed_sample.push(((*a).to_owned(), (*b).to_owned()));
                        if missed_sample.len() >= 20 {
                            break 'groups;
                        }
                    }
                }
            }
        }
        let mut ctp = 0;
        let mut cfound = 0;
        for c in clusters {
            for (i, a) in c.iter().enumerate() {
                for b in &c[i + 1..] {
                    cfound += 1;
                    ctp += u64::from(self.same(a, b));
                }
            }
        }
        Evaluation {
            truth_pairs,
            pairs: Figures::new(tp, pairs.len() as u64, truth_pairs),
            clusters: Figures::new(ctp, cfound, truth_pairs),
            missed_sample,
            wrong_sample,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truth_is_transitive_and_figures_add_up() {
        // C2 and C3 are both copies of C1.
        let truth = Truth::new([("C1", "C2"), ("C1", "C3"), ("C7", "C8")]);
        assert!(truth.same("C2", "C3"));
        assert!(!truth.same("C1", "C7"));
        let present: HashSet<&str> = ["C1", "C2", "C3", "C7", "C8", "C9"].into();
        let e = truth.evaluate(
            &[("C2", "C3"), ("C1", "C9")],
            &[vec!["C1", "C2", "C3"]],
            &present,
        );
        assert_eq!(e.truth_pairs, 4);
        assert_eq!(e.pairs.true_positives, 1);
        assert_eq!(e.pairs.false_positives, 1);
        assert_eq!(e.pairs.false_negatives, 3);
        assert!((e.pairs.precision - 0.5).abs() < 1e-12);
        assert!((e.pairs.recall - 0.25).abs() < 1e-12);
        assert!((e.pairs.f1 - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(e.clusters.true_positives, 3);
        assert!((e.clusters.precision - 1.0).abs() < 1e-12);
        assert_eq!(e.wrong_sample, [("C1".to_owned(), "C9".to_owned())]);
        assert_eq!(e.missed_sample.len(), 3);
    }

    #[test]
    fn absent_records_are_not_counted_as_missed() {
        let truth = Truth::new([("C1", "C2")]);
        let present: HashSet<&str> = ["C1"].into();
        let e = truth.evaluate(&[], &[], &present);
        assert_eq!(e.truth_pairs, 0);
        assert_eq!(e.pairs.recall, 1.0);
    }
}
