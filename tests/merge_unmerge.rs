//! Merge and unmerge (issue 6 item 4, the store part): a merge followed by
//! its unmerge gives back the whole database, key for key (property tests);
//! what a merge does to orders, figures, search, identity and imports; how
//! unmerge treats later changes; dismissed pairs; and how undo and import
//! revert respect merges.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failure should stop the test loudly"
)]

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::AtomicBool;

use chrono::NaiveDate;
use proptest::prelude::*;
use rolo::ingest::headers::RecordKind;
use rolo::ingest::{ImportOptions, import_file};
use rolo::model::{Customer, CustomerId, Field, NoteKind, Order};
use rolo::search::engine::Index;
use rolo::search::{EvalContext, parse};
use rolo::store::{MergePlan, OpenOptions, Store, StoreError};

fn open(dir: &std::path::Path) -> Store {
    let opts = OpenOptions {
        cache_bytes: 8 << 20,
        ..OpenOptions::default()
    };
    Store::open(&dir.join("db"), &opts).unwrap()
}

/// Every key and value but the audit log (`a`), the history links into it
/// (`h`), the merge records (`M`), the counters that only grow
/// (`m` + `next_...`) and the rule markers (`R`: which customers the next
/// rule refresh looks at; a merge and its unmerge both mark theirs).
fn dump(store: &Store) -> BTreeMap<Vec<u8>, Vec<u8>> {
    store
        .raw_entries()
        .map(Result::unwrap)
        .filter(|(k, _)| match k.first() {
            Some(b'a' | b'h' | b'M' | b'R') => false,
            Some(b'm') => !k.starts_with(b"mnext_"),
            _ => true,
        })
        .collect()
}

