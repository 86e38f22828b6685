//! Whole scans on synthetic customers (the generator's planted duplicates)
//! and on hand-made cases.

use std::collections::{HashMap, HashSet};

use super::*;
use crate::ingest::normalize::{self, NormalizeConfig};
use crate::synth::{GenOptions, Locale, generate};

/// Customers as import would store them, from `rolo gen` rows, with the
/// truth rows.
fn synthetic(n: u64, dup_rate: f64, locale: Locale) -> (Vec<Customer>, Vec<(String, String)>) {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = GenOptions::new(n);
    opts.dup_rate = dup_rate;
    opts.locale = locale;
    opts.orders = 0;
    opts.notes = 0;
    generate(&opts, dir.path(), &mut |_| {}).unwrap();
    let cfg = NormalizeConfig::default();
    let mut rdr = csv::Reader::from_path(dir.path().join("customers.csv")).unwrap();
    let mut out = Vec::new();
    for (i, row) in rdr.records().enumerate() {
        let row = row.unwrap();
        let get = |k: usize| {
            let s = normalize::clean_text(&row[k]);
            (!s.is_empty()).then_some(s)
        };
        out.push(Customer {
            id: CustomerId(i as u64 + 1),
            ext_id: get(0),
            name: get(1).unwrap_or_default(),
            emails: get(2)
                .and_then(|e| normalize::email(&e).ok())
                .into_iter()
                .collect(),
            phones: get(3)
                .and_then(|p| normalize::phone(&p, &cfg).ok())
                .into_iter()
                .collect(),
            company: get(4),
            street: get(5),
            city: get(6),
            region: get(7),
            postcode: get(8),
            country: get(9),
            birth_date: get(10).and_then(|d| normalize::date(&d, &cfg).ok()),
            ..Customer::default()
        });
    }
    let mut rdr = csv::Reader::from_path(dir.path().join("duplicates_truth.csv")).unwrap();
    let truth = rdr
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_owned(), r[1].to_owned())
        })
        .collect();
    (out, truth)
}

fn evaluate(scan: &Scan, customers: &[Customer], truth: &[(String, String)]) -> Evaluation {
    let ext: HashMap<CustomerId, &str> = customers
        .iter()
        .map(|c| (c.id, c.ext_id.as_deref().unwrap_or("")))
        .collect();
    let t = Truth::new(truth.iter().map(|(a, b)| (a.as_str(), b.as_str())));
    let pairs: Vec<(&str, &str)> = scan.pairs.iter().map(|p| (ext[&p.a], ext[&p.b])).collect();
    let clusters: Vec<Vec<&str>> = scan
        .clusters
        .iter()
        .map(|c| c.iter().map(|id| ext[id]).collect())
        .collect();
    let present: HashSet<&str> = ext.values().copied().collect();
    t.evaluate(&pairs, &clusters, &present)
}

#[test]
fn planted_duplicates_are_found_with_high_precision_and_recall() {
    let (customers, truth) = synthetic(3_000, 0.1, Locale::Mixed);
    let scan = scan_customers(&customers, &DismissedPairs::new(), &ScanOptions::default());
    let e = evaluate(&scan, &customers, &truth);
    assert!(e.truth_pairs > 200, "{e:?}");
    assert!(e.pairs.f1 >= 0.9, "{e:?}");
    assert!(e.pairs.precision >= 0.9, "{e:?}");
    // Scores are probabilities, sorted, and explained by their fields.
    for w in scan.pairs.windows(2) {
        assert!(w[0].score >= w[1].score);
    }
    for p in &scan.pairs {
        assert!((0.9..=1.0).contains(&p.score), "{p:?}");
        let sum: f64 = p.fields.iter().map(|f| f.weight).sum::<f64>() + scan.model.prior_weight();
        assert!((sum - p.weight).abs() < 1e-9);
        assert!((probability(p.weight) - p.score).abs() < 1e-12);
        assert!(!p.keys.is_empty());
        assert!(p.a < p.b);
    }
}

