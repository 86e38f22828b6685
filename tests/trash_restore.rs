//! Trash and restore are exact: whatever customers (with orders, notes and
//! tags) are trashed and whichever of them come back, a restored customer
//! equals what was there before (record, orders, notes, figures, tag
//! index, search hits), the ones still in the trash are hidden but intact,
//! and `check` finds nothing wrong at every step.
#![allow(
    clippy::unwrap_used,
    reason = "helpers of tests: a failure should stop the test loudly"
)]

use chrono::{NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use rolo::model::{Customer, CustomerId, Note, NoteKind, Order, Stats};
use rolo::search::engine::Index;
use rolo::search::{EvalContext, parse};
use rolo::store::{OpenOptions, SearchChunk, Store};
use std::collections::BTreeSet;

const NAMES: [&str; 6] = [
    "张伟",
    "Ann Lee",
    "曾小贤",
    "Bob Smith",
    "李娜",
    "Émile Zola",
];
const TAGS: [&str; 3] = ["vip", "interest/golf", "新客"];

/// One generated customer: name index, tags (bit set), order amounts
/// (cents, one order per entry), notes.
#[derive(Debug, Clone)]
struct Spec {
    name: usize,
    tags: u8,
    orders: Vec<i64>,
    notes: Vec<String>,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        0..NAMES.len(),
        0u8..8,
        proptest::collection::vec(1i64..100_000, 0..4),
        proptest::collection::vec("[a-z ]{0,12}", 0..3),
    )
        .prop_map(|(name, tags, orders, notes)| Spec {
            name,
            tags,
            orders,
            notes,
        })
}

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 6, 30).unwrap()
}

fn open(dir: &std::path::Path) -> Store {
    let opts = OpenOptions {
        clock: Utc.with_ymd_and_hms(2024, 6, 30, 9, 0, 0).single(),
        ..OpenOptions::default()
    };
    Store::open(&dir.join("db"), &opts).unwrap()
}

/// Every customer's email is unique, so a search for it finds exactly it.
fn email(i: usize) -> String {
    format!("person{i}@example.com")
}

fn build(store: &Store, specs: &[Spec]) -> Vec<CustomerId> {
    let mut ids = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        let id = store
            .create_customer(&Customer {
                name: format!("{} {i}", NAMES[s.name]),
                emails: vec![email(i)],
                phones: vec![format!("+86138{:08}", 1000 + i)],
                city: Some("上海".into()),
                ..Customer::default()
            })
            .unwrap();
        let mut unit = store.begin().unwrap();
        for (n, cents) in s.orders.iter().enumerate() {
            unit.save_order(&Order {
                order_id: format!("o-{i}-{n}"),
                customer: id,
                date: as_of() - chrono::Duration::days(10 * n as i64 + i as i64),
                amount_minor: *cents,
                attrs: vec![("gift".into(), "yes".into())],
                ..Order::default()
            })
            .unwrap();
        }
        unit.commit().unwrap();
        for text in &s.notes {
            store
                .add_customer_note(id, NoteKind::Call, text, Some(4))
                .unwrap();
        }
        ids.push(id);
    }
    for (t, tag) in TAGS.iter().enumerate() {
        let members: Vec<CustomerId> = specs
            .iter()
            .zip(&ids)
            .filter(|(s, _)| s.tags & (1 << t) != 0)
            .map(|(_, id)| *id)
            .collect();
        if !members.is_empty() {
            store.add_tag(tag, &members).unwrap();
        }
    }
    ids
}

/// Everything a customer is made of and found by.
#[derive(Debug, PartialEq)]
struct State {
    record: Customer,
    orders: Vec<Order>,
    notes: Vec<Note>,
    stats: Stats,
    /// The tags whose index lists the customer.
    indexed_tags: BTreeSet<String>,
    /// Whether a search for its email, its phone and its first tag (or its
    /// city) finds it.
    found: [bool; 3],
}

fn search_finds(store: &Store, index: &Index, query: &str, id: CustomerId) -> bool {
    let q = parse(query).unwrap();
    let ctx = EvalContext::new(as_of());
    let (r, _) = index.search(store, &q, &ctx, usize::MAX, None).unwrap();
    r.hits.iter().any(|h| h.id == id)
}

