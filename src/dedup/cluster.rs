//! Clusters of one person's records, guarded against chains.
//!
//! Plain union-find over the links above the threshold chains: A~B and B~C
//! put A and C together even when A and C are plainly two people (a
//! shared family phone, a shared office address). The rule here is
//! greedy complete-link clustering with a veto:
//!
//! 1. Links (pairs scoring at least the threshold) are taken strongest
//!    first (ties by ids).
//! 2. A link joins the two clusters of its records only if **every** pair
//!    across them scores at least the low threshold (computed when it was
//!    not a candidate), no such pair was dismissed by a reviewer, and the
//!    result has at most `max_size` members.
//!
//! So every cluster is held together by strong links, and no two of its
//! members are clearly different people. A~B~C with A and C far apart
//! gives {A, B} (the stronger link) and C alone.

use std::collections::HashMap;

/// Options of [`clusters`].
#[derive(Debug, Clone, Copy)]
pub struct ClusterRule {
    /// No two members of a cluster score below this against each other.
    pub low: f64,
    /// The largest cluster formed.
    pub max_size: usize,
}

/// Groups records linked by `links` ((a, b, score), a < b, any order),
/// following the rule above. `score(a, b)` scores a pair that is not a
/// link; `vetoed(a, b)` says a reviewer dismissed it. Returns clusters of
/// two or more, each sorted, sorted by first member.
pub fn clusters(
    links: &[(u32, u32, f64)],
    rule: ClusterRule,
    mut score: impl FnMut(u32, u32) -> f64,
    vetoed: impl Fn(u32, u32) -> bool,
) -> Vec<Vec<u32>> {
    let mut order: Vec<usize> = (0..links.len()).collect();
    order.sort_by(|&x, &y| {
        links[y]
            .2
            .total_cmp(&links[x].2)
            .then((links[x].0, links[x].1).cmp(&(links[y].0, links[y].1)))
    });
    let known: HashMap<(u32, u32), f64> = links
        .iter()
        .map(|&(a, b, s)| ((a.min(b), a.max(b)), s))
        .collect();
    let mut owner: HashMap<u32, usize> = HashMap::new();
    let mut groups: Vec<Vec<u32>> = Vec::new();
    for &k in &order {
        let (a, b, _) = links[k];
        let ga = *owner.entry(a).or_insert_with(|| {
            groups.push(vec![a]);
            groups.len() - 1
        });
        let gb = *owner.entry(b).or_insert_with(|| {
            groups.push(vec![b]);
            groups.len() - 1
        });
        if ga == gb || groups[ga].len() + groups[gb].len() > rule.max_size {
            continue;
        }
        let mut ok = true;
        'check: for &x in &groups[ga] {
            for &y in &groups[gb] {
                let key = (x.min(y), x.max(y));
                if vetoed(key.0, key.1) {
                    ok = false;
                    break 'check;
                }
                let s = match known.get(&key) {
                    Some(&s) => s,
                    None => score(key.0, key.1),
                };
                if s < rule.low {
                    ok = false;
                    break 'check;
                }
            }
        }
        if !ok {
            continue;
        }
        let (keep, gone) = if groups[ga].len() >= groups[gb].len() {
            (ga, gb)
        } else {
            (gb, ga)
        };
        let moved = std::mem::take(&mut groups[gone]);
        for &r in &moved {
            owner.insert(r, keep);
        }
        groups[keep].extend(moved);
    }
    let mut out: Vec<Vec<u32>> = groups.into_iter().filter(|g| g.len() >= 2).collect();
    for g in &mut out {
        g.sort_unstable();
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: ClusterRule = ClusterRule {
        low: 0.2,
        max_size: 50,
    };

    /// A~B and B~C strongly, A and C clearly different: no chain.
    #[test]
    fn a_chain_through_a_middle_record_is_cut() {
        let links = [(0, 1, 0.97), (1, 2, 0.95)];
        let got = clusters(&links, RULE, |_, _| 0.01, |_, _| false);
        assert_eq!(got, vec![vec![0, 1]]);
        // The same when the stronger link is the other one.
        let links = [(0, 1, 0.95), (1, 2, 0.97)];
        let got = clusters(&links, RULE, |_, _| 0.01, |_, _| false);
        assert_eq!(got, vec![vec![1, 2]]);
    }

    /// When A and C are merely not linked but not far apart, the three are
    /// one cluster (one person entered three times, one copy dirtier).
    #[test]
    fn a_triangle_with_a_weaker_side_stays_together() {
        let links = [(0, 1, 0.97), (1, 2, 0.95)];
        let got = clusters(&links, RULE, |_, _| 0.6, |_, _| false);
        assert_eq!(got, vec![vec![0, 1, 2]]);
    }

    #[test]
    fn a_dismissed_pair_never_shares_a_cluster() {
        let links = [(0, 1, 0.99), (1, 2, 0.99), (0, 2, 0.99)];
        let got = clusters(&links, RULE, |_, _| 1.0, |a, b| (a, b) == (0, 2));
        assert_eq!(got, vec![vec![0, 1]]);
    }

    #[test]
    fn clusters_respect_the_size_cap() {
        let links: Vec<(u32, u32, f64)> = (0..9).map(|i| (i, i + 1, 0.99)).collect();
        let rule = ClusterRule {
            low: 0.2,
            max_size: 4,
        };
        let got = clusters(&links, rule, |_, _| 1.0, |_, _| false);
        assert!(got.iter().all(|g| g.len() <= 4), "{got:?}");
        assert_eq!(got.iter().map(Vec::len).sum::<usize>(), 10);
    }
}
