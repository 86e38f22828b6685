//! Reviewing duplicates one cluster at a time (the workbench's Duplicates
//! pane): the queue of a scan's clusters with the pairs that explain them,
//! best first, and the choices a merge starts from.
//!
//! **The queue.** Each cluster of a [`Scan`] keeps the scored pairs whose
//! two records are both in it. Every member has at least one such pair
//! (clusters are joined from links at or above the threshold), so a
//! member is explained by its strongest link ([`Cluster::best_link`]) and
//! nothing is scored again after the scan. Clusters are sorted by their
//! best pair's score, highest first.
//!
//! **The choices** ([`Choices`]) make `store::merge`'s default rule
//! explicit, field by field, so that the screen shows exactly what a merge
//! will store: the survivor (the record that keeps its id) is the most
//! complete record (most filled fields, then most orders, then the lowest
//! id); a field keeps the survivor's value, or, when the survivor has none,
//! takes the most recently updated other record's; `created_at` is the
//! earliest; emails, phones and tags are the union (a pick of email or
//! phone says whose comes first). The survivor's ext_id is how a source
//! system finds it, so it cannot be replaced (choose that record as the
//! survivor instead). [`Choices::plan`] names every field's source, so the
//! merge does not depend on defaults applied elsewhere.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use super::{DismissedPairs, KeyKind, Pair, Scan, ScanOptions};
use crate::model::{Customer, CustomerId, Field, Stats, TagInfo};
use crate::store::{MergePlan, Store, StoreError};

/// One cluster waiting for review.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// The records, in id order.
    pub members: Vec<CustomerId>,
    /// The scored pairs inside the cluster, highest score first.
    pub pairs: Vec<Pair>,
    /// The best pair's score.
    pub best: f64,
}

impl Cluster {
    /// The strongest pair of `id` inside the cluster (`None` when it has
    /// none left, e.g. after the member it was linked to was left out).
    pub fn best_link(&self, id: CustomerId) -> Option<&Pair> {
        self.pairs.iter().find(|p| p.a == id || p.b == id)
    }

    /// Leaves `id` out of the cluster (with its pairs); whether it was in.
    pub fn remove(&mut self, id: CustomerId) -> bool {
        let before = self.members.len();
        self.members.retain(|m| *m != id);
        self.pairs.retain(|p| p.a != id && p.b != id);
        self.best = self.pairs.first().map_or(0.0, |p| p.score);
        self.members.len() != before
    }

    /// Every pair of members (lower id first): what "not a duplicate"
    /// dismisses.
    pub fn member_pairs(&self) -> Vec<(CustomerId, CustomerId)> {
        let mut out = Vec::new();
        for (i, a) in self.members.iter().enumerate() {
            for b in &self.members[i + 1..] {
                out.push((*a.min(b), *a.max(b)));
            }
        }
        out
    }

    /// The blocking keys of its pairs, in [`KeyKind::ALL`] order.
    pub fn keys(&self) -> Vec<KeyKind> {
        KeyKind::ALL
            .into_iter()
            .filter(|k| self.pairs.iter().any(|p| p.keys.contains(k)))
            .collect()
    }
}

/// A scan made ready for review.
#[derive(Debug, Clone)]
pub struct Review {
    /// Customers scanned.
    pub customers: u64,
    /// The threshold pairs passed.
    pub threshold: f64,
    /// Pairs at or above the threshold.
    pub pairs: usize,
    /// The clusters, best first.
    pub clusters: Vec<Cluster>,
    /// How long reading and scanning took.
    pub millis: u64,
}

impl Review {
    /// Puts a cluster back in its place in the queue (after an unmerge);
    /// returns its position.
    pub fn insert(&mut self, cluster: Cluster) -> usize {
        let at = self
            .clusters
            .iter()
            .position(|c| order(c, &cluster).is_gt())
            .unwrap_or(self.clusters.len());
        self.clusters.insert(at, cluster);
        at
    }
}

/// Queue order: best score first, then the lowest first id.
fn order(x: &Cluster, y: &Cluster) -> std::cmp::Ordering {
    y.best
        .total_cmp(&x.best)
        .then_with(|| x.members.first().cmp(&y.members.first()))
}

