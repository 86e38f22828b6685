//! Rule tags stay equal to a brute-force evaluation of their query after
//! random edits, trashes, restores, manual tags, merges and restarts
//! (property test), each re-evaluated for the changed customers alone.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::NaiveDate;
use proptest::prelude::*;
use rolo::model::searchable::haystack;
use rolo::model::{Customer, CustomerId};
use rolo::search::rules::Staleness;
use rolo::search::{EvalContext, matches, parse, rules};
use rolo::store::{MergePlan, OpenOptions, Store};

const NAMES: [&str; 4] = ["Zhang Wei", "Li Na", "张伟", "Wang Fang"];
const CITIES: [&str; 3] = ["上海", "北京", "Paris"];
const RULE: &str = "(zhang OR city:北京) -tag:vip";

#[derive(Debug, Clone)]
enum Step {
    Edit {
        who: usize,
        name: usize,
        city: usize,
    },
    Trash(usize),
    Restore(usize),
    Vip(usize, bool),
    Create(usize, usize),
    Refresh,
    /// Merge the second into the first (when both are live and distinct).
    Merge(usize, usize),
    /// Close and reopen the database (a restart).
    Reopen,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0..8usize, 0..4usize, 0..3usize).prop_map(|(who, name, city)| Step::Edit {
            who,
            name,
            city
        }),
        (0..8usize).prop_map(Step::Trash),
        (0..8usize).prop_map(Step::Restore),
        (0..8usize, any::<bool>()).prop_map(|(w, on)| Step::Vip(w, on)),
        (0..4usize, 0..3usize).prop_map(|(n, c)| Step::Create(n, c)),
        Just(Step::Refresh),
        (0..8usize, 0..8usize).prop_map(|(a, b)| Step::Merge(a, b)),
        Just(Step::Reopen),
    ]
}

fn brute(store: &Store, ctx: &EvalContext) -> Vec<CustomerId> {
    let q = parse(RULE).unwrap();
    store
        .customers()
        .map(Result::unwrap)
        .filter(|c| matches(&q, c, Some(&store.stats(c.id).unwrap()), &haystack(c), ctx))
        .map(|c| c.id)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn rule_tag_members_equal_brute_force(steps in proptest::collection::vec(step(), 1..25)) {
        let tmp = tempfile::tempdir().unwrap();
        let mut store = Store::open(&tmp.path().join("db"), &OpenOptions::default()).unwrap();
        let ctx = EvalContext::new(NaiveDate::from_ymd_opt(2025, 1, 1).unwrap());
        let mut ids = Vec::new();
        for i in 0..6 {
            ids.push(store.create_customer(&Customer {
                name: NAMES[i % 4].into(),
                city: Some(CITIES[i % 3].into()),
                ..Customer::default()
            }).unwrap());
        }
        let p = rules::preview(&store, "r", RULE, &ctx).unwrap();
        rules::set_rule(&store, &p).unwrap();
        for s in steps {
            let id = |w: usize| ids[w % ids.len()];
            match s {
                Step::Edit { who, name, city } => {
                    let mut c = store.customer(id(who)).unwrap().unwrap();
                    c.name = NAMES[name].into();
                    c.city = Some(CITIES[city].into());
                    store.update_customer(&c).unwrap();
                }
                Step::Trash(w) => store.trash_customer(id(w)).unwrap(),
                Step::Restore(w) => store.restore_customer(id(w)).unwrap(),
                Step::Vip(w, true) => { store.add_tag("vip", &[id(w)]).unwrap(); }
                Step::Vip(w, false) => {
                    if store.tag_exists("vip").unwrap() {
                        store.remove_tag("vip", &[id(w)]).unwrap();
                    }
                }
                Step::Create(n, c) => ids.push(store.create_customer(&Customer {
                    name: NAMES[n].into(),
                    city: Some(CITIES[c].into()),
                    ..Customer::default()
                }).unwrap()),
                Step::Refresh => { rules::refresh(&store, &ctx).unwrap(); }
                Step::Merge(a, b) => {
                    let (a, b) = (id(a), id(b));
                    let live = |x| store.customer(x).unwrap().is_some_and(|c| c.is_live());
                    if a != b && live(a) && live(b) {
                        store.merge(&MergePlan { survivor: a, others: vec![b], picks: Vec::new() }).unwrap();
                        // The merged record is hidden for good: later steps leave it alone.
                        ids.retain(|x| *x != b);
                    }
                }
                Step::Reopen => {
                    drop(store);
                    store = common::reopen(&tmp.path().join("db"));
                }
            }
            // A change of one or two customers is re-evaluated for them
            // alone, never by a pass over everyone.
            match rules::staleness(&store, &ctx).unwrap() {
                Staleness::All => prop_assert!(false, "a small change asked for a full pass"),
                Staleness::Some(dirt) => prop_assert!(dirt.ids.len() <= 2, "{dirt:?}"),
                Staleness::Fresh => {}
            }
            // What a front end does when it opens the database, and the
            // workbench after each change.
            rules::refresh_if_stale(&store, &ctx).unwrap();
            prop_assert_eq!(store.find_tag("r").unwrap(), brute(&store, &ctx));
            prop_assert!(!rules::is_stale(&store, &ctx).unwrap());
        }
        prop_assert_eq!(store.check().unwrap(), Vec::<String>::new());
    }
}