fn state(store: &Store, index: &Index, i: usize, id: CustomerId) -> State {
    let record = store.require_customer(id).unwrap();
    let tag_query = record
        .tags
        .first()
        .map_or_else(|| "city:上海".to_owned(), |t| format!("tag:{t}"));
    State {
        indexed_tags: TAGS
            .iter()
            .filter(|t| store.find_tag(t).unwrap().contains(&id))
            .map(|t| (*t).to_owned())
            .collect(),
        found: [
            search_finds(store, index, &format!("'{}", email(i)), id),
            search_finds(store, index, &format!("{}", 1000 + i), id),
            search_finds(store, index, &tag_query, id),
        ],
        orders: store.orders_of(id).unwrap(),
        notes: store.notes_of(id).unwrap(),
        stats: store.stats(id).unwrap(),
        record,
    }
}

fn states(store: &Store, ids: &[CustomerId]) -> Vec<State> {
    let index = Index::load(store).unwrap();
    ids.iter()
        .enumerate()
        .map(|(i, id)| state(store, &index, i, *id))
        .collect()
}

fn chunks(store: &Store) -> Vec<SearchChunk> {
    store.search_chunks().map(Result::unwrap).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn restored_customers_equal_what_was_there(
        specs in proptest::collection::vec(spec(), 1..10),
        trash_mask in any::<u16>(),
        restore_mask in any::<u16>(),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let store = open(tmp.path());
        let ids = build(&store, &specs);
        prop_assert_eq!(store.check().unwrap(), Vec::<String>::new());
        let before = states(&store, &ids);
        let before_chunks = chunks(&store);
        let live = store.live_count().unwrap();
        for s in &before {
            prop_assert_eq!(s.found, [true, true, true], "{:?}", s.record.name);
        }

        let trashed: Vec<usize> = (0..ids.len()).filter(|i| trash_mask & (1 << i) != 0).collect();
        for &i in &trashed {
            store.trash_customer(ids[i]).unwrap();
        }
        prop_assert_eq!(store.check().unwrap(), Vec::<String>::new());
        prop_assert_eq!(store.live_count().unwrap(), live - trashed.len() as u64);
        let listed: BTreeSet<CustomerId> =
            store.trashed().map(|c| c.unwrap().id).collect();
        prop_assert_eq!(listed, trashed.iter().map(|i| ids[*i]).collect::<BTreeSet<_>>());

        let restored: Vec<usize> = trashed
            .iter()
            .copied()
            .filter(|i| restore_mask & (1 << i) != 0)
            .collect();
        for &i in &restored {
            store.restore_customer(ids[i]).unwrap();
        }
        prop_assert_eq!(store.check().unwrap(), Vec::<String>::new());

        let index = Index::load(&store).unwrap();
        for (i, id) in ids.iter().enumerate() {
            let now = state(&store, &index, i, *id);
            if trashed.contains(&i) && !restored.contains(&i) {
                // Hidden from every index, but nothing of it is lost.
                prop_assert!(now.record.trashed_at.is_some());
                prop_assert_eq!(now.found, [false, false, false]);
                prop_assert!(now.indexed_tags.is_empty());
                prop_assert_eq!(&now.orders, &before[i].orders);
                prop_assert_eq!(&now.notes, &before[i].notes);
                prop_assert_eq!(now.stats, before[i].stats);
                let mut back = now.record.clone();
                back.trashed_at = None;
                prop_assert_eq!(&back, &before[i].record);
            } else {
                prop_assert_eq!(&now, &before[i], "customer {}", i);
            }
        }

        // With the rest back too, the search index is what it was, byte for byte.
        for &i in trashed.iter().filter(|i| !restored.contains(i)) {
            store.restore_customer(ids[i]).unwrap();
        }
        prop_assert_eq!(states(&store, &ids), before);
        prop_assert_eq!(chunks(&store), before_chunks);
        prop_assert_eq!(store.live_count().unwrap(), live);
        prop_assert_eq!(store.check().unwrap(), Vec::<String>::new());
    }
}