/// The keys on which two dumps differ, readably.
fn differences(a: &BTreeMap<Vec<u8>, Vec<u8>>, b: &BTreeMap<Vec<u8>, Vec<u8>>) -> Vec<String> {
    let show = |k: &[u8]| format!("{}:{}", char::from(k[0]), hex(&k[1..]));
    let mut out = Vec::new();
    for (k, v) in a {
        match b.get(k) {
            None => out.push(format!("only before: {}", show(k))),
            Some(w) if w != v => out.push(format!("changed: {}", show(k))),
            _ => {}
        }
    }
    for k in b.keys().filter(|k| !a.contains_key(*k)) {
        out.push(format!("only after: {}", show(k)));
    }
    out
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn assert_clean(store: &Store, when: &str) {
    let problems = store.check().unwrap();
    assert!(problems.is_empty(), "check {when}: {problems:#?}");
}

fn order(id: &str, customer: CustomerId, day: u32, amount: i64) -> Order {
    Order {
        order_id: id.into(),
        customer,
        date: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + chrono::Days::new(u64::from(day)),
        amount_minor: amount,
        ..Order::default()
    }
}

fn save_orders(store: &Store, orders: &[Order]) {
    let mut unit = store.begin().unwrap();
    for o in orders {
        unit.save_order(o).unwrap();
    }
    unit.commit().unwrap();
}

fn create(store: &Store, name: &str, email: &str, phone: &str) -> CustomerId {
    store
        .create_customer(&Customer {
            name: name.into(),
            emails: (!email.is_empty())
                .then(|| email.into())
                .into_iter()
                .collect(),
            phones: (!phone.is_empty())
                .then(|| phone.into())
                .into_iter()
                .collect(),
            ..Customer::default()
        })
        .unwrap()
}

fn plan(survivor: CustomerId, others: &[CustomerId]) -> MergePlan {
    MergePlan {
        survivor,
        others: others.to_vec(),
        picks: Vec::new(),
    }
}

// ---------------------------------------------------------------------------
// Property tests: merge then unmerge is the identity.

const NAMES: [&str; 5] = ["", "Ann Lee", "张伟", "Bob Stone", "Zhang Wei"];
const CITIES: [&str; 3] = ["上海", "北京", "Paris"];
const TAGS: [&str; 4] = ["vip", "b2b", "新客", "lapsed"];

#[derive(Debug, Clone)]
struct CustomerSpec {
    name: usize,
    emails: Vec<u8>,
    phone: Option<u8>,
    city: Option<usize>,
    company: Option<u8>,
    ext: bool,
    tags: Vec<usize>,
    attr: Option<(u8, u8)>,
}

#[derive(Debug, Clone)]
struct DbSpec {
    customers: Vec<CustomerSpec>,
    /// (customer, day, amount)
    orders: Vec<(usize, u32, i64)>,
    /// (customer, kind, satisfaction)
    notes: Vec<(usize, usize, Option<u8>)>,
    /// (customer, city): an edit after creation.
    edits: Vec<(usize, usize)>,
    /// Members of the rule tag `big`.
    rule_members: Vec<usize>,
    trash: Option<usize>,
}

#[derive(Debug, Clone)]
struct MergeSpec {
    /// Indexes into the candidates (the first distinct one survives).
    members: Vec<usize>,
    /// (field index, member index)
    picks: Vec<(usize, usize)>,
}

fn customer_spec() -> impl Strategy<Value = CustomerSpec> {
    (
        0..NAMES.len(),
        proptest::collection::vec(0u8..6, 0..3),
        proptest::option::of(0u8..5),
        proptest::option::of(0..CITIES.len()),
        proptest::option::of(0u8..3),
        any::<bool>(),
        proptest::collection::vec(0..TAGS.len(), 0..3),
        proptest::option::of((0u8..3, 0u8..3)),
    )
        .prop_map(
            |(name, emails, phone, city, company, ext, tags, attr)| CustomerSpec {
                name,
                emails,
                phone,
                city,
                company,
                ext,
                tags,
                attr,
            },
        )
}

fn db_spec() -> impl Strategy<Value = DbSpec> {
    (
        proptest::collection::vec(customer_spec(), 2..8),
        proptest::collection::vec((0usize..8, 0u32..60, 1i64..100_000), 0..14),
        proptest::collection::vec((0usize..8, 0usize..6, proptest::option::of(1u8..6)), 0..6),
        proptest::collection::vec((0usize..8, 0..CITIES.len()), 0..4),
        proptest::collection::vec(0usize..8, 0..4),
        proptest::option::weighted(0.25, 0usize..8),
    )
        .prop_map(
            |(customers, orders, notes, edits, rule_members, trash)| DbSpec {
                customers,
                orders,
                notes,
                edits,
                rule_members,
                trash,
            },
        )
}

fn merge_spec() -> impl Strategy<Value = MergeSpec> {
    (
        proptest::collection::vec(0usize..16, 2..6),
        proptest::collection::vec((0..Field::ALL.len(), 0usize..6), 0..6),
    )
        .prop_map(|(members, picks)| MergeSpec { members, picks })
}

/// Builds the database of `spec`; returns every customer id.
fn build(store: &Store, spec: &DbSpec) -> Vec<CustomerId> {
    let mut ids = Vec::new();
    for (i, c) in spec.customers.iter().enumerate() {
        let mut emails: Vec<String> = Vec::new();
        for e in &c.emails {
            let e = format!("e{e}@example.com");
            if !emails.contains(&e) {
                emails.push(e);
            }
        }
        let draft = Customer {
            name: NAMES[c.name].into(),
            ext_id: c.ext.then(|| format!("X{i}")),
            emails,
            phones: c
                .phone
                .map(|p| format!("+86138000000{p:02}"))
                .into_iter()
                .collect(),
            city: c.city.map(|x| CITIES[x].into()),
            company: c.company.map(|x| format!("Company {x}")),
            attrs: c
                .attr
                .map(|(k, v)| (format!("k{k}"), format!("v{v}")))
                .into_iter()
                .collect(),
            ..Customer::default()
        };
        ids.push(store.create_customer(&draft).unwrap());
    }
    let n = ids.len();
    for (t, tag) in TAGS.iter().enumerate() {
        let members: Vec<CustomerId> = spec
            .customers
            .iter()
            .zip(&ids)
            .filter(|(c, _)| c.tags.contains(&t))
            .map(|(_, id)| *id)
            .collect();
        if !members.is_empty() {
            store.add_tag(tag, &members).unwrap();
        }
    }
    let members: Vec<CustomerId> = spec.rule_members.iter().map(|i| ids[i % n]).collect();
    store.set_tag_rule("big", "spend>100", &members).unwrap();
    let orders: Vec<Order> = spec
        .orders
        .iter()
        .enumerate()
        .map(|(k, (c, day, amount))| order(&format!("O{k}"), ids[c % n], *day, *amount))
        .collect();
    let (first, second) = orders.split_at(orders.len() / 2);
    save_orders(store, first);
    save_orders(store, second);
    for (c, kind, sat) in &spec.notes {
        store
            .add_customer_note(ids[c % n], NoteKind::ALL[*kind], "called: fine", *sat)
            .unwrap();
    }
    for (c, city) in &spec.edits {
        let mut x = store.customer(ids[c % n]).unwrap().unwrap();
        x.city = Some(CITIES[*city].into());
        let e = format!("edited{c}@example.com");
        if !x.emails.contains(&e) {
            x.emails.push(e);
        }
        store.update_customer(&x).unwrap();
    }
    if let Some(t) = spec.trash {
        store.trash_customer(ids[t % n]).unwrap();
    }
    ids
}

/// The plan `spec` describes over `candidates` (`None`: fewer than two).
fn plan_of(spec: &MergeSpec, candidates: &[CustomerId]) -> Option<MergePlan> {
    let mut members: Vec<CustomerId> = Vec::new();
    for m in &spec.members {
        let id = candidates[m % candidates.len()];
        if !members.contains(&id) {
            members.push(id);
        }
    }
    if members.len() < 2 {
        return None;
    }
    let mut picks: Vec<(Field, CustomerId)> = Vec::new();
    for (f, m) in &spec.picks {
        let f = Field::ALL[*f];
        if !picks.iter().any(|(pf, _)| *pf == f) {
            picks.push((f, members[m % members.len()]));
        }
    }
    Some(MergePlan {
        survivor: members[0],
        others: members[1..].to_vec(),
        picks,
    })
}

/// What a merge must have done, whatever the plan.
fn assert_merged(store: &Store, plan: &MergePlan, spend_before: i64, orders_before: u32) {
    let s = store.customer(plan.survivor).unwrap().unwrap();
    assert!(s.is_live());
    let stats = store.stats(plan.survivor).unwrap();
    assert_eq!(
        (stats.spend_minor, stats.orders),
        (spend_before, orders_before)
    );
    for o in &plan.others {
        let c = store.customer(*o).unwrap().unwrap();
        assert_eq!(c.merged_into, Some(plan.survivor));
        assert!(store.orders_of(*o).unwrap().is_empty());
        assert!(store.notes_of(*o).unwrap().is_empty());
        for e in &c.emails {
            assert!(s.emails.contains(e), "email {e} of {o} lost");
            assert_eq!(
                store.find_email(e).unwrap(),
                live_holders_of_email(store, e)
            );
        }
        for p in &c.phones {
            assert!(s.phones.contains(p), "phone {p} of {o} lost");
        }
    }
}

fn live_holders_of_email(store: &Store, email: &str) -> Vec<CustomerId> {
    store
        .customers()
        .map(Result::unwrap)
        .filter(|c| c.emails.iter().any(|e| e == email))
        .map(|c| c.id)
        .collect()
}

fn totals(store: &Store, ids: &[CustomerId]) -> (i64, u32) {
    ids.iter().fold((0, 0), |(s, n), id| {
        let st = store.stats(*id).unwrap();
        (s + st.spend_minor, n + st.orders)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// A random database, a random plan of 2 to 5 records with random
    /// picks (over every customer, trashed ones included, so refusals are
    /// exercised too), then the unmerge: every key but the audit log is as
    /// before, and `check` is clean after each step.
    #[test]
    fn merge_then_unmerge_restores_every_key(db in db_spec(), spec in merge_spec()) {
        let tmp = tempfile::tempdir().unwrap();
        let store = open(tmp.path());
        let ids = build(&store, &db);
        let before = dump(&store);
        let Some(plan) = plan_of(&spec, &ids) else { return Ok(()) };
        let mut members = vec![plan.survivor];
        members.extend(&plan.others);
        let (spend, orders) = totals(&store, &members);
        match store.merge(&plan) {
            Err(StoreError::BadMerge(_)) => {
                prop_assert!(differences(&before, &dump(&store)).is_empty());
                return Ok(());
            }
            Err(e) => panic!("merge failed: {e}"),
            Ok(out) => {
                assert_clean(&store, "after the merge");
                assert_merged(&store, &plan, spend, orders);
                let changed = differences(&before, &dump(&store));
                prop_assert!(!changed.is_empty());
                let un = store.unmerge(out.seq).unwrap();
                prop_assert_eq!(un.orders_missing + un.notes_missing, 0);
                assert_clean(&store, "after the unmerge");
                let diff = differences(&before, &dump(&store));
                prop_assert!(diff.is_empty(), "not restored: {diff:#?}");
                let again = store.unmerge(out.seq).unwrap_err();
                prop_assert!(
                    matches!(again, StoreError::AlreadyUnmerged { .. }),
                    "{again}"
                );
            }
        }
    }

    /// Several merges over the live customers (a survivor may be merged
    /// again, or become a merged record of a later merge), then unmerges in
    /// reverse order: the database is as before.
    #[test]
    fn merges_unmerged_in_reverse_order_restore_every_key(
        db in db_spec(),
        specs in proptest::collection::vec(merge_spec(), 1..4),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let store = open(tmp.path());
        build(&store, &db);
        let before = dump(&store);
        let mut seqs = Vec::new();
        for spec in &specs {
            let live: Vec<CustomerId> = store.customers().map(|c| c.unwrap().id).collect();
            let Some(plan) = plan_of(spec, &live) else { continue };
            match store.merge(&plan) {
                Ok(out) => seqs.push(out.seq),
                Err(StoreError::BadMerge(m)) => prop_assert!(m.contains("ext_id"), "{m}"),
                Err(e) => panic!("merge failed: {e}"),
            }
            assert_clean(&store, "after a merge");
        }
        let listed: Vec<u64> = store.merges().unwrap().iter().map(|m| m.seq).collect();
        let mut newest_first = seqs.clone();
        newest_first.reverse();
        prop_assert_eq!(listed, newest_first.clone());
        for seq in newest_first {
            let blocker = store.merges().unwrap()[0].blocker.clone();
            prop_assert_eq!(blocker, None);
            store.unmerge(seq).unwrap();
            assert_clean(&store, "after an unmerge");
        }
        prop_assert!(store.merges().unwrap().is_empty());
        let diff = differences(&before, &dump(&store));
        prop_assert!(diff.is_empty(), "not restored: {diff:#?}");
    }
}

// ---------------------------------------------------------------------------
// What a merge does.

#[test]
fn merge_moves_orders_and_notes_and_recomputes_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open(tmp.path());
    let a = create(&store, "Ann Lee", "ann@example.com", "+8613800000001");
    let b = create(&store, "Ann Lee", "ann.lee@work.example", "+8613800000002");
    let c = create(&store, "A. Lee", "", "+8613800000003");
    save_orders(
        &store,
        &[
            order("A1", a, 10, 1_000),
            order("B1", b, 5, 2_500),
            order("B2", b, 20, 500),
            order("C1", c, 10, 7_000),
        ],
    );
    store
        .add_customer_note(b, NoteKind::Call, "asked for a refund", Some(2))
        .unwrap();
    let live = store.live_count().unwrap();

    let out = store.merge(&plan(a, &[b, c])).unwrap();
    assert_eq!((out.orders_moved, out.notes_moved), (3, 1));
    let stats = store.stats(a).unwrap();
    assert_eq!(stats.spend_minor, 1_000 + 2_500 + 500 + 7_000);
    assert_eq!((stats.orders, stats.order_days), (4, 3));
    assert_eq!(stats.first_order, NaiveDate::from_ymd_opt(2024, 1, 6));
    let ids: Vec<String> = store
        .orders_of(a)
        .unwrap()
        .into_iter()
        .map(|o| {
            assert_eq!(o.customer, a);
            o.order_id
        })
        .collect();
    assert_eq!(ids, ["B1", "A1", "C1", "B2"]);
    for gone in [b, c] {
        assert_eq!(store.stats(gone).unwrap(), Default::default());
        assert!(store.orders_of(gone).unwrap().is_empty());
        let rec = store.customer(gone).unwrap().unwrap();
        assert_eq!(rec.merged_into, Some(a));
        assert!(
            store
                .history_of(gone)
                .unwrap()
                .iter()
                .any(|e| e.op == "merge")
        );
    }
    let notes = store.notes_of(a).unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(
        (notes[0].customer, notes[0].text.as_str()),
        (a, "asked for a refund")
    );
    assert_eq!(store.live_count().unwrap(), live - 2);
    let visible: Vec<CustomerId> = store.customers().map(|c| c.unwrap().id).collect();
    assert_eq!(visible, [a]);
    let s = store.customer(a).unwrap().unwrap();
    assert_eq!(s.emails, ["ann@example.com", "ann.lee@work.example"]);
    assert_eq!(
        s.phones,
        ["+8613800000001", "+8613800000002", "+8613800000003"]
    );
    assert_eq!(store.find_email("ann.lee@work.example").unwrap(), [a]);
    assert_eq!(store.find_phone("+8613800000003").unwrap(), [a]);
    assert_clean(&store, "after the merge");

    // Order ids still resolve, through the order-id chunks, after a reopen.
    drop(store);
    let store = open(tmp.path());
    let mut unit = store.begin().unwrap();
    assert_eq!(unit.order("B2").unwrap().map(|o| o.customer), Some(a));
    drop(unit);
    let event = store.audit_event(out.seq).unwrap().unwrap();
    assert_eq!(
        (event.op.as_str(), event.customers.clone()),
        ("merge", vec![a, b, c])
    );
}

fn search_ids(store: &Store, query: &str) -> Vec<u64> {
    let q = parse(query).unwrap();
    let ctx = EvalContext::new(NaiveDate::from_ymd_opt(2025, 1, 1).unwrap());
    let (r, _) = Index::load(store)
        .unwrap()
        .search(store, &q, &ctx, 50, None)
        .unwrap();
    r.hits.iter().map(|h| h.id.0).collect()
}

/// The common case: a customer created from an order log (a phone, no
/// name) and the named customer record of the same person.
#[test]
fn search_finds_the_survivor_by_the_others_email_phone_and_name() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open(tmp.path());
    let a = create(&store, "", "", "+8613912345678");
    let b = create(
        &store,
        "Bob Stone",
        "bob.stone@example.com",
        "+8613987654321",
    );
    let _other = create(&store, "Carl Rook", "carl@example.com", "");
    assert_eq!(search_ids(&store, "bob stone"), [b.0]);
    store.merge(&plan(a, &[b])).unwrap();
    assert_eq!(search_ids(&store, "bob stone"), [a.0]);
    assert_eq!(search_ids(&store, "'bob.stone@example.com"), [a.0]);
    assert_eq!(search_ids(&store, "13987654321"), [a.0]);
    assert_eq!(search_ids(&store, "13912345678"), [a.0]);

    // A picked name is the survivor's name from then on.
    let c = create(&store, "Robert Stone", "", "");
    store
        .merge(&MergePlan {
            survivor: c,
            others: vec![a],
            picks: vec![(Field::Name, a)],
        })
        .unwrap();
    assert_eq!(search_ids(&store, "bob stone"), [c.0]);
    assert!(search_ids(&store, "robert").is_empty());
    assert_clean(&store, "after two merges");
}

fn import(
    store: &Store,
    dir: &std::path::Path,
    name: &str,
    text: &str,
    kind: RecordKind,
) -> rolo::ingest::ImportReport {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    import_file(
        store,
        &path,
        &ImportOptions::new(kind),
        &mut |_, _| {},
        &AtomicBool::new(false),
    )
    .unwrap()
}

#[test]
fn import_of_a_merged_ext_id_updates_the_survivor() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open(tmp.path());
    let file = "ext_id,name,email\nA1,Ann Lee,ann@example.com\nA2,Ann Lee,ann.lee@work.example\n";
    import(&store, tmp.path(), "c.csv", file, RecordKind::Customers);
    let a1 = store.find_ext_id("A1").unwrap().unwrap();
    let a2 = store.find_ext_id("A2").unwrap().unwrap();
    store.merge(&plan(a1, &[a2])).unwrap();

    let r = import(
        &store,
        tmp.path(),
        "u.csv",
        "ext_id,name,city\nA2,Ann Lee,Paris\n",
        RecordKind::Customers,
    );
    assert_eq!((r.inserted, r.updated), (0, 1), "{r:?}");
    assert_eq!(
        store.customer(a1).unwrap().unwrap().city.as_deref(),
        Some("Paris")
    );
    assert_eq!(store.customer(a2).unwrap().unwrap().city, None);
    let r = import(
        &store,
        tmp.path(),
        "o.csv",
        "order_id,customer,order_date,amount\nO9,A2,2024-03-01,12.50\n",
        RecordKind::Orders,
    );
    assert_eq!((r.inserted, r.customers_created), (1, 0), "{r:?}");
    assert_eq!(store.stats(a1).unwrap().spend_minor, 1_250);
    // The whole first file again: nothing new, A2's row updates the survivor.
    let r = import(&store, tmp.path(), "c.csv", file, RecordKind::Customers);
    assert_eq!(r.inserted, 0, "{r:?}");
    assert_eq!(store.live_count().unwrap(), 1);
    assert_clean(&store, "after the imports");
}