/// The review queue of a scan: its clusters with their pairs, best first.
pub fn queue(scan: Scan) -> Vec<Cluster> {
    let mut at: HashMap<CustomerId, usize> = HashMap::new();
    for (i, members) in scan.clusters.iter().enumerate() {
        for m in members {
            at.insert(*m, i);
        }
    }
    let mut clusters: Vec<Cluster> = scan
        .clusters
        .into_iter()
        .map(|members| Cluster {
            members,
            pairs: Vec::new(),
            best: 0.0,
        })
        .collect();
    // The scan's pairs are sorted by score, so each cluster's are too.
    for p in scan.pairs {
        if let (Some(i), Some(j)) = (at.get(&p.a), at.get(&p.b)) {
            if i == j {
                clusters[*i].pairs.push(p);
            }
        }
    }
    for c in &mut clusters {
        c.best = c.pairs.first().map_or(0.0, |p| p.score);
    }
    clusters.sort_by(order);
    clusters
}

/// The pairs reviewers dismissed as "not a duplicate", as a scan takes them.
pub fn dismissed(store: &Store) -> Result<DismissedPairs, StoreError> {
    Ok(store
        .dismissed_pairs()?
        .into_iter()
        .map(|(a, b)| (CustomerId(a), CustomerId(b)))
        .collect())
}

/// Reads every live customer, scans them (dismissed pairs left out) and
/// makes the queue. At a million customers this takes about half a
/// minute: front ends run it off their UI thread.
pub fn review(store: &Store, opts: &ScanOptions) -> Result<Review, StoreError> {
    let t = Instant::now();
    let dismissed = dismissed(store)?;
    let records = super::read_records(store)?;
    let scan = super::scan(records, &dismissed, opts);
    let customers = scan.customers;
    let pairs = scan.pairs.len();
    Ok(Review {
        customers,
        threshold: opts.threshold,
        pairs,
        clusters: queue(scan),
        millis: t.elapsed().as_millis() as u64,
    })
}

/// One record of a cluster as the reviewer sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub customer: Customer,
    pub stats: Stats,
    /// How many notes it has.
    pub notes: usize,
}

impl Member {
    /// Reads a member; `None` when it is no longer live (merged, trashed
    /// or gone since the scan).
    pub fn load(store: &Store, id: CustomerId) -> Result<Option<Member>, StoreError> {
        let Some(customer) = store.customer(id)?.filter(Customer::is_live) else {
            return Ok(None);
        };
        Ok(Some(Member {
            stats: store.stats(id)?,
            notes: store.notes_of(id)?.len(),
            customer,
        }))
    }

    pub fn id(&self) -> CustomerId {
        self.customer.id
    }

    /// How many canonical fields it fills.
    pub fn filled(&self) -> usize {
        Field::ALL
            .iter()
            .filter(|f| self.customer.value(**f).is_some())
            .count()
    }
}

/// The tags whose members a rule decides: a merge does not carry them
/// over from the merged records (the next rule refresh decides).
pub fn rule_tags(store: &Store) -> Result<HashSet<String>, StoreError> {
    Ok(store
        .tag_infos()?
        .into_iter()
        .filter(TagInfo::is_rule)
        .map(|t| t.name)
        .collect())
}

/// Why a field takes the value it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// The survivor's own value (it is the most complete record).
    Survivor,
    /// The survivor has none: the most recently updated record's.
    MostRecent,
    /// The earliest of all (`created_at`).
    Earliest,
    /// Chosen by the reviewer.
    Picked,
}

/// Whether a field's value is one value (a pick takes it whole) or a list
/// that a merge unions (a pick says whose value comes first).
pub fn is_list(field: Field) -> bool {
    matches!(field, Field::Email | Field::Phone)
}

/// Which record each field of the merged record comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choices {
    /// The record that keeps its id and takes everything.
    pub survivor: CustomerId,
    /// Every canonical field's source, in [`Field::ALL`] order.
    sources: Vec<(Field, CustomerId, Rule)>,
}

