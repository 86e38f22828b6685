//! Whole-generator tests: determinism, counts, truth file, locales, skew.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use chrono::NaiveDate;

use super::*;

fn read(dir: &Path, file: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut rdr = csv::Reader::from_path(dir.join(file)).unwrap();
    let header = rdr.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = rdr
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

fn gen_into(opts: &GenOptions) -> (tempfile::TempDir, GenSummary) {
    let dir = tempfile::tempdir().unwrap();
    let summary = generate(opts, dir.path(), &mut |_| {}).unwrap();
    (dir, summary)
}

fn small(customers: u64, locale: Locale) -> GenOptions {
    let mut o = GenOptions::new(customers);
    o.locale = locale;
    o.seed = 42;
    o
}

fn has_han(s: &str) -> bool {
    s.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c))
}

fn parse_created(s: &str) -> NaiveDate {
    let day = s.split(' ').next().unwrap();
    NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(day, "%Y/%m/%d"))
        .unwrap_or_else(|e| panic!("bad created_at {s:?}: {e}"))
}

const FILES: [&str; 4] = [
    "customers.csv",
    "orders.csv",
    "notes.csv",
    "duplicates_truth.csv",
];

#[test]
fn same_options_give_byte_identical_files() {
    let opts = small(1500, Locale::Mixed);
    let (a, sa) = gen_into(&opts);
    let (b, sb) = gen_into(&opts);
    assert_eq!(sa, sb);
    for f in FILES {
        let x = std::fs::read(a.path().join(f)).unwrap();
        let y = std::fs::read(b.path().join(f)).unwrap();
        assert!(x == y, "{f} differs between two runs");
    }
    let mut other = opts.clone();
    other.seed = 43;
    let (c, _) = gen_into(&other);
    let x = std::fs::read(a.path().join("customers.csv")).unwrap();
    let z = std::fs::read(c.path().join("customers.csv")).unwrap();
    assert_ne!(x, z, "another seed gives other data");
}

#[test]
fn row_counts_match_the_options_and_the_summary() {
    let mut opts = small(3000, Locale::Mixed);
    opts.orders = 12_345;
    opts.notes = 777;
    opts.dup_rate = 0.1;
    let (dir, s) = gen_into(&opts);
    let (h, customers) = read(dir.path(), "customers.csv");
    assert_eq!(h, customer_header());
    let (oh, orders) = read(dir.path(), "orders.csv");
    assert_eq!(oh, orders::ORDER_HEADER);
    let (nh, notes) = read(dir.path(), "notes.csv");
    assert_eq!(nh, notes::NOTE_HEADER);
    let (th, truth) = read(dir.path(), "duplicates_truth.csv");
    assert_eq!(th, ["ext_id_a", "ext_id_b"]);
    assert_eq!(customers.len() as u64, 3000);
    assert_eq!(orders.len() as u64, 12_345);
    assert_eq!(notes.len() as u64, 777);
    assert_eq!(
        s,
        GenSummary {
            customers: 3000,
            duplicates: truth.len() as u64,
            orders: 12_345,
            notes: 777
        }
    );
    // About dup_rate of the rows are planted duplicates.
    assert!((240..=360).contains(&truth.len()), "{} dups", truth.len());
    assert_eq!(customers[0][0], "C0000001");
    assert_eq!(orders[0][0], "O00000001");
    let ids: HashSet<&str> = customers.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids.len(), customers.len(), "ext_ids are unique");
}

#[test]
fn customer_rows_are_the_file_rows() {
    let opts = small(800, Locale::Mixed);
    let (dir, _) = gen_into(&opts);
    let (_, rows) = read(dir.path(), "customers.csv");
    let iter: Vec<Vec<String>> = customer_rows(&opts).collect();
    assert_eq!(rows, iter);
}

#[test]
fn truth_rows_point_at_real_rows_that_are_dirty_variants() {
    for seed in [42, 1, 2025] {
        truth_rows_for_seed(seed);
    }
}

