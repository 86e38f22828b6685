//! `rolo dedup auto` and `rolo dedup merge --take` end to end: the preview
//! changes nothing, `--yes` merges the planted duplicates of a generated
//! list (and only them), an unmerge restores one cluster exactly, and
//! field picks from the command line are validated.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, HashMap};

use common::{Env, single_json, stderr};
use serde_json::Value;

/// A database of 1,500 generated customers with 10% planted copies, and
/// each ext_id's true person (the truth file's pairs, joined).
fn generated(env: &Env) -> HashMap<String, String> {
    let dir = env.generate(
        "gen",
        &[
            "--customers",
            "1500",
            "--orders",
            "0",
            "--dup-rate",
            "0.1",
            "--locale",
            "mixed",
            "--seed",
            "11",
        ],
    );
    env.import("customers", &dir.join("customers.csv"));
    let mut person: HashMap<String, String> = HashMap::new();
    let truth = std::fs::read_to_string(dir.join("duplicates_truth.csv")).unwrap();
    for line in truth.lines().skip(1) {
        let (a, b) = line.split_once(',').unwrap();
        let find = |p: &HashMap<String, String>, mut x: String| {
            while let Some(up) = p.get(&x).filter(|up| **up != x) {
                x = up.clone();
            }
            x
        };
        let (ra, rb) = (find(&person, a.to_owned()), find(&person, b.to_owned()));
        person.entry(ra.clone()).or_insert_with(|| ra.clone());
        person.entry(rb.clone()).or_insert_with(|| rb.clone());
        person.insert(a.to_owned(), ra.clone());
        person.insert(b.to_owned(), ra.clone());
        if ra != rb {
            person.insert(rb, ra);
        }
    }
    let keys: Vec<String> = person.keys().cloned().collect();
    keys.into_iter()
        .map(|k| {
            let mut x = k.clone();
            while let Some(up) = person.get(&x).filter(|up| **up != x) {
                x = up.clone();
            }
            (k, x)
        })
        .collect()
}

fn ids(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect()
}