impl Choices {
    /// The defaults for `members` (at least one): the most complete
    /// record survives, every field by the rule of the module doc.
    pub fn new(members: &[Member]) -> Choices {
        let survivor = members
            .iter()
            .max_by(|x, y| {
                (x.filled(), x.stats.orders)
                    .cmp(&(y.filled(), y.stats.orders))
                    .then(y.id().cmp(&x.id()))
            })
            .map_or(CustomerId(0), Member::id);
        Choices::with_survivor(members, survivor, &[])
    }

    /// The defaults with `survivor` surviving and the reviewer's `picks`
    /// kept (those naming a member; an ext_id pick only when the survivor
    /// has no ext_id).
    pub fn with_survivor(
        members: &[Member],
        survivor: CustomerId,
        picks: &[(Field, CustomerId)],
    ) -> Choices {
        let mut c = Choices {
            survivor,
            sources: Field::ALL
                .iter()
                .map(|f| {
                    let (id, rule) = default_source(members, survivor, *f);
                    (*f, id, rule)
                })
                .collect(),
        };
        for (f, id) in picks {
            // A pick that no longer applies falls back to the default.
            let _ = c.pick(members, *f, *id);
        }
        c
    }

    /// Where `field` comes from, and why.
    pub fn source(&self, field: Field) -> (CustomerId, Rule) {
        self.sources
            .iter()
            .find(|(f, _, _)| *f == field)
            .map_or((self.survivor, Rule::Survivor), |(_, id, r)| (*id, *r))
    }

    /// The reviewer's picks (fields whose source they chose).
    pub fn picks(&self) -> Vec<(Field, CustomerId)> {
        self.sources
            .iter()
            .filter(|(_, _, r)| *r == Rule::Picked)
            .map(|(f, id, _)| (*f, *id))
            .collect()
    }

    /// Takes `field` from record `id`; refused (with the reason) when `id`
    /// is not a member or the pick would replace the survivor's ext_id.
    pub fn pick(&mut self, members: &[Member], field: Field, id: CustomerId) -> Result<(), String> {
        if !members.iter().any(|m| m.id() == id) {
            return Err(format!("customer {id} is not in this cluster"));
        }
        if field == Field::ExtId && id != self.survivor {
            let kept = members
                .iter()
                .find(|m| m.id() == self.survivor)
                .and_then(|m| m.customer.value(Field::ExtId));
            if let Some(ext) = kept {
                return Err(format!("ext_id {ext} stays: make #{id} the survivor"));
            }
        }
        let (default, rule) = default_source(members, self.survivor, field);
        if let Some(slot) = self.sources.iter_mut().find(|(f, _, _)| *f == field) {
            // Picking the default is no pick: a new survivor may move it.
            slot.1 = id;
            slot.2 = if id == default { rule } else { Rule::Picked };
        }
        Ok(())
    }

    /// The merge these choices make: the others in member order, and every
    /// field's source named (picks of the survivor's own values included),
    /// so the stored record is what [`Choices::value`] shows.
    pub fn plan(&self, members: &[Member]) -> MergePlan {
        MergePlan {
            survivor: self.survivor,
            others: members
                .iter()
                .map(Member::id)
                .filter(|id| *id != self.survivor)
                .collect(),
            picks: self.sources.iter().map(|(f, id, _)| (*f, *id)).collect(),
        }
    }

    /// The merged record's value of `field` as text (lists joined with
    /// "; ", the chosen record's first value first).
    pub fn value(&self, members: &[Member], field: Field) -> Option<String> {
        let (id, _) = self.source(field);
        let from = members.iter().find(|m| m.id() == id)?;
        if !is_list(field) {
            return from.customer.value(field);
        }
        let list = |m: &Member| match field {
            Field::Email => m.customer.emails.clone(),
            _ => m.customer.phones.clone(),
        };
        let mut out: Vec<String> = list(from).into_iter().take(1).collect();
        for m in self.in_plan_order(members) {
            for v in list(m) {
                if !out.contains(&v) {
                    out.push(v);
                }
            }
        }
        (!out.is_empty()).then(|| out.join("; "))
    }