fn truth_rows_for_seed(seed: u64) {
    let mut opts = small(4000, Locale::Mixed);
    opts.dup_rate = 0.2;
    opts.seed = seed;
    let (dir, _) = gen_into(&opts);
    let (_, customers) = read(dir.path(), "customers.csv");
    let (_, truth) = read(dir.path(), "duplicates_truth.csv");
    let by_id: HashMap<&str, &Vec<String>> = customers.iter().map(|r| (r[0].as_str(), r)).collect();
    let dup_ids: HashSet<&str> = truth.iter().map(|t| t[1].as_str()).collect();
    assert!(truth.len() > 600);
    for t in &truth {
        let a = by_id.get(t[0].as_str()).expect("original exists");
        let b = by_id.get(t[1].as_str()).expect("duplicate exists");
        assert!(t[0] < t[1], "the original comes first: {t:?}");
        assert!(!dup_ids.contains(t[0].as_str()), "originals are clean");
        // name..gender: at most three fields soiled, at least one.
        let same = (1..=11).filter(|&k| a[k] == b[k]).count();
        assert!(same >= 8, "too different: {a:?} / {b:?}");
        assert!(same < 11, "not soiled: {a:?} / {b:?}");
        assert!(parse_created(&b[13]) >= parse_created(&a[13]));
    }
}

#[test]
fn dirt_covers_the_listed_kinds() {
    let mut opts = small(6000, Locale::Mixed);
    opts.dup_rate = 0.3;
    let (dir, _) = gen_into(&opts);
    let (_, customers) = read(dir.path(), "customers.csv");
    let (_, truth) = read(dir.path(), "duplicates_truth.csv");
    let by_id: HashMap<&str, &Vec<String>> = customers.iter().map(|r| (r[0].as_str(), r)).collect();
    let mut seen: HashSet<&str> = HashSet::new();
    for t in &truth {
        let (a, b) = (by_id[t[0].as_str()], by_id[t[1].as_str()]);
        if b[3].chars().any(|c| ('０'..='９').contains(&c)) {
            seen.insert("full-width phone");
        }
        if !a[2].is_empty() && b[2] == a[2].to_ascii_uppercase() && a[2] != b[2] {
            seen.insert("upper email");
        }
        if !a[1].contains(' ') && b[1].contains(' ') && has_han(&a[1]) {
            seen.insert("space in chinese name");
        }
        if a[1].contains('张') && b[1].contains('張') {
            seen.insert("traditional");
        }
        if b[1].contains(", ") {
            seen.insert("family, given");
        }
        if a[4].ends_with("有限公司") && !b[4].is_empty() && !b[4].ends_with("有限公司") {
            seen.insert("zh legal dropped");
        }
        if a[5].contains(" Street") && b[5].contains(" St") && !b[5].contains(" Street") {
            seen.insert("street abbreviated");
        }
        if !a[6].is_empty() && b[6].is_empty() {
            seen.insert("city missing");
        }
        if a[10].len() == 10 && b[10].len() == 10 && a[10] != b[10] && a[10][..4] == b[10][..4] {
            seen.insert("birth swapped");
        }
    }
    assert_eq!(seen.len(), 9, "{seen:?}");
}

#[test]
fn orders_total_is_exact_and_skewed() {
    for (customers, orders) in [
        (1, 7),
        (5, 2),
        (10, 0),
        (200, 1),
        (1000, 999),
        (2000, 30_000),
    ] {
        let mut opts = small(customers, Locale::Mixed);
        opts.orders = orders;
        opts.notes = 3;
        let (dir, s) = gen_into(&opts);
        let (_, rows) = read(dir.path(), "orders.csv");
        assert_eq!(rows.len() as u64, orders, "{customers} customers");
        assert_eq!(s.orders, orders);
    }
    let mut none = small(0, Locale::Mixed);
    none.orders = 100;
    none.notes = 10;
    let (_, s) = gen_into(&none);
    assert_eq!(s, GenSummary::default());
}