#[test]
fn rule_tags_are_left_to_the_rule_and_manual_tags_are_unioned() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open(tmp.path());
    let a = create(&store, "Ann", "a@example.com", "");
    let b = create(&store, "Ann", "b@example.com", "");
    store.add_tag("vip", &[b]).unwrap();
    store.add_tag("b2b", &[a]).unwrap();
    store.set_tag_rule("big", "spend>100", &[b]).unwrap();
    store.merge(&plan(a, &[b])).unwrap();
    assert_eq!(store.customer(a).unwrap().unwrap().tags, ["b2b", "vip"]);
    assert_eq!(store.find_tag("vip").unwrap(), [a]);
    assert!(store.find_tag("big").unwrap().is_empty());
    assert_clean(&store, "after the merge");
}

#[test]
fn bad_plans_are_refused_and_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open(tmp.path());
    let a = store
        .create_customer(&Customer {
            name: "Ann".into(),
            ext_id: Some("A1".into()),
            ..Customer::default()
        })
        .unwrap();
    let b = store
        .create_customer(&Customer {
            name: "Ann".into(),
            ext_id: Some("A2".into()),
            ..Customer::default()
        })
        .unwrap();
    let c = create(&store, "Cy", "", "");
    let t = create(&store, "Trashed", "", "");
    store.trash_customer(t).unwrap();
    let before = dump(&store);
    let bad = [
        plan(a, &[]),
        plan(a, &[a]),
        plan(a, &[b, b]),
        plan(a, &[t]),
        MergePlan {
            survivor: a,
            others: vec![b],
            picks: vec![(Field::ExtId, b)],
        },
        MergePlan {
            survivor: a,
            others: vec![b],
            picks: vec![(Field::City, c)],
        },
        MergePlan {
            survivor: a,
            others: vec![b],
            picks: vec![(Field::City, a), (Field::City, b)],
        },
    ];
    for p in &bad {
        let e = store.merge(p).unwrap_err();
        assert!(matches!(e, StoreError::BadMerge(_)), "{p:?}: {e}");
        assert!(e.is_user_error());
    }
    assert!(matches!(
        store.merge(&plan(a, &[CustomerId(999)])).unwrap_err(),
        StoreError::NotFound(CustomerId(999))
    ));
    assert!(differences(&before, &dump(&store)).is_empty());
    // A survivor without an ext_id may take one.
    let out = store
        .merge(&MergePlan {
            survivor: c,
            others: vec![b],
            picks: vec![(Field::ExtId, b)],
        })
        .unwrap();
    assert_eq!(
        store.customer(c).unwrap().unwrap().ext_id.as_deref(),
        Some("A2")
    );
    assert_clean(&store, "after the merge");
    store.unmerge(out.seq).unwrap();
    assert!(differences(&before, &dump(&store)).is_empty());
}