#[test]
fn a_scan_is_deterministic() {
    let (customers, _) = synthetic(1_500, 0.1, Locale::Zh);
    let opts = ScanOptions {
        u_samples: 20_000,
        ..ScanOptions::default()
    };
    let one = scan_customers(&customers, &DismissedPairs::new(), &opts);
    let mut reversed = customers.clone();
    reversed.reverse();
    let two = scan_customers(
        &reversed,
        &DismissedPairs::new(),
        &ScanOptions {
            threads: 1,
            ..opts.clone()
        },
    );
    let key = |s: &Scan| -> Vec<(CustomerId, CustomerId, u64)> {
        s.pairs
            .iter()
            .map(|p| (p.a, p.b, p.score.to_bits()))
            .collect()
    };
    assert_eq!(key(&one), key(&two));
    assert_eq!(one.clusters, two.clusters);
    assert_eq!(one.model.prior.to_bits(), two.model.prior.to_bits());
}

#[test]
fn incremental_scan_finds_the_full_scans_pairs_of_changed_records() {
    let (mut customers, _) = synthetic(2_000, 0.15, Locale::Mixed);
    // One existing record edited: it now shares the email of another.
    let donor = customers[10].emails.clone();
    customers[500].emails = donor;
    let opts = ScanOptions {
        threshold: 0.5,
        ..ScanOptions::default()
    };
    let full = scan_customers(&customers, &DismissedPairs::new(), &opts);
    let changed_ids: HashSet<CustomerId> = customers[1_800..]
        .iter()
        .map(|c| c.id)
        .chain([customers[500].id])
        .collect();
    let existing: Vec<Record> = customers
        .iter()
        .filter(|c| !changed_ids.contains(&c.id) || c.id == customers[500].id)
        .map(|c| {
            // The stored version of the edited record is the old one.
            let mut old = c.clone();
            if c.id == customers[500].id {
                old.emails = vec!["old@example.com".into()];
            }
            Record::new(&old)
        })
        .collect();
    let changed: Vec<Record> = customers
        .iter()
        .filter(|c| changed_ids.contains(&c.id))
        .map(Record::new)
        .collect();
    let inc = scan_incremental(
        existing,
        changed,
        &DismissedPairs::new(),
        &opts,
        &full.model,
    );
    let key = |p: &Pair| (p.a, p.b, p.score.to_bits(), p.keys.clone());
    let want: Vec<_> = full
        .pairs
        .iter()
        .filter(|p| changed_ids.contains(&p.a) || changed_ids.contains(&p.b))
        .map(key)
        .collect();
    let got: Vec<_> = inc.pairs.iter().map(key).collect();
    assert!(want.len() > 30, "{}", want.len());
    assert_eq!(got, want);
    assert!(inc.candidates < full.candidates / 3);
}

fn person(id: u64, name: &str, email: &[&str], phone: &[&str], birth: (i32, u32, u32)) -> Customer {
    Customer {
        id: CustomerId(id),
        ext_id: Some(format!("X{id}")),
        name: name.into(),
        emails: email.iter().map(|s| (*s).into()).collect(),
        phones: phone.iter().map(|s| (*s).into()).collect(),
        birth_date: chrono::NaiveDate::from_ymd_opt(birth.0, birth.1, birth.2),
        ..Customer::default()
    }
}

/// B (a record merged badly upstream) has A's name, email and phone,
/// and C's email, phone and address; A and C have nothing in common. Both
/// links are strong; A and C must not land in one cluster.
#[test]
fn a_chain_does_not_make_one_cluster() {
    let (mut customers, _) = synthetic(2_000, 0.1, Locale::Mixed);
    let at = |mut c: Customer, street: &str, city: &str, postcode: &str| {
        c.street = Some(street.into());
        c.city = Some(city.into());
        c.postcode = Some(postcode.into());
        c
    };
    let a = at(
        person(
            90_001,
            "Quentin Abernathy",
            &["qa@example.com"],
            &["+14155550101"],
            (1970, 1, 2),
        ),
        "1 Elm Street",
        "San Francisco",
        "94110",
    );
    let mut b = at(
        person(
            90_002,
            "Quentin Abernathy",
            &["qa@example.com", "zz@example.org"],
            &["+14155550101", "+8613900001111"],
            (1970, 1, 2),
        ),
        "99 Oak Road",
        "Boston",
        "02110",
    );
    b.birth_date = None;
    let c = at(
        person(
            90_003,
            "Zhou Zhiruo",
            &["zz@example.org"],
            &["+8613900001111"],
            (1999, 9, 9),
        ),
        "99 Oak Road",
        "Boston",
        "02110",
    );
    let (a0, b0) = (a.clone(), b.clone());
    customers.extend([a, b, c]);
    let scan = scan_customers(&customers, &DismissedPairs::new(), &ScanOptions::default());
    let population: Vec<Record> = customers.iter().map(Record::new).collect();
    let ab = explain_pair(&a0, &b0, &scan.model, &population);
    let score = |x: u64, y: u64| {
        scan.pairs
            .iter()
            .find(|p| p.a == CustomerId(x) && p.b == CustomerId(y))
            .map(|p| p.score)
    };
    assert!(score(90_001, 90_002).is_some(), "A~B is a link: {ab:?}");
    assert!(score(90_002, 90_003).is_some(), "B~C is a link");
    assert_eq!(score(90_001, 90_003), None);
    let together = scan
        .clusters
        .iter()
        .any(|c| c.contains(&CustomerId(90_001)) && c.contains(&CustomerId(90_003)));
    assert!(!together, "{:?}", scan.clusters);
    assert!(
        scan.clusters
            .iter()
            .any(|c| c == &[CustomerId(90_001), CustomerId(90_002)])
    );
}