#[test]
fn orders_refer_to_customers_and_fall_in_their_lifetime() {
    let opts = small(20_000, Locale::Mixed);
    let (dir, _) = gen_into(&opts);
    let (_, customers) = read(dir.path(), "customers.csv");
    let (_, orders) = read(dir.path(), "orders.csv");
    let (_, truth) = read(dir.path(), "duplicates_truth.csv");
    let created: HashMap<&str, (NaiveDate, bool)> = customers
        .iter()
        .map(|r| (r[0].as_str(), (parse_created(&r[13]), has_han(&r[1]))))
        .collect();
    let mut per: HashMap<&str, u64> = HashMap::new();
    for o in &orders {
        let (c, zh) = created[o[1].as_str()];
        let d = NaiveDate::parse_from_str(&o[2], "%Y-%m-%d").unwrap();
        assert!(d >= c && d <= opts.end, "{o:?} vs created {c}");
        let (units, cents) = o[3].split_once('.').unwrap();
        assert_eq!(cents.len(), 2);
        assert!(units.parse::<u64>().is_ok());
        let q: u64 = o[4].parse().unwrap();
        assert!((1..=10).contains(&q));
        if zh {
            assert_eq!(o[5], "CNY");
        } else {
            assert!(["USD", "GBP", "AUD"].contains(&o[5].as_str()));
        }
        *per.entry(o[1].as_str()).or_default() += 1;
    }
    let n = customers.len() as f64;
    let without = customers.len() - per.len();
    let share = without as f64 / n;
    assert!((0.2..0.32).contains(&share), "share without orders {share}");
    let low = customers
        .iter()
        .filter(|r| per.get(r[0].as_str()).copied().unwrap_or(0) <= 3)
        .count() as f64;
    assert!(
        low / n > 0.5,
        "most customers have 0-3 orders ({})",
        low / n
    );
    let max = per.values().copied().max().unwrap();
    assert!(max >= 50, "long tail, max {max}");
    let dup_orders: u64 = truth
        .iter()
        .map(|t| per.get(t[1].as_str()).copied().unwrap_or(0))
        .sum();
    assert!(
        (dup_orders as f64) / (truth.len() as f64) < 1.0,
        "duplicates get few orders"
    );
}

#[test]
fn locales_produce_the_expected_scripts() {
    for locale in [Locale::Zh, Locale::En, Locale::Mixed] {
        let rows: Vec<Vec<String>> = customer_rows(&small(2000, locale)).collect();
        let han = rows.iter().filter(|r| has_han(&r[1])).count() as f64 / 2000.0;
        match locale {
            Locale::Zh => assert_eq!(han, 1.0),
            Locale::En => {
                assert_eq!(han, 0.0);
                assert!(rows.iter().all(|r| r[1].is_ascii()));
            }
            Locale::Mixed => assert!((0.4..0.6).contains(&han), "han share {han}"),
        }
        for r in &rows {
            assert!(r[2].is_empty() || r[2].contains('@'), "{:?}", r[2]);
            assert!(r[2].is_ascii());
        }
    }
}

#[test]
fn most_phone_cells_are_filled_with_real_forms() {
    let rows: Vec<Vec<String>> = customer_rows(&small(5000, Locale::Mixed)).collect();
    let filled = rows.iter().filter(|r| !r[3].is_empty()).count();
    assert!(filled as f64 / 5000.0 > 0.9, "{filled} phones");
    let zh_forms = rows.iter().filter(|r| r[3].starts_with("+86 1")).count();
    let uk = rows.iter().filter(|r| r[3].starts_with("+44")).count();
    let au = rows.iter().filter(|r| r[3].starts_with("+61")).count();
    let us = rows.iter().filter(|r| r[3].starts_with('(')).count();
    assert!(zh_forms > 0 && uk > 0 && au > 0 && us > 0);
    for r in rows.iter().filter(|r| has_han(&r[1])) {
        let digits: String = r[3]
            .chars()
            .filter_map(|c| {
                c.to_digit(10)
                    .or_else(|| ('０'..='９').contains(&c).then(|| c as u32 - '０' as u32))
            })
            .map(|d| char::from_digit(d, 10).unwrap())
            .collect();
        if !digits.is_empty() {
            let national = digits.strip_prefix("86").unwrap_or(&digits);
            assert_eq!(national.len(), 11, "{}", r[3]);
            assert!(national.starts_with('1'));
        }
    }
}