// ---------------------------------------------------------------------------
// Unmerge.

#[test]
fn unmerge_of_an_unknown_seq_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open(tmp.path());
    let a = create(&store, "Ann", "", "");
    let edit_seq = store.audit_counter().unwrap();
    for seq in [999, edit_seq] {
        let e = store.unmerge(seq).unwrap_err();
        assert!(matches!(e, StoreError::MergeNotFound(s) if s == seq), "{e}");
        assert!(
            e.to_string().contains(&format!("merge #{seq} not found")),
            "{e}"
        );
        assert!(e.is_user_error());
    }
    assert!(store.customer(a).unwrap().is_some());
}

#[test]
fn changes_made_after_the_merge_stay_with_the_survivor() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open(tmp.path());
    let a = create(&store, "Ann", "ann@example.com", "");
    let b = create(&store, "Ann Lee", "lee@example.com", "+8613800000002");
    save_orders(
        &store,
        &[
            order("A1", a, 1, 100),
            order("B1", b, 2, 200),
            order("B2", b, 3, 300),
        ],
    );
    store
        .add_customer_note(b, NoteKind::Visit, "visited", None)
        .unwrap();
    let b_before = store.customer(b).unwrap().unwrap();
    let out = store.merge(&plan(a, &[b])).unwrap();

    // Later: a new order and a note for the survivor, one moved order
    // dropped, a tag and an edit.
    save_orders(&store, &[order("A2", a, 9, 900)]);
    let mut unit = store.begin().unwrap();
    unit.remove_order("B2").unwrap();
    unit.commit().unwrap();
    store
        .add_customer_note(a, NoteKind::Call, "later", None)
        .unwrap();
    store.add_tag("vip", &[a]).unwrap();
    let mut s = store.customer(a).unwrap().unwrap();
    s.city = Some("Paris".into());
    s.emails.push("new@example.com".into());
    store.update_customer(&s).unwrap();

    let un = store.unmerge(out.seq).unwrap();
    assert_eq!((un.orders_returned, un.orders_missing), (1, 1));
    assert_eq!((un.notes_returned, un.notes_missing), (1, 0));
    assert_eq!(store.customer(b).unwrap().unwrap(), b_before);
    let s = store.customer(a).unwrap().unwrap();
    assert_eq!(s.name, "Ann");
    assert_eq!(s.city.as_deref(), Some("Paris"));
    assert_eq!(s.emails, ["ann@example.com", "new@example.com"]);
    assert!(s.phones.is_empty());
    assert_eq!(s.tags, ["vip"]);
    let ids = |id| -> Vec<String> {
        store
            .orders_of(id)
            .unwrap()
            .into_iter()
            .map(|o| o.order_id)
            .collect()
    };
    assert_eq!(
        (ids(a), ids(b)),
        (vec!["A1".to_owned(), "A2".into()], vec!["B1".to_owned()])
    );
    assert_eq!(store.stats(a).unwrap().spend_minor, 1_000);
    assert_eq!(store.stats(b).unwrap().spend_minor, 200);
    assert_eq!(store.notes_of(b).unwrap()[0].customer, b);
    assert_eq!(store.notes_of(a).unwrap().len(), 1);
    assert_eq!(store.find_email("lee@example.com").unwrap(), [b]);
    assert_clean(&store, "after the unmerge");
}

