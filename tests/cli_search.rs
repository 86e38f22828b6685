//! Black-box tests of `rolo search` on a generated Chinese dataset: pinyin
//! forms of names, phone tails, email fragments, typos, and every query form
//! of DESIGN.md §6 checked against a brute force over `rolo export`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Env;
use pinyin::ToPinyin;
use serde_json::Value;
use std::collections::BTreeMap;

/// A database holding `rolo gen --customers 3000 --locale zh --seed 7`
/// (customers and orders), with the source rows and the export.
struct Data {
    env: Env,
    rows: Vec<BTreeMap<String, String>>,
    export: Vec<Value>,
}

fn setup() -> Data {
    let env = Env::new();
    let dir = env.generate(
        "data",
        &[
            "--customers",
            "3000",
            "--locale",
            "zh",
            "--seed",
            "7",
            "--notes",
            "0",
        ],
    );
    let r = env.import("customers", &dir.join("customers.csv"));
    assert_eq!(r["read"], 3000, "{r}");
    let r = env.import("orders", &dir.join("orders.csv"));
    assert_eq!(r["rejected"], 0, "{r}");
    let rows = common::read_csv_maps(&dir.join("customers.csv"));
    let export = env.export();
    assert_eq!(export.len() as u64, env.total(""));
    Data { env, rows, export }
}

/// Whether a search for `q` has the customer `ext_id` in its top 50; when it
/// does not, whether the 50 hits are all exact matches (so 50 customers or
/// more match as well as it can: the query is ambiguous rather than wrong).
enum Found {
    Yes,
    Ambiguous,
    No(Value),
}

fn find(env: &Env, q: &str, ext_id: &str) -> Found {
    let r = env.search(q, 50);
    let hits = r["hits"].as_array().unwrap();
    assert!(hits.len() <= 50);
    if hits.iter().any(|h| h["ext_id"] == ext_id) {
        Found::Yes
    } else if hits.len() == 50 && hits.iter().all(|h| h["match"] == "exact") {
        Found::Ambiguous
    } else {
        Found::No(r)
    }
}

fn require(env: &Env, q: &str, ext_id: &str, name: &str) {
    if let Found::No(r) = find(env, q, ext_id) {
        panic!("`{q}` did not find {ext_id} ({name}) in the top 50: {r}");
    }
}

fn is_han(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
}

/// Pinyin syllables of a Han name (first reading; 'ü' typed as 'v').
fn syllables(name: &str) -> Vec<String> {
    name.to_pinyin()
        .map(|p| p.expect("a Han character").plain().replace('ü', "v"))
        .collect()
}

/// `n` rows spread evenly over `rows` that satisfy `keep`.
fn sample(
    rows: &[BTreeMap<String, String>],
    n: usize,
    keep: impl Fn(&BTreeMap<String, String>) -> bool,
) -> Vec<&BTreeMap<String, String>> {
    let eligible: Vec<_> = rows.iter().filter(|r| keep(r)).collect();
    assert!(eligible.len() >= n, "only {} eligible rows", eligible.len());
    let step = eligible.len() / n;
    (0..n).map(|i| eligible[i * step]).collect()
}

#[test]
fn pinyin_full_spaced_and_initials_find_chinese_names() {
    let d = setup();
    let picked = sample(&d.rows, 30, |r| {
        let n = r["name"].chars().count();
        (2..=4).contains(&n) && r["name"].chars().all(is_han)
    });
    let mut checked = 0;
    let mut ambiguous = Vec::new();
    for row in &picked {
        let (name, ext) = (row["name"].as_str(), row["ext_id"].as_str());
        let syl = syllables(name);
        let full = syl.concat();
        let spaced = syl.join(" ");
        let initials: String = syl.iter().map(|s| &s[..1]).collect();
        require(&d.env, &full, ext, name);
        require(&d.env, &spaced, ext, name);
        match find(&d.env, &initials, ext) {
            Found::Yes => checked += 1,
            Found::Ambiguous => ambiguous.push(format!("{name}={initials}")),
            Found::No(r) => panic!("`{initials}` did not find {ext} ({name}): {r}"),
        }
    }
    eprintln!(
        "initials: {checked} of {} names checked, ambiguous: {ambiguous:?}",
        picked.len()
    );
    assert!(
        checked * 10 >= picked.len() * 8,
        "only {checked} of {} names checked by initials; ambiguous: {ambiguous:?}",
        picked.len()
    );
}

