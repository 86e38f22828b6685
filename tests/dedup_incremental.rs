//! The last duplicate scan, kept: `rolo import customers
//! --check-duplicates` compares only the imported customers with everyone
//! (with the saved model), and `rolo quality` counts the pairs still
//! waiting for review, less merged, trashed and dismissed ones.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Env, stderr};
use serde_json::Value;

/// 1,500 generated customers (5% planted copies) imported; returns the
/// generated CSV's header and rows.
fn base(env: &Env) -> (String, Vec<String>) {
    let dir = env.generate(
        "gen",
        &[
            "--customers",
            "1500",
            "--orders",
            "0",
            "--dup-rate",
            "0.05",
            "--locale",
            "mixed",
            "--seed",
            "23",
        ],
    );
    let file = dir.join("customers.csv");
    env.import("customers", &file);
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines = text.lines().map(str::to_owned);
    let header = lines.next().unwrap();
    (header, lines.collect())
}

/// A second file: `copies` rows of the base list under new ext_ids (the
/// same people, entered again), and `fresh` people nobody has seen.
fn second_file(env: &Env, header: &str, rows: &[String], copies: usize, fresh: usize) -> String {
    let mut out = vec![header.to_owned()];
    for (i, row) in rows.iter().step_by(37).take(copies).enumerate() {
        let (_, rest) = row.split_once(',').unwrap();
        out.push(format!("X{i:05},{rest}"));
    }
    for i in 0..fresh {
        out.push(format!(
            "N{i:05},Newperson{i} Uniquename{i},new{i}@nowhere{i}.org,,,,,,,,,,,"
        ));
    }
    let path = env.write("second.csv", out.join("\n") + "\n");
    path.to_str().unwrap().to_owned()
}

fn pending(env: &Env) -> u64 {
    let r = env.json(&["quality"]);
    r["duplicates_pending"]["count"]
        .as_u64()
        .unwrap_or_else(|| panic!("no pending figure: {r}"))
}

#[test]
fn an_import_checks_only_its_customers_against_the_saved_scan() {
    let env = Env::new();
    let (header, rows) = base(&env);

    // Before any scan there is nothing to check against: the key is left
    // out, and the text says how to get one.
    let first = second_file(&env, &header, &rows, 0, 3);
    let r = env.json(&["import", "customers", &first, "--check-duplicates"]);
    assert!(r.get("possible_duplicates").is_none(), "{r}");
    let out = env.run(&["import", "customers", &first, "--check-duplicates"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("no duplicate scan yet"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let scan = env.json(&["dedup", "scan"]);
    assert_eq!(scan["saved"], true);
    let before = pending(&env);
    assert_eq!(before, scan["pairs_total"].as_u64().unwrap());

    // Twenty people entered again under new ext_ids, and ten new ones.
    let second = second_file(&env, &header, &rows, 20, 10);
    let r = env.json(&["import", "customers", &second, "--check-duplicates"]);
    assert_eq!(r["inserted"], 27, "{r}"); // 3 fresh ones were imported before
    let found = r["possible_duplicates"].as_u64().unwrap();
    assert!(
        (20..=30).contains(&found),
        "each copy pairs with its original (and a planted copy of it): {found}"
    );
    // The saved pairs gained exactly the new ones.
    assert_eq!(pending(&env), before + found);

    // Without the flag nothing is checked and the key is absent.
    let r = env.json(&["import", "customers", &second]);
    assert!(r.get("possible_duplicates").is_none(), "{r}");

    // Text: the count and where to look.
    let out = env.run(&["import", "customers", &second, "--check-duplicates"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("possible duplicates among the imported customers: rolo dedup scan")
            || text.contains("no possible duplicates"),
        "{text}"
    );
}

#[test]
fn quality_counts_pairs_still_pending_review() {
    let env = Env::new();
    base(&env);
    let scan = env.json(&["dedup", "scan"]);
    let pairs = scan["pairs"].as_array().unwrap();
    assert!(pairs.len() > 10, "{}", pairs.len());
    let total = pending(&env);
    assert_eq!(total, pairs.len() as u64);
    let r = env.json(&["quality"]);
    assert_eq!(r["duplicates_scan"]["pairs_saved"], total);
    assert!(r["duplicates_scan"]["scanned_at"].is_string());

    // Pairs whose records share no other pair, so each step removes one.
    let alone: Vec<&Value> = pairs
        .iter()
        .filter(|p| {
            pairs
                .iter()
                .filter(|q| {
                    [&q["a"], &q["b"]]
                        .iter()
                        .any(|x| **x == p["a"] || **x == p["b"])
                })
                .count()
                == 1
        })
        .collect();
    assert!(alone.len() >= 3, "{}", alone.len());
    let id = |p: &Value, k: &str| p[k].as_u64().unwrap().to_string();

    env.json(&["dedup", "dismiss", &id(alone[0], "a"), &id(alone[0], "b")]);
    assert_eq!(pending(&env), total - 1, "a dismissed pair is reviewed");
    let m = env.json(&["dedup", "merge", &id(alone[1], "a"), &id(alone[1], "b")]);
    assert_eq!(pending(&env), total - 2, "a merged pair is reviewed");
    let out = env.run(&["erase", &id(alone[2], "b"), "--yes", "--no-compact"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(pending(&env), total - 3, "an erased customer has no pairs");
    // Taking the merge back makes its pair pending again.
    env.json(&[
        "dedup",
        "unmerge",
        &m["merge"].as_u64().unwrap().to_string(),
    ]);
    assert_eq!(pending(&env), total - 2);
}