#[test]
fn an_unmerge_waits_for_a_later_merge_of_its_survivor() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open(tmp.path());
    let a = create(&store, "Ann", "a@example.com", "");
    let b = create(&store, "Ann", "b@example.com", "");
    let c = create(&store, "Ann", "c@example.com", "");
    save_orders(&store, &[order("B1", b, 1, 100)]);
    let before = dump(&store);
    let m1 = store.merge(&plan(a, &[b])).unwrap().seq;
    let m2 = store.merge(&plan(c, &[a])).unwrap().seq;
    assert_eq!(store.orders_of(c).unwrap()[0].order_id, "B1");
    let e = store.unmerge(m1).unwrap_err();
    assert!(
        matches!(&e, StoreError::CannotUnmerge { merge, .. } if *merge == m1),
        "{e}"
    );
    assert!(e.to_string().contains(&format!("merge #{m2}")), "{e}");
    let listed = store.merges().unwrap();
    assert_eq!(listed.iter().map(|m| m.seq).collect::<Vec<_>>(), [m2, m1]);
    assert_eq!(
        (listed[0].blocker.is_none(), listed[1].blocker.is_some()),
        (true, true)
    );
    assert_eq!((listed[0].survivor, listed[0].others.clone()), (c, vec![a]));
    // Trashing the survivor blocks too.
    store.trash_customer(c).unwrap();
    assert!(matches!(
        store.unmerge(m2).unwrap_err(),
        StoreError::CannotUnmerge { .. }
    ));
    store.restore_customer(c).unwrap();
    store.unmerge(m2).unwrap();
    store.unmerge(m1).unwrap();
    assert_clean(&store, "after both unmerges");
    let diff = differences(&before, &dump(&store));
    assert!(diff.is_empty(), "{diff:#?}");
}