#[test]
fn auto_without_yes_or_a_terminal_changes_nothing() {
    let env = Env::new();
    generated(&env);
    let before = env.export_csv();

    let err = env.user_error(&["dedup", "auto", "--threshold", "0.95"]);
    assert!(err.contains("--yes"), "{err}");
    assert!(err.contains("clusters"), "{err}");
    assert_eq!(env.export_csv(), before);

    // --dry-run previews with success, as text and as JSON.
    let out = env.run(&["dedup", "auto", "--threshold", "0.95", "--dry-run"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("clusters at or above 0.95"), "{text}");
    let r = env.json(&["dedup", "auto", "--threshold", "0.95", "--dry-run"]);
    assert_eq!(r["applied"], false);
    assert_eq!(r["merges"], Value::Array(vec![]));
    let n = r["clusters_total"].as_u64().unwrap();
    assert!(n > 50, "{r}");
    assert_eq!(r["clusters"].as_array().unwrap().len() as u64, n);
    let records: u64 = r["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| 1 + c["others"].as_array().unwrap().len() as u64)
        .sum();
    assert_eq!(records, r["records_total"].as_u64().unwrap());
    assert_eq!(env.export_csv(), before);
}

#[test]
fn auto_merges_the_planted_duplicates_and_unmerge_restores_one() {
    let env = Env::new();
    let person = generated(&env);
    let before = env.export_by_ext_id();
    let ext_of: BTreeMap<u64, String> = before
        .iter()
        .map(|(e, c)| (c["id"].as_u64().unwrap(), e.clone()))
        .collect();

    let r = env.json(&["dedup", "auto", "--threshold", "0.95", "--yes"]);
    assert_eq!(r["applied"], true);
    assert_eq!(r["interrupted"], false);
    let merges = r["merges"].as_array().unwrap();
    assert_eq!(merges.len() as u64, r["clusters_total"].as_u64().unwrap());

    // Every merge joins copies of one person, and nearly every planted copy
    // is merged away.
    let mut hidden = 0;
    for m in merges {
        let survivor = &ext_of[&m["survivor"].as_u64().unwrap()];
        for other in ids(&m["merged"]) {
            let other = &ext_of[&other];
            assert_eq!(
                person.get(survivor),
                person.get(other),
                "{survivor} and {other} are different people: {m}"
            );
            assert!(person.contains_key(other), "{other} is no planted copy");
            hidden += 1;
        }
    }
    let people: std::collections::HashSet<&String> = person.values().collect();
    let planted = person.len() - people.len();
    assert!(
        hidden as f64 >= 0.95 * planted as f64,
        "{hidden} of {planted} copies merged"
    );
    let after = env.export_by_ext_id();
    assert_eq!(after.len(), before.len() - hidden);

    // The survivor is the most complete record of its cluster.
    let filled = |c: &Value| -> usize {
        c.as_object()
            .unwrap()
            .iter()
            .filter(|(k, v)| {
                [
                    "name",
                    "company",
                    "street",
                    "city",
                    "region",
                    "postcode",
                    "birth_date",
                    "gender",
                ]
                .contains(&k.as_str())
                    && !v.is_null()
                    && v.as_str() != Some("")
            })
            .count()
            + c["email"].as_array().map_or(0, Vec::len)
            + c["phone"].as_array().map_or(0, Vec::len)
    };
    for m in merges {
        let s = filled(&before[&ext_of[&m["survivor"].as_u64().unwrap()]]);
        for other in ids(&m["merged"]) {
            let o = filled(&before[&ext_of[&other]]);
            assert!(s >= o, "survivor holds {s} values, merged record {o}: {m}");
        }
    }

    // Nothing at the threshold is left.
    let scan = env.json(&["dedup", "scan", "--threshold", "0.95"]);
    assert_eq!(scan["pairs"], Value::Array(vec![]), "{}", scan["pairs"]);

    // Unmerging one cluster brings its records back exactly.
    let m = merges
        .iter()
        .find(|m| !ids(&m["merged"]).is_empty())
        .unwrap();
    let seq = m["merge"].as_u64().unwrap().to_string();
    env.json(&["dedup", "unmerge", &seq]);
    let restored = env.export_by_ext_id();
    assert_eq!(restored.len(), after.len() + ids(&m["merged"]).len());
    for id in std::iter::once(m["survivor"].as_u64().unwrap()).chain(ids(&m["merged"])) {
        let ext = &ext_of[&id];
        assert_eq!(restored[ext], before[ext], "{ext} after the unmerge");
    }
}

#[test]
fn auto_with_nothing_to_merge_succeeds() {
    let env = Env::new();
    let file = env.write(
        "two.csv",
        "ext_id,name,email\nA,Ann Lee,ann@x.com\nB,Bob Stone,bob@y.com\n",
    );
    env.import("customers", &file);
    let r = env.json(&["dedup", "auto", "--threshold", "0.9"]);
    assert_eq!(r["clusters_total"], 0);
    assert_eq!(r["applied"], false);
    let out = env.run(&["dedup", "auto", "--threshold", "0.9"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing to merge"));
    let out = env.run(&["dedup", "auto"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--threshold"), "{}", stderr(&out));
}

#[test]
fn merge_takes_fields_from_the_records_named() {
    let env = Env::new();
    let file = env.write(
        "people.csv",
        "ext_id,name,email,phone,city,company\n\
         T-1,Zhang Wei,zw@old.cn,13800138001,上海,Acme\n\
         T-2,张伟,zw@new.cn,13800138001,北京,\n",
    );
    env.import("customers", &file);
    let ids = env.export_by_ext_id();
    let (a, b) = (
        ids["T-1"]["id"].as_u64().unwrap().to_string(),
        ids["T-2"]["id"].as_u64().unwrap().to_string(),
    );

    // Bad picks are refused before anything changes, naming the fix.
    let err = env.user_error(&["dedup", "merge", &a, &b, "--take", "citty=2"]);
    assert!(err.contains("unknown field 'citty'"), "{err}");
    assert!(err.contains("ext_id, name"), "the fields are listed: {err}");
    let err = env.user_error(&["dedup", "merge", &a, &b, "--take", "city"]);
    assert!(err.contains("FIELD=ID"), "{err}");
    let err = env.user_error(&["dedup", "merge", &a, &b, "--take", "city=999"]);
    assert!(err.contains("999 is not in this merge"), "{err}");
    let take_b = format!("city={b}");
    let take_a = format!("city={a}");
    let err = env.user_error(&[
        "dedup", "merge", &a, &b, "--take", &take_b, "--take", &take_a,
    ]);
    assert!(err.contains("city twice"), "{err}");
    assert_eq!(env.export_by_ext_id().len(), 2, "nothing merged");

    // Picks win over the survivor's own values; other fields follow the
    // default rule (the survivor's value, lists united).
    let email_b = format!("email={b}");
    let r = env.json(&[
        "dedup", "merge", &a, &b, "--take", &take_b, "--take", &email_b,
    ]);
    assert_eq!(r["taken"]["city"].as_u64().unwrap().to_string(), b);
    let after = env.export_by_ext_id();
    assert_eq!(after.len(), 1);
    let s = &after["T-1"];
    assert_eq!(s["city"], "北京", "{s}");
    assert_eq!(s["email"][0], "zw@new.cn", "the picked email first: {s}");
    assert_eq!(s["email"].as_array().unwrap().len(), 2, "{s}");
    assert_eq!(s["company"], "Acme", "{s}");
    let seq = r["merge"].as_u64().unwrap().to_string();
    let out = single_json(&env.run(&["dedup", "unmerge", &seq, "--json"]).stdout);
    assert_eq!(out["merge"], r["merge"]);
    assert_eq!(env.export_by_ext_id(), ids, "unmerged as before");
}
