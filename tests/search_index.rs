//! The search index against brute force: whatever the query and whatever
//! edits, trashings and merges happened, the indexed engine returns exactly
//! the customers that evaluating the query on every record returns, and the
//! persisted index equals a fresh `reindex`.
#![allow(
    clippy::unwrap_used,
    reason = "helpers of tests: a failure should stop the test loudly"
)]

use chrono::NaiveDate;
use proptest::prelude::*;
use rolo::model::searchable::haystack;
use rolo::model::{Customer, CustomerId, Order};
use rolo::search::engine::Index;
use rolo::search::{EvalContext, matches, parse};
use rolo::store::{OpenOptions, Store};
use std::collections::BTreeSet;

const NAMES: [&str; 12] = [
    "张伟",
    "王芳",
    "单田芳",
    "曾小贤",
    "Ann Lee",
    "Bob Smith",
    "李娜",
    "Zhang Wei",
    "陈娟长",
    "O'Brien",
    "Émile Zola",
    "张 伟",
];
const CITIES: [&str; 4] = ["上海", "北京市", "Sydney", "San Francisco"];
const QUERIES: [&str; 24] = [
    "",
    "zhang",
    "zw",
    "zhang wei",
    "张",
    "'an",
    "^bob",
    "lee$",
    "!zhang",
    "ann|^王",
    "city:上海",
    "-city:上海",
    "tag:vip",
    "spend>100",
    "orders>=2",
    "has:email",
    "missing:phone",
    "zhang OR city:sydney",
    "(tag:vip OR tag:new) AND NOT lifecycle:new",
    "8000",
    "last_order<400d",
    "shan",
    "zeng OR ceng",
    "e",
];

#[derive(Debug, Clone)]
struct Spec {
    name: usize,
    email: bool,
    phone: u32,
    city: usize,
    tags: (bool, bool),
    orders: Vec<(i64, u32)>,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        0..NAMES.len(),
        any::<bool>(),
        0u32..10_000,
        0..CITIES.len(),
        (any::<bool>(), any::<bool>()),
        proptest::collection::vec((1i64..50_000, 0u32..600), 0..4),
    )
        .prop_map(|(name, email, phone, city, tags, orders)| Spec {
            name,
            email,
            phone,
            city,
            tags,
            orders,
        })
}

#[derive(Debug, Clone)]
enum Edit {
    Rename(usize, usize),
    Trash(usize),
    Merge(usize, usize),
    DropOrders(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (0usize..40, 0..NAMES.len()).prop_map(|(i, n)| Edit::Rename(i, n)),
        (0usize..40).prop_map(Edit::Trash),
        (0usize..40, 0usize..40).prop_map(|(a, b)| Edit::Merge(a, b)),
        (0usize..40).prop_map(Edit::DropOrders),
    ]
}

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()
}

fn build(store: &Store, specs: &[Spec]) -> Vec<CustomerId> {
    let mut unit = store.begin().unwrap();
    let mut ids = Vec::new();
    for (n, s) in specs.iter().enumerate() {
        let id = unit.new_customer_id().unwrap();
        let mut c = Customer {
            id,
            name: NAMES[s.name].to_string(),
            city: Some(CITIES[s.city].to_string()),
            ..Customer::default()
        };
        if s.email {
            c.emails.push(format!("user{n}@example.com"));
        }
        if s.phone % 3 != 0 {
            c.phones.push(format!("+86138{:08}", s.phone));
        }
        if s.tags.0 {
            c.add_tag("vip");
        }
        if s.tags.1 {
            c.add_tag("new");
        }
        unit.save_customer(&c).unwrap();
        for (k, (amount, day)) in s.orders.iter().enumerate() {
            unit.save_order(&Order {
                order_id: format!("o{n}-{k}"),
                customer: id,
                date: as_of() - chrono::Duration::days(i64::from(*day)),
                amount_minor: *amount,
                ..Order::default()
            })
            .unwrap();
        }
        ids.push(id);
    }
    unit.commit().unwrap();
    ids
}