// ---------------------------------------------------------------------------
// Dismissed pairs.

#[test]
fn dismissed_pairs_persist_across_reopen_and_reimport_in_either_order() {
    let tmp = tempfile::tempdir().unwrap();
    let file = "ext_id,name,email\nA1,Ann Lee,ann@example.com\nA2,Ann Li,li@example.com\nA3,Bo,bo@example.com\n";
    let (a, b, c) = {
        let store = open(tmp.path());
        import(&store, tmp.path(), "c.csv", file, RecordKind::Customers);
        let id = |x| store.find_ext_id(x).unwrap().unwrap();
        let (a, b, c) = (id("A1"), id("A2"), id("A3"));
        assert!(store.dismiss_pair(b, a).unwrap());
        assert!(!store.dismiss_pair(a, b).unwrap());
        assert!(store.is_dismissed(a, b).unwrap() && store.is_dismissed(b, a).unwrap());
        assert!(!store.is_dismissed(a, c).unwrap());
        assert!(matches!(
            store.dismiss_pair(a, a).unwrap_err(),
            StoreError::SelfPair(_)
        ));
        assert!(matches!(
            store.dismiss_pair(a, CustomerId(999)).unwrap_err(),
            StoreError::NotFound(_)
        ));
        let events: Vec<String> = store
            .history_of(a)
            .unwrap()
            .into_iter()
            .map(|e| e.op)
            .collect();
        assert_eq!(events.iter().filter(|op| *op == "dismiss").count(), 1);
        (a, b, c)
    };
    let store = open(tmp.path());
    let r = import(&store, tmp.path(), "again.csv", file, RecordKind::Customers);
    assert_eq!(r.inserted, 0);
    let id = |x| store.find_ext_id(x).unwrap().unwrap();
    assert_eq!((id("A1"), id("A2"), id("A3")), (a, b, c));
    let want: HashSet<(u64, u64)> = [(a.0.min(b.0), a.0.max(b.0))].into();
    assert_eq!(store.dismissed_pairs().unwrap(), want);
    assert!(store.is_dismissed(b, a).unwrap());
    assert_clean(&store, "with a dismissed pair");
}