    /// The merged record's tags: the survivor's and the others' manual
    /// tags (rule tags follow their rules), sorted.
    pub fn tags(&self, members: &[Member], rule_tags: &HashSet<String>) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for m in self.in_plan_order(members) {
            let own = m.id() == self.survivor;
            for t in &m.customer.tags {
                if (own || !rule_tags.contains(t)) && !out.contains(t) {
                    out.push(t.clone());
                }
            }
        }
        out.sort_unstable();
        out
    }

    /// The survivor first, then the others in member order.
    fn in_plan_order<'a>(&self, members: &'a [Member]) -> Vec<&'a Member> {
        let mut out: Vec<&Member> = members.iter().filter(|m| m.id() == self.survivor).collect();
        out.extend(members.iter().filter(|m| m.id() != self.survivor));
        out
    }
}

/// The default source of `field` with `survivor` surviving (module doc).
fn default_source(members: &[Member], survivor: CustomerId, field: Field) -> (CustomerId, Rule) {
    let has = |m: &&Member| m.customer.value(field).is_some();
    if field == Field::CreatedAt {
        // The earliest; the survivor wins a tie, then member order.
        let earliest = members
            .iter()
            .filter_map(|m| {
                m.customer
                    .created_at
                    .map(|t| (t, m.id() != survivor, m.id()))
            })
            .min_by_key(|(t, not_survivor, _)| (*t, *not_survivor));
        return match earliest {
            Some((_, _, id)) if id != survivor => (id, Rule::Earliest),
            _ => (survivor, Rule::Survivor),
        };
    }
    if members
        .iter()
        .filter(|m| m.id() == survivor)
        .any(|m| has(&m))
    {
        return (survivor, Rule::Survivor);
    }
    // Most recently updated first; member order breaks ties.
    let recent = members
        .iter()
        .filter(|m| m.id() != survivor)
        .filter(has)
        .fold(None::<&Member>, |best, m| match best {
            Some(b) if b.customer.updated_at >= m.customer.updated_at => Some(b),
            _ => Some(m),
        });
    match recent {
        Some(m) => (m.id(), Rule::MostRecent),
        None => (survivor, Rule::Survivor),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::{CompareField, FieldScore, Level};
    use chrono::{TimeZone, Utc};

    fn member(id: u64, updated: i64) -> Member {
        Member {
            customer: Customer {
                id: CustomerId(id),
                updated_at: Utc.timestamp_opt(updated, 0).single().unwrap_or_default(),
                ..Customer::default()
            },
            stats: Stats::default(),
            notes: 0,
        }
    }

    fn pair(a: u64, b: u64, score: f64, keys: &[KeyKind]) -> Pair {
        Pair {
            a: CustomerId(a),
            b: CustomerId(b),
            a_ext_id: None,
            b_ext_id: None,
            score,
            weight: 0.0,
            fields: vec![FieldScore {
                field: CompareField::Name,
                name: "name".into(),
                level: Level::Exact,
                weight: 1.0,
            }],
            keys: keys.to_vec(),
        }
    }

    #[test]
    fn the_queue_groups_pairs_by_cluster_best_first() {
        let scan_pairs = vec![
            pair(5, 6, 0.999, &[KeyKind::Email]),
            pair(1, 2, 0.99, &[KeyKind::Phone]),
            pair(2, 3, 0.95, &[KeyKind::Name]),
            // Both ends scored, but the chain guard kept them apart.
            pair(3, 5, 0.93, &[KeyKind::Name]),
        ];
        let scan = crate::dedup::scan_customers(
            &[],
            &DismissedPairs::new(),
            &ScanOptions {
                u_samples: 10,
                ..ScanOptions::default()
            },
        );
        let scan = Scan {
            pairs: scan_pairs,
            clusters: vec![
                vec![CustomerId(1), CustomerId(2), CustomerId(3)],
                vec![CustomerId(5), CustomerId(6)],
            ],
            ..scan
        };
        let q = queue(scan);
        assert_eq!(q.len(), 2);
        assert_eq!(q[0].members, [CustomerId(5), CustomerId(6)]);
        assert_eq!(q[0].best, 0.999);
        assert_eq!(q[1].pairs.len(), 2, "the 3-5 link is in no cluster");
        assert_eq!(q[1].best_link(CustomerId(3)).map(|p| p.score), Some(0.95));
        assert_eq!(q[1].keys(), [KeyKind::Phone, KeyKind::Name]);
        assert_eq!(q[1].member_pairs().len(), 3);
        let mut c = q[1].clone();
        assert!(c.remove(CustomerId(2)));
        assert_eq!(c.members, [CustomerId(1), CustomerId(3)]);
        assert!(c.best_link(CustomerId(3)).is_none(), "its only link went");
        let mut review = Review {
            customers: 6,
            threshold: 0.9,
            pairs: 4,
            clusters: vec![q[1].clone()],
            millis: 0,
        };
        assert_eq!(review.insert(q[0].clone()), 0, "the better cluster first");
    }

    #[test]
    fn defaults_keep_the_most_complete_record_and_fill_from_the_most_recent() {
        let mut a = member(1, 10);
        a.customer.name = "Ann".into();
        a.customer.emails = vec!["a@x.com".into()];
        a.customer.ext_id = Some("A1".into());
        a.customer.created_at = Utc.timestamp_opt(500, 0).single();
        let mut b = member(2, 30);
        b.customer.name = "Ann Lee".into();
        b.customer.city = Some("Paris".into());
        b.customer.emails = vec!["b@x.com".into(), "a@x.com".into()];
        b.customer.company = Some("Acme".into());
        b.customer.created_at = Utc.timestamp_opt(100, 0).single();
        let mut c = member(3, 20);
        c.customer.city = Some("Lyon".into());
        c.customer.ext_id = Some("C1".into());
        let members = [a, b, c];
        let mut ch = Choices::new(&members);
        assert_eq!(ch.survivor, CustomerId(2), "the most filled fields");
        assert_eq!(ch.source(Field::Name), (CustomerId(2), Rule::Survivor));
        assert_eq!(ch.source(Field::ExtId), (CustomerId(3), Rule::MostRecent));
        assert_eq!(ch.source(Field::CreatedAt), (CustomerId(2), Rule::Survivor));
        assert_eq!(
            ch.value(&members, Field::Email).as_deref(),
            Some("b@x.com; a@x.com")
        );
        ch.pick(&members, Field::Email, CustomerId(1)).unwrap();
        assert_eq!(
            ch.value(&members, Field::Email).as_deref(),
            Some("a@x.com; b@x.com")
        );
        ch.pick(&members, Field::City, CustomerId(3)).unwrap();
        assert_eq!(ch.value(&members, Field::City).as_deref(), Some("Lyon"));
        assert_eq!(ch.source(Field::City).1, Rule::Picked);
        // Picking the default again is no pick.
        ch.pick(&members, Field::City, CustomerId(2)).unwrap();
        assert_eq!(ch.source(Field::City).1, Rule::Survivor);
        assert!(ch.pick(&members, Field::City, CustomerId(9)).is_err());

        // A new survivor keeps the picks and recomputes the rest.
        ch.pick(&members, Field::Name, CustomerId(1)).unwrap();
        let ch = Choices::with_survivor(&members, CustomerId(1), &ch.picks());
        assert_eq!(ch.source(Field::Name), (CustomerId(1), Rule::Survivor));
        assert_eq!(ch.source(Field::City), (CustomerId(2), Rule::MostRecent));
        assert_eq!(ch.source(Field::CreatedAt), (CustomerId(2), Rule::Earliest));
        let mut ch2 = ch.clone();
        let refused = ch2.pick(&members, Field::ExtId, CustomerId(3)).unwrap_err();
        assert_eq!(refused, "ext_id A1 stays: make #3 the survivor");
        let plan = ch.plan(&members);
        assert_eq!(plan.others, [CustomerId(2), CustomerId(3)]);
        assert_eq!(plan.picks.len(), Field::ALL.len());
    }

    #[test]
    fn merged_tags_leave_out_the_others_rule_tags() {
        let mut a = member(1, 10);
        a.customer.tags = vec!["auto".into(), "vip".into()];
        a.customer.name = "A".into();
        a.customer.city = Some("X".into());
        let mut b = member(2, 20);
        b.customer.tags = vec!["auto2".into(), "new".into()];
        let members = [a, b];
        let ch = Choices::new(&members);
        let rules: HashSet<String> = ["auto".to_owned(), "auto2".to_owned()].into();
        assert_eq!(ch.tags(&members, &rules), ["auto", "new", "vip"]);
    }
}