fn apply(store: &Store, ids: &[CustomerId], edits: &[Edit]) {
    for e in edits {
        let mut unit = store.begin().unwrap();
        match *e {
            Edit::Rename(i, n) => {
                let Some(mut c) = unit.customer(ids[i % ids.len()]).unwrap() else {
                    continue;
                };
                c.name = NAMES[n].to_string();
                unit.save_customer(&c).unwrap();
            }
            Edit::Trash(i) => {
                let Some(mut c) = unit.customer(ids[i % ids.len()]).unwrap() else {
                    continue;
                };
                c.trashed_at = Some(unit.now());
                unit.save_customer(&c).unwrap();
            }
            Edit::Merge(a, b) => {
                let (a, b) = (ids[a % ids.len()], ids[b % ids.len()]);
                let (Some(mut keep), Some(mut gone)) =
                    (unit.customer(a).unwrap(), unit.customer(b).unwrap())
                else {
                    continue;
                };
                if a == b || !keep.is_live() || !gone.is_live() {
                    continue;
                }
                keep.emails.extend(gone.emails.clone());
                gone.merged_into = Some(a);
                unit.save_customer(&keep).unwrap();
                unit.save_customer(&gone).unwrap();
            }
            Edit::DropOrders(i) => {
                let id = ids[i % ids.len()];
                for o in store.orders_of(id).unwrap() {
                    unit.remove_order(&o.order_id).unwrap();
                }
            }
        }
        unit.commit().unwrap();
    }
}

fn brute_force(store: &Store, query: &str) -> BTreeSet<u64> {
    let q = parse(query).unwrap();
    let ctx = EvalContext::new(as_of());
    store
        .customers()
        .map(Result::unwrap)
        .filter(|c| matches(&q, c, Some(&store.stats(c.id).unwrap()), &haystack(c), &ctx))
        .map(|c| c.id.0)
        .collect()
}

fn ranked(store: &Store, query: &str, limit: usize) -> Vec<u64> {
    let q = parse(query).unwrap();
    let ctx = EvalContext::new(as_of());
    let (r, _) = Index::load(store)
        .unwrap()
        .search(store, &q, &ctx, limit, None)
        .unwrap();
    r.hits.iter().map(|h| h.id.0).collect()
}

fn indexed(store: &Store, query: &str) -> (usize, BTreeSet<u64>) {
    let q = parse(query).unwrap();
    let ctx = EvalContext::new(as_of());
    let (r, _) = Index::load(store)
        .unwrap()
        .search(store, &q, &ctx, usize::MAX, None)
        .unwrap();
    (r.total, r.hits.iter().map(|h| h.id.0).collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn index_agrees_with_brute_force_after_edits(specs in proptest::collection::vec(spec(), 1..40),
                                                 edits in proptest::collection::vec(edit(), 0..12)) {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(&tmp.path().join("db"), &OpenOptions::default()).unwrap();
        let ids = build(&store, &specs);
        apply(&store, &ids, &edits);
        prop_assert_eq!(store.check().unwrap(), Vec::<String>::new());
        for q in QUERIES {
            // A short page must be the head of the full ranking (short pages
            // take shortcuts the full ranking does not).
            let full = ranked(&store, q, usize::MAX);
            for limit in [1, 3, 8] {
                let head: Vec<u64> = full.iter().take(limit).copied().collect();
                prop_assert_eq!(ranked(&store, q, limit), head, "top {} of {:?}", limit, q);
            }
            let want = brute_force(&store, q);
            let (total, got) = indexed(&store, q);
            prop_assert_eq!(total, want.len(), "total for {:?}", q);
            prop_assert_eq!(&got, &want, "ids for {:?}", q);
        }
        // The persisted index equals one rebuilt from scratch.
        let before: Vec<_> = store.search_chunks().map(Result::unwrap).collect();
        store.reindex(&mut |_| {}).unwrap();
        let after: Vec<_> = store.search_chunks().map(Result::unwrap).collect();
        prop_assert_eq!(before, after);
        prop_assert_eq!(store.check().unwrap(), Vec::<String>::new());
    }
}

#[test]
fn typing_one_key_at_a_time_narrows_to_the_same_answer() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(&tmp.path().join("db"), &OpenOptions::default()).unwrap();
    let specs: Vec<Spec> = (0..200)
        .map(|i| Spec {
            name: i % NAMES.len(),
            email: i % 2 == 0,
            phone: i as u32 * 37,
            city: i % 4,
            tags: (i % 3 == 0, false),
            orders: vec![],
        })
        .collect();
    build(&store, &specs);
    let index = Index::load(&store).unwrap();
    let ctx = EvalContext::new(as_of());
    for target in ["zhang wei", "zhangwei", "ann lee", "user12@"] {
        let mut prev = None;
        for end in 1..=target.len() {
            let typed = &target[..end];
            let q = parse(typed).unwrap();
            let (narrowed, next) = index.search(&store, &q, &ctx, 50, prev.as_ref()).unwrap();
            let (fresh, _) = index.search(&store, &q, &ctx, 50, None).unwrap();
            assert_eq!(narrowed, fresh, "after typing {typed:?}");
            prev = Some(next);
        }
    }
}