// ---------------------------------------------------------------------------
// Undo and import revert around merges.

#[test]
fn undo_does_not_reach_across_a_merge() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open(tmp.path());
    let a = create(&store, "Ann", "a@example.com", "");
    let b = create(&store, "Ann", "b@example.com", "");
    let c = create(&store, "Cy", "c@example.com", "");
    let mut x = store.customer(c).unwrap().unwrap();
    x.city = Some("Paris".into());
    store.update_customer(&x).unwrap();
    let mut x = store.customer(b).unwrap().unwrap();
    x.city = Some("Rome".into());
    store.update_customer(&x).unwrap();
    store
        .add_customer_note(b, NoteKind::Call, "hi", None)
        .unwrap();
    let out = store.merge(&plan(a, &[b])).unwrap();
    let merged = store.customer(a).unwrap().unwrap();

    // The newest undoable change not involving a or b is c's edit.
    let undone = store.undo().unwrap().unwrap();
    assert_eq!(
        (undone.op.as_str(), undone.customers.clone()),
        ("edit", vec![c])
    );
    assert_eq!(store.customer(a).unwrap().unwrap(), merged);
    // c's create is next; then nothing (a's and b's events are behind the merge).
    assert_eq!(store.undo().unwrap().unwrap().op, "create");
    assert!(store.undo().unwrap().is_none());
    assert_eq!(store.customer(b).unwrap().unwrap().merged_into, Some(a));
    assert_clean(&store, "after undo");

    // A change to the survivor after the merge is undoable; after the
    // unmerge it is not (the unmerge is a barrier too).
    let mut s = merged.clone();
    s.company = Some("Acme".into());
    store.update_customer(&s).unwrap();
    store.unmerge(out.seq).unwrap();
    assert!(store.undo().unwrap().is_none());
    assert_eq!(
        store.customer(a).unwrap().unwrap().company.as_deref(),
        Some("Acme")
    );
    assert_clean(&store, "after the unmerge");
}