#[test]
fn phone_tail_email_fragment_and_company_typo_find_the_customer() {
    let d = setup();
    let mut checked = 0;
    for row in sample(&d.rows, 30, |r| !r["phone"].is_empty()) {
        let digits: String = row["phone"].chars().filter(char::is_ascii_digit).collect();
        if digits.len() < 8 {
            continue;
        }
        require(
            &d.env,
            &digits[digits.len() - 4..],
            &row["ext_id"],
            &row["name"],
        );
        checked += 1;
    }
    assert!(checked >= 25, "{checked}");
    for row in sample(&d.rows, 30, |r| r["email"].contains('@')) {
        let local = row["email"].split('@').next().unwrap();
        let chars: Vec<char> = local.chars().collect();
        if chars.len() < 5 {
            continue;
        }
        // A fragment from inside the local part.
        let frag: String = chars[1..chars.len().min(9)].iter().collect();
        require(&d.env, &frag, &row["ext_id"], &row["email"]);
    }
    // No company is shared by more than a few customers, so a typo must
    // still find the customer.
    for row in sample(&d.rows, 30, |r| r["company"].chars().count() >= 6) {
        let mut chars: Vec<char> = row["company"].chars().collect();
        // One typo: a character left out in the middle.
        chars.remove(chars.len() / 2);
        let typo: String = chars.into_iter().collect();
        require(&d.env, &typo, &row["ext_id"], &row["company"]);
    }
}

// ---------------------------------------------------------------------------
// Brute force over the export

fn text<'a>(c: &'a Value, key: &str) -> Option<&'a str> {
    c[key].as_str()
}