#[test]
fn dismissed_pairs_are_neither_reported_nor_clustered() {
    let a = person(
        1,
        "Ann Lee",
        &["ann@x.com"],
        &["+14155550101"],
        (1980, 5, 6),
    );
    let b = person(
        2,
        "Ann Lee",
        &["ann@x.com"],
        &["+14155550101"],
        (1980, 5, 6),
    );
    let (mut customers, _) = synthetic(500, 0.0, Locale::En);
    for (i, c) in customers.iter_mut().enumerate() {
        c.id = CustomerId(100 + i as u64);
    }
    customers.extend([a, b]);
    let opts = ScanOptions::default();
    let plain = scan_customers(&customers, &DismissedPairs::new(), &opts);
    assert!(plain.pairs.iter().any(|p| (p.a.0, p.b.0) == (1, 2)));
    let dismissed: DismissedPairs = [(CustomerId(2), CustomerId(1))].into_iter().collect();
    let scan = scan_customers(&customers, &dismissed, &opts);
    assert!(!scan.pairs.iter().any(|p| (p.a.0, p.b.0) == (1, 2)));
    assert!(!scan.clusters.iter().any(|c| c.contains(&CustomerId(1))));
}

/// Two records of one person whose name was spelled two ways: a member
/// number they share (a custom attribute, picked as an identifier) lifts
/// their score, is named in the explanation and blocks them together.
#[test]
fn a_shared_identifier_lifts_a_pair_whose_names_differ() {
    let (background, _) = synthetic(500, 0.0, Locale::En);
    let with_ids = |keep: bool| {
        let mut customers: Vec<Customer> = background
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut c = c.clone();
                c.id = CustomerId(100 + i as u64);
                if keep {
                    c.attrs = vec![("member_no".into(), format!("M{:07}", 1_000 + i * 17))];
                }
                c
            })
            .collect();
        for (id, name) in [(1, "Katherine Johnston"), (2, "Catherine Jonston")] {
            let mut c = person(id, name, &[], &[], (1975, 4, 12));
            c.city = Some("Springfield".into());
            if keep {
                c.attrs = vec![("member_no".into(), "M-765 4321".into())];
            }
            customers.push(c);
        }
        let opts = ScanOptions {
            threshold: 0.0001,
            ..ScanOptions::default()
        };
        let scan = scan_customers(&customers, &DismissedPairs::new(), &opts);
        scan.pairs
            .into_iter()
            .find(|p| (p.a.0, p.b.0) == (1, 2))
            .unwrap_or_else(|| panic!("the pair is a candidate (keep {keep})"))
    };
    let without = with_ids(false);
    let with = with_ids(true);
    assert!(
        with.score > without.score && with.weight > without.weight + 5.0,
        "{} ({} bits) vs {} ({} bits)",
        with.score,
        with.weight,
        without.score,
        without.weight
    );
    let attr = with
        .fields
        .iter()
        .find(|f| f.name == "attr:member_no")
        .unwrap_or_else(|| panic!("named: {:?}", with.fields));
    assert_eq!(attr.level, Level::Exact);
    assert!(attr.weight > 5.0, "{attr:?}");
    assert!(with.keys.contains(&KeyKind::Identifier), "{:?}", with.keys);
    assert!(!without.fields.iter().any(|f| f.name.starts_with("attr:")));
}