#[test]
fn reverting_an_import_whose_customers_were_merged_waits_for_the_unmerge() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open(tmp.path());
    let r = import(
        &store,
        tmp.path(),
        "c.csv",
        "ext_id,name\nA1,Ann\nA2,Ann Lee\n",
        RecordKind::Customers,
    );
    let a1 = store.find_ext_id("A1").unwrap().unwrap();
    let a2 = store.find_ext_id("A2").unwrap().unwrap();
    let m = store.merge(&plan(a1, &[a2])).unwrap().seq;
    // An import after the merge reverts as usual.
    let later = import(
        &store,
        tmp.path(),
        "u.csv",
        "ext_id,name,city\nA2,Ann Lee,Paris\n",
        RecordKind::Customers,
    );
    store.revert_import(later.import_id).unwrap();
    assert_eq!(store.customer(a1).unwrap().unwrap().city, None);

    let e = store.revert_import(r.import_id).unwrap_err();
    assert!(
        matches!(e, StoreError::RevertAfterMerge { merge, .. } if merge == m),
        "{e}"
    );
    assert!(
        e.to_string().contains(&format!("rolo dedup unmerge {m}")),
        "{e}"
    );
    assert_eq!(store.live_count().unwrap(), 1);
    store.unmerge(m).unwrap();
    store.revert_import(r.import_id).unwrap();
    assert_eq!(store.all_customers().count(), 0);
    assert_clean(&store, "after the revert");
}

#[test]
fn check_reports_a_merge_link_to_nowhere() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open(tmp.path());
    let a = create(&store, "Ann", "", "");
    let mut unit = store.begin().unwrap();
    let mut c = unit.customer(a).unwrap().unwrap();
    c.merged_into = Some(CustomerId(77));
    unit.save_customer(&c).unwrap();
    unit.commit().unwrap();
    let problems = store.check().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("merged into customer 77, who does not exist")),
        "{problems:?}"
    );
}

/// A reindex between the merge and the unmerge rewrites the order-id
/// chunks (the merge's chunk number then names another chunk): the unmerge
/// keeps that chunk and places the returned orders anew.
#[test]
fn unmerge_after_a_reindex_keeps_orders_findable() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open(tmp.path());
    let a = create(&store, "Ann", "a@example.com", "");
    let b = create(&store, "Ann", "b@example.com", "");
    save_orders(&store, &[order("A1", a, 1, 100)]);
    save_orders(&store, &[order("B1", b, 2, 200), order("B2", b, 3, 300)]);
    let out = store.merge(&plan(a, &[b])).unwrap();
    store.reindex(&mut |_| {}).unwrap();
    assert_clean(&store, "after the reindex");
    store.unmerge(out.seq).unwrap();
    assert_clean(&store, "after the unmerge");
    drop(store);
    let store = open(tmp.path());
    let mut unit = store.begin().unwrap();
    for (id, owner) in [("A1", a), ("B1", b), ("B2", b)] {
        assert_eq!(
            unit.order(id).unwrap().map(|o| o.customer),
            Some(owner),
            "{id}"
        );
    }
}