fn strings(c: &Value, key: &str) -> Vec<String> {
    c[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// The searchable segments that need no pinyin (DESIGN.md §6: name, email,
/// phone, company; plus given/family name and ext_id), lower-cased. Phones
/// appear as E.164 digits and as the national number.
fn plain_segments(c: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for key in ["name", "given_name", "family_name", "company", "ext_id"] {
        if let Some(v) = text(c, key) {
            out.push(v.to_lowercase());
        }
    }
    out.extend(strings(c, "email"));
    for p in strings(c, "phone") {
        let digits = p.trim_start_matches('+');
        out.push(digits.to_owned());
        let national = digits
            .strip_prefix("86")
            .unwrap_or_else(|| panic!("a non-Chinese phone in the zh dataset: {p}"));
        out.push(national.to_owned());
    }
    out
}

fn count(export: &[Value], pred: impl Fn(&Value) -> bool) -> u64 {
    export.iter().filter(|c| pred(c)).count() as u64
}

/// Whether the first order is dated before the signup day.
fn order_before_signup(c: &Value) -> bool {
    match (text(c, "first_order"), text(c, "created_at")) {
        (Some(first), Some(created)) => first < &created[..10],
        _ => false,
    }
}

fn city_has(c: &Value, q: &str) -> bool {
    text(c, "city").is_some_and(|v| v.to_lowercase().contains(q))
}

fn substring(c: &Value, q: &str) -> bool {
    plain_segments(c).iter().any(|s| s.contains(q))
}

#[test]
fn substring_total_equals_brute_force_over_the_export() {
    let d = setup();
    for q in ["hotmail", "163.com", "伟", "有限公司", "c00001"] {
        let want = count(&d.export, |c| substring(c, q));
        assert!(want > 0, "`{q}` matches nothing: a vacuous check");
        let got = d.env.total(&format!("'{q}"));
        assert_eq!(got, want, "`'{q}`");
    }
}

#[test]
fn every_documented_query_form_agrees_with_brute_force() {
    let d = setup();
    let e = &d.export;
    let all = e.len() as u64;
    let spend = |c: &Value| c["spend"].as_f64().unwrap();
    let orders = |c: &Value| c["orders"].as_u64().unwrap();
    let exact: Vec<(&str, u64)> = vec![
        ("", all),
        ("tag:vip", 0),
        ("-tag:vip", all),
        ("city:上海", count(e, |c| city_has(c, "上海"))),
        (
            "city:上海 OR city:北京",
            count(e, |c| city_has(c, "上海") || city_has(c, "北京")),
        ),
        (
            "(city:上海 OR city:北京) spend>100",
            count(e, |c| {
                (city_has(c, "上海") || city_has(c, "北京")) && spend(c) > 100.0
            }),
        ),
        ("-city:上海", count(e, |c| !city_has(c, "上海"))),
        ("NOT city:上海", count(e, |c| !city_has(c, "上海"))),
        ("spend>100", count(e, |c| spend(c) > 100.0)),
        ("spend>1000", count(e, |c| spend(c) > 1000.0)),
        ("orders>=3", count(e, |c| orders(c) >= 3)),
        (
            "orders>=3 spend>1000",
            count(e, |c| orders(c) >= 3 && spend(c) > 1000.0),
        ),
        ("has:email", count(e, |c| !strings(c, "email").is_empty())),
        (
            "missing:phone",
            count(e, |c| strings(c, "phone").is_empty()),
        ),
        (
            "has:email missing:phone",
            count(e, |c| {
                !strings(c, "email").is_empty() && strings(c, "phone").is_empty()
            }),
        ),
        (
            "created>=2025-06-01",
            count(e, |c| {
                text(c, "created_at").is_some_and(|t| &t[..10] >= "2025-06-01")
            }),
        ),
        ("invalid:order_date", count(e, order_before_signup)),
        (
            "invalid:any",
            count(e, |c| {
                c["invalid"].as_object().is_some_and(|m| !m.is_empty()) || order_before_signup(c)
            }),
        ),
        (
            "-invalid:email",
            count(e, |c| {
                !c["invalid"]
                    .as_object()
                    .is_some_and(|m| m.contains_key("email"))
            }),
        ),
        // Everything was imported just now.
        ("stale:365d", 0),
        ("-stale:30d", all),
        ("'hotmail", count(e, |c| substring(c, "hotmail"))),
        ("!hotmail", count(e, |c| !substring(c, "hotmail"))),
        (
            "'hotmail|'sina.com",
            count(e, |c| substring(c, "hotmail") || substring(c, "sina.com")),
        ),
        (
            "^138",
            count(e, |c| {
                plain_segments(c).iter().any(|s| s.starts_with("138"))
            }),
        ),
        (
            "qq.com$",
            count(e, |c| {
                plain_segments(c).iter().any(|s| s.ends_with("qq.com"))
            }),
        ),
        (
            "^c0000001$",
            count(e, |c| plain_segments(c).iter().any(|s| s == "c0000001")),
        ),
    ];
    let mut nonzero = 0;
    for (q, want) in &exact {
        let got = d.env.total(q);
        assert_eq!(got, *want, "`{q}`: search total != brute force");
        if *want > 0 && *want < all {
            nonzero += 1;
        }
    }
    assert!(nonzero >= 15, "too many trivial checks: {nonzero}");

    // Fuzzy forms: a fuzzy match is at least every substring match.
    for (q, floor) in [
        (
            "hotmail|sina",
            count(e, |c| substring(c, "hotmail") || substring(c, "sina")),
        ),
        (
            "zhang wei",
            count(e, |c| substring(c, "zhang") && substring(c, "wei")),
        ),
        ("上海", count(e, |c| substring(c, "上海"))),
    ] {
        let got = d.env.total(q);
        assert!(
            got >= floor && got <= all,
            "`{q}`: {got} not within {floor}..={all}"
        );
    }

    // Age comparisons against a fixed as-of date.
    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
    let want = count(e, |c| {
        text(c, "last_order").is_some_and(|d| {
            let d = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
            (as_of - d).num_days() < 90
        })
    });
    let r = d.env.json(&[
        "search",
        "last_order<90d",
        "--as-of",
        "2026-06-30",
        "--limit",
        "1",
    ]);
    assert_eq!(r["total"].as_u64(), Some(want), "last_order<90d");
    assert!(want > 0);
}

/// DESIGN.md §6 documents `-tag:churned` and `-city:x` as queries; typed on
/// its own (`rolo search "-tag:vip"`) such a query must not be taken for a flag.
#[test]
fn query_starting_with_minus_is_a_query_not_a_flag() {
    let env = Env::new();
    let file = env.write("c.csv", "name,city\nAnn,Paris\nBob,Rome\n");
    env.import("customers", &file);
    let r = env.json(&["search", "-city:paris"]);
    assert_eq!(r["total"], 1, "{r}");
    assert_eq!(r["hits"][0]["name"], "Bob");
}