#[test]
fn fields_look_like_customer_data() {
    let rows: Vec<Vec<String>> = customer_rows(&small(3000, Locale::Mixed)).collect();
    let genders: HashSet<&str> = rows.iter().map(|r| r[11].as_str()).collect();
    for g in ["男", "女", "M", "F", "male", "female", ""] {
        assert!(genders.contains(g), "gender {g:?}");
    }
    let created_formats = |pred: fn(&str) -> bool| rows.iter().filter(|r| pred(&r[13])).count();
    assert!(created_formats(|s| s.len() == 19) > 0);
    assert!(created_formats(|s| s.len() == 10 && s.contains('-')) > 0);
    assert!(created_formats(|s| s.contains('/')) > 0);
    let empty_birth = rows.iter().filter(|r| r[10].is_empty()).count();
    assert!(empty_birth > 100 && empty_birth < 900);
    assert!(rows.iter().any(|r| r[4].ends_with("有限公司")));
    assert!(rows.iter().any(|r| r[4].ends_with(" Pty Ltd")));
    assert!(rows.iter().any(|r| r[7] == "New South Wales"));
    for r in rows.iter().filter(|r| has_han(&r[1])) {
        assert!(r[8].is_empty() || (r[8].len() == 6 && r[8].bytes().all(|b| b.is_ascii_digit())));
        assert!(["中国", "CN", "China"].contains(&r[9].as_str()));
    }
    // The end date bounds creation.
    let end = GenOptions::new(0).end;
    for r in &rows {
        let c = parse_created(&r[13]);
        assert!(c <= end && c >= end - chrono::Days::new(5 * 365 + 1));
    }
}

#[test]
fn notes_are_in_the_customers_language() {
    let mut opts = small(2000, Locale::Mixed);
    opts.notes = 3000;
    let (dir, _) = gen_into(&opts);
    let (_, customers) = read(dir.path(), "customers.csv");
    let (_, notes) = read(dir.path(), "notes.csv");
    let zh: HashMap<&str, bool> = customers
        .iter()
        .map(|r| (r[0].as_str(), has_han(&r[1])))
        .collect();
    for n in &notes {
        assert_eq!(has_han(&n[3]), zh[n[0].as_str()], "{n:?}");
        assert!(["call", "email", "visit", "feedback", "complaint"].contains(&n[2].as_str()));
        assert!(n[4].is_empty() || (1..=5).contains(&n[4].parse::<u32>().unwrap()));
    }
}

#[test]
fn locale_parses_and_displays() {
    for l in [Locale::En, Locale::Zh, Locale::Mixed] {
        assert_eq!(l.to_string().parse::<Locale>(), Ok(l));
    }
    assert_eq!("ZH".parse::<Locale>(), Ok(Locale::Zh));
    assert!("fr".parse::<Locale>().is_err());
}

#[test]
fn progress_reports_grow_to_the_total() {
    let opts = small(70_000, Locale::En);
    let dir = tempfile::tempdir().unwrap();
    let mut seen = Vec::new();
    let s = generate(&opts, dir.path(), &mut |n| seen.push(n)).unwrap();
    assert!(seen.len() > 3);
    assert!(seen.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(*seen.last().unwrap(), s.customers + s.orders + s.notes);
}

/// `cargo test --release --lib synth:: -- --ignored --nocapture`
#[test]
#[ignore = "slow: generates 1M customers and 5M orders"]
fn one_million_customers_timing() {
    let opts = GenOptions::new(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let t = std::time::Instant::now();
    let s = generate(&opts, dir.path(), &mut |_| {}).unwrap();
    let took = t.elapsed();
    let size: u64 = FILES
        .iter()
        .map(|f| std::fs::metadata(dir.path().join(f)).unwrap().len())
        .sum();
    println!(
        "synth 1M: {s:?} in {:.2}s, {:.0} MB on disk",
        took.as_secs_f64(),
        size as f64 / 1e6
    );
    assert_eq!(s.orders, 5_000_000);
}
